// The circle S^1 in R^2 through its angle chart: theta in [0, 2 pi) is the
// point x = (cos theta, sin theta), and a tangent vector X at x is the angular
// speed <X, (-sin theta, cos theta)> (the unit tangent), which is also the
// tangential projection P_x^perp X seen in the chart. Densities per unit arc
// length are densities in theta (the chart is an isometry).
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

namespace tpde::sphere
{
  inline void circle_point(double theta, double *x)
  {
    x[0] = std::cos(theta);
    x[1] = std::sin(theta);
  }

  /// The angular speed of the ambient vector X at the point of angle theta.
  inline double circle_speed(double theta, const double *X)
  {
    return -std::sin(theta) * X[0] + std::cos(theta) * X[1];
  }

  /// theta wrapped into [0, 2 pi) (tokens that crossed 0 or 2 pi return to
  /// the chart; rounding may not give 2 pi itself).
  inline double wrap_angle(double theta)
  {
    constexpr double period  = 2 * M_PI;
    double           wrapped = theta - period * std::floor(theta / period);
    if (wrapped < 0)
      wrapped += period;
    return wrapped >= period ? 0. : wrapped; // NaN stays NaN: a blown-up token is not hidden at 0
  }

  /// The angle in [0, 2 pi) of a point x != 0 of R^2.
  inline double circle_angle(const double *x) { return wrap_angle(std::atan2(x[1], x[0])); }

  /// Points of the unit circle (n x 2) -> their n angles.
  inline std::vector<double> circle_angles(const std::vector<double> &points)
  {
    std::vector<double> angles(points.size() / 2);
    for (std::size_t i = 0; i < angles.size(); ++i)
      angles[i] = circle_angle(&points[2 * i]);
    return angles;
  }

  /// n angles -> n x 2 ambient points.
  inline void circle_points(std::size_t n, const double *theta, double *x)
  {
    for (std::size_t i = 0; i < n; ++i)
      circle_point(theta[i], x + 2 * i);
  }
} // namespace tpde::sphere
