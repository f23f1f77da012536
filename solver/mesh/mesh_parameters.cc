#include "mesh/mesh_parameters.h"

#include <cmath>
#include <filesystem>

namespace tpde
{
  const Choices<MeshParameters::Domain> &MeshParameters::domains()
  {
    static const Choices<Domain> all({
      {"box", Domain::box,
       "an axis-parallel box from 'lower corner' to 'upper corner' split into 'subdivisions' cells per direction;"},
      {"file", Domain::file, "a gmsh .msh file;"},
      {"sphere", Domain::sphere,
       "the unit sphere S^{d-1} in R^d (tokens normalised as by LayerNorm). d = 2: the circle, meshed by the "
       "angle theta in [0, 2 pi) with periodic ends ('subdivisions' cells, one number, then 'global "
       "refinements'); x = (cos theta, sin theta) and densities are per unit arc length. 'lower corner' and "
       "'upper corner' are not used. d = 3: S^2, a surface mesh in R^3 (the six faces of a cube projected "
       "onto the sphere, 6 * 4^r cells after r = 'global refinements'; 'subdivisions' is not used), with a "
       "mapping of degree max(4, p + 2) so the geometry is resolved beyond the scheme's order."},
    });
    return all;
  }

  void MeshParameters::declare(EntryDeclarations &entries)
  {
    entries.declare_choice("domain", "box", domains(), "");
    entries.declare("lower corner", "-8", EntryPattern::anything(),
                    "Lower corner of the box: d numbers separated by ',' (one number is used for every direction).");
    entries.declare("upper corner", "8", EntryPattern::anything(), "Upper corner of the box (as 'lower corner').");
    entries.declare("subdivisions", "1", EntryPattern::anything(),
                    "Cells per direction of the coarse box mesh before global refinement: d whole numbers (one "
                    "number is used for every direction).");
    entries.declare("global refinements", "5", EntryPattern::integer(0, 20),
                    "Uniform refinements of the coarse mesh (each halves the cell size).");
    entries.declare("file", "", EntryPattern::anything(),
                    "gmsh mesh file for domain = file, relative to the parameter file's folder: ASCII gmsh format "
                    "1, 2.x, 4.0 or 4.1 whose d-dimensional elements are first-order lines, quadrilaterals or "
                    "hexahedra forming a conforming mesh without pinched nodes or edges (lower-dimensional "
                    "elements are ignored).");
  }

  namespace
  {
    /// domain = sphere: the chart of the circle, theta in [0, 2 pi).
    MeshParameters read_sphere(const EntryReader &r, unsigned int dim)
    {
      if (dim != 2 && dim != 3)
        r.fail("domain", "expected dimension = 2 (the circle) or 3 (S^2) for domain = sphere, got dimension = " +
                           std::to_string(dim));
      MeshParameters mesh;
      mesh.domain = MeshParameters::Domain::sphere;
      if (dim == 3)
        {
          mesh.lower_corner       = {-1., -1., -1.};
          mesh.upper_corner       = {1., 1., 1.};
          mesh.subdivisions       = {1, 1, 1};
          mesh.global_refinements = r.integer("global refinements");
          return mesh;
        }
      mesh.lower_corner       = {0.};
      mesh.upper_corner       = {2. * M_PI};
      mesh.global_refinements = r.integer("global refinements");
      const auto cells        = r.vector("subdivisions", 1);
      if (cells[0] < 1 || cells[0] != std::floor(cells[0]) || cells[0] >= 2147483648.)
        r.fail("subdivisions", "expected one positive whole number below 2^31 (cells around the circle), got " +
                                 r.text("subdivisions"));
      mesh.subdivisions = {static_cast<unsigned int>(cells[0])};
      return mesh;
    }
  } // namespace

  MeshParameters MeshParameters::read(const EntryReader &r, unsigned int dim)
  {
    MeshParameters mesh;
    mesh.domain = r.choice("domain", domains());
    if (mesh.on_sphere())
      return read_sphere(r, dim);
    mesh.lower_corner       = r.vector("lower corner", dim);
    mesh.upper_corner       = r.vector("upper corner", dim);
    mesh.global_refinements = r.integer("global refinements");
    for (double s : r.vector("subdivisions", dim))
      {
        // Below 2^31: converting a larger double to unsigned int is undefined
        // (1e19 became 0 cells); the run-size check refuses far smaller meshes.
        if (s < 1 || s != std::floor(s) || s >= 2147483648.)
          r.fail("subdivisions", "expected positive whole numbers below 2^31, got " + r.text("subdivisions"));
        mesh.subdivisions.push_back(static_cast<unsigned int>(s));
      }
    for (unsigned int k = 0; k < dim; ++k)
      if (!(mesh.lower_corner[k] < mesh.upper_corner[k]))
        r.fail("upper corner", "expected every coordinate to exceed the lower corner's");
    mesh.file = r.text("file");
    if (mesh.domain == Domain::file)
      {
        std::filesystem::path f(mesh.file);
        if (f.is_relative())
          f = std::filesystem::path(r.file()).parent_path() / f;
        if (mesh.file.empty() || !std::filesystem::is_regular_file(f))
          r.fail("file", "mesh file '" + mesh.file + "' does not exist (looked for '" + f.string() + "')");
        mesh.file = f.string();
        // parameters.prm in the output folder must point at the same file.
        r.record("file", std::filesystem::absolute(f).string());
      }
    return mesh;
  }
} // namespace tpde
