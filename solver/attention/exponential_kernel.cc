// The exponential kernel family (softmax, l2, unnormalized; multihead per
// head, sinkhorn's velocity and masked through them):
//
//   X(x) = V * sum_j w_j exp(<a, y_j> + p_j) y_j / (normalised ? sum_j w_j exp(...) : sum_j w_j),
//
// a = A x with A = score_factor K^T Q, p_j = -key_penalty |K y_j|^2.
// This is the hot loop of the whole solver (M targets x N sources), so:
//  * sources are converted once per evaluate() into structure-of-arrays form;
//  * targets are processed in blocks of two; a block sweeps all sources
//    once, summing the exponentials shifted by an upper bound of the
//    largest score from the sources' bounding box; only when that bound may
//    exceed the largest score by more than 500 (very large scores) does a
//    first sweep find the maximum;
//  * the sweeps work on eight sources at a time in GCC vector types (one
//    AVX-512 register; per-lane partial sums), with the table-based
//    simd::exp_lanes, and are compiled for AVX-512, AVX2+FMA and baseline
//    x86-64 (target_clones, chosen at run time);
//  * blocks of targets are distributed with tbb::parallel_for. Every target
//    is handled by one block in a fixed order, so results do not depend on
//    the number of threads;
//  * with `evaluation = fast` (or auto where its cost model says so) the sums are
//    interpolated in score space instead (fast_summation.h), with node values
//    from these same sweeps over the sources each box keeps.
//
// Accuracy. Scores of size ~1000 carry an absolute rounding error of ~1e-13
// if computed naively, which goes straight into the relative error of each
// exponential. Instead the score minus the shift is computed exactly up to a
// small remainder: a and y are split into a coarse part on a common grid and
// a fine part. The coarse products are exact in double (at most 50 bits) and
// are integer multiples of a common step G, so their sum with the shift
// (also a multiple of G) is exact. What remains (log-weight plus the two
// fine products, all small) is rounded only at its own size. The exponent
// handed to exp is therefore accurate to ~1e-16 * (|log-weight| + |exponent|),
// independently of the size of the score and of FMA availability.
//
// Shared core. The same machinery evaluates every kernel whose weights are
// exponentials of a linear score plus a per-source log-weight:
// create_exponential_kernel() below (declared in exponential_kernel.h) takes
// the factor of K^T Q, an optional |K y|^2 penalty
// (l2: -beta |Qx - Ky|^2 = 2 beta <Qx, Ky> - beta |Ky|^2 - beta |Qx|^2, and the
// last term cancels) and whether the sum is normalised (softmax, l2) or
// divided by the total weight (unnormalized). With a penalty the sources are
// first centred on their bounding box (the dropped terms are constant per
// target and cancel in the normalisation), and the log-weights, which may
// still be large, are kept as a double-double (hi + lo): hi is added to the
// exact coarse sum first, so that this addition rounds at the size of the
// result, not of the log-weight.
#include "attention/exponential_core.h"
#include "attention/exponential_kernel.h"
#include "attention/fast_summation.h"
#include "common/parallel_chunks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace tpde::attention
{
  namespace
  {
    using namespace exponential;

    /// What distinguishes the exponential kernels (see create_exponential_kernel).
    struct ExponentialKind
    {
      std::string name;         // variant name, for messages
      double      score_factor; // A = score_factor K^T Q
      double      key_penalty;  // log-weights get - key_penalty |K y|^2
      bool        normalised;   // N / D (softmax, l2) or sum w e^s y / sum w
    };

    template <int dim>
    class ExponentialKernel : public CheckedKernel
    {
    public:
      ExponentialKernel(const Parameters &parameters, const ExponentialKind &kind)
          : CheckedKernel(kind.name, dim)
          , kind(kind)
          , K(parameters.K)
          , evaluation(parameters.evaluation)
          , tolerance(parameters.tolerance)
          , float_exponential(parameters.float_exponential)
          , distributed_sources(parameters.distributed_sources)
      {
        // Long double: a = A x is accurate to far below double rounding
        // before it is split.
        score_matrix<dim>(parameters, kind.score_factor, A);
        square_array<dim>(parameters.V, V);
        for (int p = 0; p < dim; ++p)
          for (int q = 0; q < dim; ++q)
            V_rows[p * dim + q] = V[p][q];
      }

    protected:
      void evaluate_checked(const Targets &target_points,
                            const Sources &sources,
                            double        *velocities) const override
      {
        const std::size_t n_targets = target_points.n;
        const double     *targets   = target_points.points;
        if (n_targets == 0)
          return;
        const SourceArrays<dim> source_arrays =
          pack_exponential_sources<dim>(sources, K, kind.key_penalty);
        const std::size_t n_used = source_arrays.n_used;
        if (evaluation == Parameters::Evaluation::fast)
          {
            const std::vector<double> score_vectors = target_score_vectors(n_targets, targets, source_arrays);
            evaluate_fast(score_vectors, source_arrays, std::numeric_limits<double>::infinity(), velocities);
            return;
          }
        if (evaluation == Parameters::Evaluation::automatic &&
            fast_summation_pays(n_targets, n_used, tolerance))
          {
            const std::vector<double> score_vectors = target_score_vectors(n_targets, targets, source_arrays);
            const FastSummationPlan   plan          = step_plan(score_vectors, source_arrays);
            if (plan.fast)
              {
                evaluate_fast(score_vectors, source_arrays, plan.node_allowance, velocities);
                return;
              }
          }
        last_fast_share = 0.;

        parallel_for_each(padded_size(n_targets, targets_per_sweep) / targets_per_sweep,
                          [&](std::size_t block) {
                            evaluate_block(block * targets_per_sweep,
                                           n_targets,
                                           targets,
                                           source_arrays,
                                           velocities);
                          });
      }

    public:
      /// Fast sums split among processes: not with a key penalty (l2), whose
      /// sources are centred per process.
      bool sums_distributed_sources() const override
      {
        return evaluation == Parameters::Evaluation::fast && distributed_sources && kind.key_penalty == 0.;
      }

      /// Every process's sums are taken on the common scale log w_j (the
      /// log-weights relative to its own heaviest source, plus that weight's
      /// log), so that fast::interpolate_distributed can add them up.
      void evaluate_distributed(std::size_t             n_targets,
                                const double           *targets,
                                std::size_t             n_sources,
                                const double           *points,
                                const double           *weights,
                                const fast::Collective &collective,
                                double                 *velocities) const override
      {
        if (!sums_distributed_sources())
          throw std::logic_error(variant_name + " attention: evaluate_distributed needs evaluation = fast");
        double heaviest = 0., total = 0.;
        const std::optional<SourceArrays<dim>> local = pack_distributed_sources<dim>(
          variant_name, n_targets, targets, n_sources, points, weights, K, kind.key_penalty, collective, heaviest, total);
        SourceArrays<dim> none; // no sources: never read (n_used = 0)
        none.log_weight = nullptr;
        std::fill(none.coordinate, none.coordinate + dim, nullptr);
        const SourceArrays<dim>   &sources = local ? *local : none;
        const std::vector<double>  score_vectors = target_score_vectors(n_targets, targets, sources);
        std::vector<double>        coordinates;
        fast::ExponentialSum       sum = exponential_sum(sources, coordinates);
        sum.log_scale_offset           = -std::log(total); // unnormalised: divided by the total weight
        sum.partial_log_offset         = std::log(heaviest); // the partial sums' scale
        sum.partial = [&](std::size_t n_points, const double *at, const std::vector<std::size_t> *subset,
                          double *partial_values) {
          if (sources.n_used == 0 || (subset != nullptr && subset->empty()))
            for (std::size_t p = 0; p < n_points; ++p)
              {
                std::fill(partial_values + p * (dim + 1), partial_values + p * (dim + 1) + dim, 0.);
                partial_values[p * (dim + 1) + dim] = -std::numeric_limits<double>::infinity();
              }
          else if (subset == nullptr)
            evaluate_points(n_points, at, sources, partial_values, &sum.partial_log_offset);
          else
            evaluate_points(n_points, at, select_sources(sources, *subset), partial_values, &sum.partial_log_offset);
        };
        std::vector<double>    values(n_targets * (dim + (kind.normalised ? 0 : 1)));
        const fast::Statistics statistics =
          fast::interpolate_distributed(sum, n_targets, score_vectors.data(), tolerance, values.data(), collective);
        store_fast_velocities(statistics, values, velocities);
        double shares[2] = {static_cast<double>(statistics.direct_targets), static_cast<double>(n_targets)};
        collective.sum(shares, 2); // fast_share of all targets, the same on every process
        last_fast_share = 1. - shares[0] / std::max(shares[1], 1.);
      }

      /// fast_share: the share of the last evaluation's targets whose sums
      /// were interpolated (0: direct sums; with auto, what it chose).
      std::vector<std::pair<std::string, double>> diagnostics() const override
      {
        return {{"fast_share", last_fast_share}};
      }

      /// The plans of this step's first evaluations are kept for its later
      /// stages: a probe costs ~15% of the fast sums it prices at 1e4
      /// sources, and a step's stages move the data little.
      void begin_step() const override
      {
        const std::lock_guard<std::mutex> lock(plans_mutex);
        plans.clear();
        reuse_plans = true;
      }

    private:
      /// auto's plan: this step's for the same target and source counts,
      /// else a probe's (plan_fast).
      FastSummationPlan step_plan(const std::vector<double> &score_vectors, const SourceArrays<dim> &sources) const
      {
        const std::pair<std::size_t, std::size_t> key(score_vectors.size() / dim, sources.n_used);
        {
          const std::lock_guard<std::mutex> lock(plans_mutex);
          const auto                        known = plans.find(key);
          if (reuse_plans && known != plans.end())
            return known->second;
        }
        const FastSummationPlan plan = plan_fast(score_vectors, sources);
        const std::lock_guard<std::mutex> lock(plans_mutex);
        if (reuse_plans)
          plans.emplace(key, plan);
        return plan;
      }

      mutable std::mutex                                                       plans_mutex;
      mutable std::map<std::pair<std::size_t, std::size_t>, FastSummationPlan> plans;
      mutable bool                                                             reuse_plans = false;
      mutable double         last_fast_share = std::numeric_limits<double>::quiet_NaN();
      ExponentialKind        kind;
      Matrix                 K;
      Parameters::Evaluation evaluation;
      double                 tolerance;
      bool                   float_exponential;
      long double     A[dim][dim];
      double          V[dim][dim];
      double          V_rows[dim * dim]; // V, row-major
      bool            distributed_sources;

      /// The shifted sums of one block of score vectors a (long double, in
      /// the sources' frame): numerator N, denominator D and the shift m
      /// with sum_j e^{s_j} (y_j, 1) = e^m (N, D); single: with the float
      /// exponential (exponential_sums_float).
      void sweep_block(const long double        a[targets_per_sweep][dim],
                       const SourceArrays<dim> &sources,
                       double                   numerator[targets_per_sweep][dim],
                       double                   denominator[targets_per_sweep],
                       double                   shift[targets_per_sweep],
                       bool                     single = false) const
      {
        TargetBlock<dim> block;
        for (unsigned int b = 0; b < targets_per_sweep; ++b)
          {
            for (int p = 0; p < dim; ++p)
              block.a[b][p] = static_cast<double>(a[b][p]);
            split_score_vector(a[b], sources, block, b);
          }

        // The shift only has to be near the largest score: no overflow, the
        // leading terms far above the exp clamp at -700 (see exp_lanes), and
        // their exponents small, since each exponent is rounded at its own
        // size. The bounding box gives an upper bound without a sweep; it is
        // used when it exceeds the heaviest source's score by at most
        // max_bound_gap (so by at most that much the largest score too; the
        // leading exponents are then >= -max_bound_gap, rounded to within
        // 64 eps ~ 7e-15 instead of ~eps). Otherwise, and for split
        // log-weights (where coarse + log-weight would be rounded at the size
        // of the gap too), a sweep finds the maximum.
        constexpr double max_bound_gap = 64.;
        double           maximum[targets_per_sweep];
        bool             bounded[targets_per_sweep];
        bool             all_bounded = true;
        for (unsigned int b = 0; b < targets_per_sweep; ++b)
          {
            const double heaviest_log_weight = sources.log_weight[sources.heaviest];
            double       upper = heaviest_log_weight, heaviest_score = heaviest_log_weight;
            for (int i = 0; i < dim; ++i)
              {
                upper += std::max(block.a[b][i] * sources.lowest[i],
                                  block.a[b][i] * sources.highest[i]);
                heaviest_score += block.a[b][i] * sources.coordinate[i][sources.heaviest];
              }
            maximum[b] = upper;
            bounded[b] = single ? upper - heaviest_score <= max_float_bound_gap :
                                  sources.log_weight_lo == nullptr &&
                                    upper - heaviest_score <= max_bound_gap;
            all_bounded &= bounded[b];
          }
        if (!all_bounded)
          {
            double swept[targets_per_sweep];
            maximum_scores<dim>(sources, block, swept);
            for (unsigned int b = 0; b < targets_per_sweep; ++b)
              if (!bounded[b])
                maximum[b] = swept[b];
          }
        for (unsigned int b = 0; b < targets_per_sweep; ++b)
          {
            block.negative_shift[b] =
              -std::nearbyint(maximum[b] / block.common_step[b]) * block.common_step[b];
            shift[b] = -block.negative_shift[b];
          }

        if (single)
          exponential_sums_float<dim>(sources, block, denominator, numerator);
        else if (sources.log_weight_lo != nullptr)
          exponential_sums<dim, true>(sources, block, denominator, numerator);
        else
          exponential_sums<dim, false>(sources, block, denominator, numerator);
      }

      /// V times a mean in the sources' frame (adds the centre back).
      void map_mean(const SourceArrays<dim> &sources, double mean[dim], double *result) const
      {
        if (sources.centred)
          for (int i = 0; i < dim; ++i)
            mean[i] += sources.centre[i];
        for (int p = 0; p < dim; ++p)
          {
            double sum = 0.;
            for (int q = 0; q < dim; ++q)
              sum += V[p][q] * mean[q];
            result[p] = sum;
          }
      }

      void evaluate_block(std::size_t              first_target,
                          std::size_t              n_targets,
                          const double            *targets,
                          const SourceArrays<dim> &sources,
                          double                  *velocities) const
      {
        long double a[targets_per_sweep][dim];
        for (unsigned int b = 0; b < targets_per_sweep; ++b)
          {
            // A short last block repeats its last target; those results are dropped.
            const std::size_t target = std::min<std::size_t>(first_target + b, n_targets - 1);
            score_vector(targets + target * dim, sources, a[b]);
          }
        double numerator[targets_per_sweep][dim], denominator[targets_per_sweep],
          shift[targets_per_sweep];
        sweep_block(a, sources, numerator, denominator, shift, float_exponential);

        for (unsigned int b = 0; b < targets_per_sweep && first_target + b < n_targets; ++b)
          {
            // Normalised: the weighted mean N / D. Unnormalised:
            // sum_j w_j e^{s_j} y_j / W = (w_max / W) e^{shift} N, with the
            // exponential applied last (below).
            double mean[dim];
            for (int i = 0; i < dim; ++i)
              mean[i] = kind.normalised ? numerator[b][i] / denominator[b] :
                                          numerator[b][i] * sources.max_over_total_weight;
            double *velocity = velocities + (first_target + b) * dim;
            map_mean(sources, mean, velocity);
            if (!kind.normalised)
              scale_by_exponential<dim>(velocity, shift[b]);
          }
      }

      /// a = A x (minus the centring offset), in long double.
      void score_vector(const double *x, const SourceArrays<dim> &sources, long double a[dim]) const
      {
        for (int p = 0; p < dim; ++p)
          {
            long double sum = 0;
            for (int q = 0; q < dim; ++q)
              sum += A[p][q] * x[q];
            if (sources.centred)
              sum -= sources.score_offset[p];
            a[p] = sum;
          }
      }

      /// The score vectors a = A x (rounded to double) of the targets: the
      /// fast summation's interpolation variable.
      std::vector<double> target_score_vectors(std::size_t              n_targets,
                                               const double            *targets,
                                               const SourceArrays<dim> &sources) const
      {
        std::vector<double> score_vectors(n_targets * dim);
        for_chunks(n_targets, [&](std::size_t begin, std::size_t end) {
          for (std::size_t t = begin; t < end; ++t)
            {
              long double a[dim];
              score_vector(targets + t * dim, sources, a);
              for (int p = 0; p < dim; ++p)
                score_vectors[t * dim + p] = static_cast<double>(a[p]);
            }
        });
        return score_vectors;
      }

      /// Velocities by fast::interpolate at the score vectors, the node values
      /// from evaluate_points on the sources each box keeps, the node grids
      /// within node_allowance.
      void evaluate_fast(const std::vector<double> &score_vectors,
                         const SourceArrays<dim>   &sources,
                         double                     node_allowance,
                         double                    *velocities) const
      {
        std::vector<double> values(score_vectors.size() / dim * (dim + (kind.normalised ? 0 : 1)));
        store_fast_velocities(
          interpolate_sums(score_vectors, sources, std::numeric_limits<double>::infinity(), node_allowance, values),
          values, velocities);
      }

      /// The velocities from the fast summation's values (q, and L if
      /// unnormalised: q e^L) and fast_share from its statistics.
      void store_fast_velocities(const fast::Statistics &statistics, const std::vector<double> &values,
                                 double *velocities) const
      {
        const unsigned int n_outputs = dim + (kind.normalised ? 0 : 1);
        const std::size_t  n_targets = values.size() / n_outputs;
        last_fast_share =
          n_targets == 0 ? 1. : 1. - static_cast<double>(statistics.direct_targets) / static_cast<double>(n_targets);
        for (std::size_t t = 0; t < n_targets; ++t)
          {
            std::copy(&values[t * n_outputs], &values[t * n_outputs] + dim, velocities + t * dim);
            if (!kind.normalised)
              scale_by_exponential<dim>(velocities + t * dim, values[t * n_outputs + dim]);
          }
      }

      /// auto's choice: the fast summation run on fast_summation_probe_sources
      /// evenly spaced sources (its boxes and degrees follow from how smooth
      /// the sums are in score space, which a sample of the sources shows at a
      /// small fraction of the cost) and its counts priced by plan_fast_summation.
      FastSummationPlan plan_fast(const std::vector<double> &score_vectors, const SourceArrays<dim> &sources) const
      {
        if (const auto by_butterfly = butterfly_plan(score_vectors, sources))
          return *by_butterfly;
        // Evenly spaced sources and the extreme ones per coordinate, so that
        // the sample spans the sources' box (the spread of the scores).
        std::vector<std::size_t> sample;
        for (std::size_t k = 0; k < fast_summation_probe_sources && k < sources.n_used; ++k)
          sample.push_back(k * sources.n_used / std::min(fast_summation_probe_sources, sources.n_used));
        for (int i = 0; i < dim; ++i)
          {
            const double *x = sources.coordinate[i];
            sample.push_back(std::min_element(x, x + sources.n_used) - x);
            sample.push_back(std::max_element(x, x + sources.n_used) - x);
          }
        std::sort(sample.begin(), sample.end());
        sample.erase(std::unique(sample.begin(), sample.end()), sample.end());
        const std::size_t n_probe = sample.size();
        std::vector<double> values; // a probe leaves them unset
        const double        max_pairs =
          fast_summation_probe_node_limit(score_vectors.size() / dim, sources.n_used) * static_cast<double>(n_probe);
        const fast::Statistics probe = interpolate_sums(score_vectors,
                                                        select_sources(sources, sample),
                                                        max_pairs,
                                                        std::numeric_limits<double>::infinity(),
                                                        values,
                                                        true);
        const FastSummationPlan plan = plan_fast_summation(probe, score_vectors.size() / dim, sources.n_used);
        if (std::getenv("TPDE_FAST_PROFILE") != nullptr)
          std::fprintf(stderr,
                       "auto: %zu targets, %zu sources; probe %zu boxes interpolated, %zu node sums, %zu "
                       "targets direct%s; predicted fast / direct = %.3g: %s\n",
                       score_vectors.size() / dim,
                       sources.n_used,
                       probe.boxes_interpolated,
                       probe.node_evaluations,
                       probe.direct_targets,
                       probe.abandoned ? " (gave up)" : "",
                       plan.fast_cost / plan.direct_cost,
                       plan.fast ? "fast" : "direct");
        return plan;
      }

      /// Fast when fast::interpolate would hand these sums to the butterfly
      /// summation (3D, full rank, predicted cheap; it needs no probe).
      std::optional<FastSummationPlan> butterfly_plan(const std::vector<double> &score_vectors,
                                                      const SourceArrays<dim>   &sources) const
      {
        if (dim != 3)
          return std::nullopt;
        std::vector<double> coordinates;
        return plan_butterfly_summation(
          exponential_sum(sources, coordinates), score_vectors.size() / dim, score_vectors.data(), tolerance);
      }

      /// fast::interpolate of the sums over `sources` at the score vectors:
      /// values (q and, unnormalised, L) per target; a probe only counts.
      fast::Statistics interpolate_sums(const std::vector<double> &score_vectors,
                                        const SourceArrays<dim>   &sources,
                                        double                     max_interactions,
                                        double                     node_allowance,
                                        std::vector<double>       &values,
                                        bool                       probe = false) const
      {
        std::vector<double>  coordinates;
        fast::ExponentialSum sum = exponential_sum(sources, coordinates);
        sum.probe                = probe;
        sum.evaluate   = [&](std::size_t                      n_points,
                           const double                    *points,
                           const std::vector<std::size_t> *subset,
                           double                          *point_values) {
          if (subset == nullptr)
            evaluate_points(n_points, points, sources, point_values);
          else
            evaluate_points(n_points, points, select_sources(sources, *subset), point_values);
        };
        return fast::interpolate(sum,
                                 score_vectors.size() / dim,
                                 score_vectors.data(),
                                 tolerance,
                                 values.data(),
                                 max_interactions,
                                 node_allowance);
      }

      /// The fast summation's view of `sources` (fast_summation.h) without
      /// its evaluate: q = V (N / D + centre), L = shift + log D + log(w_max /
      /// W), as evaluate_points (map_mean) computes them. coordinates: the
      /// sources row-major, kept by the caller for as long as the sum.
      fast::ExponentialSum exponential_sum(const SourceArrays<dim> &sources, std::vector<double> &coordinates) const
      {
        coordinates.resize(sources.n_used * dim);
        for (std::size_t j = 0; j < sources.n_used; ++j)
          for (int i = 0; i < dim; ++i)
            coordinates[j * dim + i] = sources.coordinate[i][j];
        fast::ExponentialSum sum;
        sum.dim        = dim;
        sum.log_scale  = !kind.normalised;
        sum.n_sources  = sources.n_used;
        sum.coordinate = coordinates.data();
        sum.log_weight = sources.log_weight;
        sum.V          = V_rows;
        for (int i = 0; i < dim; ++i)
          sum.offset[i] = sources.centred ? sources.centre[i] : 0.;
        sum.log_scale_offset = std::log(sources.max_over_total_weight);
        return sum;
      }

      /// The fast summation's view (fast_summation.h) at score vectors
      /// given directly: q = V (N / D + centre) and, unnormalised, the log
      /// of the scale L = shift + log D + log(w_max / W), so that the
      /// velocity is q e^L.
      /// With log_largest_weight (a number: log of the largest source weight)
      /// instead ExponentialSum::partial's values: the tilted mean N / D (y
      /// as stored) and the log-sum shift + log D + log_largest_weight.
      void evaluate_points(std::size_t              n_points,
                           const double            *points,
                           const SourceArrays<dim> &sources,
                           double                  *values,
                           const double            *log_largest_weight = nullptr) const
      {
        parallel_for_each(padded_size(n_points, targets_per_sweep) / targets_per_sweep,
                          [&](std::size_t block) {
                            evaluate_point_block(
                              block * targets_per_sweep, n_points, points, sources, values, log_largest_weight);
                          });
      }

      /// evaluate_points for the points first, first + 1, ... of one sweep.
      void evaluate_point_block(std::size_t              first,
                                std::size_t              n_points,
                                const double            *points,
                                const SourceArrays<dim> &sources,
                                double                  *values,
                                const double            *log_largest_weight) const
      {
        const unsigned int n_outputs = dim + (kind.normalised && !log_largest_weight ? 0 : 1);
        long double        a[targets_per_sweep][dim];
        for (unsigned int b = 0; b < targets_per_sweep; ++b)
          {
            const std::size_t point = std::min<std::size_t>(first + b, n_points - 1);
            for (int p = 0; p < dim; ++p)
              a[b][p] = points[point * dim + p];
          }
        double numerator[targets_per_sweep][dim], denominator[targets_per_sweep],
          shift[targets_per_sweep];
        sweep_block(a, sources, numerator, denominator, shift);
        for (unsigned int b = 0; b < targets_per_sweep && first + b < n_points; ++b)
          {
            double *result = values + (first + b) * n_outputs;
            double  mean[dim];
            for (int i = 0; i < dim; ++i)
              mean[i] = numerator[b][i] / denominator[b];
            if (log_largest_weight)
              {
                std::copy(mean, mean + dim, result);
                result[dim] = shift[b] + std::log(denominator[b]) + *log_largest_weight;
                continue;
              }
            map_mean(sources, mean, result);
            if (!kind.normalised)
              result[dim] = shift[b] + std::log(denominator[b]) +
                            std::log(sources.max_over_total_weight);
          }
      }

      /// Splits a into a_hi + a_lo such that every a_hi[i] * y_hi[i] is an
      /// integer multiple of one common step G, with |a_hi[i] y_hi[i]| <= 2^50 G.
      static void split_score_vector(const long double        a[dim],
                                     const SourceArrays<dim> &sources,
                                     TargetBlock<dim>        &block,
                                     unsigned int             b)
      {
        // Largest bound on |a_i y_i| (products of powers of two).
        double largest_product = 0.;
        for (int i = 0; i < dim; ++i)
          largest_product = std::max(largest_product,
                                     power_of_two_at_least(std::abs(static_cast<double>(a[i]))) *
                                       std::ldexp(sources.grid_step[i], coarse_source_bits));
        const double step = std::ldexp(largest_product, common_step_exponent);
        if (!(step >= std::numeric_limits<double>::min()) || !std::isfinite(largest_product))
          {
            // Scores are (nearly) zero or absurdly large: no exact split is
            // needed or possible; a_lo carries everything, G = 1.
            for (int i = 0; i < dim; ++i)
              {
                block.a_hi[b][i] = 0.;
                block.a_lo[b][i] = static_cast<double>(a[i]);
              }
            block.common_step[b] = 1.;
            return;
          }
        for (int i = 0; i < dim; ++i)
          {
            const double      a_step = step / sources.grid_step[i];
            const long double a_hi   = std::nearbyint(static_cast<double>(a[i] / a_step)) * a_step;
            block.a_hi[b][i]         = static_cast<double>(a_hi);
            block.a_lo[b][i]         = static_cast<double>(a[i] - a_hi);
          }
        block.common_step[b] = step;
      }
    };
  } // namespace

  /// The kernels whose weights are exponentials of a linear score: for each
  /// target x and the sources with w_j > 0,
  ///   s_j = score_factor <Qx, K y_j> - key_penalty |K y_j|^2 + log w_j,
  /// velocity V sum_j e^{s_j} y_j / sum_j e^{s_j} if normalised, else
  /// V sum_j e^{s_j} y_j / sum_j w_j. Checks the parameters as above.
  std::unique_ptr<Kernel> create_exponential_kernel(const std::string &variant,
                                                    const Parameters  &parameters,
                                                    double             score_factor,
                                                    double             key_penalty,
                                                    bool               normalised)
  {
    check_attention_parameters(variant, parameters);
    if (key_penalty != 0. && !normalised)
      throw std::logic_error("exponential kernel: a key penalty needs normalisation (the "
                             "sources are centred, which only cancels in the normalised form)");
    if (!std::isfinite(score_factor) || !std::isfinite(key_penalty))
      {
        std::ostringstream text;
        text << variant << " attention: beta = " << parameters.beta << " is too large";
        throw std::invalid_argument(text.str());
      }
    if (!(parameters.tolerance > 0.))
      {
        std::ostringstream text;
        text << "tolerance must be positive, got " << parameters.tolerance;
        throw std::invalid_argument(text.str());
      }
    const ExponentialKind kind{variant, score_factor, key_penalty, normalised};
    return create_for_dimension<ExponentialKernel>(parameters.dim, parameters, kind);
  }

  ScoreForm exponential_score_form(const Parameters &parameters, double score_factor, double key_penalty)
  {
    return {score_factor * (transpose(parameters.K) * parameters.Q),
            transpose(parameters.K) * parameters.K,
            key_penalty == 0. ? 0. : -key_penalty};
  }

  Variant make_exponential_variant(const std::string &name,
                                   const std::string &documentation,
                                   double (*score_factor)(const Parameters &),
                                   double (*key_penalty)(const Parameters &),
                                   bool normalised)
  {
    Variant variant{name, documentation, [=](const Parameters &parameters) {
                      return create_exponential_kernel(name,
                                                       parameters,
                                                       score_factor(parameters),
                                                       key_penalty(parameters),
                                                       normalised);
                    }};
    Capabilities &can = variant.capabilities;
    can.score_form    = [=](const Parameters &parameters) -> std::optional<ScoreForm> {
      return exponential_score_form(parameters, score_factor(parameters), key_penalty(parameters));
    };
    can.masked_base       = true;
    can.fast_summation    = true;
    can.float_exponential = true;
    return variant;
  }
} // namespace tpde::attention
