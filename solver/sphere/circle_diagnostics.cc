#include "sphere/circle_diagnostics.h"

#include "sphere/circle_chart.h"
#include "sphere/circle_fourier.h"

#include <algorithm>
#include <cmath>

namespace tpde::sphere
{

  EnergySums energy_sums(double beta, std::size_t n_targets, const double *target_theta,
                         const double *target_weights, const double *target_speed, std::size_t n_sources,
                         const double *source_theta, const double *source_weights)
  {
    // Z_i = sum_j w_j e^{beta cos(theta_i - phi_j)} is zonal (radius beta,
    // phase 0): Fourier sums, and direct sums at the targets where their
    // rounding exceeds 1e-12 Z_i (circle_fourier.h). beta <= 0: pair_i =
    // <x_i, m> with m = sum_j w_j x_j, and Z_i = the total weight.
    std::vector<double> Z(n_targets), pair(n_targets);
    if (beta > 0)
      {
        // Scaled by e^{-beta} like the Fourier sums.
        const auto direct = [&](std::size_t i) {
          double sum = 0;
          for (std::size_t j = 0; j < n_sources; ++j)
            sum += source_weights[j] * std::exp(beta * (std::cos(target_theta[i] - source_theta[j]) - 1));
          return sum;
        };
        if (fourier_modes(beta) <= max_fourier_modes)
          {
            const ZonalSums sums(ZonalScore{beta, 0}, n_sources, source_theta, source_weights, false);
            sums.evaluate(n_targets, target_theta, Z.data(), nullptr);
            for (std::size_t i = 0; i < n_targets; ++i)
              if (!(sums.error_bound() <= 1e-12 * Z[i]))
                Z[i] = direct(i);
          }
        else
          for (std::size_t i = 0; i < n_targets; ++i)
            Z[i] = direct(i);
        const double scale = std::exp(beta);
        for (std::size_t i = 0; i < n_targets; ++i)
          {
            Z[i] *= scale;
            pair[i] = Z[i] / beta;
          }
      }
    else
      {
        double m[2] = {0, 0}, total = 0;
        for (std::size_t j = 0; j < n_sources; ++j)
          {
            double y[2];
            circle_point(source_theta[j], y);
            m[0] += source_weights[j] * y[0];
            m[1] += source_weights[j] * y[1];
            total += source_weights[j];
          }
        for (std::size_t i = 0; i < n_targets; ++i)
          {
            double x[2];
            circle_point(target_theta[i], x);
            pair[i] = x[0] * m[0] + x[1] * m[1];
            Z[i]    = total;
          }
      }
    EnergySums sums;
    for (std::size_t i = 0; i < n_targets; ++i)
      {
        const double w = target_weights[i], v2 = target_speed[i] * target_speed[i];
        sums.energy += 0.5 * w * pair[i];
        sums.rate_unnormalized += w * v2;
        sums.rate_softmax += w * v2 * Z[i];
      }
    return sums;
  }

  void add_mode_sums(unsigned int modes, std::size_t n, const double *theta, const double *weights, double *sums)
  {
    for (std::size_t i = 0; i < n; ++i)
      for (unsigned int k = 1; k <= modes; ++k)
        {
          sums[2 * (k - 1)] += weights[i] * std::cos(k * theta[i]);
          sums[2 * (k - 1) + 1] += weights[i] * std::sin(k * theta[i]);
        }
  }

  unsigned int count_clusters(const std::vector<double> &values, double fraction)
  {
    const std::size_t n = values.size();
    if (n == 0)
      return 0;
    const double top = *std::max_element(values.begin(), values.end());
    if (!(top > 0))
      return 0;
    if (std::all_of(values.begin(), values.end(), [&](double v) { return v == top; }))
      return 1;
    unsigned int count = 0;
    for (std::size_t i = 0; i < n; ++i)
      {
        const double v = values[i];
        if (v < fraction * top || values[(i + n - 1) % n] == v)
          continue; // below the threshold, or not the first point of a plateau
        std::size_t right = (i + 1) % n;
        while (values[right] == v)
          right = (right + 1) % n; // ends: not all values are equal
        if (values[(i + n - 1) % n] < v && values[right] < v)
          ++count;
      }
    return count;
  }

  std::vector<double> smoothed_histogram(std::size_t n, const double *theta, const double *weights,
                                         unsigned int bins, double bandwidth)
  {
    const double        width = 2 * M_PI / bins;
    std::vector<double> histogram(bins, 0.), smoothed(bins, 0.), kernel(bins);
    for (std::size_t i = 0; i < n; ++i)
      {
        const auto b = static_cast<unsigned int>(theta[i] / width);
        histogram[std::min(b, bins - 1)] += weights[i];
      }
    // The Gaussian at d bins, summed over three images of the period: with
    // bandwidth <= pi / 2 the others are below e^{-8} of the peak.
    double total = 0;
    for (unsigned int d = 0; d < bins; ++d)
      {
        kernel[d] = 0;
        for (int image = -1; image <= 1; ++image)
          {
            const double gap = d * width + image * 2 * M_PI;
            kernel[d] += std::exp(-gap * gap / (2 * bandwidth * bandwidth));
          }
        total += kernel[d];
      }
    for (unsigned int a = 0; a < bins; ++a)
      for (unsigned int b = 0; b < bins; ++b)
        smoothed[a] += histogram[b] * kernel[(a + bins - b) % bins];
    for (double &value : smoothed)
      value /= total * width; // kernel of unit mass; per radian
    return smoothed;
  }

  double wrapped_cauchy_order_parameter(double r0, double t)
  {
    const double growth = r0 * r0 * std::exp(t);
    return std::sqrt(growth / (1 - r0 * r0 + growth));
  }
} // namespace tpde::sphere
