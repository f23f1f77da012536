// Zonal attention on S^2 by spherical harmonics (Funk-Hecke; physics.md
// §4.1). When A = beta Q^T K = r O with O orthogonal (e.g. Q = K = I: O = I,
// r = beta), the score <x, A y> = r <O^T x, y> depends on the angle between
// O^T x and y only, and the attention is a convolution on the sphere. With
//   e^{r t} = sum_l (2l + 1) i_l(r) P_l(t)   (i_l: modified spherical Bessel)
// and the addition theorem P_l(<x, y>) = 4 pi / (2l + 1) sum_m Y_lm(x) Y_lm(y)
// (real orthonormal Y_lm),
//   sum_j w_j e^{r <x', y_j>} f(y_j) = sum_{l <= L} 4 pi i_l(r) sum_m Y_lm(x') c_lm[f],
//   c_lm[f] = sum_j w_j f(y_j) Y_lm(y_j),  f in {1, y_1, y_2, y_3},
// for O((targets + sources) L^2) work instead of O(targets x sources).
// Everything is scaled by e^{-r} so that no r overflows.
//
// Accuracy. The truncation after degree L errs by at most
// tail(L) = e^{-r} sum_{l > L} (2l + 1) i_l(r) of the total weight W (|P_l| <= 1),
// to which the rounding of the sums adds a few ulp of W
// (HarmonicSums::error_bound). Direct sums are accurate relative to D(x)
// itself, which can be as small as e^{-2r} W (scaled): the caller compares
// error_bound() with D at each target and sums the targets it does not
// resolve to its tolerance directly (as on the circle, circle_fourier.h).
// L is the smallest degree with tail(L) <= max(tolerance e^{-2r}, 2^-55): the
// truncation alone never forces a target to the direct sums.
#pragma once

#include "attention/attention.h"
#include "common/matrix.h"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tpde::sphere
{
  /// e^{-r} i_l(r) for l = 0..n (r >= 0), i_l(r) = sqrt(pi / 2r) I_{l+1/2}(r),
  /// by backward recurrence normalised with sum_l (2l + 1) e^{-r} i_l(r) = 1.
  std::vector<double> scaled_spherical_bessel_i(double r, unsigned int n);

  /// The degree L for the score radius r and the relative tolerance (above).
  unsigned int harmonic_degree(double r, double tolerance);
  constexpr unsigned int max_harmonic_degree = 120;

  /// The truncation bound tail(L) for the radius r (relative to W).
  double harmonic_tail(double r, unsigned int degree);

  /// The zonal form of A = beta Q^T K (Q, K: k x 3): <x, A y> = radius <R x, y>
  /// with R = O^T orthogonal (row-major 3 x 3), or nothing if A^T A differs
  /// from radius^2 I by more than the rounding of forming it (16 ulp).
  struct SphereZonalScore
  {
    double radius      = 0;
    double rotation[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  };
  std::optional<SphereZonalScore> sphere_zonal_score(double beta, const Matrix &Q, const Matrix &K);

  /// The scaled sums of a fixed set of unit sources (weights > 0) at any unit
  /// targets (already rotated by R). Results do not depend on the number of
  /// threads.
  class HarmonicSums
  {
  public:
    /// y: n_sources x 3 unit points.
    HarmonicSums(double radius, double tolerance, std::size_t n_sources, const double *y, const double *weights);

    unsigned int degree() const { return L; }

    /// For the unit targets x (n x 3): scaled[i] = e^{-r} D(x_i) and
    /// mean[3i + c] = e^{-r} N_c(x_i), N = sum_j w_j e^{r <x, y_j>} y_j.
    void evaluate(std::size_t n_targets, const double *x, double *scaled, double *mean) const;

    /// A bound on the absolute error (truncation and rounding) of every scaled sum.
    double error_bound() const { return bound; }

  private:
    unsigned int L = 0;
    // Per (m, l) in the order m = 0..L, l = m..L: 8 coefficients (the cos
    // and sin harmonics times f = 1, y_1, y_2, y_3), scaled by 4 pi e^{-r} i_l.
    std::vector<double> coefficients;
    double              bound = 0;
  };

  /// The kernel on S^2 for `type` (3D points, tangent velocities; see
  /// surface_kernel.h): with `evaluation = fast`, or `auto` where it pays,
  /// softmax (SA) or unnormalized (USA) with a zonal A, the harmonic sums
  /// above; each target whose sum is not resolved to p.tolerance relative to
  /// D (error bound <= tolerance D) is summed directly. Otherwise (direct,
  /// other variants, A not zonal, degree above max_harmonic_degree) the
  /// ambient kernel with the same evaluation, projected. The harmonic
  /// kernel's diagnostics: harmonic_degree (L) and harmonic_fallback (the
  /// share of targets of the last evaluation not summed by harmonics).
  std::unique_ptr<attention::Kernel> create_surface_kernel(const std::string &type, const attention::Parameters &p);

  /// Whether create_surface_kernel may use the harmonic sums for these parameters.
  bool uses_harmonic_sums(const std::string &type, const attention::Parameters &p);
} // namespace tpde::sphere
