// The rule of `evaluation = auto` (exponential_kernel.h): the probe's limit
// and the price of its counts, in pairs (target, source) of the direct sum.
#include "attention/exponential_kernel.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>

namespace tpde::attention
{
  double fast_summation_probe_node_limit(std::size_t n_targets, std::size_t n_sources)
  {
    const double pairs       = static_cast<double>(n_targets) * static_cast<double>(n_sources);
    const double probed      = static_cast<double>(std::min(n_sources, fast_summation_probe_sources));
    const double break_even  = fast_summation_margin * pairs /
                              (fast_summation_node_cost * static_cast<double>(n_sources) + fast_summation_node_overhead);
    const double probe_limit = fast_summation_probe_fraction * pairs /
                               (fast_summation_node_cost * probed + fast_summation_node_overhead);
    return std::min(break_even, probe_limit);
  }

  bool fast_summation_pays(std::size_t n_targets, std::size_t n_sources, double tolerance)
  {
    // The velocity scale samples 32 targets and the extremes per axis, the
    // first grid has 9^2 nodes in 2D.
    constexpr double first_nodes = 32. + 6. + 81.;
    return tolerance >= fast_summation_min_tolerance && n_sources >= fast_summation_min_sources &&
           fast_summation_probe_node_limit(n_targets, n_sources) >= first_nodes;
  }

  FastSummationPlan plan_fast_summation(const fast::Statistics &probe, std::size_t n_targets, std::size_t n_sources)
  {
    const double targets = static_cast<double>(n_targets), sources = static_cast<double>(n_sources);
    const double interpolated = targets - static_cast<double>(probe.direct_targets);
    FastSummationPlan plan;
    plan.direct_cost = targets * sources;
    const double grid_nodes = static_cast<double>(probe.grid_node_evaluations);
    plan.fast_cost   = (static_cast<double>(probe.node_evaluations) - grid_nodes) *
                         (fast_summation_node_cost * sources + fast_summation_node_overhead) +
                       grid_nodes * (fast_summation_grid_node_cost * sources + fast_summation_node_overhead) +
                     static_cast<double>(probe.direct_targets) * sources + fast_summation_target_cost * interpolated;
    plan.fast = !probe.abandoned && probe.boxes_interpolated > 0 &&
                plan.fast_cost <= fast_summation_margin * plan.direct_cost;
    // Node sums beyond break-even cannot pay: a probe that misjudged by so
    // much costs at most about the direct sum more.
    plan.node_allowance = fast_summation_margin * plan.direct_cost / fast_summation_node_cost;
    return plan;
  }

  std::optional<FastSummationPlan> plan_butterfly_summation(const fast::ExponentialSum &sum,
                                                            std::size_t                 n_targets,
                                                            const double               *score_vectors,
                                                            double                      tolerance)
  {
    const double work = fast::butterfly_work_per_pair(sum, n_targets, score_vectors, tolerance);
    if (!(work <= fast::butterfly_work_limit_for(sum.dim)))
      return std::nullopt;
    FastSummationPlan plan;
    plan.fast           = true;
    plan.direct_cost    = static_cast<double>(n_targets) * static_cast<double>(sum.n_sources);
    plan.fast_cost      = work / fast::butterfly_multiply_adds_per_pair * plan.direct_cost;
    plan.node_allowance = fast_summation_margin * plan.direct_cost / fast_summation_node_cost;
    if (std::getenv("TPDE_FAST_PROFILE") != nullptr)
      std::fprintf(stderr,
                   "auto: %zu targets, %zu sources; butterfly predicted fast / direct = %.3g: fast\n",
                   n_targets,
                   sum.n_sources,
                   plan.fast_cost / plan.direct_cost);
    return plan;
  }
} // namespace tpde::attention
