// The plan of the butterfly summation (butterfly_summation.h): how often
// each direction is halved, the Chebyshev points, the boxes that hold
// targets and sources at every stage, and the predicted cost.
#include "attention/butterfly_internal.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace tpde::attention::fast::butterfly_detail
{
  namespace
  {
    // Box-pair sizes tried: h_m g_m <= kappa. Small kappa: many pairs of
    // few points; large: few pairs of many points, and a relative
    // accuracy that costs e^{kappa} more.
    constexpr double kappa_choices[] = {1., 1.5, 2., 3., 4., 6., 8.};
    // Multiply-adds charged per pair and stage besides the arithmetic
    // counted (lookups, the interpolation matrices, their exponentials).
    constexpr double pair_overhead = 500.;
    // Largest data of one stage (doubles): two stages are held at once.
    constexpr double max_stage_doubles = 1.25e7;
    // How much more accurate the butterfly comes out, per direction, than
    // points_for's bound per interpolation divided by the number of stages
    // promises (measured in test_butterfly_summation.cc at accuracies near
    // 1e-11: 10 to 100 per direction; at 1e-3, less: about 2 to 4).
    constexpr double accuracy_margin = 5.;

    /// Modified Bessel function I_n(x) from its series (x small to moderate).
    double bessel_i(unsigned int n, double x)
    {
      double term = 1.;
      for (unsigned int k = 1; k <= n; ++k)
        term *= 0.5 * x / k;
      double total = term;
      for (unsigned int j = 1; j < 200 && term > 1e-18 * total; ++j)
        {
          term *= 0.25 * x * x / (j * (j + n));
          total += term;
        }
      return total;
    }

    /// Chebyshev points for e^{kappa t} on [-1, 1] to a relative accuracy.
    unsigned int points_for(double kappa, double accuracy)
    {
      if (!(kappa > 0.))
        return 1;
      for (unsigned int n = 1; n < max_points; ++n)
        if (4. * bessel_i(n, kappa) * std::exp(kappa) <= accuracy)
          return n;
      return max_points;
    }

    /// Leaf keys of points in a box of `levels` halvings per direction.
    std::vector<Key> leaf_keys(std::size_t        n_points,
                               const double      *points,
                               unsigned int       dim,
                               const double      *low,
                               const double      *half,
                               const unsigned int levels[max_dim])
    {
      std::vector<Key> keys(n_points);
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n_points, 4096),
                        [&](const tbb::blocked_range<std::size_t> &range) {
                          for (std::size_t p = range.begin(); p != range.end(); ++p)
                            {
                              unsigned int index[max_dim] = {};
                              for (unsigned int m = 0; m < dim; ++m)
                                {
                                  const unsigned int boxes = 1u << levels[m];
                                  const double       width = 2. * half[m] / boxes;
                                  const double       i = width > 0. ? (points[p * dim + m] - low[m]) / width : 0.;
                                  // (NaN: box 0; the caller promised finite points.)
                                  index[m] = i > 0. ? static_cast<unsigned int>(std::min(i, boxes - 1.)) : 0u;
                                }
                              keys[p] = key_of(index);
                            }
                        });
      return keys;
    }

    /// The boxes holding targets and sources at given levels.
    struct Occupancy
    {
      unsigned int     levels[max_dim] = {};
      std::vector<Key> targets, sources;
    };

    /// Halvings per direction for h_m g_m <= kappa.
    void levels_for(const Geometry &geometry, double kappa, unsigned int levels[max_dim])
    {
      for (unsigned int m = 0; m < max_dim; ++m)
        {
          levels[m] = 0;
          const double product = m < geometry.dim ? geometry.target_half[m] * geometry.source_half[m] : 0.;
          while (product * std::ldexp(1., -static_cast<int>(levels[m])) > kappa && levels[m] < max_levels)
            ++levels[m];
        }
    }

    /// The plan for one kappa: levels, points, order, pair counts, cost.
    Plan make_plan(std::size_t      n_targets,
                   std::size_t      n_sources,
                   const Geometry  &geometry,
                   const Occupancy &occupancy,
                   double           kappa,
                   double           relative_accuracy)
    {
      Plan plan;
      plan.kappa = kappa;
      levels_for(geometry, kappa, plan.levels);
      const unsigned int n_stages = plan.levels[0] + plan.levels[1] + plan.levels[2];
      // Per interpolation: the stages' re-interpolations may add up (the
      // bound behind points_for is pessimistic by about this margin,
      // measured in test_butterfly_summation.cc).
      const double accuracy = relative_accuracy * std::pow(accuracy_margin, geometry.dim) / (n_stages + 1.);
      for (unsigned int m = 0; m < geometry.dim; ++m)
        plan.points[m] = points_for(geometry.target_half[m] * geometry.source_half[m] *
                                      std::ldexp(1., -static_cast<int>(plan.levels[m])),
                                    accuracy);
      // Whole lane vectors along direction 0, the contiguous one.
      if (plan.points[0] > 1)
        plan.points[0] = (plan.points[0] + lanes - 1) / lanes * lanes;
      unsigned int left[max_dim];
      std::copy(plan.levels, plan.levels + max_dim, left);
      for (unsigned int s = 0; s < n_stages; ++s)
        {
          const unsigned int m = static_cast<unsigned int>(std::max_element(left, left + max_dim) - left);
          plan.order.push_back(m);
          --left[m];
        }
      // Sources coarsen stage by stage, targets refine: each stage's boxes
      // follow from the neighbouring stage's (far fewer than the leaves).
      plan.stage_sources.resize(n_stages + 1);
      plan.stage_targets.resize(n_stages + 1);
      plan.stage_sources[0]        = occupancy.sources;
      plan.stage_targets[n_stages] = occupancy.targets;
      for (unsigned int s = 0; s < n_stages; ++s)
        {
          unsigned int once[max_dim] = {};
          once[plan.order[s]]        = 1;
          plan.stage_sources[s + 1]  = coarsened(plan.stage_sources[s], once);
        }
      for (unsigned int s = n_stages; s > 0; --s)
        {
          unsigned int once[max_dim]    = {};
          once[plan.order[s - 1]]       = 1;
          plan.stage_targets[s - 1]     = coarsened(plan.stage_targets[s], once);
        }

      const unsigned int n_outputs = geometry.dim + 1;
      const double       block     = static_cast<double>(block_size(plan, n_outputs));
      plan.cost = (static_cast<double>(n_targets) + static_cast<double>(n_sources)) * block;
      for (unsigned int stage = 0; stage <= n_stages; ++stage)
        {
          const double pairs = static_cast<double>(plan.stage_targets[stage].size()) *
                               static_cast<double>(plan.stage_sources[stage].size());
          plan.pairs += static_cast<std::size_t>(pairs);
          plan.largest_stage = std::max(plan.largest_stage, pairs * block);
          plan.cost += pairs * pair_overhead;
          if (stage > 0)
            plan.cost += pairs * 2. * plan.points[plan.order[stage - 1]] * block;
        }
      return plan;
    }

  } // namespace

  std::vector<double> chebyshev_points(unsigned int n)
  {
    std::vector<double> x(n);
    for (unsigned int k = 0; k < n; ++k)
      x[k] = n == 1 ? 0. : std::cos(M_PI * (2. * k + 1.) / (2. * n));
    return x;
  }

  void lagrange_values(unsigned int n, const double *points, double xi, double *values)
  {
    if (n == 1)
      {
        values[0] = 1.;
        return;
      }
    double total = 0.;
    for (unsigned int k = 0; k < n; ++k)
      {
        const double difference = xi - points[k];
        if (difference == 0.)
          {
            std::fill(values, values + n, 0.);
            values[k] = 1.;
            return;
          }
        const double weight = ((k % 2) ? -1. : 1.) * std::sin(M_PI * (2. * k + 1.) / (2. * n));
        values[k]           = weight / difference;
        total += values[k];
      }
    for (unsigned int k = 0; k < n; ++k)
      values[k] /= total;
  }

  Geometry find_geometry(const ExponentialSum &sum, std::size_t n_targets, const double *targets)
  {
    Geometry geometry;
    geometry.dim = sum.dim;
    for (unsigned int m = 0; m < sum.dim; ++m)
      {
        double low = std::numeric_limits<double>::infinity(), high = -low;
        for (std::size_t t = 0; t < n_targets; ++t)
          {
            low  = std::min(low, targets[t * sum.dim + m]);
            high = std::max(high, targets[t * sum.dim + m]);
          }
        geometry.target_low[m]  = low;
        geometry.target_half[m] = 0.5 * (high - low);
        low = std::numeric_limits<double>::infinity(), high = -low;
        for (std::size_t j = 0; j < sum.n_sources; ++j)
          {
            low  = std::min(low, sum.coordinate[j * sum.dim + m]);
            high = std::max(high, sum.coordinate[j * sum.dim + m]);
          }
        geometry.source_low[m]  = low;
        geometry.source_half[m] = 0.5 * (high - low);
      }
    return geometry;
  }

  std::vector<Key> distinct(std::vector<Key> keys)
  {
    if (keys.size() > (std::size_t(1) << 15))
      tbb::parallel_sort(keys.begin(), keys.end());
    else
      std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
  }

  std::vector<Key> coarsened(const std::vector<Key> &leaves, const unsigned int levels[max_dim])
  {
    std::vector<Key> keys(leaves.size());
    for (std::size_t i = 0; i < leaves.size(); ++i)
      keys[i] = coarsen(leaves[i], levels);
    return distinct(std::move(keys));
  }

  /// The cheapest plan over kappa_choices whose stages fit in memory,
  /// with the leaves of every target and source (infinite cost: none).
  Plan best_plan(const ExponentialSum &sum,
                 std::size_t           n_targets,
                 const double         *targets,
                 const Geometry       &geometry,
                 double                relative_accuracy)
  {
    // Larger kappa, fewer levels: each kappa's boxes from the last one's.
    Occupancy occupancy;
    levels_for(geometry, kappa_choices[0], occupancy.levels);
    occupancy.targets = distinct(
      leaf_keys(n_targets, targets, geometry.dim, geometry.target_low, geometry.target_half, occupancy.levels));
    occupancy.sources = distinct(leaf_keys(
      sum.n_sources, sum.coordinate, geometry.dim, geometry.source_low, geometry.source_half, occupancy.levels));
    Plan best;
    best.cost = std::numeric_limits<double>::infinity();
    bool first = true;
    for (const double kappa : kappa_choices)
      {
        unsigned int levels[max_dim], up[max_dim];
        levels_for(geometry, kappa, levels);
        if (!first && std::equal(levels, levels + max_dim, occupancy.levels))
          continue; // the same plan as the smaller kappa's
        first = false;
        for (unsigned int m = 0; m < max_dim; ++m)
          up[m] = occupancy.levels[m] - levels[m];
        occupancy.targets = coarsened(occupancy.targets, up);
        occupancy.sources = coarsened(occupancy.sources, up);
        std::copy(levels, levels + max_dim, occupancy.levels);
        Plan plan = make_plan(n_targets, sum.n_sources, geometry, occupancy, kappa, relative_accuracy);
        if (plan.largest_stage <= max_stage_doubles && plan.cost < best.cost)
          best = std::move(plan);
      }
    if (std::isfinite(best.cost))
      {
        best.target_leaves =
          leaf_keys(n_targets, targets, geometry.dim, geometry.target_low, geometry.target_half, best.levels);
        best.source_leaves = leaf_keys(
          sum.n_sources, sum.coordinate, geometry.dim, geometry.source_low, geometry.source_half, best.levels);
      }
    return best;
  }

} // namespace tpde::attention::fast::butterfly_detail
