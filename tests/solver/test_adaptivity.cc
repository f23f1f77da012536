// Mesh adaptation conserves mass to round-off and keeps rho >= 0: 50 rounds
// of random refine/coarsen flags in 1D and 2D (serial here; -np 2 through
// the executable below).
#include "initial/initial_condition.h"
#include "support/solver_runs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  template <int dim>
  void random_adaptation(const Parameters &p, unsigned int rounds)
  {
    Simulation<dim> simulation(p, MPI_COMM_WORLD);
    simulation.initialize();
    std::mt19937 random(42); // same stream on every rank (the 1D mesh is shared)
    double       worst_change = 0, lowest = 0;
    unsigned int max_level = 0;
    for (unsigned int round = 0; round < rounds; ++round)
      {
        const double before = total_mass(simulation.space(), simulation.solution().begin());
        simulation.adapt_mesh([&](DGSpace<dim> &space) {
          std::uniform_real_distribution<double> u(0, 1);
          for (const auto &cell : space.triangulation->active_cell_iterators())
            {
              const double r = u(random); // drawn for every cell, owned or not
              if (!cell->is_locally_owned())
                continue;
              if (r < 0.2 && cell->level() < 3)
                cell->set_refine_flag();
              else if (r > 0.6)
                cell->set_coarsen_flag();
            }
        });
        const double after = total_mass(simulation.space(), simulation.solution().begin());
        worst_change       = std::max(worst_change, std::abs(after - before) / before);
        lowest             = std::min(lowest, simulation.min_check_value());
        for (const auto &cell : simulation.space().owned_cells())
          max_level = std::max<unsigned int>(max_level, cell->level());
      }
    std::printf("%dD: %u adaptations, worst relative mass change %.3e, min check value %.3e, cells %u, "
                "max level %u\n",
                dim, rounds, worst_change, lowest, simulation.space().triangulation->n_global_active_cells(),
                max_level);
    EXPECT_LE(worst_change, 1e-13);
    EXPECT_GE(lowest, 0.);
    EXPECT_GE(max_level, 2u) << "the mesh must really have been refined";
  }
} // namespace

TEST(Adaptivity, RandomAdaptationConservesMass2D)
{
  random_adaptation<2>(parameters_from("tests/data/small-2d.prm", {"Discretization/degree=3"}), 50);
}

TEST(Adaptivity, RandomAdaptationConservesMass1D)
{
  random_adaptation<1>(parameters_from("parameters/gaussian-1d-collapse.prm",
                                       {"Mesh/subdivisions=10", "Mesh/global refinements=1"}),
                       50);
}

namespace
{
  /// An adaptive run of the executable: mass + outflow stays 1, the density
  /// non-negative, and the mesh really changes.
  void adaptive_run(const std::string &name, const std::string &prm, const std::string &overrides,
                    unsigned int ranks)
  {
    const std::string dir    = scratch_directory("adaptive-" + name) + "/out";
    const auto        result = run_tpde("run " + source_path(prm) + " --quiet --set Output/directory=" + dir +
                                   " --set \"Mesh refinement/adaptive=true\" --set \"Mesh refinement/interval=2\"" +
                                   overrides,
                                 ranks);
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const Table t = read_csv(dir + "/statistics.csv");
    double      worst = 0, lowest = 0, fewest = 1e300, most = 0;
    for (std::size_t i = 0; i < t.rows(); ++i)
      {
        worst  = std::max(worst, std::abs(t.columns.at("mass")[i] + t.columns.at("outflow")[i] - 1.));
        lowest = std::min(lowest, t.columns.at("min_density")[i]);
        fewest = std::min(fewest, t.columns.at("cells")[i]);
        most   = std::max(most, t.columns.at("cells")[i]);
      }
    std::printf("%s (%u ranks): %zu steps, cells %g..%g, levels up to %g, max |mass + outflow - 1| = %.2e\n",
                name.c_str(), ranks, t.rows() - 1, fewest, most, t.columns.at("max_level").back(), worst);
    EXPECT_LE(worst, 1e-12);
    EXPECT_GE(lowest, 0.);
    EXPECT_GT(most, fewest) << "the mesh must change";
  }
} // namespace

TEST(Adaptivity, AdaptiveRunsConserveMassOnTwoRanks2D)
{
  // Fractions (not the default thresholds): the mesh changes at every adaptation.
  adaptive_run("2d", "tests/data/small-2d.prm",
               " --set \"Mesh refinement/strategy=fraction\" --set \"Mesh refinement/indicator=combined\""
               " --set \"Mesh refinement/initial refinements=0\" --set \"Mesh refinement/minimum level=0\""
               " --set \"Mesh refinement/maximum level=2\" --set \"Time stepping/end time=0.1\"",
               2);
}

TEST(Adaptivity, AdaptiveRunsConserveMassOnTwoRanks1D)
{
  adaptive_run("1d", "parameters/gaussian-1d-collapse.prm",
               " --set \"Mesh/global refinements=2\" --set \"Mesh refinement/maximum level=5\""
               " --set \"Time stepping/end time=0.2\"",
               2);
}

// T1 to t = 10 (physics.md §5) on parameters/collapse-1d-adaptive.prm: the
// mesh follows the packet from width 0.7 to 0.21 and the moments match the
// exact solution to the 1e-5, with about 30 cells at the end (a
// uniform mesh needs 160 at cfl 0.1; tests/benchmarks/adaptive_vs_uniform.py).
TEST(Adaptivity, CollapseToTimeTenMatchesExactSolution)
{
  const auto s    = run_without_output(parameters_from("parameters/collapse-1d-adaptive.prm", {}));
  const auto col  = [&](const std::string &name) { return column(s.header, s.last_row, name); };
  const double mean_error     = std::abs(col("mean_0") / col("ref_mean_0") - 1);
  const double variance_error = std::abs(col("cov_00") / col("ref_cov_00") - 1);
  std::printf("T1 adaptive, t = %g: %g cells (levels %g..%g), mean %.2e, variance %.2e, mass defect %.1e\n",
              col("time"), col("cells"), col("min_level"), col("max_level"), mean_error, variance_error,
              std::abs(col("mass") + col("outflow") - 1));
  EXPECT_NEAR(col("time"), 10., 1e-12);
  EXPECT_NEAR(col("ref_cov_00"), 0.5 / 11, 1e-12);
  EXPECT_LE(mean_error, 1e-5);
  EXPECT_LE(variance_error, 1e-5);
  EXPECT_LE(std::abs(col("mass") + col("outflow") - 1), 1e-12);
  EXPECT_LE(col("cells"), 36.);
}
