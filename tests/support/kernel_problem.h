// Random attention problems for the kernel tests: a variant, its parameters,
// targets, sources and weights; their evaluation by the registered kernel
// and by the long-double brute force of support/kernel_brute_force.h.
#pragma once

#include "attention/attention.h"
#include "support/kernel_brute_force.h"
#include "support/random_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace tpde::testing
{
  struct KernelProblem
  {
    std::string           variant = "softmax";
    attention::Parameters parameters;
    std::size_t           n_targets = 0;
    std::size_t           n_sources = 0;
    std::vector<double>   targets; // n_targets x dim
    std::vector<double>   sources; // n_sources x dim
    std::vector<double>   weights; // n_sources

    BruteForceInput input() const
    {
      return {n_targets, n_sources, targets.data(), sources.data(), weights.data()};
    }
  };

  /// Parameters with targets, sources and weights; the counts follow from
  /// the sizes.
  struct PointProblem
  {
    attention::Parameters parameters;
    std::vector<double>   targets, sources, weights;
    std::size_t           n_targets() const { return targets.size() / parameters.dim; }
    std::size_t           n_sources() const { return weights.size(); }
  };

  /// The variant's score of each pair in long double, row-major per target:
  /// l2: -beta |Qx - Ky|^2; the others beta <Qx, Ky>.
  inline std::vector<long double> exact_scores(const KernelProblem &problem)
  {
    const attention::Parameters &p   = problem.parameters;
    const std::size_t            dim = p.dim;
    std::vector<long double>     scores(problem.n_targets * problem.n_sources);
    for (std::size_t t = 0; t < problem.n_targets; ++t)
      for (std::size_t j = 0; j < problem.n_sources; ++j)
        {
          const double *x = &problem.targets[t * dim], *y = &problem.sources[j * dim];
          scores[t * problem.n_sources + j] =
            p.beta * (problem.variant == "l2" ? -exact_distance_squared(p.Q, p.K, x, y) :
                                                exact_bilinear(p.Q, p.K, x, y));
        }
    return scores;
  }

  /// The velocities by the variant's definition, in long double.
  inline std::vector<long double> brute_force_velocities(const KernelProblem &problem)
  {
    return brute_force_velocities(problem.variant, problem.parameters, problem.input());
  }

  /// kernel.evaluate() at `targets` for the measure (sources, weights),
  /// points of the kernel's dimension, row-major; NaN where it writes nothing.
  inline std::vector<double> kernel_velocities(const attention::Kernel   &kernel,
                                               const std::vector<double> &targets,
                                               const std::vector<double> &sources,
                                               const std::vector<double> &weights)
  {
    std::vector<double> velocities(targets.size(), std::numeric_limits<double>::quiet_NaN());
    kernel.evaluate(targets.size() / kernel.dimension(), targets.data(), weights.size(), sources.data(),
                    weights.data(), velocities.data());
    return velocities;
  }

  /// The registered kernel's velocities.
  inline std::vector<double> evaluate(const KernelProblem &problem)
  {
    const auto               kernel = attention::create(problem.variant, problem.parameters);
    const std::vector<double> targets(problem.targets.begin(),
                                      problem.targets.begin() + problem.n_targets * problem.parameters.dim);
    const std::vector<double> sources(problem.sources.begin(),
                                      problem.sources.begin() + problem.n_sources * problem.parameters.dim);
    const std::vector<double> weights(problem.weights.begin(), problem.weights.begin() + problem.n_sources);
    return kernel_velocities(*kernel, targets, sources, weights);
  }

  enum class Weights
  {
    uniform_positive, // U(0.01, 1)
    many_decades,     // exp(U(-60, 0))
  };

  /// Random Q, K (k x dim), V, bias in [-3, 3] (drawn unless softmax),
  /// points in [-1, 1]^dim + offset, and beta scaled so that the largest
  /// |score| over all pairs is `largest_score`.
  inline KernelProblem random_problem(const std::string &variant,
                                      unsigned int       dim,
                                      std::size_t        k,
                                      std::size_t        n_targets,
                                      std::size_t        n_sources,
                                      double             largest_score,
                                      double             offset,
                                      Weights            weights,
                                      unsigned int       seed)
  {
    std::mt19937_64                        random(seed);
    std::uniform_real_distribution<double> unit(-1., 1.);
    KernelProblem                          problem;
    problem.variant    = variant;
    problem.parameters = random_attention_parameters(dim, k, 1., random);
    if (variant != "softmax")
      problem.parameters.bias = 3. * unit(random);
    problem.n_targets = n_targets;
    problem.n_sources = n_sources;
    problem.targets.resize(n_targets * dim);
    problem.sources.resize(n_sources * dim);
    problem.weights.resize(n_sources);
    for (double &x : problem.targets)
      x = unit(random) + offset;
    for (double &y : problem.sources)
      y = unit(random) + offset;
    for (double &w : problem.weights)
      w = weights == Weights::uniform_positive ? 0.505 + 0.495 * unit(random) :
                                                 std::exp(30. * (unit(random) - 1.));
    long double largest = 0;
    for (const long double score : exact_scores(problem))
      largest = std::max(largest, std::fabs(score));
    problem.parameters.beta = static_cast<double>(largest_score / largest);
    return problem;
  }

  /// max |v - reference| / max |reference| over all targets and components.
  template <typename Number>
  double relative_error(const std::vector<double> &v, const std::vector<Number> &reference)
  {
    long double difference = 0, size = 0;
    for (std::size_t i = 0; i < v.size(); ++i)
      {
        difference = std::max(difference, std::fabs(v[i] - static_cast<long double>(reference[i])));
        size       = std::max(size, std::fabs(static_cast<long double>(reference[i])));
      }
    return static_cast<double>(difference / size);
  }

  /// The message of the std::invalid_argument that creating the kernel
  /// throws, "(no exception)" if it does not.
  inline std::string creation_error(const std::string &variant, const attention::Parameters &p)
  {
    try
      {
        attention::create(variant, p);
      }
    catch (const std::invalid_argument &error)
      {
        return error.what();
      }
    return "(no exception)";
  }
} // namespace tpde::testing
