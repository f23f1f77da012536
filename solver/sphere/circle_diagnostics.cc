#include "sphere/circle_diagnostics.h"

#include <algorithm>
#include <cmath>
#include <complex>

namespace tpde::sphere
{
  namespace
  {
    /// e^{-beta} I_k(beta) for k = 0..K (beta > 0): Miller's backward
    /// recurrence I_{k-1} = I_{k+1} + (2k / beta) I_k from far above K,
    /// normalised by e^beta = I_0 + 2 sum_{k >= 1} I_k.
    std::vector<double> scaled_bessel(double beta, unsigned int K)
    {
      const unsigned int  start = 2 * K + 30;
      std::vector<double> t(start + 2, 0.);
      t[start] = 1;
      for (unsigned int k = start; k >= 1; --k)
        {
          t[k - 1] = t[k + 1] + 2. * k / beta * t[k];
          if (t[k - 1] > 1e250) // rescale; the far entries may underflow harmlessly
            for (unsigned int j = k - 1; j <= start; ++j)
              t[j] *= 1e-250;
        }
      double total = t[0];
      for (unsigned int k = 1; k <= start; ++k)
        total += 2 * t[k];
      t.resize(K + 1);
      for (double &value : t)
        value /= total;
      return t;
    }

    /// Z_i = sum_j w_j e^{beta cos(theta_i - theta_j)} for beta > 0, by
    /// direct sums or, when it is cheaper, by the expansion e^{beta cos phi} =
    /// I_0(beta) + 2 sum_k I_k(beta) cos(k phi), cut where e^{-beta} I_k(beta)
    /// is below 1e-17 (k > beta + 10 sqrt(beta) + 25 is safely past that).
    std::vector<double> partition_sums(double beta, std::size_t n_targets, const double *target_theta,
                                       std::size_t n_sources, const double *source_theta,
                                       const double *source_weights)
    {
      std::vector<double> Z(n_targets, 0.);
      const auto          K = static_cast<unsigned int>(std::ceil(beta + 10 * std::sqrt(beta) + 25));
      if (double(n_targets + n_sources) * (K + 1) >= double(n_targets) * double(n_sources))
        {
          for (std::size_t i = 0; i < n_targets; ++i)
            for (std::size_t j = 0; j < n_sources; ++j)
              Z[i] += source_weights[j] * std::exp(beta * std::cos(target_theta[i] - source_theta[j]));
          return Z;
        }
      const std::vector<double> a = scaled_bessel(beta, K);
      // The sources' Fourier sums C_k + i S_k = sum_j w_j e^{i k theta_j} (k = 0..K).
      std::vector<std::complex<double>> moment(K + 1, 0.);
      for (std::size_t j = 0; j < n_sources; ++j)
        {
          const std::complex<double> step = std::polar(1., source_theta[j]);
          std::complex<double>       power(source_weights[j], 0.);
          for (unsigned int k = 0; k <= K; ++k, power *= step)
            moment[k] += power;
        }
      for (std::size_t i = 0; i < n_targets; ++i)
        {
          // Re(conj(e^{ik theta_i}) moment_k) = C_k cos k theta_i + S_k sin k theta_i
          const std::complex<double> step = std::polar(1., -target_theta[i]);
          std::complex<double>       power = step;
          double                     sum   = a[0] * moment[0].real();
          for (unsigned int k = 1; k <= K; ++k, power *= step)
            sum += 2 * a[k] * (power * moment[k]).real();
          Z[i] = std::exp(beta) * sum;
        }
      return Z;
    }
  } // namespace

  EnergySums energy_sums(double beta, std::size_t n_targets, const double *target_theta,
                         const double *target_weights, const double *target_speed, std::size_t n_sources,
                         const double *source_theta, const double *source_weights)
  {
    // beta = 0: the pair term <x_i, x_j> sums to <x_i, m> and Z_i to the
    // sources' mass, so no pair loop.
    double m[2] = {0, 0}, mass = 0;
    if (beta == 0)
      for (std::size_t j = 0; j < n_sources; ++j)
        {
          m[0] += source_weights[j] * std::cos(source_theta[j]);
          m[1] += source_weights[j] * std::sin(source_theta[j]);
          mass += source_weights[j];
        }
    std::vector<double> Z;
    if (beta > 0)
      Z = partition_sums(beta, n_targets, target_theta, n_sources, source_theta, source_weights);
    EnergySums sums;
    for (std::size_t i = 0; i < n_targets; ++i)
      {
        // pair: sum_j w_j g(<x_i, x_j>), g(t) = e^{beta t} / beta or t
        const double Zi   = beta > 0 ? Z[i] : mass;
        const double pair = beta > 0 ? Zi / beta : std::cos(target_theta[i]) * m[0] + std::sin(target_theta[i]) * m[1];
        const double w = target_weights[i], v2 = target_speed[i] * target_speed[i];
        sums.energy += 0.5 * w * pair;
        sums.rate_unnormalized += w * v2;
        sums.rate_softmax += w * v2 * Zi;
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
