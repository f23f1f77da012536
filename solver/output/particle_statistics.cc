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
    : dim(p.masked() ? (p.mesh.on_sphere() ? 3 : p.dimension + 1) : p.dimension) // s first
    , kernel(kernel)
    , reference(exact_gaussian_reference(p))
    , circle(p.mesh.on_sphere() && p.dimension == 2)
    , masked(p.masked())
  {
    if (setup)
      sphere_columns = *setup;
    if (masked)
      {
        slices     = SliceColumns(masked_slice_setup(p), circle ? 2 : p.dimension, circle ? p.output.modes : 0, false);
        window     = p.particles.slice_window;
        upper_from = p.initial.upper_from;
      }
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
    std::vector<std::string> h = statistics_header(dim, reference.active(), own);
    slices.append_header(h);
    return h;
  }

  std::vector<double> ParticleStatistics::moment_points(const std::vector<double> &positions) const
  {
    if (!circle)
      return positions;
    const unsigned int  leading = masked ? 1 : 0; // s
    const std::size_t   n       = positions.size() / (leading + 1);
    std::vector<double> points(n * dim);
    for (std::size_t i = 0; i < n; ++i)
      {
        std::copy(&positions[i * (leading + 1)], &positions[i * (leading + 1)] + leading, &points[i * dim]);
        sphere::circle_point(positions[i * (leading + 1) + leading], &points[i * dim + leading]);
      }
    return points;
  }

  std::vector<double> ParticleStatistics::slice_sums(const std::vector<double> &positions) const
  {
    const unsigned int  token = circle ? 2 : dim; // (s, theta) or (s, x)
    const std::size_t   n     = positions.size() / token;
    const unsigned int  m     = slices.dimension();
    const bool          split = upper_from < 1.; // the data jumps at s = upper_from
    std::vector<double> sums(slices.size() * slices.n_sums(), 0.), angles, weights;
    for (std::size_t l = 0; l < slices.size(); ++l)
      {
        // The window, clipped to [0, 1] and to the slice's side of the jump (see the header).
        const double s_k   = slices.position(l);
        const bool   upper = split && s_k >= upper_from;
        const double lo    = std::max({0., s_k - window / 2, upper ? upper_from : 0.});
        const double hi    = std::min({1., s_k + window / 2, split && !upper ? upper_from : 1.});
        const double w     = 1. / (double(n) * (hi - lo));
        double      *sum   = &sums[l * slices.n_sums()];
        angles.clear();
        weights.clear();
        for (std::size_t i = 0; i < n; ++i)
          {
            const double *t = &positions[i * token];
            // Half-open [lo, hi) (closed at s = 1): a window of width w then holds N w tokens, not N w + 1,
            // when its ends fall on positions j/N.
            if (t[0] < lo || (hi < 1. ? t[0] >= hi : t[0] > hi) || (split && (t[0] >= upper_from) != upper))
              continue;
            double y[2] = {t[1], token > 2 ? t[2] : 0.};
            if (circle)
              {
                sphere::circle_point(t[1], y);
                angles.push_back(t[1]);
                weights.push_back(w);
              }
            sum[0] += w;
            for (unsigned int a = 0; a < m; ++a)
              {
                sum[1 + a] += w * y[a];
                for (unsigned int b = 0; b < m; ++b)
                  sum[1 + m + a * m + b] += w * y[a] * y[b];
              }
          }
        if (slices.modes() > 0)
          sphere::add_mode_sums(slices.modes(), angles.size(), angles.data(), weights.data(),
                                &sum[slices.mode_offset()]);
      }
    return sums;
  }

  std::vector<double> ParticleStatistics::row(unsigned long step, double time, double dt,
                                              const std::vector<double> &positions,
                                              const std::vector<double> &velocity, double wall_seconds)
  {
    // On the circle the moments are those of the ambient points.
    const std::vector<double>  ambient = circle ? moment_points(positions) : std::vector<double>();
    const std::vector<double> &x       = circle ? ambient : positions;
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
    if (masked)
      slices.append(slice_sums(positions), slices.reference_state(time), r);
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
