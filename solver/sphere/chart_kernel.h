// Attention on the circle (Mesh/domain = sphere, d = 2): the ambient kernel
// of R^2 (softmax is SA, unnormalized is USA; Q, K, V are 2 x 2 as in the
// plane) evaluated at the embedded points, its output projected onto the
// tangent (physics.md §4.1). The adapter speaks the chart: targets and
// sources are angles, velocities angular speeds, so the grid and the particle
// solver use it like any 1D kernel.
#pragma once

#include "attention/attention.h"

#include <memory>

namespace tpde::sphere
{
  /// `ambient` must be a 2D kernel; the result has dimension 1 (the angle).
  std::unique_ptr<attention::Kernel> circle_kernel(std::unique_ptr<attention::Kernel> ambient);
} // namespace tpde::sphere
