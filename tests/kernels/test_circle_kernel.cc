// The circle's chart kernel (sphere/chart_kernel.h) against the angular
// formulas of physics.md §4.1: USA theta_i' = sum_j w_j e^{beta cos(theta_i -
// theta_j)} sin(theta_j - theta_i), SA the same divided by sum_j w_j e^{beta
// cos(theta_i - theta_j)}; and with general Q, K, V against the tangential
// projection of the ambient kernel's output.
#include "attention/attention.h"
#include "sphere/chart_kernel.h"
#include "sphere/circle_diagnostics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace tpde;

namespace
{
  attention::Parameters circle_parameters(double beta)
  {
    attention::Parameters p;
    p.dim        = 2;
    p.beta       = beta;
    p.Q          = Matrix::identity(2);
    p.K          = Matrix::identity(2);
    p.V          = Matrix::identity(2);
    p.evaluation = attention::Parameters::Evaluation::direct;
    return p;
  }
} // namespace

TEST(CircleKernel, MatchesTheAngularFormulas)
{
  std::mt19937_64                        random(3);
  std::uniform_real_distribution<double> angle(0, 2 * M_PI), weight(0.1, 1);
  const std::size_t                      n = 300;
  std::vector<double>                    theta(n), w(n);
  for (std::size_t i = 0; i < n; ++i)
    {
      theta[i] = angle(random);
      w[i]     = weight(random);
    }
  double total = 0;
  for (double wi : w)
    total += wi;
  for (double &wi : w)
    wi /= total; // a probability measure (unnormalized divides by the total weight)
  for (const double beta : {0., 1.5, 9.})
    for (const bool normalized : {false, true})
      {
        const auto kernel = sphere::circle_kernel(
          attention::create(normalized ? "softmax" : "unnormalized", circle_parameters(beta)));
        ASSERT_EQ(kernel->dimension(), 1u);
        std::vector<double> v(n);
        kernel->evaluate(n, theta.data(), n, theta.data(), w.data(), v.data());
        double worst = 0, scale = 0;
        for (std::size_t i = 0; i < n; ++i)
          {
            double num = 0, Z = 0;
            for (std::size_t j = 0; j < n; ++j)
              {
                const double e = std::exp(beta * std::cos(theta[i] - theta[j]));
                num += w[j] * e * std::sin(theta[j] - theta[i]);
                Z += w[j] * e;
              }
            const double exact = normalized ? num / Z : num;
            worst              = std::max(worst, std::abs(v[i] - exact));
            scale              = std::max(scale, std::abs(exact));
          }
        EXPECT_LE(worst, 1e-13 * scale) << "beta " << beta << (normalized ? " SA" : " USA");
      }
}

TEST(CircleKernel, IsTheTangentialProjectionForGeneralWeights)
{
  attention::Parameters p = circle_parameters(1.2);
  p.Q                     = Matrix(2, 2);
  p.K                     = Matrix(2, 2);
  p.V                     = Matrix(2, 2);
  const double entries[3][4] = {{0.7, -0.2, 0.4, 1.1}, {1.0, 0.3, -0.5, 0.8}, {-0.6, 0.9, 0.2, 0.4}};
  for (int e = 0; e < 4; ++e)
    {
      p.Q.data[e] = entries[0][e];
      p.K.data[e] = entries[1][e];
      p.V.data[e] = entries[2][e];
    }
  const auto          ambient = attention::create("softmax", p);
  const auto          circle  = sphere::circle_kernel(attention::create("softmax", p));
  const std::size_t   n       = 64;
  std::vector<double> theta(n), w(n, 1. / n), x(2 * n), X(2 * n), v(n);
  for (std::size_t i = 0; i < n; ++i)
    {
      theta[i]     = 2 * M_PI * (i + 0.3) / n;
      x[2 * i]     = std::cos(theta[i]);
      x[2 * i + 1] = std::sin(theta[i]);
    }
  ambient->evaluate(n, x.data(), n, x.data(), w.data(), X.data());
  circle->evaluate(n, theta.data(), n, theta.data(), w.data(), v.data());
  for (std::size_t i = 0; i < n; ++i)
    {
      const double tangential = -x[2 * i + 1] * X[2 * i] + x[2 * i] * X[2 * i + 1];
      EXPECT_NEAR(v[i], tangential, 1e-15) << i;
    }
}

TEST(CircleDiagnostics, CountsClustersAroundTheCircle)
{
  using sphere::count_clusters;
  EXPECT_EQ(count_clusters({1, 1, 1, 1}, 0.5), 1u) << "uniform: one plateau";
  EXPECT_EQ(count_clusters({0, 1, 0, 1}, 0.5), 2u);
  EXPECT_EQ(count_clusters({3, 0, 0, 0, 2, 2, 0, 1}, 0.5), 2u) << "the plateau 2, 2 counts once; 1 < 1.5";
  EXPECT_EQ(count_clusters({3, 0, 2, 2, 0, 1, 0}, 0.3), 3u);
  EXPECT_EQ(count_clusters({3, 0, 0, 0, 2, 2, 0, 1}, 0.3), 2u) << "1 next to 3 across the seam";
  EXPECT_EQ(count_clusters({2, 0, 0, 1, 3}, 0.1), 1u) << "periodic: 2 lies next to 3 across the seam";
}

TEST(CircleDiagnostics, WrappedCauchyOrderParameter)
{
  EXPECT_NEAR(sphere::wrapped_cauchy_order_parameter(0.3, 4.), 0.9185562220, 1e-10);
  EXPECT_NEAR(sphere::wrapped_cauchy_order_parameter(0.3, 8.), 0.9983083523, 1e-10);
}
