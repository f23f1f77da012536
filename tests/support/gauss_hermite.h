// Gauss-Hermite quadrature in long double, for tests that need exact
// Gaussian integrals (the Stein formula, 1D Gaussian fields).
#pragma once

#include "common/matrix.h"

#include <cmath>
#include <limits>
#include <vector>

namespace tpde::testing
{
  /// Gauss-Hermite rule for integral f(x) exp(-x^2) dx with n nodes, in long
  /// double. The nodes are the eigenvalues of the Jacobi matrix (zero
  /// diagonal, off-diagonal sqrt(k/2)), each found by bisection on the Sturm
  /// count (the number of negative pivots of J - x I = eigenvalues below x);
  /// the weights are 1 / sum_{j<n} p_j(x)^2 with the orthonormal Hermite p_j.
  inline void
  gauss_hermite(unsigned int n, std::vector<long double> &nodes, std::vector<long double> &weights)
  {
    const auto eigenvalues_below = [n](long double x) {
      unsigned int count = 0;
      long double  pivot = 1;
      for (unsigned int i = 0; i < n; ++i)
        {
          const long double coupling_squared = i == 0 ? 0 : i / 2.L / pivot;
          pivot                              = -x - coupling_squared;
          if (pivot == 0)
            pivot = -std::numeric_limits<long double>::epsilon() * (1 + std::fabs(x));
          count += pivot < 0;
        }
      return count;
    };
    const long double bound = std::sqrt(2.L * n + 2); // all nodes lie inside
    nodes.assign(n, 0);
    weights.assign(n, 0);
    for (unsigned int k = 0; k < n; ++k)
      {
        // The k-th smallest eigenvalue: count(lower) <= k < count(upper).
        long double lower = -bound, upper = bound;
        for (int iteration = 0; iteration < 200 && upper - lower > 0; ++iteration)
          {
            const long double middle = (lower + upper) / 2;
            if (middle <= lower || middle >= upper)
              break;
            (eigenvalues_below(middle) <= k ? lower : upper) = middle;
          }
        const long double x        = (lower + upper) / 2;
        long double       previous = 0, current = std::pow(std::acos(-1.L), -0.25L), sum = 0;
        for (unsigned int j = 0; j < n; ++j)
          {
            sum += current * current;
            const long double next =
              (x * current - std::sqrt(j / 2.L) * previous) / std::sqrt((j + 1) / 2.L);
            previous = current;
            current  = next;
          }
        nodes[k]   = x;
        weights[k] = 1 / sum;
      }
  }

  /// The tensor Gauss-Hermite rule (n per direction) of N(alpha, Sigma), d = 1 or 2.
  inline void gauss_hermite_measure(const std::vector<double> &alpha,
                                    const Matrix              &Sigma,
                                    unsigned int               n,
                                    std::vector<double>       &points,
                                    std::vector<double>       &weights)
  {
    std::vector<long double> nodes, rule;
    gauss_hermite(n, nodes, rule);
    if (alpha.size() == 1)
      {
        for (unsigned int a = 0; a < n; ++a)
          {
            points.push_back(static_cast<double>(alpha[0] + std::sqrt(2.L * Sigma(0, 0)) * nodes[a]));
            weights.push_back(static_cast<double>(rule[a]));
          }
        return;
      }
    const long double l00 = std::sqrt(static_cast<long double>(Sigma(0, 0))),
                      l10 = Sigma(1, 0) / l00, l11 = std::sqrt(Sigma(1, 1) - l10 * l10);
    for (unsigned int a = 0; a < n; ++a)
      for (unsigned int b = 0; b < n; ++b)
        {
          const long double z0 = std::sqrt(2.L) * nodes[a], z1 = std::sqrt(2.L) * nodes[b];
          points.push_back(static_cast<double>(alpha[0] + l00 * z0));
          points.push_back(static_cast<double>(alpha[1] + l10 * z0 + l11 * z1));
          weights.push_back(static_cast<double>(rule[a] * rule[b]));
        }
  }
} // namespace tpde::testing
