// Builds the coarse mesh from `subsection Mesh`: a subdivided box, or a gmsh
// file, followed by global refinement.
#pragma once

#include "mesh/mesh_parameters.h"

#include <deal.II/grid/tria.h>

namespace tpde
{
  /// Fills an empty (serial, shared or distributed) triangulation.
  /// Throws InputError for unreadable or inconsistent mesh files
  /// (`parameter_file` names the file in the message).
  template <int dim>
  void build_mesh(dealii::Triangulation<dim> &triangulation, const MeshParameters &mesh,
                  const std::string &parameter_file);
} // namespace tpde
