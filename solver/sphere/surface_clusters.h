// The `clusters` column on S^2 (Mesh/domain = sphere, d = 3): the number of
// local maxima of a density sampled at points of the sphere, each point with
// a neighbourhood (the points whose centres lie within 1.6 times the larger
// of the two points' spacing, which reaches the eight surrounding cells of a
// cubed-sphere mesh and the nearest ring of a Fibonacci lattice).
//
// Rule (documented at Output/cluster threshold): a point is a maximum when its
// value reaches `fraction` of the largest value and no neighbour exceeds it
// by more than 1e-9 of the largest (so rounding does not split a plateau);
// adjacent maxima form one plateau and count once. A density whose smallest
// value is above `fraction` of its largest has no cluster standing out of it:
// 0 (the uniform law gives 0).
//
// The grid samples its cell averages at the cells' centres (spacing
// sqrt(cell area)); a particle run (or any weighted point set) samples a fixed
// density estimate: the von Mises-Fisher kernel e^{kappa (<p, x> - 1)},
// kappa = 200 (angular width ~ 1 / sqrt(kappa) = 4 degrees), at the 2000
// points of the Fibonacci lattice (spacing ~4.5 degrees). Its sampling noise
// (relative ~ sqrt(kappa / (2 N)) for a uniform law, 4% at N = 1e5) makes
// spurious maxima only where the density is nearly flat.
#pragma once

#include <cstddef>
#include <vector>

namespace tpde::sphere
{
  /// The plateaus of local maxima (rule above) of values[i] at the unit
  /// points (n x 3) with spacings spacing[i] (radians).
  unsigned int count_surface_clusters(std::size_t n, const double *points, const double *values,
                                      const double *spacing, double fraction);

  /// The n points of the Fibonacci lattice on S^2 (n x 3, row-major).
  std::vector<double> fibonacci_lattice(std::size_t n);

  /// count_surface_clusters of the weighted unit points' density estimate
  /// (above) on the Fibonacci lattice.
  unsigned int count_point_clusters(std::size_t n, const double *x, const double *weights, double fraction);
} // namespace tpde::sphere
