// Builds the coarse mesh from `subsection Mesh`: a subdivided box, or a gmsh
// file (read by mesh/gmsh_reader.h, which trusts nothing in the file),
// followed by global refinement.
#pragma once

#include "mesh/mesh_parameters.h"

#include <deal.II/grid/tria.h>

namespace tpde
{
  /// Fills an empty (serial, shared or distributed) triangulation.
  /// Throws InputError for unreadable or inconsistent mesh files
  /// (`parameter_file` names the file in the message): bad syntax, cells
  /// that share a face with two others or have no volume, meshes deal.II
  /// cannot orient.
  template <int dim, int spacedim = dim>
  void build_mesh(dealii::Triangulation<dim, spacedim> &triangulation, const MeshParameters &mesh,
                  const std::string &parameter_file);

  /// domain = file: the number of cells in the file (read and checked like
  /// build_mesh, without building anything), so that the size of a run is
  /// known before its mesh is refined. Throws InputError.
  unsigned long long coarse_cell_count(const MeshParameters &mesh, unsigned int dim,
                                       const std::string &parameter_file);
} // namespace tpde
