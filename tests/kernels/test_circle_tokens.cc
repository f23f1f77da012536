// Tokens on the circle in plain C++: the angle wrap, the particle system in
// the angle chart (wrapped after every step, equal modulo 2 pi to the
// unwrapped run), the beta = 0 energy sums without a pair loop against the
// pair sums, and the smoothed histogram that a particle run counts clusters on.
#include "attention/attention.h"
#include "particles/particle_system.h"
#include "sphere/chart_kernel.h"
#include "sphere/circle_chart.h"
#include "sphere/circle_diagnostics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace tpde;

TEST(CircleTokens, WrapAngle)
{
  EXPECT_EQ(sphere::wrap_angle(0.), 0.);
  EXPECT_NEAR(sphere::wrap_angle(-0.5), 2 * M_PI - 0.5, 1e-15);
  EXPECT_NEAR(sphere::wrap_angle(7.), 7. - 2 * M_PI, 1e-15);
  EXPECT_EQ(sphere::wrap_angle(-1e-300), 0.) << "2 pi - 1e-300 rounds to 2 pi, which is 0";
  EXPECT_EQ(sphere::wrap_angle(2 * M_PI), 0.);
  EXPECT_TRUE(std::isnan(sphere::wrap_angle(std::nan("")))) << "a blown-up token must stay visible";
  EXPECT_TRUE(std::isnan(sphere::wrap_angle(HUGE_VAL)));
  const double x[2] = {0., -1.};
  EXPECT_NEAR(sphere::circle_angle(x), 1.5 * M_PI, 1e-15);
}

TEST(CircleTokens, ParticleSystemStaysInTheChart)
{
  attention::Parameters p;
  p.dim  = 2;
  p.beta = 1;
  p.Q = p.K = p.V = Matrix::identity(2);
  p.evaluation    = attention::Parameters::Evaluation::direct;
  const auto kernel = sphere::circle_kernel(attention::create("softmax", p));
  // Tokens near the seam, pulled across it by the mass on the other side.
  const std::vector<double> start = {0.05, 0.1, 6.2, 6.25, 6.0};
  particles::ParticleSystem wrapped(*kernel, start), free(*kernel, start);
  wrapped.set_circle_chart();
  for (int step = 0; step < 200; ++step)
    {
      wrapped.step(0.05, particles::Integrator::rk4);
      free.step(0.05, particles::Integrator::rk4);
    }
  for (std::size_t i = 0; i < start.size(); ++i)
    {
      const double theta = wrapped.positions()[i];
      EXPECT_TRUE(theta >= 0 && theta < 2 * M_PI) << theta;
      EXPECT_NEAR(std::remainder(theta - free.positions()[i], 2 * M_PI), 0., 1e-12);
    }
  // They cluster: all within a small arc.
  EXPECT_LT(std::abs(std::remainder(wrapped.positions()[0] - wrapped.positions()[4], 2 * M_PI)), 1e-3);
}

TEST(CircleTokens, EnergySumsAtBetaZeroAreThePairSums)
{
  std::mt19937_64                        rng(3);
  std::uniform_real_distribution<double> angle(0, 2 * M_PI), weight(0, 1);
  std::vector<double>                    theta(50), w(50), v(50), src(70), sw(70);
  for (std::size_t i = 0; i < theta.size(); ++i)
    theta[i] = angle(rng), w[i] = weight(rng), v[i] = weight(rng) - 0.5;
  for (std::size_t j = 0; j < src.size(); ++j)
    src[j] = angle(rng), sw[j] = weight(rng);
  double energy = 0, rate = 0, rate_z = 0, mass = 0;
  for (const double x : sw)
    mass += x;
  for (std::size_t i = 0; i < theta.size(); ++i)
    {
      for (std::size_t j = 0; j < src.size(); ++j)
        energy += 0.5 * w[i] * sw[j] * std::cos(theta[i] - src[j]);
      rate += w[i] * v[i] * v[i];
      rate_z += w[i] * v[i] * v[i] * mass;
    }
  const auto sums = sphere::energy_sums(0., theta.size(), theta.data(), w.data(), v.data(), src.size(), src.data(),
                                        sw.data());
  EXPECT_NEAR(sums.energy, energy, 1e-12);
  EXPECT_NEAR(sums.rate_unnormalized, rate, 1e-13);
  EXPECT_NEAR(sums.rate_softmax, rate_z, 1e-12);
}

TEST(CircleTokens, SmoothedHistogramFindsTheClusters)
{
  const double        bandwidth = 2 * M_PI / 64;
  std::mt19937_64     rng(5);
  std::normal_distribution<double> spread(0, 0.02);
  // Three clusters (one across the seam) of unequal weight, 3000 tokens.
  std::vector<double> theta;
  for (const double centre : {0.01, 2., 4.})
    for (int i = 0; i < 1000; ++i)
      theta.push_back(sphere::wrap_angle(centre + spread(rng)));
  const std::vector<double> weights(theta.size(), 1. / theta.size());
  const auto profile = sphere::smoothed_histogram(theta.size(), theta.data(), weights.data(), 256, bandwidth);
  double     mass    = 0;
  for (const double value : profile)
    mass += value * 2 * M_PI / 256;
  EXPECT_NEAR(mass, 1., 1e-12) << "a density per radian";
  EXPECT_EQ(sphere::count_clusters(profile, 0.25), 3u);
  // One cluster straddling the seam counts once.
  const std::vector<double> seam = {0.02, 6.27, 0.0, 6.26, 0.03};
  EXPECT_EQ(sphere::count_clusters(
              sphere::smoothed_histogram(seam.size(), seam.data(), std::vector<double>(5, 0.2).data(), 256, bandwidth),
              0.25),
            1u);
  // Its peak: a Gaussian of standard deviation hypot(0.02, bandwidth) around the cluster, 1/3 of the mass.
  const double sigma = std::hypot(0.02, bandwidth);
  EXPECT_NEAR(profile[static_cast<int>(2. / (2 * M_PI / 256))], 1. / 3 / (sigma * std::sqrt(2 * M_PI)),
              0.08 / 3 / (sigma * std::sqrt(2 * M_PI)));
}

TEST(CircleTokens, EnergySumsByTheBesselExpansionAreThePairSums)
{
  // 400 x 400 points: the expansion is the cheaper path for every beta here.
  std::mt19937_64                        rng(11);
  std::uniform_real_distribution<double> angle(0, 2 * M_PI), weight(0, 1);
  std::normal_distribution<double>       cluster(1., 0.3);
  std::vector<double>                    theta(400), w(400), v(400);
  for (std::size_t i = 0; i < theta.size(); ++i)
    theta[i] = i % 2 ? angle(rng) : sphere::wrap_angle(cluster(rng)), w[i] = weight(rng) / 200,
    v[i]     = weight(rng) - 0.5;
  for (const double beta : {0.05, 0.5, 2., 9., 30.})
    {
      double energy = 0, rate_z = 0;
      for (std::size_t i = 0; i < theta.size(); ++i)
        {
          double Z = 0;
          for (std::size_t j = 0; j < theta.size(); ++j)
            Z += w[j] * std::exp(beta * std::cos(theta[i] - theta[j]));
          energy += 0.5 * w[i] * Z / beta;
          rate_z += w[i] * v[i] * v[i] * Z;
        }
      const auto sums = sphere::energy_sums(beta, theta.size(), theta.data(), w.data(), v.data(), theta.size(),
                                            theta.data(), w.data());
      EXPECT_NEAR(sums.energy, energy, 1e-12 * energy) << beta;
      EXPECT_NEAR(sums.rate_softmax, rate_z, 1e-12 * rate_z) << beta;
    }
}
