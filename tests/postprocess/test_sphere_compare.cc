// The distance tpde-compare uses on S^2 (comparison.h): sliced W2 of the
// ambient points of R^3 over the fixed directions slicing_directions(3, K).
// Known answers:
//  * identical clouds: 0 exactly;
//  * a Dirac at a against a Dirac at R a (R a rotation): the 1D W2 along
//    theta is |<theta, a - R a>|, so SW2^2 = (a - R a)^T M (a - R a) with
//    M = mean over the directions of theta theta^T (exact to round-off);
//    M is I/3 up to the directions' quadrature error, so SW2 is
//    |a - R a| / sqrt(3) to that accuracy;
//  * a spread cloud mu and R mu: W2 along theta is at least the gap of the
//    projected means and at most the cost of the coupling x -> R x, so
//    sqrt(v^T M v) <= SW2 <= sqrt(mean_i (x_i - R x_i)^T M (x_i - R x_i)),
//    v = mean(mu) - R mean(mu).
#include "postprocess/comparison.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <random>

using namespace tpde::postprocess;

namespace
{
  /// Rotation by `angle` about the unit axis (Rodrigues).
  std::array<double, 3> rotate(const double *x, const std::array<double, 3> &axis, double angle)
  {
    const double c = std::cos(angle), s = std::sin(angle);
    const double dot = axis[0] * x[0] + axis[1] * x[1] + axis[2] * x[2];
    const double cross[3] = {axis[1] * x[2] - axis[2] * x[1], axis[2] * x[0] - axis[0] * x[2],
                             axis[0] * x[1] - axis[1] * x[0]};
    std::array<double, 3> y;
    for (int k = 0; k < 3; ++k)
      y[k] = x[k] * c + cross[k] * s + axis[k] * dot * (1 - c);
    return y;
  }

  /// v^T M v with M the mean of theta theta^T over the directions.
  double quadratic_form(const std::vector<std::array<double, 3>> &directions, const double *v)
  {
    double sum = 0;
    for (const auto &theta : directions)
      {
        const double p = theta[0] * v[0] + theta[1] * v[1] + theta[2] * v[2];
        sum += p * p;
      }
    return sum / double(directions.size());
  }

  std::vector<double> random_unit_points(std::size_t n, unsigned int seed)
  {
    std::mt19937_64                  random(seed);
    std::normal_distribution<double> normal;
    std::vector<double>              x(3 * n);
    for (std::size_t i = 0; i < n; ++i)
      {
        double p[3] = {normal(random) + 1.0, normal(random), normal(random) + 0.5}, r = 0;
        for (const double c : p)
          r += c * c;
        for (int c = 0; c < 3; ++c)
          x[3 * i + c] = p[c] / std::sqrt(r);
      }
    return x;
  }
} // namespace

TEST(SphereCompare, IdenticalCloudsAreAtDistanceZero)
{
  const auto cloud = uniform_cloud(3, random_unit_points(500, 3));
  EXPECT_EQ(sliced_w2(cloud, cloud, slicing_directions(3, 64)), 0.);
}

TEST(SphereCompare, RotatedDiracHasTheClosedFormDistance)
{
  const auto                  directions = slicing_directions(3, 64);
  const std::array<double, 3> axis       = {0.6, 0., 0.8};
  const double                a[3]       = {0., 1., 0.};
  for (const double angle : {0.1, 0.7, 2.0, M_PI})
    {
      const auto   b    = rotate(a, axis, angle);
      const double v[3] = {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
      // Ten tokens at a against ten at R a (weights 1/10 each).
      std::vector<double> first, second;
      for (int i = 0; i < 10; ++i)
        {
          first.insert(first.end(), a, a + 3);
          second.insert(second.end(), b.begin(), b.end());
        }
      const double distance = sliced_w2(uniform_cloud(3, first), uniform_cloud(3, second), directions);
      const double chord    = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
      std::printf("Dirac rotated by %.2f: SW2 %.12f, closed form %.12f, |a - Ra| / sqrt 3 = %.12f\n", angle,
                  distance, std::sqrt(quadratic_form(directions, v)), chord / std::sqrt(3.));
      EXPECT_NEAR(distance, std::sqrt(quadratic_form(directions, v)), 1e-14);
      EXPECT_NEAR(distance, chord / std::sqrt(3.), 0.02 * chord) << "64 directions average theta theta^T to I/3";
    }
}

TEST(SphereCompare, RotatedCloudLiesBetweenItsBounds)
{
  const auto                  directions = slicing_directions(3, 64);
  const std::array<double, 3> axis       = {0., 0., 1.};
  const std::size_t           n          = 400;
  const auto                  x          = random_unit_points(n, 11);
  for (const double angle : {0.05, 0.5, 1.5})
    {
      std::vector<double> y(3 * n);
      double              lower = 0, upper = 0, m[3] = {0, 0, 0}, rm[3] = {0, 0, 0};
      for (std::size_t i = 0; i < n; ++i)
        {
          const auto r = rotate(&x[3 * i], axis, angle);
          std::copy(r.begin(), r.end(), &y[3 * i]);
          const double v[3] = {x[3 * i] - r[0], x[3 * i + 1] - r[1], x[3 * i + 2] - r[2]};
          upper += quadratic_form(directions, v) / double(n);
          for (int c = 0; c < 3; ++c)
            m[c] += x[3 * i + c] / double(n), rm[c] += r[c] / double(n);
        }
      const double v[3] = {m[0] - rm[0], m[1] - rm[1], m[2] - rm[2]};
      lower             = quadratic_form(directions, v);
      const double distance = sliced_w2(uniform_cloud(3, x), uniform_cloud(3, y), directions);
      std::printf("cloud rotated by %.2f: %.6f <= SW2 %.6f <= %.6f\n", angle, std::sqrt(lower), distance,
                  std::sqrt(upper));
      EXPECT_GE(distance, std::sqrt(lower) * (1 - 1e-12));
      EXPECT_LE(distance, std::sqrt(upper) * (1 + 1e-12));
      EXPECT_GT(distance, 0.);
    }
}
