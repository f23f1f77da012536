// The idiosyncratic noise of the token system (ParticleSystem::set_diffusion)
// with a zero velocity (V = 0), so a step moves every token by its noise only:
// the increments are N(0, 2 D dt I), independent across components and steps,
// and a system started at step n with the positions of step n continues on
// the same noise bit for bit (what a resumed particle run relies on).
#include "attention/attention.h"
#include "particles/particle_system.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace tpde;

namespace
{
  std::unique_ptr<attention::Kernel> softmax_kernel(double v)
  {
    attention::Parameters p;
    p.dim        = 2;
    p.beta       = 1;
    p.Q = p.K    = Matrix::identity(2);
    p.V          = v * Matrix::identity(2);
    p.evaluation = attention::Parameters::Evaluation::direct;
    return attention::create("softmax", p);
  }
} // namespace

TEST(ParticleDiffusion, IncrementsAreIndependentStandardNormalsTimesSqrtTwoDdt)
{
  const auto          kernel = softmax_kernel(0.); // no drift: the steps are the noise
  const std::size_t   n      = 4000;
  const double        D = 0.8, dt = 0.25; // 2 D dt = 0.4
  particles::ParticleSystem system(*kernel, std::vector<double>(2 * n, 0.));
  system.set_diffusion(D, 3);
  system.step(dt, particles::Integrator::rk4);
  const std::vector<double> first = system.positions();
  system.step(dt, particles::Integrator::rk4);
  std::vector<double> second(2 * n);
  for (std::size_t k = 0; k < 2 * n; ++k)
    second[k] = system.positions()[k] - first[k];

  // Standardised increments z = dx / sqrt(2 D dt): moments of N(0, 1) within 4 sampling deviations.
  const double scale = std::sqrt(2 * D * dt), m = double(2 * n);
  double       mean = 0, second_moment = 0, fourth = 0, across_steps = 0, across_components = 0;
  for (std::size_t k = 0; k < 2 * n; ++k)
    {
      const double z = first[k] / scale, w = second[k] / scale;
      mean += (z + w) / (2 * m);
      second_moment += (z * z + w * w) / (2 * m);
      fourth += (z * z * z * z + w * w * w * w) / (2 * m);
      across_steps += z * w / m;
      if (k % 2 == 0)
        across_components += z * first[k + 1] / scale / double(n);
    }
  std::printf("z: mean %.4f, E z^2 %.4f, E z^4 %.4f, step correlation %.4f, component correlation %.4f\n", mean,
              second_moment, fourth, across_steps, across_components);
  EXPECT_NEAR(mean, 0., 4 / std::sqrt(2 * m));
  EXPECT_NEAR(second_moment, 1., 4 * std::sqrt(2 / (2 * m))); // a factor sqrt(2) in the scale is 45 deviations off
  EXPECT_NEAR(fourth, 3., 4 * std::sqrt(96 / (2 * m)));
  EXPECT_NEAR(across_steps, 0., 4 / std::sqrt(m));         // the step counter advances
  EXPECT_NEAR(across_components, 0., 4 / std::sqrt(double(n))); // the component is part of the key
}

TEST(ParticleDiffusion, ContinuingFromAStepReproducesTheUninterruptedRun)
{
  const auto                kernel = softmax_kernel(-1.);
  const std::vector<double> start  = {0.1, -0.2, 0.3, 0.4, -0.5, 0.6};
  particles::ParticleSystem full(*kernel, start), other_seed(*kernel, start);
  full.set_diffusion(0.5, 11);
  other_seed.set_diffusion(0.5, 12);
  for (int step = 0; step < 3; ++step)
    {
      full.step(0.1, particles::Integrator::ssp_rk3);
      other_seed.step(0.1, particles::Integrator::ssp_rk3);
    }
  for (std::size_t k = 0; k < start.size(); ++k)
    EXPECT_NE(other_seed.positions()[k], full.positions()[k]) << k;
  particles::ParticleSystem resumed(*kernel, full.positions());
  resumed.set_diffusion(0.5, 11, 3);
  for (int step = 3; step < 7; ++step)
    {
      full.step(0.1, particles::Integrator::ssp_rk3);
      resumed.step(0.1, particles::Integrator::ssp_rk3);
    }
  for (std::size_t k = 0; k < start.size(); ++k)
    EXPECT_EQ(resumed.positions()[k], full.positions()[k]) << k;
}
