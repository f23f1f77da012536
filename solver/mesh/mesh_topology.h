// The topology a coarse mesh must have before deal.II and p4est see it. Both
// assume a conforming, manifold mesh of hypercubes and check little of it in
// a release build: a cell whose edge is another cell's diagonal, or cells
// that touch only at a node next to cells that share an edge there, make
// p4est abort the whole process (SC_ABORT_NOT_REACHED in its 2:1 balance).
#pragma once

#include "mesh/gmsh_reader.h"

namespace tpde
{
  /// Checks the cells of `mesh` (node indices in deal.II's lexicographic
  /// order):
  ///  * every cell has distinct nodes, and no two cells have the same nodes;
  ///  * no face (a node in 1D, an edge in 2D) belongs to more than two cells;
  ///  * two cells that share nodes share one whole edge or face of both, with
  ///    the same edges (no cell's edge is another's diagonal);
  ///  * the mesh is a manifold: the cells at a node are connected through
  ///    their faces at that node (in 3D also the cells at an edge through
  ///    their faces at that edge), so no two groups of cells touch only at a
  ///    node or an edge;
  ///  * no node belongs to more than 1000 cells (keeps the checks linear).
  /// Throws std::invalid_argument naming the line of a cell in the file.
  void check_topology(const GmshMesh &mesh);
} // namespace tpde
