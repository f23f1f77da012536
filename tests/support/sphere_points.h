// Points on S^2 for the harmonic sums' tests and benchmark: the quasi-uniform
// Fibonacci lattice, fixed-seed uniform points and mixtures of von
// Mises-Fisher laws (density ~ e^{kappa <mu, x>}), sampled exactly.
#pragma once

#include "sphere/surface_clusters.h"

#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

namespace tpde::testing
{
  /// n points of the Fibonacci lattice (n x 3, row-major).
  inline std::vector<double> fibonacci_sphere(std::size_t n) { return sphere::fibonacci_lattice(n); }

  /// One von Mises-Fisher sample around the unit vector mu: <mu, x> = w by
  /// inverting its law (density ~ e^{kappa w} on [-1, 1]), the rest uniform
  /// on the circle orthogonal to mu.
  inline void von_mises_fisher(const double *mu, double kappa, std::mt19937_64 &random, double *x)
  {
    std::uniform_real_distribution<double> unit(0., 1.);
    const double u = unit(random), phi = 2 * M_PI * unit(random);
    const double w = kappa < 1e-8 ? 2 * u - 1 : 1 + std::log(u + (1 - u) * std::exp(-2 * kappa)) / kappa;
    // An orthonormal pair e1, e2 orthogonal to mu.
    const double a[3] = {std::abs(mu[0]) < 0.9 ? 1. : 0., std::abs(mu[0]) < 0.9 ? 0. : 1., 0.};
    double       e1[3], e2[3];
    const double d = a[0] * mu[0] + a[1] * mu[1] + a[2] * mu[2];
    for (int c = 0; c < 3; ++c)
      e1[c] = a[c] - d * mu[c];
    const double n1 = std::sqrt(e1[0] * e1[0] + e1[1] * e1[1] + e1[2] * e1[2]);
    for (int c = 0; c < 3; ++c)
      e1[c] /= n1;
    e2[0]          = mu[1] * e1[2] - mu[2] * e1[1];
    e2[1]          = mu[2] * e1[0] - mu[0] * e1[2];
    e2[2]          = mu[0] * e1[1] - mu[1] * e1[0];
    const double s = std::sqrt(std::max(0., 1 - w * w));
    for (int c = 0; c < 3; ++c)
      x[c] = w * mu[c] + s * (std::cos(phi) * e1[c] + std::sin(phi) * e2[c]);
  }

  /// n points of a mixture of von Mises-Fisher laws (unit means row-major,
  /// concentrations, shares summing to 1); kappa = 0 is the uniform law.
  inline std::vector<double> von_mises_fisher_mixture(std::size_t n, const std::vector<double> &means,
                                                      const std::vector<double> &kappa,
                                                      const std::vector<double> &shares, std::mt19937_64 &random)
  {
    std::discrete_distribution<std::size_t> pick(shares.begin(), shares.end());
    std::vector<double>                     x(3 * n);
    for (std::size_t i = 0; i < n; ++i)
      {
        const std::size_t c = pick(random);
        von_mises_fisher(&means[3 * c], kappa[c], random, &x[3 * i]);
      }
    return x;
  }

  /// Three clusters of unequal width and weight over a 20% uniform background.
  inline std::vector<double> clustered_sphere(std::size_t n, std::mt19937_64 &random)
  {
    const double s = 1 / std::sqrt(3.);
    return von_mises_fisher_mixture(n, {0, 0, 1, 0.6, 0.8, 0, -s, -s, -s, 0, 0, 1}, {20, 60, 8, 0}, {0.35, 0.25, 0.2, 0.2},
                                    random);
  }
} // namespace tpde::testing
