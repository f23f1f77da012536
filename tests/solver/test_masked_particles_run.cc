// `tpde particles` with masked attention (issue 14): tokens (s_j, x_j) at
// s_j = j/N with x_j from the initial data at s_j, the grid's slice<k>_*
// columns from the tokens in a window around s_k.
//  * the command-line path equals ParticleSystem stepped by hand, bit for bit
//    (the box and the circle);
//  * causality: other late tokens leave every earlier trajectory bitwise the same;
//  * tokens against the grid (T11 with positional decay): per-slice mean and
//    variance within a few standard errors at N = 2000 and 8000;
//  * the column names are the grid's; refused input is one line with exit code 2.
#include "support/input_errors.h"
#include "support/solver_runs.h"

#include "initial/masked_tokens.h"
#include "particles/particle_system.h"
#include "run/domain_setup.h"
#include "run/particle_run.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  const std::string t11    = "parameters/masked-1d-causality.prm";
  const std::string circle = "parameters/lost-in-the-middle.prm";

  ParticleRunSummary run_in_memory(const Parameters &p, const std::vector<double> *tokens = nullptr)
  {
    RunOptions options;
    options.quiet          = true;
    options.write_output   = false;
    options.initial_tokens = tokens;
    return run_particles(p, options);
  }

  /// Tokens stepped by hand with the run's kernel: `steps` equal RK4 steps of `dt`.
  std::vector<double> stepped_by_hand(const Parameters &p, const std::vector<double> &tokens, int steps, double dt)
  {
    const auto                kernel = create_kernel(p);
    particles::ParticleSystem system(*kernel, tokens);
    if (p.mesh.on_sphere())
      system.set_circle_chart();
    for (int i = 0; i < steps; ++i)
      system.step(dt, particles::Integrator::rk4);
    return system.positions();
  }

  /// Mean, variance and their standard errors of x over the tokens (s, x) in the window of s_k (as
  /// particle_statistics.h describes it), and the token count.
  struct WindowMoments
  {
    double      mean = 0, variance = 0, mean_error = 0, variance_error = 0;
    std::size_t count = 0;
  };
  WindowMoments window_moments(const std::vector<double> &tokens, double s_k, double window, double upper_from)
  {
    const bool          upper = s_k >= upper_from;
    std::vector<double> x;
    for (std::size_t j = 0; 2 * j < tokens.size(); ++j)
      {
        const double s = tokens[2 * j];
        const double hi = std::min(1., s_k + window / 2);
        if (s >= std::max(0., s_k - window / 2) && (hi < 1. ? s < hi : s <= hi) && (s >= upper_from) == upper)
          x.push_back(tokens[2 * j + 1]);
      }
    WindowMoments m;
    m.count = x.size();
    for (const double v : x)
      m.mean += v / double(x.size());
    double fourth = 0;
    for (const double v : x)
      {
        m.variance += (v - m.mean) * (v - m.mean) / double(x.size());
        fourth += std::pow(v - m.mean, 4) / double(x.size());
      }
    m.mean_error     = std::sqrt(m.variance / double(x.size()));
    m.variance_error = std::sqrt((fourth - m.variance * m.variance) / double(x.size()));
    return m;
  }
} // namespace

TEST(MaskedParticlesRun, TokensSitAtTheirPositionsWithTheDataOfTheirSide)
{
  const Parameters p      = parameters_from(t11, {"Particles/number of tokens=1000"});
  const auto       tokens = sample_initial_tokens(p);
  ASSERT_EQ(tokens.size(), 2000u);
  double below = 0, above = 0;
  for (std::size_t j = 0; j < 1000; ++j)
    {
      EXPECT_EQ(tokens[2 * j], double(j + 1) / 1000.);
      (tokens[2 * j] < 0.5 ? below : above) += tokens[2 * j + 1] / 500.;
    }
  // N(1, 0.5) below s = 1/2, N(-1, 0.3) from there on: means within 4 standard errors.
  EXPECT_NEAR(below, 1., 4 * std::sqrt(0.5 / 500));
  EXPECT_NEAR(above, -1., 4 * std::sqrt(0.3 / 500));
  EXPECT_EQ(sample_initial_tokens(p), tokens) << "same seed, same tokens";
}

TEST(MaskedParticlesRun, CommandLinePathEqualsTheParticleSystemBitForBit)
{
  // Steps of 1/8 land exactly on the outputs at 1/4: the run takes the same 4 steps.
  const std::vector<std::string> steps = {"Particles/number of tokens=400", "Time stepping/end time=0.5",
                                          "Output/interval=0.25", "Particles/time step=0.125"};
  for (const std::string &file : {t11, circle})
    {
      std::vector<std::string> overrides = steps;
      overrides.push_back("Masked attention/positional decay=2");
      if (file == circle) // a visible first mode, so the angles move
        overrides.push_back("Initial condition/constants=eps=0.5, pi=3.141592653589793");
      const Parameters p       = parameters_from(file, overrides);
      const auto       tokens  = sample_initial_tokens(p);
      const auto       summary = run_in_memory(p);
      const auto       by_hand = stepped_by_hand(p, tokens, 4, 0.125);
      ASSERT_EQ(summary.positions.size(), by_hand.size()) << file;
      EXPECT_EQ(summary.steps, 4u) << file;
      std::size_t differing = 0;
      double      moved     = 0;
      for (std::size_t i = 0; i < by_hand.size(); ++i)
        {
          differing += summary.positions[i] != by_hand[i];
          moved = std::max(moved, std::abs(by_hand[i] - tokens[i]));
        }
      std::printf("%s: %zu of %zu coordinates differ; largest move %.3e\n", file.c_str(), differing, by_hand.size(),
                  moved);
      EXPECT_EQ(differing, 0u) << file;
      EXPECT_GT(moved, 1e-3) << file << ": the tokens must move for the check to mean anything";
      for (std::size_t j = 0; 2 * j < tokens.size(); ++j)
        EXPECT_EQ(summary.positions[2 * j], tokens[2 * j]) << "s is a frozen label";
    }
}

TEST(MaskedParticlesRun, LateTokensLeaveEarlierTrajectoriesBitwiseUnchanged)
{
  const Parameters p = parameters_from(t11, {"Particles/number of tokens=600", "Masked attention/positional decay=3"});
  const auto       tokens = sample_initial_tokens(p);
  auto             changed = tokens;
  for (std::size_t j = 0; 2 * j < tokens.size(); ++j)
    if (tokens[2 * j] > 0.6) // the late tokens start elsewhere
      changed[2 * j + 1] = 3. + std::sin(double(j));
  const auto                kernel = create_kernel(p);
  particles::ParticleSystem original(*kernel, tokens), other(*kernel, changed);
  std::size_t               early_differences = 0, late_moves = 0;
  for (int step = 0; step < 10; ++step)
    {
      original.step(0.1, particles::Integrator::rk4);
      other.step(0.1, particles::Integrator::rk4);
      for (std::size_t j = 0; 2 * j < tokens.size(); ++j)
        if (tokens[2 * j] <= 0.6)
          early_differences += original.positions()[2 * j + 1] != other.positions()[2 * j + 1];
        else
          late_moves += original.positions()[2 * j + 1] != other.positions()[2 * j + 1];
    }
  EXPECT_EQ(early_differences, 0u);
  EXPECT_GT(late_moves, 0u);
  // The same through `tpde particles` (given initial tokens).
  const auto first = run_in_memory(p, &tokens), second = run_in_memory(p, &changed);
  for (std::size_t j = 0; 2 * j < tokens.size(); ++j)
    {
      if (tokens[2 * j] <= 0.6)
        {
          ASSERT_EQ(first.positions[2 * j + 1], second.positions[2 * j + 1]) << "token " << j;
        }
    }
}

TEST(MaskedParticlesRun, SliceColumnsAreTheGridsWithoutTheDensityErrors)
{
  const std::vector<std::string> brief = {"Time stepping/end time=0.01", "Particles/number of tokens=200"};
  for (const std::string &file : {t11, circle})
    {
      const Parameters p    = parameters_from(file, brief);
      const auto       grid = run_without_output(p).header;
      const auto       tokens = run_in_memory(p).header;
      std::vector<std::string> grid_slices, token_slices;
      for (const auto &name : grid)
        if (name.rfind("slice", 0) == 0 && name.find("err_l") == std::string::npos)
          grid_slices.push_back(name);
      for (const auto &name : tokens)
        if (name.rfind("slice", 0) == 0)
          token_slices.push_back(name);
      EXPECT_EQ(token_slices, grid_slices) << file;
      EXPECT_FALSE(token_slices.empty());
      for (const char *name : {"mean_0", "cov_00", "tokens"})
        EXPECT_NE(std::find(tokens.begin(), tokens.end(), name), tokens.end()) << name;
    }
}

// T11 with positional decay 3 at t = 0.5: s = 0.25 (lower data: the exact T1
// Gaussian) and s = 0.75 (attends to both Gaussians, weighted by the decay).
// Each (N, seed) run compares the window's mean and variance with the grid's
// slice in units of the window's standard error (tokens are i.i.d. at t = 0,
// and the field's own fluctuation, from the whole prefix, is smaller): the
// z-scores must be O(1) at both N, i.e. the error follows the N^-1/2 law of the
// standard error (a bias would show as growing |z| at the larger N).
TEST(MaskedParticlesRun, SlicesConvergeToTheGridAtTheStandardErrorRate)
{
  const std::vector<std::string> setting = {"Masked attention/positional decay=3", "Masked attention/slices=0.25, 0.75",
                                            "Time stepping/end time=0.5", "Output/interval=0.5",
                                            "Particles/time step=0.25", "Particles/slice window=0.1"};
  const RunSummary grid = run_without_output(parameters_from(t11, setting));
  double           z2 = 0, worst = 0;
  int              samples = 0;
  for (const auto &[n, seeds] : std::vector<std::pair<int, int>>{{2000, 3}, {8000, 1}})
    {
      double rms_error = 0;
      for (int seed = 1; seed <= seeds; ++seed)
        {
          auto overrides = setting;
          overrides.push_back("Particles/number of tokens=" + std::to_string(n));
          overrides.push_back("Particles/seed=" + std::to_string(seed));
          const auto run = run_in_memory(parameters_from(t11, overrides));
          for (int k = 0; k < 2; ++k)
            {
              const std::string slice = "slice" + std::to_string(k) + "_";
              const auto        m = window_moments(run.positions, k == 0 ? 0.25 : 0.75, 0.1, 0.5);
              // The run's own columns are this estimator.
              EXPECT_NEAR(column(run.header, run.last_row, slice + "mean_0"), m.mean, 1e-12);
              EXPECT_NEAR(column(run.header, run.last_row, slice + "cov_00"), m.variance, 1e-12);
              // N w tokens of weight 1 / (N w), up to one token where a window end rounds across j / N.
              EXPECT_NEAR(column(run.header, run.last_row, slice + "mass"), 1., 1.01 / (0.1 * n));
              const double z_mean = (m.mean - column(grid.header, grid.last_row, slice + "mean_0")) / m.mean_error;
              const double z_var  = (m.variance - column(grid.header, grid.last_row, slice + "cov_00")) / m.variance_error;
              std::printf("N = %d seed %d s = %.2f: %zu tokens, z(mean) = %+.2f, z(variance) = %+.2f "
                          "(standard errors %.1e, %.1e)\n",
                          n, seed, k == 0 ? 0.25 : 0.75, m.count, z_mean, z_var, m.mean_error, m.variance_error);
              for (const double z : {z_mean, z_var})
                {
                  z2 += z * z;
                  worst = std::max(worst, std::abs(z));
                  ++samples;
                }
              rms_error += std::pow(m.mean - column(grid.header, grid.last_row, slice + "mean_0"), 2) / (2. * seeds);
            }
        }
      std::printf("N = %d: rms error of the slice means %.3e\n", n, std::sqrt(rms_error));
    }
  const double rms_z = std::sqrt(z2 / samples);
  std::printf("rms z over %d comparisons %.2f, largest |z| %.2f\n", samples, rms_z, worst);
  EXPECT_LE(worst, 4.);
  EXPECT_LE(rms_z, 2.) << "errors larger than the standard error: a bias, or the estimator is not the grid's slice";
}

TEST(MaskedParticlesRun, RefusedInputIsOneLineWithExitCodeTwo)
{
  const std::string out = scratch_directory("masked_particles_refused");
  const std::string prm = source_path(t11);
  const std::string base = "particles " + prm + " --set \"Particles/directory=" + out + "/tokens\" ";
  struct Case
  {
    std::string set, expected;
  };
  for (const Case &c : {Case{"--set \"Particles/import file=tokens.csv\"",
                             "subsection 'Particles', entry 'import file': expected none with Attention/type = masked"},
                        Case{"--set Noise/diffusion=0.1", "entry 'diffusion': 0 with Attention/type = masked"},
                        Case{"--set \"Particles/slice window=0\"", "entry 'slice window': expected a width in (0, 1]"},
                        Case{"--set \"Attention/masked kernel=sinkhorn\"", "entry 'masked kernel': expected one of"}})
    {
      const auto result = run_tpde(base + c.set);
      EXPECT_EQ(input_error_problem(result, prm, c.expected), "") << result.output;
      EXPECT_FALSE(std::filesystem::exists(out + "/tokens")) << "nothing half-written: " << c.set;
    }
}

TEST(MaskedParticlesRun, CircleRunWritesTokensAndSliceModes)
{
  const std::string out    = scratch_directory("masked_particles_circle");
  const auto        result = run_tpde("particles " + source_path(circle) + " --quiet --set \"Particles/directory=" + out +
                                      "\" --set \"Particles/number of tokens=300\" --set \"Time stepping/end time=0.5\"");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Table table = read_csv(out + "/statistics.csv");
  ASSERT_EQ(table.rows(), 51u); // one row a step of 0.01
  for (const char *name : {"mean_0", "cov_00", "mean_2", "slice0_mode_1", "slice5_mode_2", "slice5_mass"})
    EXPECT_EQ(table.columns.count(name), 1u) << name;
  EXPECT_EQ(table.columns.count("order_parameter"), 0u) << "masked on the circle: per-slice modes only, as the grid";
  for (const char *file : {"particles.pvd", "particles_00000.vtp", "particles_00002.vtp", "parameters.prm"})
    EXPECT_TRUE(std::filesystem::exists(out + "/" + file)) << file;
}
