// Moments and cell masses of a DG density from the nodal Gauss quadrature
// (exact for polynomial weights up to the rule's degree). Owned cells only:
// the solver test programs run as one process.
#pragma once

#include "support/solver_runs.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

namespace tpde::testing
{
  /// Mass, first and second moments about the origin of a 2D density u:
  /// the integrals of 1, x, y, x^2, x y, y^2.
  inline std::array<double, 6> raw_moments(const DGSpace<2> &space, const double *u)
  {
    std::array<double, 6> m{};
    const unsigned int    n = space.n_nodes();
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      for (unsigned int q = 0; q < n; ++q)
        {
          const double *x    = space.node_point(k, q);
          const double  r    = space.node_weight(k, q) * space.cell_values(u, k)[q];
          const double  f[6] = {1, x[0], x[1], x[0] * x[0], x[0] * x[1], x[1] * x[1]};
          for (unsigned int a = 0; a < 6; ++a)
            m[a] += r * f[a];
        }
    return m;
  }

  /// The cell whose mass changes most from `before` to `after`, relative to
  /// the cell's integral of |before|.
  struct CellMassChange
  {
    double      relative = 0;
    std::size_t cell     = 0;
  };

  template <int dim>
  CellMassChange largest_cell_mass_change(const DGSpace<dim> &space, const double *before, const double *after)
  {
    CellMassChange     largest;
    const unsigned int n = space.n_nodes();
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      {
        double m0 = 0, m1 = 0, scale = 0;
        for (unsigned int q = 0; q < n; ++q)
          {
            const double w = space.node_weight(k, q);
            m0 += w * space.cell_values(before, k)[q];
            m1 += w * space.cell_values(after, k)[q];
            scale += w * std::abs(space.cell_values(before, k)[q]);
          }
        const double relative = std::abs(m0 - m1) / std::max(scale, 1e-300);
        if (relative > largest.relative)
          largest = {relative, k};
      }
    return largest;
  }
} // namespace tpde::testing
