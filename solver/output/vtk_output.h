// ParaView output: one .vtu per output time (a .pvtu with one piece per rank
// in parallel) holding density, velocity, cell mass, MPI rank and refinement
// level as higher-order Lagrange cells (smooth for Q2-Q4), and a .pvd series
// with the physical times. Every file is written to a temporary name and
// renamed, so readers never see a half-written file.
#pragma once

#include "dg/dg_space.h"
#include "output/run_output.h"

#include <vtkSmartPointer.h>

#include <string>
#include <utility>
#include <vector>

class vtkUnstructuredGrid;

namespace tpde
{
  template <int dim, int spacedim = dim>
  class VtkOutput
  {
  public:
    /// `coordinate_names` (optional, one per mesh coordinate, e.g. s, x for
    /// masked attention): each coordinate is also written as a point array of
    /// that name (for Threshold/Contour filters), and the velocity's components
    /// are named after them.
    VtkOutput(const DGSpace<dim, spacedim> &space, const std::string &directory,
              std::vector<std::string> coordinate_names = {});

    /// Call after every mesh change.
    void setup();

    /// `indicator`: the refinement indicator per owned cell, or empty.
    void write(double time, const VectorType &ghosted_density, const double *node_velocity,
               const std::vector<double> &indicator = {});

    unsigned int n_written() const { return static_cast<unsigned int>(series.size()); }
    /// The .pvd series so far (a checkpoint records it), and its restore by a
    /// resumed run (collective; rank 0 rewrites solution.pvd).
    const PvdCollection::Entries &outputs() const { return series.entries(); }
    void                          resume(PvdCollection::Entries outputs);

  private:
    /// Evaluates the DG polynomial with nodal values `nodal` (deal.II's
    /// lexicographic order) at the output points of a cell, in VTK order.
    void interpolate(const double *nodal, double *at_points, unsigned int stride);

    const DGSpace<dim, spacedim> &space;
    std::string         directory;
    std::vector<std::string> coordinate_names;
    unsigned int        order = 1;           // of the VTK Lagrange cells, max(p, 1)
    unsigned int        points_per_cell = 0; // (order + 1)^dim
    // 1D factor of the interpolation from the Gauss nodes to the equispaced
    // points: [a * (p + 1) + b] = phi_b(a / order).
    std::vector<double>       interpolation_1d;
    std::vector<unsigned int> vtk_index; // lexicographic output point -> VTK point of the cell
    std::vector<double>       scratch[2];
    // Points, cells, rank and level of the owned cells (rebuilt by setup()).
    vtkSmartPointer<vtkUnstructuredGrid> grid;
    PvdCollection                        series; // solution.pvd
  };
} // namespace tpde
