#include "initial/initial_parameters.h"

namespace tpde
{
  std::optional<reference::GaussianState> InitialConditionParameters::gaussian() const
  {
    return density ? density->gaussian() : std::nullopt;
  }

  const Choices<InitialConditionParameters::Projection> &InitialConditionParameters::projections()
  {
    static const Choices<Projection> all({
      {"l2", Projection::l2, "L2 projection onto the DG space (exact moments up to degree p);"},
      {"interpolation", Projection::interpolation, "values at the Gauss nodes."},
    });
    return all;
  }

  void InitialConditionParameters::declare(EntryDeclarations &entries)
  {
    entries.declare_choice("type", "gaussian", initial_types(), "The initial density, always normalised to mass 1:");
    entries.declare_choice("projection", "l2", projections(), "");
    for (const auto &type : initial_types().items())
      type.value.declare(entries);
  }

  InitialConditionParameters InitialConditionParameters::read(const EntryReader &r, const InitialContext &context)
  {
    InitialConditionParameters ic;
    ic.type         = r.text("type");
    ic.projection   = r.choice("projection", projections());
    ic.s_coordinate = context.s_coordinate;
    ic.sphere       = context.sphere;
    ic.density      = r.choice("type", initial_types()).read(r, context);
    return ic;
  }
} // namespace tpde
