// Positivity of the DG density: the Zhang-Shu limiter (cell-wise, keeping
// cell means and so mass) and the restoration of the global mean and
// covariance that the cell-wise step changes (Limiting::keep_moments).
#pragma once

#include "dg/dg_space.h"

namespace tpde
{
  /// What positivity_limiter does. `measure`: nothing, it only reports.
  /// `cellwise`: Zhang-Shu in every cell (cell means kept). `keep_moments`:
  /// then restores the global mean and covariance of the density (all ranks)
  /// that the cell-wise step changed; mass is kept cell by cell.
  enum class Limiting
  {
    measure,
    cellwise,
    keep_moments
  };

  /// The limiting the parameters ask for.
  inline Limiting limiting(const DiscretizationParameters &p)
  {
    if (!p.positivity_limiter)
      return Limiting::measure;
    return p.limiter_keeps_moments ? Limiting::keep_moments : Limiting::cellwise;
  }

  struct LimiterResult
  {
    double min_check_value = 0.; // min of rho over all check points of owned cells
    double min_cell_mean   = 0.; // min cell mean (frozen s: line mean) relative to the largest cell mean
  };

  /// Zhang-Shu positivity limiter: in every owned cell with a check point
  /// below floor = 1e-14 * mean, scale the polynomial towards the cell mean so
  /// its minimum over the check points is that floor. Cell means (and so mass)
  /// are unchanged (Limiting::cellwise). Limiting::keep_moments corrects the
  /// global moments afterwards (restore_moments). Limiting::measure only
  /// measures.
  /// With `at_children_points`, the check points are those of all the cell's
  /// children (before a refinement). With DGSpace::frozen_first_coordinate
  /// (masked attention) every node line across s is limited towards its own
  /// mean at the check points on it, which keeps each slice's mass (not at
  /// children's points: there the cell mean is used).
  template <int dim, int spacedim = dim>
  LimiterResult positivity_limiter(const DGSpace<dim, spacedim> &space, double *owned_values, Limiting how,
                                   bool at_children_points = false);

  /// Gives the density (all ranks) the mean and covariance (dim x dim,
  /// row-major) by restore_moments' least change: every cell keeps its
  /// mass, cells below 1e-4 of the largest mean are not changed, no node
  /// changes by more than 5 % (so a far target is met only in part), and
  /// cells stay non-negative at their check points. For densities whose
  /// moments are known exactly but which the projection's quadrature does not
  /// integrate exactly (Initial condition/type = checkpoint).
  template <int dim>
  void impose_moments(const DGSpace<dim> &space, double *owned_values, const double *mean, const double *covariance);
} // namespace tpde
