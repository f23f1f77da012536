// Miller's backward recurrence for the exponentially scaled modified Bessel
// values of the zonal fast paths (circle_fourier.h: I_k; sphere_harmonics.h:
// i_l). Both families satisfy f_{k-1} = f_{k+1} + factor(k) f_k and a sum rule
// sum_k weight(k) e^{-r} f_k = 1 of positive terms, which normalises the
// recurrence's solution (minimal, so stable backwards).
#pragma once

#include <vector>

namespace tpde::sphere
{
  /// out[k] for k = 0..n from the recurrence started at `start` (> n, far
  /// above the last significant order) with (f_{start+1}, f_start) = (0, 1),
  /// values rescaled before they overflow, normalised by the sum rule.
  template <typename Factor, typename Weight>
  std::vector<double> miller_backward(unsigned int n, unsigned int start, const Factor &factor, const Weight &weight)
  {
    std::vector<double> out(n + 1, 0.);
    double              above = 0., current = 1., sum = 0.;
    for (unsigned int k = start; k > 0; --k)
      {
        if (k <= n)
          out[k] = current;
        sum += weight(k) * current;
        const double below = above + factor(k) * current;
        above              = current;
        current            = below;
        if (current > 1e250)
          {
            above *= 1e-250;
            current *= 1e-250;
            sum *= 1e-250;
            for (unsigned int i = k; i <= n; ++i)
              out[i] *= 1e-250;
          }
      }
    out[0] = current;
    sum += weight(0) * current;
    for (double &value : out)
      value /= sum;
    return out;
  }
} // namespace tpde::sphere
