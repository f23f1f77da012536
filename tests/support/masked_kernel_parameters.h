// The attention parameters the masked kernel tests share: d x d Q, K, V with
// off-diagonal entries (no symmetry to hide a transposition), beta = 0.8,
// direct sums, base `masked kernel` = softmax; tokens at the positions i/n.
#pragma once

#include "attention/attention.h"

#include <cstddef>
#include <random>
#include <vector>

namespace tpde::testing
{
  inline attention::Parameters masked_kernel_parameters(unsigned int d)
  {
    attention::Parameters p;
    p.dim  = d;
    p.beta = 0.8;
    p.Q    = Matrix(d, d, 0.);
    p.K    = Matrix(d, d, 0.);
    p.V    = Matrix(d, d, 0.);
    for (unsigned int i = 0; i < d; ++i)
      for (unsigned int j = 0; j < d; ++j)
        {
          p.Q(i, j) = (i == j ? 1. : 0.3);
          p.K(i, j) = (i == j ? 0.9 : -0.2);
          p.V(i, j) = (i == j ? -1. : 0.1);
        }
    p.evaluation    = attention::Parameters::Evaluation::direct;
    p.masked_kernel = "softmax";
    return p;
  }

  /// n tokens (s, x) in R^{1+d}, row-major: s = i/n (i = 1..n) and x standard
  /// normal (mt19937 with `seed`).
  inline std::vector<double> causal_tokens(std::size_t n, unsigned int d, unsigned int seed)
  {
    std::mt19937               random(seed);
    std::normal_distribution<> normal;
    std::vector<double>        points(n * (d + 1));
    for (std::size_t i = 0; i < n; ++i)
      {
        points[i * (d + 1)] = double(i + 1) / n;
        for (unsigned int c = 0; c < d; ++c)
          points[i * (d + 1) + 1 + c] = normal(random);
      }
    return points;
  }
} // namespace tpde::testing
