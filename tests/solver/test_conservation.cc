// Mass + outflow = 1 to round-off over whole runs (with mass leaving through
// the boundary), rho >= 0 at all check points after every stage, and the
// limiter is what keeps it so.
#include "initial/initial_condition.h"
#include "support/dg_moments.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  /// Steps a simulation to its end time, checking after every step (the
  /// limiter's minimum covers every stage) and returning the lowest value.
  template <int dim>
  double run_and_track(Simulation<dim> &simulation, double end_time, double &max_defect, double &outflow)
  {
    simulation.initialize();
    double lowest = simulation.min_check_value();
    max_defect    = 0;
    while (simulation.time() < end_time * (1 - 1e-14))
      {
        double dt = std::min(simulation.stable_time_step(), end_time - simulation.time());
        while (!simulation.step(dt))
          dt *= 0.5;
        lowest = std::min(lowest, simulation.min_check_value());
        const double mass = total_mass(simulation.space(), simulation.solution().begin());
        max_defect        = std::max(max_defect, std::abs(mass + simulation.outflow() - 1.));
      }
    outflow = simulation.outflow();
    return lowest;
  }

  /// Runs to end_time: real outflow (> 1%), mass + outflow = 1 to 1e-13
  /// after every step, rho >= 0 at all check points.
  template <int dim>
  void expect_outflow_conserving_and_positive(Simulation<dim> &simulation, double end_time)
  {
    double       defect, outflow;
    const double lowest = run_and_track(simulation, end_time, defect, outflow);
    std::printf("outflow %.6f, max |mass + outflow - 1| = %.3e, min check value %.3e\n", outflow, defect, lowest);
    EXPECT_GT(outflow, 0.01) << "the test needs real outflow";
    EXPECT_LE(defect, 1e-13);
    EXPECT_GE(lowest, 0.);
  }

  Parameters small_2d_without_limiter(std::vector<std::string> overrides)
  {
    overrides.push_back("Discretization/positivity limiter=false");
    return parameters_from("tests/data/small-2d.prm", overrides);
  }

  /// The initial density of tests/data/small-2d.prm with `overrides`,
  /// projected without the positivity limiter, on the owned cells.
  struct UnlimitedStart
  {
    explicit UnlimitedStart(const std::vector<std::string> &overrides)
      : simulation(small_2d_without_limiter(overrides), MPI_COMM_WORLD)
    {
      simulation.initialize();
      const double *begin = simulation.solution().begin();
      u.assign(begin, begin + simulation.space().n_owned_dofs());
    }

    Simulation<2>       simulation;
    std::vector<double> u;
  };

  /// The lowest value of u at the limiter's check points (u unchanged).
  double lowest_check_value(const DGSpace<2> &space, std::vector<double> u)
  {
    return positivity_limiter(space, u.data(), Limiting::measure).min_check_value;
  }
} // namespace

TEST(Conservation, MassPlusOutflowIsOneWhileMassLeaves1D)
{
  // T2 (blow-up, v a > 0) on a domain too small to hold it: mass flows out.
  const auto p = parameters_from("parameters/gaussian-1d-blowup.prm",
                                 {"Mesh/lower corner=-1.2", "Mesh/upper corner=1.2", "Mesh/subdivisions=24",
                                  "Mesh/global refinements=0", "Time stepping/end time=1"});
  Simulation<1> simulation(p, MPI_COMM_WORLD);
  expect_outflow_conserving_and_positive(simulation, 1.);
}

TEST(Conservation, MassPlusOutflowIsOneWhileMassLeaves2D)
{
  const auto p = parameters_from("tests/data/small-2d.prm",
                                 {"Attention/V=0.8, 0.3; -0.2, 1", "Mesh/lower corner=-3", "Mesh/upper corner=3",
                                  "Time stepping/end time=0.5"});
  Simulation<2> simulation(p, MPI_COMM_WORLD);
  expect_outflow_conserving_and_positive(simulation, 0.5);
}

TEST(Positivity, LimiterKeepsDiscontinuousDataNonNegativeAndIsNeeded)
{
  // A uniform box density is discontinuous: its Q3 projection overshoots
  // below zero, and transport makes it worse without the limiter.
  const std::vector<std::string> setup = {"Initial condition/type=box", "Initial condition/box lower corner=-2, -1",
                                          "Initial condition/box upper corner=1, 2", "Discretization/degree=3",
                                          "Time stepping/end time=0.3"};
  double defect, outflow;
  {
    Simulation<2> limited(parameters_from("tests/data/small-2d.prm", setup), MPI_COMM_WORLD);
    const double  lowest = run_and_track(limited, 0.3, defect, outflow);
    std::printf("with limiter: min check value %.3e, mass defect %.3e\n", lowest, defect);
    EXPECT_GE(lowest, 0.);
    EXPECT_LE(defect, 1e-13);
  }
  {
    auto o = setup;
    o.push_back("Discretization/positivity limiter=false");
    Simulation<2> unlimited(parameters_from("tests/data/small-2d.prm", o), MPI_COMM_WORLD);
    const double  lowest = run_and_track(unlimited, 0.3, defect, outflow);
    std::printf("without limiter: min check value %.3e\n", lowest);
    EXPECT_LT(lowest, -1e-3) << "without the limiter the density must go negative";
    EXPECT_LE(defect, 1e-13) << "mass is conserved either way";
  }
}

TEST(Positivity, LimiterKeepsCellMeansAndReachesZero)
{
  UnlimitedStart start({"Initial condition/type=box", "Discretization/degree=4"});
  auto          &space = start.simulation.space();
  const auto    &u     = start.u;
  ASSERT_LT(lowest_check_value(space, u), -1e-3) << "the unlimited projection must undershoot";
  std::vector<double> limited = u;
  const double        after   = positivity_limiter(space, limited.data(), Limiting::cellwise).min_check_value;
  EXPECT_GE(after, 0.);
  const CellMassChange change = largest_cell_mass_change(space, u.data(), limited.data());
  EXPECT_LE(change.relative, 1e-15) << "cell " << change.cell;
}

TEST(Positivity, MomentKeepingLimiterRestoresMeanAndCovarianceAndCellMeans)
{
  // T6's Gaussian at h = 0.5, about 1.3 cells per minor standard deviation:
  // its Q2 projection undershoots in the tail cells, and scaling those
  // towards their means moves mass outwards.
  UnlimitedStart start({"Mesh/subdivisions=24", "Initial condition/covariance=1, 0.3; 0.3, 0.25"});
  auto          &space = start.simulation.space();
  const auto    &u     = start.u;
  ASSERT_LT(lowest_check_value(space, u), -1e-5) << "the unlimited projection must undershoot";
  std::vector<double> cellwise = u, kept = u;
  EXPECT_GE(positivity_limiter(space, cellwise.data(), Limiting::cellwise).min_check_value, 0.);
  EXPECT_GE(positivity_limiter(space, kept.data(), Limiting::keep_moments).min_check_value, 0.);

  const auto exact = raw_moments(space, u.data()), plain = raw_moments(space, cellwise.data()),
             restored = raw_moments(space, kept.data());
  double     plain_change = 0, restored_change = 0;
  for (unsigned int a = 0; a < 6; ++a)
    {
      plain_change    = std::max(plain_change, std::abs(plain[a] - exact[a]));
      restored_change = std::max(restored_change, std::abs(restored[a] - exact[a]));
    }
  std::printf("moment change: cell-wise limiter %.3e, moment-keeping %.3e\n", plain_change, restored_change);
  EXPECT_GT(plain_change, 1e-6) << "the cell-wise limiter must move the moments for this test to mean anything";
  EXPECT_LE(restored_change, 1e-14);

  // Every cell keeps its mass, so the transport's mass balance is untouched.
  const CellMassChange change = largest_cell_mass_change(space, u.data(), kept.data());
  EXPECT_LE(change.relative, 2e-15) << "cell " << change.cell;
}

TEST(Positivity, MomentKeepingLimiterKeepsT6MomentsAtTwoCellsPerSigma)
{
  // T6 on 32 x 32 Q2 cells (h = 0.5, minor sigma about 0.4): with the limiter
  // scaling tail cells towards their means the covariance error grows by
  // about 6e-4 per unit time; restoring the moments leaves about 1e-5.
  const auto errors = [](bool keep) {
    const auto p = parameters_from("parameters/gaussian-2d-isotropize.prm",
                                   {"Time stepping/end time=0.1", std::string("Discretization/limiter keeps moments=") +
                                                                     (keep ? "true" : "false")});
    return relative_moment_error(run_without_output(p), 2);
  };
  const double kept = errors(true), cellwise = errors(false);
  std::printf("T6 32^2 Q2 at t = 0.1: moment error %.3e (moments kept), %.3e (cell-wise only)\n", kept, cellwise);
  EXPECT_LE(kept, 2e-6);
  EXPECT_GE(cellwise, 2e-5);
}
