// ParaView view of a grid run and its particle run: one frame of
// parameters/default.prm (shortened) rendered by pvbatch through
// postprocess/paraview/view_runs.py must show the density (many colours of the
// Viridis map) and the tokens (red points), not a blank image.
#include "support/png_image.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

using namespace tpde::testing;

TEST(ParticleParaView, RendersDefaultExampleWithTokens)
{
  const auto dir  = scratch_directory("particles-paraview");
  const auto prm  = source_path("parameters/default.prm");
  // 12 x 12 cells to t = 0.1: under a second per run.
  const std::string shorter = " --quiet --set Output/directory=" + dir +
                              " --set 'Time stepping/end time=0.1' --set Output/interval=0.1 --set Mesh/subdivisions=12";
  auto result = run_tpde("run " + prm + shorter);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  result = run_tpde("particles " + prm + shorter + " --set 'Particles/number of tokens=500'");
  ASSERT_EQ(result.exit_code, 0) << result.output;

  const std::string png = dir + "/frame.png";
  result = run_command(view_command("--grid " + dir + "/solution.pvd --particles " + dir +
                                    "/particles/particles.pvd --output " + png + " --size 800 600"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  ASSERT_TRUE(std::filesystem::exists(png)) << result.output;

  const Image image = read_png(png);
  ASSERT_EQ(image.width, 800);
  ASSERT_EQ(image.height, 600);
  std::size_t             red = 0, not_background = 0;
  std::set<unsigned long> colours;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      {
        const unsigned char *p = image.at(x, y);
        colours.insert((unsigned long)p[0] << 16 | (unsigned long)p[1] << 8 | p[2]);
        not_background += !(p[0] == 255 && p[1] == 255 && p[2] == 255);
        red += is_token_red(p);
      }
  std::printf("%zu colours, %zu non-background pixels, %zu token pixels\n", colours.size(), not_background, red);
  EXPECT_GT(colours.size(), 50u);                          // the colour map, not a flat image
  EXPECT_GT(not_background, std::size_t(0.2 * 800 * 600)); // the domain fills a good part of the view
  EXPECT_GT(red, 500u);                                    // 500 tokens of 3 x 3 pixels, some overlapping
}
