// Properties every registered attention variant must have, checked for each
// entry of attention::variants(): a variant registered later is tested
// without touching this file. What a variant claims in its Capabilities is
// checked where it claims it, and that the claim's absence is true elsewhere
// (the setting then changes nothing).
#include "attention/attention.h"
#include "reference/gaussian_reference.h"
#include "support/gauss_hermite.h"
#include "support/kernel_problem.h"
#include "support/random_attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace
{
  using namespace tpde;

  /// Parameters every variant can be built from (dim = 2 for the points x).
  attention::Parameters conformance_parameters(unsigned int dim)
  {
    std::mt19937_64       random(20240611);
    attention::Parameters p = tpde::testing::random_attention_parameters(dim, dim, 0.5, random);
    for (int h = 0; h < 2; ++h)
      {
        const attention::Parameters head = tpde::testing::random_attention_parameters(dim, 1, 0.4, random);
        p.heads.push_back({0.4 + 0.2 * h, head.Q, head.K, head.V});
      }
    p.evaluation = attention::Parameters::Evaluation::direct;
    return p;
  }

  /// Points of the variant's dimension (masked: a leading position s in
  /// eighths) and weights, a few of them zero.
  struct Problem
  {
    unsigned int        dim = 0;
    std::vector<double> points, weights;
    std::size_t         size() const { return weights.size(); }
  };

  Problem make_problem(const attention::Kernel &kernel, std::size_t n, unsigned int seed)
  {
    std::mt19937_64                        random(seed);
    std::normal_distribution<double>       normal(0., 0.8);
    std::uniform_real_distribution<double> uniform(0.2, 1.);
    Problem                                problem;
    problem.dim     = kernel.dimension();
    const bool s_in = kernel.uses_source_lines();
    for (std::size_t j = 0; j < n; ++j)
      {
        for (unsigned int i = 0; i < problem.dim; ++i)
          problem.points.push_back(s_in && i == 0 ? double(j % 9) / 8. : normal(random));
        problem.weights.push_back(j % 11 == 5 ? 0. : uniform(random));
      }
    return problem;
  }

  std::vector<double> velocities(const attention::Kernel &kernel, const Problem &problem)
  {
    std::vector<double> v(problem.points.size());
    kernel.evaluate(problem.size(),
                    problem.points.data(),
                    problem.size(),
                    problem.points.data(),
                    problem.weights.data(),
                    v.data());
    return v;
  }

  double max_abs(const std::vector<double> &v)
  {
    double largest = 0.;
    for (const double x : v)
      largest = std::max(largest, std::abs(x));
    return largest;
  }

  double max_difference(const std::vector<double> &a, const std::vector<double> &b)
  {
    double largest = 0.;
    for (std::size_t k = 0; k < a.size(); ++k)
      largest = std::max(largest, std::abs(a[k] - b[k]));
    return largest;
  }

  class Conformance : public ::testing::TestWithParam<attention::Variant>
  {
  protected:
    const attention::Variant &variant = GetParam();
  };

  TEST_P(Conformance, SourceOrderDoesNotMatter)
  {
    const attention::Parameters p      = conformance_parameters(2);
    const auto                  kernel = variant.create(p);
    const Problem               forward = make_problem(*kernel, 300, 1);
    Problem                     reversed = forward;
    const std::size_t           n = forward.size(), d = forward.dim;
    for (std::size_t j = 0; j < n; ++j)
      {
        std::copy_n(&forward.points[(n - 1 - j) * d], d, &reversed.points[j * d]);
        reversed.weights[j] = forward.weights[n - 1 - j];
      }
    const std::vector<double> v = velocities(*kernel, forward);
    std::vector<double>       w = velocities(*variant.create(p), reversed);
    std::reverse(w.begin(), w.end()); // targets reversed too; components come back in order
    for (std::size_t j = 0; j < n; ++j)
      std::reverse(w.begin() + j * d, w.begin() + (j + 1) * d);
    // Sums in another order: rounding only (sinkhorn: its marginal tolerance).
    EXPECT_LE(max_difference(v, w), 1e-11 * max_abs(v)) << variant.name;
    EXPECT_GT(max_abs(v), 1e-3) << variant.name;
  }

  TEST_P(Conformance, ScalingAllWeightsChangesNothing)
  {
    // Every variant divides by the total weight or normalises per target.
    const attention::Parameters p      = conformance_parameters(2);
    const auto                  kernel = variant.create(p);
    const Problem               problem = make_problem(*kernel, 300, 2);
    Problem                     scaled  = problem;
    for (double &w : scaled.weights)
      w *= 3e-7;
    const std::vector<double> v = velocities(*kernel, problem);
    EXPECT_LE(max_difference(v, velocities(*variant.create(p), scaled)), 1e-11 * max_abs(v))
      << variant.name;
  }

  TEST_P(Conformance, FastSummationMeetsItsToleranceWhereItApplies)
  {
    attention::Parameters p = conformance_parameters(2);
    const auto            direct = variant.create(p);
    const Problem         problem = make_problem(*direct, 2000, 3);
    const std::vector<double> v = velocities(*direct, problem);
    p.evaluation                = attention::Parameters::Evaluation::fast;
    p.tolerance                 = 1e-9;
    const double difference     = max_difference(v, velocities(*variant.create(p), problem));
    if (variant.capabilities.fast_summation)
      EXPECT_LE(difference, 2 * p.tolerance * max_abs(v)) << variant.name;
    else
      EXPECT_EQ(difference, 0.) << variant.name << " has no fast summation: nothing may change";
  }

  TEST_P(Conformance, FloatExponentialIsWithinFloatPrecisionWhereItApplies)
  {
    attention::Parameters p = conformance_parameters(2);
    const auto            exact = variant.create(p);
    const Problem         problem = make_problem(*exact, 400, 4);
    const std::vector<double> v = velocities(*exact, problem);
    p.float_exponential         = true;
    const double difference     = max_difference(v, velocities(*variant.create(p), problem));
    if (variant.capabilities.float_exponential)
      {
        EXPECT_LE(difference, 1e-6 * max_abs(v)) << variant.name;
        // The setting must really take effect.
        EXPECT_GT(difference, 0.) << variant.name;
      }
    else
      EXPECT_EQ(difference, 0.) << variant.name << " has no float exponential: nothing may change";
  }

  // A moment model says the velocity of a Gaussian N(alpha, Sigma) is affine,
  // X(x) = a + B x, with alpha' = a + B alpha and (1D) Sigma' = 2 B Sigma.
  // The Gaussian is represented by 80 Gauss-Hermite nodes, which integrate
  // the exponentially tilted Gaussians here to near rounding; the remaining
  // difference is the model's (for sinkhorn also the discrete plan's, with
  // marginals to 1e-14). 1e-11 relative is what all four models meet; a
  // wrong model is off by O(1).
  TEST_P(Conformance, GaussianVelocityIsTheMomentModelsAffineField)
  {
    attention::Parameters p = conformance_parameters(1);
    p.sinkhorn_tolerance    = 1e-14;
    if (!variant.capabilities.moment_model)
      {
        EXPECT_FALSE(reference::has_gaussian_reference(variant.name));
        EXPECT_THROW(reference::make_moment_derivative(variant.name, p), std::invalid_argument);
        return;
      }
    ASSERT_TRUE(reference::has_gaussian_reference(variant.name));
    const double                alpha = 0.3, Sigma = 0.5;
    const reference::GaussianState rate =
      reference::make_moment_derivative(variant.name, p)({{alpha}, Matrix(1, 1, Sigma)});
    const double B = rate.covariance(0, 0) / (2 * Sigma), a = rate.mean[0] - B * alpha;

    std::vector<long double> nodes, rule_weights;
    tpde::testing::gauss_hermite(80, nodes, rule_weights);
    std::vector<double> sources, weights;
    for (std::size_t i = 0; i < nodes.size(); ++i)
      {
        sources.push_back(static_cast<double>(alpha + std::sqrt(2 * Sigma) * nodes[i]));
        weights.push_back(static_cast<double>(rule_weights[i]));
      }
    const std::vector<double> targets = {-1., -0.2, 0.3, 0.9, 1.6};
    std::vector<double>       v(targets.size());
    variant.create(p)->evaluate(
      targets.size(), targets.data(), sources.size(), sources.data(), weights.data(), v.data());
    for (std::size_t t = 0; t < targets.size(); ++t)
      EXPECT_NEAR(v[t], a + B * targets[t], 1e-11 * (1 + std::abs(v[t])))
        << variant.name << " at x = " << targets[t];
  }

  TEST_P(Conformance, ScoreFormIsStatedOrAbsent)
  {
    const attention::Parameters p    = conformance_parameters(2);
    const auto                  form = attention::score_form(variant.name, p);
    if (!variant.capabilities.score_form)
      {
        EXPECT_FALSE(form.has_value()) << variant.name;
        return;
      }
    ASSERT_TRUE(form.has_value()) << variant.name;
    const unsigned int d = variant.create(p)->dimension();
    EXPECT_EQ(form->A.rows, d);
    EXPECT_EQ(form->A.cols, d);
    EXPECT_EQ(form->KtK.rows, d);
    EXPECT_TRUE(std::isfinite(form->c));
  }

  // Every variant against its defining formula in long double
  // (support/kernel_brute_force.h; masked: the causal prefix, sinkhorn: a
  // long-double Sinkhorn iteration to convergence), on random problems in
  // d = 1, 2, 3 with separate targets, some zero weights and scores up to
  // about 5. Observed max relative errors (max norm over all targets and
  // components, relative to the largest): <= 3.7e-16 for every variant but
  // sinkhorn, whose plan is converged to marginals 1e-14: 2.4e-15. Bounds:
  // 50x that, 2e-14 and 1.2e-13; a wrong formula, a lost term, a wrong
  // prefix or a float exponential (1e-7) is far beyond.
  TEST_P(Conformance, MatchesLongDoubleBruteForceInEveryDimension)
  {
    for (unsigned int dim = 1; dim <= 3; ++dim)
      {
        attention::Parameters p = conformance_parameters(dim);
        p.bias                  = -0.3;
        p.sinkhorn_tolerance    = 1e-14;
        const auto    kernel    = variant.create(p);
        const Problem sources   = make_problem(*kernel, 150, 10 + dim);
        const Problem targets   = make_problem(*kernel, 70, 20 + dim);
        std::vector<double> v(targets.points.size());
        kernel->evaluate(targets.size(), targets.points.data(), sources.size(), sources.points.data(),
                         sources.weights.data(), v.data());
        const tpde::testing::BruteForceInput in{
          targets.size(), sources.size(), targets.points.data(), sources.points.data(), sources.weights.data()};
        std::vector<long double> exact;
        try
          {
            exact = tpde::testing::brute_force_velocities(variant.name, p, in);
          }
        catch (const std::invalid_argument &e)
          {
            FAIL() << e.what();
          }
        const double error = tpde::testing::relative_error(v, exact);
        EXPECT_LE(error, variant.name == "sinkhorn" ? 1.2e-13 : 2e-14) << variant.name << " d = " << dim;
        std::printf("brute force %-13s d = %u: relative error %.2e\n", variant.name.c_str(), dim, error);
      }
  }

  INSTANTIATE_TEST_SUITE_P(EveryVariant,
                           Conformance,
                           ::testing::ValuesIn(attention::variants()),
                           [](const ::testing::TestParamInfo<attention::Variant> &info) {
                             return info.param.name;
                           });

  TEST(Registry, UnknownVariantsAreRejectedNotTakenForSoftmax)
  {
    const attention::Parameters p = conformance_parameters(2);
    EXPECT_THROW(attention::score_form("cosine", p), std::invalid_argument);
    EXPECT_THROW(attention::find_variant("cosine"), std::invalid_argument);
    attention::Parameters masked = p;
    masked.masked_kernel         = "sinkhorn"; // may not be masked
    EXPECT_THROW(attention::score_form("masked", masked), std::invalid_argument);
    EXPECT_THROW(attention::create("masked", masked), std::invalid_argument);
  }

  TEST(Registry, ScoreFormsOfTheExponentialVariants)
  {
    const attention::Parameters p   = conformance_parameters(2);
    const Matrix                KtQ = transpose(p.K) * p.Q;
    const auto                  softmax = attention::score_form("softmax", p);
    const auto                  l2      = attention::score_form("l2", p);
    const auto                  masked  = attention::score_form("masked", p);
    ASSERT_TRUE(softmax && l2 && masked);
    EXPECT_EQ(softmax->A.data, (p.beta * KtQ).data);
    EXPECT_EQ(softmax->c, 0.);
    EXPECT_EQ(l2->A.data, ((2 * p.beta) * KtQ).data);
    EXPECT_EQ(l2->c, -p.beta);
    EXPECT_EQ(masked->A(0, 0), 0.);
    EXPECT_EQ(masked->A(1, 2), softmax->A(0, 1));
    EXPECT_FALSE(attention::score_form("sigmoid", p));
    EXPECT_FALSE(attention::score_form("sinkhorn", p));
    EXPECT_FALSE(attention::score_form("multihead", p));
  }
} // namespace
