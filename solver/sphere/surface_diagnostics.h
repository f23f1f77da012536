// Diagnostics of a density on S^2 (Mesh/domain = sphere, d = 3), as plain
// sums over weighted unit points x_i (weights w_i = rho_i JxW_i on the grid):
// the interaction energy and both sides of its identity, the amplitudes of
// the spherical-harmonic degrees, and the exact mean of the Poisson-kernel
// family at beta = 0 (physics.md §4.1, §4.4). Sums over the points a rank
// owns are added over ranks by the caller.
#pragma once

#include "sphere/circle_diagnostics.h"

#include <cstddef>

namespace tpde::sphere
{
  /// The energy sums of circle_diagnostics.h for points in R^dimension
  /// (targets and sources n x dimension, on the unit sphere), with the squared
  /// speed |X_i|^2 of each target. On S^2 (dimension 3) the exponential sums
  /// are harmonic sums (sphere_harmonics.h) to 1e-12 relative, direct at the
  /// targets they do not resolve; otherwise all pairs.
  EnergySums ambient_energy_sums(unsigned int dimension, double beta, std::size_t n_targets, const double *targets,
                                 const double *target_weights, const double *target_speed2, std::size_t n_sources,
                                 const double *sources, const double *source_weights);

  /// sums[l^2 - 1 + m'] += sum_i w_i Y_lm(x_i) for l = 1..degrees and the
  /// 2l+1 real orthonormal harmonics of degree l (m' = 0..2l; x_i unit points).
  void add_harmonic_sums(unsigned int degrees, std::size_t n, const double *x, const double *weights, double *sums);

  /// The amplitude of degree l from its 2l+1 sums:
  /// sqrt(4 pi / (2l + 1) sum_m S_lm^2) = sqrt(iint P_l(<x, y>) drho drho),
  /// which is |int x drho| for l = 1 (as mode_1 is on the circle).
  double harmonic_amplitude(unsigned int l, const double *degree_sums);

  /// |m| of the Poisson kernel f_w with |w| = r (physics.md §4.4):
  /// m3(r) = (1 + r^2) / (2 r) + (1 - r^2)^2 / (4 r^2) ln((1 - r) / (1 + r)).
  double poisson_mean(double r);
  /// The r in [0, 1) with poisson_mean(r) = m (0 <= m < 1).
  double poisson_radius(double m);
  /// beta = 0, V = I: the Poisson kernel stays one, dr/dt = m3(r) (1 - r^2) / 2;
  /// |m(t)| = m3(r(t)) from r(0) = r0 (a fine RK4, error far below 1e-10).
  double poisson_order_parameter(double r0, double t);
} // namespace tpde::sphere
