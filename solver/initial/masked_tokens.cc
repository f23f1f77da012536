#include "initial/masked_tokens.h"

#include "initial/sphere_geometry.h"
#include "sphere/circle_chart.h"

#include <algorithm>
#include <stdexcept>

namespace tpde
{
  namespace
  {
    /// The x of the tokens at positions j = first..first+count-1 from data that does not see s: box
    /// points, or ambient points of the circle turned into angles.
    std::vector<double> unconditional(const InitialDensity &density, std::size_t count,
                                      particles::Sampling sampling, std::uint64_t seed, const std::vector<double> &lower,
                                      const std::vector<double> &upper, bool circle)
    {
      std::vector<double> x = density.sample(count, sampling, seed, lower, upper);
      return circle ? sphere::circle_angles(x) : x;
    }

    /// x_j from rho(s_j, .) by rejection (density of (s, x), s first): candidates uniform in the box
    /// or on the circle, the bound probed over (s, x) for every position at once.
    std::vector<double> conditional(const InitialDensity &density, std::size_t n, particles::Sampling sampling,
                                    std::uint64_t seed, const std::vector<double> &lower,
                                    const std::vector<double> &upper, bool circle)
    {
      const unsigned int        point = density.dimension() - 1; // numbers of x (circle: the ambient point)
      const unsigned int        free  = circle ? 1 : point;      // cube coordinates of a candidate x
      const particles::Proposal x_of  = circle ? sphere::uniform_proposal(2) : particles::box_proposal(lower, upper);
      const auto                rho   = [&](const double *sx) { return std::max(density.value(sx), 0.); };
      const double              bound = particles::probe_bound(
        1 + free,
        [&](const double *u, double *sx) {
          sx[0] = u[0];
          x_of(u + 1, sx + 1);
        },
        rho, 1 + point, seed,
        circle ? "(s, the circle)" : "(s, the box)");
      std::vector<double> sx(1 + point);
      auto                x = particles::rejection_sampling(
        point, free, x_of,
        [&](std::size_t j, const double *candidate) {
          sx[0] = masked_token_position(j, n);
          std::copy(candidate, candidate + point, sx.begin() + 1);
          return rho(sx.data());
        },
        bound, n, sampling, seed,
        "rejection sampling accepts almost no candidate at some position s (is rho(s, .) concentrated on a tiny "
        "part of the domain?)");
      return circle ? sphere::circle_angles(x) : x;
    }

    /// A seed for the upper data, independent of the lower data's (SplitMix64's finaliser).
    std::uint64_t upper_seed(std::uint64_t seed)
    {
      std::uint64_t z = seed + 0x9e3779b97f4a7c15ull;
      z               = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z               = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      return z ^ (z >> 31);
    }
  } // namespace

  double masked_token_position(std::size_t j, std::size_t n)
  {
    return double(j + 1) / double(n);
  }

  std::vector<double> sample_masked_tokens(const InitialConditionParameters &ic, std::size_t n,
                                           particles::Sampling sampling, std::uint64_t seed,
                                           const std::vector<double> &lower, const std::vector<double> &upper)
  {
    const bool         circle = ic.sphere;
    const unsigned int sees   = circle ? 3 : static_cast<unsigned int>(lower.size()) + 1; // a density of (s, x)
    const unsigned int d      = circle ? 1 : static_cast<unsigned int>(lower.size());     // numbers of a token's x
    std::vector<double> x;
    if (ic.density->dimension() == sees)
      x = conditional(*ic.density, n, sampling, seed, lower, upper, circle);
    else
      {
        std::size_t below = n; // tokens before upper_from
        if (ic.upper && ic.upper_from < 1.)
          while (below > 0 && masked_token_position(below - 1, n) >= ic.upper_from)
            --below;
        x = unconditional(*ic.density, below, sampling, seed, lower, upper, circle);
        if (below < n)
          {
            const auto rest = unconditional(*ic.upper, n - below, sampling, upper_seed(seed), lower, upper, circle);
            x.insert(x.end(), rest.begin(), rest.end());
          }
      }
    std::vector<double> tokens(n * (1 + d));
    for (std::size_t j = 0; j < n; ++j)
      {
        tokens[j * (1 + d)] = masked_token_position(j, n);
        std::copy(x.begin() + j * d, x.begin() + (j + 1) * d, tokens.begin() + j * (1 + d) + 1);
      }
    return tokens;
  }
} // namespace tpde
