#include "adaptation/refinement_parameters.h"

#include "common/matrix.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace tpde
{
  const Choices<MeshRefinementParameters::Indicator> &MeshRefinementParameters::indicators()
  {
    static const Choices<Indicator> all({
      {"jump", Indicator::jump,
       "sqrt(h_K * sum over the faces of K of the integral of the squared density jump), a Kelly-type measure of "
       "under-resolution;"},
      {"mass", Indicator::mass, "the cell's mass;"},
      {"combined", Indicator::combined, "the sum of both, each divided by its maximum;"},
      {"attention", Indicator::attention,
       "jump times (1 + the attention the cell receives per unit of its mass). Softmax-type attention tilts the "
       "density by exp(<Qx, Ky>), so targets far out weight the tail of the density exponentially; a coarse tail "
       "cell whose density is right in absolute but wrong in relative terms then corrupts their velocity. "
       "'attention' refines such cells (computed over cell centres, O(cells^2) per adaptation); for variants "
       "without a single score form (sigmoid, multihead, sinkhorn) it equals jump."},
    });
    return all;
  }

  const Choices<MeshRefinementParameters::Strategy> &MeshRefinementParameters::strategies()
  {
    static const Choices<Strategy> all({
      {"fraction", Strategy::fraction,
       "refine/coarsen the given fractions of the cells with the largest/smallest indicator at every adaptation "
       "(the mesh size stays about constant);"},
      {"threshold", Strategy::threshold,
       "refine every cell whose indicator exceeds 'refine threshold', coarsen those below 'coarsen threshold' (the "
       "mesh follows an accuracy target; the gap between the two thresholds keeps cells from being refined and "
       "coarsened back and forth). With threshold, the initial refinement cycles stop as soon as no cell is "
       "flagged."},
    });
    return all;
  }

  namespace
  {
    const std::string automatic = "automatic";

    /// The entries that may be `automatic` (their default): name and documentation.
    struct AutomaticEntry
    {
      const char *name;
      const char *documentation;
    };

    const std::vector<AutomaticEntry> &automatic_entries()
    {
      static const std::vector<AutomaticEntry> all = {
        {"refine threshold",
         "strategy = threshold: cells whose indicator exceeds this are refined. In the indicator's units: "
         "jump ~ the cell's L2 error of the density (total mass 1), attention = jump times a factor >= 1, "
         "mass = the cell's mass, combined in [0, 2] (relative to the maxima). A number >= 0, or 'automatic' "
         "(the default): 1e-8 in 1D, 1e-5 in 2D, 1e-3 in 3D, as in the tuned examples "
         "(parameters/*adaptive*.prm). Each dimension asks for less, since every level of refinement costs "
         "2^d times the cells. These values are for the jump and attention indicators: with mass or "
         "combined, set the thresholds yourself."},
        {"coarsen threshold",
         "strategy = threshold: cells whose indicator is below this are coarsened (all children of a parent "
         "must agree). Must be below the refine threshold. A number >= 0, or 'automatic' (the default): the "
         "refine threshold / 100, so that cells are not refined and coarsened back and forth."},
        {"minimum level",
         "No cell is coarsened below this level (the coarse mesh is level 0). A whole number >= 0, or "
         "'automatic' (the default): the level of the initial mesh (Mesh/global refinements; at most the "
         "maximum level), so adaptation refines the mesh the file asks for but never coarsens it. Coarse "
         "cells in the tail of a spreading density smear its mass outwards, and softmax attention reads "
         "that tail: on the 1D blow-up T2 (tests/data/blowup-1d-adaptive.prm) cells of width 2 in the tail "
         "give a relative variance error of 4e-3 at t = 1, cells of width 0.25 3e-8."},
        {"maximum level",
         "No cell is refined beyond this level (the coarse mesh is level 0). A whole number >= 0, or "
         "'automatic' (the default): the lowest level whose cells are as fine as a uniform mesh of 160 cells "
         "(1D) or 32 cells along every side of the box (2D, 3D), the resolution of the shipped uniform "
         "examples; at least the level of the initial mesh and the minimum level. The tuned examples get "
         "their own values (5 coarse cells in 1D: level 5; 6 x 6 or 7 x 7 in 2D and 4 x 4 x 4 in 3D: level "
         "3). For Mesh/domain = file: the level of the initial mesh + 5 (1D) or + 3 (2D, 3D). With the "
         "automatic thresholds the band around the density is refined to this level, so it sets both the "
         "accuracy and the cost. Without a cap the thresholds keep refining, because the limiter's small "
         "jumps do not shrink like the discretisation error: the 1D collapse (collapse-1d-adaptive.prm) then "
         "reaches level 10 at 10 times the cost for a 10 times smaller error, the 2D line (line-2d-adaptive.prm, "
         "to t = 2) level 5 with 4 times the cells for a 2 times smaller one."},
      };
      return all;
    }
  } // namespace

  const EntryTable<MeshRefinementParameters> &MeshRefinementParameters::entry_table()
  {
    static const EntryTable<MeshRefinementParameters> table = EntryTable<MeshRefinementParameters>()
      .add("adaptive", &MeshRefinementParameters::adaptive, "false", EntryPattern::boolean(),
          "Refine and coarsen the mesh during the run, following the density. Mass is conserved exactly: "
          "refinement copies the polynomial to the children, coarsening is the L2 projection; the "
          "positivity limiter is re-applied after every transfer. The defaults of the other entries are "
          "those of the tuned adaptive examples (parameters/*adaptive*.prm): indicator attention, strategy "
          "threshold, thresholds and levels automatic (from the dimension and the initial mesh), 10 initial "
          "refinements; see their entries.")
      .add("interval", &MeshRefinementParameters::interval, "5", EntryPattern::integer(1), "Adapt every this many time steps.")
      .add_choice("indicator", &MeshRefinementParameters::indicator, "attention", MeshRefinementParameters::indicators(), "")
      .add_choice("strategy", &MeshRefinementParameters::strategy, "threshold", MeshRefinementParameters::strategies(), "")
      .add("refine fraction", &MeshRefinementParameters::refine_fraction, "0.3", EntryPattern::real(0, 1),
          "strategy = fraction: fraction of the cells with the largest indicator that are refined.")
      .add("coarsen fraction", &MeshRefinementParameters::coarsen_fraction, "0.3", EntryPattern::real(0, 1),
          "strategy = fraction: fraction of the cells with the smallest indicator that are coarsened.")
      .add("maximum cells", &MeshRefinementParameters::maximum_cells, "0", EntryPattern::integer(0), "Cap on the number of cells: adaptation keeps the mesh about below it, and a run whose initial mesh exceeds it is refused (0: none).")
      .add("initial refinements", &MeshRefinementParameters::initial_refinements, "10", EntryPattern::integer(0, 20),
          "Adaptive refinement cycles of the initial data before the run (each re-projects the initial "
          "density on the new mesh). With strategy = threshold the cycles stop as soon as no cell is flagged, "
          "so the default 10 means: until the initial data is resolved (or the maximum level is reached).");
    return table;
  }

  double MeshRefinementParameters::automatic_refine_threshold(unsigned int dimension)
  {
    return dimension <= 1 ? 1e-8 : dimension == 2 ? 1e-5 : 1e-3;
  }

  unsigned int MeshRefinementParameters::automatic_resolution(unsigned int dimension)
  {
    return dimension <= 1 ? 160 : 32;
  }

  unsigned int MeshRefinementParameters::automatic_maximum_level(const RefinementContext &context,
                                                                  unsigned int             minimum_level)
  {
    unsigned int level = context.initial_level + (context.dimension <= 1 ? 5 : 3); // a mesh file
    if (!context.subdivisions.empty())
      {
        // The fewest cells along a side decide: 2^level * subdivisions >= resolution.
        const unsigned int fewest = *std::min_element(context.subdivisions.begin(), context.subdivisions.end());
        level                     = 0;
        while ((std::size_t{fewest} << level) < automatic_resolution(context.dimension))
          ++level;
        level = std::max(level, context.initial_level);
      }
    return std::max(level, minimum_level);
  }

  void MeshRefinementParameters::declare(EntryDeclarations &entries)
  {
    entry_table().declare(entries);
    for (const AutomaticEntry &entry : automatic_entries())
      entries.declare(entry.name, automatic, EntryPattern::anything(), entry.documentation);
  }

  MeshRefinementParameters MeshRefinementParameters::read(const EntryReader &r, const RefinementContext &context)
  {
    MeshRefinementParameters p;
    entry_table().read(r, p);
    const auto is_automatic = [&](const char *entry) { return r.trimmed(entry) == automatic; };
    // A number >= 0 (or 'automatic', handled by the caller).
    const auto non_negative = [&](const char *entry, bool whole) {
      const auto value = parse_number(r.trimmed(entry));
      if (!value || !(*value >= 0) || !std::isfinite(*value) || (whole && *value != std::floor(*value)) ||
          (whole && *value > std::numeric_limits<int>::max()))
        r.fail(entry, std::string("expected ") + (whole ? "a whole number >= 0" : "a number >= 0") +
                        " or 'automatic', got '" + r.trimmed(entry) + "'");
      return *value;
    };
    const auto record = [&](const char *entry, double value) {
      std::ostringstream text;
      text << value;
      r.record(entry, text.str());
    };
    p.refine_threshold = is_automatic("refine threshold") ? automatic_refine_threshold(context.dimension)
                                                          : non_negative("refine threshold", false);
    p.coarsen_threshold = is_automatic("coarsen threshold") ? p.refine_threshold / 100
                                                            : non_negative("coarsen threshold", false);
    if (is_automatic("maximum level"))
      {
        const unsigned int explicit_minimum =
          is_automatic("minimum level") ? 0 : static_cast<unsigned int>(non_negative("minimum level", true));
        p.maximum_level = automatic_maximum_level(context, explicit_minimum);
      }
    else
      p.maximum_level = static_cast<unsigned int>(non_negative("maximum level", true));
    p.minimum_level = is_automatic("minimum level") ? std::min(context.initial_level, p.maximum_level)
                                                    : static_cast<unsigned int>(non_negative("minimum level", true));
    // parameters.prm shows the values the run used.
    if (is_automatic("refine threshold"))
      record("refine threshold", p.refine_threshold);
    if (is_automatic("coarsen threshold"))
      record("coarsen threshold", p.coarsen_threshold);
    if (is_automatic("minimum level"))
      record("minimum level", p.minimum_level);
    if (is_automatic("maximum level"))
      record("maximum level", p.maximum_level);
    p.check(r);
    return p;
  }

  void MeshRefinementParameters::check(const EntryReader &r) const
  {
    if (strategy == Strategy::threshold && !(coarsen_threshold < refine_threshold))
      {
        std::ostringstream value;
        value << refine_threshold;
        r.fail("coarsen threshold", "expected a value below the refine threshold (" + value.str() + ")");
      }
    if (refine_fraction + coarsen_fraction > 1)
      r.fail("coarsen fraction", "expected refine fraction + coarsen fraction <= 1");
    if (minimum_level > maximum_level)
      r.fail("maximum level", "expected at least the minimum level");
  }
} // namespace tpde
