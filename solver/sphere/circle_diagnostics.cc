#include "sphere/circle_diagnostics.h"

#include <algorithm>
#include <cmath>

namespace tpde::sphere
{
  EnergySums energy_sums(double beta, std::size_t n_targets, const double *target_theta,
                         const double *target_weights, const double *target_speed, std::size_t n_sources,
                         const double *source_theta, const double *source_weights)
  {
    std::vector<double> c(n_sources), s(n_sources);
    for (std::size_t j = 0; j < n_sources; ++j)
      {
        c[j] = std::cos(source_theta[j]);
        s[j] = std::sin(source_theta[j]);
      }
    EnergySums sums;
    // beta = 0: the pair term <x_i, x_j> sums to <x_i, m> and Z_i to the
    // sources' mass, so no pair loop.
    double m[2] = {0, 0}, mass = 0;
    if (beta == 0)
      for (std::size_t j = 0; j < n_sources; ++j)
        {
          m[0] += source_weights[j] * c[j];
          m[1] += source_weights[j] * s[j];
          mass += source_weights[j];
        }
    for (std::size_t i = 0; i < n_targets; ++i)
      {
        const double ci = std::cos(target_theta[i]), si = std::sin(target_theta[i]);
        // pair: sum_j w_j g(<x_i, x_j>), g(t) = e^{beta t} / beta or t
        double Z = mass, pair = ci * m[0] + si * m[1];
        if (beta > 0)
          {
            Z = 0;
            for (std::size_t j = 0; j < n_sources; ++j)
              Z += source_weights[j] * std::exp(beta * (ci * c[j] + si * s[j]));
            pair = Z / beta;
          }
        const double w = target_weights[i], v2 = target_speed[i] * target_speed[i];
        sums.energy += 0.5 * w * pair;
        sums.rate_unnormalized += w * v2;
        sums.rate_softmax += w * v2 * Z;
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
