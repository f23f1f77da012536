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
      file,
      sphere // the unit sphere S^{d-1} in R^d; d = 2: the circle, meshed by its angle (periodic)
    };
    Domain                    domain = Domain::box;
    std::vector<double>       lower_corner;
    std::vector<double>       upper_corner;
    std::vector<unsigned int> subdivisions;
    unsigned int              global_refinements = 0;
    std::string               file; // domain = file: gmsh .msh, resolved against the parameter file's folder

    /// Tokens on the unit sphere: the mesh is a chart of S^{d-1} (one dimension less than the tokens).
    bool         on_sphere() const { return domain == Domain::sphere; }
    /// The mesh's dimension for tokens in R^dim (before masked attention adds s).
    static unsigned int chart_dimension(unsigned int dim, bool sphere) { return sphere ? dim - 1 : dim; }

    static const Choices<Domain> &domains();
    static void                   declare(EntryDeclarations &entries);
    /// `dim`: of the token space. Records the mesh file as an absolute path.
    static MeshParameters read(const EntryReader &r, unsigned int dim);
  };
} // namespace tpde
