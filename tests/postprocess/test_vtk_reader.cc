// The VTK reader's integration: grids with Lagrange and linear cells are
// built here (support/vtk_grids.h), written with VTK's own writers, read back
// and integrated; the results are compared with analytic integrals. Reading
// files and the tpde-integrate tool: test_vtk_files.cc.
#include "postprocess/vtk_reader.h"
#include "support/test_support.h"
#include "support/vtk_grids.h"

#include <gtest/gtest.h>

#include <vtkGenericCell.h>

#include <cmath>
#include <string>
#include <vector>

namespace
{
  namespace post = tpde::postprocess;
  using namespace tpde::testing::vtk_grids;

  std::string scratch(const std::string &name)
  {
    return tpde::testing::scratch_directory("postprocess_vtk_reader/" + name);
  }

  // Writes the grid, reads it back through read_grid.
  vtkSmartPointer<vtkUnstructuredGrid> round_trip(vtkUnstructuredGrid *grid, const std::string &name)
  {
    return post::read_grid(write_vtu(grid, scratch(name) + "/grid.vtu"));
  }

  // The parametric coordinates VTK itself assigns to the nodes of a cell.
  std::vector<Point> vtk_parametric_nodes(int vtk_type, const std::vector<Point> &nodes)
  {
    GridBuilder builder;
    builder.add_cell(vtk_type, nodes, [](const Point &) { return 0.0; });
    auto                   grid = builder.finish();
    vtkNew<vtkGenericCell> cell;
    grid->GetCell(0, cell);
    const double      *pcoords = cell->GetParametricCoords();
    std::vector<Point> result;
    for (vtkIdType i = 0; i < cell->GetNumberOfPoints(); ++i)
      result.push_back({pcoords[3 * i], pcoords[3 * i + 1], pcoords[3 * i + 2]});
    return result;
  }

  // Node tables agree up to rounding (VTK computes 1/3 differently).
  void expect_same_nodes(const std::vector<Point> &actual, const std::vector<Point> &expected)
  {
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i)
      for (int d = 0; d < 3; ++d)
        EXPECT_NEAR(actual[i][d], expected[i][d], 1e-14) << "node " << i << ", coordinate " << d;
  }
} // namespace

// (a) The case spelled out node by node: a degree-2 Lagrange quadrilateral on
// the non-square [0,2]x[0,3].
TEST(VtkReader, QuadraticLagrangeQuadrilateralIntegratesExactly)
{
  const Field field = [](const Point &x) {
    return (1 + x[0] + 2 * x[0] * x[0]) * (3 - x[1] + 0.5 * x[1] * x[1]) + x[0] * x[1];
  };
  // Vertices, edge midpoints (edges 0-1, 1-2, 3-2, 0-3), centre.
  const std::vector<Point> nodes = {{0, 0, 0}, {2, 0, 0}, {2, 3, 0},   {0, 3, 0},  {1, 0, 0},
                                    {2, 1.5, 0}, {1, 3, 0}, {0, 1.5, 0}, {1, 1.5, 0}};
  GridBuilder builder;
  builder.add_cell(VTK_LAGRANGE_QUADRILATERAL, nodes, field, 0.75);
  const auto grid = round_trip(builder.finish(), "quadratic_quadrilateral");

  ASSERT_EQ(grid->GetNumberOfCells(), 1);
  EXPECT_EQ(grid->GetCellType(0), VTK_LAGRANGE_QUADRILATERAL);
  EXPECT_EQ(post::cell_dimension(grid), 2);
  // (28/3) * 9 + 2 * 4.5
  EXPECT_NEAR(post::integrate_point_field(grid, "density", 2), 93.0, 1e-13);
  EXPECT_NEAR(post::mesh_measure(grid, 2), 6.0, 1e-13);
  // (38/3) * 9 + (8/3) * 4.5  and  (28/3) * 14.625 + 2 * 9
  EXPECT_NEAR(post::integrate_first_moment(grid, "density", 2, 0), 126.0, 1e-12);
  EXPECT_NEAR(post::integrate_first_moment(grid, "density", 2, 1), 154.5, 1e-12);
  EXPECT_DOUBLE_EQ(post::sum_cell_field(grid, "cell_mass"), 0.75);
}

// Our node tables agree with VTK's numbering (so failures below are about
// integration, not about the test's geometry).
TEST(VtkReader, NodeTablesMatchVtkNumbering)
{
  for (int p = 1; p <= 4; ++p)
    {
      SCOPED_TRACE("degree " + std::to_string(p));
      const auto curve = lagrange_curve_nodes(p);
      expect_same_nodes(vtk_parametric_nodes(VTK_LAGRANGE_CURVE, curve), curve);
      const auto quadrilateral = lagrange_quadrilateral_nodes(p);
      expect_same_nodes(vtk_parametric_nodes(VTK_LAGRANGE_QUADRILATERAL, quadrilateral), quadrilateral);
      const auto hexahedron = lagrange_hexahedron_nodes(p);
      expect_same_nodes(vtk_parametric_nodes(VTK_LAGRANGE_HEXAHEDRON, hexahedron), hexahedron);
    }
}

namespace
{
  /// Lagrange cells of degrees 1 to 4 on axis-aligned boxes whose union is
  /// the box [lower, upper]: a full tensor polynomial and its first moment in
  /// direction `moment` are integrated exactly.
  struct LagrangeBoxes
  {
    std::string                               name;
    int                                       dimension, vtk_type;
    std::vector<Point> (*nodes)(int degree);
    std::vector<std::pair<Point, Point>>      cells; // lower and upper corners
    Point                                     lower, upper;
    int                                       moment;
  };
} // namespace

class VtkReaderDegrees : public ::testing::TestWithParam<LagrangeBoxes>
{};

TEST_P(VtkReaderDegrees, OneToFourIntegrateExactly)
{
  const LagrangeBoxes &c = GetParam();
  for (int p = 1; p <= 4; ++p)
    {
      SCOPED_TRACE("degree " + std::to_string(p));
      const Polynomial polynomial = full_tensor_polynomial(p, c.dimension);
      const Field      field      = [&](const Point &x) { return evaluate(polynomial, x); };
      GridBuilder      builder;
      for (const auto &[lower, upper] : c.cells)
        builder.add_mapped_cell(c.vtk_type, c.nodes(p), box_map(lower, upper), field);
      const auto grid = round_trip(builder.finish(), c.name + "_p" + std::to_string(p));
      expect_close(post::integrate_point_field(grid, "density", c.dimension),
                   integrate_exactly(polynomial, c.lower, c.upper, c.dimension));
      // x_moment * field has degree p + 1 in x_moment.
      Polynomial moment = polynomial;
      for (auto &m : moment)
        ++m.powers[c.moment];
      expect_close(post::integrate_first_moment(grid, "density", c.dimension, c.moment),
                   integrate_exactly(moment, c.lower, c.upper, c.dimension));
    }
}

INSTANTIATE_TEST_SUITE_P(
  VtkReader,
  VtkReaderDegrees,
  ::testing::Values(
    // Two quadrilaterals of different sizes side by side; the moment in x.
    LagrangeBoxes{"quadrilateral", 2, VTK_LAGRANGE_QUADRILATERAL, lagrange_quadrilateral_nodes,
                  {{{-1, 0.5, 0}, {0.5, 3, 0}}, {{0.5, 0.5, 0}, {2, 3, 0}}}, {-1, 0.5, 0}, {2, 3, 0}, 0},
    // One hexahedron; the moment in z.
    LagrangeBoxes{"hexahedron", 3, VTK_LAGRANGE_HEXAHEDRON, lagrange_hexahedron_nodes,
                  {{{-0.5, 1, 0.25}, {1, 1.75, 2}}}, {-0.5, 1, 0.25}, {1, 1.75, 2}, 2}),
  [](const ::testing::TestParamInfo<LagrangeBoxes> &info) { return info.param.name; });

// Anisotropic Lagrange cells (orders from the HigherOrderDegrees cell array):
// two cells with six nodes each but different shape functions.
TEST(VtkReader, AnisotropicLagrangeQuadrilaterals)
{
  const Field field = [](const Point &x) { return (1 + x[0]) * (1 + x[1] * x[1]) + x[0] * x[1]; };
  const Field other = [](const Point &x) { return (2 + x[0] * x[0]) * (1 - x[1]); };
  GridBuilder builder;
  // Order (1, 2) on [0,2]x[0,3]: vertices, then the midpoints of edges 1-2 and 0-3.
  builder.add_mapped_cell(VTK_LAGRANGE_QUADRILATERAL,
                          {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0}, {1, 0.5, 0}, {0, 0.5, 0}},
                          box_map({0, 0, 0}, {2, 3, 0}), field);
  // Order (2, 1) on [0,1]x[3,4]: vertices, then the midpoints of edges 0-1 and 3-2.
  builder.add_mapped_cell(VTK_LAGRANGE_QUADRILATERAL,
                          {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0}, {0.5, 0, 0}, {0.5, 1, 0}},
                          box_map({0, 3, 0}, {1, 4, 0}), other);
  auto                   grid = builder.finish();
  vtkNew<vtkDoubleArray> degrees;
  degrees->SetName("HigherOrderDegrees");
  degrees->SetNumberOfComponents(3);
  degrees->InsertNextTuple3(1, 2, 0);
  degrees->InsertNextTuple3(2, 1, 0);
  grid->GetCellData()->SetHigherOrderDegrees(degrees);
  grid = round_trip(grid, "anisotropic");
  ASSERT_NE(grid->GetCellData()->GetHigherOrderDegrees(), nullptr);
  // (2 + 2) * (3 + 9) + 2 * 4.5  plus  (2 + 1/3) * (1 - 3.5)
  expect_close(post::integrate_point_field(grid, "density", 2), 57.0 + (7.0 / 3) * (-2.5));
}

// A curved cell: x = 2r, y = s (3 + 4c r (1 - r)) is in Q2, the top edge is a
// parabola, and the area 6 + 4c/3 needs the varying Jacobian.
TEST(VtkReader, CurvedQuadraticCellUsesItsJacobian)
{
  const double c   = 0.7;
  const auto   map = [c](const Point &r) {
    return Point{2 * r[0], r[1] * (3 + 4 * c * r[0] * (1 - r[0])), 0};
  };
  GridBuilder builder;
  builder.add_mapped_cell(VTK_LAGRANGE_QUADRILATERAL, lagrange_quadrilateral_nodes(2), map,
                          [](const Point &) { return 1.0; });
  const auto grid = round_trip(builder.finish(), "curved");
  expect_close(post::mesh_measure(grid, 2), 6 + 4 * c / 3);
  expect_close(post::integrate_point_field(grid, "density", 2), 6 + 4 * c / 3);
}

// The quadrature must be exact for degree 8 per direction: a quartic field
// on a quartic cell x = 2r, y = s h(r) with deg h = 4, so that field * |J| =
// g(r, s) * 2 h(r) has degree 8 in r.
TEST(VtkReader, DegreeEightIntegrandOnCurvedQuarticCell)
{
  const double              c = 0.6, e = 1.7;
  const std::vector<double> h = {3, 4 * c, -4 * c + e, -2 * e, e}; // 3 + 4c r(1-r) + e r^2 (1-r)^2
  const auto                h_at = [&](double r) {
    double value = 0;
    for (std::size_t k = 0; k < h.size(); ++k)
      value += h[k] * std::pow(r, k);
    return value;
  };
  const Polynomial g = full_tensor_polynomial(4, 2); // in the reference coordinates (r, s)

  GridBuilder builder;
  builder.add_mapped_cell(
    VTK_LAGRANGE_QUADRILATERAL, lagrange_quadrilateral_nodes(4),
    [&](const Point &r) { return Point{2 * r[0], r[1] * h_at(r[0]), 0}; },
    [&](const Point &x) {
      const double r = x[0] / 2;
      return evaluate(g, {r, x[1] / h_at(r), 0});
    });
  const auto grid = round_trip(builder.finish(), "degree_eight");

  // Integral over [0,1]^2 of g(r, s) * 2 h(r).
  double expected = 0;
  for (const auto &m : g)
    for (std::size_t k = 0; k < h.size(); ++k)
      expected += m.coefficient * 2 * h[k] / (m.powers[0] + k + 1) / (m.powers[1] + 1);
  expect_close(post::integrate_point_field(grid, "density", 2), expected);
  expect_close(post::mesh_measure(grid, 2), 6 + 4 * c / 3 + e / 15);
}

// (b) A cubic Lagrange curve on [0.5, 2.5] with a cubic field.
TEST(VtkReader, CubicLagrangeCurveIntegratesExactly)
{
  const Field field = [](const Point &x) { return x[0] * x[0] * x[0] - 2 * x[0] + 1; };
  GridBuilder builder;
  builder.add_mapped_cell(VTK_LAGRANGE_CURVE, lagrange_curve_nodes(3), box_map({0.5, 0, 0}, {2.5, 0, 0}),
                          field, 1.25);
  const auto grid = round_trip(builder.finish(), "cubic_curve");
  EXPECT_EQ(post::cell_dimension(grid), 1);
  // [x^4/4 - x^2 + x] from 0.5 to 2.5
  EXPECT_NEAR(post::integrate_point_field(grid, "density", 1), 5.75, 1e-12);
  EXPECT_NEAR(post::mesh_measure(grid, 1), 2.0, 1e-13);
  EXPECT_DOUBLE_EQ(post::sum_cell_field(grid, "cell_mass"), 1.25);
  // A 1D mesh integrated as 2D is an error, not a zero.
  EXPECT_THROW(post::integrate_point_field(grid, "density", 2), std::runtime_error);
}

// (c) A degree-2 Lagrange hexahedron on [1,2]x[0,2]x[0,3].
TEST(VtkReader, QuadraticLagrangeHexahedronIntegratesExactly)
{
  const Field field = [](const Point &x) {
    const double X = x[0], Y = x[1], Z = x[2];
    return X * X * Y + Y * Y * Z + X * Z * Z + X * Y * Z + 1 + X * X * Y * Y * Z * Z;
  };
  GridBuilder builder;
  builder.add_mapped_cell(VTK_LAGRANGE_HEXAHEDRON, lagrange_hexahedron_nodes(2),
                          box_map({1, 0, 0}, {2, 2, 3}), field, 2.5);
  const auto grid = round_trip(builder.finish(), "quadratic_hexahedron");
  ASSERT_EQ(grid->GetNumberOfPoints(), 27);
  EXPECT_EQ(post::cell_dimension(grid), 3);
  // 14 + 12 + 27 + 13.5 + 6 + 56
  EXPECT_NEAR(post::integrate_point_field(grid, "density", 3), 128.5, 1e-12);
  EXPECT_NEAR(post::mesh_measure(grid, 3), 6.0, 1e-13);
  EXPECT_DOUBLE_EQ(post::sum_cell_field(grid, "cell_mass"), 2.5);
}

// Linear cells (p = 1 or subdivided patches) and simplices.
TEST(VtkReader, LinearAndSimplexCells)
{
  {
    const Field field = [](const Point &x) { return 1 + 3 * x[0]; };
    GridBuilder builder;
    builder.add_cell(VTK_LINE, {{-1, 0, 0}, {1, 0, 0}}, field);
    builder.add_cell(VTK_LINE, {{1, 0, 0}, {4, 0, 0}}, field);
    const auto grid = round_trip(builder.finish(), "lines");
    expect_close(post::integrate_point_field(grid, "density", 1), 5 + 1.5 * 16 - 1.5);
  }
  {
    const Field field = [](const Point &x) { return 1 + x[0] + 2 * x[1] + x[0] * x[1]; };
    GridBuilder builder;
    builder.add_cell(VTK_QUAD, {{0, 0, 0}, {2, 0, 0}, {2, 3, 0}, {0, 3, 0}}, field);
    const auto grid = round_trip(builder.finish(), "quad");
    // 6 + 2*3*1 + 2*2*4.5 + 2*4.5
    expect_close(post::integrate_point_field(grid, "density", 2), 39.0);
  }
  {
    const Polynomial polynomial = full_tensor_polynomial(1, 3);
    const Point      lower = {0, -1, 1}, upper = {2, 1, 1.5};
    GridBuilder      builder;
    builder.add_mapped_cell(VTK_HEXAHEDRON, lagrange_hexahedron_nodes(1), box_map(lower, upper),
                            [&](const Point &x) { return evaluate(polynomial, x); });
    const auto grid = round_trip(builder.finish(), "hexahedron");
    expect_close(post::integrate_point_field(grid, "density", 3),
                 integrate_exactly(polynomial, lower, upper, 3));
  }
  {
    // Triangle (0,0), (2,0), (0,3): area 3, integral of xy = 2^2 3^2 / 24.
    const Field xy = [](const Point &x) { return x[0] * x[1]; };
    GridBuilder builder;
    builder.add_cell(VTK_LAGRANGE_TRIANGLE,
                     {{0, 0, 0}, {2, 0, 0}, {0, 3, 0}, {1, 0, 0}, {1, 1.5, 0}, {0, 1.5, 0}}, xy);
    const auto grid = round_trip(builder.finish(), "triangle");
    expect_close(post::mesh_measure(grid, 2), 3.0);
    expect_close(post::integrate_point_field(grid, "density", 2), 1.5);
  }
  {
    // Tetrahedron with legs 2, 3, 1: volume 1, integral of 1 + x = 1 + 4*3/24.
    GridBuilder builder;
    builder.add_cell(VTK_TETRA, {{0, 0, 0}, {2, 0, 0}, {0, 3, 0}, {0, 0, 1}},
                     [](const Point &x) { return 1 + x[0]; });
    const auto grid = round_trip(builder.finish(), "tetrahedron");
    expect_close(post::integrate_point_field(grid, "density", 3), 1.5);
  }
}
