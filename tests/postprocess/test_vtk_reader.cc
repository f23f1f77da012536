// The VTK reader and integrator: grids with Lagrange and linear cells are
// built here, written with VTK's own writers, read back and integrated; the
// results are compared with analytic integrals.
#include "postprocess/vtk_reader.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <vtkCellData.h>
#include <vtkCellType.h>
#include <vtkDoubleArray.h>
#include <vtkGenericCell.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkXMLPolyDataWriter.h>
#include <vtkXMLUnstructuredGridWriter.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace
{
  namespace fs   = std::filesystem;
  namespace post = tpde::postprocess;
  using Point    = std::array<double, 3>;
  using Field    = std::function<double(const Point &)>;

  std::string scratch(const std::string &name)
  {
    return tpde::testing::scratch_directory("postprocess_vtk_reader/" + name);
  }

  // ---- polynomials with exact box integrals -------------------------------

  struct Monomial
  {
    double             coefficient;
    std::array<int, 3> powers;
  };
  using Polynomial = std::vector<Monomial>;

  double evaluate(const Polynomial &p, const Point &x)
  {
    double value = 0.0;
    for (const auto &m : p)
      value += m.coefficient * std::pow(x[0], m.powers[0]) * std::pow(x[1], m.powers[1]) *
               std::pow(x[2], m.powers[2]);
    return value;
  }

  // Integral over the box [lower, upper] in the first `dimension` variables.
  double integrate_exactly(const Polynomial &p, const Point &lower, const Point &upper, int dimension)
  {
    double total = 0.0;
    for (const auto &m : p)
      {
        double term = m.coefficient;
        for (int d = 0; d < dimension; ++d)
          {
            const int k = m.powers[d];
            term *= (std::pow(upper[d], k + 1) - std::pow(lower[d], k + 1)) / (k + 1);
          }
        total += term;
      }
    return total;
  }

  // A polynomial of degree `degree` in each of the first `dimension` variables,
  // with all mixed terms present and no symmetry between the variables.
  Polynomial full_tensor_polynomial(int degree, int dimension)
  {
    Polynomial p;
    const int  max_j = dimension > 1 ? degree : 0;
    const int  max_k = dimension > 2 ? degree : 0;
    for (int i = 0; i <= degree; ++i)
      for (int j = 0; j <= max_j; ++j)
        for (int k = 0; k <= max_k; ++k)
          p.push_back({1.0 + 0.37 * i - 0.21 * j + 0.13 * k + 0.05 * i * j * (k + 1), {i, j, k}});
    return p;
  }

  // ---- VTK Lagrange node orderings (parametric coordinates in [0,1]^d) ----
  // Written out from VTK's documented numbering: vertices, then edge nodes
  // (each edge walked from its first to its second vertex), then face nodes,
  // then interior nodes, the last two in lexicographic order (x fastest).

  std::vector<Point> lagrange_curve_nodes(int p)
  {
    std::vector<Point> nodes = {{0, 0, 0}, {1, 0, 0}};
    for (int i = 1; i < p; ++i)
      nodes.push_back({double(i) / p, 0, 0});
    return nodes;
  }

  std::vector<Point> lagrange_quadrilateral_nodes(int p)
  {
    std::vector<Point> nodes = {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0}};
    const auto         t     = [p](int i) { return double(i) / p; };
    for (int i = 1; i < p; ++i) // edge 0-1
      nodes.push_back({t(i), 0, 0});
    for (int i = 1; i < p; ++i) // edge 1-2
      nodes.push_back({1, t(i), 0});
    for (int i = 1; i < p; ++i) // edge 3-2
      nodes.push_back({t(i), 1, 0});
    for (int i = 1; i < p; ++i) // edge 0-3
      nodes.push_back({0, t(i), 0});
    for (int j = 1; j < p; ++j)
      for (int i = 1; i < p; ++i)
        nodes.push_back({t(i), t(j), 0});
    return nodes;
  }

  std::vector<Point> lagrange_hexahedron_nodes(int p)
  {
    std::vector<Point> nodes = {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0},
                                {0, 0, 1}, {1, 0, 1}, {1, 1, 1}, {0, 1, 1}};
    const auto         t     = [p](int i) { return double(i) / p; };
    // Edges: bottom (z=0) and top (z=1) rings like the quadrilateral, then the
    // vertical edges 0-4, 1-5, 2-6, 3-7 (VTK >= 9 numbering, file version 2.2;
    // the XML reader converts older files, which had 3-7 before 2-6).
    for (const double z : {0.0, 1.0})
      {
        for (int i = 1; i < p; ++i)
          nodes.push_back({t(i), 0, z});
        for (int i = 1; i < p; ++i)
          nodes.push_back({1, t(i), z});
        for (int i = 1; i < p; ++i)
          nodes.push_back({t(i), 1, z});
        for (int i = 1; i < p; ++i)
          nodes.push_back({0, t(i), z});
      }
    for (const auto &[x, y] : std::vector<std::pair<double, double>>{{0, 0}, {1, 0}, {1, 1}, {0, 1}})
      for (int i = 1; i < p; ++i)
        nodes.push_back({x, y, t(i)});
    // Faces x=0, x=1 (y fastest), y=0, y=1 (x fastest), z=0, z=1 (x fastest).
    for (const double x : {0.0, 1.0})
      for (int k = 1; k < p; ++k)
        for (int j = 1; j < p; ++j)
          nodes.push_back({x, t(j), t(k)});
    for (const double y : {0.0, 1.0})
      for (int k = 1; k < p; ++k)
        for (int i = 1; i < p; ++i)
          nodes.push_back({t(i), y, t(k)});
    for (const double z : {0.0, 1.0})
      for (int j = 1; j < p; ++j)
        for (int i = 1; i < p; ++i)
          nodes.push_back({t(i), t(j), z});
    for (int k = 1; k < p; ++k)
      for (int j = 1; j < p; ++j)
        for (int i = 1; i < p; ++i)
          nodes.push_back({t(i), t(j), t(k)});
    return nodes;
  }

  // ---- building grids -------------------------------------------------------

  // Accumulates cells with their own (unshared) points and the point field
  // "density", plus a cell field "cell_mass".
  class GridBuilder
  {
  public:
    GridBuilder()
    {
      points->SetDataTypeToDouble();
      density->SetName("density");
      cell_mass->SetName("cell_mass");
      grid->SetPoints(points);
    }

    void add_cell(int vtk_type, const std::vector<Point> &nodes, const Field &field, double mass = 0.0)
    {
      std::vector<vtkIdType> ids;
      for (const auto &node : nodes)
        {
          ids.push_back(points->InsertNextPoint(node.data()));
          density->InsertNextValue(field(node));
        }
      grid->InsertNextCell(vtk_type, static_cast<vtkIdType>(ids.size()), ids.data());
      cell_mass->InsertNextValue(mass);
    }

    // Maps reference nodes into physical space first.
    void add_mapped_cell(int                                   vtk_type,
                         const std::vector<Point>             &reference_nodes,
                         const std::function<Point(const Point &)> &map,
                         const Field                          &field,
                         double                                mass = 0.0)
    {
      std::vector<Point> nodes;
      for (const auto &r : reference_nodes)
        nodes.push_back(map(r));
      add_cell(vtk_type, nodes, field, mass);
    }

    vtkSmartPointer<vtkUnstructuredGrid> finish()
    {
      grid->GetPointData()->AddArray(density);
      grid->GetCellData()->AddArray(cell_mass);
      return grid;
    }

  private:
    vtkNew<vtkPoints>                    points;
    vtkNew<vtkDoubleArray>               density;
    vtkNew<vtkDoubleArray>               cell_mass;
    vtkSmartPointer<vtkUnstructuredGrid> grid = vtkSmartPointer<vtkUnstructuredGrid>::New();
  };

  std::function<Point(const Point &)> box_map(const Point &lower, const Point &upper)
  {
    return [=](const Point &r) {
      return Point{lower[0] + r[0] * (upper[0] - lower[0]),
                   lower[1] + r[1] * (upper[1] - lower[1]),
                   lower[2] + r[2] * (upper[2] - lower[2])};
    };
  }

  std::string write_vtu(vtkUnstructuredGrid *grid, const std::string &path)
  {
    vtkNew<vtkXMLUnstructuredGridWriter> writer;
    writer->SetInputData(grid);
    writer->SetFileName(path.c_str());
    if (writer->Write() != 1)
      throw std::runtime_error("cannot write " + path);
    return path;
  }

  // Writes the grid, reads it back through read_grid.
  vtkSmartPointer<vtkUnstructuredGrid> round_trip(vtkUnstructuredGrid *grid, const std::string &name)
  {
    return post::read_grid(write_vtu(grid, scratch(name) + "/grid.vtu"));
  }

  void expect_close(double actual, double expected, double tolerance = 1e-12)
  {
    EXPECT_NEAR(actual, expected, tolerance * std::max(1.0, std::abs(expected)));
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

  std::string integrate_tool()
  {
    return (fs::path(TPDE_EXECUTABLE).parent_path() / "tpde-integrate").string();
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

TEST(VtkReader, LagrangeQuadrilateralsOfDegreesOneToFour)
{
  for (int p = 1; p <= 4; ++p)
    {
      SCOPED_TRACE("degree " + std::to_string(p));
      const Polynomial polynomial = full_tensor_polynomial(p, 2);
      const Field      field      = [&](const Point &x) { return evaluate(polynomial, x); };
      // Two cells of different sizes side by side.
      const Point a0 = {-1, 0.5, 0}, a1 = {0.5, 3, 0}, b0 = {0.5, 0.5, 0}, b1 = {2, 3, 0};
      GridBuilder builder;
      builder.add_mapped_cell(VTK_LAGRANGE_QUADRILATERAL, lagrange_quadrilateral_nodes(p),
                              box_map(a0, a1), field);
      builder.add_mapped_cell(VTK_LAGRANGE_QUADRILATERAL, lagrange_quadrilateral_nodes(p),
                              box_map(b0, b1), field);
      const auto grid = round_trip(builder.finish(), "quadrilateral_p" + std::to_string(p));
      expect_close(post::integrate_point_field(grid, "density", 2),
                   integrate_exactly(polynomial, a0, b1, 2));
      // x * field has degree p + 1 in x.
      Polynomial moment = polynomial;
      for (auto &m : moment)
        ++m.powers[0];
      expect_close(post::integrate_first_moment(grid, "density", 2, 0),
                   integrate_exactly(moment, a0, b1, 2));
    }
}

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

TEST(VtkReader, LagrangeHexahedraOfDegreesOneToFour)
{
  for (int p = 1; p <= 4; ++p)
    {
      SCOPED_TRACE("degree " + std::to_string(p));
      const Polynomial polynomial = full_tensor_polynomial(p, 3);
      const Point      lower = {-0.5, 1, 0.25}, upper = {1, 1.75, 2};
      GridBuilder      builder;
      builder.add_mapped_cell(VTK_LAGRANGE_HEXAHEDRON, lagrange_hexahedron_nodes(p),
                              box_map(lower, upper),
                              [&](const Point &x) { return evaluate(polynomial, x); });
      const auto grid = round_trip(builder.finish(), "hexahedron_p" + std::to_string(p));
      expect_close(post::integrate_point_field(grid, "density", 3),
                   integrate_exactly(polynomial, lower, upper, 3));
      Polynomial moment = polynomial;
      for (auto &m : moment)
        ++m.powers[2];
      expect_close(post::integrate_first_moment(grid, "density", 3, 2),
                   integrate_exactly(moment, lower, upper, 3));
    }
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

// (d) + (e): a .pvd whose entries are .pvtu files with two pieces each.
TEST(VtkReader, ParallelPiecesInATimeSeries)
{
  const std::string dir = scratch("pieces");
  fs::create_directories(dir + "/run");

  // Piece 0: linear quad [0,1]^2 with 1 + x + y (integral 2);
  // piece 1: quadratic Lagrange quad [1,3]x[0,1] with x^2 y + 1 (integral 13/3 + 2).
  const auto write_step = [&](int step, double scale) {
    const Field linear    = [scale](const Point &x) { return scale * (1 + x[0] + x[1]); };
    const Field quadratic = [scale](const Point &x) { return scale * (x[0] * x[0] * x[1] + 1); };
    GridBuilder first, second;
    first.add_cell(VTK_QUAD, {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0}}, linear, 0.25 * scale);
    second.add_mapped_cell(VTK_LAGRANGE_QUADRILATERAL, lagrange_quadrilateral_nodes(2),
                           box_map({1, 0, 0}, {3, 1, 0}), quadratic, 0.75 * scale);
    const std::string stem = "solution_" + std::to_string(step);
    write_vtu(first.finish(), dir + "/run/" + stem + ".0.vtu");
    write_vtu(second.finish(), dir + "/run/" + stem + ".1.vtu");
    // Like deal.II's write_pvtu_record: pieces named relative to the .pvtu.
    tpde::testing::write_file(dir + "/run/" + stem + ".pvtu",
                              "<?xml version=\"1.0\"?>\n"
                              "<VTKFile type=\"PUnstructuredGrid\" version=\"0.1\" byte_order=\"LittleEndian\">\n"
                              "  <PUnstructuredGrid GhostLevel=\"0\">\n"
                              "    <PPointData Scalars=\"scalars\">\n"
                              "      <PDataArray type=\"Float64\" Name=\"density\"/>\n"
                              "    </PPointData>\n"
                              "    <PCellData>\n"
                              "      <PDataArray type=\"Float64\" Name=\"cell_mass\"/>\n"
                              "    </PCellData>\n"
                              "    <PPoints>\n"
                              "      <PDataArray type=\"Float64\" NumberOfComponents=\"3\"/>\n"
                              "    </PPoints>\n"
                              "    <Piece Source=\"" + stem + ".0.vtu\"/>\n"
                              "    <Piece Source=\"" + stem + ".1.vtu\"/>\n"
                              "  </PUnstructuredGrid>\n"
                              "</VTKFile>\n");
  };
  write_step(0, 1.0);
  write_step(1, 2.0);
  const std::string pvd = tpde::testing::write_file(
    dir + "/run.pvd",
    "<?xml version=\"1.0\"?>\n"
    "<VTKFile type=\"Collection\" version=\"0.1\" ByteOrder=\"LittleEndian\">\n"
    "  <Collection>\n"
    "    <DataSet timestep=\"0\" group=\"\" part=\"0\" file=\"run/solution_0.pvtu\"/>\n"
    "    <DataSet timestep=\"0.5\" group=\"\" part=\"0\" file=\"run/solution_1.pvtu\"/>\n"
    "  </Collection>\n"
    "</VTKFile>\n");

  const auto entries = post::read_pvd(pvd);
  ASSERT_EQ(entries.size(), 2u);
  const double expected[] = {25.0 / 3, 50.0 / 3};
  for (std::size_t i = 0; i < entries.size(); ++i)
    {
      const auto grid = post::read_grid(entries[i].file);
      EXPECT_EQ(grid->GetNumberOfCells(), 2);
      expect_close(post::integrate_point_field(grid, "density", 2), expected[i]);
      expect_close(post::sum_cell_field(grid, "cell_mass"), (i + 1) * 1.0);
      // The pieces separately add up to the whole.
      const std::string stem = dir + "/run/solution_" + std::to_string(i);
      expect_close(post::integrate_point_field(post::read_grid(stem + ".0.vtu"), "density", 2) +
                     post::integrate_point_field(post::read_grid(stem + ".1.vtu"), "density", 2),
                   expected[i]);
    }

  // The command-line tool on the same series.
  if (!fs::exists(integrate_tool()))
    GTEST_SKIP() << integrate_tool() << " not built";
  const auto result = tpde::testing::run_command(integrate_tool() + " " + pvd);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string csv = tpde::testing::write_file(dir + "/integrals.csv", result.output);
  const auto        table = tpde::testing::read_csv(csv);
  ASSERT_EQ(table.header, (std::vector<std::string>{"time", "integral", "cell_mass_sum"}));
  ASSERT_EQ(table.rows(), 2u);
  EXPECT_EQ(table.columns.at("time"), (std::vector<double>{0.0, 0.5}));
  for (std::size_t i = 0; i < 2; ++i)
    {
      expect_close(table.columns.at("integral")[i], expected[i]);
      expect_close(table.columns.at("cell_mass_sum")[i], (i + 1) * 1.0);
    }
}

TEST(VtkReader, IntegrateToolRejectsBadInput)
{
  if (!fs::exists(integrate_tool()))
    GTEST_SKIP() << integrate_tool() << " not built";
  const std::string dir = scratch("tool_errors");
  GridBuilder       builder;
  builder.add_cell(VTK_QUAD, {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0}},
                   [](const Point &) { return 1.0; });
  const std::string vtu = write_vtu(builder.finish(), dir + "/one.vtu");

  const auto single = tpde::testing::run_command(integrate_tool() + " " + vtu + " --dimension=2");
  ASSERT_EQ(single.exit_code, 0) << single.output;
  const auto table =
    tpde::testing::read_csv(tpde::testing::write_file(dir + "/single.csv", single.output));
  ASSERT_EQ(table.rows(), 1u);
  EXPECT_EQ(table.columns.at("time")[0], 0.0);
  expect_close(table.columns.at("integral")[0], 1.0);
  EXPECT_EQ(table.columns.at("cell_mass_sum")[0], 0.0);

  const auto no_cell_field =
    tpde::testing::run_command(integrate_tool() + " " + vtu + " --cell-field none");
  ASSERT_EQ(no_cell_field.exit_code, 0) << no_cell_field.output;
  EXPECT_EQ(no_cell_field.output.rfind("time,integral\n0,", 0), 0u) << no_cell_field.output;

  for (const std::string &arguments :
       {std::string(""), dir + "/missing.pvd", vtu + " --dimension 4", vtu + " --bogus",
        vtu + " --field nothing", vtu + " --dimension 3", vtu + " --field"})
    {
      SCOPED_TRACE(arguments);
      const auto result = tpde::testing::run_command(integrate_tool() + " " + arguments);
      EXPECT_EQ(result.exit_code, 2) << result.output;
      // One line, naming the tool.
      EXPECT_EQ(result.output.rfind("tpde-integrate: ", 0), 0u) << result.output;
      EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
    }
}

// (e) read_pvd on a hand-written collection.
TEST(VtkReader, ReadPvdResolvesPathsAndTimes)
{
  const std::string dir = scratch("pvd");
  const std::string pvd = tpde::testing::write_file(
    dir + "/series/run.pvd",
    "<?xml version=\"1.0\"?>\n"
    "<!-- written by hand -->\n"
    "<VTKFile type=\"Collection\" version=\"0.1\" ByteOrder=\"LittleEndian\">\n"
    "  <Collection>\n"
    "    <DataSet timestep=\"0\" group=\"\" part=\"0\" file=\"solution-00000.pvtu\"/>\n"
    "    <DataSet timestep=\"1.5e-3\" part=\"0\" file=\"sub/solution-00001.vtu\"/>\n"
    "    <DataSet timestep=\" 2.25 \" file=\"../elsewhere/solution-00002.vtu\"/>\n"
    "    <DataSet timestep=\"3\" file=\"/absolute/solution-00003.vtu\"/>\n"
    "  </Collection>\n"
    "</VTKFile>\n");
  const auto entries = post::read_pvd(pvd);
  ASSERT_EQ(entries.size(), 4u);
  const fs::path series = fs::absolute(dir + "/series");
  EXPECT_EQ(entries[0].time, 0.0);
  EXPECT_EQ(entries[1].time, 1.5e-3);
  EXPECT_EQ(entries[2].time, 2.25);
  EXPECT_EQ(entries[3].time, 3.0);
  EXPECT_EQ(entries[0].file, (series / "solution-00000.pvtu").lexically_normal().string());
  EXPECT_EQ(entries[1].file, (series / "sub/solution-00001.vtu").lexically_normal().string());
  EXPECT_EQ(entries[2].file, (series.parent_path() / "elsewhere/solution-00002.vtu").lexically_normal().string());
  EXPECT_EQ(entries[3].file, "/absolute/solution-00003.vtu");
  for (const auto &entry : entries)
    EXPECT_TRUE(fs::path(entry.file).is_absolute()) << entry.file;
}

// (f) Missing and malformed input throws std::runtime_error.
TEST(VtkReader, BadInputThrows)
{
  const std::string dir = scratch("bad_input");
  EXPECT_THROW(post::read_pvd(dir + "/missing.pvd"), std::runtime_error);
  EXPECT_THROW(post::read_grid(dir + "/missing.vtu"), std::runtime_error);
  EXPECT_THROW(post::read_grid(dir + "/missing.pvtu"), std::runtime_error);
  EXPECT_THROW(post::read_polydata(dir + "/missing.vtp"), std::runtime_error);

  const auto expect_pvd_error = [&](const std::string &name, const std::string &text) {
    SCOPED_TRACE(name);
    const std::string path = tpde::testing::write_file(dir + "/" + name + ".pvd", text);
    EXPECT_THROW(post::read_pvd(path), std::runtime_error);
  };
  expect_pvd_error("not_xml", "this is not XML <<<");
  expect_pvd_error("truncated", "<VTKFile type=\"Collection\"><Collection><DataSet file=\"a.vtu\"");
  expect_pvd_error("wrong_type", "<VTKFile type=\"UnstructuredGrid\"><Collection/></VTKFile>");
  expect_pvd_error("no_collection", "<VTKFile type=\"Collection\"></VTKFile>");
  expect_pvd_error("no_file", "<VTKFile type=\"Collection\"><Collection><DataSet timestep=\"1\"/></Collection></VTKFile>");
  expect_pvd_error("bad_time", "<VTKFile type=\"Collection\"><Collection><DataSet timestep=\"1x\" file=\"a.vtu\"/></Collection></VTKFile>");

  // A file with the right extension but garbage inside.
  const std::string garbage = tpde::testing::write_file(dir + "/garbage.vtu", "not a VTK file\n");
  EXPECT_THROW(post::read_grid(garbage), std::runtime_error);
  const std::string wrong_extension = tpde::testing::write_file(dir + "/grid.vtk", "x\n");
  EXPECT_THROW(post::read_grid(wrong_extension), std::runtime_error);

  // A .pvtu whose piece is missing.
  const std::string broken_pvtu = tpde::testing::write_file(
    dir + "/broken.pvtu",
    "<?xml version=\"1.0\"?>\n"
    "<VTKFile type=\"PUnstructuredGrid\" version=\"0.1\" byte_order=\"LittleEndian\">\n"
    "  <PUnstructuredGrid GhostLevel=\"0\">\n"
    "    <PPointData><PDataArray type=\"Float64\" Name=\"density\"/></PPointData>\n"
    "    <PPoints><PDataArray type=\"Float64\" NumberOfComponents=\"3\"/></PPoints>\n"
    "    <Piece Source=\"absent.0.vtu\"/>\n"
    "  </PUnstructuredGrid>\n"
    "</VTKFile>\n");
  EXPECT_THROW(post::read_grid(broken_pvtu), std::runtime_error);

  // Missing or non-scalar arrays.
  GridBuilder builder;
  builder.add_cell(VTK_QUAD, {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0}},
                   [](const Point &) { return 1.0; });
  auto           grid = builder.finish();
  vtkNew<vtkDoubleArray> velocity;
  velocity->SetName("velocity");
  velocity->SetNumberOfComponents(3);
  velocity->SetNumberOfTuples(4);
  velocity->Fill(0.0);
  grid->GetPointData()->AddArray(velocity);
  EXPECT_THROW(post::integrate_point_field(grid, "nothing", 2), std::runtime_error);
  EXPECT_THROW(post::integrate_point_field(grid, "velocity", 2), std::runtime_error);
  EXPECT_THROW(post::sum_cell_field(grid, "nothing"), std::runtime_error);
  EXPECT_THROW(post::integrate_point_field(grid, "density", 3), std::runtime_error);
  EXPECT_THROW(post::integrate_point_field(grid, "density", 0), std::invalid_argument);

  // A cell using a node twice (what deal.II 9.4 writes for 1D higher-order cells).
  vtkNew<vtkPoints> points;
  for (const double x : {0.0, 1.0, 2.0})
    points->InsertNextPoint(x, 0, 0);
  vtkNew<vtkUnstructuredGrid> broken;
  broken->SetPoints(points);
  const vtkIdType ids[] = {2, 0, 0, 0};
  broken->InsertNextCell(VTK_LAGRANGE_CURVE, 4, ids);
  EXPECT_THROW(post::mesh_measure(broken, 1), std::runtime_error);
}

TEST(VtkReader, ReadsPolyData)
{
  const std::string dir = scratch("polydata");
  vtkNew<vtkPoints> points;
  points->InsertNextPoint(0, 0, 0);
  points->InsertNextPoint(1, 2, 3);
  vtkNew<vtkPolyData> polydata;
  polydata->SetPoints(points);
  vtkNew<vtkXMLPolyDataWriter> writer;
  writer->SetInputData(polydata);
  const std::string path = dir + "/points.vtp";
  writer->SetFileName(path.c_str());
  ASSERT_EQ(writer->Write(), 1);
  const auto read = post::read_polydata(path);
  ASSERT_EQ(read->GetNumberOfPoints(), 2);
  EXPECT_EQ(read->GetPoint(1)[2], 3.0);
}
