// Initial token densities as components: each type (`subsection Initial
// condition / type`) is one file that declares and reads its own entries and
// builds an InitialDensity, registered once in initial/registry.cc.
//
// InitialDensity is plain C++ (no deal.II types): the grid projects it onto
// the DG space (initial_condition.h), the particle run samples tokens from it.
#pragma once

#include "common/choices.h"
#include "common/parameter_entries.h"
#include "particles/sampling.h"
#include "reference/gaussian_reference.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tpde
{
  /// A density on R^dim (or on the unit sphere S^{dim-1}, see
  /// InitialContext::sphere), not necessarily normalised.
  class InitialDensity
  {
  public:
    virtual ~InitialDensity() = default;

    virtual unsigned int dimension() const = 0;

    /// x has dimension() entries.
    virtual double value(const double *x) const = 0;

    /// The Gaussian this density is, if it is exactly one (the statistics
    /// then compare against the exact Gaussian solution).
    virtual std::optional<reference::GaussianState> gaussian() const { return std::nullopt; }

    /// Mass, mean and covariance (1 + dim + dim * dim values, the covariance
    /// row-major) of the density restricted to the box [lower, upper], when
    /// it knows them exactly but a quadrature rule would not (nothing
    /// otherwise): the projection onto the mesh then keeps them (see
    /// project_initial_density).
    virtual std::optional<std::vector<double>> moments_in_box(const double * /*lower*/,
                                                              const double * /*upper*/) const
    {
      return std::nullopt;
    }

    /// The L2 projection's Gauss rule is applied on this many sub-cells per
    /// direction of every (box) cell: more for densities that jump inside
    /// cells, where the rule converges only like the sub-cells' size.
    virtual unsigned int projection_subdivisions() const { return 1; }

    /// The same density scaled to mass 1 over R^dim, if its mass is known in
    /// closed form (null otherwise): masked attention's upper data needs
    /// every slice to carry the same mass.
    virtual std::shared_ptr<const InitialDensity> with_unit_mass() const { return nullptr; }

    /// n tokens (n x dim, row-major) distributed like the density. `lower`,
    /// `upper`: the mesh box, for densities that are sampled by rejection.
    /// Throws std::invalid_argument when it cannot.
    virtual std::vector<double> sample(std::size_t n, particles::Sampling sampling, std::uint64_t seed,
                                       const std::vector<double> &lower, const std::vector<double> &upper) const;
  };

  /// What an initial type is told when it reads its entries.
  struct InitialContext
  {
    unsigned int dim          = 1;     // of the token space
    bool         s_coordinate = false; // masked attention: an expression sees (s, x) (dim + 1 variables)
    // Tokens on the unit sphere S^{dim-1} in R^dim (dim = 2: the circle, 3:
    // S^2). A density is then a function of the ambient point x (|x| = 1) and
    // a density with respect to the surface measure (arc length, area).
    bool sphere = false;
  };

  struct InitialType
  {
    /// Declares the type's own entries in `subsection Initial condition`.
    std::function<void(EntryDeclarations &)> declare;
    /// Reads them (throwing InputError through the reader) and builds the density.
    std::function<std::shared_ptr<const InitialDensity>(const EntryReader &, const InitialContext &)> read;
  };

  /// Every initial type, in registration order.
  const Choices<InitialType> &initial_types();
} // namespace tpde
