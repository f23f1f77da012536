// Attention on S^2 (Mesh/domain = sphere, d = 3): the ambient kernel of R^3
// (softmax is SA, unnormalized is USA; Q, K, V are 3 x 3) evaluated at the
// points of the unit sphere, its output projected onto the tangent plane,
// X = P_x^perp(output) = output - <output, x> x (physics.md §4.1). The grid's
// nodes lie within the mapping's error of the sphere: targets and sources are
// read at x / |x|, so the kernel sees the exact sphere.
#pragma once

#include "attention/attention.h"

#include <memory>

namespace tpde::sphere
{
  /// `ambient` must be a 3D kernel; the result takes and returns 3D points and vectors.
  std::unique_ptr<attention::Kernel> surface_kernel(std::unique_ptr<attention::Kernel> ambient);

  /// n points (n x 3) -> the same points scaled to unit length (in place allowed).
  void project_to_sphere(std::size_t n, const double *x, double *unit);

  /// v -= <v, x> x for n tangent-plane projections at unit points x (n x 3 each).
  void project_to_tangent(std::size_t n, const double *x, double *v);
} // namespace tpde::sphere
