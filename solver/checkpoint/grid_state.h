// The mesh and the density of a grid run in a checkpoint, independent of the
// partition: every active cell is stored by its id (coarse cell and child
// path) with its nodal values, so a run can resume on any number of MPI ranks.
#pragma once

#include "checkpoint/checkpoint_file.h"
#include "dg/dg_space.h"

namespace tpde
{
  /// Collective: records "cells" (one id per line) and "density" (n_nodes()
  /// values per cell, in the DGSpace cell layout) on rank 0.
  template <int dim, int spacedim = dim>
  void store_mesh_and_density(const DGSpace<dim, spacedim> &space, const VectorType &density, Checkpoint &checkpoint);

  /// Collective: refines the triangulation of `space` (built from the coarse
  /// mesh, without global refinements) until its active cells are the
  /// checkpoint's. Throws InputError if the checkpoint's cells do not come
  /// from this coarse mesh. Call space.setup() afterwards.
  template <int dim, int spacedim = dim>
  void refine_to_checkpoint(DGSpace<dim, spacedim> &space, const Checkpoint &checkpoint);

  /// The checkpoint's density on the (restored) mesh of `space`, set up.
  template <int dim, int spacedim = dim>
  void restore_density(const DGSpace<dim, spacedim> &space, const Checkpoint &checkpoint, VectorType &density);

  /// Collective: one value per owned cell (or none on every rank), e.g. the
  /// refinement indicator, as record `name` in the order of "cells".
  template <int dim, int spacedim = dim>
  void store_cell_values(const DGSpace<dim, spacedim> &space, const std::vector<double> &per_cell, const std::string &name,
                         Checkpoint &checkpoint);

  /// The values stored by store_cell_values for the owned cells (empty if none were).
  template <int dim, int spacedim = dim>
  std::vector<double> restore_cell_values(const DGSpace<dim, spacedim> &space, const Checkpoint &checkpoint,
                                          const std::string &name);
} // namespace tpde
