// The accuracy sweep shared by the kernel tests: a variant against its
// long-double brute force over dimensions, ranks, sizes, offsets and weights.
#pragma once

#include "support/kernel_problem.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace tpde::testing
{
  /// The kernel of `variant` against its long-double brute force for every
  /// dim and k, odd sizes (no multiple of any vector width or block of
  /// targets), sizes across the kernels' partial-sum chunks and a single
  /// source, offsets 0 and 2.5, weights uniform and over many decades; each
  /// within 1e-13 (a test failure otherwise). Returns the worst relative
  /// error (also printed); seeds seed + 1, seed + 2, ...
  inline double
  worst_brute_force_error(const std::string &variant, double largest_score, unsigned int seed)
  {
    struct Size
    {
      std::size_t n_targets, n_sources;
    };
    const Size  sizes[] = {{1, 1}, {7, 3}, {31, 61}, {64, 512}, {131, 1031}};
    double      worst   = 0.;
    std::string worst_case;
    for (unsigned int dim = 1; dim <= 3; ++dim)
      for (std::size_t k = 1; k <= 3; ++k)
        for (const Size size : sizes)
          for (const double offset : {0., 2.5})
            for (const Weights weights : {Weights::uniform_positive, Weights::many_decades})
              {
                const KernelProblem problem = random_problem(variant,
                                                       dim,
                                                       k,
                                                       size.n_targets,
                                                       size.n_sources,
                                                       largest_score,
                                                       offset,
                                                       weights,
                                                       ++seed);
                const double  error =
                  relative_error(evaluate(problem), brute_force_velocities(problem));
                const std::string label =
                  variant + ", dim " + std::to_string(dim) + ", k " + std::to_string(k) + ", " +
                  std::to_string(size.n_targets) + " targets x " + std::to_string(size.n_sources) +
                  " sources, offset " + std::to_string(offset) +
                  (weights == Weights::many_decades ? ", weights over 26 decades" : "");
                EXPECT_LE(error, 1e-13) << label;
                if (error > worst)
                  {
                    worst      = error;
                    worst_case = label;
                  }
              }
    std::printf("worst relative error vs long double: %.3g (%s)\n", worst, worst_case.c_str());
    return worst;
  }
} // namespace tpde::testing
