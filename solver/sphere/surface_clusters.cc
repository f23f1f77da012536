#include "sphere/surface_clusters.h"

#include "attention/kernel_base.h"

#include <algorithm>
#include <cmath>

namespace tpde::sphere
{
  namespace
  {
    constexpr std::size_t lattice_points = 2000;
    constexpr double      kappa          = 200;
    constexpr double      reach          = 1.6; // neighbours within reach x the larger spacing
    constexpr double      plateau        = 1e-9; // relative to the largest value
  } // namespace

  unsigned int count_surface_clusters(std::size_t n, const double *points, const double *values,
                                      const double *spacing, double fraction)
  {
    if (n == 0)
      return 0;
    const double top    = *std::max_element(values, values + n);
    const double bottom = *std::min_element(values, values + n);
    if (!(top > 0) || bottom > fraction * top)
      return 0;
    // Neighbour lists (O(n^2): the grid's cells and the lattice are a few thousand points).
    std::vector<std::vector<std::size_t>> neighbours(n);
    attention::parallel_for_each(n, [&](std::size_t i) {
      const double *p = points + 3 * i;
      for (std::size_t j = 0; j < n; ++j)
        {
          const double *q     = points + 3 * j;
          const double  dot   = std::clamp(p[0] * q[0] + p[1] * q[1] + p[2] * q[2], -1., 1.);
          const double  limit = reach * std::max(spacing[i], spacing[j]);
          if (j != i && limit < M_PI && dot >= std::cos(limit))
            neighbours[i].push_back(j);
        }
    });
    std::vector<char> maximum(n, 0);
    for (std::size_t i = 0; i < n; ++i)
      {
        maximum[i] = values[i] >= fraction * top;
        for (const std::size_t j : neighbours[i])
          maximum[i] = maximum[i] && values[j] <= values[i] + plateau * top;
      }
    // Plateaus: connected components of adjacent maxima.
    std::vector<char>        seen(n, 0);
    std::vector<std::size_t> stack;
    unsigned int             count = 0;
    for (std::size_t i = 0; i < n; ++i)
      {
        if (!maximum[i] || seen[i])
          continue;
        ++count;
        stack.assign(1, i);
        seen[i] = 1;
        while (!stack.empty())
          {
            const std::size_t k = stack.back();
            stack.pop_back();
            for (const std::size_t j : neighbours[k])
              if (maximum[j] && !seen[j])
                {
                  seen[j] = 1;
                  stack.push_back(j);
                }
          }
      }
    return count;
  }

  std::vector<double> fibonacci_lattice(std::size_t n)
  {
    std::vector<double> x(3 * n);
    const double        golden = M_PI * (3 - std::sqrt(5.));
    for (std::size_t i = 0; i < n; ++i)
      {
        const double z = 1 - (2. * i + 1) / n, s = std::sqrt(1 - z * z), phi = golden * i;
        x[3 * i]       = s * std::cos(phi);
        x[3 * i + 1]   = s * std::sin(phi);
        x[3 * i + 2]   = z;
      }
    return x;
  }

  unsigned int count_point_clusters(std::size_t n, const double *x, const double *weights, double fraction)
  {
    const std::vector<double> lattice = fibonacci_lattice(lattice_points);
    std::vector<double>       estimate(lattice_points, 0.);
    attention::parallel_for_each(lattice_points, [&](std::size_t a) {
      const double *p   = &lattice[3 * a];
      double        sum = 0;
      for (std::size_t i = 0; i < n; ++i)
        {
          const double dot = p[0] * x[3 * i] + p[1] * x[3 * i + 1] + p[2] * x[3 * i + 2];
          if (dot > 1 - 40 / kappa) // farther: below e^{-40} of a point's peak
            sum += weights[i] * std::exp(kappa * (dot - 1));
        }
      estimate[a] = sum;
    });
    const std::vector<double> spacing(lattice_points, std::sqrt(4 * M_PI / lattice_points));
    return count_surface_clusters(lattice_points, lattice.data(), estimate.data(), spacing.data(), fraction);
  }
} // namespace tpde::sphere
