// The masked kernel (solver/attention/masked.cc) as plain C++:
//  * point sources are the causal particle system of physics.md §1.7,
//    dx_i/dt = sum_{j <= i} softmax_j V x_j (tokens at s_i = i/n), with
//    softmax and l2 as the base variant;
//  * on lines of Gauss nodes, a target inside a cell gets exactly the
//    integral of the nodal polynomial up to its s (here: linear in s, with
//    different slopes at the two x-positions);
//  * the base variant is chosen by `masked kernel`; sinkhorn and unknown
//    names are rejected naming the entry.
#include "attention/attention.h"
#include "support/masked_kernel_parameters.h"

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
    return tpde::testing::masked_kernel_parameters(d);
  }
} // namespace

TEST(MaskedKernel, PointSourcesAreTheCausalParticleSystem)
{
  for (const std::string base : {"softmax", "l2"})
    for (unsigned int d = 1; d <= 2; ++d)
      {
        Parameters p      = softmax_parameters(d);
        p.masked_kernel   = base;
        const auto kernel = create("masked", p);
        ASSERT_EQ(kernel->dimension(), d + 1);
        const std::size_t           n = 200;
        const std::vector<double>   points = tpde::testing::causal_tokens(n, d, 3);
        std::vector<double>         weights(n, 1. / n), velocities(n * (d + 1));
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
                  {
                    long double qx = 0, ky = 0;
                    for (unsigned int c = 0; c < d; ++c)
                      {
                        qx += p.Q(r, c) * x[c];
                        ky += p.K(r, c) * y[c];
                      }
                    // softmax: beta <Qx, Ky>; l2: -beta |Qx - Ky|^2
                    score += base == "l2" ? -p.beta * (qx - ky) * (qx - ky) : p.beta * qx * ky;
                  }
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
        std::printf("%s, d = %u: masked point kernel vs causal particle sums %.2e (relative)\n", base.c_str(), d,
                    worst / largest);
        EXPECT_LE(worst, 1e-13 * largest);
      }
}

TEST(MaskedKernel, LinesIntegrateTheNodalPolynomialUpToTheTarget)
{
  // Two x-positions y_b, one cell [0, 1] in s with 3 Gauss nodes, densities
  // linear in s (exact in the nodal polynomial): rho_0 = 1 + 2 s and
  // rho_1 = 3 - 2 s. A target at s sees the weights int_0^s rho_b, i.e.
  // s + s^2 and 3 s - s^2, whose ratio depends on s inside the cell.
  Parameters p = softmax_parameters(1);
  p.V          = Matrix(1, 1, 1.);
  const auto   kernel   = create("masked", p);
  const double g        = std::sqrt(0.6);
  const double nodes[3] = {0.5 - 0.5 * g, 0.5, 0.5 + 0.5 * g}, gauss_weights[3] = {5. / 18, 8. / 18, 5. / 18};
  const double ys[2]    = {-0.7, 1.1};
  const auto   rho      = [](int b, double s) { return b == 0 ? 1 + 2 * s : 3 - 2 * s; };
  const auto   below    = [](int b, double s) { return b == 0 ? s + s * s : 3 * s - s * s; };
  std::vector<double> sources, weights;
  for (int b = 0; b < 2; ++b)
    for (int a = 0; a < 3; ++a)
      {
        sources.insert(sources.end(), {nodes[a], ys[b]});
        weights.push_back(rho(b, nodes[a]) * gauss_weights[a]);
      }
  const double      lower[2] = {0., 0.}, upper[2] = {1., 1.};
  const SourceLines lines{3, nodes, lower, upper};
  const double      x          = 0.4;
  const double      positions[] = {0.05, 0.3, nodes[1], 0.9, 1.0, 0.0};
  std::vector<double> targets, velocities(12, -1.);
  for (const double s : positions)
    targets.insert(targets.end(), {s, x});
  kernel->evaluate_on_lines(6, targets.data(), 6, sources.data(), weights.data(), lines, velocities.data());
  for (int t = 0; t < 5; ++t)
    {
      const double s  = positions[t];
      const double e0 = below(0, s) * std::exp(p.beta * p.Q(0, 0) * p.K(0, 0) * x * ys[0]);
      const double e1 = below(1, s) * std::exp(p.beta * p.Q(0, 0) * p.K(0, 0) * x * ys[1]);
      EXPECT_NEAR(velocities[2 * t + 1], (e0 * ys[0] + e1 * ys[1]) / (e0 + e1), 1e-14) << "target s = " << s;
      EXPECT_EQ(velocities[2 * t], 0.);
    }
  EXPECT_EQ(velocities[11], 0.) << "no mass at or below s = 0";
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
