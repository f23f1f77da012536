// ParaView output: one .vtu per output time (a .pvtu with one piece per rank
// in parallel) holding density, velocity, cell mass, MPI rank and refinement
// level as higher-order Lagrange cells (smooth for Q2-Q4), and a .pvd series
// with the physical times. Every file is written to a temporary name and
// renamed, so readers never see a half-written file.
#pragma once

#include "discretization/dg_space.h"

#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/fe_system.h>

#include <string>
#include <utility>
#include <vector>

namespace tpde
{
  /// Writes `text` to `path` atomically (temporary file + rename).
  void write_file_atomically(const std::string &path, const std::string &text);

  template <int dim>
  class VtkOutput
  {
  public:
    VtkOutput(const DGSpace<dim> &space, const std::string &directory);

    /// Call after every mesh change.
    void setup();

    void write(double time, const VectorType &ghosted_density, const double *node_velocity);

    unsigned int n_written() const { return static_cast<unsigned int>(series.size()); }

  private:
    const DGSpace<dim>                         &space;
    std::string                                 directory;
    dealii::FESystem<dim>                       velocity_fe;
    dealii::DoFHandler<dim>                     velocity_dof_handler;
    std::vector<std::pair<double, std::string>> series;
  };
} // namespace tpde
