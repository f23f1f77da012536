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

  /// Valid parameters: Q = K = V = I (dim x dim).
  inline attention::Parameters identity_attention_parameters(unsigned int dim)
  {
    attention::Parameters p;
    p.dim = dim;
    p.Q   = Matrix::identity(dim);
    p.K   = Matrix::identity(dim);
    p.V   = Matrix::identity(dim);
    return p;
  }

  /// Valid parameters: Q = K = all ones (k x dim), V = I.
  inline attention::Parameters ones_attention_parameters(unsigned int dim, std::size_t k = 2)
  {
    attention::Parameters p = identity_attention_parameters(dim);
    p.Q                     = Matrix(k, dim, 1.);
    p.K                     = Matrix(k, dim, 1.);
    return p;
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
