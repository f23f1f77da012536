#include "output/sphere_statistics.h"

#include "sphere/circle_chart.h"
#include "sphere/circle_diagnostics.h"
#include "sphere/surface_clusters.h"
#include "sphere/surface_diagnostics.h"
#include "sphere/surface_kernel.h"

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace tpde
{
  template <int dim, int spacedim>
  SphereStatistics<dim, spacedim>::SphereStatistics(const DGSpace<dim, spacedim> &space, const AttentionField<dim, spacedim> &field,
                                          const SphereSetup &setup)
    : space(space)
    , field(field)
    , setup(setup)
  {
    static_assert(dim == 1 || dim == 2 || dim == 3);
  }

  std::vector<std::string> circle_column_names(const SphereSetup &setup)
  {
    std::vector<std::string> h = {"order_parameter", "energy", "energy_rate"};
    for (unsigned int k = 1; k <= setup.modes; ++k)
      h.push_back("mode_" + std::to_string(k));
    h.push_back("clusters");
    if (setup.has_reference())
      h.push_back("ref_order_parameter");
    return h;
  }

  std::vector<double> circle_sums(const SphereSetup &setup, double time, std::size_t n, const double *theta,
                                  const double *weights, const double *speed, std::size_t n_sources,
                                  const double *source_theta, const double *source_weights)
  {
    std::vector<double> sums(5 + 2 * setup.modes, 0.);
    for (std::size_t i = 0; i < n; ++i)
      {
        double x[2];
        sphere::circle_point(theta[i], x);
        sums[0] += weights[i] * x[0];
        sums[1] += weights[i] * x[1];
      }
    const auto energy =
      sphere::energy_sums(setup.beta(time), n, theta, weights, speed, n_sources, source_theta, source_weights);
    sums[2] = energy.energy;
    sums[3] = energy.rate_unnormalized;
    sums[4] = energy.rate_softmax;
    sphere::add_mode_sums(setup.modes, n, theta, weights, &sums[5]);
    return sums;
  }

  void append_circle_columns(const SphereSetup &setup, double time, const std::vector<double> &sums,
                             const std::vector<double> &profile, std::vector<double> &row)
  {
    row.push_back(std::hypot(sums[0], sums[1]));
    row.push_back(sums[2]);
    row.push_back(setup.attention_type == "unnormalized" ? sums[3]
                  : setup.attention_type == "softmax"    ? sums[4]
                                                         : std::numeric_limits<double>::quiet_NaN());
    for (unsigned int k = 0; k < setup.modes; ++k)
      row.push_back(std::hypot(sums[5 + 2 * k], sums[6 + 2 * k]));
    row.push_back(sphere::count_clusters(profile, setup.cluster_threshold));
    if (setup.wrapped_cauchy_r0 >= 0)
      row.push_back(sphere::wrapped_cauchy_order_parameter(setup.wrapped_cauchy_r0, time));
  }

  std::vector<double> surface_sums(const SphereSetup &setup, double time, std::size_t n, const double *x, const double *weights,
                                   const double *speed2, std::size_t n_sources, const double *sources,
                                   const double *source_weights)
  {
    const unsigned int  L = setup.modes;
    std::vector<double> sums(6 + (L + 1) * (L + 1) - 1, 0.);
    for (std::size_t i = 0; i < n; ++i)
      for (unsigned int c = 0; c < 3; ++c)
        sums[c] += weights[i] * x[3 * i + c];
    const auto energy =
      sphere::ambient_energy_sums(3, setup.beta(time), n, x, weights, speed2, n_sources, sources, source_weights);
    sums[3] = energy.energy;
    sums[4] = energy.rate_unnormalized;
    sums[5] = energy.rate_softmax;
    sphere::add_harmonic_sums(L, n, x, weights, &sums[6]);
    return sums;
  }

  void append_surface_columns(const SphereSetup &setup, double time, const std::vector<double> &sums,
                              unsigned int clusters, std::vector<double> &row)
  {
    row.push_back(std::sqrt(sums[0] * sums[0] + sums[1] * sums[1] + sums[2] * sums[2]));
    row.push_back(sums[3]);
    row.push_back(setup.attention_type == "unnormalized" ? sums[4]
                  : setup.attention_type == "softmax"    ? sums[5]
                                                         : std::numeric_limits<double>::quiet_NaN());
    for (unsigned int l = 1; l <= setup.modes; ++l)
      row.push_back(sphere::harmonic_amplitude(l, &sums[6 + l * l - 1]));
    row.push_back(clusters);
    if (setup.poisson_r0 >= 0)
      row.push_back(sphere::poisson_order_parameter(setup.poisson_r0, time));
  }

  template <int dim, int spacedim>
  std::vector<std::string> SphereStatistics<dim, spacedim>::header() const
  {
    return circle_column_names(setup);
  }

  template <int dim, int spacedim>
  void SphereStatistics<dim, spacedim>::append(double time, const double *u, const double *node_velocity,
                                               std::vector<double> &row) const
  {
    if constexpr (dim == 1)
      append_circle(time, u, node_velocity, row);
    else if constexpr (dim == 2 && spacedim == 3)
      append_surface(time, u, node_velocity, row);
    else
      throw std::logic_error("SphereStatistics: the circle's chart or the S^2 mesh only");
  }

  template <int dim, int spacedim>
  void SphereStatistics<dim, spacedim>::append_surface(double time, const double *u, const double *node_velocity,
                                                       std::vector<double> &row) const
  {
    const MPI_Comm      comm = space.communicator;
    const unsigned int  n    = space.n_nodes();
    const std::size_t   N    = space.n_owned_cells() * n;
    std::vector<double> x(3 * N), weights(N), speed2(N);
    sphere::project_to_sphere(N, space.all_node_points().data(), x.data());
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      for (unsigned int q = 0; q < n; ++q)
        {
          const std::size_t i = space.node_index(k, q);
          weights[i]          = space.cell_values(u, k)[q] * space.node_weight(k, q);
          const double *v     = node_velocity + 3 * i;
          speed2[i]           = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
        }
    std::vector<double> sources(field.all_source_points().size());
    sphere::project_to_sphere(sources.size() / 3, field.all_source_points().data(), sources.data());
    std::vector<double> sums = surface_sums(setup, time, N, x.data(), weights.data(), speed2.data(),
                                            field.all_source_weights().size(), sources.data(),
                                            field.all_source_weights().data());
    dealii::Utilities::MPI::sum(sums, comm, sums);
    append_surface_columns(setup, time, sums, surface_cell_clusters(u), row);
  }

  template <int dim, int spacedim>
  unsigned int SphereStatistics<dim, spacedim>::surface_cell_clusters(const double *u) const
  {
    // Per cell: the centre (the unit node points' mean by JxW, projected),
    // the spacing sqrt(area) and the average; gathered from all ranks in
    // rank order (the count does not depend on the order).
    const unsigned int  n = space.n_nodes();
    std::vector<double> cells; // centre (3), spacing, average per owned cell
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      {
        double centre[3] = {0, 0, 0}, area = 0, mass = 0;
        for (unsigned int q = 0; q < n; ++q)
          {
            double unit[3];
            sphere::project_to_sphere(1, space.node_point(k, q), unit);
            for (unsigned int c = 0; c < 3; ++c)
              centre[c] += space.node_weight(k, q) * unit[c];
            area += space.node_weight(k, q);
            mass += space.cell_values(u, k)[q] * space.node_weight(k, q);
          }
        sphere::project_to_sphere(1, centre, centre);
        cells.insert(cells.end(), {centre[0], centre[1], centre[2], std::sqrt(area), mass / area});
      }
    std::vector<double> points, spacing, averages;
    for (const auto &part : dealii::Utilities::MPI::all_gather(space.communicator, cells))
      for (std::size_t i = 0; i < part.size(); i += 5)
        {
          points.insert(points.end(), &part[i], &part[i] + 3);
          spacing.push_back(part[i + 3]);
          averages.push_back(part[i + 4]);
        }
    return sphere::count_surface_clusters(averages.size(), points.data(), averages.data(), spacing.data(),
                                          setup.cluster_threshold);
  }

  template <int dim, int spacedim>
  void SphereStatistics<dim, spacedim>::append_circle(double time, const double *u, const double *node_speed,
                                                      std::vector<double> &row) const
  {
    const MPI_Comm     comm = space.communicator;
    const unsigned int n    = space.n_nodes();
    const std::size_t  N    = space.n_owned_cells() * n;
    std::vector<double> theta(N), weights(N);
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      for (unsigned int q = 0; q < n; ++q)
        {
          theta[space.node_index(k, q)]   = space.node_point(k, q)[0];
          weights[space.node_index(k, q)] = space.cell_values(u, k)[q] * space.node_weight(k, q);
        }
    const auto &sources = field.all_source_points();
    std::vector<double> sums = circle_sums(setup, time, N, theta.data(), weights.data(), node_speed,
                                           field.all_source_weights().size(), sources.data(),
                                           field.all_source_weights().data());
    dealii::Utilities::MPI::sum(sums, comm, sums);

    // Cell averages around the circle, gathered from all ranks and ordered by angle.
    std::vector<std::pair<double, double>> averages;
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      {
        double mass = 0, length = 0;
        for (unsigned int q = 0; q < n; ++q)
          {
            mass += space.cell_values(u, k)[q] * space.node_weight(k, q);
            length += space.node_weight(k, q);
          }
        averages.emplace_back(space.cell_box(k).lower[0], mass / length);
      }
    std::vector<double> ordered;
    {
      std::map<double, double> all;
      for (const auto &part : dealii::Utilities::MPI::all_gather(comm, averages))
        all.insert(part.begin(), part.end());
      for (const auto &[angle, average] : all)
        ordered.push_back(average);
    }
    append_circle_columns(setup, time, sums, ordered, row);
  }

  template class SphereStatistics<1>;
  template class SphereStatistics<2>;
  template class SphereStatistics<3>;
  template class SphereStatistics<2, 3>;
} // namespace tpde
