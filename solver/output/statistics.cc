#include "output/statistics.h"

#include "dg/cell_chunks.h"

#include "sphere/circle_chart.h"
#include "sphere/circle_diagnostics.h"
#include "sphere/surface_kernel.h"

#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature_lib.h>

#include <algorithm>
#include <map>

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace tpde
{
  namespace
  {
    /// Adds node q of owned cell k to the raw moments `sums` (see
    /// Statistics::compute; in D ambient coordinates, on the circle of its
    /// angle) and its squared speed to the largest, sums.back().
    template <int dim, int spacedim>
    void add_node_moments(const DGSpace<dim, spacedim> &space, bool on_circle, unsigned int D,
                          const StatisticsInput &in, std::size_t k, unsigned int q, std::vector<double> &sums)
  {
    const std::size_t  node = space.node_index(k, q);
    const double       rho  = space.cell_values(in.owned_values, k)[q];
    const double       m    = rho * space.node_weight(k, q);
    double             x[3] = {};
    if constexpr (spacedim > dim) // S^2: the point on the sphere, as the kernel sees it
      sphere::project_to_sphere(1, space.node_point(k, q), x);
    else if (dim < 3 && on_circle) // (s,) theta -> (s,) cos theta, sin theta (only 1-D and 2-D meshes)
      {
        std::copy(space.node_point(k, q), space.node_point(k, q) + dim - 1, x);
        sphere::circle_point(space.node_point(k, q)[dim - 1], x + dim - 1);
      }
    else
      std::copy(space.node_point(k, q), space.node_point(k, q) + dim, x);
    sums[0] += m;
    for (unsigned int i = 0; i < D; ++i)
      {
        sums[1 + i] += m * x[i];
        for (unsigned int j = 0; j < D; ++j)
          sums[1 + D + i * D + j] += m * x[i] * x[j];
      }
    if (rho > 0)
      sums[1 + D + D * D] -= m * std::log(rho);
    double s2 = 0;
    for (unsigned int c = 0; c < spacedim; ++c)
      s2 += in.node_velocity[node * spacedim + c] * in.node_velocity[node * spacedim + c];
    sums.back() = std::max(sums.back(), s2);
  }
  } // namespace

  template <int dim, int spacedim>
  Statistics<dim, spacedim>::Statistics(const DGSpace<dim, spacedim>                             &space,
                              std::unique_ptr<reference::GaussianReference> reference,
                              const attention::Kernel                      *kernel)
    : space(space)
    , reference(std::move(reference))
    , kernel(kernel)
  {}

  template <int dim, int spacedim>
  std::vector<std::string> Statistics<dim, spacedim>::header() const
  {
    RunColumns own;
    own.after_mass       = {"outflow"};
    own.after_moments    = {"min_density", "entropy", "max_speed", "cells", "dofs", "wall_seconds"};
    own.reference_errors = {"err_l1", "err_l2"};
    own.last             = {"min_level", "max_level"};
    if (kernel)
      for (const auto &[name, value] : kernel->diagnostics())
        own.last.push_back(name);
    if (sphere)
      for (const auto &name : sphere->header())
        own.last.push_back(name);
    std::vector<std::string> h = statistics_header(moment_dimension(), reference.active(), own);
    slices.append_header(h);
    return h;
  }

  template <int dim, int spacedim>
  void Statistics<dim, spacedim>::add_slices(const SliceSetup &setup)
  {
    slices = SliceColumns(setup, slice_dimension(), on_circle() ? setup.modes : 0, true);
  }

  template <int dim, int spacedim>
  void Statistics<dim, spacedim>::compute_slices(double time, const double *u, std::vector<double> &row)
  {
    if (slices.size() == 0)
      return;
    const reference::GaussianState           *state = slices.reference_state(time);
    std::optional<reference::GaussianDensity> exact;
    if (state)
      exact.emplace(*state);
    slices.append(slice_sums(u, exact ? &*exact : nullptr), state, row);
  }

  template <int dim, int spacedim>
  std::vector<double> Statistics<dim, spacedim>::slice_sums(const double *u, const reference::GaussianDensity *exact) const
  {
    constexpr int      d      = dim > 1 ? dim - 1 : 1; // chart coordinates after s
    const unsigned int m      = slice_dimension();
    const std::size_t  n_sums = slices.n_sums();
    std::vector<double> sums(slices.size() * n_sums, 0.);
    if constexpr (dim > 1)
      {
        const unsigned int      n = space.n_nodes();
        const dealii::QGauss<d> gauss(space.degree() + 1), fine(space.degree() + 3);
        // On the circle: the slices' angles and weights, for their modes.
        std::vector<std::vector<double>> angles(slices.size()), angle_weights(slices.size());

        // The cell polynomial at (tau, x-points), tau the slice's relative
        // position in the cell; cached per tau (few values on a mesh).
        std::map<double, std::vector<double>> gauss_values, fine_values;
        const auto values_at = [&](std::map<double, std::vector<double>> &cache,
                                   const dealii::Quadrature<d> &q, double tau) -> const std::vector<double> & {
          if (const auto it = cache.find(tau); it != cache.end())
            return it->second;
          std::vector<double> values(q.size() * n);
          for (unsigned int k = 0; k < q.size(); ++k)
            {
              dealii::Point<dim> point;
              point[0] = tau;
              for (int c = 0; c < d; ++c)
                point[c + 1] = q.point(k)[c];
              for (unsigned int i = 0; i < n; ++i)
                values[k * n + i] = space.fe.shape_value(i, point);
            }
          return cache.emplace(tau, std::move(values)).first->second;
        };

        for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
          {
            double lo[dim], hi[dim];
            for (int c = 0; c < dim; ++c)
              {
                lo[c] = space.cell_box(k).lower[c];
                hi[c] = lo[c] + space.cell_box(k).extent[c];
              }
            double volume = 1.;
            for (int c = 1; c < dim; ++c)
              volume *= hi[c] - lo[c];
            const double *uk = space.cell_values(u, k);
            const auto    add = [&](const dealii::Quadrature<d> &q, const std::vector<double> &values,
                                 const auto &use) {
              for (unsigned int p = 0; p < q.size(); ++p)
                {
                  double rho = 0., x[d];
                  for (unsigned int i = 0; i < n; ++i)
                    rho += values[p * n + i] * uk[i];
                  for (int c = 0; c < d; ++c)
                    x[c] = lo[c + 1] + q.point(p)[c] * (hi[c + 1] - lo[c + 1]);
                  use(rho, x, q.weight(p) * volume);
                }
            };
            for (std::size_t l = 0; l < slices.size(); ++l)
              {
                const double s = slices.position(l);
                if (!((lo[0] <= s && s < hi[0]) || (s == hi[0] && s >= 1.)))
                  continue;
                const double tau = (s - lo[0]) / (hi[0] - lo[0]);
                double      *sum = &sums[l * n_sums];
                add(gauss, values_at(gauss_values, gauss, tau), [&](double rho, const double *x, double w) {
                  double y[3];
                  if (on_circle())
                    {
                      sphere::circle_point(x[0], y);
                      angles[l].push_back(x[0]);
                      angle_weights[l].push_back(rho * w);
                    }
                  else
                    std::copy(x, x + d, y);
                  sum[0] += rho * w;
                  for (unsigned int i = 0; i < m; ++i)
                    {
                      sum[1 + i] += rho * w * y[i];
                      for (unsigned int j = 0; j < m; ++j)
                        sum[1 + m + i * m + j] += rho * w * y[i] * y[j];
                    }
                });
                if (slices.exact(l) && exact)
                  add(fine, values_at(fine_values, fine, tau), [&](double rho, const double *x, double w) {
                    const double e = rho - exact->evaluate(x);
                    sum[1 + m + m * m] += std::abs(e) * w;
                    sum[2 + m + m * m] += e * e * w;
                  });
              }
          }
        for (std::size_t l = 0; l < slices.size() && slices.modes() > 0; ++l)
          sphere::add_mode_sums(slices.modes(), angles[l].size(), angles[l].data(), angle_weights[l].data(),
                                &sums[l * n_sums + slices.mode_offset()]);
        dealii::Utilities::MPI::sum(sums, space.communicator, sums);
      }
    return sums;
  }

  template <int dim, int spacedim>
  void Statistics<dim, spacedim>::append_density_errors(const reference::GaussianState &state, const double *u,
                                              std::vector<double> &row) const
  {
    const reference::GaussianDensity exact(state);
    const unsigned int               n  = space.n_nodes();
    const unsigned int               nf = space.n_fine_points();
    // In the serial order: the L1 error cancels to 1e-12 relative in the
    // last bits of the density, and the prm references hold it to that.
    std::vector<double> errors = serial_order_sum(space.n_owned_cells(), nf, 2, [&](std::size_t k, double *terms) {
      const double *uk = space.cell_values(u, k);
      for (unsigned int q = 0; q < nf; ++q)
        {
          double uh = 0;
          for (unsigned int i = 0; i < n; ++i)
            uh += space.fine_shape_values(q)[i] * uk[i];
          const double e = uh - exact.evaluate(space.fine_point(k, q));
          const double w = space.fine_weight(k, q);
          terms[2 * q]     = std::abs(e) * w;
          terms[2 * q + 1] = e * e * w;
        }
    });
    dealii::Utilities::MPI::sum(errors, space.communicator, errors);
    row.push_back(errors[0]);
    row.push_back(std::sqrt(errors[1]));
  }

  template <int dim, int spacedim>
  std::vector<double> Statistics<dim, spacedim>::compute(const StatisticsInput &in)
  {
    const unsigned int n   = space.n_nodes();
    const MPI_Comm     comm = space.communicator;
    const double      *u    = in.owned_values;

    // Raw moments by the nodal Gauss rule (the attention's own quadrature), of
    // the ambient point on the sphere. sums: mass, first moments, second
    // moments, entropy
    const unsigned int  D = moment_dimension();
    // Per chunk of cells: the sums and, last, the largest squared speed.
    const std::size_t   width = 1 + D + D * D + 1;
    std::vector<double> sums  = reduce_over_cell_chunks(
      space.n_owned_cells(), std::vector<double>(width + 1, 0.),
      [&](std::size_t begin, std::size_t end, std::vector<double> &partial) {
        for (std::size_t k = begin; k < end; ++k)
          for (unsigned int q = 0; q < n; ++q)
            add_node_moments(space, on_circle(), D, in, k, q, partial);
      },
      [](std::vector<double> total, const std::vector<double> &partial) {
        for (std::size_t a = 0; a + 1 < total.size(); ++a)
          total[a] += partial[a];
        total.back() = std::max(total.back(), partial.back());
        return total;
      });
    double max_speed2 = sums.back();
    sums.pop_back();
    dealii::Utilities::MPI::sum(sums, comm, sums);
    max_speed2 = dealii::Utilities::MPI::max(max_speed2, comm);
    const double mass = sums[0];

    std::vector<double> row = {double(in.step), in.time, in.dt, mass, in.outflow};
    double              mean[3];
    for (unsigned int i = 0; i < D; ++i)
      {
        mean[i] = sums[1 + i] / mass;
        row.push_back(mean[i]);
      }
    for (unsigned int i = 0; i < D; ++i)
      for (unsigned int j = 0; j < D; ++j)
        row.push_back(sums[1 + D + i * D + j] / mass - mean[i] * mean[j]);
    row.push_back(in.min_density);
    row.push_back(sums[1 + D + D * D]);
    row.push_back(std::sqrt(max_speed2));
    row.push_back(double(space.triangulation->n_global_active_cells()));
    row.push_back(double(space.dof_handler.n_dofs()));
    row.push_back(in.wall_seconds);

    if (reference.active())
      {
        // Past a finite-time blow-up the exact solution no longer exists: the
        // reference columns become NaN while the PDE run goes on.
        const reference::GaussianState *state = reference.state(in.time);
        append_reference_moments(row, state, dim, 2);
        if (state)
          append_density_errors(*state, u, row);
      }
    int min_level = std::numeric_limits<int>::max(), max_level = 0;
    for (const auto &cell : space.owned_cells())
      {
        min_level = std::min(min_level, cell->level());
        max_level = std::max(max_level, cell->level());
      }
    row.push_back(dealii::Utilities::MPI::min(min_level, comm));
    row.push_back(dealii::Utilities::MPI::max(max_level, comm));
    // The same on every rank (distributed fast sums reduce fast_share themselves): no reduction.
    if (kernel)
      for (const auto &[name, value] : kernel->diagnostics())
        row.push_back(value);
    if (sphere)
      sphere->append(in.time, u, in.node_velocity, row);
    compute_slices(in.time, u, row);
    return row;
  }

  template <int dim, int spacedim>
  void Statistics<dim, spacedim>::add_sphere(const AttentionField<dim, spacedim> &field, const SphereSetup &setup)
  {
    sphere = std::make_unique<SphereStatistics<dim, spacedim>>(space, field, setup);
  }

  template class Statistics<1>;
  template class Statistics<2>;
  template class Statistics<3>;
  template class Statistics<2, 3>;
} // namespace tpde
