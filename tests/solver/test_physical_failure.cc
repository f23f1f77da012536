// A run that cannot go on stops with a message and exit code 3, keeping the
// output written before the failure.
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

using namespace tpde::testing;

TEST(PhysicalFailure, CollapsingTimeStepStopsTheRunAndKeepsOutput)
{
  const std::string dir = scratch_directory("physical-failure") + "/out";
  // Velocities of order 1e300: the stable time step collapses.
  const auto result = run_tpde("run " + source_path("tests/data/small-2d.prm") + " --quiet --set Output/directory=" +
                               dir + " --set \"Attention/V=1e300, 0; 0, 1e300\"");
  EXPECT_EQ(result.exit_code, 3) << result.output;
  EXPECT_NE(result.output.find("time step collapsed"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("Stacktrace"), std::string::npos);
  const Table stats = read_csv(dir + "/statistics.csv");
  EXPECT_GE(stats.rows(), 1u) << "the initial state is recorded";
  EXPECT_TRUE(std::filesystem::exists(dir + "/solution.pvd"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/solution_00000.vtu"));
  for (const auto &entry : std::filesystem::directory_iterator(dir))
    EXPECT_NE(entry.path().extension(), ".tmp") << "no half-written files: " << entry.path();
}

TEST(PhysicalFailure, ReferenceBlowUpGivesNaNColumnsNotAFailure)
{
  // T2 blows up at t* = 2; the PDE on its bounded domain does not.
  const std::string dir    = scratch_directory("reference-blowup") + "/out";
  const auto        result = run_tpde("run " + source_path("parameters/gaussian-1d-blowup.prm") +
                                 " --quiet --set \"Output/write vtu=false\" --set Output/directory=" + dir +
                                 " --set \"Time stepping/end time=2.2\" --set \"Mesh/global refinements=2\"");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Table stats = read_csv(dir + "/statistics.csv");
  const auto &time  = stats.columns.at("time");
  const auto &ref   = stats.columns.at("ref_cov_00");
  for (std::size_t i = 0; i < stats.rows(); ++i)
    {
      if (time[i] < 1.9)
        EXPECT_TRUE(std::isfinite(ref[i])) << "t = " << time[i];
      if (time[i] > 2.0)
        EXPECT_TRUE(std::isnan(ref[i])) << "t = " << time[i];
    }
}
