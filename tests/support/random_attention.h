// Random attention parameters shared by the kernel tests and benchmarks.
#pragma once

#include "attention/attention.h"

#include <random>

namespace tpde::testing
{
  /// A rows x cols matrix with standard normal entries.
  inline Matrix random_matrix(std::size_t rows, std::size_t cols, std::mt19937_64 &random)
  {
    std::normal_distribution<double> normal;
    Matrix                           m(rows, cols);
    for (double &entry : m.data)
      entry = normal(random);
    return m;
  }

  /// Q, K (k x dim) and V (dim x dim) with standard normal entries.
  inline attention::Parameters random_attention_parameters(unsigned int dim, std::size_t k, double beta,
                                                           std::mt19937_64 &random)
  {
    std::normal_distribution<double> normal;
    attention::Parameters            p;
    p.dim  = dim;
    p.beta = beta;
    p.Q    = Matrix(k, dim);
    p.K    = Matrix(k, dim);
    p.V    = Matrix(dim, dim);
    for (Matrix *m : {&p.Q, &p.K, &p.V})
      for (double &entry : m->data)
        entry = normal(random);
    return p;
  }
} // namespace tpde::testing
