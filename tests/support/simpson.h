// Simpson's rule over the rows of a statistics table: the energy identities
// integrate energy_rate over uniform time steps and compare with the change
// of energy.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

namespace tpde::testing
{
  /// The integral of f over t[first] .. t[last] by Simpson's rule; the steps
  /// must be uniform and their number even (both EXPECTed).
  inline double simpson_over_rows(const std::vector<double> &t, const std::vector<double> &f, std::size_t first,
                                  std::size_t last)
  {
    EXPECT_EQ((last - first) % 2, 0u) << "an even number of steps";
    double integral = 0;
    for (std::size_t i = first; i + 2 <= last; i += 2)
      {
        EXPECT_NEAR(t[i + 2] - t[i + 1], t[i + 1] - t[i], 1e-12) << "uniform steps";
        integral += (t[i + 2] - t[i]) / 6 * (f[i] + 4 * f[i + 1] + f[i + 2]);
      }
    return integral;
  }
} // namespace tpde::testing
