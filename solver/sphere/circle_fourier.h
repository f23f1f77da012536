// Zonal attention on the circle by Fourier modes (physics.md §4.1). When
// A = beta Q^T K commutes with rotations (A = a I + b J, J the rotation by
// 90 degrees), the score <x, A y> of the points x = e^{i theta}, y = e^{i phi}
// is r cos(theta - phi - delta) with r = |a + i b|, delta = arg(a + i b): the
// attention is a convolution on the circle. By Jacobi-Anger,
//   e^{r cos psi} = sum_k I_k(r) e^{i k psi}   (k over all integers),
// so with the source coefficients c_k = sum_j w_j e^{-i k phi_j},
//   D(theta) = sum_j w_j e^{r cos(theta - phi_j - delta)}
//            = sum_k I_k(r) e^{i k (theta - delta)} c_k,
//   N(theta) = sum_j w_j e^{r cos(...)} e^{i phi_j}
//            = sum_k I_k(r) e^{i k (theta - delta)} c_{k-1},
// (N as the complex number N_x + i N_y), for O((targets + sources) M) work
// with M modes instead of O(targets x sources). Everything is scaled by
// e^{-r} (exponentially scaled Bessel values), so that no r overflows.
//
// Accuracy. M is chosen from r so that the dropped modes weigh less than
// 2^-55 of the k = 0 term. The sums then carry an absolute rounding error
// of a few ulp of the total weight W (ZonalSums::error_bound, which grows
// slowly with r), whereas direct sums are accurate relative to
// D(theta) itself: where D(theta) << W e^r (targets far from all the mass
// at large r) the modes cancel and lose digits. Callers compare
// error_bound() with D at each target and sum the few unresolved targets
// directly (circle_fourier_kernel, energy_sums). The phases k theta carry
// the rounding of theta (~|k theta| ulp) as in direct sums: angles are best
// kept in [0, 2 pi) or near it (the grid's are).
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
  /// e^{-r} I_k(r) for k = 0..n (r >= 0), by Miller's backward recurrence
  /// normalised with sum_{k in Z} e^{-r} I_|k|(r) = 1; relative error a few
  /// ulp wherever the value is above the underflow range.
  std::vector<double> scaled_bessel_i(double r, unsigned int n);

  /// The number of modes M for the score radius r: the smallest M with
  /// 2 sum_{k > M} I_k(r) <= 2^-55 I_0(r). About sqrt(80 r) for large r;
  /// above max_fourier_modes (r beyond ~2e5) the value is only a lower bound.
  unsigned int fourier_modes(double r);
  constexpr unsigned int max_fourier_modes = 4096;

  /// The score of a zonal A: <x, A y> = radius cos(theta - phi - phase).
  struct ZonalScore
  {
    double radius = 0;
    double phase  = 0;
  };

  /// The zonal form of A = beta Q^T K (Q, K: k x 2), or nothing if the
  /// symmetric traceless part of A exceeds the rounding of forming it
  /// (8 ulp of its largest entry): then scores depend on theta + phi too.
  std::optional<ZonalScore> zonal_score(double beta, const Matrix &Q, const Matrix &K);

  /// The scaled sums of a fixed set of sources (weights > 0), evaluated at
  /// any targets. Results do not depend on the number of threads.
  class ZonalSums
  {
  public:
    /// with_mean: also the numerator N (two more real coefficients per mode).
    ZonalSums(ZonalScore score, std::size_t n_sources, const double *phi, const double *weights,
              bool with_mean);

    unsigned int modes() const { return n_modes; }

    /// scaled[i] = e^{-r} D(theta_i); with with_mean, mean[2 i], mean[2 i + 1]
    /// = e^{-r} (N_x, N_y)(theta_i) (mean may be null otherwise).
    void evaluate(std::size_t n_targets, const double *theta, double *scaled, double *mean) const;

    /// A bound on the absolute rounding error of every scaled sum.
    double error_bound() const { return bound; }

  private:
    unsigned int n_modes = 0;
    bool         with_mean;
    // Per mode k = 0..M: 2 Re of e^{-i k delta} I_k c_k as (real, -imaginary),
    // and for the numerator the four combinations of targets.cc's loop.
    std::vector<double> density_coefficients, mean_coefficients;
    double              bound = 0;
  };

  /// The kernel on the circle for `type` (softmax: SA, unnormalized: USA):
  /// with `evaluation = fast | auto` and a zonal A, the Fourier sums above;
  /// each target whose sum is not resolved to p.tolerance relative to D
  /// (rounding bound <= tolerance D) is summed by the chart kernel of the
  /// ambient variant instead. Otherwise (direct, other variants, A not
  /// zonal, more than max_fourier_modes modes) the chart kernel
  /// (chart_kernel.h) of the ambient variant with the same evaluation. The
  /// Fourier kernel's diagnostics: fourier_modes (M) and fourier_fallback
  /// (the share of targets of the last evaluation summed by the chart kernel).
  std::unique_ptr<attention::Kernel> create_circle_kernel(const std::string &type, const attention::Parameters &p);

  /// Whether create_circle_kernel uses the Fourier sums for these parameters.
  bool uses_fourier_sums(const std::string &type, const attention::Parameters &p);
} // namespace tpde::sphere
