#include "particles/particle_system.h"

#include "noise/keyed_normal.h"
#include "sphere/circle_chart.h"
#include "sphere/surface_kernel.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tpde::particles
{

  ParticleSystem::ParticleSystem(const attention::Kernel &kernel, std::vector<double> positions)
    : kernel(kernel)
    , dim(kernel.dimension())
    , n_tokens(positions.size() / kernel.dimension())
    , current(std::move(positions))
  {
    if (n_tokens == 0 || current.size() != n_tokens * dim)
      throw std::invalid_argument("ParticleSystem: expected N x " + std::to_string(dim) +
                                  " positions with N >= 1, got " + std::to_string(current.size()) +
                                  " numbers");
    weights.assign(n_tokens, 1. / double(n_tokens));
    current_velocity.resize(current.size());
    stage.resize(current.size());
    for (auto &r : rate)
      r.resize(current.size());
  }

  void ParticleSystem::set_sphere_retraction()
  {
    if (dim != 3)
      throw std::invalid_argument("ParticleSystem: the sphere retraction needs tokens in R^3 (S^2)");
    manifold = Manifold::sphere;
  }

  void ParticleSystem::evaluate_velocity(const double *x, double *velocity_out) const
  {
    ++n_evaluations;
    kernel.evaluate(n_tokens, x, n_tokens, x, weights.data(), velocity_out);
    if (added)
      added(n_tokens, x, velocity_out);
  }

  const std::vector<double> &ParticleSystem::velocity()
  {
    if (!velocity_is_current)
      {
        kernel.begin_step(); // the velocity a step starts from (see attention::Kernel::begin_step)
        evaluate_velocity(current.data(), current_velocity.data());
        velocity_is_current = true;
      }
    return current_velocity;
  }

  void ParticleSystem::step(double dt, Integrator integrator)
  {
    const std::vector<double> &k1 = velocity();
    const std::size_t          n  = current.size();
    // stage = base + factor * slope
    const auto set_stage = [&](const std::vector<double> &base, double factor, const std::vector<double> &slope) {
      for (std::size_t i = 0; i < n; ++i)
        stage[i] = base[i] + factor * slope[i];
    };
    if (integrator == Integrator::rk4)
      {
        set_stage(current, 0.5 * dt, k1);
        evaluate_velocity(stage.data(), rate[0].data());
        set_stage(current, 0.5 * dt, rate[0]);
        evaluate_velocity(stage.data(), rate[1].data());
        set_stage(current, dt, rate[1]);
        evaluate_velocity(stage.data(), rate[2].data());
        for (std::size_t i = 0; i < n; ++i)
          current[i] += dt / 6. * (k1[i] + 2. * rate[0][i] + 2. * rate[1][i] + rate[2][i]);
      }
    else
      {
        // u1 = u + dt L(u); u2 = 3/4 u + 1/4 (u1 + dt L(u1)); u = 1/3 u + 2/3 (u2 + dt L(u2))
        set_stage(current, dt, k1);
        evaluate_velocity(stage.data(), rate[0].data());
        for (std::size_t i = 0; i < n; ++i)
          stage[i] = 0.75 * current[i] + 0.25 * (stage[i] + dt * rate[0][i]);
        evaluate_velocity(stage.data(), rate[1].data());
        for (std::size_t i = 0; i < n; ++i)
          current[i] = current[i] / 3. + 2. / 3. * (stage[i] + dt * rate[1][i]);
      }
    if (diffusion > 0)
      add_noise(dt);
    if (manifold == Manifold::circle_chart) // the angle is each token's last coordinate (after a frozen s)
      for (std::size_t i = 0; i < n_tokens; ++i)
        current[(i + 1) * dim - 1] = sphere::wrap_angle(current[(i + 1) * dim - 1]);
    else if (manifold == Manifold::sphere)
      sphere::project_to_sphere(n_tokens, current.data(), current.data());
    velocity_is_current = false;
  }

  void ParticleSystem::set_diffusion(double D, unsigned int seed, std::uint64_t steps_done)
  {
    diffusion  = D;
    noise_seed = seed;
    noise_step = steps_done;
  }

  void ParticleSystem::add_noise(double dt)
  {
    // The top bit of the last key word keeps these normals apart from the common noise's
    // (noise/brownian_path.cc: same seed, last word < 2^62).
    constexpr std::uint64_t idiosyncratic = std::uint64_t(1) << 63;
    const double            scale         = std::sqrt(2. * diffusion * dt);
    std::vector<double>     xi(dim);
    for (std::size_t i = 0; i < n_tokens; ++i)
      {
        for (unsigned int c = 0; c < dim; ++c)
          xi[c] = scale * noise::keyed_normal(noise_seed, noise_step, i, idiosyncratic | c);
        if (manifold == Manifold::sphere)
          sphere::project_to_tangent(1, &current[i * dim], xi.data());
        for (unsigned int c = 0; c < dim; ++c)
          current[i * dim + c] += xi[c];
      }
    ++noise_step;
  }

  Moments empirical_moments(const double *x, std::size_t n, unsigned int dim)
  {
    Moments m;
    m.mean.assign(dim, 0.);
    m.covariance.assign(dim * dim, 0.);
    for (std::size_t i = 0; i < n; ++i)
      for (unsigned int a = 0; a < dim; ++a)
        m.mean[a] += x[i * dim + a];
    for (double &value : m.mean)
      value /= double(n);
    // Centred second moments (no cancellation for clouds far from the origin).
    for (std::size_t i = 0; i < n; ++i)
      for (unsigned int a = 0; a < dim; ++a)
        for (unsigned int b = 0; b < dim; ++b)
          m.covariance[a * dim + b] += (x[i * dim + a] - m.mean[a]) * (x[i * dim + b] - m.mean[b]);
    for (double &value : m.covariance)
      value /= double(n);
    return m;
  }

  double max_speed(const double *v, std::size_t n, unsigned int dim)
  {
    double largest = 0;
    for (std::size_t i = 0; i < n; ++i)
      {
        double s2 = 0;
        for (unsigned int c = 0; c < dim; ++c)
          s2 += v[i * dim + c] * v[i * dim + c];
        largest = std::max(largest, s2);
      }
    return std::sqrt(largest);
  }
} // namespace tpde::particles
