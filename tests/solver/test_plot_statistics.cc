// postprocess/plot_statistics.py on short grid and particle runs (PNG written,
// exit 0), on bad input (one line, exit 2), and `Output/plots = true`, which
// makes `tpde run` and `tpde particles` write statistics.png themselves (a
// plot that fails is a warning, not a failed run).
#include "support/png_image.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

using namespace tpde::testing;

namespace
{
  /// T1 (1D collapse, with the exact Gaussian reference) to t = 0.2: under a second.
  const std::string short_run = " --quiet --set 'Time stepping/end time=0.2' --set 'Particles/number of tokens=200'";

  std::string t1() { return source_path("parameters/gaussian-1d-collapse.prm"); }

  std::string plot_command(const std::string &arguments)
  {
    return "/usr/bin/python3 " + source_path("postprocess/plot_statistics.py") + " " + arguments;
  }

  /// Width, height and the share of pixels that are not white.
  void expect_plot(const std::string &png)
  {
    ASSERT_TRUE(std::filesystem::exists(png)) << png;
    const Image image = read_png(png);
    EXPECT_GE(image.width, 600);
    EXPECT_GE(image.height, 500);
    std::size_t drawn = 0;
    for (int y = 0; y < image.height; ++y)
      for (int x = 0; x < image.width; ++x)
        {
          const unsigned char *p = image.at(x, y);
          drawn += !(p[0] > 250 && p[1] > 250 && p[2] > 250);
        }
    EXPECT_GT(drawn, std::size_t(0.03 * image.width * image.height)) << png << ": almost blank";
  }

  void expect_one_line_error(const CommandResult &result, const std::string &what)
  {
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_EQ(result.output.find("plot_statistics.py: error: "), 0u) << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
    EXPECT_NE(result.output.find(what), std::string::npos) << result.output;
  }
} // namespace

TEST(PlotStatistics, GridAndParticleRunsArePlotted)
{
  const auto dir    = scratch_directory("plot-statistics-runs");
  auto       result = run_tpde("run " + t1() + short_run + " --set Output/directory=" + dir);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  result = run_tpde("particles " + t1() + short_run + " --set Output/directory=" + dir);
  ASSERT_EQ(result.exit_code, 0) << result.output;

  result = run_command(plot_command(dir));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  expect_plot(dir + "/statistics.png");
  result = run_command(plot_command(dir + "/particles --out " + dir + "/tokens.png"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  expect_plot(dir + "/tokens.png");
}

TEST(PlotStatistics, BadInputIsOneLineAndExitCodeTwo)
{
  const auto dir = scratch_directory("plot-statistics-bad");
  expect_one_line_error(run_command(plot_command(dir + "/missing")), "no such folder");
  expect_one_line_error(run_command(plot_command(dir)), "no statistics.csv");
  write_file(dir + "/header/statistics.csv", "step,time,dt,mass\n");
  expect_one_line_error(run_command(plot_command(dir + "/header")), "holds no rows");
  write_file(dir + "/broken/statistics.csv", "step,time,dt,mass\n0,0,0,1\n1,0.1,x,1\n");
  expect_one_line_error(run_command(plot_command(dir + "/broken")), "line 3, column 3");
  write_file(dir + "/other/statistics.csv", "a,b\n1,2\n");
  expect_one_line_error(run_command(plot_command(dir + "/other")), "no column 'step'");
}

TEST(PlotStatistics, OutputPlotsTrueWritesStatisticsPng)
{
  const auto dir  = scratch_directory("plot-statistics-output-plots");
  const auto with = short_run + " --set Output/plots=true --set Output/directory=" + dir;
  auto       result = run_tpde("run " + t1() + with);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "") << "--quiet: no 'plot:' line, no warning";
  expect_plot(dir + "/statistics.png");
  result = run_tpde("particles " + t1() + with);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  expect_plot(dir + "/particles/statistics.png");

  // Without the setting, nothing is drawn.
  const auto plain = scratch_directory("plot-statistics-no-plots");
  result = run_tpde("run " + t1() + short_run + " --set Output/directory=" + plain);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_FALSE(std::filesystem::exists(plain + "/statistics.png"));

  // A plot that cannot be drawn: one warning line, and the run succeeds.
  const auto failing = scratch_directory("plot-statistics-failing");
  result = run_command("TPDE_PLOT_STATISTICS=" + failing + "/no-such-script.py " + std::string(TPDE_EXECUTABLE) +
                       " run " + t1() + short_run + " --set Output/plots=true --set Output/directory=" + failing);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output.find("tpde: warning: Output/plots: "), 0u) << result.output;
  EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
  EXPECT_TRUE(std::filesystem::exists(failing + "/statistics.csv"));
  EXPECT_FALSE(std::filesystem::exists(failing + "/statistics.png"));
}
