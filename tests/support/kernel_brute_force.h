// Long-double brute-force evaluations of the attention variants by their
// defining formulas (all pairs, no shifts beyond the maximum score, no SIMD,
// no fast summation), for tests that compare the kernels against them.
#pragma once

#include "attention/attention.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace tpde::testing
{
  /// Points (n x dim, row-major) and weights of a discrete measure.
  struct BruteForceInput
  {
    std::size_t         n_targets = 0, n_sources = 0;
    const double       *targets = nullptr, *sources = nullptr, *weights = nullptr;
  };

  /// <Q x, K y> in long double.
  inline long double exact_bilinear(const Matrix &Q, const Matrix &K, const double *x, const double *y)
  {
    long double score = 0;
    for (std::size_t r = 0; r < Q.rows; ++r)
      {
        long double qx = 0, ky = 0;
        for (std::size_t i = 0; i < Q.cols; ++i)
          {
            qx += static_cast<long double>(Q(r, i)) * x[i];
            ky += static_cast<long double>(K(r, i)) * y[i];
          }
        score += qx * ky;
      }
    return score;
  }

  /// |Q x - K y|^2 in long double.
  inline long double exact_distance_squared(const Matrix &Q, const Matrix &K, const double *x, const double *y)
  {
    long double distance = 0;
    for (std::size_t r = 0; r < Q.rows; ++r)
      {
        long double difference = 0;
        for (std::size_t i = 0; i < Q.cols; ++i)
          difference += static_cast<long double>(Q(r, i)) * x[i] - static_cast<long double>(K(r, i)) * y[i];
        distance += difference * difference;
      }
    return distance;
  }

  /// V * sum_j w_j exp(log_weight(t, j)) y_j / (normalised ? sum_j w_j exp(..) : sum_j w_j)
  /// for every target t, in long double; zero weights are skipped. The
  /// exponentials are shifted by their maximum per target (normalised only).
  template <typename LogWeight>
  std::vector<long double> exact_weighted_means(unsigned int dim, const Matrix &V, const BruteForceInput &in,
                                                bool normalised, const LogWeight &log_weight)
  {
    long double total = 0;
    for (std::size_t j = 0; j < in.n_sources; ++j)
      total += in.weights[j];
    std::vector<long double> velocities(in.n_targets * dim, 0.L), log_w(in.n_sources);
    for (std::size_t t = 0; t < in.n_targets; ++t)
      {
        long double maximum = normalised ? -std::numeric_limits<long double>::infinity() : 0.L;
        for (std::size_t j = 0; j < in.n_sources; ++j)
          if (in.weights[j] > 0)
            {
              log_w[j] = log_weight(t, j) + std::log(static_cast<long double>(in.weights[j]));
              if (normalised)
                maximum = std::max(maximum, log_w[j]);
            }
        long double              denominator = normalised ? 0.L : total;
        std::vector<long double> numerator(dim, 0.L);
        for (std::size_t j = 0; j < in.n_sources; ++j)
          if (in.weights[j] > 0)
            {
              const long double e = std::exp(log_w[j] - maximum);
              if (normalised)
                denominator += e;
              for (unsigned int i = 0; i < dim; ++i)
                numerator[i] += e * in.sources[j * dim + i];
            }
        for (unsigned int p = 0; p < dim; ++p)
          for (unsigned int q = 0; q < dim; ++q)
            velocities[t * dim + p] += static_cast<long double>(V(p, q)) * numerator[q] / denominator;
      }
    return velocities;
  }

  /// Long-double log-domain Sinkhorn potentials g on the sources for the
  /// score (beta / epsilon) <Qy_i, Ky_j> (sinkhorn.h), iterated until g
  /// changes by less than 1e-17 (or 100000 sweeps).
  inline std::vector<long double> exact_sinkhorn_potential(const attention::Parameters &p, const BruteForceInput &in)
  {
    const std::size_t n = in.n_sources;
    long double       total = 0;
    for (std::size_t j = 0; j < n; ++j)
      total += in.weights[j];
    std::vector<long double> score(n * n), log_p(n), f(n), g(n, 0.L);
    for (std::size_t i = 0; i < n; ++i)
      {
        log_p[i] = in.weights[i] > 0 ? std::log(in.weights[i] / total) : -std::numeric_limits<long double>::infinity();
        for (std::size_t j = 0; j < n; ++j)
          score[i * n + j] = p.beta / p.sinkhorn_epsilon *
                             exact_bilinear(p.Q, p.K, &in.sources[i * p.dim], &in.sources[j * p.dim]);
      }
    // h_i = -log sum_j p_j exp(s(i, j) + other_j), over the sources with p_j > 0.
    const auto update = [&](const std::vector<long double> &other, bool transposed, std::vector<long double> &h) {
      for (std::size_t i = 0; i < n; ++i)
        {
          long double maximum = -std::numeric_limits<long double>::infinity(), sum = 0;
          for (std::size_t j = 0; j < n; ++j)
            if (in.weights[j] > 0)
              maximum = std::max(maximum, log_p[j] + (transposed ? score[j * n + i] : score[i * n + j]) + other[j]);
          for (std::size_t j = 0; j < n; ++j)
            if (in.weights[j] > 0)
              sum += std::exp(log_p[j] + (transposed ? score[j * n + i] : score[i * n + j]) + other[j] - maximum);
          h[i] = -(maximum + std::log(sum));
        }
    };
    for (int sweep = 0; sweep < 100000; ++sweep)
      {
        const std::vector<long double> previous = g;
        update(g, false, f);
        update(f, true, g);
        long double change = 0;
        for (std::size_t j = 0; j < n; ++j)
          change = std::max(change, std::fabs(g[j] - previous[j]));
        if (change < 1e-17L)
          break;
      }
    return g;
  }

  /// The velocities of variant `name` by its definition (attention.h and the
  /// variants' files), n_targets x dimension in long double. Throws
  /// std::invalid_argument for a variant without a brute force here.
  inline std::vector<long double> brute_force_velocities(const std::string           &name,
                                                         const attention::Parameters &p,
                                                         const BruteForceInput       &in)
  {
    const unsigned int d = p.dim;
    const auto pair = [&](std::size_t t, std::size_t j) {
      return std::pair<const double *, const double *>{&in.targets[t * d], &in.sources[j * d]};
    };
    const auto bilinear = [&](const Matrix &Q, const Matrix &K, long double beta) {
      return [&, beta](std::size_t t, std::size_t j) {
        const auto [x, y] = pair(t, j);
        return beta * exact_bilinear(Q, K, x, y);
      };
    };
    if (name == "softmax")
      return exact_weighted_means(d, p.V, in, true, bilinear(p.Q, p.K, p.beta));
    if (name == "unnormalized")
      return exact_weighted_means(d, p.V, in, false, bilinear(p.Q, p.K, p.beta));
    if (name == "l2")
      return exact_weighted_means(d, p.V, in, true, [&](std::size_t t, std::size_t j) {
        const auto [x, y] = pair(t, j);
        return -p.beta * exact_distance_squared(p.Q, p.K, x, y);
      });
    if (name == "sigmoid")
      return exact_weighted_means(d, p.V, in, false, [&](std::size_t t, std::size_t j) {
        const auto [x, y] = pair(t, j);
        const long double z = p.beta * exact_bilinear(p.Q, p.K, x, y) + p.bias;
        return -std::log1p(std::exp(-z)); // log sigma(z)
      });
    if (name == "multihead")
      {
        std::vector<long double> sum(in.n_targets * d, 0.L);
        for (const attention::Parameters::Head &head : p.heads)
          {
            const auto v = exact_weighted_means(d, head.C, in, true, bilinear(head.Q, head.K, head.beta));
            for (std::size_t k = 0; k < sum.size(); ++k)
              sum[k] += v[k];
          }
        return sum;
      }
    if (name == "sinkhorn")
      {
        const std::vector<long double> g = exact_sinkhorn_potential(p, in);
        return exact_weighted_means(d, p.V, in, true, [&](std::size_t t, std::size_t j) {
          const auto [x, y] = pair(t, j);
          return p.beta / p.sinkhorn_epsilon * exact_bilinear(p.Q, p.K, x, y) + g[j];
        });
      }
    if (name == "masked")
      {
        // Points (s, x); target t sees the sources with s_j <= s_t; velocity (0, X_base).
        const unsigned int       D = d + 1;
        std::vector<long double> velocities(in.n_targets * D, 0.L);
        std::vector<double>      x(D - 1), xs, ws;
        for (std::size_t t = 0; t < in.n_targets; ++t)
          {
            xs.clear();
            ws.clear();
            for (std::size_t j = 0; j < in.n_sources; ++j)
              if (in.sources[j * D] <= in.targets[t * D])
                {
                  xs.insert(xs.end(), &in.sources[j * D + 1], &in.sources[j * D + D]);
                  ws.push_back(in.weights[j]);
                }
            if (std::none_of(ws.begin(), ws.end(), [](double w) { return w > 0; }))
              continue;
            const BruteForceInput prefix{1, ws.size(), &in.targets[t * D + 1], xs.data(), ws.data()};
            const auto            v = brute_force_velocities(p.masked_kernel, p, prefix);
            std::copy(v.begin(), v.end(), &velocities[t * D + 1]);
          }
        return velocities;
      }
    throw std::invalid_argument("no brute force for attention variant '" + name +
                                "': add its formula to tests/support/kernel_brute_force.h");
  }
} // namespace tpde::testing
