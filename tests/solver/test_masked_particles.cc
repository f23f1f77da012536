// Masked attention with positional decay (physics.md §1.7, §4.3): the token
// system with tokens at s_j = j/N and the ALiBi weights of the masked kernel
// has the grid's (s, x) solution as its mean-field limit. T11's data (N(1, 0.5)
// below s = 1/2, N(-1, 0.3) above) with lambda = 3, t = 1: the mean and the
// variance of x over the tokens with s > 1/2 agree with the grid's integrals
// over (1/2, 1] x R within 4 standard errors of the token sample, while the
// grid's lambda = 0 values are many standard errors away (the check can tell
// the weights apart).
#include "support/solver_runs.h"

#include "particles/particle_system.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  const std::string t11 = "parameters/masked-1d-causality.prm";

  struct Moments
  {
    double mean = 0, variance = 0;
  };

  /// Mean and variance of x under rho restricted to s > 1/2 (the cells of
  /// T11 are aligned with s = 1/2).
  Moments grid_upper_moments(const std::vector<std::string> &overrides)
  {
    const Parameters p = parameters_from(t11, overrides);
    RunOptions       options;
    options.quiet        = true;
    options.write_output = false;
    Simulation<2> simulation(p, MPI_COMM_WORLD, options);
    simulation.initialize();
    simulation.run();
    const auto &space = simulation.space();
    double      mass = 0, first = 0, second = 0;
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      for (unsigned int q = 0; q < space.n_nodes(); ++q)
        if (space.node_point(k, q)[0] > 0.5)
          {
            const double w = space.cell_values(simulation.solution().begin(), k)[q] * space.node_weight(k, q);
            const double x = space.node_point(k, q)[1];
            mass += w;
            first += w * x;
            second += w * x * x;
          }
    return {first / mass, second / mass - (first / mass) * (first / mass)};
  }
} // namespace

TEST(MaskedParticles, PositionalDecayTokensConvergeToTheGrid)
{
  const std::vector<std::string> decay = {"Masked attention/positional decay=3"};
  const Moments                  grid = grid_upper_moments(decay), plain = grid_upper_moments({});

  const Parameters    p      = parameters_from(t11, decay);
  const auto          kernel = attention::create("masked", p.attention);
  const std::size_t   n      = 3000;
  std::mt19937_64     random(2026);
  std::vector<double> tokens(2 * n);
  for (std::size_t j = 0; j < n; ++j)
    {
      const double s = double(j + 1) / n;
      tokens[2 * j]  = s;
      tokens[2 * j + 1] =
        s < 0.5 ? std::normal_distribution<>(1., std::sqrt(0.5))(random) : std::normal_distribution<>(-1., std::sqrt(0.3))(random);
    }
  particles::ParticleSystem system(*kernel, tokens);
  const int                 steps = 20; // RK4, dt = 0.05: time error ~1e-7
  for (int i = 0; i < steps; ++i)
    system.step(1. / steps, particles::Integrator::rk4);

  std::vector<double> upper;
  for (std::size_t j = 0; j < n; ++j)
    if (system.positions()[2 * j] > 0.5)
      {
        EXPECT_EQ(system.positions()[2 * j], tokens[2 * j]) << "s is a frozen label";
        upper.push_back(system.positions()[2 * j + 1]);
      }
  double mean = 0, second = 0, fourth = 0;
  for (const double x : upper)
    mean += x / upper.size();
  for (const double x : upper)
    {
      second += (x - mean) * (x - mean) / upper.size();
      fourth += std::pow(x - mean, 4) / upper.size();
    }
  const double error_mean     = std::sqrt(second / upper.size());
  const double error_variance = std::sqrt((fourth - second * second) / upper.size());
  std::printf("s > 1/2 at t = 1, lambda = 3: mean tokens %.5f grid %.5f (lambda = 0: %.5f), standard error %.1e; "
              "variance tokens %.5f grid %.5f (lambda = 0: %.5f), standard error %.1e\n",
              mean, grid.mean, plain.mean, error_mean, second, grid.variance, plain.variance, error_variance);
  EXPECT_LE(std::abs(mean - grid.mean), 4 * error_mean);
  EXPECT_LE(std::abs(second - grid.variance), 4 * error_variance);
  EXPECT_GE(std::abs(plain.mean - grid.mean), 10 * error_mean) << "lambda must matter at this sample size";
}
