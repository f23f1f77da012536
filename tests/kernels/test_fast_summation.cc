// The fast summation (attention/fast_summation.h) against the direct sums.
//
// Error measure throughout: the relative max error
//   max_{t, i} |v_fast(x_t)_i - v_direct(x_t)_i| / max_{t, i} |v_direct(x_t)_i|,
// which the fast summation promises to keep below its tolerance.
#include "attention/attention.h"
#include "attention/exponential_kernel.h"
#include "attention/fast_summation.h"
#include "common/matrix.h"
#include "support/clustered_problem.h"
#include "support/kernel_problem.h"
#include "support/random_attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace
{
  using namespace tpde;
  using attention::Parameters;

  using Problem = tpde::testing::PointProblem;

  using tpde::testing::clustered_problem;

  std::vector<double> evaluate(const std::string      &variant,
                               Problem                 problem,
                               Parameters::Evaluation  evaluation,
                               double                  tolerance = 1e-10)
  {
    problem.parameters.evaluation = evaluation;
    problem.parameters.tolerance  = tolerance;
    return tpde::testing::kernel_velocities(
      *attention::create(variant, problem.parameters), problem.targets, problem.sources, problem.weights);
  }

  double fast_error(const std::string &variant, const Problem &problem, double tolerance)
  {
    return tpde::testing::relative_error(evaluate(variant, problem, Parameters::Evaluation::fast, tolerance),
                              evaluate(variant, problem, Parameters::Evaluation::direct));
  }

  // ---------------------------------------------------------------------------

  // Every exponential variant, d = 1, 2, 3, full rank (k = d) and rank
  // deficient (k = 1 < d), random Q, K, V and beta.
  TEST(FastSummation, MatchesDirectSumWithinTolerance)
  {
    constexpr double tolerance = 1e-10;
    unsigned int     seed      = 10;
    double           worst     = 0.;
    for (const std::string variant : {"softmax", "l2", "unnormalized"})
      for (unsigned int dim = 1; dim <= 3; ++dim)
        for (const std::size_t k : dim == 1 ? std::vector<std::size_t>{1} :
                                              std::vector<std::size_t>{dim, 1})
          {
            std::mt19937_64                        random(++seed);
            std::uniform_real_distribution<double> beta(0.3, 1.5);
            const std::size_t n_targets = dim == 3 ? 20000 : dim == 2 ? 8000 : 4000;
            const Problem     problem =
              clustered_problem(dim, k, beta(random), n_targets, 1500, seed);
            const double error = fast_error(variant, problem, tolerance);
            EXPECT_LE(error, tolerance) << variant << ", dim " << dim << ", k " << k;
            // Not all summed directly (which would be exact to rounding):
            // the interpolation was exercised. (Not asserted for full-rank
            // 3D, where at this size boxes may end up summed directly.)
            if (dim < 3 || k < dim)
              EXPECT_GT(error, 1e-14) << variant << ", dim " << dim << ", k " << k;
            worst = std::max(worst, error);
          }
    std::printf("worst relative max error, fast vs direct at tolerance 1e-10: %.3g\n", worst);
  }

  // The variants built on the exponential kernel with evaluation = fast:
  // multihead (each head is one fast sum; the tolerance holds per head, so
  // the sum of two heads is checked against the sum of their sizes) and
  // sinkhorn (its iterations' sums to an absolute error of 1e-12 / 4 on the
  // potentials, which moves the velocity by far less than the tolerance, and
  // its velocity; tests/kernels/test_sinkhorn_fast.cc checks the potentials).
  TEST(FastSummation, MultiheadAndSinkhornMatchDirect)
  {
    constexpr double tolerance = 1e-10;
    {
      Problem problem = clustered_problem(2, 2, 1., 8000, 1500, 41);
      std::mt19937_64 random(42);
      const auto second = tpde::testing::random_attention_parameters(2, 1, 0.7, random);
      problem.parameters.heads = {{problem.parameters.beta,
                                   problem.parameters.Q,
                                   problem.parameters.K,
                                   problem.parameters.V},
                                  {second.beta, second.Q, second.K, second.V}};
      const std::vector<double> fast = evaluate("multihead", problem, Parameters::Evaluation::fast);
      const std::vector<double> direct =
        evaluate("multihead", problem, Parameters::Evaluation::direct);
      double size_of_heads = 0.;
      for (const auto &head : problem.parameters.heads)
        {
          Problem single      = problem;
          single.parameters.heads = {head};
          double largest      = 0.;
          for (const double v : evaluate("multihead", single, Parameters::Evaluation::direct))
            largest = std::max(largest, std::abs(v));
          size_of_heads += largest;
        }
      double difference = 0.;
      for (std::size_t i = 0; i < fast.size(); ++i)
        difference = std::max(difference, std::abs(fast[i] - direct[i]));
      std::printf("multihead: max |fast - direct| = %.3g of the heads' sizes\n",
                  difference / size_of_heads);
      EXPECT_LE(difference, tolerance * size_of_heads);
      EXPECT_GT(difference, 1e-13 * size_of_heads); // interpolated, not summed directly
    }
    {
      const Problem problem = clustered_problem(2, 2, 0.5, 8000, 1500, 43);
      const double  error   = fast_error("sinkhorn", problem, tolerance);
      std::printf("sinkhorn: error %.3g\n", error);
      EXPECT_LE(error, tolerance);
      EXPECT_GT(error, 1e-13); // interpolated, not summed directly
    }
  }

  // The tolerance is honoured, not met by accident: a loose one gives a
  // larger error than a tight one, and each stays within its own.
  TEST(FastSummation, TighterToleranceGivesSmallerError)
  {
    for (const std::string variant : {"softmax", "unnormalized"})
      {
        const Problem problem = clustered_problem(2, 2, 1., 5000, 2000, 77);
        const double  loose   = fast_error(variant, problem, 1e-5);
        const double  tight   = fast_error(variant, problem, 1e-11);
        std::printf("%s: error %.3g at tolerance 1e-5, %.3g at 1e-11\n",
                    variant.c_str(),
                    loose,
                    tight);
        EXPECT_LE(loose, 1e-5) << variant;
        EXPECT_LE(tight, 1e-11) << variant;
        EXPECT_LT(tight, loose) << variant;
      }
  }

  // Sharp attention (scores of several hundred): boxes must be split down to
  // the size of the softmax transitions, and pruning removes most sources.
  TEST(FastSummation, SharpAttentionStaysWithinTolerance)
  {
    for (unsigned int dim = 1; dim <= 2; ++dim)
      {
        const Problem problem = clustered_problem(dim, dim, 30., 6000, 1500, 300 + dim);
        EXPECT_LE(fast_error("softmax", problem, 1e-10), 1e-10) << "dim " << dim;
      }
  }

  /// A long-double brute-force sum as an ExponentialSum (softmax form: q is
  /// the tilted mean, no V), to look at the interpolation itself.
  struct BruteForceSum
  {
    unsigned int        dim;
    std::vector<double> coordinates, log_weights;

    void operator()(std::size_t                      n_points,
                    const double                    *points,
                    const std::vector<std::size_t> *subset,
                    double                          *values) const
    {
      std::vector<std::size_t> all;
      if (subset == nullptr)
        for (std::size_t j = 0; j < log_weights.size(); ++j)
          all.push_back(j);
      const std::vector<std::size_t> &used = subset != nullptr ? *subset : all;
      for (std::size_t p = 0; p < n_points; ++p)
        {
          long double maximum = -INFINITY;
          std::vector<long double> scores;
          for (const std::size_t j : used)
            {
              long double s = log_weights[j];
              for (unsigned int i = 0; i < dim; ++i)
                s += static_cast<long double>(points[p * dim + i]) * coordinates[j * dim + i];
              scores.push_back(s);
              maximum = std::max(maximum, s);
            }
          long double denominator = 0, numerator[3] = {};
          for (std::size_t k = 0; k < used.size(); ++k)
            {
              const long double e = std::exp(scores[k] - maximum);
              denominator += e;
              for (unsigned int i = 0; i < dim; ++i)
                numerator[i] += e * coordinates[used[k] * dim + i];
            }
          for (unsigned int i = 0; i < dim; ++i)
            values[p * dim + i] = static_cast<double>(numerator[i] / denominator);
        }
    }
  };

  // The interpolation does the work (most targets are interpolated, not
  // summed directly), in 2D and 3D, including when the score vectors lie in
  // a lower-dimensional subspace (rank-deficient A: flat directions).
  // Note: in 3D with the full range of these score vectors the tree may end
  // in direct boxes at this size (the fast path then does not pay; auto
  // gives up on it, see below).
  TEST(FastSummation, InterpolatesMostTargets)
  {
    constexpr std::size_t n_targets = 20000, n_sources = 400;
    for (unsigned int dim = 2; dim <= 3; ++dim)
      for (const bool degenerate : {false, true})
        {
          std::mt19937_64 random(5);
          const auto      mixture = tpde::testing::GaussianMixture::random(dim, 4, 2., random);
          BruteForceSum   brute{dim,
                              mixture.sample(n_sources, random),
                              std::vector<double>(n_sources, 0.)};
          std::vector<double> targets = mixture.sample(n_targets, random);
          // In 3D a box costs up to 33^3 nodes, so the interpolation only
          // pays for 20000 targets if the field is much smoother: score
          // vectors over a tenth of the range.
          if (dim == 3)
            for (double &a : targets)
              a /= 10.;
          if (degenerate) // on the line a = s (1, -2) / 3 (2D), the plane a_2 = a_0 - a_1 (3D)
            for (std::size_t t = 0; t < n_targets; ++t)
              {
                double *a = &targets[dim * t];
                if (dim == 2)
                  {
                    a[1] = -2. * a[0] / 3.;
                    a[0] /= 3.;
                  }
                else
                  a[2] = a[0] - a[1];
              }
          attention::fast::ExponentialSum sum;
          sum.dim        = dim;
          sum.n_sources  = n_sources;
          sum.coordinate = brute.coordinates.data();
          sum.log_weight = brute.log_weights.data();
          sum.evaluate   = brute;
          std::vector<double> fast(targets.size()), direct(targets.size());
          const auto          statistics =
            attention::fast::interpolate(sum, n_targets, targets.data(), 1e-10, fast.data());
          brute(n_targets, targets.data(), nullptr, direct.data());
          const double error = tpde::testing::relative_error(fast, direct);
          std::printf("%uD, %s: %zu boxes interpolated, %zu direct (%zu targets), %zu node "
                      "evaluations, error %.3g\n",
                      dim,
                      degenerate ? "degenerate" : "full rank",
                      statistics.boxes_interpolated,
                      statistics.boxes_direct,
                      statistics.direct_targets,
                      statistics.node_evaluations,
                      error);
          EXPECT_LE(error, 1e-10);
          EXPECT_GT(statistics.boxes_interpolated, 0u);
          EXPECT_LT(statistics.direct_targets, n_targets / 4);
          EXPECT_LT(statistics.node_evaluations, n_targets / 2);
        }
  }

  // evaluation = auto: tests/kernels/test_auto_choice.cc.

  TEST(FastSummation, RejectsNonPositiveTolerance)
  {
    Parameters p = clustered_problem(2, 2, 1., 10, 10, 1).parameters;
    for (const double tolerance : {0., -1e-3, std::nan("")})
      {
        p.tolerance = tolerance;
        try
          {
            attention::create("softmax", p);
            ADD_FAILURE() << "no exception for tolerance " << tolerance;
          }
        catch (const std::invalid_argument &error)
          {
            EXPECT_EQ(std::string(error.what()).rfind("tolerance must be positive", 0), 0u)
              << error.what();
          }
      }
  }
} // namespace

namespace
{
  // Targets on a square grid (mesh nodes, A = a multiple of the identity)
  // have isotropic covariance, so their principal axes are set by rounding.
  // On T6 at 64^2 they came out 41 degrees from the axes of a, where the
  // root box has twice the area and was split (3516 node sums instead of
  // 908 in the frame of a). Where the box in the frame of a is clearly smaller, that frame is
  // kept. Here: T6 at t = 0 (A = 0.5 I, the Gaussian of covariance
  // (1, 0.3; 0.3, 0.25) at the 3 x 3 Gauss points of 64^2 cells on
  // [-6, 6]^2 as sources and targets), then the same targets with more on a
  // diagonal, whose principal axes are at 45 degrees: the same function on
  // the same box, so the same node sums; and targets on the diagonal alone,
  // where the principal frame (in which they are a segment) is kept.
  TEST(FastSummation, SquareOfTargetsIsInterpolatedInTheFrameOfA)
  {
    constexpr unsigned int dim = 2, cells = 64;
    const double           gauss[3] = {-std::sqrt(0.6), 0., std::sqrt(0.6)};
    std::vector<double>    points;
    for (unsigned int i = 0; i < cells; ++i)
      for (unsigned int k = 0; k < cells; ++k)
        for (unsigned int p = 0; p < 3; ++p)
          for (unsigned int q = 0; q < 3; ++q)
            {
              const double h = 12. / cells;
              points.push_back(-6. + h * (i + 0.5 + 0.5 * gauss[p]));
              points.push_back(-6. + h * (k + 0.5 + 0.5 * gauss[q]));
            }
    const std::size_t n = points.size() / dim;
    BruteForceSum     brute{dim, points, {}};
    const double      determinant = 1. * 0.25 - 0.3 * 0.3; // log-weights of the Gaussian
    for (std::size_t j = 0; j < n; ++j)
      {
        const double x = points[2 * j], y = points[2 * j + 1];
        brute.log_weights.push_back(-0.5 * (0.25 * x * x - 0.6 * x * y + 1. * y * y) / determinant);
      }
    std::size_t nodes_on_the_square = 0;
    for (const int arrangement : {0, 1, 2}) // square, square and diagonal, diagonal only
      {
        const bool          diagonal = arrangement > 0;
        std::vector<double> targets;
        if (arrangement < 2)
          for (const double x : points)
            targets.push_back(0.5 * x);
        if (diagonal)
          for (unsigned int t = 0; t <= 20000; ++t)
            for (unsigned int i = 0; i < dim; ++i)
              targets.push_back(-2.9 + 5.8 * t / 20000.);
        const std::size_t n_targets = targets.size() / dim;
        attention::fast::ExponentialSum sum;
        sum.dim        = dim;
        sum.n_sources  = n;
        sum.coordinate = brute.coordinates.data();
        sum.log_weight = brute.log_weights.data();
        sum.evaluate   = brute;
        std::vector<double> fast(targets.size());
        const auto statistics = attention::fast::interpolate(sum, n_targets, targets.data(), 1e-10, fast.data());
        // The error at every 97th target (the brute force is long double).
        std::vector<double> sample, sample_fast;
        for (std::size_t t = 0; t < n_targets; t += 97)
          {
            sample.insert(sample.end(), targets.begin() + dim * t, targets.begin() + dim * (t + 1));
            sample_fast.insert(sample_fast.end(), fast.begin() + dim * t, fast.begin() + dim * (t + 1));
          }
        std::vector<double> direct(sample.size());
        brute(sample.size() / dim, sample.data(), nullptr, direct.data());
        const double error = tpde::testing::relative_error(sample_fast, direct);
        const char *names[] = {"square", "with the diagonal", "diagonal only"};
        std::printf("%s: %zu boxes interpolated, %zu split, %zu node evaluations, error %.3g\n",
                    names[arrangement], statistics.boxes_interpolated, statistics.boxes_split,
                    statistics.node_evaluations, error);
        EXPECT_LE(error, 1e-10);
        EXPECT_EQ(statistics.boxes_split, 0u);
        if (arrangement == 0)
          {
            nodes_on_the_square = statistics.node_evaluations;
            EXPECT_LE(nodes_on_the_square, 600u); // 508 measured; 3516 in a frame at 45 degrees
          }
        if (arrangement == 1)
          EXPECT_EQ(statistics.node_evaluations, nodes_on_the_square);
        // Targets on the diagonal alone keep their principal axes: one direction is flat,
        // the interpolation one-dimensional (the frame of a would cost the square's node sums).
        if (arrangement == 2)
          EXPECT_LT(statistics.node_evaluations, nodes_on_the_square / 4);
      }
  }
} // namespace
