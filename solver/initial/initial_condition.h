// The initial density on the DG space (the densities themselves are
// components, see initial_density.h): projection: L2 projection (or nodal interpolation),
// positivity limiting, normalisation to mass 1.
#pragma once

#include "dg/dg_space.h"
#include "limiter/positivity_limiter.h"
#include "initial/initial_parameters.h"

#include <deal.II/base/function.h>

#include <memory>
#include <optional>

namespace tpde
{
  /// The density described by the parameters (not normalised), as a deal.II
  /// function on the mesh (masked attention: of (s, x)).
  template <int dim, int spacedim = dim>
  std::unique_ptr<dealii::Function<spacedim>> make_initial_density(const InitialConditionParameters &ic);

  /// Projects `density` onto the DG space, applies the positivity limiter
  /// (as `limit` says) and scales to mass 1. Throws InputError if the density has
  /// no mass on the mesh.
  template <int dim, int spacedim = dim>
  void project_initial_density(const DGSpace<dim, spacedim>          &space,
                               const dealii::Function<spacedim> &density,
                               InitialConditionParameters::Projection projection,
                               Limiting                     limit,
                               VectorType                  &owned);

  /// Total mass sum_i M_i u_i (all ranks).
  template <int dim, int spacedim = dim>
  double total_mass(const DGSpace<dim, spacedim> &space, const double *owned_values);
} // namespace tpde
