// The DG discretization of d_t rho + div(rho X) = 0 with a given velocity:
// volume term int rho X . grad(phi), upwind flux on faces, zero inflow and
// free outflow on the boundary, diagonal mass matrix.
#pragma once

#include "discretization/dg_space.h"

#include <vector>

namespace tpde
{
  template <int dim>
  class TransportOperator
  {
  public:
    explicit TransportOperator(const DGSpace<dim> &space);

    /// rate = M^{-1} (volume - fluxes) for the owned DoFs, from the extended
    /// values (owned + ghost). Returns the rate at which mass leaves this
    /// rank's part of the boundary.
    double apply(const std::vector<double> &extended,
                 const double              *node_velocity,
                 const double              *face_velocity,
                 double                    *rate) const;

    /// max over owned cells K of sum_c max_{x in K} |X_c(x)| / h_{K,c}
    /// (nodes and face points of K); dt = cfl / ((2p+1) * this).
    double inverse_time_scale(const double *node_velocity, const double *face_velocity) const;

  private:
    const DGSpace<dim> &space;
  };

  struct LimiterResult
  {
    double min_check_value = 0.; // min of rho over all check points of owned cells
    double min_cell_mean   = 0.; // min cell mean relative to the largest cell mean
  };

  /// Zhang-Shu positivity limiter: in every owned cell with a check point
  /// below floor = 1e-14 * mean, scale the polynomial towards the cell mean so
  /// its minimum over the check points is that floor. Cell means (and so mass)
  /// are unchanged. With `apply` false it only measures.
  /// With `at_children_points`, the check points are those of all the cell's
  /// children (before a refinement).
  template <int dim>
  LimiterResult positivity_limiter(const DGSpace<dim> &space, double *owned_values, bool apply,
                                   bool at_children_points = false);
} // namespace tpde
