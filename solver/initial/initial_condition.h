// Initial token densities (`subsection Initial condition`) and their
// projection onto the DG space: L2 projection (or nodal interpolation),
// positivity limiting, normalisation to mass 1.
#pragma once

#include "discretization/dg_space.h"
#include "discretization/transport_operator.h"
#include "reference/gaussian_reference.h"

#include <deal.II/base/function.h>

#include <memory>
#include <optional>

namespace tpde
{
  /// The density described by the parameters (not normalised).
  template <int dim>
  std::unique_ptr<dealii::Function<dim>> make_initial_density(const InitialConditionParameters &ic);

  /// The single Gaussian of the initial data, if it is one (the statistics
  /// then compare against the exact Gaussian solution). Masked attention: the
  /// Gaussian in x of the slices below `upper_from`.
  std::optional<reference::GaussianState> initial_gaussian(const InitialConditionParameters &ic);

  /// Projects `density` onto the DG space, applies the positivity limiter
  /// (as `limit` says) and scales to mass 1. Throws InputError if the density has
  /// no mass on the mesh.
  template <int dim>
  void project_initial_density(const DGSpace<dim>          &space,
                               const dealii::Function<dim> &density,
                               const std::string           &projection,
                               Limiting                     limit,
                               VectorType                  &owned);

  /// Total mass sum_i M_i u_i (all ranks).
  template <int dim>
  double total_mass(const DGSpace<dim> &space, const double *owned_values);
} // namespace tpde
