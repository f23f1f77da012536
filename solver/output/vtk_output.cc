#include "output/vtk_output.h"

#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/numerics/data_out.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tpde
{
  void write_file_atomically(const std::string &path, const std::string &text)
  {
    const std::string temporary = path + ".tmp";
    {
      std::ofstream out(temporary, std::ios::binary);
      out << text;
      out.flush();
      if (!out)
        throw std::runtime_error("cannot write " + temporary);
    }
    std::filesystem::rename(temporary, path);
  }

  template <int dim>
  VtkOutput<dim>::VtkOutput(const DGSpace<dim> &space, const std::string &directory)
    : space(space)
    , directory(directory)
    , velocity_fe(dealii::FE_DGQArbitraryNodes<dim>(dealii::QGauss<1>(space.degree() + 1)), dim)
  {}

  template <int dim>
  void VtkOutput<dim>::setup()
  {
    velocity_dof_handler.reinit(*space.triangulation);
    velocity_dof_handler.distribute_dofs(velocity_fe);
  }

  template <int dim>
  void VtkOutput<dim>::write(double time, const VectorType &ghosted_density, const double *node_velocity)
  {
    const MPI_Comm     comm    = space.communicator;
    const unsigned int rank    = dealii::Utilities::MPI::this_mpi_process(comm);
    const unsigned int n_ranks = dealii::Utilities::MPI::n_mpi_processes(comm);
    const unsigned int n       = space.n_nodes();

    // Velocity at the nodes as a DG vector field (same nodes as the density).
    dealii::IndexSet owned = velocity_dof_handler.locally_owned_dofs(), relevant;
    dealii::DoFTools::extract_locally_relevant_dofs(velocity_dof_handler, relevant);
    VectorType velocity(owned, comm), ghosted_velocity(owned, relevant, comm);
    std::vector<dealii::types::global_dof_index> dofs(velocity_fe.n_dofs_per_cell());
    dealii::Vector<float> cell_mass(space.triangulation->n_active_cells());
    dealii::Vector<float> mpi_rank(space.triangulation->n_active_cells());
    dealii::Vector<float> level(space.triangulation->n_active_cells());
    std::size_t           k = 0;
    for (const auto &cell : velocity_dof_handler.active_cell_iterators())
      if (cell->is_locally_owned())
        {
          cell->get_dof_indices(dofs);
          for (unsigned int i = 0; i < dofs.size(); ++i)
            {
              const auto [component, node] = velocity_fe.system_to_component_index(i);
              velocity[dofs[i]]            = node_velocity[(k * n + node) * dim + component];
            }
          double m = 0;
          for (unsigned int q = 0; q < n; ++q)
            m += space.node_JxW[k * n + q] * ghosted_density(space.owned_dofs.nth_index_in_set(0) +
                                                             space.cell_offset[k] + q);
          cell_mass[cell->active_cell_index()] = m;
          mpi_rank[cell->active_cell_index()]  = rank;
          level[cell->active_cell_index()]     = cell->level();
          ++k;
        }
    velocity.compress(dealii::VectorOperation::insert);
    ghosted_velocity = velocity;

    dealii::DataOut<dim> data_out;
    data_out.attach_dof_handler(space.dof_handler);
    data_out.add_data_vector(ghosted_density, "density");
    data_out.add_data_vector(velocity_dof_handler, ghosted_velocity,
                             std::vector<std::string>(dim, "velocity"),
                             std::vector<dealii::DataComponentInterpretation::DataComponentInterpretation>(
                               dim, dealii::DataComponentInterpretation::component_is_part_of_vector));
    data_out.add_data_vector(cell_mass, "cell_mass", dealii::DataOut<dim>::type_cell_data);
    data_out.add_data_vector(mpi_rank, "mpi_rank", dealii::DataOut<dim>::type_cell_data);
    data_out.add_data_vector(level, "refinement_level", dealii::DataOut<dim>::type_cell_data);
    dealii::DataOutBase::VtkFlags flags;
    flags.time                     = time;
    flags.write_higher_order_cells = true;
    data_out.set_flags(flags);
    data_out.build_patches(space.mapping, space.degree());

    char stem[64];
    std::snprintf(stem, sizeof stem, "solution_%05u", n_written());
    const std::filesystem::path dir(directory);
    std::string                 entry;
    if (n_ranks == 1)
      {
        std::ostringstream out;
        data_out.write_vtu(out);
        entry = std::string(stem) + ".vtu";
        write_file_atomically((dir / entry).string(), out.str());
      }
    else
      {
        char piece[80];
        std::snprintf(piece, sizeof piece, "%s.%04u.vtu", stem, rank);
        std::ostringstream out;
        data_out.write_vtu(out);
        write_file_atomically((dir / piece).string(), out.str());
        MPI_Barrier(comm); // the record may only name pieces that exist
        entry = std::string(stem) + ".pvtu";
        if (rank == 0)
          {
            std::vector<std::string> pieces;
            for (unsigned int r = 0; r < n_ranks; ++r)
              {
                std::snprintf(piece, sizeof piece, "%s.%04u.vtu", stem, r);
                pieces.emplace_back(piece);
              }
            std::ostringstream record;
            data_out.write_pvtu_record(record, pieces);
            write_file_atomically((dir / entry).string(), record.str());
          }
      }
    series.emplace_back(time, entry);
    if (rank == 0)
      {
        std::ostringstream pvd;
        dealii::DataOutBase::write_pvd_record(pvd, series);
        write_file_atomically((dir / "solution.pvd").string(), pvd.str());
      }
  }

  template class VtkOutput<1>;
  template class VtkOutput<2>;
  template class VtkOutput<3>;
} // namespace tpde
