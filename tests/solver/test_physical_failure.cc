// A run that cannot go on stops with a message and exit code 3, keeping the
// output written before the failure.
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

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
  ASSERT_GE(stats.rows(), 1u) << "the initial state is recorded";
  EXPECT_EQ(stats.columns.at("time")[0], 0.);
  EXPECT_NEAR(stats.columns.at("mass")[0], 1., 1e-12);
  // Rows are written whole: every line has the header's number of fields.
  std::ifstream csv(dir + "/statistics.csv");
  std::string   line;
  std::size_t   lines = 0;
  while (std::getline(csv, line))
    {
      ++lines;
      EXPECT_EQ(std::size_t(std::count(line.begin(), line.end(), ',')) + 1, stats.header.size()) << line;
    }
  EXPECT_EQ(lines, stats.rows() + 1);
  EXPECT_TRUE(std::filesystem::exists(dir + "/solution.pvd"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/solution_00000.vtu"));
  for (const auto &entry : std::filesystem::directory_iterator(dir))
    {
      EXPECT_NE(entry.path().extension(), ".tmp") << "no half-written files: " << entry.path();
    }
}

TEST(PhysicalFailure, ReferenceBlowUpGivesNaNColumnsNotAFailure)
{
  // T2 blows up at t* = 2 (the reference covariance grows without bound);
  // the PDE on its bounded domain does not: its mass flows out through the
  // boundary and the run goes on to t = 2.2 with finite statistics.
  const std::string dir    = scratch_directory("reference-blowup") + "/out";
  const auto        result = run_tpde("run " + source_path("parameters/gaussian-1d-blowup.prm") +
                                 " --quiet --set \"Output/write vtu=false\" --set Output/directory=" + dir +
                                 " --set \"Time stepping/end time=2.2\" --set \"Mesh/global refinements=2\"");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Table stats = read_csv(dir + "/statistics.csv");
  const auto  at    = [&](const char *name) -> const std::vector<double> & { return stats.columns.at(name); };
  const auto &time  = at("time");
  ASSERT_GT(stats.rows(), 0u);
  EXPECT_NEAR(time.back(), 2.2, 1e-12) << "the run reaches its end time";
  std::size_t before = 0, after = 0, first_after = stats.rows();
  for (std::size_t i = 0; i < stats.rows(); ++i)
    {
      SCOPED_TRACE("t = " + std::to_string(time[i]));
      // Mass leaves, none is lost: mass + outflow = 1 in every row.
      EXPECT_NEAR(at("mass")[i] + at("outflow")[i], 1., 1e-12);
      if (time[i] < 1.9)
        {
          ++before;
          for (const char *name : {"ref_mean_0", "ref_cov_00", "err_l1", "err_l2"})
            EXPECT_TRUE(std::isfinite(at(name)[i])) << name;
          // Early on, with little mass at the boundary, the solution follows T2.
          if (time[i] <= 0.5)
            {
              EXPECT_LE(std::abs(at("cov_00")[i] / at("ref_cov_00")[i] - 1), 1e-4);
            }
        }
      if (time[i] > 2.0)
        {
          ++after;
          first_after = std::min(first_after, i);
          for (const char *name : {"ref_mean_0", "ref_cov_00", "err_l1", "err_l2"})
            EXPECT_TRUE(std::isnan(at(name)[i])) << name << " past the blow-up";
          for (const char *name : {"mass", "outflow", "mean_0", "cov_00", "min_density", "entropy", "max_speed"})
            EXPECT_TRUE(std::isfinite(at(name)[i])) << name << " past the blow-up";
          EXPECT_LE(std::abs(at("mean_0")[i]), 1e-12) << "symmetric data keep their mean at 0";
          EXPECT_GE(at("min_density")[i], 0.);
        }
    }
  std::printf("%zu rows before t = 1.9, %zu after t* = 2; at t = %g: mass %.4f, outflow %.4f, variance %.3f\n", before,
              after, time.back(), at("mass").back(), at("outflow").back(), at("cov_00").back());
  EXPECT_GE(before, 100u);
  ASSERT_GE(after, 20u) << "the statistics must go on past the blow-up time";
  // Past t* the packet keeps spreading and leaving the domain.
  EXPECT_GT(at("cov_00").back(), at("cov_00")[first_after]);
  EXPECT_LT(at("mass").back(), at("mass")[first_after]);
  EXPECT_GT(at("outflow").back(), 0.05);
}
