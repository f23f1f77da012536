// `subsection Mesh refinement`: when and how the mesh follows the density.
#pragma once

#include "common/parameter_entries.h"

namespace tpde
{
  struct MeshRefinementParameters : TabledParameters<MeshRefinementParameters>
  {
    /// What a cell's refinement indicator measures (mesh_adaptation.h).
    enum class Indicator
    {
      jump,
      mass,
      combined,
      attention
    };
    enum class Strategy
    {
      fraction,
      threshold
    };
    bool         adaptive            = false;
    unsigned int interval            = 5; // adapt every `interval` steps
    Indicator    indicator           = Indicator::combined;
    Strategy     strategy            = Strategy::fraction;
    double       refine_fraction     = 0.3; // of the cells, by indicator
    double       coarsen_fraction    = 0.3;
    double       refine_threshold    = 1e-6; // indicator values (strategy = threshold)
    double       coarsen_threshold   = 1e-8;
    unsigned int minimum_level       = 0;
    unsigned int maximum_level       = 10;
    unsigned int maximum_cells       = 0; // 0: no cap
    unsigned int initial_refinements = 0; // adaptive pre-refinement cycles of the initial data

    static const Choices<Indicator> &indicators();
    static const Choices<Strategy>  &strategies();
    static const EntryTable<MeshRefinementParameters> &entry_table();
    /// Checks across entries (InputError through `r`).
    void check(const EntryReader &r) const;
  };
} // namespace tpde
