// evaluation = auto (exponential_kernel.h): a probe of the fast summation on
// 1024 of the sources, priced by a cost model. Checked here: the model's
// choices on given probe counts; auto interpolates where that is clearly
// cheaper (and then equals evaluation = fast bit for bit) and sums directly
// (equal to direct bit for bit) where the fast summation would interpolate
// nothing; the node allowance of the fast run holds; a step reuses the plan
// of its first evaluation (Kernel::begin_step); and the result depends
// only on the data (the same bits on 1 and 2 threads).
#include "attention/attention.h"
#include "attention/exponential_kernel.h"
#include "attention/fast_summation.h"
#include "common/matrix.h"
#include "support/clustered_problem.h"
#include "support/kernel_problem.h"
#include "support/random_attention.h"

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace
{
  using namespace tpde;
  using attention::Parameters;
  using Evaluation = Parameters::Evaluation;
  using Problem    = tpde::testing::PointProblem;

  /// 2D tokens from a random mixture of n_clusters Gaussians as targets
  /// and sources (support/clustered_problem.h); Q = K = I unless random.
  Problem mixture_problem(std::size_t  n_targets,
                          std::size_t  n_sources,
                          double       beta,
                          bool         random_matrices,
                          unsigned int n_clusters,
                          unsigned     seed)
  {
    Problem problem = tpde::testing::clustered_problem(2, 2, beta, n_targets, n_sources, seed, n_clusters);
    if (!random_matrices)
      {
        problem.parameters.Q = Matrix::identity(2);
        problem.parameters.K = Matrix::identity(2);
      }
    return problem;
  }

  struct Result
  {
    std::vector<double> velocities;
    double              fast_share = 0.;
  };

  Result evaluate(const std::string &variant, Problem problem, Evaluation evaluation)
  {
    problem.parameters.evaluation = evaluation;
    problem.parameters.tolerance  = 1e-10;
    const auto kernel             = attention::create(variant, problem.parameters);
    Result     result;
    result.velocities =
      tpde::testing::kernel_velocities(*kernel, problem.targets, problem.sources, problem.weights);
    for (const auto &[name, value] : kernel->diagnostics())
      if (name == "fast_share")
        result.fast_share = value;
    return result;
  }

  // The cost model on given probe counts (units: pairs of the direct sum).
  TEST(AutoChoice, CostModelPricesTheProbe)
  {
    attention::fast::Statistics probe;
    probe.boxes_interpolated = 1;
    probe.node_evaluations   = 908; // T6 on 32^2 Q2: one box of degree 32 (and the checks)
    const auto smooth        = attention::plan_fast_summation(probe, 9216, 9216);
    EXPECT_TRUE(smooth.fast);
    EXPECT_DOUBLE_EQ(smooth.direct_cost, 9216. * 9216.);
    EXPECT_DOUBLE_EQ(smooth.fast_cost, 908. * (1.4 * 9216 + 500.) + 100. * 9216);
    EXPECT_LT(smooth.fast_cost, 0.2 * smooth.direct_cost);
    EXPECT_DOUBLE_EQ(smooth.node_allowance, 0.9 * 9216. * 9216. / 1.4); // break-even

    probe.node_evaluations = 5200; // a 5-cluster mixture at 5184 sources: fast does not pay
    probe.direct_targets   = 300;
    EXPECT_FALSE(attention::plan_fast_summation(probe, 5184, 5184).fast);
    probe.node_evaluations = 908; // interpolating nothing never pays
    probe.boxes_interpolated = 0;
    EXPECT_FALSE(attention::plan_fast_summation(probe, 100000, 100000).fast);
    probe.boxes_interpolated = 1; // nor does a probe that gave up
    probe.abandoned          = true;
    EXPECT_FALSE(attention::plan_fast_summation(probe, 100000, 100000).fast);

    // No probe below the sizes where even its first grid is too dear.
    EXPECT_FALSE(attention::fast_summation_pays(300, 3000, 1e-10));
    EXPECT_TRUE(attention::fast_summation_pays(9216, 9216, 1e-10));
    EXPECT_FALSE(attention::fast_summation_pays(100000, attention::fast_summation_min_sources - 1, 1e-10));
    EXPECT_FALSE(attention::fast_summation_pays(100000, 100000, attention::fast_summation_min_tolerance / 2));
    // The probe's own cost: at most probe_fraction of the direct sum.
    const double limit = attention::fast_summation_probe_node_limit(9216, 9216);
    EXPECT_LE(limit * (1.4 * 1024 + 500.), 0.1 * 9216. * 9216. * (1 + 1e-12));
  }

  // T6-like: one Gaussian cluster, 9216 tokens (a 32^2 Q2 mesh), smooth in
  // score space: the probe sees few boxes, auto interpolates, and since the
  // allowance does not bind it is evaluation = fast bit for bit.
  TEST(AutoChoice, InterpolatesWhereFastIsClearlyCheaper)
  {
    const Problem problem   = mixture_problem(9216, 9216, 1., false, 1, 3);
    const Result  automatic = evaluate("softmax", problem, Evaluation::automatic);
    const Result  fast      = evaluate("softmax", problem, Evaluation::fast);
    const Result  direct    = evaluate("softmax", problem, Evaluation::direct);
    EXPECT_EQ(automatic.velocities, fast.velocities);
    EXPECT_NE(automatic.velocities, direct.velocities);
    EXPECT_EQ(automatic.fast_share, fast.fast_share);
    EXPECT_GT(automatic.fast_share, 0.99);
    EXPECT_EQ(direct.fast_share, 0.);
    EXPECT_LE(tpde::testing::relative_error(automatic.velocities, direct.velocities), 1e-10);
  }

  // Sharp attention (beta = 30, random Q, K) on 5 clusters: scores of
  // hundreds of nats, so many boxes that the probe gives up at its node
  // limit and auto sums directly, the same bits as evaluation = direct.
  TEST(AutoChoice, SumsDirectlyWhereFastWouldInterpolateNothing)
  {
    const Problem problem   = mixture_problem(8000, 8000, 30., true, 5, 5);
    const Result  automatic = evaluate("softmax", problem, Evaluation::automatic);
    EXPECT_EQ(automatic.velocities, evaluate("softmax", problem, Evaluation::direct).velocities);
    EXPECT_EQ(automatic.fast_share, 0.);
    // Small problems: no probe, direct.
    const Problem small = mixture_problem(500, 5000, 1., false, 1, 4);
    EXPECT_EQ(evaluate("softmax", small, Evaluation::automatic).velocities,
              evaluate("softmax", small, Evaluation::direct).velocities);
  }

  // Kernel::begin_step: within a step the plan of the first evaluation with
  // the same target and source counts is reused; a new step (or a kernel on
  // which begin_step is never called) probes again. The sharp data of
  // SumsDirectlyWhereFastWouldInterpolateNothing make the probe choose
  // direct; shrunk 20 times (scores 400 times smaller) they are smooth, and
  // evaluated next in the same step are summed directly too.
  TEST(AutoChoice, PlanOfAStepsFirstEvaluationIsReusedUntilTheNextStep)
  {
    const Problem spread = mixture_problem(8000, 8000, 30., true, 5, 5);
    Problem       smooth = spread;
    for (auto *points : {&smooth.targets, &smooth.sources})
      for (double &x : *points)
        x /= 20.;
    smooth.parameters.evaluation = Evaluation::automatic;
    smooth.parameters.tolerance  = 1e-10;
    const auto kernel            = attention::create("softmax", smooth.parameters);
    const auto share             = [&]() { return kernel->diagnostics().at(0).second; };
    const auto velocities        = [&](const Problem &p) {
      return tpde::testing::kernel_velocities(*kernel, p.targets, p.sources, p.weights);
    };
    ASSERT_EQ(kernel->diagnostics().at(0).first, "fast_share");

    kernel->begin_step();
    velocities(spread);
    EXPECT_EQ(share(), 0.); // the probe chose direct
    EXPECT_EQ(velocities(smooth), evaluate("softmax", smooth, Evaluation::direct).velocities);
    EXPECT_EQ(share(), 0.); // reused: direct

    kernel->begin_step();
    EXPECT_EQ(velocities(smooth), evaluate("softmax", smooth, Evaluation::fast).velocities);
    EXPECT_GT(share(), 0.99); // probed afresh: fast

    // Without begin_step every evaluation probes.
    const auto fresh = attention::create("softmax", smooth.parameters);
    tpde::testing::kernel_velocities(*fresh, spread.targets, spread.sources, spread.weights);
    EXPECT_EQ(fresh->diagnostics().at(0).second, 0.);
    tpde::testing::kernel_velocities(*fresh, smooth.targets, smooth.sources, smooth.weights);
    EXPECT_GT(fresh->diagnostics().at(0).second, 0.99);
  }

  // fast::interpolate's node allowance: a rough 1D sum (scores of
  // hundreds of nats) whose unbounded run spends more on node sums than the
  // allowance; bounded, it stays within it, and the pairs within the direct
  // sum's plus the allowance.
  TEST(AutoChoice, NodeAllowanceBoundsTheNodeSums)
  {
    attention::fast::ExponentialSum sum;
    sum.dim = 1;
    std::vector<double>              coordinates, log_weights, targets;
    std::mt19937_64                  random(6);
    std::normal_distribution<double> normal;
    for (int j = 0; j < 3000; ++j)
      {
        coordinates.push_back(normal(random));
        log_weights.push_back(0.);
        targets.push_back(20. * normal(random));
      }
    sum.n_sources  = coordinates.size();
    sum.coordinate = coordinates.data();
    sum.log_weight = log_weights.data();
    sum.evaluate   = [&](std::size_t n, const double *points, const std::vector<std::size_t> *subset, double *values) {
      for (std::size_t p = 0; p < n; ++p)
        {
          long double numerator = 0, denominator = 0, largest = -INFINITY;
          const std::size_t m = subset ? subset->size() : coordinates.size();
          for (std::size_t k = 0; k < m; ++k)
            largest = std::max<long double>(largest, points[p] * coordinates[subset ? (*subset)[k] : k]);
          for (std::size_t k = 0; k < m; ++k)
            {
              const double y = coordinates[subset ? (*subset)[k] : k];
              const long double e = std::exp(points[p] * y - largest);
              numerator += e * y;
              denominator += e;
            }
          values[p] = static_cast<double>(numerator / denominator);
        }
    };
    const double        pairs = 3000. * 3000.;
    std::vector<double> values(3000), exact(3000);
    sum.evaluate(3000, targets.data(), nullptr, exact.data());
    const auto unbounded = attention::fast::interpolate(sum, 3000, targets.data(), 1e-10, values.data());
    const double allowance = 0.25 * unbounded.node_work;
    const auto   bounded   = attention::fast::interpolate(
      sum, 3000, targets.data(), 1e-10, values.data(), INFINITY, allowance);
    std::printf("unbounded: %zu boxes interpolated, node work %.3g pairs; bounded: %zu, %.3g\n",
                unbounded.boxes_interpolated, unbounded.node_work / pairs,
                bounded.boxes_interpolated, bounded.node_work / pairs);
    EXPECT_GT(unbounded.boxes_interpolated, 0u);
    EXPECT_LE(bounded.node_work, allowance);
    EXPECT_LE(bounded.interactions, pairs + allowance);
    EXPECT_LT(bounded.boxes_interpolated, unbounded.boxes_interpolated);
    EXPECT_LE(tpde::testing::relative_error(values, exact), 1e-10);
  }

  // The choice and the result depend only on the data: the same bits on
  // 1 and 2 threads, where auto interpolates and where its probe gives up.
  TEST(AutoChoice, SameBitsOnOneAndTwoThreads)
  {
    for (const Problem &problem :
         {mixture_problem(9216, 9216, 1., false, 1, 3), mixture_problem(8000, 8000, 30., true, 5, 5)})
      {
        Result one_thread;
        {
          tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
          one_thread = evaluate("softmax", problem, Evaluation::automatic);
        }
        tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 2);
        const Result two_threads = evaluate("softmax", problem, Evaluation::automatic);
        EXPECT_EQ(one_thread.velocities, two_threads.velocities);
        EXPECT_EQ(one_thread.fast_share, two_threads.fast_share);
      }
  }
} // namespace
