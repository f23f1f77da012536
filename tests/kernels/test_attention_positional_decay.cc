// Masked attention with positional decay lambda (solver/attention/masked.cc,
// physics.md §4.3): the source at s' <= s weighs
// k_lambda(s, s') = lambda e^{-lambda (s - s')} / (1 - e^{-lambda s}).
//  * point sources (tokens at s_j = j/N): the brute-force ALiBi sums
//    sum_{k <= j} e^{-lambda (j - k)/N} (...) / Z_j for the softmax,
//    unnormalized and sigmoid bases;
//  * lines of Gauss nodes: the prefix weight of each x-position is
//    int_0^s rho(s', y) e^{-lambda (s - s')} ds' exactly (closed form for
//    densities linear in s), over two cells and inside the target's cell;
//  * lambda = 0 is the plain mask bitwise; lambda = 1e-9 differs from it
//    only at that order;
//  * a negative or infinite lambda is refused by the kernel.
#include "attention/attention.h"
#include "support/masked_kernel_parameters.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using namespace tpde;
using namespace tpde::attention;

namespace
{
  Parameters base_parameters(unsigned int d, const std::string &base, double decay)
  {
    Parameters p       = tpde::testing::masked_kernel_parameters(d);
    p.bias             = -0.3;
    p.masked_kernel    = base;
    p.positional_decay = decay;
    return p;
  }

  /// The weight of a source in the base variant's sum, up to the
  /// normalisation: e^{score} or sigma(score + bias).
  long double base_weight(const std::string &base, const Parameters &p, const double *x, const double *y)
  {
    long double score = 0;
    for (unsigned int r = 0; r < p.dim; ++r)
      {
        long double qx = 0, ky = 0;
        for (unsigned int c = 0; c < p.dim; ++c)
          {
            qx += p.Q(r, c) * x[c];
            ky += p.K(r, c) * y[c];
          }
        score += p.beta * qx * ky;
      }
    return base == "sigmoid" ? 1 / (1 + std::exp(-(score + p.bias))) : std::exp(score);
  }

  /// V times (sum_j c_j b_j y_j) / (softmax: sum_j c_j b_j; else sum_j c_j),
  /// c_j the positional weights and b_j the base weights.
  std::vector<double> brute_force(const std::string &base, const Parameters &p, const double *x,
                                  const std::vector<const double *> &y, const std::vector<long double> &c)
  {
    const unsigned int       d = p.dim;
    std::vector<long double> numerator(d, 0.);
    long double              denominator = 0;
    for (std::size_t j = 0; j < y.size(); ++j)
      {
        const long double b = base_weight(base, p, x, y[j]);
        denominator += base == "softmax" ? c[j] * b : c[j];
        for (unsigned int r = 0; r < d; ++r)
          numerator[r] += c[j] * b * y[j][r];
      }
    std::vector<double> X(d, 0.);
    for (unsigned int r = 0; r < d; ++r)
      for (unsigned int k = 0; k < d; ++k)
        X[r] += p.V(r, k) * double(numerator[k] / denominator);
    return X;
  }
} // namespace

TEST(PositionalDecay, PointSourcesAreTheAlibiParticleSystem)
{
  const std::size_t n = 150;
  for (const std::string base : {"softmax", "unnormalized", "sigmoid"})
    for (unsigned int d = 1; d <= 2; ++d)
      for (const double lambda : {0.7, 6.})
        {
          const Parameters p      = base_parameters(d, base, lambda);
          const auto       kernel = create("masked", p);
          const std::vector<double> points = tpde::testing::causal_tokens(n, d, 5 + d);
          std::vector<double>       weights(n, 1. / n), velocities(n * (d + 1));
          kernel->evaluate(n, points.data(), n, points.data(), weights.data(), velocities.data());
          double worst = 0, largest = 0;
          for (std::size_t i = 0; i < n; ++i)
            {
              std::vector<const double *> y;
              std::vector<long double>    c;
              for (std::size_t k = 0; k <= i; ++k)
                {
                  y.push_back(&points[k * (d + 1) + 1]);
                  c.push_back(std::exp(-(long double)lambda * (long double)(i - k) / n));
                }
              const auto X = brute_force(base, p, &points[i * (d + 1) + 1], y, c);
              EXPECT_EQ(velocities[i * (d + 1)], 0.);
              for (unsigned int r = 0; r < d; ++r)
                {
                  worst   = std::max(worst, std::abs(velocities[i * (d + 1) + 1 + r] - X[r]));
                  largest = std::max(largest, std::abs(X[r]));
                }
            }
          std::printf("%s, d = %u, lambda = %g: tokens vs ALiBi sums %.2e (relative)\n", base.c_str(), d, lambda,
                      worst / largest);
          EXPECT_LE(worst, 1e-13 * largest);
        }
}

TEST(PositionalDecay, LinesIntegrateTheDecayedPolynomialExactly)
{
  // Two x-positions, two cells [0, 1/2], [1/2, 1] in s with 3 Gauss nodes,
  // densities linear in s: rho_0 = 1 + 2 s, rho_1 = 3 - 2 s. A target at s
  // sees W_b(s) = int_0^s rho_b(s') e^{-lambda (s - s')} ds'.
  const double g = std::sqrt(0.6), nodes[3] = {0.5 - 0.5 * g, 0.5, 0.5 + 0.5 * g};
  const double gauss_weights[3] = {5. / 18, 8. / 18, 5. / 18}, ys[2] = {-0.7, 1.1};
  const auto   rho = [](int b, long double s) { return b == 0 ? 1 + 2 * s : 3 - 2 * s; };
  // int_0^s (alpha + beta s') e^{-lambda (s - s')} ds', u = s - s'.
  const auto W = [](int b, long double s, long double lambda) {
    const long double alpha = b == 0 ? 1 : 3, slope = b == 0 ? 2 : -2, e = std::exp(-lambda * s);
    return (alpha + slope * s) * (1 - e) / lambda - slope * (1 - e * (1 + lambda * s)) / (lambda * lambda);
  };
  std::vector<double> sources, weights;
  for (int b = 0; b < 2; ++b)
    for (int cell = 0; cell < 2; ++cell)
      for (int a = 0; a < 3; ++a)
        {
          const double s = 0.5 * (cell + nodes[a]);
          sources.insert(sources.end(), {s, ys[b]});
          weights.push_back(rho(b, s) * gauss_weights[a] * 0.5);
        }
  const double      lower[4] = {0., 0.5, 0., 0.5}, upper[4] = {0.5, 1., 0.5, 1.};
  const SourceLines lines{3, nodes, lower, upper};
  const double      positions[] = {0.05, 0.3, 0.5, 0.5 + 0.25 * nodes[0], 0.77, 1.0};
  for (const std::string base : {"softmax", "unnormalized"})
    for (const double lambda : {0.4, 5., 60.})
      {
        const Parameters    p = base_parameters(1, base, lambda);
        const auto          kernel = create("masked", p);
        const double        x      = 0.4;
        std::vector<double> targets, velocities(12, -1.);
        for (const double s : positions)
          targets.insert(targets.end(), {s, x});
        kernel->evaluate_on_lines(6, targets.data(), 12, sources.data(), weights.data(), lines, velocities.data());
        double worst = 0;
        for (int t = 0; t < 6; ++t)
          {
            const std::vector<const double *> y = {&ys[0], &ys[1]};
            const std::vector<long double>    c = {W(0, positions[t], lambda), W(1, positions[t], lambda)};
            const auto                        X = brute_force(base, p, &x, y, c);
            worst = std::max(worst, std::abs(velocities[2 * t + 1] - X[0]) / std::abs(X[0]));
            EXPECT_EQ(velocities[2 * t], 0.);
          }
        std::printf("%s, lambda = %g: lines vs exact decayed prefix integrals %.2e (relative)\n", base.c_str(),
                    lambda, worst);
        EXPECT_LE(worst, 1e-13);
      }
}

TEST(PositionalDecay, ZeroIsThePlainMaskAndTheLimitIsContinuous)
{
  const std::size_t n = 80, d = 1;
  const std::vector<double> points = tpde::testing::causal_tokens(n, d, 11);
  std::vector<double>       weights(n, 1. / n);
  const auto velocity = [&](double lambda) {
    std::vector<double> v(n * (d + 1));
    create("masked", base_parameters(d, "softmax", lambda))
      ->evaluate(n, points.data(), n, points.data(), weights.data(), v.data());
    return v;
  };
  Parameters plain = base_parameters(d, "softmax", 0.);
  std::vector<double> v_plain(n * (d + 1));
  plain.positional_decay = Parameters{}.positional_decay; // the default
  create("masked", plain)->evaluate(n, points.data(), n, points.data(), weights.data(), v_plain.data());
  const auto zero = velocity(0.), tiny = velocity(1e-9);
  double     difference = 0;
  for (std::size_t i = 0; i < zero.size(); ++i)
    {
      EXPECT_EQ(zero[i], v_plain[i]);
      difference = std::max(difference, std::abs(tiny[i] - zero[i]));
    }
  std::printf("lambda = 1e-9 vs 0: max velocity difference %.1e\n", difference);
  EXPECT_LE(difference, 1e-8);
}

TEST(PositionalDecay, NegativeOrInfiniteDecayIsRefused)
{
  for (const double lambda : {-0.5, std::numeric_limits<double>::infinity(), std::nan("")})
    EXPECT_THROW(create("masked", base_parameters(1, "softmax", lambda)), std::invalid_argument) << lambda;
}
