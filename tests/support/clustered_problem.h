// A clustered attention problem for the fast-summation tests: targets and
// sources drawn from one random Gaussian mixture, random parameters.
#pragma once

#include "support/clustered_points.h"
#include "support/kernel_problem.h"
#include "support/random_attention.h"

#include <cstddef>
#include <random>

namespace tpde::testing
{
  /// Sources and targets from one random Gaussian mixture of n_clusters
  /// clusters (spread 2.5), weights in [0.5, 1.5], random Q, K (k x dim), V.
  inline PointProblem clustered_problem(unsigned int dim,
                                        std::size_t  k,
                                        double       beta,
                                        std::size_t  n_targets,
                                        std::size_t  n_sources,
                                        unsigned int seed,
                                        unsigned int n_clusters = 5)
  {
    std::mt19937_64 random(seed);
    PointProblem    problem;
    problem.parameters = random_attention_parameters(dim, k, beta, random);
    const auto mixture = GaussianMixture::random(dim, n_clusters, 2.5, random);
    problem.targets    = mixture.sample(n_targets, random);
    problem.sources    = mixture.sample(n_sources, random);
    std::uniform_real_distribution<double> weight(0.5, 1.5);
    for (std::size_t j = 0; j < n_sources; ++j)
      problem.weights.push_back(weight(random));
    return problem;
  }
} // namespace tpde::testing
