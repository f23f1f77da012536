// Builds the coarse mesh from `subsection Mesh`: a subdivided box, or a gmsh
// file, followed by global refinement.
#pragma once

#include "parameters/parameters.h"

#include <deal.II/grid/tria.h>

namespace tpde
{
  /// Fills an empty (serial, shared or distributed) triangulation.
  /// Throws InputError for unreadable or inconsistent mesh files.
  template <int dim>
  void build_mesh(dealii::Triangulation<dim> &triangulation, const Parameters &parameters);
} // namespace tpde
