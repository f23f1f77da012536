// The butterfly summation (attention/butterfly_summation.h) against sums
// over every source in long double.
#include "attention/butterfly_summation.h"
#include "support/clustered_points.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

namespace
{
  using namespace tpde;
  using attention::fast::ExponentialSum;

  struct Sums
  {
    unsigned int        dim = 3;
    std::vector<double> targets, sources, log_weight;
    std::vector<double> V;
  };

  /// Clustered targets and sources (score vectors a = scale x).
  Sums clustered_sums(unsigned int dim, std::size_t n_targets, std::size_t n_sources, double scale, unsigned int seed)
  {
    std::mt19937_64 random(seed);
    Sums            sums;
    sums.dim           = dim;
    const auto mixture = tpde::testing::GaussianMixture::random(dim, 5, 3., random);
    sums.targets       = mixture.sample(n_targets, random);
    for (double &a : sums.targets)
      a *= scale;
    sums.sources = mixture.sample(n_sources, random);
    std::uniform_real_distribution<double> weight(std::log(0.5), std::log(1.5));
    sums.log_weight.resize(n_sources);
    for (double &l : sums.log_weight)
      l = weight(random);
    std::normal_distribution<double> normal;
    sums.V.resize(dim * dim);
    for (double &v : sums.V)
      v = normal(random);
    return sums;
  }

  ExponentialSum exponential_sum(const Sums &sums, bool log_scale)
  {
    ExponentialSum sum;
    sum.dim              = sums.dim;
    sum.log_scale        = log_scale;
    sum.n_sources        = sums.log_weight.size();
    sum.coordinate       = sums.sources.data();
    sum.log_weight       = sums.log_weight.data();
    sum.V                = sums.V.data();
    sum.offset[0]        = 0.25;
    sum.log_scale_offset = -1.5;
    return sum;
  }

  /// Exact values (layout of ExponentialSum::evaluate) at the targets `which`.
  std::vector<double> exact(const ExponentialSum &sum, const Sums &sums, const std::vector<std::size_t> &which)
  {
    const unsigned int  dim = sums.dim, n_values = dim + (sum.log_scale ? 1 : 0);
    std::vector<double> values(which.size() * n_values);
    for (std::size_t w = 0; w < which.size(); ++w)
      {
        const double *a       = &sums.targets[which[w] * dim];
        long double   largest = -INFINITY;
        std::vector<long double> score(sum.n_sources);
        for (std::size_t j = 0; j < sum.n_sources; ++j)
          {
            score[j] = sum.log_weight[j];
            for (unsigned int m = 0; m < dim; ++m)
              score[j] += static_cast<long double>(a[m]) * sum.coordinate[j * dim + m];
            largest = std::max(largest, score[j]);
          }
        long double D = 0., N[3] = {};
        for (std::size_t j = 0; j < sum.n_sources; ++j)
          {
            const long double e = std::exp(score[j] - largest);
            D += e;
            for (unsigned int m = 0; m < dim; ++m)
              N[m] += e * sum.coordinate[j * dim + m];
          }
        for (unsigned int i = 0; i < dim; ++i)
          {
            long double q = 0.;
            for (unsigned int k = 0; k < dim; ++k)
              q += sum.V[i * dim + k] * (N[k] / D + sum.offset[k]);
            values[w * n_values + i] = static_cast<double>(q);
          }
        if (sum.log_scale)
          values[w * n_values + dim] = static_cast<double>(largest + std::log(D) + sum.log_scale_offset);
      }
    return values;
  }

  struct Errors
  {
    double q = 0., L = 0.; // max |error of q| / max |q|, max |error of L|
  };

  Errors compare(const Sums &sums, bool log_scale, double accuracy, std::size_t n_checked, attention::fast::ButterflyOutcome &outcome)
  {
    const ExponentialSum sum       = exponential_sum(sums, log_scale);
    const std::size_t    n_targets = sums.targets.size() / sums.dim;
    const unsigned int   n_values  = sums.dim + (log_scale ? 1 : 0);
    std::vector<double>  values(n_targets * n_values, NAN);
    const auto           start = std::chrono::steady_clock::now();
    outcome = attention::fast::butterfly_sums(sum, n_targets, sums.targets.data(), accuracy, INFINITY, values.data());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::vector<std::size_t> which;
    for (std::size_t t = 0; t < n_targets; t += std::max<std::size_t>(1, n_targets / n_checked))
      which.push_back(t);
    const std::vector<double> reference = exact(sum, sums, which);
    Errors                    errors;
    double                    size = 0.;
    for (std::size_t w = 0; w < which.size(); ++w)
      {
        for (unsigned int i = 0; i < sums.dim; ++i)
          {
            errors.q = std::max(errors.q, std::abs(values[which[w] * n_values + i] - reference[w * n_values + i]));
            size     = std::max(size, std::abs(reference[w * n_values + i]));
          }
        if (log_scale)
          errors.L = std::max(errors.L,
                              std::abs(values[which[w] * n_values + sums.dim] - reference[w * n_values + sums.dim]));
      }
    errors.q /= size;
    std::printf("dim %u, %zu targets, %zu sources: kappa %g, points %u %u %u, %u stages, %zu pairs, "
                "cost %.3g, %.3f s; error q %.3g, L %.3g\n",
                sums.dim,
                n_targets,
                sums.log_weight.size(),
                outcome.kappa,
                outcome.points[0],
                outcome.points[1],
                outcome.points[2],
                outcome.stages,
                outcome.pairs,
                outcome.cost,
                seconds,
                errors.q,
                errors.L);
    return errors;
  }

  TEST(Butterfly, MatchesExactSums)
  {
    for (unsigned int dim = 1; dim <= 3; ++dim)
      for (const double scale : {0.3, 1., 3.})
        {
          const Sums                       sums = clustered_sums(dim, 20000, 10000, scale, 40 + dim);
          attention::fast::ButterflyOutcome outcome;
          const Errors                     errors = compare(sums, true, 1e-11, 200, outcome);
          ASSERT_TRUE(outcome.done);
          EXPECT_LT(errors.q, 1e-10);
          EXPECT_LT(errors.L, 1e-10);
        }
  }
} // namespace
