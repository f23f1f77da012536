// Common noise (issue 14): fields sigma_k driven by one seeded Brownian path,
// d rho + div(rho X) dt + sum_k div(rho sigma_k) o dW_k = 0 (Stratonovich).
//
// Both solvers see the path through the velocity: on a time interval
// [t0, t1] every token moves with X + sum_k sigma_k(x) (W_k(t1) - W_k(t0)) /
// (t1 - t0), the piecewise-linear (Wong-Zakai) path. The grid cuts its steps
// at the path nodes, so on every step the added velocity is the path's exact
// slope there (constant in time) and the step is the SSP Runge-Kutta step of
// an ODE with that velocity; its CFL bound sees the noise speed |sigma| |W'|,
// about |sigma| h^-1/2 for path resolution h. The particles take the chord of
// their own steps (the path's slope when the steps divide the path
// intervals, as they do at Particles/time step <= h; see particle_run.cc).
//
// Fields: a constant vector in R^d; on the circle (chart theta) the rate
// S(1,0) of a 2 x 2 skew S (S x = S(1,0) (-sin, cos)); on S^2 the
// rotation generator x -> S x of a 3 x 3 skew S.
#pragma once

#include "common/matrix.h"
#include "noise/brownian_path.h"

#include <memory>
#include <string>
#include <vector>

namespace tpde
{
  class EntryReader;
}

namespace tpde::noise
{
  /// The fields as a velocity in the chart: sigma_k(x) = constant_k + linear_k x.
  struct CommonNoiseFields
  {
    unsigned int        components = 0; // of the chart: d in R^d, 1 on the circle, 3 on S^2
    std::vector<std::vector<double>> constant;
    std::vector<Matrix>              linear; // empty matrices in R^d and on the circle

    std::size_t size() const { return constant.size(); }
  };

  /// Skew means max |S + S^T| <= skew_tolerance * max(1, max |S|).
  constexpr double skew_tolerance = 1e-12;

  /// Parses `text` (Noise/common noise): in R^d fields separated by ';', each
  /// d numbers separated by ','; on the sphere (d = 2, 3) d x d skew matrices
  /// separated by '|', their rows by ';' (as Attention/Q). Throws
  /// std::invalid_argument with what was expected.
  CommonNoiseFields parse_common_noise(const std::string &text, unsigned int dim, bool sphere);
  /// The same through `r`: exit 2 naming the file, subsection and entry.
  CommonNoiseFields read_common_noise(const EntryReader &r, unsigned int dim, bool sphere);

  class CommonNoise
  {
  public:
    CommonNoise(CommonNoiseFields fields, std::uint64_t seed, unsigned int levels);

    const BrownianPath &path() const { return brownian; }
    double resolution() const { return brownian.resolution(); }

    /// Rates (W_k(t1) - W_k(t0)) / (t1 - t0); true if they changed.
    bool set_chord(double t0, double t1);
    /// The rates of the path interval holding t (a t within 1e-9 h below a
    /// node counts as at the node, so that summed steps do not stall).
    bool select_interval(double t);
    /// dt cut so that [t, t + dt] stays in the path interval holding t.
    double limit_step(double t, double dt) const;
    /// v[i] += sum_k rate_k sigma_k(x[i]) for n points of the chart.
    void add_velocity(std::size_t n, const double *x, double *v) const;
    /// The displacement sum_k sigma_k(x) (W_k(t1) - W_k(t0)) of the constant fields (R^d, circle).
    std::vector<double> constant_displacement(double t0, double t1) const;

  private:
    std::uint64_t interval_of(double t) const;

    CommonNoiseFields   fields;
    BrownianPath        brownian;
    std::vector<double> rates;
  };
} // namespace tpde::noise
