// The DG discretization of d_t rho + div(rho X) = 0 with a given velocity:
// volume term int rho X . grad(phi), upwind flux on faces, zero inflow and
// free outflow on the boundary, diagonal mass matrix.
#pragma once

#include "dg/dg_space.h"

#include <vector>

namespace tpde
{
  template <int dim, int spacedim = dim>
  class TransportOperator
  {
  public:
    explicit TransportOperator(const DGSpace<dim, spacedim> &space);

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

    /// The same bound per owned cell: sum_c max_{x in K} |X_c(x)| / h_{K,c}.
    std::vector<double> cell_time_scales(const double *node_velocity, const double *face_velocity) const;

    /// Attention velocities far out in the tilt direction read the density's
    /// tail in relative terms, where a coarse cell's 1e-30 values are noise, and
    /// can exceed every speed where mass is: they would set the time step for
    /// nothing. At nodes, and face points with both traces, whose density is
    /// below `relative_density` * (largest nodal density), each velocity
    /// component is capped at R h_min / dim, where R is the largest time scale
    /// of the cells that have a node at or above that density and h_min the
    /// smallest cell extent; so such points never limit dt. Face velocities stay
    /// single-valued (the decision uses both traces), so mass is still exact.
    /// Returns the number of capped points on all ranks.
    unsigned long cap_speed_where_empty(const std::vector<double> &extended,
                                        double                     relative_density,
                                        double                    *node_velocity,
                                        double                    *face_velocity) const;

  private:
    const DGSpace<dim, spacedim> &space;
  };

} // namespace tpde
