// Adaptive mesh refinement: refinement indicators computed from the DG
// density and the flagging of cells (`subsection Mesh refinement`).
// The transfer of the density itself is in Simulation::adapt_mesh.
#pragma once

#include "adaptation/refinement_parameters.h"
#include "attention/attention.h"
#include "dg/dg_space.h"

#include <string>
#include <vector>

namespace tpde
{
  /// One value per owned cell (in DGSpace::owned_cells order):
  ///   jump:     sqrt(h_K * sum_{faces f of K} int_f [rho]^2), a Kelly-type
  ///             measure of how badly the density is resolved;
  ///   mass:     int_K rho;
  ///   combined: jump / max(jump) + mass / max(mass) (maxima over all ranks);
  ///   attention: jump * (1 + the attention the cell receives per unit of its
  ///             mass), so that cells whose density the tilted attention
  ///             weights amplify (Gaussian tails in the tilt direction) are
  ///             resolved in relative terms.
  template <int dim, int spacedim = dim>
  std::vector<double> refinement_indicator(const DGSpace<dim, spacedim>                  &space,
                                           const std::vector<double>           &extended,
                                           MeshRefinementParameters::Indicator  kind,
                                           const std::string                   &attention_type,
                                           const attention::Parameters         &attention);

  /// Sets refine/coarsen flags by `strategy` (fractions of the cells, or
  /// indicator thresholds), within the level bounds and the cell cap.
  /// Returns whether any cell (on any rank) is flagged.
  template <int dim, int spacedim = dim>
  bool flag_cells_for_adaptation(DGSpace<dim, spacedim>                   &space,
                                 const std::vector<double>      &indicator,
                                 const MeshRefinementParameters &refinement);

  /// Removes flags that would leave [minimum level, maximum level].
  template <int dim, int spacedim = dim>
  void clamp_refinement_levels(DGSpace<dim, spacedim> &space, unsigned int minimum_level, unsigned int maximum_level);
} // namespace tpde
