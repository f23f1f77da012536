// The adaptive box recursion of the fast summation: degrees per direction,
// the error estimate, accepting, refining or splitting a box.
#include "attention/fast_summation_internal.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>

namespace tpde::attention::fast::detail
{
Interpolator::BoxLevels Interpolator::start_levels(const Box &box) const
{
  return levels_for(factorisable(box));
}

Interpolator::BoxLevels Interpolator::levels_for(const bool factorised) const
{
  BoxLevels levels;
  levels.check_exact.resize(n_check_points * n_outputs);
  // Cost of a node relative to an exact sum at a target (per source):
  // a node of a factorised grid costs (dim + 1) multiply-adds per
  // source, an exact sum an exponential and its score too.
  // (In 1D a factorised node still needs an exponential per source.)
  levels.node_cost = factorised && n_active >= 2 ? factorised_node_cost : 1.;
  // Degrees: multiples of 8 up to last_degree; but exact 3D grids (not
  // factorisable) only multiples of 4 up to 16, since a 33^3 grid of
  // exact sums costs more than most boxes are worth.
  levels.first_degree = n_active == 3 && !factorised ? 4 : 8;
  levels.last_degree  = n_active == 3 && !factorised ? std::min(16u, last_degree) : last_degree;
  // Degrees from first_degree, doubled per direction (up to last_degree)
  // where that direction's coefficient tail is not yet small, on nested
  // grids: the degree-n nodes are the even-index nodes of the degree-2n
  // grid, so each level evaluates only the new nodes.
  for (unsigned int m = 0; m < n_active; ++m)
    levels.degrees[m] = levels.first_degree;
  return levels;
}

void Interpolator::count_exact(const Box &box, BoxLevels &levels, std::size_t n_points, double cost)
{
  const double work = static_cast<double>(n_points) * static_cast<double>(box.sources.size());
  levels.statistics.node_evaluations += n_points;
  levels.statistics.interactions += work;
  levels.statistics.node_work += work;
  levels.node_work += cost * work;
}

bool Interpolator::affordable(const Box &box, const BoxLevels &levels) const
{
  // An upper bound: exact grids evaluate only the nodes not known yet.
  // A factorised node is charged at its cost relative to an exact sum, as
  // the probe charges it (charging it as an exact sum summed 20 times as
  // many targets directly as `fast` on 1e5 clustered particles).
  const double nodes = levels.node_cost * static_cast<double>(node_count(levels.degrees)) +
                       (levels.checked ? 0. : static_cast<double>(n_check_points));
  return levels.node_work + nodes * static_cast<double>(box.sources.size()) <= box.allowance;
}

bool Interpolator::evaluate_check_points(const Box &box, BoxLevels &levels)
{
  if (levels.checked)
    return true;
  std::vector<double> points(n_check_points * dim);
  for (std::size_t c = 0; c < n_check_points; ++c)
    score_vector(check_points[c], box, &points[c * dim]);
  if (!charge(n_check_points, box.sources.size()))
    return false;
  const auto since = profile.start();
  sum.evaluate(n_check_points, points.data(), &box.sources, levels.check_exact.data());
  profile.stop(phase_nodes, since);
  count_exact(box, levels, n_check_points);
  levels.checked = true;
  return true;
}

bool Interpolator::evaluate_nodes_exactly(const Box &box, BoxLevels &levels)
{
  auto              since   = profile.start();
  const Degrees    &degrees = levels.degrees;
  const std::size_t n_nodes = node_count(degrees);
  const auto        key_of  = [&](std::size_t node) {
    unsigned int index[max_dim];
    node_index(node, degrees, index);
    std::array<unsigned int, 2 * max_dim> key = {};
    for (unsigned int m = 0; m < n_active; ++m)
      {
        const unsigned int common = std::gcd(index[m], degrees[m]);
        key[2 * m]                = index[m] / common;
        key[2 * m + 1]            = degrees[m] / common;
      }
    return key;
  };
  std::vector<double>                                points;
  std::vector<std::array<unsigned int, 2 * max_dim>> new_keys;
  for (std::size_t node = 0; node < n_nodes; ++node)
    {
      const auto key = key_of(node);
      if (levels.known.count(key) == 0)
        {
          double reference[max_dim];
          for (unsigned int m = 0; m < n_active; ++m)
            reference[m] = std::cos(M_PI * key[2 * m] / key[2 * m + 1]);
          points.resize(points.size() + dim);
          score_vector(reference, box, &points[points.size() - dim]);
          new_keys.push_back(key);
          levels.known[key]; // reserved: a grid holds each key once
        }
    }
  if (!levels.checked)
    for (std::size_t c = 0; c < n_check_points; ++c)
      {
        points.resize(points.size() + dim);
        score_vector(check_points[c], box, &points[points.size() - dim]);
      }
  const std::size_t n_new = points.size() / dim;
  if (!charge(n_new, box.sources.size()))
    return false;
  std::vector<double> exact(n_new * n_outputs);
  profile.stop(phase_coefficients, since);
  since = profile.start();
  sum.evaluate(n_new, points.data(), &box.sources, exact.data());
  profile.stop(phase_nodes, since);
  since = profile.start();
  count_exact(box, levels, n_new);
  for (std::size_t i = 0; i < new_keys.size(); ++i)
    levels.known[new_keys[i]].assign(&exact[i * n_outputs], &exact[(i + 1) * n_outputs]);
  if (!levels.checked)
    {
      std::copy(exact.end() - n_check_points * n_outputs, exact.end(), levels.check_exact.begin());
      levels.checked = true;
    }
  levels.node_values.resize(n_nodes * n_outputs);
  for (std::size_t node = 0; node < n_nodes; ++node)
    {
      const std::vector<double> &value = levels.known[key_of(node)];
      std::copy(value.begin(), value.end(), &levels.node_values[node * n_outputs]);
    }
  profile.stop(phase_coefficients, since);
  return true;
}

double Interpolator::log_weight(const Estimate &estimate) const
{
  return sum.absolute_error ? 1. : estimate.largest_q;
}

double Interpolator::coefficient_size(const Estimate &estimate, std::size_t node) const
{
  const std::vector<double> &coefficients = estimate.interpolant.coefficients;
  double                     q            = 0.;
  for (unsigned int i = 0; i < dim; ++i)
    q = std::max(q, std::abs(coefficients[node * n_outputs + i]));
  return q + (sum.log_scale ? log_weight(estimate) * std::abs(coefficients[node * n_outputs + dim]) : 0.);
}

Interpolator::Estimate Interpolator::estimate_error(BoxLevels &levels) const
{
  const Degrees            &degrees     = levels.degrees;
  const std::size_t         n_nodes     = node_count(degrees);
  const std::vector<double> &node_values = levels.node_values;
  Estimate                   estimate;

  // Sizes over the nodes: max |q| and max L (L is convex in a, so
  // its maximum over the box is at a corner, which is a node).
  double largest_log_scale = -std::numeric_limits<double>::infinity();
  for (std::size_t node = 0; node < n_nodes; ++node)
    {
      for (unsigned int i = 0; i < dim; ++i)
        estimate.largest_q = std::max(estimate.largest_q, std::abs(node_values[node * n_outputs + i]));
      if (sum.log_scale)
        largest_log_scale = std::max(largest_log_scale, node_values[node * n_outputs + dim]);
    }
  estimate.budget =
    std::exp(log_half_budget - (sum.log_scale && !sum.absolute_error ? largest_log_scale : 0.));

  Interpolant &interpolant = estimate.interpolant;
  interpolant.degrees      = degrees;
  interpolant.coefficients = node_values;
  to_coefficients(degrees, interpolant.coefficients);

  // Coefficient tails per direction: sum of |c| with degree >= n - 1
  // in that direction, as q's worst component + max|q| |c of L|;
  // and the largest such coefficient of degree >= 1 (the size
  // against which the decay is measured).
  double      *tail           = levels.tail;
  unsigned int index[max_dim] = {};
  std::fill(tail, tail + max_dim, 0.);
  for (std::size_t node = 0; node < n_nodes; ++node)
    {
      bool constant = true;
      for (unsigned int m = 0; m < n_active; ++m)
        {
          constant = constant && index[m] == 0;
          if (index[m] + 1 >= degrees[m])
            tail[m] += coefficient_size(estimate, node);
        }
      if (!constant)
        estimate.largest_coefficient =
          std::max(estimate.largest_coefficient, coefficient_size(estimate, node));
      for (unsigned int m = 0; m < n_active && ++index[m] > degrees[m]; ++m)
        index[m] = 0;
    }
  double error = 0.;
  for (unsigned int m = 0; m < n_active; ++m)
    error += tail[m];

  const unsigned int line_size = n_active == 0 ? 1 : degrees[0] + 1;
  interpolant.line_length.assign(n_nodes / line_size, line_size); // all coefficients
  for (std::size_t c = 0; c < n_check_points; ++c)
    {
      double interpolated[max_dim + 1];
      interpolant_value(interpolant, check_points[c], interpolated);
      const double *reference = &levels.check_exact[c * n_outputs];
      double        q_error   = 0.;
      for (unsigned int i = 0; i < dim; ++i)
        q_error = std::max(q_error, std::abs(interpolated[i] - reference[i]));
      error = std::max(error,
                       q_error + (sum.log_scale ?
                                    log_weight(estimate) * std::abs(interpolated[dim] - reference[dim]) :
                                    0.));
    }
  estimate.error = error;
  return estimate;
}

void Interpolator::trim_coefficients(Estimate &estimate) const
{
  // Drop the smallest coefficients while their sum stays within half of
  // the unused budget (what they can add anywhere); lines along direction
  // 0 end after their last kept coefficient, which shortens the
  // evaluation at the targets.
  Interpolant       &interpolant = estimate.interpolant;
  const std::size_t  n_nodes     = node_count(interpolant.degrees);
  const unsigned int line_size   = n_active == 0 ? 1 : interpolant.degrees[0] + 1;
  const std::size_t  n_lines     = n_nodes / line_size;
  std::vector<double> sizes(n_nodes);
  for (std::size_t node = 0; node < n_nodes; ++node)
    sizes[node] = coefficient_size(estimate, node);
  std::vector<double> sorted = sizes;
  std::sort(sorted.begin(), sorted.end());
  double dropped = 0., threshold = -1.;
  for (const double c : sorted)
    {
      dropped += c;
      if (dropped > 0.5 * (estimate.budget - estimate.error))
        break;
      threshold = c;
    }
  interpolant.line_length.assign(n_lines, 0);
  for (std::size_t line = 0; line < n_lines; ++line)
    for (unsigned int k = 0; k < line_size; ++k)
      if (sizes[line * line_size + k] > threshold)
        interpolant.line_length[line] = k + 1;
}

void Interpolator::interpolate_targets(const Box &box, const Interpolant &interpolant)
{
  // Eight targets at a time, one per vector lane.
  const std::size_t n_groups = (box.targets.size() + lanes - 1) / lanes;
  tbb::parallel_for(
    tbb::blocked_range<std::size_t>(0, n_groups, 32),
    [&](const tbb::blocked_range<std::size_t> &range) {
      for (std::size_t group = range.begin(); group != range.end(); ++group)
        {
          double xi[max_dim][lanes], group_values[max_dim + 1][lanes];
          for (std::size_t l = 0; l < lanes; ++l)
            {
              // A short last group repeats its last target.
              const std::size_t t = box.targets[std::min(group * lanes + l, box.targets.size() - 1)];
              for (unsigned int m = 0; m < n_active; ++m)
                {
                  const double u = target_u[t * dim + active[m]];
                  xi[m][l] = (2. * u - box.lower[m] - box.upper[m]) / (box.upper[m] - box.lower[m]);
                }
            }
          evaluate_interpolant_lanes(n_active,
                                     interpolant.degrees.data(),
                                     n_outputs,
                                     interpolant.coefficients.data(),
                                     interpolant.line_length.data(),
                                     xi,
                                     group_values);
          for (std::size_t l = 0; l < lanes && group * lanes + l < box.targets.size(); ++l)
            for (unsigned int o = 0; o < n_outputs; ++o)
              values[box.targets[group * lanes + l] * n_outputs + o] = group_values[o][l];
        }
    });
}

bool Interpolator::raise_degrees(BoxLevels &levels, const Estimate &estimate) const
{
  // Directions whose tail exceeds their share of the budget get a
  // higher degree, from the multiples of first_degree up to
  // last_degree. Geometric decay c_k ~ C r^k predicts the tail at
  // degree n' from the one at n as tail (tail / C)^((n' - n) / n):
  // the smallest degree predicted to pass with a margin of 10 is
  // taken. If some direction is not predicted to pass even at
  // last_degree, the box is split instead (raising the degree is
  // cheaper than splitting only when it works).
  Degrees           &degrees  = levels.degrees;
  const double      *tail     = levels.tail;
  const unsigned int first    = levels.first_degree, last = levels.last_degree;
  const double       share    = estimate.budget / (2. * std::max(1u, n_active));
  bool               refining = false, promising = true;
  for (unsigned int m = 0; m < n_active; ++m)
    if (tail[m] > share)
      {
        refining           = true;
        const double ratio = estimate.largest_coefficient > 0. ? tail[m] / estimate.largest_coefficient : 0.;
        unsigned int next  = degrees[m] + first;
        const auto   predicted = [&](unsigned int n) {
          return tail[m] * std::pow(ratio, static_cast<double>(n - degrees[m]) / degrees[m]);
        };
        while (next < last && !(predicted(next) <= 0.1 * share))
          next += first;
        promising  = promising && degrees[m] < last && predicted(next) <= 10. * share;
        degrees[m] = std::min(next, last);
      }
  return refining && promising;
}

unsigned int Interpolator::split_direction(const BoxLevels &levels) const
{
  unsigned int split = 0;
  for (unsigned int m = 1; m < n_active; ++m)
    if (levels.tail[m] > levels.tail[split])
      split = m;
  return split;
}

void Interpolator::halve(const Box &box, unsigned int direction, Box children[2]) const
{
  const double middle = 0.5 * (box.lower[direction] + box.upper[direction]);
  for (unsigned int c = 0; c < 2; ++c)
    {
      std::copy(box.lower, box.lower + n_active, children[c].lower);
      std::copy(box.upper, box.upper + n_active, children[c].upper);
    }
  children[0].upper[direction] = middle;
  children[1].lower[direction] = middle;
  for (const std::size_t t : box.targets)
    children[target_u[t * dim + active[direction]] <= middle ? 0 : 1].targets.push_back(t);
  for (unsigned int c = 0; c < 2; ++c)
    children[c].sources = prune(children[c], box.sources);
}

Statistics Interpolator::split(const Box &box, unsigned int depth, const BoxLevels &levels)
{
  const auto since = profile.start();
  Box        children[2];
  halve(box, split_direction(levels), children);
  const double left = std::max(0., box.allowance - levels.node_work);
  for (Box &child : children)
    child.allowance = left * static_cast<double>(child.targets.size()) /
                      static_cast<double>(box.targets.size());
  profile.stop(phase_split, since);

  Statistics from_children[2];
  tbb::parallel_invoke([&] { from_children[0] = process(children[0], depth + 1); },
                       [&] { from_children[1] = process(children[1], depth + 1); });
  Statistics statistics = levels.statistics;
  statistics.boxes_split += 1;
  for (const Statistics &child : from_children)
    {
      statistics.boxes_interpolated += child.boxes_interpolated;
      statistics.boxes_direct += child.boxes_direct;
      statistics.boxes_split += child.boxes_split;
      statistics.node_evaluations += child.node_evaluations;
      statistics.grid_node_evaluations += child.grid_node_evaluations;
      statistics.direct_targets += child.direct_targets;
      statistics.interactions += child.interactions;
      statistics.node_work += child.node_work;
    }
  return statistics;
}

Statistics Interpolator::process(Box &box, unsigned int depth)
{
  BoxLevels levels = start_levels(box);
  for (;;)
    {
      const std::size_t n_nodes = node_count(levels.degrees);
      // Direct evaluation is cheaper than this level (and ends the
      // recursion).
      // Also when the box's allowance does not cover the level.
      if (box.targets.size() <= levels.node_cost * n_nodes + n_check_points || depth >= max_depth ||
          !affordable(box, levels))
        {
          Statistics direct = evaluate_directly(box);
          direct.node_evaluations += levels.statistics.node_evaluations;
          direct.grid_node_evaluations += levels.statistics.grid_node_evaluations;
          direct.interactions += levels.statistics.interactions;
          direct.node_work += levels.statistics.node_work;
          return direct;
        }

      // The whole grid factorised where that is accurate: cheaper per
      // node than exact sums, though it cannot reuse the nodes of the
      // coarser grids (which the exact path keeps in levels.known).
      auto       since   = profile.start();
      const bool gridded = evaluate_grid(box, levels.degrees, levels.node_values);
      profile.stop(phase_nodes, since);
      if (gridded)
        {
          // Charged at their cost relative to exact sums: a probe's budget is time.
          if (!charge(n_nodes, box.sources.size(), factorised_node_cost))
            return abandon();
          count_exact(box, levels, n_nodes, levels.node_cost);
          levels.statistics.grid_node_evaluations += n_nodes;
          if (!evaluate_check_points(box, levels))
            return abandon();
        }
      else if (!evaluate_nodes_exactly(box, levels))
        return abandon();

      since             = profile.start();
      Estimate estimate = estimate_error(levels);
      if (std::getenv("TPDE_FAST_BOXES"))
        std::fprintf(stderr, "box depth %u targets %zu sources %zu %s degrees %u %u %u error/budget %.3g tails %.3g %.3g %.3g width %.3g %.3g %.3g\n",
                     depth, box.targets.size(), box.sources.size(), gridded ? "grid" : "exact",
                     levels.degrees[0], levels.degrees[1], levels.degrees[2], estimate.error / estimate.budget,
                     levels.tail[0]/estimate.budget, levels.tail[1]/estimate.budget, levels.tail[2]/estimate.budget,
                     box.upper[0]-box.lower[0], box.upper[1]-box.lower[1], box.upper[2]-box.lower[2]);
      if (estimate.error <= estimate.budget)
        trim_coefficients(estimate);
      profile.stop(phase_coefficients, since);
      if (estimate.error <= estimate.budget)
        {
          since = profile.start();
          if (!sum.probe)
            interpolate_targets(box, estimate.interpolant);
          profile.stop(phase_targets, since);
          levels.statistics.boxes_interpolated = 1;
          return levels.statistics;
        }
      if (!raise_degrees(levels, estimate))
        break;
    }

  if (depth == 0 && dim == 2)
    {
      root_split              = true;
      Statistics by_butterfly = levels.statistics;
      if (try_butterfly(box, by_butterfly))
        return by_butterfly;
      levels.statistics.node_work = by_butterfly.node_work; // spent whether kept or not
    }
  return split(box, depth, levels);
}
} // namespace tpde::attention::fast::detail
