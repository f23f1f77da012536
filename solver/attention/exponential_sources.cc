// The sources of the exponential kernels in the form their sweeps need
// (exponential_core.h): structure of arrays, exact coarse parts, log-weights.
#include "attention/exponential_core.h"
#include "attention/fast_summation.h"
#include "common/parallel_chunks.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace tpde::attention::exponential
{
  namespace
  {
    /// heaviest (the first source of largest log-weight), lowest and
    /// highest of the sources in use.
    template <int dim>
    void find_extent(SourceArrays<dim> &sources)
    {
      struct Extent
      {
        std::size_t heaviest = 0;
        double      lowest[dim], highest[dim];
      };
      Extent identity;
      std::fill(identity.lowest, identity.lowest + dim, std::numeric_limits<double>::infinity());
      std::fill(identity.highest, identity.highest + dim, -std::numeric_limits<double>::infinity());
      const double *log_weight = sources.log_weight;
      const Extent  extent     = reduce_chunks(
        sources.n_used,
        identity,
        [&](std::size_t begin, std::size_t end, Extent &part) {
          part.heaviest = begin;
          for (std::size_t k = begin; k < end; ++k)
            {
              if (log_weight[k] > log_weight[part.heaviest])
                part.heaviest = k;
              for (int i = 0; i < dim; ++i)
                {
                  part.lowest[i]  = std::min(part.lowest[i], sources.coordinate[i][k]);
                  part.highest[i] = std::max(part.highest[i], sources.coordinate[i][k]);
                }
            }
        },
        [&](Extent &total, const Extent &part) {
          if (log_weight[part.heaviest] > log_weight[total.heaviest])
            total.heaviest = part.heaviest;
          for (int i = 0; i < dim; ++i)
            {
              total.lowest[i]  = std::min(total.lowest[i], part.lowest[i]);
              total.highest[i] = std::max(total.highest[i], part.highest[i]);
            }
        });
      sources.heaviest = extent.heaviest;
      std::copy(extent.lowest, extent.lowest + dim, sources.lowest);
      std::copy(extent.highest, extent.highest + dim, sources.highest);
    }

    /// Largest |coordinate| and the bounds per direction of the sources in use.
    template <int dim>
    struct SourceRange
    {
      double magnitude[dim] = {}, lowest[dim], highest[dim];
    };

    template <int dim>
    SourceRange<dim> range_of_used_sources(const Sources &sources)
    {
      SourceRange<dim> identity;
      std::fill(identity.lowest, identity.lowest + dim, std::numeric_limits<double>::infinity());
      std::fill(identity.highest, identity.highest + dim, -std::numeric_limits<double>::infinity());
      return reduce_chunks(
        sources.n,
        identity,
        [&](std::size_t begin, std::size_t end, SourceRange<dim> &part) {
          for (std::size_t j = begin; j < end; ++j)
            if (sources.weights[j] > 0.)
              for (int i = 0; i < dim; ++i)
                {
                  const double coordinate = sources.points[j * dim + i];
                  part.magnitude[i]       = std::max(part.magnitude[i], std::abs(coordinate));
                  part.lowest[i]          = std::min(part.lowest[i], coordinate);
                  part.highest[i]         = std::max(part.highest[i], coordinate);
                }
        },
        [](SourceRange<dim> &total, const SourceRange<dim> &part) {
          for (int i = 0; i < dim; ++i)
            {
              total.magnitude[i] = std::max(total.magnitude[i], part.magnitude[i]);
              total.lowest[i]    = std::min(total.lowest[i], part.lowest[i]);
              total.highest[i]   = std::max(total.highest[i], part.highest[i]);
            }
        });
    }

    /// Replaces the log-weights of the sources in use by
    /// l_j = log w_j - key_penalty |K y'_j|^2 - max_j(...) (y' = y - centre),
    /// computed in long double and split into log_weight (rounded) +
    /// log_weight_lo (the rest). Like the plain log-weights they are <= 0
    /// with maximum 0, which bounds the shift.
    template <int dim>
    void add_key_penalty(const SourceArrays<dim> &result,
                         const Matrix            &K,
                         double                   key_penalty,
                         const double            *weights,
                         std::size_t              n_sources,
                         double                  *log_weight,
                         double                  *log_weight_lo)
    {
      std::vector<long double> penalised;
      penalised.reserve(result.n_padded);
      long double maximum = -std::numeric_limits<long double>::infinity();
      for (std::size_t j = 0; j < n_sources; ++j)
        if (weights[j] > 0.)
          {
            const std::size_t k            = penalised.size();
            long double       squared_norm = 0;
            for (std::size_t r = 0; r < K.rows; ++r)
              {
                long double key = 0;
                for (int i = 0; i < dim; ++i)
                  key += static_cast<long double>(K(r, i)) * result.coordinate[i][k];
                squared_norm += key * key;
              }
            const long double value =
              std::log(static_cast<long double>(weights[j])) - key_penalty * squared_norm;
            penalised.push_back(value);
            maximum = std::max(maximum, value);
          }
      for (std::size_t k = 0; k < penalised.size(); ++k)
        {
          const long double value = penalised[k] - maximum;
          log_weight[k]           = static_cast<double>(value);
          log_weight_lo[k]        = static_cast<double>(value - log_weight[k]);
        }
    }
  } // namespace

  template <int dim>
  SourceArrays<dim> pack_exponential_sources(const Sources &sources, const Matrix &K, double key_penalty)
  {
    const std::size_t n_sources          = sources.n;
    const double     *weights            = sources.weights;
    const double      maximum_weight     = sources.maximum_weight;
    const long double total_weight       = sources.total_weight;
    const double      log_maximum_weight = std::log(maximum_weight);
    // Where each chunk's sources in use go (to pack them in order).
    const std::vector<std::size_t> offsets = chunk_offsets(n_sources, [&](std::size_t begin, std::size_t end) {
      return static_cast<std::size_t>(std::count_if(weights + begin, weights + end, [](double w) { return w > 0.; }));
    });
    const std::size_t      n_used = offsets.back();
    const SourceRange<dim> range  = range_of_used_sources<dim>(sources);
    double magnitude[dim], lowest[dim], highest[dim];
    std::copy(range.magnitude, range.magnitude + dim, magnitude);
    std::copy(range.lowest, range.lowest + dim, lowest);
    std::copy(range.highest, range.highest + dim, highest);

    const bool        penalised = key_penalty != 0.;
    SourceArrays<dim> result;
    if (penalised)
      {
        // Centre the sources on their bounding box. The penalty |K y|^2
        // and the products <a, y> then stay of the size of the data's
        // spread instead of its distance from the origin (which would
        // cost long-double rounding of size eps |K y|^2 in the exponent).
        // Rounding is monotone, so the bounds of y - centre are those of
        // the extreme coordinates.
        result.centred = true;
        for (int i = 0; i < dim; ++i)
          {
            result.centre[i] = 0.5 * lowest[i] + 0.5 * highest[i];
            magnitude[i]     = std::max(std::abs(highest[i] - result.centre[i]),
                                    std::abs(lowest[i] - result.centre[i]));
          }
        // y = y' + c: score_factor <Qx, Ky> - p |Ky|^2 =
        // <A x - 2 p K^T K c, y'> - p |Ky'|^2 + (terms without y').
        for (int i = 0; i < dim; ++i)
          {
            long double sum = 0;
            for (std::size_t r = 0; r < K.rows; ++r)
              for (int q = 0; q < dim; ++q)
                sum += static_cast<long double>(K(r, i)) * K(r, q) * result.centre[q];
            result.score_offset[i] = 2 * static_cast<long double>(key_penalty) * sum;
          }
      }
    result.n_used   = n_used;
    result.n_padded = padded_size(n_used, source_padding);
    result.max_over_total_weight =
      static_cast<double>(static_cast<long double>(maximum_weight) / total_weight);
    result.storage.allocate((3 * dim + (penalised ? 2 : 1)) * result.n_padded);
    double *const base = result.storage.data();
    double       *y[dim], *y_hi[dim], *y_lo[dim];
    for (int i = 0; i < dim; ++i)
      {
        y[i]                    = base + i * result.n_padded;
        y_hi[i]                 = base + (dim + i) * result.n_padded;
        y_lo[i]                 = base + (2 * dim + i) * result.n_padded;
        result.coordinate[i]    = y[i];
        result.coordinate_hi[i] = y_hi[i];
        result.coordinate_lo[i] = y_lo[i];
        const double bound      = power_of_two_at_least(magnitude[i]);
        result.grid_step[i]     = std::ldexp(bound > 0. ? bound : 1., -coarse_source_bits);
      }
    double *const log_weight = base + 3 * dim * result.n_padded;
    result.log_weight        = log_weight;

    for_chunks(n_sources, [&](std::size_t begin, std::size_t end) {
      std::size_t k = offsets[begin / items_per_chunk];
      for (std::size_t j = begin; j < end; ++j)
        if (weights[j] > 0.)
          {
            for (int i = 0; i < dim; ++i)
              {
                const double coordinate =
                  penalised ? sources.points[j * dim + i] - result.centre[i] : sources.points[j * dim + i];
                const double step = result.grid_step[i];
                y[i][k]           = coordinate;
                y_hi[i][k]        = std::nearbyint(coordinate / step) * step;
                y_lo[i][k]        = coordinate - y_hi[i][k];
              }
            // Normalising by the largest weight keeps log-weights <= 0
            // (which bounds the shift) and small for the relevant sources.
            const double ratio = weights[j] / maximum_weight;
            log_weight[k]      = ratio >= std::numeric_limits<double>::min() ?
                                   std::log(ratio) :
                                   std::log(weights[j]) - log_maximum_weight;
            ++k;
          }
    });
    // Padding: zero coordinates and log-weight -inf (no weight).
    for (std::size_t k = n_used; k < result.n_padded; ++k)
      {
        for (int i = 0; i < dim; ++i)
          y[i][k] = y_hi[i][k] = y_lo[i][k] = 0.;
        log_weight[k] = -std::numeric_limits<double>::infinity();
      }
    if (penalised)
      {
        double *const log_weight_lo = base + (3 * dim + 1) * result.n_padded;
        add_key_penalty(result, K, key_penalty, weights, n_sources, log_weight, log_weight_lo);
        std::fill(log_weight_lo + n_used, log_weight_lo + result.n_padded, 0.);
        result.log_weight_lo = log_weight_lo;
      }
    find_extent(result);
    return result;
  }

  /// The listed sources (indices below n_used) as their own arrays, on
  /// the same grid and in the same frame as `all`.
  template <int dim>
  SourceArrays<dim> select_sources(const SourceArrays<dim> &all, const std::vector<std::size_t> &indices)
  {
    SourceArrays<dim> result;
    const bool        split    = all.log_weight_lo != nullptr;
    result.n_used              = indices.size();
    result.n_padded            = padded_size(indices.size(), source_padding);
    result.storage.allocate((3 * dim + (split ? 2 : 1)) * result.n_padded);
    double *const base = result.storage.data();
    const auto    copy = [&](const double *from, std::size_t slot, double padding) {
      double *to = base + slot * result.n_padded;
      for_chunks(indices.size(), [&](std::size_t begin, std::size_t end) {
        for (std::size_t k = begin; k < end; ++k)
          to[k] = from[indices[k]];
      });
      std::fill(to + indices.size(), to + result.n_padded, padding);
      return to;
    };
    for (int i = 0; i < dim; ++i)
      {
        result.coordinate[i]    = copy(all.coordinate[i], i, 0.);
        result.coordinate_hi[i] = copy(all.coordinate_hi[i], dim + i, 0.);
        result.coordinate_lo[i] = copy(all.coordinate_lo[i], 2 * dim + i, 0.);
        result.grid_step[i]     = all.grid_step[i];
        result.centre[i]        = all.centre[i];
        result.score_offset[i]  = all.score_offset[i];
      }
    result.log_weight =
      copy(all.log_weight, 3 * dim, -std::numeric_limits<double>::infinity());
    if (split)
      result.log_weight_lo = copy(all.log_weight_lo, 3 * dim + 1, 0.);
    result.max_over_total_weight = all.max_over_total_weight;
    result.centred               = all.centred;
    find_extent(result);
    return result;
  }

  template <int dim>
  std::optional<SourceArrays<dim>> pack_distributed_sources(const std::string      &variant,
                                                            std::size_t             n_targets,
                                                            const double           *targets,
                                                            std::size_t             n_sources,
                                                            const double           *points,
                                                            const double           *weights,
                                                            const Matrix           &K,
                                                            double                  key_penalty,
                                                            const fast::Collective &collective,
                                                            double                 &heaviest,
                                                            double                 &total)
  {
    std::optional<SourceArrays<dim>> local;
    std::string                      problem;
    double                           checks[2] = {0., 0.}; // total weight, failures
    heaviest                                   = 0.;
    try
      {
        for (std::size_t k = 0; k < n_targets * dim; ++k)
          if (!std::isfinite(targets[k]))
            throw std::invalid_argument(variant + " attention: target coordinates must be finite");
        if (std::any_of(weights, weights + n_sources, [](double w) { return w != 0.; }))
          {
            const Sources checked = check_sources(variant, dim, n_sources, points, weights);
            heaviest              = checked.maximum_weight;
            checks[0]             = static_cast<double>(checked.total_weight);
            local.emplace(pack_exponential_sources<dim>(checked, K, key_penalty));
          }
      }
    catch (const std::invalid_argument &error)
      {
        problem   = error.what();
        checks[1] = 1.;
      }
    collective.sum(checks, 2);
    if (checks[1] > 0.)
      throw std::invalid_argument(problem.empty() ? variant + " attention: invalid sources on another process" : problem);
    if (!(checks[0] > 0.))
      throw std::invalid_argument(variant + " attention: the total source weight must be positive");
    total = checks[0];
    return local;
  }

#define TPDE_INSTANTIATE_PACKING(dim)                                                          \
  template SourceArrays<dim> pack_exponential_sources<dim>(const Sources &, const Matrix &, double); \
  template std::optional<SourceArrays<dim>> pack_distributed_sources<dim>(                      \
    const std::string &, std::size_t, const double *, std::size_t, const double *, const double *, const Matrix &, \
    double, const fast::Collective &, double &, double &);                                       \
  template SourceArrays<dim> select_sources<dim>(const SourceArrays<dim> &,                     \
                                                 const std::vector<std::size_t> &);
  TPDE_INSTANTIATE_PACKING(1)
  TPDE_INSTANTIATE_PACKING(2)
  TPDE_INSTANTIATE_PACKING(3)
#undef TPDE_INSTANTIATE_PACKING
} // namespace tpde::attention::exponential
