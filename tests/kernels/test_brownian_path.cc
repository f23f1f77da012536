// The common noise path (solver/noise/brownian_path.h) and fields (common_noise.h):
//  * W_k(t) is a function of (seed, k, t): the same values in any query order
//    and from a fresh object; other seeds and k give other paths;
//  * refining the resolution refines the same motion (equal values at the
//    coarse nodes), and linear interpolation between nodes;
//  * increments over 2^-l at every level have variance 2^-l (mean square /
//    h within 3%: 6 standard errors of the estimate; a bridge of the wrong
//    width is off by >= 25% at some level), adjacent increments and two
//    motions are uncorrelated (|correlation| < 0.02);
//  * the strong order of the piecewise-linear path: for dm = v m dt + s o dW
//    (additive noise) the solution driven by the path of resolution 2^-L,
//    against L = 13 on the same motion, has RMS error over 64 seeds
//    decaying like 2^-L (fitted slope of log error against log h in
//    [0.85, 1.15]; measured about 1.0);
//  * parsing: vectors in R^d, skew matrices on the circle and S^2, and every
//    malformed text refused with what was expected.
#include "noise/brownian_path.h"
#include "noise/common_noise.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

using tpde::noise::BrownianPath;
using tpde::noise::parse_common_noise;

TEST(BrownianPath, ReproducibleAndIndependentOfQueryOrder)
{
  std::vector<double> times(500);
  std::mt19937_64     rng(3);
  for (double &t : times)
    t = std::uniform_real_distribution<double>(0, 20)(rng);
  const BrownianPath forward(7, 2, 8);
  std::vector<double> values;
  for (const double t : times)
    values.push_back(forward.value(1, t));
  std::vector<std::size_t> order(times.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  const BrownianPath shuffled(7, 2, 8);
  for (const std::size_t i : order)
    EXPECT_EQ(shuffled.value(1, times[i]), values[i]);
  EXPECT_EQ(BrownianPath(7, 2, 8).value(0, 0.), 0.);
  EXPECT_NE(BrownianPath(8, 2, 8).value(1, 3.3), forward.value(1, 3.3));
  EXPECT_NE(forward.value(0, 3.3), forward.value(1, 3.3));
  // Refinement keeps the motion; between nodes the path is linear.
  const BrownianPath fine(7, 2, 12);
  for (std::uint64_t j = 0; j < 300; ++j)
    EXPECT_EQ(fine.node_value(1, j << 4), forward.node_value(1, j));
  const double h = forward.resolution();
  EXPECT_NEAR(forward.value(1, 5.25 * h), 0.75 * forward.node_value(1, 5) + 0.25 * forward.node_value(1, 6), 1e-14);
}

TEST(BrownianPath, IncrementsHaveTheRightVarianceAtEveryLevel)
{
  const BrownianPath path(11, 2, 10);
  for (unsigned int level = 0; level <= 10; ++level)
    {
      const std::uint64_t stride = std::uint64_t(1) << (10 - level);
      const std::size_t   n      = 40000;
      double              square = 0, adjacent = 0, cross = 0, previous = 0;
      for (std::size_t i = 0; i < n; ++i)
        {
          const double dw = path.node_value(0, (i + 1) * stride) - path.node_value(0, i * stride);
          const double dv = path.node_value(1, (i + 1) * stride) - path.node_value(1, i * stride);
          square += dw * dw;
          cross += dw * dv;
          adjacent += dw * previous;
          previous = dw;
        }
      const double h = std::ldexp(1., -int(level));
      EXPECT_NEAR(square / (n * h), 1., 0.03) << "level " << level;
      EXPECT_LT(std::abs(adjacent / square), 0.02) << "level " << level;
      EXPECT_LT(std::abs(cross / square), 0.02) << "level " << level;
    }
}

namespace
{
  /// m(T) of dm = v m dt + s dW_path exactly, the path linear between nodes of spacing h.
  double linear_sde_on_path(const BrownianPath &path, double v, double s, double m, double T)
  {
    const double        h = path.resolution();
    const std::uint64_t n = static_cast<std::uint64_t>(std::llround(T / h));
    const double        e = std::exp(v * h);
    double              w = 0;
    for (std::uint64_t j = 0; j < n; ++j)
      {
        const double next = path.node_value(0, j + 1);
        m                 = e * m + (e - 1) / v * s * (next - w) / h;
        w                 = next;
      }
    return m;
  }
} // namespace

TEST(BrownianPath, StrongOrderOfThePiecewiseLinearPathIsOneForAdditiveNoise)
{
  std::vector<double> sizes, errors;
  std::vector<double> exact;
  for (unsigned int seed = 1; seed <= 64; ++seed)
    exact.push_back(linear_sde_on_path(BrownianPath(seed, 1, 13), -1.5, 0.8, 0.3, 2.));
  for (unsigned int L = 2; L <= 7; ++L)
    {
      double sum = 0;
      for (unsigned int seed = 1; seed <= 64; ++seed)
        {
          const double e = linear_sde_on_path(BrownianPath(seed, 1, L), -1.5, 0.8, 0.3, 2.) - exact[seed - 1];
          sum += e * e;
        }
      sizes.push_back(std::ldexp(1., -int(L)));
      errors.push_back(std::sqrt(sum / 64));
    }
  const double slope = tpde::testing::log_log_slope(sizes, errors);
  std::printf("strong order of the path (additive noise): %.3f, RMS error at h = 1/4: %.3e, 1/128: %.3e\n", slope,
              errors.front(), errors.back());
  EXPECT_GT(slope, 0.85);
  EXPECT_LT(slope, 1.15);
}

TEST(CommonNoiseFields, ParsesVectorsAndSkewMatrices)
{
  const auto plane = parse_common_noise("0.5, 0; 0, 0.25", 2, false);
  ASSERT_EQ(plane.size(), 2u);
  EXPECT_EQ(plane.constant[1], (std::vector<double>{0., 0.25}));
  const auto circle = parse_common_noise("0, -0.7; 0.7, 0", 2, true);
  ASSERT_EQ(circle.size(), 1u);
  EXPECT_EQ(circle.components, 1u);
  EXPECT_EQ(circle.constant[0][0], 0.7);
  const auto s2 = parse_common_noise("0,-1,0; 1,0,0; 0,0,0 | 0,0,0; 0,0,-2; 0,2,0", 3, true);
  ASSERT_EQ(s2.size(), 2u);
  // S x for x = (0, 1, 0): the rotation about e_x with rate 2 sends it to (0, 0, 2).
  tpde::noise::CommonNoise noise(s2, 1, 4);
  noise.set_chord(0, 1); // rates are then the path's W_k(1)
  const double x[3] = {0, 1, 0};
  double       v[3] = {0, 0, 0};
  noise.add_velocity(1, x, v);
  EXPECT_NEAR(v[0], -noise.path().value(0, 1.), 1e-15);
  EXPECT_NEAR(v[2], 2 * noise.path().value(1, 1.), 1e-15);

  const auto error = [](const std::string &text, unsigned int dim, bool sphere) {
    try
      {
        parse_common_noise(text, dim, sphere);
      }
    catch (const std::invalid_argument &e)
      {
        return std::string(e.what());
      }
    return std::string("accepted");
  };
  EXPECT_NE(error("1, 2, 3", 2, false).find("vector of 2 numbers"), std::string::npos);
  EXPECT_NE(error("1, x", 2, false).find("'x' is not a number"), std::string::npos);
  EXPECT_NE(error("1; 2, 3", 2, false).find("row 2 has 2 entries"), std::string::npos);
  EXPECT_NE(error("0, 1; 1, 0", 2, true).find("not skew"), std::string::npos);
  EXPECT_NE(error("0, 1, 0; -1, 0, 0", 3, true).find("got a 2 x 3 matrix"), std::string::npos);
  EXPECT_NE(error("0,-1,0; 1,0,0; 0,0,0 |", 3, true).find("skew matrices"), std::string::npos);
  EXPECT_EQ(error("0, -1; 1, 1e-14", 2, true), "accepted"); // within the stated 1e-12
}
