// `subsection Mesh refinement`: when and how the mesh follows the density.
#pragma once

#include "common/parameter_entries.h"

#include <vector>

namespace tpde
{
  /// What the `automatic` defaults of `subsection Mesh refinement` depend on.
  struct RefinementContext
  {
    unsigned int              dimension     = 2; // of the token space (adaptive runs are never masked)
    unsigned int              initial_level = 0; // Mesh/global refinements: the level of the initial mesh
    std::vector<unsigned int> subdivisions;      // Mesh/subdivisions of a box; empty for a mesh file
  };

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
    // The defaults are the settings of the tuned adaptive examples
    // (parameters/*adaptive*.prm); tests/solver/test_refinement_defaults.cc
    // checks that they reach those examples' accuracy. The four entries
    // marked automatic are resolved by read() (RefinementContext); the values
    // here are those of a 2D box of 6 x 6 cells without global refinements.
    bool         adaptive            = false;
    unsigned int interval            = 5; // adapt every `interval` steps
    Indicator    indicator           = Indicator::attention;
    Strategy     strategy            = Strategy::threshold;
    double       refine_fraction     = 0.3; // of the cells, by indicator
    double       coarsen_fraction    = 0.3;
    double       refine_threshold    = 1e-5; // indicator values (strategy = threshold); automatic
    double       coarsen_threshold   = 1e-7; // automatic: refine threshold / 100
    unsigned int minimum_level       = 0; // automatic
    unsigned int maximum_level       = 3; // automatic
    unsigned int maximum_cells       = 0; // 0: no cap
    unsigned int initial_refinements = 10; // adaptive pre-refinement cycles of the initial data

    /// The rules of the `automatic` entries (documented with the entries).
    static double       automatic_refine_threshold(unsigned int dimension);
    /// Cells along each side of the box that the finest level reaches.
    static unsigned int automatic_resolution(unsigned int dimension);
    static unsigned int automatic_maximum_level(const RefinementContext &context, unsigned int minimum_level);

    static const Choices<Indicator> &indicators();
    static const Choices<Strategy>  &strategies();
    static const EntryTable<MeshRefinementParameters> &entry_table();
    /// The table's entries and the four that may be `automatic`.
    static void declare(EntryDeclarations &entries);
    /// Reads the subsection, resolves the `automatic` entries for `context`
    /// (recording the values used in parameters.prm) and checks across entries.
    static MeshRefinementParameters read(const EntryReader &r, const RefinementContext &context);
    /// Checks across entries (InputError through `r`).
    void check(const EntryReader &r) const;
  };
} // namespace tpde
