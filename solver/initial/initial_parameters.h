// `subsection Initial condition`: the type (a registered component, see
// initial_density.h) with its own entries, and how the density is put on the
// mesh. Masked attention adds data over the positions s (subsection 'Masked
// attention', read in parameters/).
#pragma once

#include "initial/initial_density.h"

#include <memory>
#include <optional>
#include <string>

namespace tpde
{
  struct InitialConditionParameters
  {
    enum class Projection
    {
      l2,
      interpolation
    };
    std::string                           type = "gaussian"; // the registered name (messages)
    Projection                            projection = Projection::l2;
    std::shared_ptr<const InitialDensity> density;
    // Masked attention: densities are functions of (s, x), s first; from
    // s = upper_from < 1 on, the data is `upper` instead (a density of x).
    bool                                  s_coordinate = false;
    // Mesh/domain = sphere: `density` is a function of the ambient point; the
    // circle's mesh evaluates it at x = (cos theta, sin theta).
    bool                                  sphere = false;
    double                                upper_from   = 1.;
    std::shared_ptr<const InitialDensity> upper;

    /// The single Gaussian of the initial data, if it is one (the statistics
    /// then compare against the exact Gaussian solution). Masked attention:
    /// the Gaussian in x of the slices below `upper_from`.
    std::optional<reference::GaussianState> gaussian() const;

    static const Choices<Projection> &projections();
    static void                       declare(EntryDeclarations &entries);
    static InitialConditionParameters read(const EntryReader &r, const InitialContext &context);
  };
} // namespace tpde
