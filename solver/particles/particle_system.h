// The finite-token system (physics.md §1.1): N tokens x_i in R^d move with
//
//   dx_i/dt = X[mu^N](x_i),   mu^N = (1/N) sum_j delta_{x_j},
//
// where X is the attention velocity of the grid solver, evaluated by the very
// same kernel (attention::Kernel) with targets = sources = the tokens and
// weights 1/N (self-interaction included). Plain C++, no deal.II.
#pragma once

#include "attention/attention.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tpde::particles
{
  /// Explicit Runge-Kutta schemes for the token ODE.
  enum class Integrator
  {
    rk4,    // classical fourth order, 4 velocity evaluations per step
    ssp_rk3 // Shu-Osher third order (the grid's default scheme), 3 per step
  };


  class ParticleSystem
  {
  public:
    /// `positions`: N x dim, row-major (N >= 1). The kernel must outlive this.
    ParticleSystem(const attention::Kernel &kernel, std::vector<double> positions);

    unsigned int dimension() const { return dim; }
    std::size_t  size() const { return n_tokens; }

    const std::vector<double> &positions() const { return current; }

    /// Velocity of the current positions (evaluated once per state, then reused
    /// as the first stage of the next step).
    const std::vector<double> &velocity();

    /// X[mu](x_i) for the tokens `x` (N x dim), all with weight 1/N.
    void evaluate_velocity(const double *x, double *velocity_out) const;

    /// The kernel now evaluates other weights (the next layer): the velocity
    /// of the current positions is evaluated again.
    void kernel_changed() { velocity_is_current = false; }

    /// f(n, x, velocities) adds to the kernel's velocities (the common noise).
    void add_velocity_with(std::function<void(std::size_t, const double *, double *)> f) { added = std::move(f); }

    /// One step of size dt.
    void step(double dt, Integrator integrator);

    /// The tokens are angles of the circle's chart (a kernel periodic in
    /// them): every step wraps them into [0, 2 pi), so they stay exactly on
    /// the circle. The angle is a token's last coordinate: dimension 1, or 2
    /// for masked attention's (s, theta), whose s is left alone.
    void set_circle_chart() { manifold = Manifold::circle_chart; }

    /// The tokens are points of the unit sphere S^2 in R^3 (dimension 3) and
    /// the kernel's velocity is tangent at x / |x| (sphere/surface_kernel.h):
    /// every step is the Runge-Kutta step in R^3 followed by the retraction
    /// x -> x / |x|, so |x_i| = 1 to round-off after every step. The order
    /// stays the scheme's (4 or 3): the exact flow of the ambient field keeps
    /// |x| (d|x|^2/dt = 2 <x, X> = 0), so the RK result lies within its local
    /// error O(dt^{p+1}) of the sphere, and the closest-point projection moves
    /// it by at most that much (twice the distance to the exact solution).
    void set_sphere_retraction();

    /// Idiosyncratic noise (Noise/diffusion D > 0): after every deterministic
    /// step each token moves by sqrt(2 D dt) xi, xi independent N(0, I) (Lie
    /// splitting with Euler-Maruyama: weak order 1). The component c of token i
    /// in step n (counted from 0 since t = 0) is a keyed normal of
    /// (seed, n, i, c) (noise/keyed_normal.h): no generator state, so a run
    /// resumed with `steps_done` = the steps before it continues on the same
    /// noise. On S^2 xi is projected on the tangent plane before the
    /// retraction, whose -D |P xi|^2 dt x share is the Ito drift -2 D x of
    /// Brownian motion on S^2; on the circle's chart the angle moves.
    void set_diffusion(double D, unsigned int seed, std::uint64_t steps_done = 0);

    /// Velocity evaluations so far (for the cost per step).
    unsigned long evaluations() const { return n_evaluations; }

  private:
    const attention::Kernel &kernel;
    unsigned int             dim;
    std::size_t              n_tokens;
    std::vector<double>      weights; // 1/N each
    std::vector<double>      current;
    std::vector<double>      current_velocity;
    bool                     velocity_is_current = false;
    std::function<void(std::size_t, const double *, double *)> added;
    enum class Manifold
    {
      flat,
      circle_chart,
      sphere
    } manifold = Manifold::flat;
    // Stage storage: stage positions and the stage velocities k2..k4.
    std::vector<double>      stage, rate[3];
    void                     add_noise(double dt);
    double                   diffusion = 0;
    std::uint64_t            noise_seed = 0, noise_step = 0; // the key of the next step's noise
    mutable unsigned long    n_evaluations = 0;
  };

  /// Mean and covariance (normalised by N, i.e. the moments of mu^N).
  struct Moments
  {
    std::vector<double> mean;       // dim
    std::vector<double> covariance; // dim x dim, row-major
  };
  Moments empirical_moments(const double *positions, std::size_t n, unsigned int dim);

  /// max_i |v_i| for N x dim velocities.
  double max_speed(const double *velocity, std::size_t n, unsigned int dim);
} // namespace tpde::particles
