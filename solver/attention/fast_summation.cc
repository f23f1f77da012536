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
      last_degree = n_active == 1 ? max_degree : 32;
      Statistics statistics = process(root, 0);
      statistics.abandoned  = abandoned;
      statistics.node_work += scale_work;
      profile.print();
      if (profile.enabled)
        std::fprintf(stderr,
                     "  boxes: %zu interpolated, %zu direct (%zu targets), %zu split; %zu node "
                     "evaluations; %.3g exact interactions; degrees %u..%u\n",
                     statistics.boxes_interpolated,
                     statistics.boxes_direct,
                     statistics.direct_targets,
                     statistics.boxes_split,
                     statistics.node_evaluations,
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
      for (std::size_t t = 0; t < n_targets; ++t)
        for (unsigned int i = 0; i < dim; ++i)
          centre[i] += targets[t * dim + i];
      double all_targets = static_cast<double>(n_targets);
      if (collective)
        {
          double totals[max_dim + 1] = {centre[0], centre[1], centre[2], all_targets};
          collective->sum(totals, max_dim + 1);
          std::copy(totals, totals + max_dim, centre);
          all_targets = totals[max_dim];
        }
      for (unsigned int i = 0; i < dim; ++i)
        centre[i] /= all_targets;
      Matrix covariance(dim, dim);
      for (std::size_t t = 0; t < n_targets; ++t)
        for (unsigned int i = 0; i < dim; ++i)
          for (unsigned int j = 0; j < dim; ++j)
            covariance(i, j) +=
              (targets[t * dim + i] - centre[i]) * (targets[t * dim + j] - centre[j]);
      if (collective)
        {
          double entries[max_dim * max_dim];
          for (unsigned int i = 0; i < dim; ++i)
            for (unsigned int j = 0; j < dim; ++j)
              entries[i * dim + j] = covariance(i, j);
          collective->sum(entries, dim * dim);
          for (unsigned int i = 0; i < dim; ++i)
            for (unsigned int j = 0; j < dim; ++j)
              covariance(i, j) = entries[i * dim + j];
        }
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
      for (std::size_t t = 0; t < n_targets; ++t)
        for (unsigned int k = 0; k < dim; ++k)
          {
            double u = 0.;
            for (unsigned int i = 0; i < dim; ++i)
              u += axes[i][k] * (targets[t * dim + i] - centre[i]);
            target_u[t * dim + k] = u;
          }

      double source_extent[max_dim];
      rotate_sources(source_extent);

      for (unsigned int k = 0; k < dim; ++k)
        {
          double low = std::numeric_limits<double>::infinity(), high = -low;
          for (std::size_t t = 0; t < n_targets; ++t)
            {
              low  = std::min(low, target_u[t * dim + k]);
              high = std::max(high, target_u[t * dim + k]);
            }
          global_bounds(&low, &high, 1);
          if ((high - low) * source_extent[k] <= flat_fraction_of_tolerance * tolerance)
            flat_u[k] = 0.5 * (low + high);
          else
            active[n_active++] = k;
        }
    }

    void Interpolator::rotate_sources(double source_extent[max_dim])
    {
      const std::size_t n_sources = sum.n_sources;
      source_z.resize(n_sources * dim);
      source_log_weight.resize(n_sources);
      double lowest[max_dim], highest[max_dim];
      std::fill(lowest, lowest + dim, std::numeric_limits<double>::infinity());
      std::fill(highest, highest + dim, -std::numeric_limits<double>::infinity());
      for (std::size_t j = 0; j < n_sources; ++j)
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
              lowest[k]             = std::min(lowest[k], z);
              highest[k]            = std::max(highest[k], z);
            }
        }
      global_bounds(lowest, highest, dim);
      double all_sources = static_cast<double>(n_sources);
      if (collective)
        collective->sum(&all_sources, 1);
      // Centring z drops a score <u, middle> common to all sources.
      for (unsigned int k = 0; k < dim; ++k)
        {
          const double middle = 0.5 * (lowest[k] + highest[k]);
          source_middle[k]    = middle;
          for (std::size_t j = 0; j < n_sources; ++j)
            source_z[j * dim + k] -= middle;
          source_extent[k] = highest[k] - lowest[k];
        }
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
          const unsigned int k = active[m];
          root.lower[m]        = std::numeric_limits<double>::infinity();
          root.upper[m]        = -std::numeric_limits<double>::infinity();
          for (std::size_t t = 0; t < n_targets; ++t)
            {
              root.lower[m] = std::min(root.lower[m], target_u[t * dim + k]);
              root.upper[m] = std::max(root.upper[m], target_u[t * dim + k]);
            }
          global_bounds(&root.lower[m], &root.upper[m], 1);
        }
      root.targets.resize(n_targets);
      for (std::size_t t = 0; t < n_targets; ++t)
        root.targets[t] = t;
      Indices all(sum.n_sources);
      for (std::size_t j = 0; j < sum.n_sources; ++j)
        all[j] = j;
      root.sources = prune(root, all);
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
      std::vector<double> points, sample_values(scale_sample.size() * n_outputs);
      for (const std::size_t t : scale_sample)
        points.insert(points.end(), targets + t * dim, targets + (t + 1) * dim);
      sum.evaluate(scale_sample.size(), points.data(), &sources, sample_values.data());
      log_half_budget = std::log(0.5 * tolerance) + largest_log_velocity(scale_sample.size(), sample_values.data());
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
      for (unsigned int k = 0; k < dim; ++k)
        {
          std::size_t low = 0, high = 0;
          for (std::size_t t = 1; t < n_targets; ++t)
            {
              if (target_u[t * dim + k] < target_u[low * dim + k])
                low = t;
              if (target_u[t * dim + k] > target_u[high * dim + k])
                high = t;
            }
          sample.push_back(low);
          sample.push_back(high);
        }
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

    Indices Interpolator::prune(const Box &box, const Indices &candidates) const
    {
      double middle[max_dim], half[max_dim];
      box_geometry(box, middle, half);
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
      double best_low = -std::numeric_limits<double>::infinity();
      for (const std::size_t j : candidates)
        {
          double low, high;
          bounds(j, low, high);
          best_low = std::max(best_low, low);
        }
      Indices kept;
      for (const std::size_t j : candidates)
        {
          double low, high;
          bounds(j, low, high);
          if (high >= best_low - pruning_threshold)
            kept.push_back(j);
        }
      return kept;
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
