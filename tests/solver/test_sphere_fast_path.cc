// S^2 runs with the zonal fast path (sphere/sphere_harmonics.h) and the
// `clusters` column (sphere/surface_clusters.h): the statistics of a grid run
// with `evaluation = fast` (harmonic sums) equal those with direct sums to
// 1e-10 relative (SA and USA, beta = 5, a von Mises-Fisher mixture), and a
// mixture of three well-separated von Mises-Fisher laws has 3 clusters on the
// grid and with particles, the uniform law 0.
#include "sphere/sphere_harmonics.h"
#include "support/solver_runs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  const std::string clusters_prm = "parameters/sphere-clusters.prm";

  /// Three von Mises-Fisher laws 90+ degrees apart (concentration 20: width ~13 degrees).
  const std::string three_caps =
    " --set 'Initial condition/type=von mises' --set 'Initial condition/von mises weights=0.4,0.35,0.25'"
    " --set 'Initial condition/von mises directions=0,0,1;1,0,0;-0.5,-0.7,-0.5'"
    " --set 'Initial condition/von mises concentrations=20,20,20'";

  std::string run_options(const std::string &dir)
  {
    return " --quiet --set 'Output/directory=" + dir + "' --set 'Output/write vtu=false'";
  }
} // namespace

TEST(SphereFastPath, GridStatisticsEqualThoseOfDirectSums)
{
  for (const std::string type : {"softmax", "unnormalized"})
    {
      Table tables[2];
      for (const std::string evaluation : {"direct", "fast"})
        {
          const std::string dir = scratch_directory("sphere_fast_path_" + type + "_" + evaluation);
          const auto        run = run_tpde(
            "run " + source_path(clusters_prm) + run_options(dir) + three_caps + " --set Attention/type=" + type +
            " --set Attention/evaluation=" + evaluation + " --set 'Time stepping/end time=0.2'");
          ASSERT_EQ(run.exit_code, 0) << run.output;
          tables[evaluation == "fast"] = read_csv(dir + "/statistics.csv");
        }
      const Table &direct = tables[0], &fast = tables[1];
      ASSERT_EQ(direct.rows(), fast.rows());
      ASSERT_EQ(fast.columns.count("harmonic_degree"), 1u);
      EXPECT_EQ(direct.columns.count("harmonic_degree"), 0u);
      EXPECT_EQ(direct.columns.at("fast_share")[direct.rows() - 1], 0.); // evaluation = direct interpolates nothing
      const std::size_t last = fast.rows() - 1;
      EXPECT_EQ(fast.columns.at("harmonic_degree")[last], sphere::harmonic_degree(5., 1e-10));
      EXPECT_EQ(fast.columns.at("harmonic_fallback")[last], 0.);
      double worst = 0;
      for (const auto &[name, values] : direct.columns)
        {
          if (name == "wall_seconds" || name == "fast_share") // fast_share: the direct path's own diagnostic
            continue;
          const auto  &other = fast.columns.at(name);
          // Densities relative to their O(1) maximum (min_density of the caps is ~1e-21).
          double       scale = name == "min_density" ? 1. : 0., error = 0;
          for (std::size_t i = 0; i <= last; ++i)
            {
              scale = std::max(scale, std::abs(values[i]));
              error = std::max(error, std::abs(values[i] - other[i]));
            }
          EXPECT_LE(error, 1e-10 * scale) << type << " column " << name;
          if (scale > 0)
            worst = std::max(worst, error / scale);
        }
      std::printf("%s: fast vs direct statistics, max relative difference %.2e over %zu rows\n", type.c_str(),
                  worst, last + 1);
      EXPECT_GT(fast.columns.at("max_speed")[last], 0.1) << "the tokens move";
    }
}

TEST(SphereFastPath, ThreeVonMisesFisherCapsAreThreeClusters)
{
  for (const bool uniform : {false, true})
    {
      const std::string initial = uniform ? " --set 'Initial condition/noise amplitude=0'" : three_caps;
      const std::string dir     = scratch_directory(std::string("sphere_clusters_") + (uniform ? "uniform" : "caps"));
      const auto        grid    = run_tpde("run " + source_path(clusters_prm) + run_options(dir + "/grid") + initial +
                                           " --set 'Mesh/global refinements=3' --set 'Time stepping/end time=0.1'");
      ASSERT_EQ(grid.exit_code, 0) << grid.output;
      const auto particles = run_tpde("particles " + source_path(clusters_prm) + run_options(dir) + initial +
                                      " --set 'Particles/number of tokens=20000' --set 'Particles/time step=0.05'"
                                      " --set 'Time stepping/end time=0.1'");
      ASSERT_EQ(particles.exit_code, 0) << particles.output;
      for (const std::string run : {"/grid", "/particles"})
        {
          const Table table = read_csv(dir + run + "/statistics.csv");
          const auto &clusters = table.columns.at("clusters");
          for (std::size_t i = 0; i < table.rows(); ++i)
            EXPECT_EQ(clusters[i], uniform ? 0. : 3.) << run << " row " << i;
        }
    }
}
