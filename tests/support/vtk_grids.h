// Unstructured VTK grids built cell by cell for the post-processing tests:
// polynomials with exact box integrals, the Lagrange node orderings of VTK,
// a grid builder with a point field "density" and a cell field "cell_mass",
// and the .vtu writer.
#pragma once

#include <gtest/gtest.h>

#include <vtkCellData.h>
#include <vtkCellType.h>
#include <vtkDoubleArray.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkSmartPointer.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLUnstructuredGridWriter.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tpde::testing::vtk_grids
{
  using Point = std::array<double, 3>;
  using Field = std::function<double(const Point &)>;

  // ---- polynomials with exact box integrals -------------------------------

  struct Monomial
  {
    double             coefficient;
    std::array<int, 3> powers;
  };
  using Polynomial = std::vector<Monomial>;

  inline double evaluate(const Polynomial &p, const Point &x)
  {
    double value = 0.0;
    for (const auto &m : p)
      value += m.coefficient * std::pow(x[0], m.powers[0]) * std::pow(x[1], m.powers[1]) *
               std::pow(x[2], m.powers[2]);
    return value;
  }

  // Integral over the box [lower, upper] in the first `dimension` variables.
  inline double integrate_exactly(const Polynomial &p, const Point &lower, const Point &upper, int dimension)
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
  inline Polynomial full_tensor_polynomial(int degree, int dimension)
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

  inline std::vector<Point> lagrange_curve_nodes(int p)
  {
    std::vector<Point> nodes = {{0, 0, 0}, {1, 0, 0}};
    for (int i = 1; i < p; ++i)
      nodes.push_back({double(i) / p, 0, 0});
    return nodes;
  }

  inline std::vector<Point> lagrange_quadrilateral_nodes(int p)
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

  inline std::vector<Point> lagrange_hexahedron_nodes(int p)
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

  inline std::function<Point(const Point &)> box_map(const Point &lower, const Point &upper)
  {
    return [=](const Point &r) {
      return Point{lower[0] + r[0] * (upper[0] - lower[0]),
                   lower[1] + r[1] * (upper[1] - lower[1]),
                   lower[2] + r[2] * (upper[2] - lower[2])};
    };
  }

  inline std::string write_vtu(vtkUnstructuredGrid *grid, const std::string &path)
  {
    vtkNew<vtkXMLUnstructuredGridWriter> writer;
    writer->SetInputData(grid);
    writer->SetFileName(path.c_str());
    if (writer->Write() != 1)
      throw std::runtime_error("cannot write " + path);
    return path;
  }

  inline void expect_close(double actual, double expected, double tolerance = 1e-12)
  {
    EXPECT_NEAR(actual, expected, tolerance * std::max(1.0, std::abs(expected)));
  }

} // namespace tpde::testing::vtk_grids
