// Particles with idiosyncratic noise (Noise/diffusion D): every token gets its
// own sqrt(2 D dt) xi per step. In 1D the empirical variance of a softmax
// collapse against noise follows the Gaussian reference (covariance ODE + 2 D)
// within sampling error; on S^2 (X = 0) the tokens stay on the sphere and
// their mean decays like e^{-2 D t} (the degree-1 heat kernel).
#include "run/particle_run.h"
#include "output/statistics_schema.h"
#include "parameters/parameters.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

using namespace tpde::testing;

namespace
{
  tpde::ParticleRunSummary run(const std::string &prm, const std::vector<std::string> &overrides)
  {
    std::vector<std::string> o = overrides;
    o.push_back("Output/interval=0");
    o.push_back("Output/write vtu=false");
    tpde::RunOptions options;
    options.quiet        = true;
    options.write_output = false;
    return tpde::run_particles(tpde::read_parameters(source_path(prm), o), options);
  }

  double last(const tpde::ParticleRunSummary &s, const std::string &name)
  {
    return tpde::column(s.header, s.last_row, name);
  }
} // namespace

TEST(ParticleNoise, VarianceFollowsTheGaussianReferenceIn1D)
{
  // N(1, 0.5), softmax collapse, D = 0.5 to t = 0.5: 4 seeds x 1000 tokens.
  const unsigned int seeds = 4, n = 1000;
  double             variance = 0, reference = 0;
  for (unsigned int seed = 1; seed <= seeds; ++seed)
    {
      const auto s = run("parameters/gaussian-1d-collapse.prm",
                         {"Noise/diffusion=0.5", "Noise/seed=" + std::to_string(seed), "Particles/seed=" + std::to_string(seed),
                          "Particles/number of tokens=" + std::to_string(n), "Particles/sampling=random",
                          "Particles/time step=0.01", "Time stepping/end time=0.5"});
      variance += last(s, "cov_00") / seeds;
      reference = last(s, "ref_cov_00");
    }
  const auto   plain    = run("parameters/gaussian-1d-collapse.prm",
                              {"Particles/number of tokens=100", "Particles/time step=0.01", "Time stepping/end time=0.5"});
  const double sampling = reference * std::sqrt(2. / (seeds * n)); // std of the variance estimate
  std::printf("1D, D = 0.5: particle variance %.5f, reference %.5f (without noise %.5f), sampling std %.5f\n",
              variance, reference, last(plain, "ref_cov_00"), sampling);
  EXPECT_NEAR(variance, reference, 4 * sampling);
  EXPECT_GT(std::abs(reference - last(plain, "ref_cov_00")), 20 * sampling); // the noise matters
}

TEST(ParticleNoise, OnTheSphereTheMeanDecaysLikeTheHeatKernel)
{
  const unsigned int n = 4000;
  const std::vector<std::string> o = {"Attention/V=0,0,0;0,0,0;0,0,0", "Particles/number of tokens=" + std::to_string(n),
                                      "Particles/sampling=random", "Particles/time step=0.02"};
  auto noisy = o;
  noisy.push_back("Noise/diffusion=1");
  noisy.push_back("Time stepping/end time=0.5");
  auto start = o;
  start.push_back("Time stepping/end time=0.02");
  const auto s  = run("parameters/sphere-poisson.prm", noisy);
  const auto s0 = run("parameters/sphere-poisson.prm", start); // X = 0: the tokens stay put
  double     worst = 0;
  for (std::size_t i = 0; i < n; ++i)
    worst = std::max(worst, std::abs(std::hypot(s.positions[3 * i], s.positions[3 * i + 1], s.positions[3 * i + 2]) - 1));
  const double expected = last(s0, "mean_2") * std::exp(-2. * 1. * 0.5);
  const double sampling = std::sqrt(1. / (3. * n));
  std::printf("S^2, D = 1, t = 0.5: mean_2 %.5f, e^{-2Dt} x initial %.5f, sampling std %.4f, max ||x| - 1| %.1e\n",
              last(s, "mean_2"), expected, sampling, worst);
  EXPECT_LE(worst, 1e-14);
  EXPECT_NEAR(last(s, "mean_2"), expected, 4 * sampling);
  EXPECT_NEAR(std::hypot(last(s, "mean_0"), last(s, "mean_1")), 0., 4 * sampling);
}

TEST(ParticleNoise, OnTheCircleModeTwoDecaysLikeTheHeatKernel)
{
  // beta = 0 (X = 0 for uniform + cos 2 theta), D = 0.1 to t = 1: mode 2 falls by e^{-4 D t} = 0.6703; the
  // tokens move in the angle chart. 20000 tokens: a mode amplitude fluctuates by ~ 1 / sqrt(2 N).
  const unsigned int             n = 20000;
  const std::vector<std::string> o = {"Attention/beta=0", "Noise/diffusion=0.1", "Initial condition/mode amplitude=0.5",
                                      "Particles/number of tokens=" + std::to_string(n), "Particles/time step=0.05"};
  auto end = o, start = o;
  end.push_back("Time stepping/end time=1");
  start.push_back("Time stepping/end time=0.05");
  start.push_back("Noise/diffusion=0");
  const auto   s = run("parameters/circle-instability.prm", end), s0 = run("parameters/circle-instability.prm", start);
  const double ratio    = last(s, "mode_2") / last(s0, "mode_2");
  const double sampling = 2. / std::sqrt(2. * n) / last(s0, "mode_2");
  std::printf("circle particles, D = 0.1: mode_2 ratio %.4f, exact %.4f, sampling std %.4f\n", ratio, std::exp(-0.4),
              sampling);
  EXPECT_NEAR(ratio, std::exp(-0.4), 4 * sampling);
}
