// `tpde validate`: how long one time step of a grid run will take.
#pragma once

#include "attention/attention.h"
#include "dg/dg_space.h"

namespace tpde
{
  /// The wall time of one step: the attention (the cost of a step) on an
  /// evenly spread sample of about 1024 nodes as targets and sources (with
  /// the masses of `density`), timed
  /// and scaled to all nodes (direct sums: quadratically), all stages and the
  /// ranks; 0 if the kernel cannot be evaluated on that sample. Collective.
  template <int dim, int spacedim = dim>
  double estimate_step_seconds(const DGSpace<dim, spacedim> &space, const VectorType &density, const attention::Kernel &kernel,
                               std::size_t stages);
} // namespace tpde
