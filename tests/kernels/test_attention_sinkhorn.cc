// Sinkhorn attention (physics.md §1.5, §2.5, T5): the scaling's potentials
// checked in long double on both marginals, the velocity against a
// long-double Sinkhorn, the exact Gaussian field under Gauss-Hermite
// quadrature (1D closed form and the 2D reference matrix), warm and cold
// starts, failures, thread independence, and the Gaussian reference
// (the defining property of the plan, physics.md's formula, T5's values).
#include "attention/attention.h"
#include "attention/sinkhorn.h"
#include "reference/gaussian_reference.h"
#include "support/gauss_hermite.h"
#include "support/kernel_problem.h"
#include "support/random_attention.h"

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

  using Problem = tpde::testing::PointProblem;

  using tpde::testing::random_matrix;

  /// Random Q, K (k x dim), V; points in [-1, 1]^dim + 0.5; weights over 26
  /// decades with one zero; beta / epsilon scaled so that the largest
  /// |score| over source pairs is `largest_score`.
  Problem random_problem(unsigned int dim,
                         std::size_t  k,
                         std::size_t  n_sources,
                         double       largest_score,
                         unsigned int seed)
  {
    std::mt19937_64                        random(seed);
    std::uniform_real_distribution<double> unit(-1., 1.);
    Problem                                problem;
    Parameters                            &p = problem.parameters;
    p.dim                                    = dim;
    p.Q                                      = random_matrix(k, dim, random);
    p.K                                      = random_matrix(k, dim, random);
    p.V                                      = random_matrix(dim, dim, random);
    p.sinkhorn_epsilon                       = 0.7;
    problem.sources.resize(n_sources * dim);
    problem.targets.resize(23 * dim);
    problem.weights.resize(n_sources);
    for (double &y : problem.sources)
      y = unit(random) + 0.5;
    for (double &x : problem.targets)
      x = 1.5 * unit(random) + 0.5;
    for (double &w : problem.weights)
      w = std::exp(30. * (unit(random) - 1.));
    if (n_sources > 2)
      problem.weights[1] = 0.;
    const Matrix A       = transpose(p.K) * p.Q;
    double       largest = 0;
    for (std::size_t i = 0; i < n_sources; ++i)
      for (std::size_t j = 0; j < n_sources; ++j)
        {
          double s = 0;
          for (unsigned int a = 0; a < dim; ++a)
            for (unsigned int b = 0; b < dim; ++b)
              s += problem.sources[j * dim + a] * A(a, b) * problem.sources[i * dim + b];
          largest = std::max(largest, std::abs(s));
        }
    p.beta = largest_score * p.sinkhorn_epsilon / largest;
    return problem;
  }

  Matrix score_matrix(const Parameters &p)
  {
    return (p.beta / p.sinkhorn_epsilon) * (transpose(p.K) * p.Q);
  }

  /// <S x, y> in long double.
  long double score(const Matrix &S, const double *x, const double *y, unsigned int dim)
  {
    long double sum = 0;
    for (unsigned int a = 0; a < dim; ++a)
      for (unsigned int b = 0; b < dim; ++b)
        sum += static_cast<long double>(y[a]) * S(a, b) * x[b];
    return sum;
  }

  /// Row potential f(x) = -log sum_j p_j exp(s(x, y_j) + g_j) in long double.
  long double row_potential(const Problem                  &problem,
                            const Matrix                   &S,
                            const std::vector<long double> &g,
                            const double                   *x)
  {
    const unsigned int dim   = problem.parameters.dim;
    long double        total = 0;
    for (const double w : problem.weights)
      total += w;
    std::vector<long double> exponent(problem.n_sources());
    long double              shift = -std::numeric_limits<long double>::infinity();
    for (std::size_t j = 0; j < problem.n_sources(); ++j)
      if (problem.weights[j] > 0)
        {
          exponent[j] = score(S, x, &problem.sources[j * dim], dim) + g[j] +
                        std::log(problem.weights[j] / total);
          shift = std::max(shift, exponent[j]);
        }
    long double sum = 0;
    for (std::size_t j = 0; j < problem.n_sources(); ++j)
      if (problem.weights[j] > 0)
        sum += std::exp(exponent[j] - shift);
    return -(shift + std::log(sum));
  }

  /// Largest deviation from 1 of the row and of the column marginals of the
  /// plan exp(s + f + g), f by the row formula, in long double.
  void marginal_errors(const Problem                  &problem,
                       const std::vector<long double> &g,
                       long double                    &row_error,
                       long double                    &column_error)
  {
    const unsigned int dim = problem.parameters.dim;
    const Matrix       S   = score_matrix(problem.parameters);
    const std::size_t  n   = problem.n_sources();
    long double        total = 0;
    for (const double w : problem.weights)
      total += w;
    std::vector<long double> f(n);
    for (std::size_t i = 0; i < n; ++i)
      f[i] = row_potential(problem, S, g, &problem.sources[i * dim]);
    row_error = column_error = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (problem.weights[i] > 0)
        {
          long double row = 0, column = 0;
          for (std::size_t j = 0; j < n; ++j)
            if (problem.weights[j] > 0)
              {
                row += problem.weights[j] / total *
                       std::exp(score(S, &problem.sources[i * dim], &problem.sources[j * dim], dim) +
                                f[i] + g[j]);
                column +=
                  problem.weights[j] / total *
                  std::exp(score(S, &problem.sources[j * dim], &problem.sources[i * dim], dim) +
                           f[j] + g[i]);
              }
          row_error    = std::max(row_error, std::fabs(row - 1));
          column_error = std::max(column_error, std::fabs(column - 1));
        }
  }

  /// Long-double Sinkhorn iterated until g stops changing (1e-17), then the
  /// velocity V sum_j p_j pi(x, y_j) y_j at the targets.
  std::vector<long double> brute_force_velocities(const Problem &problem)
  {
    const unsigned int       dim = problem.parameters.dim;
    const Matrix             S   = score_matrix(problem.parameters);
    const std::size_t        n   = problem.n_sources();
    std::vector<long double> g(n, 0.L), f(n);
    // Column update: g_j = -log sum_i p_i exp(s(y_i, y_j) + f_i), i.e. the
    // row formula for the transposed score.
    const Matrix St = transpose(S);
    for (int iteration = 0; iteration < 5000; ++iteration)
      {
        for (std::size_t i = 0; i < n; ++i)
          f[i] = row_potential(problem, S, g, &problem.sources[i * dim]);
        long double change = 0;
        for (std::size_t j = 0; j < n; ++j)
          {
            const long double next = row_potential(problem, St, f, &problem.sources[j * dim]);
            change                 = std::max(change, std::fabs(next - g[j]));
            g[j]                   = next;
          }
        if (change < 1e-17L)
          break;
      }
    long double total = 0;
    for (const double w : problem.weights)
      total += w;
    std::vector<long double> velocities;
    for (std::size_t t = 0; t < problem.n_targets(); ++t)
      {
        const double            *x  = &problem.targets[t * dim];
        const long double        fx = row_potential(problem, S, g, x);
        std::vector<long double> mean(dim, 0.L);
        for (std::size_t j = 0; j < n; ++j)
          if (problem.weights[j] > 0)
            {
              const long double plan = problem.weights[j] / total *
                                       std::exp(score(S, x, &problem.sources[j * dim], dim) + fx + g[j]);
              for (unsigned int i = 0; i < dim; ++i)
                mean[i] += plan * problem.sources[j * dim + i];
            }
        for (unsigned int r = 0; r < dim; ++r)
          {
            long double v = 0;
            for (unsigned int i = 0; i < dim; ++i)
              v += problem.parameters.V(r, i) * mean[i];
            velocities.push_back(v);
          }
      }
    return velocities;
  }

  std::vector<double> evaluate(const attention::Kernel &kernel, const Problem &problem)
  {
    return tpde::testing::kernel_velocities(kernel, problem.targets, problem.sources, problem.weights);
  }

  using tpde::testing::creation_error;
  using tpde::testing::gauss_hermite_measure;
  using tpde::testing::relative_error;

  double diagnostic(const attention::Kernel &kernel, const std::string &name)
  {
    for (const auto &[key, value] : kernel.diagnostics())
      if (key == name)
        return value;
    ADD_FAILURE() << "no diagnostic " << name;
    return std::numeric_limits<double>::quiet_NaN();
  }
} // namespace

// physics.md T5: marginals <= 1e-10. The solver stops at 1e-12 on its own
// measure; here both marginals are recomputed in long double from g.
TEST(Sinkhorn, PotentialsSatisfyBothMarginalsInLongDouble)
{
  long double worst = 0;
  unsigned int seed = 0;
  for (unsigned int dim = 1; dim <= 3; ++dim)
    for (const std::size_t n : {1, 5, 64, 300})
      for (const double largest_score : {1., 8.})
        {
          const Problem          problem = random_problem(dim, 2, n, largest_score, ++seed);
          const Parameters      &p       = problem.parameters;
          const auto solution = attention::solve_sinkhorn(dim, n, problem.sources.data(),
                                                          problem.weights.data(), score_matrix(p),
                                                          1e-12, 1000, {});
          ASSERT_LE(solution.marginal_error, 1e-12);
          const std::vector<long double> g(solution.potential.begin(), solution.potential.end());
          long double                    row, column;
          marginal_errors(problem, g, row, column);
          EXPECT_LE(row, 1e-10L) << "dim " << dim << ", n " << n;
          EXPECT_LE(column, 1e-10L) << "dim " << dim << ", n " << n;
          // The solver's own measure of the column marginal is accurate.
          EXPECT_NEAR(static_cast<double>(column), solution.marginal_error, 1e-13);
          worst = std::max({worst, row, column});
        }
  std::printf("worst marginal error in long double: %.3Lg\n", worst);
}

TEST(Sinkhorn, VelocityMatchesLongDoubleSinkhorn)
{
  double       worst = 0;
  unsigned int seed  = 100;
  for (unsigned int dim = 1; dim <= 3; ++dim)
    for (const std::size_t n : {1, 9, 150})
      {
        const Problem problem = random_problem(dim, 1 + dim % 2, n, 6., ++seed);
        const auto    kernel  = attention::create("sinkhorn", problem.parameters);
        const double  error   = relative_error(evaluate(*kernel, problem), brute_force_velocities(problem));
        EXPECT_LE(error, 1e-11) << "dim " << dim << ", n " << n;
        worst = std::max(worst, error);
      }
  std::printf("worst relative velocity error vs long-double Sinkhorn: %.3g\n", worst);
}

// 1D: the plan of N(alpha, s) is Gaussian, E[y | x] = alpha + Gamma (x - alpha)
// with Gamma = 2 s a / (1 + sqrt(1 + 4 a^2 s^2)), a = beta q k / epsilon
// (physics.md §2.5; ds/dt = 2 v Gamma s = v (sqrt(1 + 4 a^2 s^2) - 1) / a).
// 2D: Gamma from the reference. Both on Gauss-Hermite rules.
TEST(Sinkhorn, GaussHermiteQuadratureGivesTheExactGaussianField)
{
  {
    Parameters p;
    p.dim              = 1;
    p.beta             = 0.9;
    p.sinkhorn_epsilon = 0.6;
    p.Q                = Matrix(1, 1, 1.1);
    p.K                = Matrix(1, 1, -0.8);
    p.V                = Matrix(1, 1, -1.3);
    const double alpha = 0.4, s = 0.7, a = p.beta * 1.1 * -0.8 / p.sinkhorn_epsilon;
    const double Gamma = 2 * s * a / (1 + std::sqrt(1 + 4 * a * a * s * s));
    Problem      problem;
    problem.parameters = p;
    gauss_hermite_measure({alpha}, Matrix(1, 1, s), 120, problem.sources, problem.weights);
    std::vector<double> exact;
    for (int t = -20; t <= 20; ++t)
      {
        const double x = alpha + 0.15 * t;
        problem.targets.push_back(x);
        exact.push_back(-1.3 * (alpha + Gamma * (x - alpha)));
      }
    const auto   kernel = attention::create("sinkhorn", p);
    const double error  = relative_error(evaluate(*kernel, problem), exact);
    std::printf("1D Sinkhorn on Gauss-Hermite: max |X_h - X| / max |X| = %.3g (%g iterations)\n",
                error, diagnostic(*kernel, "sinkhorn_iterations"));
    EXPECT_LE(error, 1e-12);
    EXPECT_NEAR(reference::sinkhorn_regression_matrix(Matrix(1, 1, s), p)(0, 0), Gamma, 1e-15);
  }
  {
    std::mt19937_64 random(21);
    Parameters      p;
    p.dim              = 2;
    p.beta             = 1.;
    p.sinkhorn_epsilon = 1.;
    p.Q                = 0.6 * random_matrix(2, 2, random);
    p.K                = 0.6 * random_matrix(2, 2, random);
    p.V                = random_matrix(2, 2, random);
    const std::vector<double> alpha = {0.3, -0.6};
    Matrix                    Sigma(2, 2);
    Sigma.data = {1., 0.3, 0.3, 0.25}; // T6's
    Problem problem;
    problem.parameters = p;
    gauss_hermite_measure(alpha, Sigma, 40, problem.sources, problem.weights);
    const Matrix        Gamma = reference::sinkhorn_regression_matrix(Sigma, p);
    std::vector<double> exact;
    for (int i = -5; i <= 5; ++i)
      for (int j = -5; j <= 5; ++j)
        {
          const std::vector<double> d = {0.5 * i, 0.25 * j};
          problem.targets.push_back(alpha[0] + d[0]);
          problem.targets.push_back(alpha[1] + d[1]);
          std::vector<double> conditional = Gamma * d;
          for (unsigned int c = 0; c < 2; ++c)
            conditional[c] += alpha[c];
          const std::vector<double> v = p.V * conditional;
          exact.insert(exact.end(), v.begin(), v.end());
        }
    const auto   kernel = attention::create("sinkhorn", p);
    const double error  = relative_error(evaluate(*kernel, problem), exact);
    std::printf("2D Sinkhorn on Gauss-Hermite: max |X_h - X| / max |X| = %.3g (%g iterations)\n",
                error, diagnostic(*kernel, "sinkhorn_iterations"));
    EXPECT_LE(error, 1e-11);
  }
}

// The kernel is called once per Runge-Kutta stage: on the same sources it
// starts from the last potentials, on new sources from zero.
TEST(Sinkhorn, WarmStartOnTheSameSourcesColdStartOnNewOnes)
{
  Problem    first = random_problem(2, 2, 400, 5., 7);
  const auto kernel = attention::create("sinkhorn", first.parameters);
  const auto cold   = evaluate(*kernel, first);
  const double cold_iterations = diagnostic(*kernel, "sinkhorn_iterations");

  // The next stage: the same points, slightly different weights.
  Problem next = first;
  for (std::size_t j = 0; j < next.weights.size(); ++j)
    next.weights[j] *= 1. + 1e-6 * std::sin(double(j));
  const auto warm = evaluate(*kernel, next);
  const double warm_iterations = diagnostic(*kernel, "sinkhorn_iterations");
  const auto fresh = attention::create("sinkhorn", first.parameters);
  const auto reference_velocity = evaluate(*fresh, next);
  std::printf("iterations: cold %g, warm %g (fresh kernel on the same data: %g)\n",
              cold_iterations, warm_iterations, diagnostic(*fresh, "sinkhorn_iterations"));
  EXPECT_LT(warm_iterations, 0.6 * diagnostic(*fresh, "sinkhorn_iterations"));
  EXPECT_LE(relative_error(warm, reference_velocity), 1e-11);
  EXPECT_LE(diagnostic(*kernel, "sinkhorn_marginal_error"), 1e-12);

  // New points (an adapted mesh): a cold start, bit for bit a fresh kernel's.
  Problem moved = next;
  moved.sources[3] += 1e-9;
  const auto again      = evaluate(*kernel, moved);
  const auto fresh_two  = attention::create("sinkhorn", first.parameters);
  EXPECT_EQ(again, evaluate(*fresh_two, moved));
  EXPECT_EQ(diagnostic(*kernel, "sinkhorn_iterations"), diagnostic(*fresh_two, "sinkhorn_iterations"));
  EXPECT_EQ(cold.size(), again.size());
  // The running maximum covers all three evaluations.
  EXPECT_GE(diagnostic(*kernel, "sinkhorn_max_marginal_error"),
            diagnostic(*kernel, "sinkhorn_marginal_error"));
  EXPECT_LE(diagnostic(*kernel, "sinkhorn_max_marginal_error"), 1e-12);
}

TEST(Sinkhorn, NotReachingTheToleranceThrows)
{
  Problem problem                               = random_problem(2, 2, 200, 5., 9);
  problem.parameters.sinkhorn_max_iterations    = 2;
  const auto kernel                             = attention::create("sinkhorn", problem.parameters);
  try
    {
      evaluate(*kernel, problem);
      ADD_FAILURE() << "no exception";
    }
  catch (const std::invalid_argument &e)
    {
      EXPECT_EQ(std::string(e.what()).rfind("sinkhorn attention: marginal error ", 0), 0u) << e.what();
      EXPECT_NE(std::string(e.what()).find("after 2 iterations"), std::string::npos) << e.what();
    }
  EXPECT_GT(diagnostic(*kernel, "sinkhorn_marginal_error"), 1e-12);
  EXPECT_EQ(diagnostic(*kernel, "sinkhorn_iterations"), 2.);
}

TEST(Sinkhorn, DiagnosticsAndBadParameters)
{
  const Parameters good = tpde::testing::identity_attention_parameters(2);
  const auto kernel = attention::create("sinkhorn", good);
  const auto names  = kernel->diagnostics();
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0].first, "sinkhorn_iterations");
  EXPECT_EQ(names[1].first, "sinkhorn_marginal_error");
  EXPECT_EQ(names[2].first, "sinkhorn_max_marginal_error");
  EXPECT_TRUE(std::isnan(names[0].second)) << "no evaluation yet";
  const auto softmax = attention::create("softmax", good)->diagnostics(); // only its fast_share
  ASSERT_EQ(softmax.size(), 1u);
  EXPECT_EQ(softmax[0].first, "fast_share");

  Parameters p       = good;
  p.sinkhorn_epsilon = 0.;
  EXPECT_EQ(creation_error("sinkhorn", p), "entry 'sinkhorn epsilon': expected a finite number > 0, got 0");
  p                    = good;
  p.sinkhorn_tolerance = -1e-3;
  EXPECT_EQ(creation_error("sinkhorn", p), "entry 'sinkhorn tolerance': expected a number > 0, got -0.001");
  p                         = good;
  p.sinkhorn_max_iterations = 0;
  EXPECT_EQ(creation_error("sinkhorn", p), "entry 'sinkhorn maximum iterations': expected at least 1");
  p   = good;
  p.K = Matrix(1, 2, 1.);
  EXPECT_EQ(creation_error("sinkhorn", p), "K must have the same shape as Q (2 x 2), got 1 x 2");
}

TEST(Sinkhorn, ResultsDoNotDependOnThreads)
{
  const Problem       problem = random_problem(3, 2, 700, 5., 13);
  std::vector<double> one, two;
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
    one = evaluate(*attention::create("sinkhorn", problem.parameters), problem);
  }
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 2);
    two = evaluate(*attention::create("sinkhorn", problem.parameters), problem);
  }
  EXPECT_EQ(one, two);
}

// ---------------------------------------------------------------------------
// The Gaussian reference.

// The plan's joint covariance [Sigma, C; C^T, Sigma], C^T = Gamma Sigma, has
// the off-diagonal precision block -(beta / epsilon) Q^T K (physics.md §2.5),
// and Gamma agrees with physics.md's formula (A^T)^{-1} Sigma^{-1} C_S,
// C_S = (Sigma^{1/2} (I + 4 Sigma^{1/2} A^T Sigma A Sigma^{1/2})^{1/2} Sigma^{-1/2} - I) / 2.
TEST(SinkhornGaussianReference, RegressionMatrixHasTheDefiningPrecision)
{
  std::mt19937_64 random(31);
  double          worst_precision = 0, worst_formula = 0;
  for (unsigned int dim = 1; dim <= 3; ++dim)
    for (int trial = 0; trial < 20; ++trial)
      {
        Parameters p;
        p.dim              = dim;
        p.beta             = 0.8;
        p.sinkhorn_epsilon = 0.5;
        p.Q                = random_matrix(dim, dim, random);
        p.K                = random_matrix(dim, dim, random);
        const Matrix G     = random_matrix(dim, dim, random);
        const Matrix Sigma = G * transpose(G) + 0.1 * Matrix::identity(dim);
        const Matrix Gamma = reference::sinkhorn_regression_matrix(Sigma, p);
        const Matrix C     = Sigma * transpose(Gamma);
        Matrix       joint(2 * dim, 2 * dim);
        for (unsigned int i = 0; i < dim; ++i)
          for (unsigned int j = 0; j < dim; ++j)
            {
              joint(i, j)             = Sigma(i, j);
              joint(dim + i, dim + j) = Sigma(i, j);
              joint(i, dim + j)       = C(i, j);
              joint(dim + i, j)       = C(j, i);
            }
        ASSERT_TRUE(is_symmetric_positive_definite(joint, 1e-10));
        const Matrix precision = inverse(joint);
        const Matrix M         = (p.beta / p.sinkhorn_epsilon) * (transpose(p.Q) * p.K);
        double       error     = 0;
        for (unsigned int i = 0; i < dim; ++i)
          for (unsigned int j = 0; j < dim; ++j)
            error = std::max(error, std::abs(precision(i, dim + j) + M(i, j)));
        worst_precision = std::max(worst_precision, error / max_abs(M));

        const Matrix A    = (p.beta / p.sinkhorn_epsilon) * (transpose(p.K) * p.Q);
        const Matrix R    = reference::symmetric_square_root(Sigma);
        const Matrix I    = Matrix::identity(dim);
        const Matrix CS   = 0.5 * (R *
                                   reference::symmetric_square_root(
                                     I + 4. * (R * transpose(A) * Sigma * A * R)) *
                                   inverse(R) -
                                 I);
        const Matrix physics = inverse(transpose(A)) * inverse(Sigma) * CS;
        worst_formula = std::max(worst_formula, max_abs(physics - Gamma) / max_abs(Gamma));
      }
  std::printf("precision block error %.3g, difference to physics.md's formula %.3g\n",
              worst_precision, worst_formula);
  EXPECT_LE(worst_precision, 1e-10);
  EXPECT_LE(worst_formula, 1e-9);
}

TEST(SinkhornGaussianReference, SymmetricSquareRoot)
{
  std::mt19937_64 random(41);
  for (unsigned int dim = 1; dim <= 3; ++dim)
    {
      const Matrix G = random_matrix(dim, dim, random);
      const Matrix a = G * transpose(G);
      const Matrix r = reference::symmetric_square_root(a);
      EXPECT_LE(max_abs(r * r - a) / max_abs(a), 1e-14);
      EXPECT_TRUE(is_symmetric_positive_definite(r));
    }
  Matrix rank_one(2, 2);
  rank_one.data = {1., 2., 2., 4.}; // (1, 2)(1, 2)^T: root = (1, 2)(1, 2)^T / sqrt(5)
  const Matrix r = reference::symmetric_square_root(rank_one);
  EXPECT_LE(max_abs(r - (1. / std::sqrt(5.)) * rank_one), 1e-15);
}

// T5 (physics.md §5): v = -1, a = 1, epsilon = 1, N(alpha_0, 0.5):
// s(1) = 0.2637852485, s(4) = 0.1037748408, alpha(t) = alpha_0 e^{vt}.
TEST(SinkhornGaussianReference, T5MatchesTheImplicitSolution)
{
  Parameters p;
  p.dim = 1;
  p.Q   = Matrix(1, 1, 1.);
  p.K   = Matrix(1, 1, 1.);
  p.V   = Matrix(1, 1, -1.);
  reference::GaussianReference ode("sinkhorn", p, {{0.7}, Matrix(1, 1, 0.5)});
  EXPECT_NEAR(ode.advance_to(1.).covariance(0, 0), 0.2637852485, 1e-10);
  EXPECT_NEAR(ode.state().mean[0], 0.7 * std::exp(-1.), 1e-13);
  EXPECT_NEAR(ode.advance_to(4.).covariance(0, 0), 0.1037748408, 1e-10);
  // G(u(t)) = G(u_0) + 2 v sgn(a) t, u = 2 |a| s, G(u) = asinh u - (1 + sqrt(1 + u^2)) / u.
  const auto G = [](double u) { return std::asinh(u) - (1 + std::sqrt(1 + u * u)) / u; };
  EXPECT_NEAR(G(2 * ode.state().covariance(0, 0)), G(1.) - 8., 1e-11);
  EXPECT_TRUE(reference::has_gaussian_reference("sinkhorn"));
}

// d = 1: ds/dt = v (sqrt(1 + 4 a^2 s^2) - 1) / a, dalpha/dt = v alpha, for
// several signs and temperatures.
TEST(SinkhornGaussianReference, OneDimensionalRatesMatchTheClosedForm)
{
  for (const double v : {-1.3, 0.7})
    for (const double q : {-0.8, 1.5})
      for (const double epsilon : {0.5, 2.})
        for (const double s : {0.05, 1., 20.})
          {
            Parameters p;
            p.dim              = 1;
            p.beta             = 1.2;
            p.sinkhorn_epsilon = epsilon;
            p.Q                = Matrix(1, 1, q);
            p.K                = Matrix(1, 1, 0.9);
            p.V                = Matrix(1, 1, v);
            const double a     = p.beta * q * 0.9 / epsilon;
            const auto   rate  = reference::make_moment_derivative("sinkhorn", p)({{0.3}, Matrix(1, 1, s)});
            const double exact = v * (std::sqrt(1 + 4 * a * a * s * s) - 1) / a;
            EXPECT_NEAR(rate.covariance(0, 0), exact, 1e-13 * std::abs(exact));
            EXPECT_NEAR(rate.mean[0], v * 0.3, 1e-15);
          }
}
