// The butterfly summation (attention/butterfly_summation.h) against sums
// over every source in long double; the fast summation handing sums to it
// (3D: wide full-rank sums; 2D: once the root box splits).
#include "attention/attention.h"
#include "attention/butterfly_internal.h"
#include "attention/butterfly_summation.h"
#include "attention/exponential_kernel.h"
#include "attention/fast_summation.h"
#include "common/matrix.h"
#include "support/clustered_points.h"
#include "support/kernel_problem.h"
#include "support/sphere_points.h"

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

  // The butterfly alone, asked for a relative accuracy of 1e-11 of the
  // sums: the mean (q) and the log-sum (L) within 1e-10, in d = 1, 2, 3, from
  // narrow to wide score ranges (1 to 12 stages).
  TEST(Butterfly, MatchesExactSums)
  {
    double worst = 0.;
    for (unsigned int dim = 1; dim <= 3; ++dim)
      for (const double scale : {0.3, 1., 3.})
        {
          const Sums                       sums = clustered_sums(dim, 20000, 10000, scale, 40 + dim);
          attention::fast::ButterflyOutcome outcome;
          const Errors                     errors = compare(sums, true, 1e-11, 200, outcome);
          ASSERT_TRUE(outcome.done);
          EXPECT_GE(outcome.stages, 1u);
          EXPECT_LT(errors.q, 1e-10);
          EXPECT_LT(errors.L, 1e-10);
          worst = std::max({worst, errors.q, errors.L});
        }
    std::printf("worst error %.3g\n", worst);
  }

  // The plan derives each stage's boxes from the neighbouring stage's; they
  // must be the boxes that hold the points, found from every point's leaf.
  TEST(Butterfly, StageBoxesHoldThePoints)
  {
    namespace bf = attention::fast::butterfly_detail;
    for (const double scale : {1., 3.}) // 5 and 7 stages
      {
        const Sums           sums = clustered_sums(3, 20000, 10000, scale, 43);
        const ExponentialSum sum  = exponential_sum(sums, false);
        const std::size_t    n_targets = sums.targets.size() / 3;
        const bf::Geometry   geometry  = bf::find_geometry(sum, n_targets, sums.targets.data());
        const bf::Plan       plan      = bf::best_plan(sum, n_targets, sums.targets.data(), geometry, 1e-11);
        const std::size_t    n_stages  = plan.order.size();
        std::printf("scale %g: kappa %g, %zu stages, %zu pairs\n", scale, plan.kappa, n_stages, plan.pairs);
        ASSERT_GE(n_stages, 3u);
        ASSERT_EQ(plan.stage_targets.size(), n_stages + 1);
        ASSERT_EQ(plan.stage_sources.size(), n_stages + 1);
        unsigned int tau[bf::max_dim] = {};
        std::size_t  pairs            = 0;
        for (std::size_t stage = 0; stage <= n_stages; ++stage)
          {
            if (stage > 0)
              ++tau[plan.order[stage - 1]];
            unsigned int target_up[bf::max_dim];
            for (unsigned int m = 0; m < bf::max_dim; ++m)
              target_up[m] = plan.levels[m] - tau[m];
            EXPECT_EQ(plan.stage_targets[stage], bf::coarsened(plan.target_leaves, target_up)) << "stage " << stage;
            EXPECT_EQ(plan.stage_sources[stage], bf::coarsened(plan.source_leaves, tau)) << "stage " << stage;
            pairs += plan.stage_targets[stage].size() * plan.stage_sources[stage].size();
          }
        EXPECT_EQ(plan.stage_targets[0], std::vector<bf::Key>{0});
        EXPECT_EQ(plan.stage_sources[n_stages], std::vector<bf::Key>{0});
        EXPECT_EQ(pairs, plan.pairs);
        if (scale == 3.) // not the first kappa: its boxes came through the other kappas'
          EXPECT_GT(plan.kappa, 1.);
      }
  }

  // Sources of weight zero (log-weight -inf) count for nothing, also when
  // a whole source box has no weight.
  TEST(Butterfly, ZeroWeightsCountForNothing)
  {
    Sums sums = clustered_sums(3, 20000, 10000, 1., 49);
    Sums kept = sums;
    kept.sources.clear();
    kept.log_weight.clear();
    for (std::size_t j = 0; j < 10000; ++j)
      if (j % 3 == 0 || sums.sources[3 * j] > 1.)
        sums.log_weight[j] = -INFINITY;
      else
        {
          kept.sources.insert(kept.sources.end(), &sums.sources[3 * j], &sums.sources[3 * j + 3]);
          kept.log_weight.push_back(sums.log_weight[j]);
        }
    const ExponentialSum with_zeros = exponential_sum(sums, true), without = exponential_sum(kept, true);
    std::vector<double>  values(20000 * 4);
    const auto outcome = attention::fast::butterfly_sums(with_zeros, 20000, sums.targets.data(), 1e-11, INFINITY, values.data());
    ASSERT_TRUE(outcome.done);
    std::vector<std::size_t> which;
    for (std::size_t t = 0; t < 20000; t += 101)
      which.push_back(t);
    const std::vector<double> reference = exact(without, kept, which);
    double worst = 0.;
    for (std::size_t w = 0; w < which.size(); ++w)
      for (unsigned int i = 0; i < 4; ++i)
        worst = std::max(worst, std::abs(values[which[w] * 4 + i] - reference[w * 4 + i]) /
                                  std::max(1., std::abs(reference[w * 4 + i])));
    std::printf("zero weights: worst error %.3g against the sums without those sources\n", worst);
    EXPECT_LT(worst, 1e-10);
  }

  // Points on S^2 (three caps), scores a = 9 x: the sphere's tokens with a
  // general K^T Q go through the same sums.
  TEST(Butterfly, MatchesExactSumsOnTheSphere)
  {
    std::mt19937_64 random(46);
    Sums            sums = clustered_sums(3, 0, 0, 1., 46);
    sums.targets         = tpde::testing::clustered_sphere(20000, random);
    sums.sources         = tpde::testing::clustered_sphere(10000, random);
    for (double &a : sums.targets)
      a *= 9.;
    sums.log_weight.assign(10000, 0.);
    for (std::size_t j = 0; j < 10000; ++j)
      sums.log_weight[j] = -0.1 * static_cast<double>(j % 7);
    attention::fast::ButterflyOutcome outcome;
    const Errors                     errors = compare(sums, true, 1e-11, 200, outcome);
    ASSERT_TRUE(outcome.done);
    EXPECT_GE(outcome.stages, 3u);
    EXPECT_LT(errors.q, 1e-10);
    EXPECT_LT(errors.L, 1e-10);
  }

  // A coarser accuracy gives fewer points and a larger error: the accuracy
  // asked for is what sets the points (the test above would pass with
  // any fixed, generous number of points).
  TEST(Butterfly, AccuracySetsThePoints)
  {
    const Sums                       sums = clustered_sums(3, 20000, 10000, 1., 43);
    attention::fast::ButterflyOutcome fine, coarse;
    const Errors                     fine_errors   = compare(sums, false, 1e-12, 200, fine);
    const Errors                     coarse_errors = compare(sums, false, 1e-5, 200, coarse);
    EXPECT_LT(coarse.points[0] * coarse.points[1] * coarse.points[2], fine.points[0] * fine.points[1] * fine.points[2]);
    EXPECT_LT(fine_errors.q, 1e-11);
    EXPECT_LT(coarse_errors.q, 1e-4);
    EXPECT_GT(coarse_errors.q, 10. * fine_errors.q);
  }

  struct Interpolated
  {
    attention::fast::Statistics statistics;
    double                      error = 0.; // max |error| / max |value| at every 97th target
  };

  /// fast::interpolate on `sums` (exact sums where it asks for them), checked
  /// against long-double sums at every 97th target.
  Interpolated interpolate_and_check(const Sums &sums, double tolerance)
  {
    const unsigned int dim = sums.dim;
    ExponentialSum     sum = exponential_sum(sums, false);
    sum.evaluate = [&](std::size_t n_points, const double *points, const std::vector<std::size_t> *subset,
                       double *values) {
      Sums at = sums;
      at.targets.assign(points, points + dim * n_points);
      std::vector<std::size_t> all(n_points);
      for (std::size_t p = 0; p < n_points; ++p)
        all[p] = p;
      ExponentialSum      part = sum;
      std::vector<double> y, l;
      if (subset != nullptr)
        {
          for (const std::size_t j : *subset)
            {
              y.insert(y.end(), &sums.sources[dim * j], &sums.sources[dim * (j + 1)]);
              l.push_back(sums.log_weight[j]);
            }
          part.n_sources  = subset->size();
          part.coordinate = y.data();
          part.log_weight = l.data();
        }
      const std::vector<double> exact_values = exact(part, at, all);
      std::copy(exact_values.begin(), exact_values.end(), values);
    };
    const std::size_t   n_targets = sums.targets.size() / dim;
    std::vector<double> values(dim * n_targets);
    Interpolated        result;
    result.statistics = attention::fast::interpolate(sum, n_targets, sums.targets.data(), tolerance, values.data());
    std::vector<std::size_t> which;
    for (std::size_t t = 0; t < n_targets; t += 97)
      which.push_back(t);
    const std::vector<double> reference = exact(sum, sums, which);
    double                    size      = 0.;
    for (std::size_t w = 0; w < which.size(); ++w)
      for (unsigned int i = 0; i < dim; ++i)
        {
          result.error = std::max(result.error, std::abs(values[which[w] * dim + i] - reference[w * dim + i]));
          size         = std::max(size, std::abs(reference[w * dim + i]));
        }
    result.error /= size;
    return result;
  }

  // Through fast::interpolate: a wide full-rank 3D sum goes to the butterfly
  // (Statistics::butterfly_work) and meets the tolerance; a rank-one one
  // (scores along a line) does not go to it.
  TEST(Butterfly, FastSummationHandsWideThreeDimensionalSumsToIt)
  {
    for (const bool rank_one : {false, true})
      {
        Sums sums = clustered_sums(3, 40000, 40000, 1., 44);
        if (rank_one)
          for (std::size_t t = 0; t < 40000; ++t)
            {
              sums.targets[3 * t + 1] = 0.5 * sums.targets[3 * t];
              sums.targets[3 * t + 2] = -sums.targets[3 * t];
            }
        constexpr double   tolerance = 1e-10;
        const Interpolated result    = interpolate_and_check(sums, tolerance);
        std::printf("%s: butterfly work %.3g, error %.3g\n", rank_one ? "rank one" : "full rank",
                    result.statistics.butterfly_work, result.error);
        EXPECT_LT(result.error, tolerance);
        // evaluation = auto takes the butterfly's prediction instead of a probe.
        const ExponentialSum sum  = exponential_sum(sums, false);
        const std::size_t    n_targets = sums.targets.size() / 3;
        const auto plan = attention::plan_butterfly_summation(sum, n_targets, sums.targets.data(), tolerance);
        if (rank_one)
          {
            EXPECT_EQ(result.statistics.butterfly_work, 0.);
            EXPECT_FALSE(plan.has_value());
          }
        else
          {
            EXPECT_GT(result.statistics.butterfly_work, 0.);
            ASSERT_TRUE(plan.has_value());
            EXPECT_TRUE(plan->fast);
            EXPECT_LT(plan->fast_cost, 0.5 * plan->direct_cost);
          }
      }
  }

  // In 2D the butterfly gets the sums only once the root box is to be split
  // (clustered particles: a deep box tree, 2.4x dearer);
  // a narrow score range that one root grid holds (mesh densities,
  // typically) stays with the box recursion, and auto's plan never predicts
  // the butterfly in 2D (it cannot tell the two cases apart).
  TEST(Butterfly, TwoDimensionalSumsGoToItWhenTheRootBoxSplits)
  {
    for (const double scale : {1., 0.05})
      {
        const Sums         sums      = clustered_sums(2, 20000, 20000, scale, 46);
        constexpr double   tolerance = 1e-10;
        const Interpolated result    = interpolate_and_check(sums, tolerance);
        std::printf("scale %g: butterfly work %.3g, boxes split %zu, error %.3g\n", scale,
                    result.statistics.butterfly_work, result.statistics.boxes_split, result.error);
        EXPECT_LT(result.error, tolerance);
        EXPECT_EQ(result.statistics.boxes_split, 0u); // the root box was never split
        if (scale == 1.)
          EXPECT_GT(result.statistics.butterfly_work, 0.);
        else
          {
            EXPECT_EQ(result.statistics.butterfly_work, 0.);
            EXPECT_EQ(result.statistics.boxes_interpolated, 1u);
          }
        const ExponentialSum sum = exponential_sum(sums, false);
        const std::size_t    n_targets = sums.targets.size() / 2;
        EXPECT_FALSE(attention::plan_butterfly_summation(sum, n_targets, sums.targets.data(), tolerance).has_value());
      }
  }

  // The kernels with evaluation = fast against direct sums in 3D on wide
  // clustered data (the butterfly's case), every exponential variant.
  TEST(Butterfly, KernelsAgreeWithDirectSums)
  {
    std::mt19937_64 random(45);
    const auto      mixture = tpde::testing::GaussianMixture::random(3, 5, 3., random);
    tpde::testing::PointProblem problem;
    problem.parameters.dim  = 3;
    problem.parameters.beta = 1.;
    problem.parameters.Q    = Matrix::parse("0.5, 0.1, 0; 0, 0.4, 0; 0, 0.1, 0.5");
    problem.parameters.K    = Matrix::identity(3);
    problem.parameters.V    = Matrix::parse("-0.3, -1, 0; 1, -0.3, 0.2; 0, 0.1, -0.3");
    problem.targets         = mixture.sample(30000, random);
    problem.sources         = mixture.sample(30000, random);
    std::uniform_real_distribution<double> weight(0.5, 1.5);
    for (std::size_t j = 0; j < 30000; ++j)
      problem.weights.push_back(weight(random));
    for (const std::string variant : {"softmax", "l2", "unnormalized"})
      {
        attention::Parameters parameters = problem.parameters;
        parameters.tolerance             = 1e-10;
        std::vector<double> velocities[2];
        int                 k = 0;
        for (const auto evaluation : {attention::Parameters::Evaluation::fast, attention::Parameters::Evaluation::direct})
          {
            parameters.evaluation = evaluation;
            velocities[k++]       = tpde::testing::kernel_velocities(
              *attention::create(variant, parameters), problem.targets, problem.sources, problem.weights);
          }
        const double error = tpde::testing::relative_error(velocities[0], velocities[1]);
        std::printf("%s: fast against direct %.3g\n", variant.c_str(), error);
        EXPECT_LT(error, 1e-10);
      }
  }
} // namespace
