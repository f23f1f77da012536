// Assertions on the time column of a run's statistics.csv (layer and split-half boundaries).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace tpde::testing
{
  /// No step of the `time` column starts before a boundary and ends after it; every boundary is a step's end.
  inline void expect_steps_land_on(const std::vector<double> &time, const std::vector<double> &boundaries)
  {
    for (const double b : boundaries)
      {
        bool landed = false;
        for (std::size_t k = 1; k < time.size(); ++k)
          {
            EXPECT_FALSE(time[k - 1] < b * (1 - 1e-12) && time[k] > b * (1 + 1e-12))
              << "the step from " << time[k - 1] << " to " << time[k] << " straddles the boundary " << b;
            landed = landed || std::abs(time[k] - b) <= 1e-12 * b;
          }
        EXPECT_TRUE(landed) << "no step ends at the boundary " << b;
      }
  }
} // namespace tpde::testing
