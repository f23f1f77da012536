// Sinkhorn attention with fast sums (sinkhorn.cc, fast_summation.h with an
// absolute error on the potentials): the potentials meet the marginal
// tolerance when re-checked with direct sums, the velocities agree with the
// direct ones to the tolerance in 1D, 2D and 3D, and the exact Gaussian field
// of the moment model is still met on a Gauss-Hermite rule.
#include "attention/attention.h"
#include "attention/sinkhorn.h"
#include "reference/gaussian_reference.h"
#include "support/gauss_hermite.h"
#include "support/kernel_problem.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

namespace
{
  using namespace tpde;
  using attention::Parameters;

  /// A Gaussian density on a uniform tensor grid of `per_direction`^dim
  /// points in [-5, 5]^dim (like the quadrature nodes of a grid run), with
  /// the paper's E1 structure: K = -Q, so the scores are negative definite.
  struct GridProblem
  {
    Parameters          parameters;
    std::vector<double> points, weights;
  };

  GridProblem grid_problem(unsigned int dim, unsigned int per_direction)
  {
    GridProblem problem;
    Parameters &p = problem.parameters;
    p.dim         = dim;
    const std::vector<double> q_entries = {0.8, 0.4, 0.1, 0.2, 0.9, -0.2, 0.1, 0.3, 0.7};
    p.Q = Matrix(dim, dim);
    p.V = Matrix(dim, dim);
    for (unsigned int r = 0; r < dim; ++r)
      for (unsigned int c = 0; c < dim; ++c)
        {
          p.Q(r, c) = q_entries[3 * r + c];
          p.V(r, c) = (r == c ? 0.8 : 0.2);
        }
    p.K                = -1. * p.Q;
    p.beta             = 1.;
    p.sinkhorn_epsilon = 1.;
    const double h     = 10. / per_direction;
    std::size_t  n     = 1;
    for (unsigned int i = 0; i < dim; ++i)
      n *= per_direction;
    for (std::size_t k = 0; k < n; ++k)
      {
        std::size_t rest = k;
        double      r2   = 0.;
        for (unsigned int i = 0; i < dim; ++i)
          {
            const double x = -5. + h * (static_cast<double>(rest % per_direction) + 0.5);
            rest /= per_direction;
            problem.points.push_back(x + 0.1 * i);
            r2 += x * x / (1. + 0.3 * i);
          }
        problem.weights.push_back(std::exp(-0.5 * r2) * std::pow(h, dim));
      }
    return problem;
  }

  Matrix score_matrix(const Parameters &p)
  {
    return (p.beta / p.sinkhorn_epsilon) * (transpose(p.K) * p.Q);
  }

  double seconds_since(std::chrono::steady_clock::time_point start)
  {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
} // namespace

// The marginal error the fast iterations report (measured with fast sums plus
// the bound of their errors) is at most the tolerance, and so is the exact
// one: one direct iteration from the fast g measures |exp(g - T(g)) - 1|.
TEST(SinkhornFast, PotentialsMeetTheMarginalToleranceWithDirectSums)
{
  const double tolerance = 1e-12;
  for (unsigned int dim = 1; dim <= 3; ++dim)
    {
      const GridProblem problem = grid_problem(dim, dim == 1 ? 3000 : dim == 2 ? 50 : 12);
      const std::size_t n       = problem.weights.size();
      const Matrix      S       = score_matrix(problem.parameters);
      attention::SinkhornSummation fast;
      fast.fast        = true;
      const auto start = std::chrono::steady_clock::now();
      const auto solution =
        attention::solve_sinkhorn(dim, n, problem.points.data(), problem.weights.data(), S, tolerance, 1000, {}, fast);
      const double fast_seconds = seconds_since(start);
      EXPECT_TRUE(solution.fast) << "dim " << dim << ": gave up for direct sums";
      EXPECT_LE(solution.marginal_error, tolerance) << "dim " << dim;
      const auto check =
        attention::solve_sinkhorn(dim, n, problem.points.data(), problem.weights.data(), S, tolerance, 1, solution.potential);
      EXPECT_LE(check.marginal_error, tolerance) << "dim " << dim;
      std::printf("dim %u, %zu nodes: fast Sinkhorn %u iterations in %.3f s, reported marginal error %.3g, "
                  "with direct sums %.3g\n",
                  dim, n, solution.iterations, fast_seconds, solution.marginal_error, check.marginal_error);
    }
}

// Velocities with evaluation = fast (iterations and velocity sum) against
// evaluation = direct, at the nodes themselves as in a grid run.
TEST(SinkhornFast, VelocitiesAgreeWithDirectSums)
{
  for (unsigned int dim = 1; dim <= 3; ++dim)
    {
      const GridProblem problem = grid_problem(dim, dim == 1 ? 2000 : dim == 2 ? 40 : 11);
      Parameters        direct  = problem.parameters;
      direct.evaluation         = Parameters::Evaluation::direct;
      Parameters fast           = problem.parameters;
      fast.evaluation           = Parameters::Evaluation::fast;
      fast.tolerance            = 1e-10;
      const auto exact          = tpde::testing::kernel_velocities(
        *attention::create("sinkhorn", direct), problem.points, problem.points, problem.weights);
      const auto approximate = tpde::testing::kernel_velocities(
        *attention::create("sinkhorn", fast), problem.points, problem.points, problem.weights);
      const double error = tpde::testing::relative_error(approximate, exact);
      // The velocity sum's tolerance plus what the potentials' error (<= 5e-13,
      // half the marginal tolerance) moves the tilted mean relative to the
      // largest velocity (well below 1e-12 for sources within |y| <= 5).
      EXPECT_LE(error, fast.tolerance + 5e-12) << "dim " << dim;
      std::printf("dim %u, %zu nodes: max |X_fast - X_direct| / max |X_direct| = %.3g\n",
                  dim, problem.weights.size(), error);
    }
}

// The exact Gaussian field of the moment model (physics.md §2.5) on a 2D
// Gauss-Hermite rule, with fast sums: within the direct sums' 1e-11 plus the
// velocity tolerance.
TEST(SinkhornFast, GaussHermiteQuadratureGivesTheExactGaussianField)
{
  Parameters p;
  p.dim              = 2;
  p.beta             = 1.;
  p.sinkhorn_epsilon = 1.;
  p.Q                = Matrix(2, 2);
  p.Q.data           = {0.8, 0.4, 0.2, 0.9};
  p.K                = -1. * p.Q;
  p.V                = Matrix(2, 2);
  p.V.data           = {0.85, 0.43, 0.43, 0.73};
  p.evaluation       = Parameters::Evaluation::fast;
  p.tolerance        = 1e-11;
  const std::vector<double> alpha = {0.3, -0.6};
  Matrix                    Sigma(2, 2);
  Sigma.data = {1., 0.3, 0.3, 0.25};
  std::vector<double> points, weights, targets, exact;
  tpde::testing::gauss_hermite_measure(alpha, Sigma, 40, points, weights);
  const Matrix Gamma = reference::sinkhorn_regression_matrix(Sigma, p);
  for (int i = -5; i <= 5; ++i)
    for (int j = -5; j <= 5; ++j)
      {
        const std::vector<double> d = {0.5 * i, 0.25 * j};
        targets.push_back(alpha[0] + d[0]);
        targets.push_back(alpha[1] + d[1]);
        std::vector<double> conditional = Gamma * d;
        for (unsigned int c = 0; c < 2; ++c)
          conditional[c] += alpha[c];
        const std::vector<double> v = p.V * conditional;
        exact.insert(exact.end(), v.begin(), v.end());
      }
  const auto   kernel = attention::create("sinkhorn", p);
  const double error  = tpde::testing::relative_error(
    tpde::testing::kernel_velocities(*kernel, targets, points, weights), exact);
  std::printf("2D Sinkhorn with fast sums on Gauss-Hermite (%zu nodes): max |X_h - X| / max |X| = %.3g\n",
              weights.size(), error);
  EXPECT_LE(error, 1e-11 + p.tolerance);
}

// evaluation = auto below the fast summation's sizes (exponential_kernel.h)
// sums directly: the same bits as evaluation = direct.
TEST(SinkhornFast, AutoOnSmallProblemsIsDirect)
{
  const GridProblem problem = grid_problem(2, 20);
  Parameters        direct  = problem.parameters;
  direct.evaluation         = Parameters::Evaluation::direct;
  Parameters automatic      = problem.parameters;
  automatic.evaluation      = Parameters::Evaluation::automatic;
  const auto a              = tpde::testing::kernel_velocities(
    *attention::create("sinkhorn", direct), problem.points, problem.points, problem.weights);
  const auto b = tpde::testing::kernel_velocities(
    *attention::create("sinkhorn", automatic), problem.points, problem.points, problem.weights);
  EXPECT_EQ(a, b);
}
