// The zonal fast path on S^2 (sphere/sphere_harmonics.h): the scaled
// spherical Bessel values against std::cyl_bessel_i and against quadrature of
// the Funk-Hecke integral i_l(r) = 1/2 int_{-1}^{1} e^{r t} P_l(t) dt, the
// degrees, the zonal test, the harmonic sums against long double direct sums
// (within their error bound), and the surface kernel with harmonics against
// the direct one (SA and USA, r = 1, 5, 9, a rotation O, a general V, random
// and clustered points), its per-target fallback and the refusal of non-zonal A;
// the cluster count on S^2 (sphere/surface_clusters.h) and the energy sums.
#include "attention/attention.h"
#include "sphere/sphere_harmonics.h"
#include "sphere/surface_clusters.h"
#include "sphere/surface_diagnostics.h"
#include "support/sphere_points.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace tpde;
using namespace tpde::sphere;

namespace
{
  /// Gauss-Legendre nodes and weights on [-1, 1] by Newton's method.
  void gauss_legendre(unsigned int n, std::vector<double> &t, std::vector<double> &w)
  {
    t.resize(n);
    w.resize(n);
    for (unsigned int i = 0; i < n; ++i)
      {
        double x = std::cos(M_PI * (i + 0.75) / (n + 0.5)), derivative = 1;
        for (int iteration = 0; iteration < 100; ++iteration)
          {
            double p0 = 1, p1 = x;
            for (unsigned int k = 2; k <= n; ++k)
              {
                const double p2 = ((2. * k - 1) * x * p1 - (k - 1.) * p0) / k;
                p0              = p1;
                p1              = p2;
              }
            derivative     = n * (x * p1 - p0) / (x * x - 1);
            const double d = p1 / derivative;
            x -= d;
            if (std::abs(d) < 1e-16)
              break;
          }
        t[i] = x;
        w[i] = 2 / ((1 - x * x) * derivative * derivative);
      }
  }

  /// A rotation (about the axis (1, 2, 2) / 3 by 0.7) times 1.3: beta Q^T K = r O.
  attention::Parameters zonal_parameters(double r)
  {
    attention::Parameters p;
    p.dim            = 3;
    const double c   = std::cos(0.7), s = std::sin(0.7), u[3] = {1. / 3, 2. / 3, 2. / 3};
    Matrix       Q   = Matrix::identity(3);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        Q(i, j) = c * (i == j) + (1 - c) * u[i] * u[j] +
                  s * (i == j ? 0. : ((i + 1) % 3 == j ? -u[3 - i - j] : u[3 - i - j]));
    p.Q    = Q;
    p.K    = Matrix::parse("1.3, 0, 0; 0, 1.3, 0; 0, 0, 1.3");
    p.beta = r / 1.3;
    p.V    = Matrix::parse("0.7, -1.3, 0.2; 0.4, 0.9, -0.5; 0.1, 0.3, 1.1");
    return p;
  }

  std::vector<double> weights(std::size_t n, std::mt19937_64 &random)
  {
    std::uniform_real_distribution<double> unit(0, 1);
    std::vector<double>                    w(n);
    for (double &v : w)
      v = (0.1 + unit(random)) / n;
    return w;
  }
} // namespace

TEST(SphereHarmonics, ScaledBesselMatchesTheStandardLibraryAndTheFunkHeckeIntegral)
{
  std::vector<double> t, gw;
  gauss_legendre(200, t, gw);
  for (const double r : {1e-12, 1e-3, 0.5, 1., 5., 9., 50., 180.})
    {
      const unsigned int        n = 60;
      const std::vector<double> b = scaled_spherical_bessel_i(r, n);
      const std::vector<double> all = scaled_spherical_bessel_i(r, n + 100);
      double                    total = 0;
      for (unsigned int l = 0; l < all.size(); ++l)
        total += (2. * l + 1) * all[l];
      EXPECT_NEAR(total, 1., 1e-14) << "r " << r;
      for (unsigned int l = 0; l <= n; ++l)
        {
          const double expected = std::sqrt(M_PI / (2 * r)) * std::cyl_bessel_i(l + 0.5, r) * std::exp(-r);
          if (expected > 1e-290 && r >= 1e-3)
            EXPECT_NEAR(b[l], expected, 1e-12 * expected) << "r " << r << ", l " << l;
          // Funk-Hecke: e^{-r} i_l(r) = 1/2 int e^{r (t - 1)} P_l(t) dt; the
          // integrand is below 1, so the quadrature is accurate to ~1e-16 absolute.
          double integral = 0;
          for (std::size_t k = 0; k < t.size(); ++k)
            {
              double p0 = 1, p1 = t[k];
              for (unsigned int j = 2; j <= l; ++j)
                {
                  const double p2 = ((2. * j - 1) * t[k] * p1 - (j - 1.) * p0) / j;
                  p0              = p1;
                  p1              = p2;
                }
              integral += 0.5 * gw[k] * std::exp(r * (t[k] - 1)) * (l == 0 ? 1. : p1);
            }
          EXPECT_NEAR(b[l], integral, 2e-15 + 1e-13 * b[l]) << "r " << r << ", l " << l;
        }
    }
}

TEST(SphereHarmonics, DegreeResolvesTheKernelToTheTolerance)
{
  for (const double r : {0.5, 1., 5., 9., 30., 100.})
    for (const double tolerance : {1e-6, 1e-10, 1e-13})
      {
        const unsigned int L       = harmonic_degree(r, tolerance);
        const double       allowed = std::max(tolerance * std::exp(-2 * r), std::ldexp(1., -55));
        EXPECT_LE(harmonic_tail(r, L), allowed) << "r " << r;
        EXPECT_GT(harmonic_tail(r, L - 1), allowed) << "r " << r << ": L is the smallest";
        // The kernel e^{r (t - 1)} at t = cos(angle) from the truncated series.
        const std::vector<double> b = scaled_spherical_bessel_i(r, L);
        for (const double angle : {0., 0.3, 1.5, 3.})
          {
            double p0 = 1, p1 = std::cos(angle), sum = b[0] + (L >= 1 ? 3 * b[1] * p1 : 0.);
            for (unsigned int l = 2; l <= L; ++l)
              {
                const double p2 = ((2. * l - 1) * std::cos(angle) * p1 - (l - 1.) * p0) / l;
                p0              = p1;
                p1              = p2;
                sum += (2. * l + 1) * b[l] * p1;
              }
            EXPECT_NEAR(sum, std::exp(r * (std::cos(angle) - 1)), allowed + 4e-15) << "r " << r;
          }
      }
  EXPECT_EQ(harmonic_degree(0., 1e-10), 0u);
  EXPECT_GT(harmonic_degree(1e4, 1e-10), max_harmonic_degree);
}

TEST(SphereHarmonics, ZonalScore)
{
  const attention::Parameters p     = zonal_parameters(5.);
  const auto                  score = sphere_zonal_score(p.beta, p.Q, p.K);
  ASSERT_TRUE(score);
  EXPECT_NEAR(score->radius, 5., 1e-14);
  // <x, A y> = radius <R x, y> for A = beta Q^T K.
  const double x[3] = {0.2, -0.5, 0.7}, y[3] = {-0.3, 0.1, 0.9};
  double       direct = 0, rotated = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      {
        double a = 0;
        for (int k = 0; k < 3; ++k)
          a += p.Q(k, i) * p.K(k, j);
        direct += x[i] * p.beta * a * y[j];
        rotated += score->radius * score->rotation[3 * j + i] * x[i] * y[j];
      }
  EXPECT_NEAR(direct, rotated, 1e-14);
  EXPECT_FALSE(sphere_zonal_score(1., Matrix::parse("1, 0, 0; 0, 1, 0; 0, 0, 1.001"), Matrix::identity(3)));
  EXPECT_FALSE(sphere_zonal_score(1., Matrix::parse("1, 0.1, 0; 0, 1, 0; 0, 0, 1"), Matrix::identity(3)));
  const auto zero = sphere_zonal_score(0., Matrix::identity(3), Matrix::identity(3));
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->radius, 0.);
}

TEST(SphereHarmonics, SumsMatchLongDoubleDirectSums)
{
  std::mt19937_64 random(7);
  for (const bool clustered : {false, true})
    for (const double r : {0., 1., 5., 9., 40.})
      {
        const std::size_t   n = 700, m = 300;
        const auto          y = clustered ? tpde::testing::clustered_sphere(n, random) : tpde::testing::fibonacci_sphere(n);
        const auto          w = weights(n, random);
        const auto          x = tpde::testing::clustered_sphere(m, random);
        const HarmonicSums  sums(r, 1e-10, n, y.data(), w.data());
        std::vector<double> D(m), N(3 * m);
        sums.evaluate(m, x.data(), D.data(), N.data());
        double worst = 0;
        for (std::size_t i = 0; i < m; ++i)
          {
            long double d = 0, mean[3] = {0, 0, 0};
            for (std::size_t j = 0; j < n; ++j)
              {
                const long double e = w[j] * std::exp(static_cast<long double>(r) *
                                                      (x[3 * i] * y[3 * j] + x[3 * i + 1] * y[3 * j + 1] +
                                                       x[3 * i + 2] * y[3 * j + 2] - 1));
                d += e;
                for (int c = 0; c < 3; ++c)
                  mean[c] += e * y[3 * j + c];
              }
            worst = std::max(worst, std::abs(D[i] - static_cast<double>(d)));
            for (int c = 0; c < 3; ++c)
              worst = std::max(worst, std::abs(N[3 * i + c] - static_cast<double>(mean[c])));
          }
        EXPECT_LE(worst, sums.error_bound()) << "r " << r << (clustered ? " clustered" : " uniform");
        // The bound is the truncation (chosen from the tolerance) plus a
        // rounding term not loose by orders of magnitude (it decides the fallback).
        double total_weight = 0;
        for (double v : w)
          total_weight += v;
        EXPECT_LE(sums.error_bound(), total_weight * harmonic_tail(r, sums.degree()) + 2e-14) << "r " << r;
        std::printf("r %g %s: degree %u, max error %.2e, bound %.2e\n", r, clustered ? "clustered" : "lattice",
                    sums.degree(), worst, sums.error_bound());
      }
}

TEST(SphereHarmonics, KernelMatchesDirectSums)
{
  std::mt19937_64 random(11);
  for (const std::string type : {"softmax", "unnormalized"})
    for (const bool clustered : {false, true})
      for (const double r : {1., 5., 9.})
        {
          attention::Parameters p = zonal_parameters(r);
          const std::size_t     n = 1500;
          const auto y = clustered ? tpde::testing::clustered_sphere(n, random) : tpde::testing::fibonacci_sphere(n);
          const auto w = weights(n, random);
          p.evaluation        = attention::Parameters::Evaluation::direct;
          const auto direct   = create_surface_kernel(type, p);
          p.evaluation        = attention::Parameters::Evaluation::fast;
          ASSERT_TRUE(uses_harmonic_sums(type, p));
          const auto          fast = create_surface_kernel(type, p);
          std::vector<double> a(3 * n), b(3 * n);
          direct->evaluate(n, y.data(), n, y.data(), w.data(), a.data());
          fast->evaluate(n, y.data(), n, y.data(), w.data(), b.data());
          double error = 0, scale = 0;
          for (std::size_t i = 0; i < 3 * n; ++i)
            {
              error = std::max(error, std::abs(a[i] - b[i]));
              scale = std::max(scale, std::abs(a[i]));
            }
          const auto diagnostics = fast->diagnostics();
          ASSERT_EQ(diagnostics.size(), 2u);
          EXPECT_EQ(diagnostics[0].first, "harmonic_degree");
          EXPECT_EQ(diagnostics[0].second, harmonic_degree(r, p.tolerance));
          EXPECT_LE(error, 3 * p.tolerance * scale) << type << " r " << r;
          std::printf("%s r %g %s: degree %g, fallback %.4f, max error / max |v| %.2e\n", type.c_str(), r,
                      clustered ? "clustered" : "lattice", diagnostics[0].second, diagnostics[1].second,
                      error / scale);
        }
}

TEST(SphereHarmonics, UnresolvedTargetsFallBackToDirectSums)
{
  // All mass in a tight cap at r = 40: D at the antipode is ~e^{-80} W
  // (scaled), far below the rounding of the harmonic sums.
  std::mt19937_64     random(3);
  const auto          y        = tpde::testing::von_mises_fisher_mixture(400, {0, 0, 1}, {200}, {1}, random);
  const auto          w        = weights(400, random);
  const auto          x        = tpde::testing::fibonacci_sphere(500);
  attention::Parameters p      = zonal_parameters(40.);
  p.evaluation                 = attention::Parameters::Evaluation::direct;
  const auto direct            = create_surface_kernel("softmax", p);
  p.evaluation                 = attention::Parameters::Evaluation::fast;
  const auto          fast     = create_surface_kernel("softmax", p);
  std::vector<double> a(1500), b(1500);
  direct->evaluate(500, x.data(), 400, y.data(), w.data(), a.data());
  fast->evaluate(500, x.data(), 400, y.data(), w.data(), b.data());
  const double fallback = fast->diagnostics()[1].second;
  EXPECT_GT(fallback, 0.1);
  EXPECT_LT(fallback, 0.9);
  for (std::size_t i = 0; i < 1500; ++i)
    EXPECT_NEAR(a[i], b[i], 1e-9 * (1 + std::abs(a[i]))) << i;
}

TEST(SphereHarmonics, OtherAttentionUsesTheAmbientKernel)
{
  attention::Parameters p = zonal_parameters(2.);
  p.evaluation            = attention::Parameters::Evaluation::fast;
  EXPECT_TRUE(uses_harmonic_sums("softmax", p));
  EXPECT_FALSE(uses_harmonic_sums("l2", p));
  p.Q = Matrix::parse("1, 0.2, 0; 0, 1, 0; 0, 0, 1");
  EXPECT_FALSE(uses_harmonic_sums("softmax", p));
  const auto ambient = create_surface_kernel("softmax", p)->diagnostics(); // no harmonic_* columns
  ASSERT_EQ(ambient.size(), 1u);
  EXPECT_EQ(ambient[0].first, "fast_share");
  p = zonal_parameters(2.);
  p.evaluation = attention::Parameters::Evaluation::direct;
  EXPECT_FALSE(uses_harmonic_sums("softmax", p));
  p = zonal_parameters(1e4);
  p.evaluation = attention::Parameters::Evaluation::fast;
  EXPECT_FALSE(uses_harmonic_sums("softmax", p)) << "degree above the cap";
}

TEST(SurfaceClusters, ThreeCapsOnTheLatticeAndFromPoints)
{
  // The exact density of three von Mises-Fisher caps sampled on the lattice,
  // and the estimate from points drawn from it; the uniform law gives 0.
  const std::vector<double> means = {0, 0, 1, 1, 0, 0, -0.5, -0.7, -0.5};
  const std::size_t         m     = 3000;
  const auto                p     = fibonacci_lattice(m);
  std::vector<double>       density(m, 0.), flat(m, 1.), spacing(m, std::sqrt(4 * M_PI / m));
  for (std::size_t a = 0; a < m; ++a)
    for (int c = 0; c < 3; ++c)
      {
        const double *mu = &means[3 * c];
        const double  n  = std::sqrt(mu[0] * mu[0] + mu[1] * mu[1] + mu[2] * mu[2]);
        density[a] += (0.4 - 0.1 * c) * std::exp(20 * ((p[3 * a] * mu[0] + p[3 * a + 1] * mu[1] + p[3 * a + 2] * mu[2]) / n - 1));
      }
  EXPECT_EQ(count_surface_clusters(m, p.data(), density.data(), spacing.data(), 0.25), 3u);
  EXPECT_EQ(count_surface_clusters(m, p.data(), density.data(), spacing.data(), 0.9), 1u) << "only the tallest";
  EXPECT_EQ(count_surface_clusters(m, p.data(), flat.data(), spacing.data(), 0.25), 0u);
  std::mt19937_64 random(5);
  std::vector<double> unit_means = means;
  for (int c = 0; c < 3; ++c)
    {
      double *mu = &unit_means[3 * c];
      const double n = std::sqrt(mu[0] * mu[0] + mu[1] * mu[1] + mu[2] * mu[2]);
      for (int k = 0; k < 3; ++k)
        mu[k] /= n;
    }
  const std::size_t n = 20000;
  const std::vector<double> w(n, 1. / n);
  const auto caps = tpde::testing::von_mises_fisher_mixture(n, unit_means, {20, 20, 20}, {0.4, 0.3, 0.3}, random);
  EXPECT_EQ(count_point_clusters(n, caps.data(), w.data(), 0.25), 3u);
  const auto uniform = tpde::testing::von_mises_fisher_mixture(n, {0, 0, 1}, {0}, {1}, random);
  EXPECT_EQ(count_point_clusters(n, uniform.data(), w.data(), 0.25), 0u);
}

TEST(SphereHarmonics, EnergySumsMatchDirectSums)
{
  // ambient_energy_sums on S^2 sums Z_i = sum_j w_j e^{beta <x_i, y_j>} by harmonics.
  std::mt19937_64 random(9);
  const std::size_t n = 600;
  const auto        y = tpde::testing::clustered_sphere(n, random);
  const auto        w = weights(n, random);
  std::vector<double> speed2(n);
  for (std::size_t i = 0; i < n; ++i)
    speed2[i] = 0.1 + 0.01 * double(i % 7);
  for (const double beta : {1., 5., 30.})
    {
      const auto  sums   = ambient_energy_sums(3, beta, n, y.data(), w.data(), speed2.data(), n, y.data(), w.data());
      long double energy = 0, rate = 0;
      for (std::size_t i = 0; i < n; ++i)
        {
          long double Z = 0;
          for (std::size_t j = 0; j < n; ++j)
            Z += w[j] * std::exp(static_cast<long double>(beta) *
                                 (y[3 * i] * y[3 * j] + y[3 * i + 1] * y[3 * j + 1] + y[3 * i + 2] * y[3 * j + 2]));
          energy += 0.5 * w[i] * Z / beta;
          rate += w[i] * speed2[i] * Z;
        }
      EXPECT_NEAR(sums.energy, static_cast<double>(energy), 1e-12 * static_cast<double>(energy)) << beta;
      EXPECT_NEAR(sums.rate_softmax, static_cast<double>(rate), 1e-12 * static_cast<double>(rate)) << beta;
    }
}
