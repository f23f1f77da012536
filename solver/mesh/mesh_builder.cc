#include "mesh/mesh_builder.h"

#include <deal.II/base/exceptions.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/grid/grid_in.h>

#include <fstream>
#include <sstream>

namespace tpde
{
  template <int dim>
  void build_mesh(dealii::Triangulation<dim> &triangulation, const MeshParameters &mesh,
                  const std::string &parameter_file)
  {
    if (mesh.domain == MeshParameters::Domain::box)
      {
        dealii::Point<dim>        lower, upper;
        std::vector<unsigned int> subdivisions(dim);
        for (unsigned int k = 0; k < dim; ++k)
          {
            lower[k]        = mesh.lower_corner[k];
            upper[k]        = mesh.upper_corner[k];
            subdivisions[k] = mesh.subdivisions[k];
          }
        dealii::GridGenerator::subdivided_hyper_rectangle(triangulation, subdivisions, lower, upper);
      }
    else
      {
        const std::string where = parameter_file + ": subsection 'Mesh', entry 'file': ";
        std::ifstream     in(mesh.file);
        if (!in)
          throw InputError(where + "cannot open mesh file '" + mesh.file + "'");
        dealii::GridIn<dim> grid_in(triangulation);
        try
          {
            grid_in.read_msh(in);
          }
        catch (const dealii::ExceptionBase &e)
          {
            std::ostringstream s;
            e.print_info(s);
            std::string msg = s.str();
            for (char &c : msg)
              if (c == '\n')
                c = ' ';
            throw InputError(where + "cannot read '" + mesh.file + "' as a " +
                             std::to_string(dim) + "D gmsh mesh: " + msg);
          }
      }
    triangulation.refine_global(mesh.global_refinements);
  }

  template void build_mesh<1>(dealii::Triangulation<1> &, const MeshParameters &, const std::string &);
  template void build_mesh<2>(dealii::Triangulation<2> &, const MeshParameters &, const std::string &);
  template void build_mesh<3>(dealii::Triangulation<3> &, const MeshParameters &, const std::string &);
} // namespace tpde
