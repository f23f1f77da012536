// The grid solver's results do not depend on the thread count: the limiter,
// the transport operator and the statistics run their cells on the TBB
// threads with every sum taken in a fixed order (dg/cell_chunks.h), the fast
// summation is thread-count independent by construction, and DGSpace avoids
// deal.II's serial-only reuse of a translated cell's Jacobians. So
// DEAL_II_NUM_THREADS=1 and =2 write the same statistics.csv, bit for bit
// (every column but wall_seconds), with fast sums, the limiter restoring the
// moments, and mesh adaptation.
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace tpde::testing;

namespace
{
  struct Case
  {
    std::string name;
    std::string file; // in the source tree
    std::string overrides;
  };

  std::vector<std::vector<std::string>> read_fields(const std::string &path)
  {
    std::ifstream                         in(path);
    std::vector<std::vector<std::string>> rows;
    for (std::string line; std::getline(in, line);)
      {
        std::vector<std::string> fields;
        std::stringstream        s(line);
        for (std::string field; std::getline(s, field, ',');)
          fields.push_back(field);
        rows.push_back(fields);
      }
    return rows;
  }

  std::vector<std::vector<std::string>> run_with_threads(const Case &c, unsigned int threads)
  {
    const std::string out     = scratch_directory("thread_count_" + c.name + "_" + std::to_string(threads));
    const auto        result  = run_command("DEAL_II_NUM_THREADS=" + std::to_string(threads) + " " + TPDE_EXECUTABLE +
                                    " run " + source_path(c.file) + " --quiet --overwrite " + c.overrides +
                                    " --set \"Output/write vtu=false\" --set \"Output/directory=" + out + "\"");
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return read_fields(out + "/statistics.csv");
  }
} // namespace

class ThreadCount : public ::testing::TestWithParam<Case>
{};

TEST_P(ThreadCount, OneAndTwoThreadsWriteTheSameStatistics)
{
  const Case &c   = GetParam();
  const auto  one = run_with_threads(c, 1), two = run_with_threads(c, 2);
  ASSERT_GE(one.size(), 6u) << "too few rows to compare";
  ASSERT_EQ(one.size(), two.size());
  const auto &header = one.front();
  for (std::size_t r = 0; r < one.size(); ++r)
    {
      ASSERT_EQ(one[r].size(), header.size());
      ASSERT_EQ(two[r].size(), header.size());
      for (std::size_t j = 0; j < header.size(); ++j)
        if (header[j] != "wall_seconds")
          EXPECT_EQ(one[r][j], two[r][j]) << "row " << r << ", column " << header[j];
    }
  if (c.name == "adaptive")
    {
      // The mesh really changed (the transfer and the children's check points ran).
      std::size_t cells = 0;
      while (header[cells] != "cells")
        ++cells;
      EXPECT_NE(one[1][cells], one.back()[cells]);
    }
}

INSTANTIATE_TEST_SUITE_P(
  Runs, ThreadCount,
  ::testing::Values(
    // T6 (gaussian-2d-isotropize) on 16^2 Q2 cells with fast sums: the tails go
    // negative, so the limiter limits cells and restores the moments every stage.
    Case{"gaussian_fast", "parameters/gaussian-2d-isotropize.prm",
         "--set \"Mesh/subdivisions=16\" --set \"Attention/evaluation=fast\" --set \"Time stepping/end time=0.2\""},
    // 24^2 cells: the geometry (256 cells per chunk) and the interpolated face
    // velocities (1024 faces per chunk) are computed in several chunks.
    Case{"interpolated_faces", "parameters/gaussian-2d-isotropize.prm",
         "--set \"Mesh/subdivisions=24\" --set \"Attention/evaluation=fast\" --set \"Time stepping/end time=0.1\" "
         "--set \"Discretization/face velocity=interpolated\""},
    Case{"adaptive", "parameters/clusters-2d-adaptive.prm",
         "--set \"Attention/evaluation=fast\" --set \"Time stepping/end time=0.1\""}),
  [](const ::testing::TestParamInfo<Case> &info) { return info.param.name; });
