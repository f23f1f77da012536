#include "output/particle_statistics.h"

#include "particles/particle_system.h"
#include "sphere/circle_chart.h"
#include "sphere/circle_diagnostics.h"
#include "sphere/surface_clusters.h"

#include <algorithm>
#include <cmath>
#include <memory>

namespace tpde
{

  ParticleStatistics::ParticleStatistics(const Parameters &p, const attention::Kernel &kernel,
                                         const SphereSetup *setup)
    : dim(p.dimension)
    , kernel(kernel)
    , reference(exact_gaussian_reference(p))
  {
    if (setup)
      sphere_columns = *setup;
    circle = setup && p.dimension == 2;
  }

  std::vector<std::string> ParticleStatistics::header() const
  {
    RunColumns own;
    own.after_moments    = {"max_speed", "wall_seconds"};
    own.reference_errors = {"err_mean", "err_cov"};
    own.last             = {"tokens"};
    for (const auto &[name, value] : kernel.diagnostics())
      own.last.push_back(name);
    if (sphere_columns)
      for (const auto &name : circle_column_names(*sphere_columns))
        own.last.push_back(name);
    return statistics_header(dim, reference.active(), own);
  }

  std::vector<double> ParticleStatistics::row(unsigned long step, double time, double dt,
                                              const std::vector<double> &positions,
                                              const std::vector<double> &velocity, double wall_seconds)
  {
    // On the circle the moments are those of the ambient points.
    std::vector<double> ambient;
    if (circle)
      {
        ambient.resize(2 * positions.size());
        sphere::circle_points(positions.size(), positions.data(), ambient.data());
      }
    const std::vector<double> &x = circle ? ambient : positions;
    const std::size_t          n = x.size() / dim;
    const auto                 m = particles::empirical_moments(x.data(), n, dim);
    std::vector<double>        r = {double(step), time, dt, 1.};
    r.insert(r.end(), m.mean.begin(), m.mean.end());
    r.insert(r.end(), m.covariance.begin(), m.covariance.end());
    r.push_back(particles::max_speed(velocity.data(), n, velocity.size() / n));
    r.push_back(wall_seconds);
    if (reference.active())
      {
        const reference::GaussianState *state = reference.state(time);
        append_reference_moments(r, state, dim, 2);
        if (state)
          {
            double err_mean = 0, err_cov = 0;
            for (unsigned int i = 0; i < dim; ++i)
              err_mean = std::max(err_mean, std::abs(m.mean[i] - state->mean[i]));
            for (unsigned int i = 0; i < dim; ++i)
              for (unsigned int j = 0; j < dim; ++j)
                err_cov = std::max(err_cov, std::abs(m.covariance[i * dim + j] - state->covariance(i, j)));
            r.push_back(err_mean);
            r.push_back(err_cov);
          }
      }
    r.push_back(double(n));
    for (const auto &[name, value] : kernel.diagnostics())
      r.push_back(value);
    if (sphere_columns)
      append_sphere_columns(time, positions, x, velocity, r);
    return r;
  }

  void ParticleStatistics::append_sphere_columns(double time, const std::vector<double> &positions,
                                                 const std::vector<double> &x, const std::vector<double> &velocity,
                                                 std::vector<double> &row) const
  {
    const std::size_t         n = x.size() / dim;
    const std::vector<double> weights(n, 1. / double(n));
    if (circle)
      {
        const auto sums = circle_sums(*sphere_columns, time, n, positions.data(), weights.data(), velocity.data(), n,
                                      positions.data(), weights.data());
        append_circle_columns(*sphere_columns, time, sums,
                              sphere::smoothed_histogram(n, positions.data(), weights.data(), 256, 2 * M_PI / 64),
                              row);
        return;
      }
    std::vector<double> speed2(n, 0.);
    for (std::size_t i = 0; i < n; ++i)
      for (unsigned int c = 0; c < 3; ++c)
        speed2[i] += velocity[3 * i + c] * velocity[3 * i + c];
    append_surface_columns(*sphere_columns, time,
                           surface_sums(*sphere_columns, time, n, x.data(), weights.data(), speed2.data(), n, x.data(),
                                        weights.data()),
                           sphere::count_point_clusters(n, x.data(), weights.data(), sphere_columns->cluster_threshold),
                           row);
  }
} // namespace tpde
