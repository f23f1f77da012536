// Seeded Brownian paths W_k(t), t >= 0, as deterministic functions of
// (seed, k, t): the common noise of the grid and of the particles.
//
// W_k at the integer times is a sum of standard normals; inside [n, n+1] the
// dyadic points are filled in by Brownian bridges (Levy's construction): the
// midpoint of an interval of length 2^-(l-1) is the mean of its ends plus
// sqrt(2^-(l+1)) Z. Every normal Z comes from a counter-based generator
// (noise/keyed_normal.h) keyed by (seed, k, n, l, index), so a value never
// depends on which values were asked for before, and the nodes of `levels` L are also nodes of every finer
// level with the same values: refining the resolution refines the same path.
// Between the nodes j 2^-L the path is linear (Wong-Zakai: ODEs driven by it
// converge to the Stratonovich SDE as L grows).
#pragma once

#include <cstdint>
#include <vector>

namespace tpde::noise
{
  class BrownianPath
  {
  public:
    /// `n_paths` independent motions on the nodes j 2^-levels (levels <= 30).
    BrownianPath(std::uint64_t seed, unsigned int n_paths, unsigned int levels);

    unsigned int n_paths() const { return n_motions; }
    /// The node spacing h = 2^-levels.
    double resolution() const { return spacing; }
    /// W_k at node j, i.e. at t = j h.
    double node_value(unsigned int k, std::uint64_t j) const;
    /// W_k(t), linear between the nodes; t >= 0.
    double value(unsigned int k, double t) const;

  private:
    double integer_time_value(unsigned int k, std::uint64_t n) const;

    std::uint64_t seed;
    unsigned int  n_motions;
    unsigned int  levels;
    double        spacing;
    // W_k(n) for n = 0, 1, ... as far as asked (a cache: values are fixed by the key).
    mutable std::vector<std::vector<double>> at_integers;
  };
} // namespace tpde::noise
