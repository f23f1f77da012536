#include "sphere/surface_diagnostics.h"

#include "sphere/circle_diagnostics.h"
#include "sphere/sphere_harmonics.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tpde::sphere
{
  EnergySums ambient_energy_sums(unsigned int dimension, double beta, std::size_t n_targets, const double *targets,
                                 const double *target_weights, const double *target_speed2, std::size_t n_sources,
                                 const double *sources, const double *source_weights)
  {
    // beta = 0: g(t) = t is linear, so sum_j w_j <x_i, y_j> = <x_i, m> with
    // m = sum_j w_j y_j: no pair loop (a particle run sums over N^2 pairs).
    double              total = 0;
    std::vector<double> m(dimension, 0.);
    for (std::size_t j = 0; j < n_sources; ++j)
      {
        total += source_weights[j];
        for (unsigned int c = 0; c < dimension; ++c)
          m[c] += source_weights[j] * sources[j * dimension + c];
      }
    // Z_i = sum_j w_j e^{beta <x_i, y_j>} (beta = 0: the total weight). A
    // particle run passes its tokens as both targets and sources: the
    // exponential of a pair then serves both of its points (half the cost).
    std::vector<double> Z(n_targets, total);
    if (beta > 0 && dimension == 3 && harmonic_degree(beta, 1e-12) <= max_harmonic_degree)
      {
        // S^2: Z is zonal (sphere_harmonics.h), the targets the harmonic sums
        // do not resolve to 1e-12 Z_i summed directly (as on the circle).
        const HarmonicSums  harmonics(beta, 1e-12, n_sources, sources, source_weights);
        std::vector<double> mean(3 * n_targets);
        harmonics.evaluate(n_targets, targets, Z.data(), mean.data());
        const double scale = std::exp(beta);
        for (std::size_t i = 0; i < n_targets; ++i)
          {
            if (harmonics.error_bound() <= 1e-12 * Z[i])
              {
                Z[i] *= scale;
                continue;
              }
            Z[i] = 0;
            for (std::size_t j = 0; j < n_sources; ++j)
              Z[i] += source_weights[j] * std::exp(beta * (targets[3 * i] * sources[3 * j] +
                                                           targets[3 * i + 1] * sources[3 * j + 1] +
                                                           targets[3 * i + 2] * sources[3 * j + 2]));
          }
      }
    else if (beta > 0)
      {
        const bool same = targets == sources && n_targets == n_sources;
        std::fill(Z.begin(), Z.end(), 0.);
        for (std::size_t i = 0; i < n_targets; ++i)
          for (std::size_t j = same ? i : 0; j < n_sources; ++j)
            {
              double t = 0;
              for (unsigned int c = 0; c < dimension; ++c)
                t += targets[i * dimension + c] * sources[j * dimension + c];
              const double e = std::exp(beta * t);
              Z[i] += source_weights[j] * e;
              if (same && j != i)
                Z[j] += source_weights[i] * e;
            }
      }
    EnergySums sums;
    for (std::size_t i = 0; i < n_targets; ++i)
      {
        // pair: sum_j w_j g(<x_i, y_j>) with g(t) = e^{beta t} / beta, or t at beta = 0
        double pair = beta > 0 ? Z[i] / beta : 0.;
        if (!(beta > 0))
          for (unsigned int c = 0; c < dimension; ++c)
            pair += targets[i * dimension + c] * m[c];
        const double w = target_weights[i];
        sums.energy += 0.5 * w * pair;
        sums.rate_unnormalized += w * target_speed2[i];
        sums.rate_softmax += w * target_speed2[i] * Z[i];
      }
    return sums;
  }

  void add_harmonic_sums(unsigned int degrees, std::size_t n, const double *x, const double *weights, double *sums)
  {
    if (degrees == 0)
      return;
    // Normalisation sqrt((2l+1)/(4 pi) (l-m)!/(l+m)!) (times sqrt 2 for m > 0), per (l, m).
    std::vector<double> norm((degrees + 1) * (degrees + 1));
    for (unsigned int l = 0; l <= degrees; ++l)
      for (unsigned int m = 0; m <= l; ++m)
        {
          double ratio = 1; // (l-m)! / (l+m)!
          for (unsigned int k = l - m + 1; k <= l + m; ++k)
            ratio /= k;
          norm[l * (degrees + 1) + m] = std::sqrt((2. * l + 1) / (4 * M_PI) * ratio) * (m > 0 ? std::sqrt(2.) : 1.);
        }
    // Q_l^m(z) = P_l^m(z) / sin^m(theta) is a polynomial in z; the factor
    // sin^m(theta) e^{i m phi} is (x + i y)^m, so no angle is ever computed.
    for (std::size_t i = 0; i < n; ++i)
      {
        const double *p = x + 3 * i;
        const double  w = weights[i], z = p[2];
        double        re = 1, im = 0; // (x + i y)^m
        double        q_mm = 1;       // Q_m^m = (2m - 1)!!
        for (unsigned int m = 0; m <= degrees; ++m)
          {
            if (m > 0)
              {
                const double r = re * p[0] - im * p[1];
                im             = re * p[1] + im * p[0];
                re             = r;
                q_mm *= 2. * m - 1;
              }
            double q_lm2 = 0, q_lm1 = 0; // Q_{l-2}^m, Q_{l-1}^m
            for (unsigned int l = m; l <= degrees; ++l)
              {
                const double q_l =
                  l == m ? q_mm : ((2. * l - 1) * z * q_lm1 - (l + m - 1.) * q_lm2) / (l - m);
                q_lm2 = q_lm1;
                q_lm1 = q_l;
                if (l == 0)
                  continue;
                double *s = sums + (l * l - 1); // degree l's 2l+1 sums
                const double a = w * norm[l * (degrees + 1) + m] * q_l;
                if (m == 0)
                  s[0] += a;
                else
                  {
                    s[2 * m - 1] += a * re;
                    s[2 * m] += a * im;
                  }
              }
          }
      }
  }

  double harmonic_amplitude(unsigned int l, const double *degree_sums)
  {
    double sum = 0;
    for (unsigned int m = 0; m < 2 * l + 1; ++m)
      sum += degree_sums[m] * degree_sums[m];
    return std::sqrt(4 * M_PI / (2. * l + 1) * sum);
  }

  double poisson_mean(double r)
  {
    if (r < 1e-3) // the closed form cancels; its series: 4r/3 - 4r^3/15 + ...
      return 4 * r / 3 - 4 * r * r * r / 15 + 4 * std::pow(r, 5) / 35;
    return (1 + r * r) / (2 * r) + std::pow(1 - r * r, 2) / (4 * r * r) * std::log((1 - r) / (1 + r));
  }

  double poisson_radius(double m)
  {
    double lo = 0, hi = 1; // poisson_mean increases from 0 to 1
    for (int k = 0; k < 200 && hi - lo > 1e-16; ++k)
      {
        const double mid = 0.5 * (lo + hi);
        (poisson_mean(mid) < m ? lo : hi) = mid;
      }
    return 0.5 * (lo + hi);
  }

  double poisson_order_parameter(double r0, double t)
  {
    const auto   rate  = [](double r) { return 0.5 * poisson_mean(r) * (1 - r * r); };
    const int    steps = std::max(1, static_cast<int>(std::ceil(std::abs(t) / 1e-3)));
    const double h     = t / steps;
    double       r     = r0;
    for (int k = 0; k < steps; ++k)
      {
        const double k1 = rate(r), k2 = rate(r + 0.5 * h * k1), k3 = rate(r + 0.5 * h * k2), k4 = rate(r + h * k3);
        r += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
      }
    return poisson_mean(r);
  }
} // namespace tpde::sphere
