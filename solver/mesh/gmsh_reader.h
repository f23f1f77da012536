// The coarse mesh of a gmsh .msh file (domain = file), read without trusting
// the file: deal.II's GridIn::read_msh takes the counts in the file at their
// word (a count of 4e9 nodes allocates 100 GB, a short section loops for
// minutes, an entity dimension of 7 indexes past an array), so a damaged file
// could crash or hang a run. This reader checks every count against the rest
// of the file, every number as a whole token, every node reference and the
// cells' topology, and reports the first problem with its line.
//
// Formats: ASCII gmsh 1 ($NOD/$ELM), 2.x, 4.0 and 4.1 (binary files are
// refused). The mesh's cells are its elements of dimension `dim`, which must
// be first-order lines (1D), quadrilaterals (2D) or hexahedra (3D);
// lower-dimensional elements (points, boundary lines and faces) are skipped,
// higher-dimensional ones are an error. Node coordinates beyond `dim` (z of a
// 2D mesh) are ignored. Physical groups, entities and other sections are not
// used (TPDE has no boundary or material ids).
#pragma once

#include <string>
#include <vector>

namespace tpde
{
  struct GmshMesh
  {
    unsigned int              dim = 0;
    std::vector<double>       points; // dim coordinates per node
    std::vector<unsigned int> cells;  // 2^dim node indices per cell, in deal.II's (lexicographic) order
    std::vector<unsigned long> lines;  // the line of each cell in the file (for messages)
    std::vector<long long>    tags;   // the gmsh number of each node (for messages)

    std::size_t n_points() const { return dim == 0 ? 0 : points.size() / dim; }
    std::size_t n_cells() const { return dim == 0 ? 0 : cells.size() / (1u << dim); }
  };

  /// Parses the text of a .msh file. Throws std::invalid_argument with a
  /// one-line reason naming the line ("line 12: expected ..., got ...").
  /// Besides the syntax it checks the cells' topology (mesh/mesh_topology.h).
  GmshMesh parse_gmsh(const std::string &text, unsigned int dim);
} // namespace tpde
