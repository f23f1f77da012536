// Distributed fast summation (interpolate_distributed, fast_summation.h):
// the box recursion of fast_summation_boxes.cc run a level at a time by all
// processes together, each summing only its own sources.
//
// Why a level at a time: a node value needs every process's sources, so the
// processes must evaluate the same nodes at the same time. All boxes of a
// level are combined in one pair of reductions (the largest log-sum, then the
// sums rescaled to it), so the number of collective calls grows with the
// depth of the tree, not with the number of boxes. The trees must agree
// exactly (every process evaluates its own targets in them): the axes and the
// decisions are the first process's, broadcast.
//
// What is lost against one process: nested exact grids are re-evaluated,
// the degrees follow the exact grids' schedule (every process must raise
// them alike, but whether a grid can be factorised depends on the local
// sources), and pruning sees only the local sources (it keeps more). Where
// the local sources allow it (factorisable), a process sums its grid
// factorised (fast_summation_grid.cc), as one process would.
#include "attention/fast_summation_internal.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace tpde::attention::fast::detail
{
struct Interpolator::OpenBox
{
  Box          box;
  BoxLevels    levels;
  unsigned int depth       = 0;
  double       all_targets = 0.; // over all processes
};

namespace
{
  // Per point of ExponentialSum::partial: the tilted mean, then the log-sum.
  constexpr unsigned int mean_and_log(unsigned int dim) { return dim + 1; }

  // Decisions on a box, broadcast from the first process.
  enum Decision
  {
    accept_box = 0,
    raise_degree = 1,
    split_box = 2
  };
  // Per box: decision, split direction, degrees.
  constexpr std::size_t decision_size = 2 + max_dim;
} // namespace

void Interpolator::combine(std::size_t n_points, const std::vector<double> &partials, double *combined) const
{
  const unsigned int  width = mean_and_log(dim);
  std::vector<double> largest(n_points);
  for (std::size_t p = 0; p < n_points; ++p)
    largest[p] = partials[p * width + dim];
  collective->max(largest.data(), n_points);
  // sum_j e^{s_j} y_j and sum_j e^{s_j} over this process's sources, relative to the largest log-sum.
  std::vector<double> sums(n_points * width, 0.);
  for (std::size_t p = 0; p < n_points; ++p)
    {
      const double log_sum = partials[p * width + dim];
      if (!(log_sum > -std::numeric_limits<double>::infinity()))
        continue; // no sources here
      const double weight = std::exp(log_sum - largest[p]);
      for (unsigned int i = 0; i < dim; ++i)
        sums[p * width + i] = weight * partials[p * width + i];
      sums[p * width + dim] = weight;
    }
  collective->sum(sums.data(), sums.size());
  // The tilted means and log-sums of all processes' sources, then the outputs.
  for (std::size_t p = 0; p < n_points; ++p)
    {
      double *const mean_and_log = &sums[p * width];
      const double  total        = mean_and_log[dim];
      for (unsigned int i = 0; i < dim; ++i)
        mean_and_log[i] /= total;
      mean_and_log[dim] = largest[p] + std::log(total);
    }
  outputs_from_partials(n_points, sums.data(), combined);
}

void Interpolator::find_global_scale(const Indices &sources)
{
  if (sum.absolute_error)
    {
      log_half_budget = std::log(0.5 * tolerance);
      return;
    }
  // A few targets of every process (the extremes along the axes among them).
  std::vector<double> local;
  for (const std::size_t t : sample_targets(8))
    local.insert(local.end(), targets + t * dim, targets + (t + 1) * dim);
  std::size_t               offset = 0;
  const std::vector<double> points = collective->gather(local, offset);
  const std::size_t         n      = points.size() / dim;
  std::vector<double>       partials(n * mean_and_log(dim)), sample_values(n * n_outputs);
  sum.partial(n, points.data(), &sources, partials.data());
  combine(n, partials, sample_values.data());
  log_half_budget = std::log(0.5 * tolerance) + largest_log_velocity(n, sample_values.data());
}

std::vector<double> Interpolator::level_points(const std::vector<OpenBox> &boxes, std::vector<std::size_t> &first) const
{
  // Every box's grid nodes, then its check points the first time.
  first.assign(boxes.size() + 1, 0);
  std::vector<double>      points;
  for (std::size_t b = 0; b < boxes.size(); ++b)
    {
      first[b]                 = points.size() / dim;
      const OpenBox    &open   = boxes[b];
      const Degrees    &degree = open.levels.degrees;
      const std::size_t nodes  = node_count(degree);
      for (std::size_t node = 0; node < nodes + (open.levels.checked ? 0 : n_check_points); ++node)
        {
          double reference[max_dim];
          if (node < nodes)
            {
              unsigned int index[max_dim];
              node_index(node, degree, index);
              for (unsigned int m = 0; m < n_active; ++m)
                reference[m] = std::cos(M_PI * index[m] / degree[m]);
            }
          else
            std::copy(check_points[node - nodes], check_points[node - nodes] + max_dim, reference);
          points.resize(points.size() + dim);
          score_vector(reference, open.box, &points[points.size() - dim]);
        }
    }
  first[boxes.size()]      = points.size() / dim;
  return points;
}

std::vector<Interpolator::OpenBox> Interpolator::refine_level(std::vector<OpenBox> &boxes, Statistics &statistics)
{
  std::vector<std::size_t> first;
  const std::vector<double> points = level_points(boxes, first);
  const std::size_t n_all  = first[boxes.size()];
  const unsigned int width = mean_and_log(dim);
  std::vector<double> partials(n_all * width), combined(n_all * n_outputs);
  auto                since = profile.start();
  for (std::size_t b = 0; b < boxes.size(); ++b)
    {
      // The grid factorised where that is accurate on this process's sources (each
      // process decides for itself: only the values are combined), its check points exactly.
      const std::size_t n = first[b + 1] - first[b], n_nodes = node_count(boxes[b].levels.degrees);
      double *const     box_partials = &partials[first[b] * width];
      const bool        gridded = partial_grid(boxes[b].box, boxes[b].levels.degrees, box_partials);
      const std::size_t n_exact = gridded ? n - n_nodes : n;
      if (n_exact > 0)
        sum.partial(n_exact, &points[(first[b + 1] - n_exact) * dim], &boxes[b].box.sources,
                    &partials[(first[b + 1] - n_exact) * width]);
      count_exact(boxes[b].box, boxes[b].levels, n_exact);
      if (gridded)
        {
          count_exact(boxes[b].box, boxes[b].levels, n_nodes, n_active >= 2 ? factorised_node_cost : 1.);
          boxes[b].levels.statistics.grid_node_evaluations += n_nodes;
        }
    }
  profile.stop(phase_nodes, since);
  combine(n_all, partials, combined.data());

  since = profile.start();
  std::vector<Estimate> estimates(boxes.size());
  std::vector<double>   decisions(boxes.size() * decision_size, 0.);
  for (std::size_t b = 0; b < boxes.size(); ++b)
    {
      BoxLevels        &levels = boxes[b].levels;
      const std::size_t nodes  = node_count(levels.degrees);
      const double     *values = &combined[first[b] * n_outputs];
      levels.node_values.assign(values, values + nodes * n_outputs);
      if (!levels.checked)
        {
          std::copy(values + nodes * n_outputs, values + (nodes + n_check_points) * n_outputs,
                    levels.check_exact.begin());
          levels.checked = true;
        }
      estimates[b]   = estimate_error(levels);
      double *decide = &decisions[b * decision_size];
      if (estimates[b].error <= estimates[b].budget)
        decide[0] = accept_box;
      else if (raise_degrees(levels, estimates[b]))
        decide[0] = raise_degree;
      else
        {
          decide[0] = split_box;
          decide[1] = split_direction(levels);
        }
      for (unsigned int m = 0; m < n_active; ++m)
        decide[2 + m] = levels.degrees[m];
    }
  collective->broadcast(decisions.data(), decisions.size());

  std::vector<OpenBox> next;
  for (std::size_t b = 0; b < boxes.size(); ++b)
    {
      OpenBox      &open   = boxes[b];
      const double *decide = &decisions[b * decision_size];
      statistics.node_evaluations += open.levels.statistics.node_evaluations;
      statistics.grid_node_evaluations += open.levels.statistics.grid_node_evaluations;
      statistics.interactions += open.levels.statistics.interactions;
      statistics.node_work += open.levels.statistics.node_work;
      open.levels.statistics = {};
      if (decide[0] == accept_box)
        {
          trim_coefficients(estimates[b]);
          interpolate_targets(open.box, estimates[b].interpolant);
          statistics.boxes_interpolated += 1;
        }
      else if (decide[0] == raise_degree)
        {
          for (unsigned int m = 0; m < n_active; ++m)
            open.levels.degrees[m] = static_cast<unsigned int>(decide[2 + m]);
          next.push_back(std::move(open));
        }
      else
        {
          Box children[2];
          halve(open.box, static_cast<unsigned int>(decide[1]), children);
          for (Box &child : children)
            {
              OpenBox half;
              half.box    = std::move(child);
              half.levels = levels_for(false);
              half.depth  = open.depth + 1;
              next.push_back(std::move(half));
            }
          statistics.boxes_split += 1;
        }
    }
  profile.stop(phase_coefficients, since);

  // Halves without targets on any process are dropped.
  std::vector<double> counts(next.size());
  for (std::size_t b = 0; b < next.size(); ++b)
    counts[b] = static_cast<double>(next[b].box.targets.size());
  collective->sum(counts.data(), counts.size());
  std::vector<OpenBox> kept;
  for (std::size_t b = 0; b < next.size(); ++b)
    if (counts[b] > 0.)
      {
        next[b].all_targets = counts[b];
        kept.push_back(std::move(next[b]));
      }
  return kept;
}

void Interpolator::sum_directly_across(const std::vector<OpenBox> &boxes, Statistics &statistics)
{
  if (boxes.empty())
    return; // on every process: they share the list
  const auto          since   = profile.start();
  const std::size_t   n_boxes = boxes.size();
  std::vector<double> local_counts(n_boxes), local_points;
  for (std::size_t b = 0; b < n_boxes; ++b)
    {
      local_counts[b] = static_cast<double>(boxes[b].box.targets.size());
      for (const std::size_t t : boxes[b].box.targets)
        local_points.insert(local_points.end(), targets + t * dim, targets + (t + 1) * dim);
    }
  std::size_t               count_offset = 0, point_offset = 0;
  const std::vector<double> counts  = collective->gather(local_counts, count_offset);
  const std::vector<double> points  = collective->gather(local_points, point_offset);
  const std::size_t         n_ranks = counts.size() / n_boxes;
  const std::size_t         n_all   = points.size() / dim;

  // Where each (process, box) block of gathered points starts.
  std::vector<std::size_t> start(n_ranks * n_boxes + 1, 0);
  for (std::size_t k = 0; k < n_ranks * n_boxes; ++k)
    start[k + 1] = start[k] + static_cast<std::size_t>(counts[k]);
  // Each box's points from all processes, summed over this process's sources of that box.
  const unsigned int  width = mean_and_log(dim);
  std::vector<double> partials(n_all * width);
  for (std::size_t b = 0; b < n_boxes; ++b)
    {
      std::vector<double> box_points;
      for (std::size_t r = 0; r < n_ranks; ++r)
        box_points.insert(box_points.end(), &points[start[r * n_boxes + b] * dim],
                          &points[start[r * n_boxes + b + 1] * dim]);
      const std::size_t   n = box_points.size() / dim;
      std::vector<double> box_partials(n * width);
      sum.partial(n, box_points.data(), &boxes[b].box.sources, box_partials.data());
      statistics.interactions += static_cast<double>(n) * static_cast<double>(boxes[b].box.sources.size());
      std::size_t at = 0;
      for (std::size_t r = 0; r < n_ranks; ++r)
        {
          const std::size_t from = start[r * n_boxes + b], to = start[r * n_boxes + b + 1];
          std::copy(&box_partials[at * width], &box_partials[(at + to - from) * width], &partials[from * width]);
          at += to - from;
        }
    }
  std::vector<double> combined(n_all * n_outputs);
  combine(n_all, partials, combined.data());
  std::size_t mine = point_offset / dim;
  for (const OpenBox &open : boxes)
    {
      for (const std::size_t t : open.box.targets)
        {
          std::copy(&combined[mine * n_outputs], &combined[(mine + 1) * n_outputs], values + t * n_outputs);
          ++mine;
        }
      statistics.direct_targets += open.box.targets.size();
    }
  statistics.boxes_direct += n_boxes;
  profile.stop(phase_direct, since);
}

Statistics Interpolator::run_distributed()
{
  auto since = profile.start();
  find_axes();
  Box root = make_root_box();
  find_global_scale(root.sources);
  last_degree = n_active == 1 ? max_degree : 32;
  std::vector<OpenBox> open(1);
  open[0].box         = std::move(root);
  open[0].levels      = levels_for(false);
  open[0].all_targets = static_cast<double>(n_targets);
  collective->sum(&open[0].all_targets, 1);
  profile.stop(phase_setup, since);

  Statistics statistics;
  while (!open.empty())
    {
      // Boxes with fewer targets in all than their grid has nodes are summed directly.
      std::vector<OpenBox> direct, gridded;
      for (OpenBox &box : open)
        {
          const double nodes = static_cast<double>(node_count(box.levels.degrees) + n_check_points);
          (box.all_targets <= nodes || box.depth >= max_depth ? direct : gridded).push_back(std::move(box));
        }
      sum_directly_across(direct, statistics);
      open = refine_level(gridded, statistics);
    }
  profile.print();
  if (profile.enabled)
    std::fprintf(stderr,
                 "  distributed boxes: %zu interpolated, %zu direct (%zu local targets), %zu split; %zu "
                 "local node evaluations\n",
                 statistics.boxes_interpolated, statistics.boxes_direct, statistics.direct_targets,
                 statistics.boxes_split, statistics.node_evaluations);
  return statistics;
}
} // namespace tpde::attention::fast::detail
