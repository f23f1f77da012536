// The ODE integrator and the exact Gaussian references (physics.md §2.2, §5).
//
// The references are what the grid solver is judged against, so they are
// checked here against closed forms to 1e-10 (typically they reach ~1e-13).

#include "common/matrix.h"
#include "reference/gaussian_reference.h"
#include "reference/ode_integrator.h"
#include "support/kernel_problem.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using tpde::Matrix;
using tpde::reference::GaussianDensity;
using tpde::reference::GaussianReference;
using tpde::reference::GaussianState;
using tpde::reference::OdeIntegrator;
using tpde::reference::OdeOptions;

namespace
{
  double relative_error(double value, double exact) { return std::abs(value - exact) / std::abs(exact); }

  double relative_error(const Matrix &value, const Matrix &exact)
  {
    return tpde::max_abs(value - exact) / tpde::max_abs(exact);
  }

  double max_componentwise_relative_error(const std::vector<double> &value, const std::vector<double> &exact)
  {
    double e = 0.;
    for (std::size_t i = 0; i < exact.size(); ++i)
      e = std::max(e, relative_error(value[i], exact[i]));
    return e;
  }

  /// max |difference| / max |exact|.
  using tpde::testing::relative_error;

  tpde::attention::Parameters parameters(unsigned int       dim,
                                         double             beta,
                                         const std::string &Q,
                                         const std::string &K,
                                         const std::string &V)
  {
    tpde::attention::Parameters p;
    p.dim  = dim;
    p.beta = beta;
    p.Q    = Matrix::parse(Q);
    p.K    = Matrix::parse(K);
    p.V    = Matrix::parse(V);
    return p;
  }

  /// 1-D softmax data: v, a = beta q k (with q = a, k = 1, beta = 1).
  tpde::attention::Parameters parameters_1d(double v, double a)
  {
    tpde::attention::Parameters p;
    p.dim  = 1;
    p.beta = 1.;
    p.Q    = Matrix(1, 1, a);
    p.K    = Matrix(1, 1, 1.);
    p.V    = Matrix(1, 1, v);
    return p;
  }

  GaussianState gaussian(std::vector<double> mean, const std::string &covariance)
  {
    return GaussianState{std::move(mean), Matrix::parse(covariance)};
  }

  /// Inverse square root of a 2x2 SPD matrix: sqrt(M) = (M + sqrt(det) I) / sqrt(tr + 2 sqrt(det)).
  Matrix inverse_sqrt_2x2(const Matrix &M)
  {
    const double r    = std::sqrt(tpde::determinant(M));
    const Matrix root = (1. / std::sqrt(M(0, 0) + M(1, 1) + 2. * r)) * (M + r * Matrix::identity(2));
    return tpde::inverse(root);
  }

  Matrix outer(const std::vector<double> &u, const std::vector<double> &v)
  {
    Matrix m(u.size(), v.size());
    for (std::size_t i = 0; i < u.size(); ++i)
      for (std::size_t j = 0; j < v.size(); ++j)
        m(i, j) = u[i] * v[j];
    return m;
  }

  Matrix random_matrix(std::mt19937 &rng, std::size_t rows, std::size_t cols)
  {
    std::uniform_real_distribution<double> u(-1., 1.);
    Matrix                                 m(rows, cols);
    for (double &x : m.data)
      x = u(rng);
    return m;
  }

  // ---- Rooted trees for the Runge-Kutta order conditions ----------------------
  // A tree is the list of its root's subtrees. Duplicates (different orderings
  // of the same subtrees) only repeat a condition, which is harmless.
  struct Tree
  {
    std::vector<Tree> children;
  };

  std::vector<Tree> trees_of_order(unsigned int n);

  void forests(unsigned int remaining, std::vector<Tree> &current, std::vector<std::vector<Tree>> &out)
  {
    if (remaining == 0)
      {
        out.push_back(current);
        return;
      }
    for (unsigned int k = 1; k <= remaining; ++k)
      for (const Tree &t : trees_of_order(k))
        {
          current.push_back(t);
          forests(remaining - k, current, out);
          current.pop_back();
        }
  }

  std::vector<Tree> trees_of_order(unsigned int n)
  {
    if (n == 1)
      return {Tree{}};
    std::vector<std::vector<Tree>> children;
    std::vector<Tree>              current;
    forests(n - 1, current, children);
    std::vector<Tree> result;
    for (auto &c : children)
      result.push_back(Tree{c});
    return result;
  }

  unsigned int tree_order(const Tree &t)
  {
    unsigned int n = 1;
    for (const Tree &c : t.children)
      n += tree_order(c);
    return n;
  }

  double tree_density(const Tree &t) // gamma(t)
  {
    double g = tree_order(t);
    for (const Tree &c : t.children)
      g *= tree_density(c);
    return g;
  }

  /// Stage weights g_i(t) = prod_children (A g(child))_i; condition b . g(t) = 1/gamma(t).
  std::vector<double> stage_weights(const tpde::reference::ButcherTableau &rk, const Tree &t)
  {
    std::vector<double> g(rk.stages, 1.);
    for (const Tree &c : t.children)
      {
        const std::vector<double> gc = stage_weights(rk, c);
        for (unsigned int i = 0; i < rk.stages; ++i)
          {
            double s = 0.;
            for (unsigned int j = 0; j < rk.stages; ++j)
              s += rk.a_entry(i, j) * gc[j];
            g[i] *= s;
          }
      }
    return g;
  }

  /// Largest order p such that all conditions up to p hold to 1e-13.
  unsigned int order_from_conditions(const tpde::reference::ButcherTableau &rk, const std::vector<double> &b)
  {
    for (unsigned int n = 1; n <= 10; ++n)
      for (const Tree &t : trees_of_order(n))
        {
          const std::vector<double> g = stage_weights(rk, t);
          double                    s = 0.;
          for (unsigned int i = 0; i < rk.stages; ++i)
            s += b[i] * g[i];
          if (std::abs(s - 1. / tree_density(t)) > 1e-13)
            return n - 1;
        }
    return 10;
  }

  // y1' = -2 t y1^2 (y1 = 1/(1+t^2)); y2' = y1 y2 (y2 = exp(atan t)): nonlinear,
  // non-autonomous, coupled.
  void test_rhs(double t, const std::vector<double> &y, std::vector<double> &dydt)
  {
    dydt[0] = -2. * t * y[0] * y[0];
    dydt[1] = y[0] * y[1];
  }
  std::vector<double> test_solution(double t) { return {1. / (1. + t * t), std::exp(std::atan(t))}; }

  // The T1 moment ODE (v = -1, a = 1): y = (s, alpha), s0 = 0.5, alpha0 = 1.
  void t1_rhs(double, const std::vector<double> &y, std::vector<double> &dydt)
  {
    dydt[0] = -2. * y[0] * y[0];
    dydt[1] = -(1. + y[0]) * y[1];
  }
  std::vector<double> t1_solution(double t)
  {
    const double s = 0.5 / (1. + t);
    return {s, std::exp(-t) * std::sqrt(s / 0.5)};
  }
} // namespace

// ============================================================================
// OdeIntegrator
// ============================================================================

TEST(OdeIntegrator, TableausSatisfyExactlyTheirOrderConditions)
{
  const tpde::reference::ButcherTableau extrapolated6 = tpde::reference::extrapolated_midpoint(3);
  for (const auto *rk : {&tpde::reference::dormand_prince_54(), &tpde::reference::default_ode_method(), &extrapolated6})
    {
      SCOPED_TRACE(rk->name);
      ASSERT_EQ(rk->a.size(), rk->stages * rk->stages);
      for (unsigned int i = 0; i < rk->stages; ++i)
        {
          double row = 0.;
          for (unsigned int j = 0; j < rk->stages; ++j)
            {
              row += rk->a_entry(i, j);
              if (j >= i)
                {
                  EXPECT_EQ(rk->a_entry(i, j), 0.) << "not explicit: a(" << i << "," << j << ")";
                }
            }
          EXPECT_NEAR(row, rk->c[i], 1e-15) << "row " << i;
        }
      if (rk->first_same_as_last)
        {
          EXPECT_EQ(rk->c[rk->stages - 1], 1.);
          for (unsigned int j = 0; j < rk->stages; ++j)
            EXPECT_EQ(rk->a_entry(rk->stages - 1, j), rk->b[j]) << "FSAL needs b = last row of a";
        }
      // Exactly the claimed orders: every tree up to `order` holds, some tree of order+1 fails.
      EXPECT_EQ(order_from_conditions(*rk, rk->b), rk->order);
      EXPECT_EQ(order_from_conditions(*rk, rk->b_embedded), rk->embedded_order);
    }
  EXPECT_EQ(tpde::reference::dormand_prince_54().order, 5u);
  EXPECT_EQ(tpde::reference::dormand_prince_54().embedded_order, 4u);
  EXPECT_EQ(tpde::reference::default_ode_method().order, 8u);
  EXPECT_EQ(tpde::reference::default_ode_method().embedded_order, 6u);
  EXPECT_EQ(tpde::reference::default_ode_method().stages, 17u);
}

TEST(OdeIntegrator, ObservedOrderWithFixedSteps)
{
  // T1 moment ODE s' = -2 s^2, alpha' = -(1+s) alpha on [0, 4]. The step sizes
  // are where each method is asymptotic but still well above rounding.
  struct Case
  {
    const tpde::reference::ButcherTableau *method;
    std::vector<double>                    steps;
  };
  for (const Case &c : {Case{&tpde::reference::dormand_prince_54(), {0.04, 0.02, 0.01}},
                        Case{&tpde::reference::default_ode_method(), {0.16, 0.08}}})
    {
      SCOPED_TRACE(c.method->name);
      std::vector<double> errors;
      for (double h : c.steps)
        {
          OdeOptions options;
          options.method     = c.method;
          options.fixed_step = h;
          OdeIntegrator ode(t1_rhs, 0., t1_solution(0.), options);
          ode.advance_to(4.);
          EXPECT_EQ(ode.steps(), static_cast<std::size_t>(std::lround(4. / h)));
          errors.push_back(max_componentwise_relative_error(ode.state(), t1_solution(4.)));
        }
      for (std::size_t i = 0; i + 1 < errors.size(); ++i)
        {
          const double observed = std::log2(errors[i] / errors[i + 1]);
          std::printf("  %s, h = %.3f -> %.3f: errors %.3e -> %.3e, observed order %.3f\n",
                      c.method->name.c_str(), c.steps[i], c.steps[i + 1], errors[i], errors[i + 1], observed);
          EXPECT_NEAR(observed, c.method->order, 0.3);
        }
    }
}

TEST(OdeIntegrator, AdaptiveGlobalErrorFollowsTheTolerance)
{
  const double T = 5.;
  for (const auto *method : {&tpde::reference::dormand_prince_54(), &tpde::reference::default_ode_method()})
    for (double rtol : {1e-8, 1e-10, 1e-12, 1e-13})
      {
        OdeOptions options;
        options.method = method;
        options.rtol   = rtol;
        options.atol   = 1e-3 * rtol;
        OdeIntegrator ode(test_rhs, 0., test_solution(0.), options);
        ode.advance_to(T);
        const double error = relative_error(ode.state(), test_solution(T));
        std::printf("  %s, rtol %.0e: relative error %.3e, %zu steps (%zu rejected), %zu f-evaluations\n",
                    method->name.c_str(), rtol, error, ode.steps(), ode.rejected_steps(), ode.rhs_evaluations());
        EXPECT_LE(error, 10. * rtol);
      }
}

TEST(OdeIntegrator, ManySmallAdvancesLandExactlyAndStayAccurate)
{
  // The grid solver calls advance_to once per (CFL-limited) time step.
  OdeIntegrator ode(test_rhs, 0., test_solution(0.));
  double        t = 0.;
  for (int i = 1; i <= 4000; ++i)
    {
      t = 1e-3 * i;
      ode.advance_to(t);
      ASSERT_EQ(ode.time(), t);
    }
  ode.advance_to(t); // no-op
  EXPECT_EQ(ode.time(), t);
  const double error = relative_error(ode.state(), test_solution(t));
  std::printf("  4000 advances of 1e-3: relative error %.3e, %zu steps\n", error, ode.steps());
  EXPECT_LE(error, 1e-12);
  EXPECT_THROW(ode.advance_to(t - 1e-3), std::invalid_argument);
}

TEST(OdeIntegrator, FiniteTimeBlowUpThrows)
{
  // y' = y^2, y(0) = 1: y = 1/(1-t), singular at t = 1.
  OdeIntegrator ode([](double, const std::vector<double> &y, std::vector<double> &f) { f[0] = y[0] * y[0]; },
                    0.,
                    {1.});
  ode.advance_to(0.5);
  EXPECT_LE(relative_error(ode.state()[0], 2.), 1e-13);
  try
    {
      ode.advance_to(1.5);
      FAIL() << "no exception although the solution blows up at t = 1";
    }
  catch (const std::runtime_error &e)
    {
      std::printf("  message: %s\n", e.what());
      EXPECT_NE(std::string(e.what()).find("blows up"), std::string::npos) << e.what();
      EXPECT_LT(ode.time(), 1.);
      EXPECT_GT(ode.time(), 1. - 1e-6);
    }
}

TEST(OdeIntegrator, RejectsBadInput)
{
  auto f = [](double, const std::vector<double> &y, std::vector<double> &dydt) { dydt = y; };
  EXPECT_THROW(OdeIntegrator(f, 0., {}), std::invalid_argument);
  EXPECT_THROW(OdeIntegrator(f, 0., {NAN}), std::invalid_argument);
  EXPECT_THROW(OdeIntegrator(f, 0., {1.}, 0., 0.), std::invalid_argument);
  EXPECT_THROW(OdeIntegrator(nullptr, 0., {1.}), std::invalid_argument);
}

// ============================================================================
// Gaussian references (softmax, physics.md §2.2 and §5)
// ============================================================================

TEST(GaussianReference, VariantsAndValidation)
{
  EXPECT_TRUE(tpde::reference::has_gaussian_reference("softmax"));
  EXPECT_FALSE(tpde::reference::has_gaussian_reference("sigmoid"));
  EXPECT_FALSE(tpde::reference::has_gaussian_reference(""));
  const auto p = parameters(2, 1., "1, 0; 0, 1", "0.5, 0; 0, 0.5", "-1, 0; 0, -1");
  EXPECT_THROW(GaussianReference("sigmoid", p, gaussian({0, 0}, "1, 0; 0, 1")), std::invalid_argument);
  EXPECT_THROW(GaussianReference("softmax", p, gaussian({0}, "1, 0; 0, 1")), std::invalid_argument);
  EXPECT_THROW(GaussianReference("softmax", p, gaussian({0, 0}, "1, 2; 2, 1")), std::invalid_argument);
  EXPECT_THROW(GaussianReference("softmax", p, gaussian({0, 0}, "1, 0.1; 0, 1")), std::invalid_argument);
  auto bad = p;
  bad.K    = Matrix::parse("1, 0");
  EXPECT_THROW(GaussianReference("softmax", bad, gaussian({0, 0}, "1, 0; 0, 1")), std::invalid_argument);
  GaussianReference reference("softmax", p, gaussian({1, 2}, "1, 0; 0, 1"));
  reference.advance_to(0.5);
  EXPECT_THROW(reference.advance_to(0.25), std::invalid_argument);
}

TEST(GaussianReference, T1SoftmaxCollapse1d)
{
  const double v = -1., a = 1., s0 = 0.5, alpha0 = 1.;
  GaussianReference reference("softmax", parameters_1d(v, a), GaussianState{{alpha0}, Matrix(1, 1, s0)});
  for (double t : {1., 10.})
    {
      const GaussianState &state = reference.advance_to(t);
      const double         s     = s0 / (1. - 2. * v * a * s0 * t);
      const double         alpha = alpha0 * std::exp(v * t) * std::sqrt(s / s0);
      const double         es    = relative_error(state.covariance(0, 0), s);
      const double         ea    = relative_error(state.mean[0], alpha);
      std::printf("  T1 t = %4.1f: s = %.12g (rel. err %.2e), alpha = %.12g (rel. err %.2e), %zu ODE steps\n",
                  t, state.covariance(0, 0), es, state.mean[0], ea, reference.ode().steps());
      EXPECT_LE(es, 1e-10);
      EXPECT_LE(ea, 1e-10);
      if (t == 1.)
        {
          // The values printed in physics.md §5 (10 digits).
          EXPECT_NEAR(state.covariance(0, 0), 0.25, 1e-10);
          EXPECT_NEAR(state.mean[0], 0.2601300475, 1e-10);
        }
    }
}

TEST(GaussianReference, T2SoftmaxExpansion1d)
{
  GaussianReference    reference("softmax", parameters_1d(1., 1.), GaussianState{{0.}, Matrix(1, 1, 0.25)});
  const GaussianState &state = reference.advance_to(1.);
  const double         e     = relative_error(state.covariance(0, 0), 0.5);
  std::printf("  T2 t = 1: s = %.15g (rel. err %.2e), alpha = %g\n", state.covariance(0, 0), e, state.mean[0]);
  EXPECT_LE(e, 1e-10);
  EXPECT_EQ(state.mean[0], 0.);
}

TEST(GaussianReference, T6Isotropization2d)
{
  // V = -I, A = beta K^T Q = 0.5 I.
  const auto          p      = parameters(2, 1., "1, 0; 0, 1", "0.5, 0; 0, 0.5", "-1, 0; 0, -1");
  const Matrix        Sigma0 = Matrix::parse("1, 0.3; 0.3, 0.25");
  const std::vector<double> alpha0 = {1., -0.5};
  GaussianReference   reference("softmax", p, GaussianState{alpha0, Sigma0});
  const Matrix        I = Matrix::identity(2);
  for (double t : {1., 4.})
    {
      const GaussianState &state = reference.advance_to(t);
      // Sigma = Sigma0 (I + t Sigma0)^{-1}; everything commutes with Sigma0, so
      // alpha' = -(I + Sigma/2) alpha gives alpha = e^{-t} (I + t Sigma0)^{-1/2} alpha0.
      const Matrix              Sigma = Sigma0 * tpde::inverse(I + t * Sigma0);
      const std::vector<double> alpha = std::exp(-t) * inverse_sqrt_2x2(I + t * Sigma0) * alpha0;
      const double              es    = relative_error(state.covariance, Sigma);
      const double              ea    = relative_error(state.mean, alpha);
      const auto                ev    = tpde::symmetric_eigenvalues(state.covariance);
      std::printf("  T6 t = %g: Sigma rel. err %.2e, alpha = (%.12f, %.12f) rel. err %.2e, anisotropy %.4f\n",
                  t, es, state.mean[0], state.mean[1], ea, ev[1] / ev[0]);
      EXPECT_LE(es, 1e-10);
      EXPECT_LE(ea, 1e-10);
      EXPECT_EQ(state.covariance(0, 1), state.covariance(1, 0));
      if (t == 1.)
        {
          EXPECT_NEAR(state.mean[0], 0.2775381096, 1e-9);
          EXPECT_NEAR(state.mean[1], -0.1951712633, 1e-9);
          EXPECT_NEAR(state.covariance(0, 0), 0.4813278008, 1e-9);
          EXPECT_NEAR(state.covariance(0, 1), 0.1244813278, 1e-9);
          EXPECT_NEAR(state.covariance(1, 1), 0.1701244813, 1e-9);
          EXPECT_NEAR(ev[1] / ev[0], 4.15, 0.005); // physics.md: 7.63 -> 4.15 -> 2.22
        }
      else
        EXPECT_NEAR(ev[1] / ev[0], 2.22, 0.005);
    }
}

TEST(GaussianReference, T8CollapseOntoALine2d)
{
  const auto          p      = parameters(2, 1., "0.6, 0.8", "-0.6, -0.8", "1, 0; 0, 1");
  const Matrix        Sigma0 = Matrix::parse("0.5, 0.1; 0.1, 0.4");
  GaussianReference   reference("softmax", p, GaussianState{{0., 0.}, Sigma0});
  const double        t     = 10.;
  const GaussianState state = reference.advance_to(t);
  const std::vector<double> q = {0.6, 0.8};
  const Matrix Sigma = tpde::inverse(tpde::inverse(Sigma0) + 2. * t * outer(q, q));
  const auto   ev    = tpde::symmetric_eigenvalues(state.covariance);
  const double es    = relative_error(state.covariance, Sigma);
  const auto   exact_ev = tpde::symmetric_eigenvalues(Sigma);
  const double e0 = relative_error(ev[0], exact_ev[0]), e1 = relative_error(ev[1], exact_ev[1]);
  std::printf("  T8 t = 10: Sigma rel. err %.2e, eigenvalues %.12f (rel. err %.2e, physics.md %+.1e), "
              "%.12f (rel. err %.2e, physics.md %+.1e)\n",
              es, ev[0], e0, ev[0] - 0.0455680528, ev[1], e1, ev[1] - 0.3582120159);
  EXPECT_LE(es, 1e-10);
  // physics.md gives 10 decimals: compare to half a unit in the last one (relative to each eigenvalue).
  EXPECT_NEAR(ev[0], 0.0455680528, 6e-11);
  EXPECT_NEAR(ev[1], 0.3582120159, 6e-11);
  EXPECT_LE(e0, 1e-10);
  EXPECT_LE(e1, 1e-10);
  EXPECT_EQ(state.mean[0], 0.);
  EXPECT_EQ(state.mean[1], 0.);
}

TEST(GaussianReference, ScalarValueMatrixRandomInteraction3d)
{
  // V = v I: Sigma' = v Sigma S Sigma, so Sigma(t) = (Sigma0^{-1} - v t S)^{-1}, S = A + A^T.
  std::mt19937 rng(20250131);
  for (double v : {-0.8, 0.6})
    {
      tpde::attention::Parameters p;
      p.dim        = 3;
      p.beta       = 0.7;
      const std::size_t k = v < 0. ? 3 : 2; // k = 2 < d: rank-deficient A
      p.Q                 = random_matrix(rng, k, 3);
      p.K                 = random_matrix(rng, k, 3);
      p.V          = v * Matrix::identity(3);
      const Matrix B      = random_matrix(rng, 3, 3);
      const Matrix Sigma0 = B * transpose(B) + 0.3 * Matrix::identity(3);
      const Matrix A      = p.beta * (transpose(p.K) * p.Q);
      const Matrix S      = A + transpose(A);
      const Matrix P0     = tpde::inverse(Sigma0);
      auto closed_form = [&](double t) { return tpde::inverse(P0 - (v * t) * S); };

      // Blow-up time: first t where P0 - v t S stops being positive definite.
      double lo = 0., hi = 100.;
      if (tpde::is_symmetric_positive_definite(P0 - (v * hi) * S))
        lo = hi;
      else
        for (int i = 0; i < 60; ++i)
          {
            const double mid = 0.5 * (lo + hi);
            (tpde::is_symmetric_positive_definite(P0 - (v * mid) * S) ? lo : hi) = mid;
          }
      const double T = std::min(3., 0.5 * lo);

      std::vector<double> mean = {0.3, -0.2, 0.5};
      GaussianReference   reference("softmax", p, GaussianState{mean, Sigma0});
      const GaussianState &state = reference.advance_to(T);
      const double         e     = relative_error(state.covariance, closed_form(T));
      std::printf("  3-D V = %+.1f I: blow-up at t* = %.4f, Sigma(%.4f) rel. err %.2e\n", v, lo, T, e);
      EXPECT_LE(e, 1e-10);
      EXPECT_TRUE(tpde::is_symmetric_positive_definite(state.covariance));
    }
}

TEST(GaussianReference, T2BlowUpPastTStarThrows)
{
  // s = 0.25 / (1 - t/2): T* = 2.
  GaussianReference reference("softmax", parameters_1d(1., 1.), GaussianState{{0.}, Matrix(1, 1, 0.25)});
  reference.advance_to(1.9);
  EXPECT_LE(relative_error(reference.state().covariance(0, 0), 0.25 / (1. - 0.95)), 1e-10);
  try
    {
      reference.advance_to(2.5);
      FAIL() << "no exception past the blow-up time T* = 2";
    }
  catch (const std::runtime_error &e)
    {
      std::printf("  message: %s\n", e.what());
      EXPECT_NE(std::string(e.what()).find("blows up"), std::string::npos) << e.what();
      EXPECT_LT(reference.time(), 2.);
      EXPECT_GT(reference.time(), 2. - 1e-6);
      EXPECT_GT(reference.state().covariance(0, 0), 1e5);
    }
}

TEST(GaussianReference, BlowUpTimeOfIsotropicExpansion2d)
{
  // V = +I, A = 0.5 I: t* = 1 / (2 beta lambda_max(Sigma0)) with beta = 0.5 -> 1/lambda_max.
  const auto   p      = parameters(2, 1., "1, 0; 0, 1", "0.5, 0; 0, 0.5", "1, 0; 0, 1");
  const Matrix Sigma0 = Matrix::parse("1, 0.3; 0.3, 0.25");
  const double t_star = 1. / tpde::symmetric_eigenvalues(Sigma0)[1];
  GaussianReference reference("softmax", p, GaussianState{{1., -0.5}, Sigma0});
  EXPECT_THROW(reference.advance_to(2. * t_star), std::runtime_error);
  std::printf("  t* = %.12f, stopped at %.12f\n", t_star, reference.time());
  EXPECT_NEAR(reference.time(), t_star, 1e-6);
}

TEST(GaussianReference, SoftmaxMomentDerivativeMatchesQuadratureOfTheField)
{
  // Independent check of the ODE of physics.md §2.2: for the continuity
  // equation, alpha' = E[X(x)] and Sigma' = E[(x - alpha) X^T] + E[X (x - alpha)^T],
  // with X the softmax field evaluated by quadrature (no tilted-Gaussian identity).
  std::mt19937 rng(7);
  tpde::attention::Parameters p;
  p.dim  = 2;
  p.beta = 0.5;
  p.Q    = random_matrix(rng, 2, 2);
  p.K    = random_matrix(rng, 2, 2);
  p.V    = random_matrix(rng, 2, 2);
  const GaussianState state = gaussian({0.4, -0.3}, "0.5, 0.15; 0.15, 0.3");
  const GaussianState exact = tpde::reference::make_moment_derivative("softmax", p)(state);

  // Tensor trapezoidal rule (spectrally accurate for Gaussians) on +-L.
  const int           n = 81;
  const double        L = 7.5, h = 2. * L / (n - 1);
  std::vector<double> x(2 * n * n), w(n * n);
  GaussianDensity     density(state);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      {
        const int k  = i * n + j;
        x[2 * k]     = -L + h * i;
        x[2 * k + 1] = -L + h * j;
        w[k]         = density.evaluate(&x[2 * k]) * h * h;
      }
  const Matrix A = p.beta * (transpose(p.K) * p.Q);
  std::vector<double> dmean(2, 0.);
  Matrix              dcov(2, 2);
  for (int k = 0; k < n * n; ++k)
    {
      if (w[k] < 1e-30)
        continue;
      // X(x) = V sum_j w_j e^{y_j . A x} y_j / sum_j w_j e^{y_j . A x}, log-sum-exp.
      const double ax[2] = {A(0, 0) * x[2 * k] + A(0, 1) * x[2 * k + 1],
                            A(1, 0) * x[2 * k] + A(1, 1) * x[2 * k + 1]};
      double       shift = -1e300;
      for (int l = 0; l < n * n; ++l)
        if (w[l] > 0.)
          shift = std::max(shift, x[2 * l] * ax[0] + x[2 * l + 1] * ax[1]);
      double num[2] = {0., 0.}, den = 0.;
      for (int l = 0; l < n * n; ++l)
        {
          const double e = w[l] * std::exp(x[2 * l] * ax[0] + x[2 * l + 1] * ax[1] - shift);
          num[0] += e * x[2 * l];
          num[1] += e * x[2 * l + 1];
          den += e;
        }
      const double X[2] = {p.V(0, 0) * num[0] / den + p.V(0, 1) * num[1] / den,
                           p.V(1, 0) * num[0] / den + p.V(1, 1) * num[1] / den};
      const double r[2] = {x[2 * k] - state.mean[0], x[2 * k + 1] - state.mean[1]};
      for (int a = 0; a < 2; ++a)
        {
          dmean[a] += w[k] * X[a];
          for (int b = 0; b < 2; ++b)
            dcov(a, b) += w[k] * (r[a] * X[b] + X[a] * r[b]);
        }
    }
  const double em = relative_error(dmean, exact.mean), ec = relative_error(dcov, exact.covariance);
  std::printf("  quadrature vs ODE right-hand side: alpha' rel. err %.2e, Sigma' rel. err %.2e\n", em, ec);
  EXPECT_LE(em, 1e-9);
  EXPECT_LE(ec, 1e-9);
}

// ============================================================================
// Gaussian density
// ============================================================================

TEST(GaussianDensity, MatchesTheOneDimensionalFormula)
{
  const double        m = 0.7, s = 0.3;
  const GaussianState state{{m}, Matrix(1, 1, s)};
  GaussianDensity     density(state);
  for (double x : {-2., 0., 0.7, 1.1, 4.})
    {
      const double exact = std::exp(-(x - m) * (x - m) / (2. * s)) / std::sqrt(2. * M_PI * s);
      EXPECT_LE(relative_error(density.evaluate(&x), exact), 1e-14) << "x = " << x;
      EXPECT_LE(relative_error(tpde::reference::gaussian_density(state, &x), exact), 1e-14);
    }
  const double far = 60.;
  EXPECT_NEAR(density.log_evaluate(&far), -(far - m) * (far - m) / (2. * s) - 0.5 * std::log(2. * M_PI * s), 1e-9);
}

TEST(GaussianDensity, IntegratesToOneWithTheRightMoments)
{
  for (unsigned int d : {2u, 3u})
    {
      const GaussianState state = d == 2 ? gaussian({0.2775, -0.1952}, "0.4813, 0.1245; 0.1245, 0.1701") :
                                           gaussian({0.5, -1., 0.25}, "0.5, 0.1, -0.2; 0.1, 0.4, 0.05; -0.2, 0.05, 0.3");
      GaussianDensity density(state);
      const int       n = d == 2 ? 201 : 81;
      const double    L = 10. * std::sqrt(tpde::symmetric_eigenvalues(state.covariance).back());
      const double    h = 2. * L / (n - 1);
      double          mass = 0.;
      std::vector<double> mean(d, 0.);
      Matrix              second(d, d);
      const int           total = d == 2 ? n * n : n * n * n;
      for (int k = 0; k < total; ++k)
        {
          double x[3];
          int    rest = k;
          for (unsigned int a = 0; a < d; ++a, rest /= n)
            x[a] = state.mean[a] - L + h * (rest % n);
          const double w = density.evaluate(x) * std::pow(h, d);
          mass += w;
          for (unsigned int a = 0; a < d; ++a)
            {
              mean[a] += w * x[a];
              for (unsigned int b = 0; b < d; ++b)
                second(a, b) += w * (x[a] - state.mean[a]) * (x[b] - state.mean[b]);
            }
        }
      const double em = relative_error(mean, state.mean), ec = relative_error(second, state.covariance);
      std::printf("  %u-D: mass - 1 = %.2e, mean rel. err %.2e, covariance rel. err %.2e\n", d, mass - 1., em, ec);
      EXPECT_NEAR(mass, 1., 1e-12);
      EXPECT_LE(em, 1e-12);
      EXPECT_LE(ec, 1e-12);
    }
  EXPECT_THROW(GaussianDensity(gaussian({0, 0}, "1, 2; 2, 1")), std::invalid_argument);
  EXPECT_THROW(GaussianDensity(gaussian({0, 0, 0, 0}, "1,0,0,0;0,1,0,0;0,0,1,0;0,0,0,1")), std::invalid_argument);
}
