#include "adaptation/transfer.h"

#include <deal.II/base/mpi.h>
#include <deal.II/distributed/solution_transfer.h>
#include <deal.II/lac/vector.h>

#include <algorithm>
#include <map>

namespace tpde
{
  template <int dim, int spacedim>
  void refine_and_transfer(DGSpace<dim, spacedim>                &space,
                           VectorType                  &owned,
                           VectorType                  &ghosted,
                           const std::function<void()> &rebuild)
  {
    auto &triangulation = *space.triangulation;
    auto &dof_handler   = space.dof_handler;
    if constexpr (dim == 1)
      {
        // The shared 1D mesh is known on every rank (deal.II's serial
        // SolutionTransfer does not support it): keep every cell's values by
        // CellId, then copy unchanged cells, prolongate refined ones and sum
        // the children's L2 projections (FE_DGQ restriction) for coarsened ones.
        const unsigned int     n = space.n_nodes();
        dealii::Vector<double> all(dof_handler.n_dofs());
        const auto first = space.first_owned_dof();
        for (std::size_t i = 0; i < space.n_owned_dofs(); ++i)
          all[first + i] = owned.begin()[i];
        dealii::Utilities::MPI::sum(all, space.communicator, all);
        std::map<dealii::CellId, dealii::Vector<double>> old_values;
        dealii::Vector<double>                           values(n);
        for (const auto &cell : dof_handler.active_cell_iterators())
          {
            cell->get_dof_values(all, values);
            old_values.emplace(cell->id(), values);
          }
        triangulation.execute_coarsening_and_refinement();
        rebuild();
        const auto apply = [n](const double *matrix, const dealii::Vector<double> &in, double *out) {
          for (unsigned int i = 0; i < n; ++i)
            for (unsigned int j = 0; j < n; ++j)
              out[i] += matrix[i * n + j] * in[j];
        };
        for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
          {
            const auto &cell = space.owned_cell(k);
            double     *u    = space.cell_values(owned.begin(), k);
            std::fill(u, u + n, 0.);
            if (const auto it = old_values.find(cell->id()); it != old_values.end())
              std::copy(it->second.begin(), it->second.end(), u);
            else if (cell->level() > 0 && old_values.count(cell->parent()->id()) > 0)
              apply(space.prolongation(cell->parent()->child_iterator_to_index(cell)),
                    old_values.at(cell->parent()->id()), u);
            else
              {
                // get_child_indices() views the CellId's own storage: keep the id alive
                // (a view of the temporary cell->id() read freed stack, found by ASan).
                const dealii::CellId      id          = cell->id();
                const auto                parent_path = id.get_child_indices();
                std::vector<std::uint8_t> indices(parent_path.begin(), parent_path.end());
                indices.push_back(0);
                for (unsigned int c = 0; c < dealii::GeometryInfo<dim>::max_children_per_cell; ++c)
                  {
                    indices.back() = c;
                    apply(space.restriction(c), old_values.at(dealii::CellId(id.get_coarse_cell_id(), indices)), u);
                  }
              }
          }
      }
    else
      {
        // On a curved surface the children's node weights are not the
        // parent's split in 2^dim (the Jacobian is not constant), so the
        // reference-cell transfer moves the mass by the quadrature error; one
        // global factor puts it back to round-off (and keeps rho >= 0).
        const auto mass = [&space](const VectorType &u) {
          double sum = 0;
          for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
            for (unsigned int q = 0; q < space.n_nodes(); ++q)
              sum += space.cell_values(u.begin(), k)[q] * space.node_weight(k, q);
          return dealii::Utilities::MPI::sum(sum, space.communicator);
        };
        const double mass_before = spacedim > dim ? mass(owned) : 0.;
        dealii::parallel::distributed::SolutionTransfer<dim, VectorType, spacedim> transfer(dof_handler);
        ghosted = owned;
        transfer.prepare_for_coarsening_and_refinement(ghosted);
        triangulation.execute_coarsening_and_refinement();
        rebuild();
        transfer.interpolate(owned);
        if (spacedim > dim)
          if (const double mass_after = mass(owned); mass_after > 0)
            owned *= mass_before / mass_after;
      }
  }

  template void refine_and_transfer<1>(DGSpace<1> &, VectorType &, VectorType &, const std::function<void()> &);
  template void refine_and_transfer<2>(DGSpace<2> &, VectorType &, VectorType &, const std::function<void()> &);
  template void refine_and_transfer<3>(DGSpace<3> &, VectorType &, VectorType &, const std::function<void()> &);
  template void refine_and_transfer<2, 3>(DGSpace<2, 3> &, VectorType &, VectorType &, const std::function<void()> &);
} // namespace tpde
