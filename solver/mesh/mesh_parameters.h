// `subsection Mesh`: where the tokens live (a box or a gmsh file) and how
// finely. Declared and read here; the mesh is built by mesh_builder.h.
#pragma once

#include "common/parameter_entries.h"

#include <string>
#include <vector>

namespace tpde
{
  struct MeshParameters
  {
    enum class Domain
    {
      box,
      file
    };
    Domain                    domain = Domain::box;
    std::vector<double>       lower_corner;
    std::vector<double>       upper_corner;
    std::vector<unsigned int> subdivisions;
    unsigned int              global_refinements = 0;
    std::string               file; // domain = file: gmsh .msh, resolved against the parameter file's folder

    static const Choices<Domain> &domains();
    static void                   declare(EntryDeclarations &entries);
    /// `dim`: of the token space. Records the mesh file as an absolute path.
    static MeshParameters read(const EntryReader &r, unsigned int dim);
  };
} // namespace tpde
