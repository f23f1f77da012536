// Drawing N tokens from an initial density, reproducibly.
//
// Every sampler consumes points of the unit cube from a UniformSource:
//  * random: a seeded 64-bit Mersenne twister (mt19937_64, whose output is
//    fixed by the C++ standard), mapped to (0, 1) by our own code, so the same
//    seed gives the same tokens with any standard library;
//  * quasi-random: the Halton sequence (bases 2, 3, 5, 7, ...) shifted modulo 1
//    by a seed-dependent offset (Cranley-Patterson rotation), so it keeps its
//    low discrepancy and the seed still selects a different point set.
// Gaussians and mixtures use the exact transform (component from one
// coordinate, then the inverse normal CDF of the others and the Cholesky
// factor); boxes are affine images of the cube; anything else (ball,
// expression) uses rejection from a bounding box.
#pragma once

#include "common/matrix.h"

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace tpde::particles
{
  enum class Sampling
  {
    random,
    quasi_random
  };


  /// Points of the open unit cube (0, 1)^dimensions.
  class UniformSource
  {
  public:
    UniformSource(Sampling kind, unsigned int dimensions, std::uint64_t seed);
    void next(double *u);

  private:
    Sampling            kind;
    unsigned int        dimensions;
    std::mt19937_64     generator;
    std::uint64_t       index = 0;
    std::vector<double> shift;
  };

  /// The i-th point (i >= 1) of the radical inverse in `base`.
  double radical_inverse(std::uint64_t i, unsigned int base);

  /// Phi^{-1}(u) for u in (0, 1), accurate to a few ulp (Newton on log Phi).
  double inverse_normal_cdf(double u);

  struct GaussianComponent
  {
    double              weight = 1.; // positive, need not sum to 1
    std::vector<double> mean;
    Matrix              covariance; // symmetric positive definite
  };

  /// N x dim tokens from sum_c w_c N(mean_c, covariance_c) / sum_c w_c.
  std::vector<double> sample_gaussian_mixture(const std::vector<GaussianComponent> &components,
                                              std::size_t n, Sampling sampling, std::uint64_t seed);

  /// N x dim tokens, uniform in the box [lower, upper].
  std::vector<double> sample_box(const std::vector<double> &lower, const std::vector<double> &upper,
                                 std::size_t n, Sampling sampling, std::uint64_t seed);

  /// Maps a point u of the unit cube to a candidate point x (rejection sampling).
  using Proposal = std::function<void(const double *u, double *x)>;

  /// The affine map of the unit cube onto the box [lower, upper].
  Proposal box_proposal(const std::vector<double> &lower, const std::vector<double> &upper);

  /// 1.25 times the largest finite density(place(u)) over 4096 quasi-random
  /// points u of the unit cube of `dimensions` (seeded; place writes
  /// `point_size` numbers): the first bound of a rejection sampler. Throws
  /// std::invalid_argument naming `where` if the density is 0 on every probe.
  double probe_bound(unsigned int dimensions, const Proposal &place, const std::function<double(const double *)> &density,
                     std::size_t point_size, std::uint64_t seed, const std::string &where);

  /// The rejection loop of every sampler by rejection: token i (n x dim) is
  /// drawn from density(i, x) (unnormalised, non-negative; it may depend on i,
  /// e.g. masked attention's law at the token's position) with candidates
  /// x = propose(u), u the first `proposal_dimensions` coordinates of a
  /// UniformSource whose last coordinate decides acceptance against `bound`.
  /// Whenever a candidate exceeds the bound, sampling restarts with 1.25 times
  /// that value, so the tokens follow the density exactly for the final bound.
  /// Throws std::invalid_argument(hopeless) after 1000 (n + 1000) candidates.
  std::vector<double> rejection_sampling(unsigned int dim, unsigned int proposal_dimensions, const Proposal &propose,
                                         const std::function<double(std::size_t, const double *)> &density,
                                         double bound, std::size_t n, Sampling sampling, std::uint64_t seed,
                                         const std::string &hopeless);

  /// N x dim tokens from the (unnormalised, non-negative) density restricted to
  /// [lower, upper], by rejection. The bound starts at 1.25 times the largest
  /// value on 4096 probe points; whenever a candidate exceeds it, sampling
  /// restarts with a bound 1.25 times that value, so the accepted tokens
  /// follow the density exactly for the bound that was finally used. Throws
  /// std::invalid_argument if the density is zero (or not finite) on every
  /// probe point.
  std::vector<double> sample_by_rejection(const std::function<double(const double *)> &density,
                                          const std::vector<double> &lower, const std::vector<double> &upper,
                                          std::size_t n, Sampling sampling, std::uint64_t seed);
} // namespace tpde::particles
