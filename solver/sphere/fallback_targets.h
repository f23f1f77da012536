// What the zonal fast paths (circle_fourier.h, sphere_harmonics.h) share:
// which settings may use them, and the targets they do not resolve, summed
// by another kernel against all sources.
#pragma once

#include "attention/kernel_base.h"

#include <algorithm>
#include <string>
#include <vector>

namespace tpde::sphere
{
  /// SA or USA in dimension `dim`, not `evaluation = direct` (then the
  /// caller checks that A is zonal).
  inline bool zonal_path_candidate(const std::string &type, const attention::Parameters &p, unsigned int dim)
  {
    return p.dim == dim && (type == "softmax" || type == "unnormalized") &&
           p.evaluation != attention::Parameters::Evaluation::direct;
  }

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
