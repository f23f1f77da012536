// Carrying the density across a mesh change: refinement copies each parent's
// polynomial to its children exactly, coarsening is the L2 projection of the
// children onto the parent (FE_DGQ restriction), so every cell mean and the
// total mass are kept to round-off.
#pragma once

#include "dg/dg_space.h"

#include <functional>

namespace tpde
{
  /// Executes the refine/coarsen flags of the space's mesh and transfers
  /// `owned` to the new mesh. `rebuild` is called right after the mesh change
  /// and must set up the space and re-initialise `owned` and `ghosted` (all
  /// mesh-dependent data). `ghosted` is scratch. In 1D the mesh is shared by
  /// all ranks, which deal.II's serial SolutionTransfer does not support; the
  /// values are then kept by CellId.
  template <int dim, int spacedim = dim>
  void refine_and_transfer(DGSpace<dim, spacedim>                &space,
                           VectorType                  &owned,
                           VectorType                  &ghosted,
                           const std::function<void()> &rebuild);
} // namespace tpde
