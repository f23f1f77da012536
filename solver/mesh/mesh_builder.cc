#include "mesh/mesh_builder.h"

#include "mesh/gmsh_reader.h"

#include <deal.II/base/exceptions.h>
#include <deal.II/base/geometry_info.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/grid/grid_tools.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace tpde
{
  namespace
  {
    std::string where_of(const std::string &parameter_file)
    {
      return parameter_file + ": subsection 'Mesh', entry 'file': ";
    }

    /// The mesh file, parsed and checked (gmsh_reader.h). Throws InputError.
    GmshMesh read_gmsh(const MeshParameters &mesh, unsigned int dim, const std::string &parameter_file)
    {
      std::ifstream in(mesh.file, std::ios::binary);
      if (!in)
        throw InputError(where_of(parameter_file) + "cannot open mesh file '" + mesh.file + "'");
      std::stringstream text;
      text << in.rdbuf();
      try
        {
          return parse_gmsh(text.str(), dim);
        }
      catch (const std::invalid_argument &e)
        {
          throw InputError(where_of(parameter_file) + "cannot read '" + mesh.file + "' as a " + std::to_string(dim) +
                           "D gmsh mesh: " + e.what());
        }
    }

    /// deal.II's one-line message of an exception.
    std::string message_of(const dealii::ExceptionBase &e)
    {
      std::ostringstream s;
      e.print_info(s);
      std::string text = s.str(), out;
      for (char c : text)
        if (c == '\n' || c == '\r' || c == '\t')
          out += out.empty() || out.back() == ' ' ? "" : " ";
        else if (c != ' ' || (!out.empty() && out.back() != ' '))
          out += c;
      while (!out.empty() && out.back() == ' ')
        out.pop_back();
      return out;
    }

    /// Every cell with a positive Jacobian determinant at all its vertices,
    /// inverting cells numbered the other way round (a reflection keeps the
    /// lexicographic order valid). A cell with a zero or a sign-changing
    /// determinant (no volume, or a "bow tie") is an input error.
    template <int dim>
    void orient_cells(const std::vector<dealii::Point<dim>> &vertices, std::vector<dealii::CellData<dim>> &cells,
                      const GmshMesh &mesh, const std::string &where)
    {
      constexpr unsigned int n = dealii::GeometryInfo<dim>::vertices_per_cell;
      for (std::size_t c = 0; c < cells.size(); ++c)
        {
          dealii::Point<dim>        corners[n];
          dealii::Tensor<0, dim>    forms[n];
          double                    size = 0;
          for (unsigned int v = 0; v < n; ++v)
            corners[v] = vertices[cells[c].vertices[v]];
          for (unsigned int v = 0; v < n; ++v)
            size = std::max(size, corners[v].distance(corners[0]));
          dealii::GeometryInfo<dim>::alternating_form_at_vertices(corners, forms);
          unsigned int positive = 0, negative = 0;
          const double tolerance = 1e-12 * std::pow(size, dim);
          for (unsigned int v = 0; v < n; ++v)
            {
              const double det = static_cast<double>(forms[v]);
              positive += det > tolerance;
              negative += det < -tolerance;
            }
          if (negative == n)
            {
              // Swap the first two coordinates' roles (1D: the two ends).
              auto &v = cells[c].vertices;
              if (dim == 1)
                std::swap(v[0], v[1]);
              else
                for (unsigned int k = 1; k < n; k += 4)
                  std::swap(v[k], v[k + 1]);
            }
          else if (positive != n)
            throw InputError(where + "the cell on line " + std::to_string(mesh.lines[c]) +
                             " has no volume or is twisted (the Jacobian of its vertices vanishes or changes sign)");
        }
    }

    template <int dim, int spacedim>
    void create_from_file(dealii::Triangulation<dim, spacedim> &triangulation, const MeshParameters &mesh,
                          const std::string &parameter_file)
    {
      const std::string where = where_of(parameter_file) + "mesh file '" + mesh.file + "': ";
      const GmshMesh    gmsh  = read_gmsh(mesh, dim, parameter_file);
      std::vector<dealii::Point<dim>> vertices(gmsh.n_points());
      for (std::size_t i = 0; i < vertices.size(); ++i)
        for (unsigned int d = 0; d < dim; ++d)
          vertices[i][d] = gmsh.points[i * dim + d];
      constexpr unsigned int            n = dealii::GeometryInfo<dim>::vertices_per_cell;
      std::vector<dealii::CellData<dim>> cells(gmsh.n_cells());
      for (std::size_t c = 0; c < cells.size(); ++c)
        cells[c].vertices.assign(&gmsh.cells[c * n], &gmsh.cells[c * n] + n);
      dealii::SubCellData no_faces;
      try
        {
          dealii::GridTools::delete_unused_vertices(vertices, cells, no_faces);
          orient_cells(vertices, cells, gmsh, where);
          if (dim > 1)
            dealii::GridTools::consistently_order_cells(cells);
          triangulation.create_triangulation(vertices, cells, no_faces);
        }
      catch (const dealii::ExceptionBase &e)
        {
          triangulation.clear();
          throw InputError(where + "not a valid mesh: " + message_of(e));
        }
    }
  } // namespace

  template <int dim, int spacedim>
  void build_mesh(dealii::Triangulation<dim, spacedim> &triangulation, const MeshParameters &mesh,
                  const std::string &parameter_file)
  {
    if constexpr (spacedim > dim)
      {
        // S^2: the six faces of a cube projected onto the unit sphere, with the
        // sphere's manifold so refinement puts new vertices on it.
        dealii::GridGenerator::hyper_sphere(triangulation, dealii::Point<spacedim>(), 1.);
        (void)parameter_file;
      }
    else if (mesh.domain != MeshParameters::Domain::file) // a box, or the circle's angle interval
      {
        dealii::Point<dim>        lower, upper;
        std::vector<unsigned int> subdivisions(dim);
        for (unsigned int k = 0; k < dim; ++k)
          {
            lower[k]        = mesh.lower_corner[k];
            upper[k]        = mesh.upper_corner[k];
            subdivisions[k] = mesh.subdivisions[k];
          }
        // Masked attention on the circle, (s, theta): theta's two ends are one
        // face, joined by deal.II's periodicity (p4est then keeps the cells
        // across it as ghosts). Before refinement, as p4est requires.
        const bool angle_last = dim > 1 && mesh.on_sphere();
        dealii::GridGenerator::subdivided_hyper_rectangle(triangulation, subdivisions, lower, upper, angle_last);
        if (angle_last)
          {
            std::vector<dealii::GridTools::PeriodicFacePair<typename dealii::Triangulation<dim, spacedim>::cell_iterator>>
              pairs;
            dealii::GridTools::collect_periodic_faces(triangulation, 2 * (dim - 1), 2 * (dim - 1) + 1, dim - 1, pairs);
            triangulation.add_periodicity(pairs);
          }
      }
    else
      create_from_file(triangulation, mesh, parameter_file);
    triangulation.refine_global(mesh.global_refinements);
  }

  unsigned long long coarse_cell_count(const MeshParameters &mesh, unsigned int dim, const std::string &parameter_file)
  {
    return read_gmsh(mesh, dim, parameter_file).n_cells();
  }

  template void build_mesh<1>(dealii::Triangulation<1> &, const MeshParameters &, const std::string &);
  template void build_mesh<2>(dealii::Triangulation<2> &, const MeshParameters &, const std::string &);
  template void build_mesh<3>(dealii::Triangulation<3> &, const MeshParameters &, const std::string &);
  template void build_mesh<2, 3>(dealii::Triangulation<2, 3> &, const MeshParameters &, const std::string &);
} // namespace tpde
