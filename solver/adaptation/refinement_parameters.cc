#include "adaptation/refinement_parameters.h"

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

  const EntryTable<MeshRefinementParameters> &MeshRefinementParameters::entry_table()
  {
    static const EntryTable<MeshRefinementParameters> table = EntryTable<MeshRefinementParameters>()
      .add("adaptive", &MeshRefinementParameters::adaptive, "false", EntryPattern::boolean(),
          "Refine and coarsen the mesh during the run, following the density. Mass is conserved exactly: "
          "refinement copies the polynomial to the children, coarsening is the L2 projection; the "
          "positivity limiter is re-applied after every transfer.")
      .add("interval", &MeshRefinementParameters::interval, "5", EntryPattern::integer(1), "Adapt every this many time steps.")
      .add_choice("indicator", &MeshRefinementParameters::indicator, "combined", MeshRefinementParameters::indicators(), "")
      .add_choice("strategy", &MeshRefinementParameters::strategy, "fraction", MeshRefinementParameters::strategies(), "")
      .add("refine fraction", &MeshRefinementParameters::refine_fraction, "0.3", EntryPattern::real(0, 1),
          "strategy = fraction: fraction of the cells with the largest indicator that are refined.")
      .add("coarsen fraction", &MeshRefinementParameters::coarsen_fraction, "0.3", EntryPattern::real(0, 1),
          "strategy = fraction: fraction of the cells with the smallest indicator that are coarsened.")
      .add("refine threshold", &MeshRefinementParameters::refine_threshold, "1e-6", EntryPattern::real(0),
          "strategy = threshold: cells whose indicator exceeds this are refined. In the indicator's "
          "units: jump ~ the cell's L2 error of the density (total mass 1), mass = the cell's mass, "
          "combined in [0, 2] (relative to the maxima).")
      .add("coarsen threshold", &MeshRefinementParameters::coarsen_threshold, "1e-8", EntryPattern::real(0),
          "strategy = threshold: cells whose indicator is below this are coarsened (all children of a "
          "parent must agree). Must be below the refine threshold.")
      .add("minimum level", &MeshRefinementParameters::minimum_level, "0", EntryPattern::integer(0),
          "No cell is coarsened below this level (the coarse mesh is level 0).")
      .add("maximum level", &MeshRefinementParameters::maximum_level, "10", EntryPattern::integer(0), "No cell is refined beyond this level.")
      .add("maximum cells", &MeshRefinementParameters::maximum_cells, "0", EntryPattern::integer(0), "Cap on the number of cells: adaptation keeps the mesh about below it, and a run whose initial mesh exceeds it is refused (0: none).")
      .add("initial refinements", &MeshRefinementParameters::initial_refinements, "0", EntryPattern::integer(0, 20),
          "Adaptive refinement cycles of the initial data before the run (each re-projects the initial "
          "density on the new mesh).");
    return table;
  }

  void MeshRefinementParameters::check(const EntryReader &r) const
  {
    if (strategy == Strategy::threshold && !(coarsen_threshold < refine_threshold))
      r.fail("coarsen threshold", "expected a value below the refine threshold");
    if (refine_fraction + coarsen_fraction > 1)
      r.fail("coarsen fraction", "expected refine fraction + coarsen fraction <= 1");
    if (minimum_level > maximum_level)
      r.fail("maximum level", "expected at least the minimum level");
  }
} // namespace tpde
