// The grid-versus-particle distances (postprocess/comparison.h) and the
// tpde-compare tool: exact W1 between shifted Gaussians, sliced W2 of a cloud
// and its translate, the histogram L1 distance, and the tool's CSV and plot.
#include "postprocess/comparison.h"
#include "postprocess/vtk_reader.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <vtkCellArray.h>
#include <vtkCellType.h>
#include <vtkDoubleArray.h>
#include <vtkIdTypeArray.h>
#include <vtkLagrangeQuadrilateral.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLPolyDataWriter.h>
#include <vtkXMLUnstructuredGridWriter.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

using namespace tpde::postprocess;
using namespace tpde::testing;

namespace
{
  /// A grid of cells of one type with the point field "density".
  vtkSmartPointer<vtkUnstructuredGrid> make_grid(vtkPoints *points, int cell_type, vtkCellArray *cells,
                                                 vtkDoubleArray *density)
  {
    auto grid = vtkSmartPointer<vtkUnstructuredGrid>::New();
    grid->SetPoints(points);
    grid->SetCells(cell_type, cells);
    grid->GetPointData()->AddArray(density);
    return grid;
  }

  /// A 1D grid of Lagrange curves of `order` on [a, b] with the nodal values of f.
  vtkSmartPointer<vtkUnstructuredGrid> line_grid(double a, double b, int cells, int order,
                                                 const std::function<double(double)> &f)
  {
    vtkNew<vtkPoints>      points;
    points->SetDataTypeToDouble();
    vtkNew<vtkDoubleArray> density;
    density->SetName("density");
    vtkNew<vtkCellArray> lines;
    for (int k = 0; k < cells; ++k)
      {
        const double left = a + (b - a) * k / cells, h = (b - a) / cells;
        std::vector<vtkIdType> ids;
        // VTK order: the two ends, then the interior points left to right.
        std::vector<double> local = {0., 1.};
        for (int i = 1; i < order; ++i)
          local.push_back(double(i) / order);
        for (const double s : local)
          {
            ids.push_back(points->InsertNextPoint(left + s * h, 0., 0.));
            density->InsertNextValue(f(left + s * h));
          }
        lines->InsertNextCell(static_cast<vtkIdType>(ids.size()), ids.data());
      }
    return make_grid(points, order == 1 ? VTK_LINE : VTK_LAGRANGE_CURVE, lines, density);
  }

  double gaussian(double x, double mean, double sigma)
  {
    return std::exp(-0.5 * (x - mean) * (x - mean) / (sigma * sigma)) / (sigma * std::sqrt(2 * M_PI));
  }

  /// Tokens at the midpoint quantiles of N(mean, sigma^2) (bisection on erfc).
  std::vector<double> gaussian_quantiles(std::size_t n, double mean, double sigma)
  {
    std::vector<double> x(n);
    for (std::size_t i = 0; i < n; ++i)
      {
        const double u = (i + 0.5) / n;
        double       lo = -40, hi = 40;
        for (int it = 0; it < 200; ++it)
          {
            const double mid = 0.5 * (lo + hi);
            (0.5 * std::erfc(-mid / std::sqrt(2.)) < u ? lo : hi) = mid;
          }
        x[i] = mean + sigma * 0.5 * (lo + hi);
      }
    return x;
  }

  void write_pvd(const std::string &path, const std::vector<std::pair<double, std::string>> &entries)
  {
    std::ofstream out(path);
    out << "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\" version=\"0.1\">\n<Collection>\n";
    for (const auto &[time, file] : entries)
      out << "<DataSet timestep=\"" << time << "\" group=\"\" part=\"0\" file=\"" << file << "\"/>\n";
    out << "</Collection>\n</VTKFile>\n";
  }

  void write_tokens(const std::string &path, const std::vector<double> &x)
  {
    vtkNew<vtkPoints> points;
    points->SetDataTypeToDouble();
    for (const double value : x)
      points->InsertNextPoint(value, 0., 0.);
    vtkNew<vtkPolyData> cloud;
    cloud->SetPoints(points);
    vtkNew<vtkXMLPolyDataWriter> writer;
    writer->SetInputData(cloud);
    writer->SetFileName(path.c_str());
    ASSERT_EQ(writer->Write(), 1);
  }
} // namespace

TEST(Comparison, W1OfShiftedGaussiansIsTheShift)
{
  const double sigma = 0.7, shift = 0.3;
  const auto   grid  = line_grid(-8, 8, 320, 4, [&](double x) { return gaussian(x, 0., sigma); });
  const MeshDensity density(grid, 1);
  EXPECT_NEAR(density.mass(), 1., 1e-12);
  EXPECT_NEAR(density.moments().covariance[0], sigma * sigma, 1e-12);
  // Midpoint quantiles are within W1 ~ 1/N of the continuous law.
  for (const std::size_t n : {1000u, 20000u})
    {
      const double w1 = density.w1_to_tokens(gaussian_quantiles(n, shift, sigma));
      std::printf("N = %zu: W1 = %.12f (shift %.2f)\n", n, w1, shift);
      EXPECT_NEAR(w1, shift, 0.2 * sigma / double(n));
    }
  // Two token clouds: exactly the shift.
  const auto a = gaussian_quantiles(5000, 0., sigma);
  auto       b = a;
  for (double &x : b)
    x += shift;
  const std::vector<double> weights(a.size(), 1.);
  EXPECT_NEAR(w1_1d(a, weights, b, weights), shift, 1e-13);
  EXPECT_NEAR(w2_1d(a, weights, b, weights), shift, 1e-13);
}

TEST(Comparison, SlicedW2OfATranslateIsTheRmsProjection)
{
  std::mt19937_64                  random(3);
  std::normal_distribution<double> normal;
  for (unsigned int dim : {2u, 3u})
    {
      std::vector<double> x(1000 * dim), t = {0.4, -0.25, 0.7};
      for (double &value : x)
        value = normal(random);
      auto y = x;
      for (std::size_t i = 0; i < y.size(); ++i)
        y[i] += t[i % dim];
      const auto directions = slicing_directions(dim, 64);
      ASSERT_EQ(directions.size(), 64u);
      double mean_square = 0;
      for (const auto &theta : directions)
        {
          double s = 0;
          for (unsigned int c = 0; c < dim; ++c)
            s += theta[c] * t[c];
          mean_square += s * s / directions.size();
        }
      const double sw2 = sliced_w2(uniform_cloud(dim, x), uniform_cloud(dim, y), directions);
      EXPECT_NEAR(sw2, std::sqrt(mean_square), 1e-13);
      if (dim == 2) // equally spaced directions: the mean of cos^2 is exactly 1/2
        EXPECT_NEAR(sw2, std::hypot(t[0], t[1]) / std::sqrt(2.), 1e-13);
    }
}

TEST(Comparison, HistogramL1)
{
  // Uniform density on [0, 1] in 10 linear cells; 1000 tokens, 100 per cell.
  const auto        grid = line_grid(0, 1, 10, 1, [](double) { return 1.; });
  const MeshDensity density(grid, 1);
  std::vector<double> x(1000);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = (i + 0.5) / x.size();
  auto l1 = density.histogram_l1(uniform_cloud(1, x));
  EXPECT_NEAR(l1.distance, 0., 1e-13);
  EXPECT_NEAR(l1.floor, 0., 1e-13);
  // Squeeze all tokens into [0, 0.5]: histogram 2 there, 0 elsewhere -> L1 = 1.
  for (double &value : x)
    value *= 0.5;
  l1 = density.histogram_l1(uniform_cloud(1, x));
  EXPECT_NEAR(l1.distance, 1., 1e-13);
  // The first quarter (the tokens in [0, 0.125)) leaves the mesh and counts in
  // full; the rest stays at density 2 on [0.125, 0.5]: histogram 0, 1.5, 2, 2, 2
  // on the first five cells, 0 beyond.
  for (std::size_t i = 0; i < 250; ++i)
    x[i] = -1.;
  l1 = density.histogram_l1(uniform_cloud(1, x));
  EXPECT_NEAR(l1.outside, 0.25, 1e-15);
  EXPECT_NEAR(l1.distance, 0.25 + 0.1 * (1 + 0.5 + 1 + 1 + 1) + 0.5, 1e-13);
}

/// A 2D grid of Lagrange quadrilaterals of `order` on [a, b]^2 with the nodal values of f.
vtkSmartPointer<vtkUnstructuredGrid> square_grid(double a, double b, int cells, int order,
                                                 const std::function<double(double, double)> &f)
{
  vtkNew<vtkPoints> points;
  points->SetDataTypeToDouble();
  vtkNew<vtkDoubleArray> density;
  density->SetName("density");
  vtkNew<vtkCellArray> quads;
  const double         h = (b - a) / cells;
  const int            orders[3] = {order, order, 0};
  for (int cy = 0; cy < cells; ++cy)
    for (int cx = 0; cx < cells; ++cx)
      {
        std::vector<vtkIdType> ids((order + 1) * (order + 1));
        for (int j = 0; j <= order; ++j)
          for (int i = 0; i <= order; ++i)
            {
              const double x = a + h * (cx + double(i) / order), y = a + h * (cy + double(j) / order);
              const int    vtk_index =
                order == 1 ? (j == 0 ? i : 3 - i) : vtkLagrangeQuadrilateral::PointIndexFromIJK(i, j, orders);
              ids[vtk_index] = points->InsertNextPoint(x, y, 0.);
              density->InsertNextValue(f(x, y));
            }
        quads->InsertNextCell(static_cast<vtkIdType>(ids.size()), ids.data());
      }
  return make_grid(points, order == 1 ? VTK_QUAD : VTK_LAGRANGE_QUADRILATERAL, quads, density);
}

TEST(Comparison, SquareGridMomentsHistogramAndSlicedW2)
{
  // Gaussian N((0.3, -0.2), diag(0.5, 0.3)) on Q4 Lagrange cells: moments by quadrature.
  const auto grid = square_grid(-6, 6, 24, 4, [](double x, double y) {
    return std::exp(-0.5 * ((x - 0.3) * (x - 0.3) / 0.5 + (y + 0.2) * (y + 0.2) / 0.3)) /
           (2 * M_PI * std::sqrt(0.15));
  });
  const MeshDensity gaussian(grid, 2);
  EXPECT_NEAR(gaussian.mass(), 1., 1e-9);
  const MomentSet m = gaussian.moments();
  EXPECT_NEAR(m.mean[0], 0.3, 1e-9);
  EXPECT_NEAR(m.mean[1], -0.2, 1e-9);
  EXPECT_NEAR(m.covariance[0], 0.5, 1e-8);
  EXPECT_NEAR(m.covariance[1], 0., 1e-9);
  EXPECT_NEAR(m.covariance[3], 0.3, 1e-8);
  // Atoms carry the same moments; the grid against its own translated atoms
  // is exactly the translation's RMS projection.
  const WeightedCloud atoms = gaussian.atoms(2);
  const MomentSet     ma    = moments(atoms);
  EXPECT_NEAR(ma.covariance[0], 0.5, 1e-8);
  WeightedCloud shifted = atoms;
  for (std::size_t i = 0; i < shifted.size(); ++i)
    shifted.points[2 * i] += 0.25;
  const auto directions = slicing_directions(2, 64);
  EXPECT_NEAR(sliced_w2(atoms, shifted, directions), 0.25 / std::sqrt(2.), 1e-13);
  EXPECT_NEAR(gaussian.atom_cell_diameter(2), std::sqrt(2.) * 0.5 / 2, 1e-14);

  // Uniform density on [0, 1]^2 in 4 x 4 bilinear cells, one token at each
  // cell centre: the histogram equals the density.
  const auto          uniform = square_grid(0, 1, 4, 1, [](double, double) { return 1.; });
  const MeshDensity   flat(uniform, 2);
  std::vector<double> centres;
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 4; ++i)
      centres.insert(centres.end(), {0.125 + 0.25 * i, 0.125 + 0.25 * j});
  auto l1 = flat.histogram_l1(uniform_cloud(2, centres));
  EXPECT_NEAR(l1.distance, 0., 1e-13);
  EXPECT_NEAR(l1.floor, 0., 1e-13);
  // All tokens into the lower-left cell: histogram 16 there, 0 elsewhere.
  for (double &x : centres)
    x = 0.1;
  l1 = flat.histogram_l1(uniform_cloud(2, centres));
  EXPECT_NEAR(l1.distance, 15. / 16 + 15. / 16, 1e-12);
}

TEST(Comparison, ToolWritesCsvAndPlot)
{
  const auto   dir   = scratch_directory("compare-tool");
  const double sigma = 0.5, shift = 0.2;
  std::vector<std::pair<double, std::string>> grid_entries, token_entries;
  for (int k = 0; k < 3; ++k)
    {
      const double time = 0.5 * k;
      const auto   grid = line_grid(-6, 6, 240, 3, [&](double x) { return 2. * gaussian(x, 0.1 * k, sigma); });
      vtkNew<vtkXMLUnstructuredGridWriter> writer;
      writer->SetInputData(grid);
      const std::string name = "solution_" + std::to_string(k) + ".vtu";
      writer->SetFileName((dir + "/" + name).c_str());
      ASSERT_EQ(writer->Write(), 1);
      grid_entries.emplace_back(time, name);
      if (k == 1)
        continue; // a particle run may skip grid times; unmatched times are left out
      write_tokens(dir + "/tokens_" + std::to_string(k) + ".vtp", gaussian_quantiles(20000, 0.1 * k + shift, sigma));
      token_entries.emplace_back(time, "tokens_" + std::to_string(k) + ".vtp");
    }
  write_pvd(dir + "/solution.pvd", grid_entries);
  write_pvd(dir + "/particles.pvd", token_entries);
  const std::string tool = (std::filesystem::path(TPDE_EXECUTABLE).parent_path() / "tpde-compare").string();
  const auto result = run_command(tool + " " + dir + "/solution.pvd " + dir + "/particles.pvd");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Table table = read_csv(dir + "/compare.csv");
  ASSERT_EQ(table.rows(), 2u);
  for (std::size_t r = 0; r < 2; ++r)
    {
      EXPECT_NEAR(table.columns.at("reference_mass")[r], 2., 1e-10); // normalised before comparing
      EXPECT_NEAR(table.columns.at("w1")[r], shift, 1e-5);
      EXPECT_NEAR(table.columns.at("mean_diff_0")[r], shift, 1e-5);
      EXPECT_NEAR(table.columns.at("cov_diff_00")[r], 0., 1e-3);
      EXPECT_LT(table.columns.at("l1_floor")[r], 0.05);
    }
  EXPECT_EQ(table.columns.at("time")[1], 1.);
  ASSERT_TRUE(std::filesystem::exists(dir + "/compare.png"));
  EXPECT_GT(std::filesystem::file_size(dir + "/compare.png"), 5000u);

  // Bad input: one line, exit code 2, nothing written.
  const auto bad = run_command(tool + " " + dir + "/solution.pvd " + dir + "/missing.pvd --output " + dir + "/bad.csv");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("missing.pvd"), std::string::npos) << bad.output;
  EXPECT_FALSE(std::filesystem::exists(dir + "/bad.csv"));
}
