// W1 on the circle (postprocess/comparison.h, tpde-compare on runs with a
// `theta` array) against known answers: rotated point masses, a point mass
// and N equally spaced tokens against the uniform density, anywhere on the
// circle (the linear W1 of the angles would depend on where they are).
#include "postprocess/comparison.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <vtkCellArray.h>
#include <vtkCellType.h>
#include <vtkDoubleArray.h>
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

using namespace tpde::postprocess;
using namespace tpde::testing;

namespace
{
  /// The ring as TPDE writes it: Lagrange curves of `order` on the points
  /// (cos theta, sin theta, 0), point arrays theta (the last cell ends at 2 pi)
  /// and density = rho(theta).
  vtkSmartPointer<vtkUnstructuredGrid> ring_grid(int cells, int order, double (*rho)(double))
  {
    vtkNew<vtkPoints> points;
    points->SetDataTypeToDouble();
    vtkNew<vtkDoubleArray> density, theta;
    density->SetName("density");
    theta->SetName("theta");
    vtkNew<vtkCellArray> lines;
    const double         h = 2 * M_PI / cells;
    for (int k = 0; k < cells; ++k)
      {
        std::vector<vtkIdType> ids;
        std::vector<double>    local = {0., 1.}; // VTK order: the ends, then the interior
        for (int i = 1; i < order; ++i)
          local.push_back(double(i) / order);
        for (const double s : local)
          {
            const double angle = (k + s) * h;
            ids.push_back(points->InsertNextPoint(std::cos(angle), std::sin(angle), 0.));
            theta->InsertNextValue(angle);
            density->InsertNextValue(rho(angle));
          }
        lines->InsertNextCell(static_cast<vtkIdType>(ids.size()), ids.data());
      }
    auto grid = vtkSmartPointer<vtkUnstructuredGrid>::New();
    grid->SetPoints(points);
    grid->SetCells(order == 1 ? VTK_LINE : VTK_LAGRANGE_CURVE, lines);
    grid->GetPointData()->AddArray(density);
    grid->GetPointData()->AddArray(theta);
    return grid;
  }

  double uniform(double) { return 1 / (2 * M_PI); }
  double von_mises(double theta) { return std::exp(2 * std::cos(theta - 0.3)); } // not normalised

  std::vector<double> equal(std::size_t n) { return std::vector<double>(n, 1. / double(n)); }
} // namespace

TEST(CircleComparison, W1OfPointMassesIsTheGeodesicTransport)
{
  // Across the seam: 6.2 to 0.1 is 2 pi - 6.1 along the circle (6.1 on the line).
  EXPECT_NEAR(w1_circle({0.1}, {1.}, {6.2}, {1.}), 2 * M_PI - 6.1, 1e-13);
  // A rotation by 0.3 of a two-point law moves each atom by 0.3.
  EXPECT_NEAR(w1_circle({1., 2.5}, equal(2), {1.3, 2.8}, equal(2)), 0.3, 1e-13);
  EXPECT_NEAR(w1_circle({6.1, 2.5}, equal(2), {6.4 - 2 * M_PI, 2.8}, equal(2)), 0.3, 1e-13);
  // Two opposite atoms turned by a quarter: every unit of mass travels pi / 2.
  EXPECT_NEAR(w1_circle({0., M_PI}, equal(2), {M_PI / 2, 3 * M_PI / 2}, equal(2)), M_PI / 2, 1e-13);
  EXPECT_THROW(w1_circle({7.}, {1.}, {0.}, {1.}), std::runtime_error);
}

TEST(CircleComparison, GridAgainstTokensOnTheCircle)
{
  const auto        chart = circle_chart_grid(ring_grid(32, 3, uniform));
  const MeshDensity density(chart, 1);
  EXPECT_NEAR(density.mass(), 1., 1e-13);
  const auto moments = density.circle_moments();
  EXPECT_NEAR(moments.mean[0], 0., 1e-13);
  EXPECT_NEAR(moments.covariance[0], 0.5, 1e-13);
  // A point mass anywhere: the mean geodesic distance to the uniform law, pi / 2.
  for (const double at : {0., 0.3, 3., 6.0})
    EXPECT_NEAR(density.w1_circle_to_tokens({at}), M_PI / 2, 1e-11) << at;
  // N equally spaced tokens at any offset: a sawtooth CDF gap, pi / (2N).
  for (const double offset : {0.5, 0.1, 0.9})
    {
      const std::size_t   n = 1000;
      std::vector<double> tokens;
      for (std::size_t i = 0; i < n; ++i)
        tokens.push_back((i + offset) * 2 * M_PI / n);
      EXPECT_NEAR(density.w1_circle_to_tokens(tokens), M_PI / (2 * n), 1e-11) << offset;
    }
  // The ambient mean of a von Mises law of kappa = 2: I_1(2) / I_0(2) in the direction 0.3.
  const auto        vm_chart = circle_chart_grid(ring_grid(64, 4, von_mises)); // MeshDensity keeps a pointer
  const MeshDensity vm(vm_chart, 1);
  const auto        m = vm.circle_moments();
  EXPECT_NEAR(std::hypot(m.mean[0], m.mean[1]), 0.6977746579640081, 1e-9);
  EXPECT_NEAR(std::atan2(m.mean[1], m.mean[0]), 0.3, 1e-9);
  const auto plain = ring_grid(4, 1, uniform);
  plain->GetPointData()->RemoveArray("theta");
  EXPECT_THROW(circle_chart_grid(plain), std::runtime_error);
}

TEST(CircleComparison, ToolRecognisesTheCircle)
{
  const auto dir = scratch_directory("compare-circle");
  {
    vtkNew<vtkXMLUnstructuredGridWriter> writer;
    writer->SetInputData(ring_grid(32, 2, uniform));
    writer->SetFileName((dir + "/solution_0.vtu").c_str());
    ASSERT_EQ(writer->Write(), 1);
  }
  // One token at theta = 6, on the ring, as tpde particles writes it.
  vtkNew<vtkPoints> points;
  points->SetDataTypeToDouble();
  points->InsertNextPoint(std::cos(6.), std::sin(6.), 0.);
  vtkNew<vtkDoubleArray> theta;
  theta->SetName("theta");
  theta->InsertNextValue(6.);
  vtkNew<vtkPolyData> cloud;
  cloud->SetPoints(points);
  cloud->GetPointData()->AddArray(theta);
  vtkNew<vtkXMLPolyDataWriter> writer;
  writer->SetInputData(cloud);
  writer->SetFileName((dir + "/tokens_0.vtp").c_str());
  ASSERT_EQ(writer->Write(), 1);
  for (const auto &[name, file] : {std::pair<std::string, std::string>{"solution.pvd", "solution_0.vtu"},
                                   {"particles.pvd", "tokens_0.vtp"}})
    {
      std::ofstream out(dir + "/" + name);
      out << "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\" version=\"0.1\">\n<Collection>\n"
          << "<DataSet timestep=\"0\" group=\"\" part=\"0\" file=\"" << file << "\"/>\n</Collection>\n</VTKFile>\n";
    }
  const std::string tool = (std::filesystem::path(TPDE_EXECUTABLE).parent_path() / "tpde-compare").string();
  const auto result = run_command(tool + " " + dir + "/solution.pvd " + dir + "/particles.pvd --no-plot");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("exact W1 on the circle"), std::string::npos) << result.output;
  const Table table = read_csv(dir + "/compare.csv");
  ASSERT_EQ(table.rows(), 1u);
  EXPECT_NEAR(table.columns.at("w1_circle")[0], M_PI / 2, 1e-10);
  EXPECT_NEAR(table.columns.at("mean_diff_0")[0], std::cos(6.), 1e-12); // ambient moments
  EXPECT_NEAR(table.columns.at("mean_diff_1")[0], std::sin(6.), 1e-12);
  EXPECT_EQ(table.columns.count("w1"), 0u);
}
