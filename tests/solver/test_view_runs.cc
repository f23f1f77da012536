// postprocess/paraview/view_runs.py on a grid run alone (no particle run):
// the colours must span the colour range stated in the legend (no saturated
// plateau, the top of the range reached with --range frame, not reached at
// t = 0 with --range run on a collapsing run), the legend and the axes must
// carry dark text on a white background, and bad input must be one line with
// exit code 2.
#include "support/png_image.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <sstream>

using namespace tpde::testing;

namespace
{
  /// Pixels of the data area (the left 76 % of the image) per sixteenth of
  /// the colour map: the nearest Viridis colour, within 25 RGB units.
  std::array<std::size_t, 16> colour_histogram(const Image &image)
  {
    std::array<std::size_t, 16> bins{};
    for (int y = 0; y < image.height; ++y)
      for (int x = 0; x < int(0.76 * image.width); ++x)
        {
          const int best = viridis_bin(image.at(x, y));
          if (best >= 0)
            ++bins[best];
        }
    return bins;
  }

  /// Dark (text) pixels, every channel below 60, in columns [x0, x1) of the width.
  std::size_t dark_pixels(const Image &image, double x0, double x1)
  {
    std::size_t n = 0;
    for (int y = 0; y < image.height; ++y)
      for (int x = int(x0 * image.width); x < int(x1 * image.width); ++x)
        {
          const unsigned char *p = image.at(x, y);
          n += p[0] < 60 && p[1] < 60 && p[2] < 60;
        }
    return n;
  }

  std::string histogram_text(const std::array<std::size_t, 16> &bins)
  {
    std::ostringstream text;
    for (std::size_t b : bins)
      text << b << " ";
    return text.str();
  }

  /// T6 (a Gaussian collapsing while it isotropizes) on 10 x 10 cells of
  /// [-4, 4]^2 to t = 1, outputs at 0, 0.5, 1: its peak grows by 2.3x.
  std::string collapsing_grid_run(const std::string &dir)
  {
    const auto result = run_tpde("run " + source_path("parameters/gaussian-2d-isotropize.prm") +
                                 " --quiet --set Output/directory=" + dir +
                                 " --set Mesh/subdivisions=10 --set 'Mesh/lower corner=-4'"
                                 " --set 'Mesh/upper corner=4' --set Output/interval=0.5");
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_FALSE(std::filesystem::exists(dir + "/particles")); // a grid run alone
    return dir + "/solution.pvd";
  }
} // namespace

TEST(ViewRuns, GridRunAloneFrameRangeIsNotSaturatedAndLegible)
{
  const auto dir = scratch_directory("view-runs-frame");
  const auto pvd = collapsing_grid_run(dir);
  const auto png = dir + "/last.png";
  const auto result = run_command(view_command("--grid " + pvd + " --output " + png + " --size 800 600"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("colour range: frame"), std::string::npos) << result.output;
  const Image image = read_png(png);
  ASSERT_EQ(image.width, 800);
  ASSERT_EQ(image.height, 600);

  // The last frame's own range: every sixteenth of the map appears, the top
  // one too, and the top one is no plateau (a range taken from the first
  // frame saturates the grown peak: thousands of pixels in the top bin).
  const auto bins = colour_histogram(image);
  std::printf("colour histogram (bottom to top of the range): %s\n", histogram_text(bins).c_str());
  std::size_t used = 0;
  for (std::size_t b : bins)
    used += b > 0;
  EXPECT_GE(used, 14u) << histogram_text(bins);
  EXPECT_GT(bins[15] + bins[14], 0u) << "the top of the colour range is never reached: " << histogram_text(bins);
  EXPECT_LT(bins[15], bins[13]) << "a plateau of the top colour (saturated): " << histogram_text(bins);

  // White background; dark text in the legend (title, range labels, the
  // range statement) and left of the data (the y axis' labelled coordinates).
  const unsigned char *corner = image.at(5, image.height / 2);
  EXPECT_TRUE(corner[0] == 255 && corner[1] == 255 && corner[2] == 255);
  const std::size_t legend = dark_pixels(image, 0.76, 1.0), axis = dark_pixels(image, 0.0, 0.2);
  std::printf("dark pixels: legend %zu, left of the data %zu\n", legend, axis);
  EXPECT_GT(legend, 500u);
  EXPECT_GT(axis, 100u);
}

TEST(ViewRuns, RunRangeIsFixedOverTheAnimation)
{
  const auto dir = scratch_directory("view-runs-run");
  const auto pvd = collapsing_grid_run(dir);
  const auto result =
    run_command(view_command("--grid " + pvd + " --output " + dir + "/frame.png --animation --range run --size 640 480"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto first = colour_histogram(read_png(dir + "/frame.0000.png"));
  const auto last  = colour_histogram(read_png(dir + "/frame.0002.png"));
  std::printf("t = 0: %s\nt = 1: %s\n", histogram_text(first).c_str(), histogram_text(last).c_str());
  // The range is the run's: the initial peak (0.40, the final one 0.68) stays below the top colours.
  EXPECT_EQ(first[15] + first[14] + first[13], 0u) << histogram_text(first);
  EXPECT_GT(last[15] + last[14], 0u) << histogram_text(last);
}

TEST(ViewRuns, BadInputIsOneLineAndExitCodeTwo)
{
  const auto dir = scratch_directory("view-runs-bad");
  for (const std::string &arguments :
       {"--grid " + dir + "/missing/solution.pvd --output " + dir + "/x.png",
        "--grid " + dir + " --output " + dir + "/x.png",
        "--grid " + source_path("parameters/default.prm") + " --output " + dir + "/x.png",
        "--particles " + source_path("parameters/default.prm") + " --glyphs --output " + dir + "/x.png",
        "--grid " + dir + "/solution.pvd --view-direction 0 0 0 --output " + dir + "/x.png"})
    {
      const auto result = run_command(view_command(arguments));
      EXPECT_EQ(result.exit_code, 2) << arguments << "\n" << result.output;
      EXPECT_EQ(result.output.find("view_runs.py: error: "), 0u) << result.output;
      EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
      EXPECT_EQ(result.output.find("Traceback"), std::string::npos) << result.output;
    }
}
