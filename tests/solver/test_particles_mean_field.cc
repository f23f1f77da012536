// Mean-field limit in 1D (T1, physics.md §5): the exact W1 distance between N
// i.i.d. tokens, moved by `tpde particles`' integrator, and the grid solution
// at t = 1, averaged over seeds, decays like N^-1/2: the fitted slope of
// log W1 against log N lies in [-0.7, -0.35] for N = 100 ... 10^4.
#include "run/particle_run.h"
#include "postprocess/comparison.h"
#include "postprocess/vtk_reader.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

using namespace tpde::testing;

TEST(ParticleMeanField, W1SlopeInOneDimension)
{
  const auto dir    = scratch_directory("particles-mean-field");
  const auto prm    = source_path("parameters/gaussian-1d-collapse.prm");
  const auto result = run_tpde("run " + prm + " --quiet --set Output/directory=" + dir + " --set Output/interval=0");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto series = tpde::postprocess::read_pvd(dir + "/solution.pvd");
  ASSERT_EQ(series.back().time, 1.);
  const auto                          grid = tpde::postprocess::read_grid(series.back().file);
  const tpde::postprocess::MeshDensity density(grid, 1);

  // Fewer seeds where one run costs more (N^2) and fluctuates less.
  const struct
  {
    unsigned long n;
    unsigned int  seeds;
  } levels[] = {{100, 32}, {316, 16}, {1000, 8}, {3162, 4}, {10000, 3}};
  std::vector<double> sizes, distances;
  for (const auto &level : levels)
    {
      double sum = 0;
      for (unsigned int seed = 1; seed <= level.seeds; ++seed)
        {
          const auto parameters = tpde::read_parameters(
            prm, {"Particles/number of tokens=" + std::to_string(level.n), "Particles/seed=" + std::to_string(seed),
                  "Particles/sampling=random", "Particles/time step=0.1", "Output/interval=0"});
          tpde::RunOptions options;
          options.quiet        = true;
          options.write_output = false;
          const auto summary   = tpde::run_particles(parameters, options);
          ASSERT_EQ(summary.time, 1.);
          sum += density.w1_to_tokens(summary.positions);
        }
      const double w1 = sum / level.seeds;
      std::printf("N = %6lu  seeds %2u  mean W1 = %.4e\n", level.n, level.seeds, w1);
      sizes.push_back(double(level.n));
      distances.push_back(w1);
    }
  const double slope = log_log_slope(sizes, distances);
  std::printf("fitted slope of log W1 against log N: %.3f\n", slope);
  EXPECT_GE(slope, -0.7);
  EXPECT_LE(slope, -0.35);
}
