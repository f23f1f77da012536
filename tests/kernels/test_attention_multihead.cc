// Multi-head attention (physics.md §1.3, §2.3): the kernel against a
// long-double brute force, its reduction to softmax, the exact affine field
// of a Gaussian under Gauss-Hermite quadrature, shape errors, and the
// multi-head Gaussian reference against closed forms.
#include "attention/attention.h"
#include "reference/gaussian_reference.h"
#include "support/gauss_hermite.h"
#include "support/kernel_problem.h"
#include "support/random_attention.h"

#include <gtest/gtest.h>

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
  using Head = attention::Parameters::Head;

  using tpde::testing::random_matrix;

  /// H heads with k_h = 1 + (h mod 3) rows, standard normal Q_h, K_h, C_h.
  Parameters random_heads(unsigned int dim, std::size_t n_heads, std::mt19937_64 &random)
  {
    Parameters p;
    p.dim = dim;
    for (std::size_t h = 0; h < n_heads; ++h)
      {
        const std::size_t k = 1 + h % 3;
        p.heads.push_back(Head{1., random_matrix(k, dim, random), random_matrix(k, dim, random),
                               random_matrix(dim, dim, random)});
      }
    return p;
  }

  /// beta_h <Q_h x, K_h y> in long double.
  long double score(const Head &head, const double *x, const double *y, unsigned int dim)
  {
    long double sum = 0;
    for (std::size_t r = 0; r < head.Q.rows; ++r)
      {
        long double query = 0, key = 0;
        for (unsigned int i = 0; i < dim; ++i)
          {
            query += static_cast<long double>(head.Q(r, i)) * x[i];
            key += static_cast<long double>(head.K(r, i)) * y[i];
          }
        sum += query * key;
      }
    return head.beta * sum;
  }

  /// sum_h C_h (softmax mean of head h), by the definition in long double.
  std::vector<long double> brute_force(const Parameters          &p,
                                       const std::vector<double> &targets,
                                       const std::vector<double> &sources,
                                       const std::vector<double> &weights)
  {
    const unsigned int       dim = p.dim;
    const std::size_t        n   = weights.size();
    std::vector<long double> velocities(targets.size(), 0.L);
    for (std::size_t t = 0; t < targets.size() / dim; ++t)
      for (const Head &head : p.heads)
        {
          std::vector<long double> exponent(n);
          long double              shift = -std::numeric_limits<long double>::infinity();
          for (std::size_t j = 0; j < n; ++j)
            if (weights[j] > 0)
              {
                exponent[j] = score(head, &targets[t * dim], &sources[j * dim], dim) +
                              std::log(static_cast<long double>(weights[j]));
                shift = std::max(shift, exponent[j]);
              }
          long double              denominator = 0;
          std::vector<long double> numerator(dim, 0.L);
          for (std::size_t j = 0; j < n; ++j)
            if (weights[j] > 0)
              {
                const long double e = std::exp(exponent[j] - shift);
                denominator += e;
                for (unsigned int i = 0; i < dim; ++i)
                  numerator[i] += e * sources[j * dim + i];
              }
          for (unsigned int r = 0; r < dim; ++r)
            for (unsigned int i = 0; i < dim; ++i)
              velocities[t * dim + r] += head.C(r, i) * numerator[i] / denominator;
        }
    return velocities;
  }

  std::vector<double> evaluate(const std::string         &variant,
                               const Parameters          &p,
                               const std::vector<double> &targets,
                               const std::vector<double> &sources,
                               const std::vector<double> &weights)
  {
    return tpde::testing::kernel_velocities(*attention::create(variant, p), targets, sources, weights);
  }

  using tpde::testing::creation_error;
  using tpde::testing::relative_error;

} // namespace

// Every dim, 1..3 heads of different k, sizes across vector widths and
// summation chunks, weights over 26 decades (some zero), scores up to ~200.
TEST(Multihead, MatchesLongDoubleBruteForce)
{
  std::mt19937_64                        random(2024);
  std::uniform_real_distribution<double> unit(-1., 1.);
  double                                 worst = 0;
  for (unsigned int dim = 1; dim <= 3; ++dim)
    for (std::size_t n_heads = 1; n_heads <= 3; ++n_heads)
      for (const std::size_t n_sources : {1, 9, 300, 1100})
        {
          Parameters p = random_heads(dim, n_heads, random);
          for (Head &head : p.heads)
            head.beta = 20. * (1.5 + unit(random)); // scores up to ~ 20 * 2.5 * |Q||K|
          std::vector<double> targets(37 * dim), sources(n_sources * dim), weights(n_sources);
          for (double &x : targets)
            x = 1.5 * unit(random);
          for (double &y : sources)
            y = unit(random) + 0.5;
          for (double &w : weights)
            w = std::exp(30. * (unit(random) - 1.));
          if (n_sources > 1)
            weights[n_sources / 2] = 0.;
          const double error = relative_error(evaluate("multihead", p, targets, sources, weights),
                                              brute_force(p, targets, sources, weights));
          EXPECT_LE(error, 1e-13) << "dim " << dim << ", " << n_heads << " heads, " << n_sources
                                  << " sources";
          worst = std::max(worst, error);
        }
  std::printf("multihead: worst relative error vs long double %.3g\n", worst);
}

TEST(Multihead, ReducesToSoftmax)
{
  std::mt19937_64     random(7);
  Parameters          p = random_heads(2, 1, random);
  std::vector<double> targets(2 * 50), sources(2 * 400), weights(400);
  std::uniform_real_distribution<double> unit(-1., 1.);
  for (double &x : targets)
    x = 2. * unit(random);
  for (double &y : sources)
    y = unit(random);
  for (double &w : weights)
    w = 1. + unit(random);
  Parameters softmax = p;
  softmax.beta       = p.heads[0].beta;
  softmax.Q          = p.heads[0].Q;
  softmax.K          = p.heads[0].K;
  softmax.V          = p.heads[0].C;
  const auto single  = evaluate("softmax", softmax, targets, sources, weights);
  // One head is the softmax kernel with V = C, bit for bit.
  EXPECT_EQ(evaluate("multihead", p, targets, sources, weights), single);
  // Two heads with the same Q, K, beta and C_1 + C_2 = V.
  Head second = p.heads[0];
  second.C    = random_matrix(2, 2, random);
  p.heads[0].C = softmax.V - second.C;
  p.heads.push_back(second);
  EXPECT_LE(relative_error(evaluate("multihead", p, targets, sources, weights), single), 1e-14);
}

// mu = N(alpha, Sigma) replaced by a 40 x 40 tensor Gauss-Hermite rule: the
// field is X(x) = sum_h C_h (alpha + Sigma A_h x), A_h = beta_h K_h^T Q_h.
TEST(Multihead, GaussHermiteQuadratureGivesTheAffineField)
{
  const unsigned int        n     = 40;
  const std::vector<double> alpha = {0.4, -0.3};
  Matrix                    Sigma(2, 2);
  Sigma.data = {0.8, 0.25, 0.25, 0.5};
  std::vector<double> sources, weights;
  tpde::testing::gauss_hermite_measure(alpha, Sigma, n, sources, weights);
  std::mt19937_64 random(11);
  Parameters      p = random_heads(2, 2, random);
  p.heads[0].beta   = 0.5;
  p.heads[1].beta   = 0.3;
  std::vector<double> targets, exact;
  for (int i = -6; i <= 6; ++i)
    for (int j = -6; j <= 6; ++j)
      {
        const std::vector<double> x = {alpha[0] + 0.4 * i, alpha[1] + 0.3 * j};
        targets.insert(targets.end(), x.begin(), x.end());
        std::vector<double> v(2, 0.);
        for (const Head &head : p.heads)
          {
            const Matrix        A       = head.beta * (transpose(head.K) * head.Q);
            std::vector<double> tilted  = Sigma * (A * x);
            for (unsigned int c = 0; c < 2; ++c)
              tilted[c] += alpha[c];
            const std::vector<double> mapped = head.C * tilted;
            for (unsigned int c = 0; c < 2; ++c)
              v[c] += mapped[c];
          }
        exact.insert(exact.end(), v.begin(), v.end());
      }
  const double error = relative_error(evaluate("multihead", p, targets, sources, weights), exact);
  std::printf("multihead on Gauss-Hermite: max |X_h - X| / max |X| = %.3g\n", error);
  EXPECT_LE(error, 1e-13);
}

TEST(Multihead, BadHeadsThrowNamingTheEntry)
{
  std::mt19937_64 random(3);
  const Parameters good = random_heads(2, 2, random);
  EXPECT_EQ(creation_error("multihead", good), "(no exception)");
  Parameters p = good;
  p.heads.clear();
  EXPECT_EQ(creation_error("multihead", p), "entry 'heads': multihead attention needs at least one head");
  p              = good;
  p.heads[1].K   = Matrix(1, 2, 1.);
  EXPECT_EQ(creation_error("multihead", p),
            "entry 'head K': head 2 must have the shape of its Q (2 x 2), got 1 x 2");
  p              = good;
  p.heads[0].Q   = Matrix(1, 3, 1.);
  EXPECT_EQ(creation_error("multihead", p),
            "entry 'head Q': head 1 must be k x 2 (k >= 1 rows of 2 entries), got 1 x 3");
  p              = good;
  p.heads[1].C   = Matrix(2, 1, 1.);
  EXPECT_EQ(creation_error("multihead", p), "entry 'head C': head 2 must be 2 x 2, got 2 x 1");
  p              = good;
  p.heads[0].beta = std::numeric_limits<double>::infinity();
  EXPECT_EQ(creation_error("multihead", p), "entry 'head beta': head 1 must be finite");
  p                 = good;
  p.heads[1].C(0, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(creation_error("multihead", p).rfind("head 2: V must have finite entries", 0), 0u)
    << creation_error("multihead", p);
}

// With every C_h = v I the reference reduces to physics.md §2.2:
// Sigma(t) = (Sigma_0^{-1} - v t S)^{-1}, S = sum_h (A_h + A_h^T).
TEST(MultiheadGaussianReference, CommonScalarOutputGivesTheClosedForm)
{
  std::mt19937_64 random(5);
  for (unsigned int dim = 1; dim <= 3; ++dim)
    {
      Parameters   p = random_heads(dim, 3, random);
      const double v = -0.7;
      Matrix       S(dim, dim);
      for (Head &head : p.heads)
        {
          head.beta      = 0.4;
          head.C         = v * Matrix::identity(dim);
          const Matrix A = head.beta * (transpose(head.K) * head.Q);
          S              = S + A + transpose(A);
        }
      // A fourth head A = (shift / 2) I makes S positive definite, so vS is
      // negative definite (collapse, no blow-up).
      const double shift = std::max(0., -symmetric_eigenvalues(S).front()) + 1.;
      p.heads.push_back(Head{1., std::sqrt(shift / 2.) * Matrix::identity(dim),
                             std::sqrt(shift / 2.) * Matrix::identity(dim),
                             v * Matrix::identity(dim)});
      S = S + shift * Matrix::identity(dim);
      reference::GaussianState initial;
      initial.mean       = std::vector<double>(dim, 0.3);
      initial.covariance = Matrix::identity(dim) + 0.2 * Matrix(dim, dim, 1.);
      reference::GaussianReference ode("multihead", p, initial);
      const double                 t     = 0.9;
      const Matrix                 exact = inverse(inverse(initial.covariance) - (v * t) * S);
      const Matrix                 error = ode.advance_to(t).covariance - exact;
      EXPECT_LE(max_abs(error) / max_abs(exact), 1e-12) << "dim " << dim;
    }
}

// Heads that share Q, K and beta with C_1 + C_2 = V are softmax attention.
TEST(MultiheadGaussianReference, SharedQueryAndKeyGiveTheSoftmaxReference)
{
  std::mt19937_64 random(8);
  Parameters      p   = random_heads(2, 1, random);
  p.heads[0].beta     = 0.3;
  Head second         = p.heads[0];
  second.C            = random_matrix(2, 2, random);
  Parameters softmax  = p;
  softmax.beta        = 0.3;
  softmax.Q           = p.heads[0].Q;
  softmax.K           = p.heads[0].K;
  softmax.V           = p.heads[0].C + second.C;
  p.heads.push_back(second);
  reference::GaussianState initial{{0.5, -0.2}, Matrix(2, 2)};
  initial.covariance.data = {0.6, 0.1, 0.1, 0.3};
  reference::GaussianReference multihead("multihead", p, initial);
  reference::GaussianReference single("softmax", softmax, initial);
  const auto &a = multihead.advance_to(0.5), &b = single.advance_to(0.5);
  EXPECT_LE(max_abs(a.covariance - b.covariance) / max_abs(b.covariance), 1e-12);
  for (unsigned int i = 0; i < 2; ++i)
    EXPECT_NEAR(a.mean[i], b.mean[i], 1e-12 * std::abs(b.mean[i]) + 1e-15);
  EXPECT_TRUE(reference::has_gaussian_reference("multihead"));
}
