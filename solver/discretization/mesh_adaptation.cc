#include "discretization/mesh_adaptation.h"

#include <deal.II/base/mpi.h>
#include <deal.II/distributed/grid_refinement.h>
#include <deal.II/grid/grid_refinement.h>
#include <deal.II/lac/vector.h>

#include <cmath>
#include <limits>

namespace tpde
{
  template <int dim>
  std::vector<double> refinement_indicator(const DGSpace<dim>        &space,
                                           const std::vector<double> &extended,
                                           const std::string         &kind)
  {
    const unsigned int  n     = space.n_nodes();
    const unsigned int  nfq   = space.n_face_points();
    const std::size_t   cells = space.n_owned_cells();
    std::vector<double> jump(cells, 0.), mass(cells, 0.);
    for (std::size_t k = 0; k < cells; ++k)
      for (unsigned int q = 0; q < n; ++q)
        mass[k] += space.node_JxW[k * n + q] * extended[space.cell_offset[k] + q];

    for (std::size_t f = 0; f < space.faces.size(); ++f)
      {
        const auto &face = space.faces[f];
        if (face.at_boundary())
          continue;
        const double *T0 = space.traces[face.trace[0]].data();
        const double *T1 = space.traces[face.trace[1]].data();
        const double *u0 = extended.data() + face.offset[0];
        const double *u1 = extended.data() + face.offset[1];
        double        integral = 0;
        for (unsigned int q = 0; q < nfq; ++q)
          {
            double rho0 = 0, rho1 = 0, area = 0;
            for (unsigned int i = 0; i < n; ++i)
              {
                rho0 += T0[q * n + i] * u0[i];
                rho1 += T1[q * n + i] * u1[i];
              }
            for (unsigned int c = 0; c < dim; ++c)
              area += std::pow(space.face_normal_JxW[(f * nfq + q) * dim + c], 2);
            integral += (rho0 - rho1) * (rho0 - rho1) * std::sqrt(area);
          }
        for (unsigned int side = 0; side < 2; ++side)
          if (face.owned_cell[side] >= 0)
            jump[face.owned_cell[side]] += integral;
      }
    for (std::size_t k = 0; k < cells; ++k)
      {
        double h = 0;
        for (unsigned int c = 0; c < dim; ++c)
          h = std::max(h, space.cell_extent[k * dim + c]);
        jump[k] = std::sqrt(h * jump[k]);
      }
    if (kind == "jump")
      return jump;
    if (kind == "mass")
      return mass;
    double max_jump = 0, max_mass = 0;
    for (std::size_t k = 0; k < cells; ++k)
      {
        max_jump = std::max(max_jump, jump[k]);
        max_mass = std::max(max_mass, std::abs(mass[k]));
      }
    max_jump = std::max(dealii::Utilities::MPI::max(max_jump, space.communicator), 1e-300);
    max_mass = std::max(dealii::Utilities::MPI::max(max_mass, space.communicator), 1e-300);
    std::vector<double> combined(cells);
    for (std::size_t k = 0; k < cells; ++k)
      combined[k] = jump[k] / max_jump + std::abs(mass[k]) / max_mass;
    return combined;
  }

  template <int dim>
  void clamp_refinement_levels(DGSpace<dim> &space, unsigned int minimum_level, unsigned int maximum_level)
  {
    for (const auto &cell : space.triangulation->active_cell_iterators())
      {
        if (cell->refine_flag_set() && cell->level() >= static_cast<int>(maximum_level))
          cell->clear_refine_flag();
        if (cell->coarsen_flag_set() && cell->level() <= static_cast<int>(minimum_level))
          cell->clear_coarsen_flag();
      }
  }

  template <int dim>
  void flag_cells_for_adaptation(DGSpace<dim>                   &space,
                                 const std::vector<double>      &indicator,
                                 const MeshRefinementParameters &r)
  {
    auto                 &tria = *space.triangulation;
    dealii::Vector<float> criteria(tria.n_active_cells());
    for (std::size_t k = 0; k < space.owned_cells.size(); ++k)
      criteria[space.owned_cells[k]->active_cell_index()] = static_cast<float>(indicator[k]);
    const auto cap = r.maximum_cells > 0 ? r.maximum_cells : std::numeric_limits<unsigned int>::max();
    if constexpr (dim == 1)
      {
        // The 1D mesh is shared: every rank flags the whole mesh identically.
        dealii::Utilities::MPI::sum(criteria, space.communicator, criteria);
        dealii::GridRefinement::refine_and_coarsen_fixed_number(tria, criteria, r.refine_fraction,
                                                                r.coarsen_fraction, cap);
      }
    else
      dealii::parallel::distributed::GridRefinement::refine_and_coarsen_fixed_number(
        dynamic_cast<dealii::parallel::distributed::Triangulation<dim> &>(tria), criteria, r.refine_fraction,
        r.coarsen_fraction, cap);
    clamp_refinement_levels(space, r.minimum_level, r.maximum_level);
  }

#define TPDE_INSTANTIATE(dim)                                                                                \
  template std::vector<double> refinement_indicator<dim>(const DGSpace<dim> &, const std::vector<double> &,  \
                                                         const std::string &);                               \
  template void flag_cells_for_adaptation<dim>(DGSpace<dim> &, const std::vector<double> &,                   \
                                               const MeshRefinementParameters &);                             \
  template void clamp_refinement_levels<dim>(DGSpace<dim> &, unsigned int, unsigned int);
  TPDE_INSTANTIATE(1)
  TPDE_INSTANTIATE(2)
  TPDE_INSTANTIATE(3)
#undef TPDE_INSTANTIATE
} // namespace tpde
