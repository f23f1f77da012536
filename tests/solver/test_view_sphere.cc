// postprocess/paraview/view_runs.py on runs on S^2 and on the circle: the
// sphere lit and coloured by the density, seen from its densest point (or a
// given direction), its tokens red on the near hemisphere and hidden on the
// far one, the velocity's arrows drawn on request; the circle as a ring
// coloured by the density with its tokens on it, or with --warp as a radial
// graph outside the unit circle the tokens sit on.
#include "support/png_image.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkSmartPointer.h>
#include <vtkXMLPolyDataWriter.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

using namespace tpde::testing;

namespace
{
  /// T14 (the Poisson kernel centred at (0, 0, 0.2), densest at the north
  /// pole) on S^2 at 2 refinements to t = 0.5.
  std::string sphere_grid_run(const std::string &dir)
  {
    const auto result = run_tpde("run " + source_path("parameters/sphere-poisson.prm") + " --quiet --set Output/directory=" +
                                 dir + " --set 'Mesh/global refinements=2' --set 'Time stepping/end time=0.5'"
                                       " --set Output/interval=0.25");
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return dir + "/solution.pvd";
  }

  /// 240 tokens on the circle of polar angle 35 degrees around the north
  /// pole, written as a particle run's .pvd and .vtp would be (particle runs
  /// on S^2 are not there yet).
  std::string north_tokens(const std::string &dir)
  {
    vtkNew<vtkPoints> points;
    const double      pi = std::acos(-1.), polar = 35 * pi / 180;
    for (int i = 0; i < 240; ++i)
      {
        const double azimuth = 2 * pi * i / 240;
        points->InsertNextPoint(std::sin(polar) * std::cos(azimuth), std::sin(polar) * std::sin(azimuth),
                                std::cos(polar));
      }
    vtkNew<vtkPolyData> tokens;
    tokens->SetPoints(points);
    vtkNew<vtkCellArray> vertices;
    for (vtkIdType i = 0; i < points->GetNumberOfPoints(); ++i)
      vertices->InsertNextCell(1, &i);
    tokens->SetVerts(vertices);
    std::filesystem::create_directories(dir + "/particles");
    vtkNew<vtkXMLPolyDataWriter> writer;
    writer->SetFileName((dir + "/particles/particles_00000.vtp").c_str());
    writer->SetInputData(tokens);
    EXPECT_EQ(writer->Write(), 1);
    return write_file(dir + "/particles/particles.pvd",
                      "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\" version=\"0.1\">\n  <Collection>\n"
                      "    <DataSet timestep=\"0.5\" file=\"particles_00000.vtp\"/>\n  </Collection>\n</VTKFile>\n");
  }

  struct Pixel
  {
    int x, y;
  };

  /// Pixels of the data area (the left 76 % of the image) that satisfy `test`.
  template <typename Test>
  std::vector<Pixel> pixels(const Image &image, Test test)
  {
    std::vector<Pixel> found;
    for (int y = 0; y < image.height; ++y)
      for (int x = 0; x < int(0.76 * image.width); ++x)
        if (test(image.at(x, y)))
          found.push_back({x, y});
    return found;
  }

  /// The sphere's disc: centred at 45 % of the width (50 % without a
  /// legend: `centre`) and half the height, radius 0.66 / 1.01 of half the
  /// height (view_runs.py's DATA_CENTRE, DATA_HEIGHT and sphere_view.py's
  /// TOKEN_LIFT). `fraction` of that radius.
  bool in_disc(const Image &image, const Pixel &p, double fraction, double centre = 0.45)
  {
    const double dx = p.x - centre * image.width, dy = p.y - 0.5 * image.height;
    return std::hypot(dx, dy) < fraction * 0.66 / 1.01 * 0.5 * image.height;
  }

  bool black(const unsigned char *p) { return std::max({p[0], p[1], p[2]}) < 30; }

  /// The mean colour of the 7 x 7 pixels at the disc's centre.
  std::array<double, 3> centre_colour(const Image &image)
  {
    std::array<double, 3> mean{};
    for (int dy = -3; dy <= 3; ++dy)
      for (int dx = -3; dx <= 3; ++dx)
        for (int c = 0; c < 3; ++c)
          mean[c] += image.at(int(0.45 * image.width) + dx, image.height / 2 + dy)[c] / 49.;
    return mean;
  }
} // namespace

TEST(ViewSphere, SphereSeenFromItsDensestPointIsLitWithItsTokens)
{
  const auto dir = scratch_directory("view-sphere-densest");
  const auto pvd = sphere_grid_run(dir);
  const auto png = dir + "/sphere.png";
  const auto result =
    run_command(view_command("--grid " + pvd + " --particles " + north_tokens(dir) + " --output " + png + " --size 800 600"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Image image = read_png(png);
  ASSERT_EQ(image.width, 800);

  // The sphere fills its disc with many colours (the map times the light).
  std::set<int> colours;
  std::size_t   filled = 0, n_disc = 0;
  for (const auto &p : pixels(image, [](const unsigned char *) { return true; }))
    if (in_disc(image, p, 0.95))
      {
        const unsigned char *c = image.at(p.x, p.y);
        colours.insert(c[0] << 16 | c[1] << 8 | c[2]);
        filled += !(c[0] == 255 && c[1] == 255 && c[2] == 255);
        ++n_disc;
      }
  const auto centre = centre_colour(image);
  const auto red    = pixels(image, is_token_red);
  const auto arrows = pixels(image, black);
  std::printf("%zu colours, %zu of %zu disc pixels filled, centre (%.0f, %.0f, %.0f), %zu token pixels, %zu black\n",
              colours.size(), filled, n_disc, centre[0], centre[1], centre[2], red.size(), arrows.size());
  EXPECT_EQ(filled, n_disc); // no background inside the sphere's outline
  EXPECT_GT(colours.size(), 1000u);
  // Seen from the densest point: the disc's centre has the top colour, yellow.
  EXPECT_GT(centre[0], 160);
  EXPECT_GT(centre[1], 160);
  EXPECT_LT(centre[2], 100);
  // The 240 tokens on the near hemisphere, all on the disc; no arrows without --glyphs.
  EXPECT_GT(red.size(), 400u);
  EXPECT_TRUE(std::all_of(red.begin(), red.end(), [&](const Pixel &p) { return in_disc(image, p, 1.0); }));
  EXPECT_EQ(std::count_if(arrows.begin(), arrows.end(), [&](const Pixel &p) { return in_disc(image, p, 0.6); }), 0);
}

TEST(ViewSphere, FarSideHidesTheTokensAndGlyphsShowTheVelocity)
{
  const auto dir = scratch_directory("view-sphere-far");
  const auto pvd = sphere_grid_run(dir);
  const auto png = dir + "/sphere.png";
  const auto result = run_command(view_command("--grid " + pvd + " --particles " + north_tokens(dir) + " --output " +
                                               png + " --size 800 600 --view-direction 0 0 -1 --glyphs"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Image image  = read_png(png);
  const auto  centre = centre_colour(image);
  const auto  red    = pixels(image, is_token_red);
  const auto  arrows = pixels(image, black);
  const auto  near   = std::count_if(arrows.begin(), arrows.end(), [&](const Pixel &p) { return in_disc(image, p, 0.6); });
  std::printf("centre (%.0f, %.0f, %.0f), %zu token pixels, %ld arrow pixels\n", centre[0], centre[1], centre[2],
              red.size(), long(near));
  // The south pole: the bottom of the colour range (dark purple), the tokens all behind the sphere.
  EXPECT_LT(centre[1], 60);
  EXPECT_GT(centre[2], centre[1]);
  EXPECT_EQ(red.size(), 0u);
  EXPECT_GT(near, 60); // the arrows of the velocity (short near the pole, where it is slow)
}

TEST(ViewSphere, TokensAloneLieOnAGreySphereThatHidesTheFarOnes)
{
  const auto dir = scratch_directory("view-sphere-tokens");
  auto       png = dir + "/near.png";
  auto result = run_command(view_command("--particles " + north_tokens(dir) + " --output " + png + " --size 800 600"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto near = pixels(read_png(png), is_token_red);
  png             = dir + "/far.png";
  result = run_command(view_command("--particles " + dir + "/particles/particles.pvd --output " + png +
                                    " --size 800 600 --view-direction 0 0 -1"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Image image = read_png(png);
  std::size_t grey = 0, n_disc = 0;
  for (const auto &p : pixels(image, [](const unsigned char *) { return true; }))
    if (in_disc(image, p, 0.95, 0.5))
      {
        const unsigned char *c = image.at(p.x, p.y);
        grey += c[0] < 250 && std::abs(c[0] - c[2]) < 30; // the lit grey sphere, not the white background
        ++n_disc;
      }
  const auto far = pixels(image, is_token_red);
  std::printf("%zu token pixels from the north, %zu from the south; %zu of %zu disc pixels grey\n", near.size(),
              far.size(), grey, n_disc);
  EXPECT_GT(near.size(), 400u);
  EXPECT_EQ(far.size(), 0u);
  EXPECT_EQ(grey, n_disc);
}

namespace
{
  /// T12 (the Poisson kernel on the circle) to t = 0.5 on 64 cells and 300 tokens of the same law,
  /// drawn together with view_runs.py's `options`; an empty image if something failed.
  Image circle_view(const std::string &name, const std::string &options)
  {
    const auto        dir     = scratch_directory(name);
    const std::string shorter = " --quiet --set Output/directory=" + dir +
                                " --set 'Time stepping/end time=0.5' --set Output/interval=0.25";
    auto result = run_tpde("run " + source_path("parameters/circle-kuramoto.prm") + shorter);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    result = run_tpde("particles " + source_path("parameters/circle-kuramoto.prm") + shorter +
                      " --set 'Particles/number of tokens=300'");
    EXPECT_EQ(result.exit_code, 0) << result.output;
    result = run_command(view_command("--grid " + dir + "/solution.pvd --particles " + dir +
                                      "/particles/particles.pvd --output " + dir + "/view.png --size 800 600 " + options));
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return result.exit_code == 0 ? read_png(dir + "/view.png") : Image();
  }

  /// Centre and radius of the circle the tokens lie on: their red pixels' bounding box.
  std::array<double, 3> token_circle(const std::vector<Pixel> &red)
  {
    int x0 = 1 << 20, x1 = -1, y0 = 1 << 20, y1 = -1;
    for (const auto &p : red)
      x0 = std::min(x0, p.x), x1 = std::max(x1, p.x), y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
    return {{(x0 + x1) / 2., (y0 + y1) / 2., (x1 - x0 + y1 - y0) / 4.}};
  }

  double distance(const Pixel &p, const std::array<double, 3> &circle)
  {
    return std::hypot(p.x - circle[0], p.y - circle[1]);
  }
} // namespace

TEST(ViewSphere, CircleIsARingColouredByTheDensityWithItsTokens)
{
  const Image image = circle_view("view-circle-ring", "");
  ASSERT_EQ(image.width, 800);
  const auto  ring  = pixels(image, [](const unsigned char *p) { return viridis_bin(p) >= 0; });
  const auto  red   = pixels(image, is_token_red);
  std::set<int> bins;
  for (const auto &p : ring)
    bins.insert(viridis_bin(image.at(p.x, p.y)));
  const auto circle = token_circle(red);
  const auto off    = std::count_if(ring.begin(), ring.end(),
                                    [&](const Pixel &p) { return std::abs(distance(p, circle) - circle[2]) > 0.05 * circle[2]; });
  std::printf("%zu ring pixels in %zu colours, %zu token pixels, token circle radius %.1f, %ld ring pixels off it\n",
              ring.size(), bins.size(), red.size(), circle[2], long(off));
  EXPECT_GT(ring.size(), 2000u); // a thick line around the ring
  EXPECT_GE(bins.size(), 12u);   // the density's range along it
  EXPECT_GT(red.size(), 300u);
  EXPECT_GT(circle[2], 0.25 * image.height); // the ring fills the data area
  EXPECT_LT(off, long(ring.size() / 50)); // ring and tokens on one circle
}

TEST(ViewSphere, CircleWarpIsARadialGraphOutsideTheUnitCircle)
{
  const Image image  = circle_view("view-circle-warp", "--warp 2");
  ASSERT_EQ(image.width, 800);
  const auto  graph  = pixels(image, [](const unsigned char *p) { return viridis_bin(p) >= 0; });
  const auto  circle = token_circle(pixels(image, is_token_red));
  double      nearest = 1e300, farthest = 0;
  for (const auto &p : graph)
    nearest = std::min(nearest, distance(p, circle)), farthest = std::max(farthest, distance(p, circle));
  std::printf("%zu graph pixels at %.2f to %.2f radii of the unit circle\n", graph.size(), nearest / circle[2],
              farthest / circle[2]);
  // r = 1 + 2 x density with the density between 0.07 and 0.35 at t = 0.5.
  ASSERT_GT(graph.size(), 1000u);
  EXPECT_GT(nearest, 1.05 * circle[2]);
  EXPECT_GT(farthest, 1.5 * circle[2]);
}
