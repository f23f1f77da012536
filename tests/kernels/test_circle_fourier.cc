// The zonal fast path on the circle (sphere/circle_fourier.h): the scaled
// Bessel values against std::cyl_bessel_i, the mode counts, the zonal test,
// the Fourier sums against long double direct sums, the Fourier kernel
// against the direct chart kernel (SA and USA, beta 0..50, A = a I + b J with
// a, b != 0, general V, non-uniform angles and weights), its per-target
// fallback, the refusal of non-zonal A, and the energy sums against direct.
#include "attention/attention.h"
#include "attention/layers.h"
#include "sphere/chart_kernel.h"
#include "sphere/circle_diagnostics.h"
#include "sphere/circle_fourier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

using namespace tpde;
using namespace tpde::sphere;

namespace
{
  /// Non-uniform angles: half in a narrow arc around 1, half spread unevenly.
  void random_angles(std::mt19937_64 &random, std::size_t n, std::vector<double> &theta, std::vector<double> &w)
  {
    std::uniform_real_distribution<double> unit(0, 1);
    theta.resize(n);
    w.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      {
        theta[i] = unit(random) < 0.5 ? 1 + 0.4 * unit(random) : 2 * M_PI * unit(random) * unit(random) - 2;
        w[i]     = (0.1 + unit(random)) / n;
      }
  }

  /// beta Q^T K = beta (rotation-scalings) = a I + b J with a, b != 0.
  attention::Parameters zonal_parameters(double beta)
  {
    attention::Parameters p;
    p.dim  = 2;
    p.beta = beta;
    p.Q    = Matrix::parse("0.8, -0.6; 0.6, 0.8");
    p.K    = Matrix::parse("1.1, 0.3; -0.3, 1.1");
    p.V    = Matrix::parse("0.7, -1.3; 0.4, 0.9");
    return p;
  }
} // namespace

TEST(CircleFourier, ScaledBesselMatchesTheStandardLibrary)
{
  for (const double r : {1e-12, 1e-3, 0.5, 1., 7.3, 50., 300., 700.})
    {
      const unsigned int        n = 120;
      const std::vector<double> b = scaled_bessel_i(r, n);
      const std::vector<double> all   = scaled_bessel_i(r, fourier_modes(r) + 50);
      double                    total = all[0];
      for (unsigned int k = 1; k < all.size(); ++k)
        total += 2 * all[k];
      EXPECT_NEAR(total, 1., 1e-14) << "r " << r << ": sum_k e^{-r} I_|k|(r) = 1";
      for (unsigned int k = 0; k <= n; ++k)
        {
          const double exact = std::cyl_bessel_i(double(k), r) * std::exp(-r);
          // libstdc++'s own relative error reaches ~1.5e-13 here (see the
          // 40-digit values below, which these values match to ~1e-16).
          if (std::isfinite(exact) && exact > 1e-280)
            EXPECT_NEAR(b[k] / exact, 1., 3e-13) << "r " << r << " k " << k;
        }
    }
  // e^{-r} I_k(r) to 40 digits (mpmath): where cyl_bessel_i is off by 1e-13.
  const double reference[4][3] = {{50, 60, 2.429143325138415740981013366994213e-16},
                                  {300, 60, 5.768647293407961729242460718362813e-05},
                                  {700, 30, 0.007926701554073009527467697061035220},
                                  {0.5, 104, 1.43243988342657996650734198135e-229}};
  for (const auto &[r, k, value] : reference)
    EXPECT_NEAR(scaled_bessel_i(r, unsigned(k))[unsigned(k)] / value, 1., 1e-15) << "r " << r << " k " << k;
  // Beyond the range of cyl_bessel_i: e^{-r} I_0(r) ~ (1 + 1/(8r) + 9/(128 r^2)) / sqrt(2 pi r).
  const double r = 1e5;
  EXPECT_NEAR(scaled_bessel_i(r, 0)[0] * std::sqrt(2 * M_PI * r), 1 + 1 / (8 * r) + 9 / (128 * r * r), 1e-13);
  EXPECT_EQ(scaled_bessel_i(0., 3), (std::vector<double>{1, 0, 0, 0}));
}

TEST(CircleFourier, ModesResolveTheKernelToRoundOff)
{
  EXPECT_EQ(fourier_modes(0.), 0u);
  unsigned int previous = 0;
  for (const double r : {1e-9, 0.3, 2., 9., 50., 1000., 1e5})
    {
      const unsigned int        M = fourier_modes(r);
      const std::vector<double> b = scaled_bessel_i(r, M + 200);
      double                    tail = 0;
      for (unsigned int k = M + 1; k <= M + 200; ++k)
        tail += 2 * b[k];
      EXPECT_LE(tail, std::ldexp(b[0], -55)) << "r " << r;
      EXPECT_GT(tail + 2 * b[M], std::ldexp(b[0], -55)) << "r " << r << ": M is the smallest";
      EXPECT_GE(M, previous);
      previous = M;
    }
  EXPECT_LE(fourier_modes(50.), 70u);
  EXPECT_GT(fourier_modes(1e7), max_fourier_modes) << "huge radii leave the Fourier path";
}

TEST(CircleFourier, ZonalScore)
{
  const auto identity = zonal_score(2.5, Matrix::identity(2), Matrix::identity(2));
  ASSERT_TRUE(identity);
  EXPECT_DOUBLE_EQ(identity->radius, 2.5);
  EXPECT_DOUBLE_EQ(identity->phase, 0.);
  const attention::Parameters p = zonal_parameters(3);
  const auto                  s = zonal_score(p.beta, p.Q, p.K);
  ASSERT_TRUE(s);
  // Q^T K = [[0.7, 0.9], [-0.9, 0.7]]: a = 2.1, b = -2.7 (both nonzero).
  EXPECT_NEAR(s->radius, std::hypot(2.1, 2.7), 1e-14);
  EXPECT_NEAR(s->phase, std::atan2(-2.7, 2.1), 1e-14);
  EXPECT_FALSE(zonal_score(1., Matrix::parse("1, 0; 0, 2"), Matrix::identity(2))) << "anisotropic";
  EXPECT_FALSE(zonal_score(1., Matrix::parse("1, 0.5"), Matrix::parse("1, 0.5"))) << "rank one";
  EXPECT_FALSE(zonal_score(1., Matrix::parse("1, 1e-12; 0, 1"), Matrix::identity(2))) << "beyond rounding";
}

TEST(CircleFourier, SumsMatchLongDoubleDirectSums)
{
  std::mt19937_64     random(11);
  std::vector<double> phi, w, theta, unused;
  random_angles(random, 700, phi, w);
  random_angles(random, 300, theta, unused);
  // Quadrant edges of the phasors' reduction, and k theta beyond 1e5 (libm's range) at r = 400.
  theta.insert(theta.end(), {1e-300, -M_PI / 4, 3 * M_PI / 4, -50.3, 1000.3});
  for (const double r : {0., 0.4, 3., 17., 50., 400.})
    {
      const ZonalScore    score{r, 0.9};
      const ZonalSums     sums(score, phi.size(), phi.data(), w.data(), true);
      std::vector<double> D(theta.size()), N(2 * theta.size());
      sums.evaluate(theta.size(), theta.data(), D.data(), N.data());
      double worst = 0;
      for (std::size_t i = 0; i < theta.size(); ++i)
        {
          long double d = 0, nx = 0, ny = 0;
          for (std::size_t j = 0; j < phi.size(); ++j)
            {
              const long double e =
                w[j] * std::exp(static_cast<long double>(r) * (std::cos(theta[i] - phi[j] - 0.9L) - 1));
              d += e;
              nx += e * std::cos(static_cast<long double>(phi[j]));
              ny += e * std::sin(static_cast<long double>(phi[j]));
            }
          worst = std::max({worst, double(std::abs(d - D[i])), double(std::abs(nx - N[2 * i])),
                            double(std::abs(ny - N[2 * i + 1]))});
        }
      std::printf("r = %5g: %3u modes, max error %.2e = %.2f of the bound\n", r, sums.modes(), worst,
                  worst / sums.error_bound());
      EXPECT_LE(worst, 0.5 * sums.error_bound()) << "r " << r;
      EXPECT_LE(sums.error_bound(), 60 * std::numeric_limits<double>::epsilon()) << "a few ulp of W = 1";
    }
}

TEST(CircleFourier, KernelMatchesDirectSums)
{
  std::mt19937_64     random(7);
  std::vector<double> phi, w, theta, unused;
  random_angles(random, 1500, phi, w);
  random_angles(random, 400, theta, unused);
  for (const std::string type : {"softmax", "unnormalized"})
    for (const double beta : {0., 0.3, 2., 9., 25., 50.})
      {
        attention::Parameters p = zonal_parameters(beta / std::hypot(0.7, 0.9)); // radius beta
        p.tolerance             = 1e-12;
        p.evaluation            = attention::Parameters::Evaluation::direct;
        const auto direct       = create_circle_kernel(type, p);
        p.evaluation            = attention::Parameters::Evaluation::automatic;
        ASSERT_TRUE(uses_fourier_sums(type, p));
        const auto          fourier = create_circle_kernel(type, p);
        std::vector<double> exact(theta.size()), v(theta.size());
        direct->evaluate(theta.size(), theta.data(), phi.size(), phi.data(), w.data(), exact.data());
        fourier->evaluate(theta.size(), theta.data(), phi.size(), phi.data(), w.data(), v.data());
        double worst = 0, scale = 0;
        for (std::size_t i = 0; i < theta.size(); ++i)
          {
            worst = std::max(worst, std::abs(v[i] - exact[i]));
            scale = std::max(scale, std::abs(exact[i]));
          }
        const auto diagnostics = fourier->diagnostics();
        ASSERT_EQ(diagnostics.size(), 2u);
        EXPECT_EQ(diagnostics[0].first, "fourier_modes");
        EXPECT_EQ(diagnostics[0].second, fourier_modes(zonal_score(p.beta, p.Q, p.K)->radius)) << beta;
        std::printf("%-12s beta %4g: %2g modes, fallback %.3f, max error %.2e relative\n", type.c_str(), beta,
                    diagnostics[0].second, diagnostics[1].second, worst / scale);
        EXPECT_LE(worst, 1e-12 * scale) << type << " beta " << beta;
        EXPECT_LT(diagnostics[1].second, 0.5) << "most targets through the Fourier sums";
      }
}

TEST(CircleFourier, UnresolvedTargetsFallBackToDirectSums)
{
  // All mass near angle 1 at beta = 50: across the circle D ~ e^{-100} W,
  // far below the modes' rounding; those targets are summed directly.
  std::vector<double> phi(200), w(200, 1. / 200), theta(100);
  for (std::size_t j = 0; j < phi.size(); ++j)
    phi[j] = 1 + 0.05 * std::sin(double(j));
  for (std::size_t i = 0; i < theta.size(); ++i)
    theta[i] = 2 * M_PI * i / theta.size();
  attention::Parameters p = zonal_parameters(50 / std::hypot(0.7, 0.9));
  p.evaluation            = attention::Parameters::Evaluation::direct;
  const auto direct       = create_circle_kernel("softmax", p);
  p.evaluation            = attention::Parameters::Evaluation::fast;
  const auto          fourier = create_circle_kernel("softmax", p);
  std::vector<double> exact(theta.size()), v(theta.size());
  direct->evaluate(theta.size(), theta.data(), phi.size(), phi.data(), w.data(), exact.data());
  fourier->evaluate(theta.size(), theta.data(), phi.size(), phi.data(), w.data(), v.data());
  const double fallback = fourier->diagnostics()[1].second;
  EXPECT_GT(fallback, 0.3);
  EXPECT_LT(fallback, 0.9);
  for (std::size_t i = 0; i < theta.size(); ++i)
    EXPECT_NEAR(v[i], exact[i], 1e-10 * std::abs(exact[i]) + 1e-15) << i;
}

TEST(CircleFourier, NonZonalAttentionUsesTheAmbientKernel)
{
  attention::Parameters p = zonal_parameters(1);
  p.Q                     = Matrix::parse("1, 0.2; 0, 1");
  for (const auto evaluation : {attention::Parameters::Evaluation::fast, attention::Parameters::Evaluation::automatic})
    {
      p.evaluation = evaluation;
      EXPECT_FALSE(uses_fourier_sums("softmax", p));
      const auto kernel = create_circle_kernel("softmax", p);
      const auto diagnostics = kernel->diagnostics(); // the chart kernel of the ambient variant
      ASSERT_EQ(diagnostics.size(), 1u);
      EXPECT_EQ(diagnostics[0].first, "fast_share");
      // Its velocities are the ambient kernel's (here with its score-space fast summation).
      std::vector<double> theta = {0.1, 2., 4.}, w = {0.2, 0.5, 0.3}, v(3), reference(3);
      kernel->evaluate(3, theta.data(), 3, theta.data(), w.data(), v.data());
      circle_kernel(attention::create("softmax", p))->evaluate(3, theta.data(), 3, theta.data(), w.data(),
                                                             reference.data());
      EXPECT_EQ(v, reference);
    }
  p = zonal_parameters(1);
  EXPECT_FALSE(uses_fourier_sums("l2", p)) << "only softmax and unnormalized";
  p.evaluation = attention::Parameters::Evaluation::direct;
  EXPECT_FALSE(uses_fourier_sums("softmax", p)) << "direct means direct";
}

TEST(CircleFourier, EnergySumsMatchDirectSums)
{
  std::mt19937_64     random(5);
  std::vector<double> phi, w, theta, tw, speed;
  random_angles(random, 900, phi, w);
  random_angles(random, 300, theta, tw);
  std::uniform_real_distribution<double> unit(-1, 1);
  for (std::size_t i = 0; i < theta.size(); ++i)
    speed.push_back(unit(random));
  for (const double beta : {0., 1., 9., 60.})
    {
      const EnergySums s = energy_sums(beta, theta.size(), theta.data(), tw.data(), speed.data(), phi.size(),
                                       phi.data(), w.data());
      long double energy = 0, rate_softmax = 0;
      for (std::size_t i = 0; i < theta.size(); ++i)
        {
          long double Z = 0, pair = 0;
          for (std::size_t j = 0; j < phi.size(); ++j)
            {
              const long double t = std::cos(static_cast<long double>(theta[i]) - phi[j]);
              Z += w[j] * std::exp(beta * t);
              pair += w[j] * (beta > 0 ? std::exp(beta * t) / beta : t);
            }
          if (beta == 0)
            Z = std::accumulate(w.begin(), w.end(), 0.0L);
          energy += 0.5L * tw[i] * pair;
          rate_softmax += tw[i] * speed[i] * speed[i] * Z;
        }
      EXPECT_NEAR(s.energy / double(energy), 1., 1e-13) << beta;
      EXPECT_NEAR(s.rate_softmax / double(rate_softmax), 1., 1e-13) << beta;
    }
}

TEST(CircleFourier, LayersWithAndWithoutTheFourierPathShareOneListOfDiagnostics)
{
  // The statistics header is built once: a layer off the Fourier path reports NaN under the Fourier
  // layer's names instead of a shorter row.
  attention::Parameters zonal = zonal_parameters(1), skewed = zonal;
  skewed.Q                    = Matrix::parse("1, 0.2; 0, 1");
  std::vector<std::unique_ptr<attention::Kernel>> layers;
  layers.push_back(create_circle_kernel("softmax", skewed));
  layers.push_back(create_circle_kernel("softmax", zonal));
  attention::LayeredKernel kernel(std::move(layers));
  // The names in layer order: the ambient kernel's fast_share, then the Fourier layer's.
  const auto first = kernel.diagnostics();
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].first, "fast_share");
  EXPECT_EQ(first[1].first, "fourier_modes");
  EXPECT_TRUE(std::isnan(first[1].second) && std::isnan(first[2].second));
  kernel.select(1);
  const auto second = kernel.diagnostics();
  ASSERT_EQ(second.size(), 3u);
  EXPECT_EQ(second[1].first, "fourier_modes");
  EXPECT_GT(second[1].second, 0.) << "the zonal layer's mode count";
  EXPECT_TRUE(std::isnan(second[0].second)) << "no fast_share on the Fourier layer";
}
