// Adaptive Chebyshev interpolation of the exponential sums in score space;
// the method and its error budget are described in fast_summation.h. This
// file: the driver (axes, root box, velocity scale, pruning, Chebyshev
// transforms); see fast_summation_internal.h for the other parts.
#include "attention/fast_summation.h"
#include "attention/fast_summation_internal.h"
#include "common/symmetric_eigen.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <stdexcept>

namespace tpde::attention::fast
{
  namespace detail
  {
    Statistics Interpolator::run()
    {
      auto since = profile.start();
      find_axes();
      Box root = make_root_box();
      if (!find_scale(root.sources))
        return abandon();
      const double scale_work = sum.absolute_error ? 0. : static_cast<double>(scale_sample.size()) *
                                                             static_cast<double>(root.sources.size());
      root.allowance = node_allowance - scale_work;
      profile.stop(phase_setup, since);
      Statistics by_butterfly;
      if (try_butterfly(root, by_butterfly))
        {
          by_butterfly.node_work += scale_work;
          return by_butterfly;
        }
      last_degree = n_active == 1 ? max_degree : 32;
      Statistics statistics = process(root, 0);
      statistics.abandoned  = abandoned;
      statistics.node_work += scale_work + by_butterfly.node_work;
      profile.print();
      if (profile.enabled)
        std::fprintf(stderr,
                     "  boxes: %zu interpolated, %zu direct (%zu targets), %zu split; %zu node "
                     "evaluations (%zu factorised); %.3g exact interactions; degrees %u..%u\n",
                     statistics.boxes_interpolated,
                     statistics.boxes_direct,
                     statistics.direct_targets,
                     statistics.boxes_split,
                     statistics.node_evaluations,
                     statistics.grid_node_evaluations,
                     statistics.interactions,
                     8u,
                     last_degree);
      return statistics;
    }

    bool Interpolator::charge(std::size_t n_points, std::size_t n_sources, double weight)
    {
      const double cost = weight * static_cast<double>(n_points) * static_cast<double>(n_sources);
      double       total = spent.load();
      while (!spent.compare_exchange_weak(total, total + cost))
        ;
      if (total + cost > max_interactions)
        abandoned = true;
      return !abandoned;
    }

    Statistics Interpolator::abandon()
    {
      Statistics statistics;
      statistics.abandoned = true;
      return statistics;
    }

    void Interpolator::find_axes()
    {
      using Sums         = std::array<double, max_dim * max_dim>;
      const auto add_sum = [](Sums &total, const Sums &part) {
        for (std::size_t i = 0; i < total.size(); ++i)
          total[i] += part[i];
      };
      // The sum of the targets and their bounds in the frame of a.
      struct Totals
      {
        Sums   sum{};
        Bounds box;
      };
      Totals totals = reduce_chunks(
        n_targets,
        Totals{},
        [&](std::size_t begin, std::size_t end, Totals &part) {
          for (std::size_t t = begin; t < end; ++t)
            for (unsigned int i = 0; i < dim; ++i)
              {
                part.sum[i] += targets[t * dim + i];
                part.box.include(i, targets[t * dim + i]);
              }
        },
        [&](Totals &total, const Totals &part) {
          add_sum(total.sum, part.sum);
          Bounds::combine(total.box, part.box);
        });
      global_bounds(totals.box.low, totals.box.high, dim);
      std::copy(totals.sum.begin(), totals.sum.begin() + max_dim, centre);
      double all_targets = static_cast<double>(n_targets);
      if (collective)
        {
          double sums[max_dim + 1] = {centre[0], centre[1], centre[2], all_targets};
          collective->sum(sums, max_dim + 1);
          std::copy(sums, sums + max_dim, centre);
          all_targets = sums[max_dim];
        }
      for (unsigned int i = 0; i < dim; ++i)
        centre[i] /= all_targets;
      Sums entries = reduce_chunks(
        n_targets,
        Sums{},
        [&](std::size_t begin, std::size_t end, Sums &part) {
          for (std::size_t t = begin; t < end; ++t)
            for (unsigned int i = 0; i < dim; ++i)
              for (unsigned int j = 0; j < dim; ++j)
                part[i * dim + j] += (targets[t * dim + i] - centre[i]) * (targets[t * dim + j] - centre[j]);
        },
        add_sum);
      if (collective)
        collective->sum(entries.data(), dim * dim);
      Matrix covariance(dim, dim);
      for (unsigned int i = 0; i < dim; ++i)
        for (unsigned int j = 0; j < dim; ++j)
          covariance(i, j) = entries[i * dim + j];
      const Matrix principal = symmetric_eigen(covariance).vectors;
      for (unsigned int i = 0; i < dim; ++i)
        for (unsigned int j = 0; j < dim; ++j)
          axes[i][j] = principal(i, j);
      if (collective)
        {
          // The first process's axes for all: the trees must agree exactly.
          double frame[max_dim + max_dim * max_dim];
          std::copy(centre, centre + max_dim, frame);
          for (unsigned int i = 0; i < max_dim; ++i)
            std::copy(axes[i], axes[i] + max_dim, frame + max_dim + i * max_dim);
          collective->broadcast(frame, max_dim + max_dim * max_dim);
          std::copy(frame, frame + max_dim, centre);
          for (unsigned int i = 0; i < max_dim; ++i)
            std::copy(frame + max_dim + i * max_dim, frame + max_dim + (i + 1) * max_dim, axes[i]);
        }

      target_u.resize(n_targets * dim);
      const Bounds bounds = reduce_chunks(
        n_targets,
        Bounds{},
        [&](std::size_t begin, std::size_t end, Bounds &part) {
          for (std::size_t t = begin; t < end; ++t)
            for (unsigned int k = 0; k < dim; ++k)
              {
                double u = 0.;
                for (unsigned int i = 0; i < dim; ++i)
                  u += axes[i][k] * (targets[t * dim + i] - centre[i]);
                target_u[t * dim + k] = u;
                part.include(k, u);
              }
        },
        Bounds::combine);
      std::copy(bounds.low, bounds.low + max_dim, target_low);
      std::copy(bounds.high, bounds.high + max_dim, target_high);
      global_bounds(target_low, target_high, dim);
      keep_frame_of_a_if_tighter(totals.box);

      double source_extent[max_dim];
      rotate_sources(source_extent);

      for (unsigned int k = 0; k < dim; ++k)
        if ((target_high[k] - target_low[k]) * source_extent[k] <= flat_fraction_of_tolerance * tolerance)
          flat_u[k] = 0.5 * (target_low[k] + target_high[k]);
        else
          active[n_active++] = k;
    }

    void Interpolator::keep_frame_of_a_if_tighter(const Bounds &box_of_a)
    {
      // Volumes with every extent raised to a millionth of the largest, so
      // that flat directions compare.
      const auto volume = [&](const double *low, const double *high) {
        double largest = 0.;
        for (unsigned int k = 0; k < dim; ++k)
          largest = std::max(largest, high[k] - low[k]);
        double product = 1.;
        for (unsigned int k = 0; k < dim; ++k)
          product *= std::max(high[k] - low[k], 1e-6 * largest);
        return product;
      };
      if (!(volume(box_of_a.low, box_of_a.high) < 0.9 * volume(target_low, target_high)))
        return;
      for (unsigned int i = 0; i < dim; ++i)
        {
          for (unsigned int k = 0; k < dim; ++k)
            axes[i][k] = i == k ? 1. : 0.;
          target_low[i]  = box_of_a.low[i] - centre[i];
          target_high[i] = box_of_a.high[i] - centre[i];
        }
      for_chunks(n_targets, [&](std::size_t begin, std::size_t end) {
        for (std::size_t t = begin; t < end; ++t)
          for (unsigned int k = 0; k < dim; ++k)
            target_u[t * dim + k] = targets[t * dim + k] - centre[k];
      });
    }

    void Interpolator::rotate_sources(double source_extent[max_dim])
    {
      const std::size_t n_sources = sum.n_sources;
      source_z.resize(n_sources * dim);
      source_log_weight.resize(n_sources);
      Bounds bounds = reduce_chunks(
        n_sources,
        Bounds{},
        [&](std::size_t begin, std::size_t end, Bounds &part) {
          for (std::size_t j = begin; j < end; ++j)
            {
              const double *y     = sum.coordinate + j * dim;
              double        score = sum.log_weight[j];
              for (unsigned int i = 0; i < dim; ++i)
                score += centre[i] * y[i];
              source_log_weight[j] = score;
              for (unsigned int k = 0; k < dim; ++k)
                {
                  double z = 0.;
                  for (unsigned int i = 0; i < dim; ++i)
                    z += axes[i][k] * y[i];
                  source_z[j * dim + k] = z;
                  part.include(k, z);
                }
            }
        },
        Bounds::combine);
      global_bounds(bounds.low, bounds.high, dim);
      double all_sources = static_cast<double>(n_sources);
      if (collective)
        collective->sum(&all_sources, 1);
      // Centring z drops a score <u, middle> common to all sources.
      for (unsigned int k = 0; k < dim; ++k)
        {
          source_middle[k] = 0.5 * (bounds.low[k] + bounds.high[k]);
          source_extent[k] = bounds.high[k] - bounds.low[k];
        }
      for_chunks(n_sources, [&](std::size_t begin, std::size_t end) {
        for (std::size_t j = begin; j < end; ++j)
          for (unsigned int k = 0; k < dim; ++k)
            source_z[j * dim + k] -= source_middle[k];
      });
      pruning_threshold = pruning_margin + std::log(all_sources + 1.);
    }

    void Interpolator::global_bounds(double *low, double *high, unsigned int n) const
    {
      if (!collective)
        return;
      double bounds[2 * max_dim];
      for (unsigned int k = 0; k < n; ++k)
        {
          bounds[k]     = high[k];
          bounds[n + k] = -low[k];
        }
      collective->max(bounds, 2 * n);
      for (unsigned int k = 0; k < n; ++k)
        {
          high[k] = bounds[k];
          low[k]  = -bounds[n + k];
        }
    }

    Box Interpolator::make_root_box() const
    {
      Box root;
      for (unsigned int m = 0; m < n_active; ++m)
        {
          root.lower[m] = target_low[active[m]];
          root.upper[m] = target_high[active[m]];
        }
      root.targets.resize(n_targets);
      std::iota(root.targets.begin(), root.targets.end(), std::size_t(0));
      root.sources = prune(root, nullptr, sum.n_sources);
      return root;
    }

    bool Interpolator::find_scale(const Indices &sources)
    {
      if (sum.absolute_error)
        {
          log_half_budget = std::log(0.5 * tolerance);
          return true;
        }
      scale_sample = sample_targets(scale_sample_size);
      if (!charge(scale_sample.size(), sources.size()))
        return false;
      std::vector<double> points;
      scale_values.resize(scale_sample.size() * n_outputs);
      for (const std::size_t t : scale_sample)
        points.insert(points.end(), targets + t * dim, targets + (t + 1) * dim);
      sum.evaluate(scale_sample.size(), points.data(), &sources, scale_values.data());
      log_half_budget = std::log(0.5 * tolerance) + largest_log_velocity(scale_sample.size(), scale_values.data());
      return true;
    }

    Indices Interpolator::sample_targets(std::size_t n_even) const
    {
      Indices sample;
      if (n_targets == 0)
        return sample;
      const std::size_t stride = std::max<std::size_t>(1, n_targets / n_even);
      for (std::size_t t = 0; t < n_targets; t += stride)
        sample.push_back(t);
      // The first target with the least and the greatest u_k, per k.
      using Extremes = std::array<std::size_t, 2 * max_dim>;
      const auto u   = [&](std::size_t t, unsigned int k) { return target_u[t * dim + k]; };
      const Extremes extremes = reduce_chunks(
        n_targets,
        Extremes{},
        [&](std::size_t begin, std::size_t end, Extremes &part) {
          for (unsigned int k = 0; k < dim; ++k)
            part[2 * k] = part[2 * k + 1] = begin;
          for (std::size_t t = begin + 1; t < end; ++t)
            for (unsigned int k = 0; k < dim; ++k)
              {
                if (u(t, k) < u(part[2 * k], k))
                  part[2 * k] = t;
                if (u(t, k) > u(part[2 * k + 1], k))
                  part[2 * k + 1] = t;
              }
        },
        [&](Extremes &total, const Extremes &part) {
          for (unsigned int k = 0; k < dim; ++k)
            {
              if (u(part[2 * k], k) < u(total[2 * k], k))
                total[2 * k] = part[2 * k];
              if (u(part[2 * k + 1], k) > u(total[2 * k + 1], k))
                total[2 * k + 1] = part[2 * k + 1];
            }
        });
      sample.insert(sample.end(), extremes.begin(), extremes.begin() + 2 * dim);
      return sample;
    }

    double Interpolator::largest_log_velocity(std::size_t n_points, const double *point_values) const
    {
      double log_scale = -std::numeric_limits<double>::infinity();
      for (std::size_t s = 0; s < n_points; ++s)
        {
          const double *v       = &point_values[s * n_outputs];
          double        largest = 0.;
          for (unsigned int i = 0; i < dim; ++i)
            largest = std::max(largest, std::abs(v[i]));
          log_scale = std::max(log_scale, std::log(largest) + (sum.log_scale ? v[dim] : 0.));
        }
      return log_scale;
    }

    void Interpolator::box_geometry(const Box &box, double middle[max_dim], double half[max_dim]) const
    {
      for (unsigned int k = 0; k < dim; ++k)
        {
          middle[k] = flat_u[k];
          half[k]   = 0.;
        }
      for (unsigned int m = 0; m < n_active; ++m)
        {
          middle[active[m]] = 0.5 * (box.lower[m] + box.upper[m]);
          half[active[m]]   = 0.5 * (box.upper[m] - box.lower[m]);
        }
    }

    Indices Interpolator::prune(const Box &box, const std::size_t *candidates, std::size_t n_candidates) const
    {
      double middle[max_dim], half[max_dim];
      box_geometry(box, middle, half);
      const auto source = [&](std::size_t c) { return candidates ? candidates[c] : c; };
      const auto bounds = [&](std::size_t j, double &low, double &high) {
        double centre_score = source_log_weight[j], spread = 0.;
        for (unsigned int k = 0; k < dim; ++k)
          {
            centre_score += middle[k] * source_z[j * dim + k];
            spread += half[k] * std::abs(source_z[j * dim + k]);
          }
        low  = centre_score - spread;
        high = centre_score + spread;
      };
      const double best_low = reduce_chunks(
        n_candidates,
        -std::numeric_limits<double>::infinity(),
        [&](std::size_t begin, std::size_t end, double &best) {
          for (std::size_t c = begin; c < end; ++c)
            {
              double low, high;
              bounds(source(c), low, high);
              best = std::max(best, low);
            }
        },
        [](double &best, double part) { best = std::max(best, part); });
      return filter_chunks<std::size_t>(
        n_candidates,
        [&](std::size_t c) {
          double low, high;
          bounds(source(c), low, high);
          return high >= best_low - pruning_threshold;
        },
        source);
    }

    void Interpolator::score_vector(const double reference[max_dim], const Box &box, double *a) const
    {
      double u[max_dim];
      for (unsigned int k = 0; k < dim; ++k)
        u[k] = flat_u[k];
      for (unsigned int m = 0; m < n_active; ++m)
        u[active[m]] = 0.5 * (box.lower[m] + box.upper[m]) +
                       0.5 * (box.upper[m] - box.lower[m]) * reference[m];
      for (unsigned int i = 0; i < dim; ++i)
        {
          a[i] = centre[i];
          for (unsigned int k = 0; k < dim; ++k)
            a[i] += axes[i][k] * u[k];
        }
    }

    std::size_t Interpolator::node_count(const Degrees &degrees) const
    {
      std::size_t count = 1;
      for (unsigned int m = 0; m < n_active; ++m)
        count *= degrees[m] + 1;
      return count;
    }

    void Interpolator::node_index(std::size_t node, const Degrees &degrees, unsigned int index[max_dim]) const
    {
      for (unsigned int m = 0; m < n_active; ++m)
        {
          index[m] = node % (degrees[m] + 1);
          node /= degrees[m] + 1;
        }
    }

    void Interpolator::to_coefficients(const Degrees &degrees, std::vector<double> &data) const
    {
      const std::size_t n_nodes = node_count(degrees);
      std::size_t       stride  = 1;
      for (unsigned int m = 0; m < n_active; stride *= degrees[m] + 1, ++m)
        {
          const unsigned int  n = degrees[m];
          std::vector<double> cosine((n + 1) * (n + 1)), line(n + 1);
          for (unsigned int k = 0; k <= n; ++k)
            for (unsigned int j = 0; j <= n; ++j)
              cosine[k * (n + 1) + j] =
                (j == 0 || j == n ? 0.5 : 1.) * (k == 0 || k == n ? 1. : 2.) / n *
                std::cos(M_PI * static_cast<double>(j * k % (2 * n)) / n);
          for (std::size_t start = 0; start < n_nodes; ++start)
            {
              if ((start / stride) % (n + 1) != 0)
                continue; // not the first node of a line in direction m
              for (unsigned int o = 0; o < n_outputs; ++o)
                {
                  for (unsigned int j = 0; j <= n; ++j)
                    line[j] = data[(start + j * stride) * n_outputs + o];
                  for (unsigned int k = 0; k <= n; ++k)
                    {
                      double c = 0.;
                      for (unsigned int j = 0; j <= n; ++j)
                        c += cosine[k * (n + 1) + j] * line[j];
                      data[(start + k * stride) * n_outputs + o] = c;
                    }
                }
            }
        }
    }

    void Interpolator::interpolant_value(const Interpolant &interpolant,
                                         const double       xi[max_dim],
                                         double            *result) const
    {
      const Degrees &n = interpolant.degrees;
      double         chebyshev[max_dim][max_degree + 1];
      for (unsigned int m = 0; m < n_active; ++m)
        {
          chebyshev[m][0] = 1.;
          chebyshev[m][1] = xi[m];
          for (unsigned int k = 2; k <= n[m]; ++k)
            chebyshev[m][k] = 2. * xi[m] * chebyshev[m][k - 1] - chebyshev[m][k - 2];
        }
      std::fill(result, result + n_outputs, 0.);
      const unsigned int line_size      = n_active == 0 ? 1 : n[0] + 1;
      const std::size_t  n_lines        = node_count(n) / line_size;
      unsigned int       index[max_dim] = {}; // of directions 1.. of the line
      for (std::size_t line = 0; line < n_lines; ++line)
        {
          const unsigned int length = interpolant.line_length[line];
          if (length > 0)
            {
              double weight = 1.;
              for (unsigned int m = 1; m < n_active; ++m)
                weight *= chebyshev[m][index[m]];
              const double *c = &interpolant.coefficients[line * line_size * n_outputs];
              double        along[max_dim + 1] = {};
              for (unsigned int k = 0; k < length; ++k)
                {
                  const double t = n_active > 0 ? chebyshev[0][k] : 1.;
                  for (unsigned int o = 0; o < n_outputs; ++o)
                    along[o] += t * c[k * n_outputs + o];
                }
              for (unsigned int o = 0; o < n_outputs; ++o)
                result[o] += weight * along[o];
            }
          for (unsigned int m = 1; m < n_active && ++index[m] > n[m]; ++m)
            index[m] = 0;
        }
    }

    Statistics Interpolator::evaluate_directly(const Box &box)
    {
      // A probe sums nothing here, so its budget is not charged: the plan
      // prices these targets at the full source count instead.
      if (!sum.probe && !charge(box.targets.size(), box.sources.size()))
        return abandon();
      const auto since = profile.start();
      Statistics statistics;
      statistics.boxes_direct   = 1;
      statistics.direct_targets = box.targets.size();
      statistics.interactions =
        static_cast<double>(box.targets.size()) * static_cast<double>(box.sources.size());
      if (sum.probe)
        return statistics;
      std::vector<double> points, box_values(box.targets.size() * n_outputs);
      points.reserve(box.targets.size() * dim);
      for (const std::size_t t : box.targets)
        points.insert(points.end(), targets + t * dim, targets + (t + 1) * dim);
      sum.evaluate(box.targets.size(), points.data(), &box.sources, box_values.data());
      for (std::size_t i = 0; i < box.targets.size(); ++i)
        std::copy(&box_values[i * n_outputs],
                  &box_values[(i + 1) * n_outputs],
                  values + box.targets[i] * n_outputs);
      profile.stop(phase_direct, since);
      return statistics;
    }
  } // namespace detail

  Statistics interpolate(const ExponentialSum &sum,
                         std::size_t           n_targets,
                         const double         *targets,
                         double                tolerance,
                         double               *values,
                         double                max_interactions,
                         double                node_allowance)
  {
    if (!(tolerance > 0.))
      throw std::invalid_argument("fast summation: the tolerance must be positive");
    if (sum.dim < 1 || sum.dim > detail::max_dim)
      throw std::invalid_argument("fast summation: dim must be 1, 2 or 3");
    if (n_targets == 0)
      return {};
    detail::Interpolator interpolator(
      sum, n_targets, targets, tolerance, max_interactions, node_allowance, values);
    return interpolator.run();
  }

  Statistics interpolate_distributed(const ExponentialSum &sum,
                                     std::size_t           n_targets,
                                     const double         *targets,
                                     double                tolerance,
                                     double               *values,
                                     const Collective     &collective)
  {
    if (!(tolerance > 0.))
      throw std::invalid_argument("fast summation: the tolerance must be positive");
    if (sum.dim < 1 || sum.dim > detail::max_dim)
      throw std::invalid_argument("fast summation: dim must be 1, 2 or 3");
    if (!sum.partial || sum.probe)
      throw std::invalid_argument("distributed fast summation: needs ExponentialSum::partial and no probe");
    const double unlimited = std::numeric_limits<double>::infinity();
    detail::Interpolator interpolator(sum, n_targets, targets, tolerance, unlimited, unlimited, values, &collective);
    return interpolator.run_distributed();
  }
} // namespace tpde::attention::fast
