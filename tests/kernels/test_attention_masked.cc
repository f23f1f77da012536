// The masked kernel (solver/attention/masked.cc) as plain C++:
//  * point sources are the causal particle system of physics.md §1.7,
//    dx_i/dt = sum_{j <= i} softmax_j V x_j (tokens at s_i = i/n);
//  * on lines of Gauss nodes, a target inside a cell gets exactly the
//    integral of the nodal polynomial up to its s (here: linear in s);
//  * the base variant is chosen by `masked kernel`; sinkhorn and unknown
//    names are rejected naming the entry.
#include "attention/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

using namespace tpde;
using namespace tpde::attention;

namespace
{
  Parameters softmax_parameters(unsigned int d)
  {
    Parameters p;
    p.dim  = d;
    p.beta = 0.8;
    p.Q    = Matrix(d, d, 0.);
    p.K    = Matrix(d, d, 0.);
    p.V    = Matrix(d, d, 0.);
    for (unsigned int i = 0; i < d; ++i)
      for (unsigned int j = 0; j < d; ++j)
        {
          p.Q(i, j) = (i == j ? 1. : 0.3);
          p.K(i, j) = (i == j ? 0.9 : -0.2);
          p.V(i, j) = (i == j ? -1. : 0.1);
        }
    p.evaluation    = Parameters::Evaluation::direct;
    p.masked_kernel = "softmax";
    return p;
  }
} // namespace

TEST(MaskedKernel, PointSourcesAreTheCausalParticleSystem)
{
  for (unsigned int d = 1; d <= 2; ++d)
    {
      const Parameters p      = softmax_parameters(d);
      const auto       kernel = create("masked", p);
      ASSERT_EQ(kernel->dimension(), d + 1);
      const std::size_t           n = 200;
      std::mt19937                random(3);
      std::normal_distribution<> normal;
      std::vector<double>         points(n * (d + 1)), weights(n, 1. / n), velocities(n * (d + 1));
      for (std::size_t i = 0; i < n; ++i)
        {
          points[i * (d + 1)] = double(i + 1) / n;
          for (unsigned int c = 0; c < d; ++c)
            points[i * (d + 1) + 1 + c] = normal(random);
        }
      kernel->evaluate(n, points.data(), n, points.data(), weights.data(), velocities.data());
      double worst = 0, largest = 0;
      for (std::size_t i = 0; i < n; ++i)
        {
          const double     *x = &points[i * (d + 1) + 1];
          std::vector<long double> numerator(d, 0.);
          long double              denominator = 0;
          for (std::size_t j = 0; j <= i; ++j) // causal: j <= i
            {
              const double *y     = &points[j * (d + 1) + 1];
              long double   score = 0;
              for (unsigned int r = 0; r < d; ++r)
                for (unsigned int a = 0; a < d; ++a)
                  for (unsigned int b = 0; b < d; ++b)
                    score += p.beta * p.Q(r, a) * x[a] * p.K(r, b) * y[b];
              const long double e = std::exp(score);
              denominator += e;
              for (unsigned int c = 0; c < d; ++c)
                numerator[c] += e * y[c];
            }
          EXPECT_EQ(velocities[i * (d + 1)], 0.);
          for (unsigned int r = 0; r < d; ++r)
            {
              double X = 0;
              for (unsigned int c = 0; c < d; ++c)
                X += p.V(r, c) * double(numerator[c] / denominator);
              worst   = std::max(worst, std::abs(velocities[i * (d + 1) + 1 + r] - X));
              largest = std::max(largest, std::abs(X));
            }
        }
      std::printf("d = %u: masked point kernel vs causal particle sums %.2e (relative)\n", d, worst / largest);
      EXPECT_LE(worst, 1e-13 * largest);
    }
}

TEST(MaskedKernel, LinesIntegrateTheNodalPolynomialUpToTheTarget)
{
  // Two x-positions; one cell [0, 1] in s with 3 Gauss nodes; density
  // rho(s, y) = c_y (1 + 2 s) (linear: exact in the nodal polynomial). A
  // target at s sees weights c_y (s + s^2), so its velocity is the softmax
  // mean of the two positions with weights c_y: independent of s. The node
  // mask instead sees only the nodes below s.
  Parameters p   = softmax_parameters(1);
  p.V            = Matrix(1, 1, 1.);
  const auto k   = create("masked", p);
  const double g = std::sqrt(0.6);
  const double nodes[3] = {0.5 - 0.5 * g, 0.5, 0.5 + 0.5 * g}, gauss_weights[3] = {5. / 18, 8. / 18, 5. / 18};
  const double ys[2] = {-0.7, 1.1}, cs[2] = {0.3, 0.7};
  std::vector<double> sources, weights;
  for (int b = 0; b < 2; ++b)
    for (int a = 0; a < 3; ++a)
      {
        sources.insert(sources.end(), {nodes[a], ys[b]});
        weights.push_back(cs[b] * (1 + 2 * nodes[a]) * gauss_weights[a]);
      }
  const double lower[2] = {0., 0.}, upper[2] = {1., 1.};
  SourceLines  lines{3, nodes, lower, upper};
  const double x = 0.4;
  std::vector<double> targets = {0.05, x, 0.3, x, 0.5, x, 1.0, x, 0.0, x}, velocities(10, -1.);
  k->evaluate_on_lines(5, targets.data(), 6, sources.data(), weights.data(), lines, velocities.data());
  const double e0 = cs[0] * std::exp(p.beta * p.Q(0, 0) * p.K(0, 0) * x * ys[0]);
  const double e1 = cs[1] * std::exp(p.beta * p.Q(0, 0) * p.K(0, 0) * x * ys[1]);
  const double exact = (e0 * ys[0] + e1 * ys[1]) / (e0 + e1);
  for (int t = 0; t < 4; ++t)
    EXPECT_NEAR(velocities[2 * t + 1], exact, 1e-14) << "target s = " << targets[2 * t];
  EXPECT_EQ(velocities[9], 0.) << "no mass at or below s = 0";
  EXPECT_EQ(velocities[8], 0.);
}

TEST(MaskedKernel, BaseVariantIsChosenAndSinkhornRejected)
{
  Parameters p = softmax_parameters(2);
  for (const char *base : {"softmax", "l2", "unnormalized", "sigmoid"})
    {
      p.masked_kernel = base;
      EXPECT_EQ(create("masked", p)->dimension(), 3u) << base;
    }
  for (const char *base : {"sinkhorn", "masked", "cosine"})
    {
      p.masked_kernel = base;
      try
        {
          create("masked", p);
          ADD_FAILURE() << base << " accepted";
        }
      catch (const std::invalid_argument &e)
        {
          EXPECT_NE(std::string(e.what()).find("entry 'masked kernel'"), std::string::npos) << e.what();
        }
    }
  p.masked_kernel = "softmax";
  p.V             = Matrix(1, 1, 1.);
  EXPECT_THROW(create("masked", p), std::invalid_argument) << "the base variant checks its shapes";
}
