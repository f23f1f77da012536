#include "adaptation/mesh_adaptation.h"

#include <deal.II/base/mpi.h>
#include <deal.II/distributed/grid_refinement.h>
#include <deal.II/grid/grid_refinement.h>
#include <deal.II/lac/vector.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace tpde
{
  namespace
  {
    using attention::ScoreForm;

    double log_sum_exp(double a, double b)
    {
      if (a < b)
        std::swap(a, b);
      return a == -std::numeric_limits<double>::infinity() ? a : a + std::log1p(std::exp(b - a));
    }

    // For each owned cell K: the attention it receives per unit of its own
    // mass, sum_i m_i exp(s(x_i, K)) / Z_i with Z_i = sum_J m_J exp(s(x_i, y_J))
    // over all cells (centres; the linear part of s(x_i, K) is bounded above
    // over the cell, so a coarse cell far out in the tilt direction is not
    // underestimated; l2's quadratic source term is taken at the centre, so
    // there the bound is approximate). A
    // relative error e in the density of K changes the velocity of target i by
    // about e times its attention weight, so jump * (1 + this) measures the
    // effect of K's error on the transport of the mass that attends to it.
    template <int dim, int spacedim>
    std::vector<double> attention_per_mass(const DGSpace<dim, spacedim>        &space,
                                           const std::vector<double> &mass,
                                           const ScoreForm           &form)
    {
      const std::size_t   owned = space.n_owned_cells();
      const unsigned int  n     = space.n_nodes();
      std::vector<double> local(owned * (dim + 2));
      for (std::size_t k = 0; k < owned; ++k)
        {
          double    *row    = &local[k * (dim + 2)];
          double     r2     = 0;
          const auto extent = space.cell_box(k).extent;
          for (unsigned int c = 0; c < dim; ++c)
            {
              double centre = 0;
              for (unsigned int q = 0; q < n; ++q)
                centre += space.node_point(k, q)[c];
              row[c] = centre / n;
              r2 += 0.25 * extent[c] * extent[c];
            }
          row[dim]     = std::sqrt(r2);
          row[dim + 1] = mass[k];
        }
      std::vector<double> all;
      for (const auto &part : dealii::Utilities::MPI::all_gather(space.communicator, local))
        all.insert(all.end(), part.begin(), part.end());
      const std::size_t cells = all.size() / (dim + 2);
      const auto centre = [&](std::size_t i) { return &all[i * (dim + 2)]; };
      const auto log_m  = [&](std::size_t i) {
        const double m = all[i * (dim + 2) + dim + 1];
        return m > 0 ? std::log(m) : -std::numeric_limits<double>::infinity();
      };
      // a_i = A x_i and the source term c |K y|^2 of every cell.
      std::vector<double> a(cells * dim), source_term(cells);
      for (std::size_t i = 0; i < cells; ++i)
        for (unsigned int r = 0; r < dim; ++r)
          {
            for (unsigned int c = 0; c < dim; ++c)
              {
                a[i * dim + r] += form.A(r, c) * centre(i)[c];
                source_term[i] += form.c * centre(i)[r] * form.KtK(r, c) * centre(i)[c];
              }
          }
      const auto score = [&](std::size_t i, std::size_t j) {
        double s = source_term[j];
        for (unsigned int c = 0; c < dim; ++c)
          s += a[i * dim + c] * centre(j)[c];
        return s;
      };
      std::vector<double> log_z(cells, -std::numeric_limits<double>::infinity());
      for (std::size_t i = 0; i < cells; ++i)
        for (std::size_t j = 0; j < cells; ++j)
          log_z[i] = log_sum_exp(log_z[i], log_m(j) + score(i, j));

      const std::size_t first = [&] {
        std::size_t offset = 0;
        const auto  counts = dealii::Utilities::MPI::all_gather(space.communicator, owned);
        for (unsigned int r = 0; r < dealii::Utilities::MPI::this_mpi_process(space.communicator); ++r)
          offset += counts[r];
        return offset;
      }();
      std::vector<double> result(owned);
      for (std::size_t k = 0; k < owned; ++k)
        {
          const std::size_t K      = first + k;
          double            log_g  = -std::numeric_limits<double>::infinity();
          for (std::size_t i = 0; i < cells; ++i)
            {
              if (!std::isfinite(log_z[i]))
                continue;
              double a_norm = 0;
              for (unsigned int c = 0; c < dim; ++c)
                a_norm += a[i * dim + c] * a[i * dim + c];
              const double upper = score(i, K) + std::sqrt(a_norm) * centre(K)[dim];
              log_g              = log_sum_exp(log_g, log_m(i) + upper - log_z[i]);
            }
          // Capped well inside float range: deal.II's flagging works on floats.
          result[k] = std::exp(std::min(log_g, 60.));
        }
      return result;
    }
  } // namespace

  template <int dim, int spacedim>
  std::vector<double> refinement_indicator(const DGSpace<dim, spacedim>                  &space,
                                           const std::vector<double>           &extended,
                                           MeshRefinementParameters::Indicator  kind,
                                           const std::string                   &attention_type,
                                           const attention::Parameters         &attention)
  {
    using Indicator = MeshRefinementParameters::Indicator;
    const unsigned int  n     = space.n_nodes();
    const unsigned int  nfq   = space.n_face_points();
    const std::size_t   cells = space.n_owned_cells();
    std::vector<double> jump(cells, 0.), mass(cells, 0.);
    for (std::size_t k = 0; k < cells; ++k)
      for (unsigned int q = 0; q < n; ++q)
        mass[k] += space.node_weight(k, q) * space.cell_values(extended.data(), k)[q];

    for (std::size_t f = 0; f < space.n_faces(); ++f)
      {
        const auto face = space.face(f);
        if (face.at_boundary())
          continue;
        const double *T0 = face.trace_matrix(0);
        const double *T1 = face.trace_matrix(1);
        const double *u0 = face.cell_values(extended.data(), 0);
        const double *u1 = face.cell_values(extended.data(), 1);
        double        integral = 0;
        for (unsigned int q = 0; q < nfq; ++q)
          {
            double rho0 = 0, rho1 = 0, area = 0;
            for (unsigned int i = 0; i < n; ++i)
              {
                rho0 += T0[q * n + i] * u0[i];
                rho1 += T1[q * n + i] * u1[i];
              }
            for (unsigned int c = 0; c < spacedim; ++c)
              area += std::pow(face.normal_JxW(q)[c], 2);
            integral += (rho0 - rho1) * (rho0 - rho1) * std::sqrt(area);
          }
        for (unsigned int side = 0; side < 2; ++side)
          if (face.owned_cell(side) >= 0)
            jump[face.owned_cell(side)] += integral;
      }
    for (std::size_t k = 0; k < cells; ++k)
      {
        double h = 0;
        for (unsigned int c = 0; c < spacedim; ++c)
          h = std::max(h, space.cell_box(k).extent[c]);
        jump[k] = std::sqrt(h * jump[k]);
      }
    if (kind == Indicator::jump)
      return jump;
    if (kind == Indicator::mass)
      return mass;
    if (kind == Indicator::attention)
      {
        // On the sphere the scores are bounded (no tail to weight) and the
        // form is one of the ambient space, not of the mesh's chart: jump alone.
        if constexpr (spacedim == dim)
          if (const auto form = attention::score_form(attention_type, attention); form && form->A.rows == dim)
            {
              const auto received = attention_per_mass(space, mass, *form);
              for (std::size_t k = 0; k < cells; ++k)
                jump[k] *= 1 + received[k];
            }
        return jump;
      }
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

  template <int dim, int spacedim>
  void clamp_refinement_levels(DGSpace<dim, spacedim> &space, unsigned int minimum_level, unsigned int maximum_level)
  {
    for (const auto &cell : space.triangulation->active_cell_iterators())
      {
        if (cell->refine_flag_set() && cell->level() >= static_cast<int>(maximum_level))
          cell->clear_refine_flag();
        if (cell->coarsen_flag_set() && cell->level() <= static_cast<int>(minimum_level))
          cell->clear_coarsen_flag();
      }
  }

  template <int dim, int spacedim>
  bool flag_cells_for_adaptation(DGSpace<dim, spacedim>                   &space,
                                 const std::vector<double>      &indicator,
                                 const MeshRefinementParameters &r)
  {
    auto                 &tria = *space.triangulation;
    dealii::Vector<float> criteria(tria.n_active_cells());
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      criteria[space.owned_cell(k)->active_cell_index()] = static_cast<float>(indicator[k]);
    const auto cap = r.maximum_cells > 0 ? r.maximum_cells : std::numeric_limits<unsigned int>::max();
    // The 1D mesh is shared: every rank flags the whole mesh identically.
    if constexpr (dim == 1)
      dealii::Utilities::MPI::sum(criteria, space.communicator, criteria);
    const auto flag_fixed_number = [&](double refine_fraction, double coarsen_fraction) {
      if constexpr (dim == 1)
        dealii::GridRefinement::refine_and_coarsen_fixed_number(tria, criteria, refine_fraction,
                                                                coarsen_fraction, cap);
      else
        dealii::parallel::distributed::GridRefinement::refine_and_coarsen_fixed_number(
          dynamic_cast<dealii::parallel::distributed::Triangulation<dim, spacedim> &>(tria), criteria, refine_fraction,
          coarsen_fraction, cap);
    };

    if (r.strategy == MeshRefinementParameters::Strategy::threshold)
      {
        unsigned long refine = 0, coarsen = 0;
        for (const auto &cell : tria.active_cell_iterators())
          if (cell->is_locally_owned() || dim == 1)
            {
              const double value = criteria[cell->active_cell_index()];
              if (value > r.refine_threshold && cell->level() < static_cast<int>(r.maximum_level))
                {
                  cell->set_refine_flag();
                  ++refine;
                }
              else if (value < r.coarsen_threshold && cell->level() > static_cast<int>(r.minimum_level))
                {
                  cell->set_coarsen_flag();
                  ++coarsen;
                }
            }
        if constexpr (dim > 1)
          {
            refine  = dealii::Utilities::MPI::sum(refine, space.communicator);
            coarsen = dealii::Utilities::MPI::sum(coarsen, space.communicator);
          }
        const double children = dealii::GeometryInfo<dim>::max_children_per_cell;
        if (tria.n_global_active_cells() + refine * (children - 1) > cap)
          {
            // Over the cap: refine only the worst cells, as many as fit.
            for (const auto &cell : tria.active_cell_iterators())
              cell->clear_refine_flag(), cell->clear_coarsen_flag();
            const double n = tria.n_global_active_cells();
            flag_fixed_number(refine / n, coarsen / n);
          }
      }
    else
      flag_fixed_number(r.refine_fraction, r.coarsen_fraction);
    clamp_refinement_levels(space, r.minimum_level, r.maximum_level);

    // Drop the flags deal.II would drop anyway (coarsening needs all siblings),
    // so that "nothing flagged" means the mesh will not change.
    tria.prepare_coarsening_and_refinement();
    bool any = false;
    for (const auto &cell : tria.active_cell_iterators())
      any = any || ((cell->is_locally_owned() || dim == 1) && (cell->refine_flag_set() || cell->coarsen_flag_set()));
    return dealii::Utilities::MPI::logical_or(any, space.communicator);
  }

#define TPDE_INSTANTIATE(dim, spacedim)                                                                               \
  template std::vector<double> refinement_indicator<dim, spacedim>(const DGSpace<dim, spacedim> &, const std::vector<double> &,  \
                                                         MeshRefinementParameters::Indicator,                \
                                                         const std::string &, const attention::Parameters &); \
  template bool flag_cells_for_adaptation<dim, spacedim>(DGSpace<dim, spacedim> &, const std::vector<double> &,                   \
                                               const MeshRefinementParameters &);                             \
  template void clamp_refinement_levels<dim, spacedim>(DGSpace<dim, spacedim> &, unsigned int, unsigned int);
  TPDE_INSTANTIATE(1, 1)
  TPDE_INSTANTIATE(2, 2)
  TPDE_INSTANTIATE(3, 3)
  TPDE_INSTANTIATE(2, 3)
#undef TPDE_INSTANTIATE
} // namespace tpde
