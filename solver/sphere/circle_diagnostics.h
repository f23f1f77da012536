// Diagnostics of a density on the circle (Mesh/domain = sphere, d = 2), as
// plain sums over weighted points theta_i (weights w_i = rho_i JxW_i on the
// grid): the interaction energy and both sides of its identity, Fourier mode
// amplitudes, cluster counts, and the exact order parameter of the wrapped
// Cauchy family (physics.md §4.1, §4.4). Sums over the points a rank owns
// are added over ranks by the caller.
#pragma once

#include <cstddef>
#include <vector>

namespace tpde::sphere
{
  /// Sums over owned targets i against all sources j, with
  /// Z_i = sum_j w_j e^{beta <x_i, x_j>}:
  ///   energy  = 1/(2 beta) sum_i w_i Z_i  (E_beta; beta = 0: |m|^2 / 2,
  ///             the limit of E_beta - mass^2 / (2 beta), which has the same rate),
  ///   rate_unnormalized = sum_i w_i v_i^2      (dE/dt for USA, Q = K = V = I),
  ///   rate_softmax      = sum_i w_i v_i^2 Z_i  (dE/dt for SA),
  /// v_i the angular speed at target i. beta = 0 needs no pair loop; for
  /// beta > 0 the Z_i come from the Bessel expansion of e^{beta cos} in
  /// O((targets + sources) M) operations, M = fourier_modes(beta) (about
  /// sqrt(80 beta) for large beta), whenever M is within the Fourier path's
  /// limit; a target whose rounding bound is not below 1e-12 Z_i, and every
  /// target beyond that limit, gets the direct sum over the pairs.
  struct EnergySums
  {
    double energy             = 0;
    double rate_unnormalized  = 0;
    double rate_softmax       = 0;
  };
  EnergySums energy_sums(double beta, std::size_t n_targets, const double *target_theta,
                         const double *target_weights, const double *target_speed, std::size_t n_sources,
                         const double *source_theta, const double *source_weights);

  /// sums[2(k-1)] += sum_i w_i cos(k theta_i), sums[2(k-1)+1] += sum_i w_i sin(k theta_i), k = 1..modes.
  void add_mode_sums(unsigned int modes, std::size_t n, const double *theta, const double *weights,
                     double *sums);

  /// Local maxima of values around the circle (values[i] at increasing angles,
  /// periodic) that reach `fraction` of the largest value. A plateau counts once.
  unsigned int count_clusters(const std::vector<double> &values, double fraction);

  /// A density estimate of weighted points on the circle for `clusters` of a
  /// particle run: the points' histogram on `bins` equal arcs (value b at the
  /// angle (b + 1/2) 2 pi / bins), smoothed by the wrapped Gaussian of
  /// standard deviation `bandwidth` (radians, at most pi / 2; a circular
  /// convolution, so a value is a density per radian).
  std::vector<double> smoothed_histogram(std::size_t n, const double *theta, const double *weights,
                                         unsigned int bins, double bandwidth);

  /// beta = 0, V = I: a wrapped Cauchy law of order parameter r0 stays wrapped
  /// Cauchy with r(t)^2 = r0^2 e^t / (1 - r0^2 + r0^2 e^t) (physics.md §4.4).
  double wrapped_cauchy_order_parameter(double r0, double t);
} // namespace tpde::sphere
