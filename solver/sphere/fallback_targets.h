// The targets a zonal fast path (circle_fourier.h, sphere_harmonics.h) does
// not resolve, summed by another kernel against all sources.
#pragma once

#include "attention/kernel_base.h"

#include <algorithm>
#include <vector>

namespace tpde::sphere
{
  /// velocities of the targets numbered in `listed` from `kernel` (of the
  /// targets' dimension); the other velocities are left alone.
  inline void evaluate_listed_targets(const attention::Kernel &kernel, const std::vector<std::size_t> &listed,
                                      const attention::Targets &targets, const attention::Sources &sources,
                                      double *velocities)
  {
    if (listed.empty())
      return;
    const unsigned int  dim = kernel.dimension();
    std::vector<double> points(dim * listed.size()), v(dim * listed.size());
    for (std::size_t u = 0; u < listed.size(); ++u)
      std::copy(targets.points + dim * listed[u], targets.points + dim * (listed[u] + 1), &points[dim * u]);
    kernel.evaluate(listed.size(), points.data(), sources.n, sources.points, sources.weights, v.data());
    for (std::size_t u = 0; u < listed.size(); ++u)
      std::copy(&v[dim * u], &v[dim * (u + 1)], velocities + dim * listed[u]);
  }
} // namespace tpde::sphere
