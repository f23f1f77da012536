// The l2, sigmoid and unnormalized attention kernels against a long-double
// brute force, their exact special cases and invariances, the exact fields of
// a Gaussian under Gauss-Hermite quadrature, and the l2 Gaussian reference
// (physics.md §1.4, §1.6, §2.4, §2.6, test T4).
#include "attention/attention.h"
#include "reference/gaussian_reference.h"
#include "support/gauss_hermite.h"
#include "support/kernel_accuracy.h"
#include "support/kernel_problem.h"

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace
{
  using namespace tpde;
  using attention::Parameters;
  using tpde::testing::gauss_hermite;

  const std::vector<std::string> variant_names = {"l2", "sigmoid", "unnormalized"};

  using Problem = tpde::testing::KernelProblem;
  using tpde::testing::brute_force_velocities;
  using tpde::testing::creation_error;
  using tpde::testing::evaluate;
  using tpde::testing::random_problem;
  using tpde::testing::relative_error;
  using tpde::testing::Weights;

  std::vector<long double> apply(const Matrix &m, const double *x)
  {
    std::vector<long double> result(m.rows, 0.L);
    for (std::size_t r = 0; r < m.rows; ++r)
      for (std::size_t c = 0; c < m.cols; ++c)
        result[r] += static_cast<long double>(m(r, c)) * x[c];
    return result;
  }

  long double exact_sigmoid(long double z)
  {
    return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z));
  }

  /// The same per target (relative to that target's largest component), worst target.
  double worst_target_relative_error(const std::vector<double>      &v,
                                     const std::vector<long double> &reference,
                                     unsigned int                    dim)
  {
    double worst = 0;
    for (std::size_t t = 0; t < v.size() / dim; ++t)
      {
        const std::vector<double>      vt(v.begin() + t * dim, v.begin() + (t + 1) * dim);
        const std::vector<long double> rt(reference.begin() + t * dim,
                                          reference.begin() + (t + 1) * dim);
        worst = std::max(worst, relative_error(vt, rt));
      }
    return worst;
  }

  /// Weighted mean sum_j w_j y_j / sum_j w_j mapped by V, in long double.
  std::vector<long double> mapped_mean(const Problem &problem)
  {
    const unsigned int       dim = problem.parameters.dim;
    std::vector<long double> mean(dim, 0.L);
    long double              total = 0;
    for (std::size_t j = 0; j < problem.n_sources; ++j)
      {
        total += problem.weights[j];
        for (unsigned int i = 0; i < dim; ++i)
          mean[i] += static_cast<long double>(problem.weights[j]) * problem.sources[j * dim + i];
      }
    std::vector<long double> result(dim, 0.L);
    for (unsigned int p = 0; p < dim; ++p)
      for (unsigned int q = 0; q < dim; ++q)
        result[p] += problem.parameters.V(p, q) * mean[q] / total;
    return result;
  }

  // ---------------------------------------------------------------------------

  // Also softmax: each builds kernels of the parameters' dimension.
  TEST(AttentionVariants, AreRegisteredAndDocumented)
  {
    const std::string names = attention::variant_names();
    for (const std::string &name : {"softmax", "l2", "sigmoid", "unnormalized"})
      {
        const auto found =
          std::find_if(attention::variants().begin(),
                       attention::variants().end(),
                       [&](const attention::Variant &v) { return v.name == name; });
        ASSERT_NE(found, attention::variants().end()) << name << " not in " << names;
        EXPECT_GT(found->documentation.size(), 100u) << name;
        for (unsigned int dim = 1; dim <= 3; ++dim)
          {
            const Parameters p = tpde::testing::ones_attention_parameters(dim);
            EXPECT_EQ(attention::create(name, p)->dimension(), dim) << name;
          }
      }
    const auto documentation = [](const std::string &name) {
      for (const attention::Variant &v : attention::variants())
        if (v.name == name)
          return v.documentation;
      return std::string();
    };
    EXPECT_NE(documentation("l2").find("exp(-beta |Qx - K y_j|^2)"), std::string::npos);
    EXPECT_NE(documentation("sigmoid").find("sigma(beta <Qx, K y_j> + b)"), std::string::npos);
    EXPECT_NE(documentation("unnormalized").find("exp(beta <Qx, K y_j>) y_j / sum_j w_j"),
              std::string::npos);
  }

  TEST(AttentionVariants, BadParametersThrowNamingTheEntry)
  {
    const Parameters good = tpde::testing::ones_attention_parameters(2);
    for (const std::string &name : variant_names)
      {
        EXPECT_EQ(creation_error(name, good), "(no exception)");
        Parameters p = good;
        p.Q          = Matrix(3, 3, 1.);
        EXPECT_EQ(creation_error(name, p), "Q must be k x 2 (k >= 1 rows of 2 entries), got 3 x 3");
        p.Q = Matrix(0, 2);
        EXPECT_EQ(creation_error(name, p), "Q must be k x 2 (k >= 1 rows of 2 entries), got 0 x 2");
        p   = good;
        p.K = Matrix(1, 2, 1.);
        EXPECT_EQ(creation_error(name, p), "K must have the same shape as Q (2 x 2), got 1 x 2");
        p   = good;
        p.V = Matrix(2, 3, 1.);
        EXPECT_EQ(creation_error(name, p), "V must be 2 x 2, got 2 x 3");
        p      = good;
        p.beta = std::numeric_limits<double>::infinity();
        EXPECT_EQ(creation_error(name, p), "beta must be finite, got inf");
        p.beta = std::numeric_limits<double>::quiet_NaN();
        EXPECT_EQ(creation_error(name, p), "beta must be finite, got nan");
        p         = good;
        p.V(1, 0) = std::numeric_limits<double>::infinity();
        EXPECT_EQ(creation_error(name, p).rfind("V must have finite entries", 0), 0u)
          << creation_error(name, p);
        p     = good;
        p.dim = 4;
        EXPECT_EQ(creation_error(name, p), name + " attention supports dim = 1, 2 or 3, got 4");
      }
    Parameters p = good;
    p.bias       = -std::numeric_limits<double>::infinity();
    EXPECT_EQ(creation_error("sigmoid", p), "bias must be finite, got -inf");
    // Only sigmoid reads the bias.
    EXPECT_EQ(creation_error("l2", p), "(no exception)");
    p      = good;
    p.beta = 1e308; // 2 beta overflows
    EXPECT_EQ(creation_error("l2", p), "l2 attention: beta = 1e+308 is too large");
  }

  TEST(AttentionVariants, BadSourcesThrow)
  {
    for (const std::string &name : variant_names)
      {
        Problem problem = random_problem(name, 2, 2, 3, 5, 10., 0., Weights::uniform_positive, 1);
        problem.weights[2] = -1e-3;
        EXPECT_THROW(evaluate(problem), std::invalid_argument) << name;
        std::fill(problem.weights.begin(), problem.weights.end(), 0.);
        EXPECT_THROW(evaluate(problem), std::invalid_argument) << name;
        problem.weights[1] = 1.;
        EXPECT_NO_THROW(evaluate(problem)) << name;
        problem.sources[3] = std::numeric_limits<double>::quiet_NaN();
        EXPECT_THROW(evaluate(problem), std::invalid_argument) << name;
        problem.sources[3] = 0.;
        problem.targets[0] = std::numeric_limits<double>::infinity();
        EXPECT_THROW(evaluate(problem), std::invalid_argument) << name;
      }
  }

  using tpde::testing::worst_brute_force_error;

  // Distances up to beta |Qx - Ky|^2 = 1000, so the log-weights -beta |Ky|^2
  // of the softmax form are large too.
  TEST(AttentionVariants, L2MatchesLongDoubleBruteForceAtLargeScores)
  {
    RecordProperty("worst_relative_error", std::to_string(worst_brute_force_error("l2", 1000., 0)));
  }

  TEST(AttentionVariants, SigmoidMatchesLongDoubleBruteForce)
  {
    RecordProperty("worst_relative_error",
                   std::to_string(worst_brute_force_error("sigmoid", 50., 1000)));
  }

  TEST(AttentionVariants, UnnormalizedMatchesLongDoubleBruteForce)
  {
    RecordProperty("worst_relative_error",
                   std::to_string(worst_brute_force_error("unnormalized", 50., 2000)));
  }

  // The velocity grows like e^{score}, so the max-norm error above is set by
  // the targets with the largest scores; here every target is measured
  // against its own size, up to scores of 700 (velocities near 1e304).
  TEST(AttentionVariants, UnnormalizedIsAccurateAtEveryTargetUpToTheOverflowThreshold)
  {
    double worst = 0;
    for (unsigned int dim = 1; dim <= 3; ++dim)
      for (const double largest_score : {50., 700.})
        {
          const Problem problem = random_problem(
            "unnormalized", dim, 2, 41, 257, largest_score, 0.5, Weights::many_decades, 3000 + dim);
          const std::vector<double> v = evaluate(problem);
          for (const double component : v)
            ASSERT_TRUE(std::isfinite(component)) << "score " << largest_score;
          const double error = worst_target_relative_error(v, brute_force_velocities(problem), dim);
          EXPECT_LE(error, 1e-13) << "dim " << dim << ", largest score " << largest_score;
          worst = std::max(worst, error);
        }
    std::printf("worst per-target relative error: %.3g\n", worst);
  }

  // e^{2000} is beyond the double range: the velocity is infinite, which the
  // kernel returns (no exception) and the solver reports as a physical failure.
  TEST(AttentionVariants, UnnormalizedOverflowGivesANonFiniteVelocity)
  {
    const Problem problem =
      random_problem("unnormalized", 2, 2, 5, 9, 2000., 0., Weights::uniform_positive, 77);
    std::vector<double> v;
    ASSERT_NO_THROW(v = evaluate(problem));
    EXPECT_TRUE(std::any_of(v.begin(), v.end(), [](double c) { return !std::isfinite(c); }));
  }

  // sigma(z) in the far tails: no overflow, and the relative accuracy of
  // e^{-|z|} is kept (1 - sigma(|z|) would lose it).
  TEST(AttentionVariants, SigmoidTailsKeepRelativeAccuracy)
  {
    for (const double bias : {-600., -40., 40., 600.})
      {
        Problem problem =
          random_problem("sigmoid", 2, 2, 13, 101, 5., 0.3, Weights::uniform_positive, 90);
        problem.parameters.bias                  = bias;
        const std::vector<long double> reference = brute_force_velocities(problem);
        const std::vector<double>      v         = evaluate(problem);
        EXPECT_LE(worst_target_relative_error(v, reference, 2), 1e-13) << "bias " << bias;
      }
  }

  // beta = 0: sigmoid gives sigma(b) V mean, unnormalized gives V mean, l2
  // gives V mean; and l2 with K = 0 (all keys at the origin) also V mean.
  TEST(AttentionVariants, ConstantKernelsGiveTheMappedMean)
  {
    for (const std::string &name : variant_names)
      for (unsigned int dim = 1; dim <= 3; ++dim)
        {
          Problem problem =
            random_problem(name, dim, 2, 17, 333, 10., 1.5, Weights::many_decades, 60 + dim);
          problem.parameters.beta             = 0.;
          const std::vector<long double> mean = mapped_mean(problem);
          const long double              factor =
            name == "sigmoid" ? exact_sigmoid(problem.parameters.bias) : 1.L;
          std::vector<long double> expected;
          for (std::size_t t = 0; t < problem.n_targets; ++t)
            for (unsigned int i = 0; i < dim; ++i)
              expected.push_back(factor * mean[i]);
          EXPECT_LE(relative_error(evaluate(problem), expected), 1e-15) << name << ", dim " << dim;
          if (name == "l2")
            {
              problem.parameters.beta = 2.;
              problem.parameters.K    = Matrix(problem.parameters.K.rows, dim, 0.);
              EXPECT_LE(relative_error(evaluate(problem), expected), 1e-15)
                << "l2 K = 0, dim " << dim;
            }
        }
  }

  // With Q = K the l2 kernel depends only on x - y, so translating the
  // measure and the targets by c translates the field's argument: the
  // velocity becomes v + V c. Large shifts make |K y|^2 (the log-weights of
  // the softmax form) ~1e4 times the scores that matter.
  TEST(AttentionVariants, L2WithTiedQueryAndKeyIsTranslationEquivariant)
  {
    double worst = 0;
    for (unsigned int dim = 1; dim <= 3; ++dim)
      for (const double shift_size : {1., 30., 1000.})
        {
          Problem problem =
            random_problem("l2", dim, dim, 37, 211, 200., 0., Weights::uniform_positive, 70 + dim);
          problem.parameters.K                             = problem.parameters.Q;
          const std::vector<long double>         reference = brute_force_velocities(problem);
          std::mt19937_64                        random(dim);
          std::uniform_real_distribution<double> unit(-1., 1.);
          std::vector<double>                    c(dim);
          for (double &ci : c)
            ci = shift_size * unit(random);
          Problem shifted = problem;
          for (std::size_t k = 0; k < shifted.targets.size(); ++k)
            shifted.targets[k] += c[k % dim];
          for (std::size_t k = 0; k < shifted.sources.size(); ++k)
            shifted.sources[k] += c[k % dim];
          std::vector<double> v = evaluate(shifted);
          // The shifted sources themselves are rounded: compare against the
          // brute force of the rounded problem, translated back.
          std::vector<long double>       shifted_reference = brute_force_velocities(shifted);
          const std::vector<long double> Vc                = apply(problem.parameters.V, c.data());
          std::vector<long double>       back(v.size());
          for (std::size_t k = 0; k < v.size(); ++k)
            back[k] = shifted_reference[k] - Vc[k % dim];
          // Equivariance of the exact field (only rounding of y + c differs).
          EXPECT_LE(relative_error(std::vector<double>(back.begin(), back.end()), reference),
                    1e-12 * (1 + shift_size))
            << "dim " << dim << ", |c| ~ " << shift_size;
          // The kernel on the shifted problem, measured against the size of v.
          long double difference = 0, size = 0;
          for (std::size_t k = 0; k < v.size(); ++k)
            {
              difference = std::max(difference, std::fabs(v[k] - shifted_reference[k]));
              size       = std::max(size, std::fabs(reference[k]));
            }
          const double error = static_cast<double>(difference / size);
          EXPECT_LE(error, 1e-15 * (1 + shift_size)) << "dim " << dim << ", |c| ~ " << shift_size;
          worst = std::max(worst, error / (1 + shift_size));
        }
    std::printf("worst error / (1 + |c|): %.3g\n", worst);
  }

  /// The invariances of the direct kernels, with the largest score of the
  /// random problems of each test (softmax is checked at larger scores: its
  /// log-sum-exp has the range; sigmoid and unnormalized are not shifted).
  struct InvarianceCase
  {
    std::string variant;
    double      zero_weight_score, scaling_score, threads_score;
  };

  class Invariances : public ::testing::TestWithParam<InvarianceCase>
  {
  protected:
    const InvarianceCase &c = GetParam();
  };

  // Zero-weight sources far away, whose scores would be ~1e5 times larger
  // than all others, before, between and after the real ones: zero weights
  // are dropped before anything is computed, so the result is bitwise the same.
  TEST_P(Invariances, ZeroWeightSourcesAreIgnoredBitwise)
  {
    for (unsigned int dim = 1; dim <= 3; ++dim)
      {
        const Problem base = random_problem(
          c.variant, dim, 2, 19, 45, c.zero_weight_score, 0., Weights::uniform_positive, 200 + dim);
        const std::vector<double> expected = evaluate(base);
        Problem                   padded   = base;
        padded.sources.clear();
        padded.weights.clear();
        const auto add_far_source = [&](double sign) {
          for (unsigned int i = 0; i < dim; ++i)
            padded.sources.push_back(sign * 1e3);
          padded.weights.push_back(0.);
        };
        add_far_source(1.);
        for (std::size_t j = 0; j < base.n_sources; ++j)
          {
            for (unsigned int i = 0; i < dim; ++i)
              padded.sources.push_back(base.sources[j * dim + i]);
            padded.weights.push_back(base.weights[j]);
            if (j % 3 == 0)
              add_far_source(j % 2 == 0 ? 1. : -1.);
          }
        add_far_source(-1.);
        padded.n_sources = padded.weights.size();
        EXPECT_EQ(evaluate(padded), expected) << c.variant << ", dim " << dim;
      }
  }

  TEST_P(Invariances, ScalingAllWeightsChangesNothing)
  {
    for (unsigned int dim = 1; dim <= 3; ++dim)
      {
        const Problem problem =
          random_problem(c.variant, dim, 3, 17, 300, c.scaling_score, 0., Weights::many_decades, 300 + dim);
        const std::vector<double> expected = evaluate(problem);
        for (const double factor : {3.7, 1e-200, 1e250})
          {
            Problem scaled = problem;
            for (double &w : scaled.weights)
              w *= factor;
            EXPECT_LE(relative_error(evaluate(scaled), expected), 2e-15)
              << c.variant << ", dim " << dim << ", factor " << factor;
          }
      }
  }

  TEST_P(Invariances, ResultsDoNotDependOnThreadsOrTargetBlocks)
  {
    const Problem problem =
      random_problem(c.variant, 2, 2, 301, 777, c.threads_score, 0., Weights::uniform_positive, 400);
    std::vector<double> one_thread;
    {
      tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
      one_thread = evaluate(problem);
    }
    EXPECT_EQ(one_thread, evaluate(problem)) << c.variant;
    // Each target alone (so in another position within its block) gives the
    // same bits as within the whole set.
    for (std::size_t t = 0; t < problem.n_targets; t += 37)
      {
        Problem single   = problem;
        single.n_targets = 1;
        single.targets.assign(problem.targets.begin() + t * 2, problem.targets.begin() + t * 2 + 2);
        const std::vector<double> alone = evaluate(single);
        EXPECT_EQ(alone[0], one_thread[t * 2]) << c.variant << ", target " << t;
        EXPECT_EQ(alone[1], one_thread[t * 2 + 1]) << c.variant << ", target " << t;
      }
  }

  INSTANTIATE_TEST_SUITE_P(DirectKernels,
                           Invariances,
                           ::testing::Values(InvarianceCase{"softmax", 500., 200., 300.},
                                             InvarianceCase{"l2", 30., 40., 30.},
                                             InvarianceCase{"sigmoid", 30., 40., 30.},
                                             InvarianceCase{"unnormalized", 30., 40., 30.}),
                           [](const ::testing::TestParamInfo<InvarianceCase> &info) {
                             return info.param.variant;
                           });

  // The exact fields of mu = N(alpha, s) in 1D (physics.md §2.4, §2.6) with
  // mu replaced by its 150-node Gauss-Hermite rule: l2 is affine,
  // X = v (alpha + 2 beta s k q x) / (1 + 2 beta s k^2); sigmoid is the Stein
  // formula X = v (m0 alpha + m1 s a x), a = beta k q, m0 = E sigma(u),
  // m1 = E sigma'(u), u ~ N(a x alpha + b, (a x)^2 s) (m0, m1 by their own
  // Gauss-Hermite rule); unnormalized is X = e^{a x alpha + (a x)^2 s / 2} v (alpha + s a x).
  TEST(AttentionVariants, GaussHermiteQuadratureGivesTheExactGaussianFields)
  {
    const unsigned int       n = 150;
    std::vector<long double> nodes, rule_weights;
    gauss_hermite(n, nodes, rule_weights);
    long double total = 0;
    for (const long double w : rule_weights)
      total += w;
    ASSERT_NEAR(static_cast<double>(total), std::sqrt(std::acos(-1.)), 1e-15);
    // x^4 e^{-x^2}: 3 sqrt(pi) / 4.
    long double fourth = 0;
    for (unsigned int j = 0; j < n; ++j)
      fourth += rule_weights[j] * std::pow(nodes[j], 4);
    ASSERT_NEAR(static_cast<double>(fourth), 0.75 * std::sqrt(std::acos(-1.)), 1e-15);

    const double alpha = 0.4, s = 0.3, v = -1.2, q = 0.9, k = 1.3, beta = 0.8, bias = -1.3;
    const double a           = beta * k * q;
    const double pi          = std::acos(-1.);
    const auto   expectation = [&](double mean, double variance, auto f) {
      long double sum = 0;
      for (unsigned int j = 0; j < n; ++j)
        sum += rule_weights[j] * f(mean + std::sqrt(2 * variance) * static_cast<double>(nodes[j]));
      return static_cast<double>(sum / std::sqrt(pi));
    };
    for (const std::string &name : variant_names)
      {
        Problem problem;
        problem.variant         = name;
        problem.parameters.dim  = 1;
        problem.parameters.beta = beta;
        problem.parameters.bias = bias;
        problem.parameters.Q    = Matrix(1, 1, q);
        problem.parameters.K    = Matrix(1, 1, k);
        problem.parameters.V    = Matrix(1, 1, v);
        for (unsigned int j = 0; j < n; ++j)
          {
            problem.sources.push_back(static_cast<double>(alpha + std::sqrt(2.L * s) * nodes[j]));
            problem.weights.push_back(static_cast<double>(rule_weights[j]));
          }
        problem.n_sources = n;
        std::vector<double> exact;
        for (int t = 0; t <= 40; ++t)
          {
            const double x = alpha + 3. * (t / 20. - 1.);
            problem.targets.push_back(x);
            if (name == "l2")
              exact.push_back(v * (alpha + 2 * beta * s * k * q * x) / (1 + 2 * beta * s * k * k));
            else if (name == "sigmoid")
              {
                const auto   sigma = [](double z) { return static_cast<double>(exact_sigmoid(z)); };
                const double m0    = expectation(a * x * alpha + bias, a * x * a * x * s, sigma);
                const double m1    = expectation(a * x * alpha + bias,
                                              a * x * a * x * s,
                                              [&](double z) { return sigma(z) * (1 - sigma(z)); });
                exact.push_back(v * (m0 * alpha + m1 * s * a * x));
              }
            else
              exact.push_back(std::exp(a * x * alpha + a * x * a * x * s / 2) * v *
                              (alpha + s * a * x));
          }
        problem.n_targets  = problem.targets.size();
        const double error = relative_error(evaluate(problem), exact);
        EXPECT_LE(error, 1e-13) << name;
        std::printf("%s: max |X_h - X| / max |X| = %.3g\n", name.c_str(), error);
      }
  }

  // T4 (physics.md §5): d = 1, v = 1, k = 1, q = -1, beta = 1, N(0, 0.5);
  // -1/s + 2 ln s = -1/0.5 + 2 ln 0.5 - 4t.
  TEST(L2GaussianReference, T4VarianceMatchesTheImplicitSolution)
  {
    Parameters p;
    p.dim  = 1;
    p.beta = 1.;
    p.Q    = Matrix(1, 1, -1.);
    p.K    = Matrix(1, 1, 1.);
    p.V    = Matrix(1, 1, 1.);
    ASSERT_TRUE(reference::has_gaussian_reference("l2"));
    reference::GaussianReference ode("l2", p, {{0.}, Matrix(1, 1, 0.5)});
    const double                 s1 = ode.advance_to(1.).covariance(0, 0);
    const double                 s4 = ode.advance_to(4.).covariance(0, 0);
    EXPECT_LE(std::abs(s1 / 0.2264554258 - 1), 1e-9) << s1;
    EXPECT_LE(std::abs(s4 / 0.0709486691 - 1), 1e-9) << s4;
    EXPECT_EQ(ode.state().mean[0], 0.);
    // The implicit relation itself, far below the 10 digits quoted above.
    for (const double t : {1., 4.})
      {
        reference::GaussianReference fresh("l2", p, {{0.}, Matrix(1, 1, 0.5)});
        const double                 s = fresh.advance_to(t).covariance(0, 0);
        EXPECT_NEAR(-1 / s + 2 * std::log(s), -2 + 2 * std::log(0.5) - 4 * t, 1e-10) << "t " << t;
      }
    std::printf("T4: s(1) = %.12f, s(4) = %.12f\n", s1, s4);
  }

  // 1D mean: alpha' = v (1 + 2 beta k q s) / (1 + 2 beta k^2 s) alpha (physics.md §2.4).
  TEST(L2GaussianReference, OneDimensionalRatesMatchTheClosedForm)
  {
    Parameters p;
    p.dim           = 1;
    p.beta          = 0.7;
    p.Q             = Matrix::parse("0.5; -1.1");
    p.K             = Matrix::parse("1.3; 0.4");
    p.V             = Matrix(1, 1, -0.8);
    const double kq = 0.5 * 1.3 - 1.1 * 0.4, kk = 1.3 * 1.3 + 0.4 * 0.4, s = 0.45, alpha = 1.7;
    const auto   rate = reference::make_moment_derivative("l2", p)({{alpha}, Matrix(1, 1, s)});
    const double v = -0.8, beta = 0.7;
    EXPECT_NEAR(rate.mean[0], v * (1 + 2 * beta * kq * s) / (1 + 2 * beta * kk * s) * alpha, 1e-15);
    EXPECT_NEAR(rate.covariance(0, 0), 4 * beta * v * kq * s * s / (1 + 2 * beta * kk * s), 1e-15);
  }

  // 2D: the moment rates equal what the l2 kernel gives on a tensor
  // Gauss-Hermite rule of N(alpha, Sigma): X(x) = a + B x, so alpha' = X(alpha)
  // and B e_i = X(e_i) - X(0), Sigma' = B Sigma + Sigma B^T.
  TEST(L2GaussianReference, TwoDimensionalRatesMatchTheKernelOnGaussHermiteQuadrature)
  {
    Parameters p;
    p.dim  = 2;
    p.beta = 0.6;
    p.Q    = Matrix::parse("0.7, -0.3; 0.2, 0.9; 0.5, 0.5");
    p.K    = Matrix::parse("0.4, 0.8; -0.6, 0.3; 0.1, -0.2");
    p.V    = Matrix::parse("-1, 0.4; 0.3, -0.7");
    const reference::GaussianState state{{0.8, -0.4}, Matrix::parse("0.6, 0.2; 0.2, 0.35")};
    const auto                     rate = reference::make_moment_derivative("l2", p)(state);

    const unsigned int       n = 40;
    std::vector<long double> nodes, rule_weights;
    gauss_hermite(n, nodes, rule_weights);
    // y = alpha + L sqrt(2) z with L L^T = Sigma (Cholesky).
    const double L00 = std::sqrt(0.6), L10 = 0.2 / L00, L11 = std::sqrt(0.35 - L10 * L10);
    Problem      problem;
    problem.variant    = "l2";
    problem.parameters = p;
    for (unsigned int i = 0; i < n; ++i)
      for (unsigned int j = 0; j < n; ++j)
        {
          const double z0 = std::sqrt(2.) * static_cast<double>(nodes[i]);
          const double z1 = std::sqrt(2.) * static_cast<double>(nodes[j]);
          problem.sources.push_back(0.8 + L00 * z0);
          problem.sources.push_back(-0.4 + L10 * z0 + L11 * z1);
          problem.weights.push_back(static_cast<double>(rule_weights[i] * rule_weights[j]));
        }
    problem.n_sources           = n * n;
    problem.targets             = {0.8, -0.4, 0., 0., 1., 0., 0., 1.};
    problem.n_targets           = 4;
    const std::vector<double> X = evaluate(problem);
    Matrix                    B(2, 2);
    for (unsigned int i = 0; i < 2; ++i)
      for (unsigned int c = 0; c < 2; ++c)
        B(c, i) = X[(2 + i) * 2 + c] - X[2 + c];
    const Matrix BSigma     = B * state.covariance;
    const Matrix Sigma_rate = BSigma + transpose(BSigma);
    std::printf("alpha' error %.3g, Sigma' error %.3g\n",
                std::max(std::abs(rate.mean[0] - X[0]), std::abs(rate.mean[1] - X[1])),
                max_abs(rate.covariance - Sigma_rate));
    for (unsigned int c = 0; c < 2; ++c)
      EXPECT_NEAR(rate.mean[c], X[c], 1e-13) << c;
    EXPECT_LE(max_abs(rate.covariance - Sigma_rate), 1e-13)
      << rate.covariance.to_string() << " vs " << Sigma_rate.to_string();
  }
} // namespace
