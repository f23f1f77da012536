// Adaptive mesh refinement: refinement indicators computed from the DG
// density and the flagging of cells (`subsection Mesh refinement`).
// The transfer of the density itself is in Simulation::adapt_mesh.
#pragma once

#include "discretization/dg_space.h"

#include <string>
#include <vector>

namespace tpde
{
  /// One value per owned cell (in DGSpace::owned_cells order):
  ///   jump:     sqrt(h_K * sum_{faces f of K} int_f [rho]^2), a Kelly-type
  ///             measure of how badly the density is resolved;
  ///   mass:     int_K rho;
  ///   combined: jump / max(jump) + mass / max(mass) (maxima over all ranks).
  template <int dim>
  std::vector<double> refinement_indicator(const DGSpace<dim>        &space,
                                           const std::vector<double> &extended,
                                           const std::string         &kind);

  /// Sets refine/coarsen flags: the `refine fraction` of cells with the
  /// largest indicator are refined, the `coarsen fraction` with the smallest
  /// coarsened, within the level bounds and the cell cap.
  template <int dim>
  void flag_cells_for_adaptation(DGSpace<dim>                   &space,
                                 const std::vector<double>      &indicator,
                                 const MeshRefinementParameters &refinement);

  /// Removes flags that would leave [minimum level, maximum level].
  template <int dim>
  void clamp_refinement_levels(DGSpace<dim> &space, unsigned int minimum_level, unsigned int maximum_level);
} // namespace tpde
