// physics.md §4.3: the linear response of uniform data on the circle under
// masked attention with positional decay lambda (0: the plain 1/s weights).
// A mode f(s) = 1 for s < s1 grows like e^{a t} there; above s1 the response
// is f(t, s) = int_0^{s1} g_a(t, s; s0) ds0 with
//   g_a = k_lambda(s, s0) sqrt(a t / Y) I_1(2 sqrt(a t Y)),
//   Y = log((e^{lambda s} - 1) / (e^{lambda s0} - 1))  (log(s / s0) at lambda = 0).
#pragma once

#include <cmath>

namespace tpde::testing
{
  /// The integral for s > s1, by Simpson's rule on panels halving towards
  /// s0 = 0 (where Y grows like log(1 / s0)).
  inline double masked_response_above(double t, double s, double s1, double a, double lambda)
  {
    const auto g = [&](double s0) {
      const double Y = lambda > 0 ? std::log(std::expm1(lambda * s) / std::expm1(lambda * s0)) : std::log(s / s0);
      const double k = lambda > 0 ? lambda * std::exp(-lambda * (s - s0)) / -std::expm1(-lambda * s) : 1. / s;
      return k * std::sqrt(a * t / Y) * std::cyl_bessel_i(1., 2 * std::sqrt(a * t * Y));
    };
    double sum = 0;
    for (int panel = 0; panel < 80; ++panel)
      {
        const double lo = s1 * std::ldexp(1., -panel - 1), hi = 2 * lo;
        const int    intervals = 200;
        const double step      = (hi - lo) / intervals;
        double       panel_sum = g(lo) + g(hi);
        for (int i = 1; i < intervals; ++i)
          panel_sum += (i % 2 ? 4 : 2) * g(lo + i * step);
        sum += panel_sum * step / 3;
      }
    return sum;
  }
} // namespace tpde::testing
