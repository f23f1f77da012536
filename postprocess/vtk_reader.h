// Reading TPDE's ParaView output back (.pvd time series, .vtu/.pvtu grids,
// .vtp/.pvtp poly data) and integrating its fields with each cell's own
// shape functions, so that higher-order (VTK Lagrange) cells written by
// deal.II's DataOut with write_higher_order_cells = true are integrated
// exactly rather than through a linear sub-tessellation.
//
// All functions throw std::runtime_error with a one-line message on
// missing or malformed input.
#pragma once

#include <vtkPolyData.h>
#include <vtkSmartPointer.h>
#include <vtkUnstructuredGrid.h>

#include <string>
#include <vector>

namespace tpde::postprocess
{
  /// One <DataSet> of a .pvd collection.
  struct TimeSeriesEntry
  {
    double      time;
    std::string file; // absolute (relative entries resolved against the .pvd's folder)
  };

  /// The DataSet entries of a ParaView collection, in file order.
  std::vector<TimeSeriesEntry> read_pvd(const std::string &pvd_path);

  /// A .vtu (serial) or .pvtu (pieces appended into one grid) file.
  vtkSmartPointer<vtkUnstructuredGrid> read_grid(const std::string &path);

  /// A .vtp or .pvtp file.
  vtkSmartPointer<vtkPolyData> read_polydata(const std::string &path);

  /// Highest cell dimension present (0 for an empty grid).
  int cell_dimension(vtkUnstructuredGrid *grid);

  /// Integral over the mesh of the scalar point array `array_name`, interpolated
  /// with each cell's shape functions. `dimension` is the dimension of the cells
  /// and of the measure (length, area, volume); every cell must have it.
  /// Supported cells: lines, quadrilaterals and hexahedra (linear, quadratic,
  /// Lagrange, Bézier) and triangles/tetrahedra of the same families.
  double integrate_point_field(vtkUnstructuredGrid *grid,
                               const std::string   &array_name,
                               int                  dimension);

  /// Integral of x_component * field (component 0, 1 or 2 of the point position).
  double integrate_first_moment(vtkUnstructuredGrid *grid,
                                const std::string   &array_name,
                                int                  dimension,
                                int                  component);

  /// Total length/area/volume of the mesh (integral of 1).
  double mesh_measure(vtkUnstructuredGrid *grid, int dimension);

  /// Sum over cells of the scalar cell array `name`.
  double sum_cell_field(vtkUnstructuredGrid *grid, const std::string &name);
} // namespace tpde::postprocess
