// The butterfly summation described in butterfly_summation.h.
#include "attention/butterfly_internal.h"
#include "attention/fast_summation_internal.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <limits>
#include <stdexcept>
#include <vector>

namespace tpde::attention::fast
{
  namespace
  {
    using namespace butterfly_detail;
    /// Storage for the stages' data, kept by the calling thread from one
    /// summation to the next (a run sums at every stage of every step):
    /// fresh pages of tens of megabytes cost more in page faults than the
    /// stages' arithmetic. Huge pages where the kernel grants them.
    class LargeBuffer
    {
    public:
      LargeBuffer() = default;
      LargeBuffer(const LargeBuffer &) = delete;
      LargeBuffer &operator=(const LargeBuffer &) = delete;
      ~LargeBuffer() { std::free(storage); }

      double *get(std::size_t n)
      {
        if (n > capacity)
          {
            constexpr std::size_t huge  = std::size_t(2) << 20;
            const std::size_t     bytes = (n * sizeof(double) + huge - 1) / huge * huge;
            std::free(storage);
            storage  = static_cast<double *>(std::aligned_alloc(huge, bytes));
            capacity = 0;
            if (storage == nullptr)
              throw std::bad_alloc();
            madvise(storage, bytes, MADV_HUGEPAGE);
            capacity = bytes / sizeof(double);
          }
        return storage;
      }

    private:
      double     *storage  = nullptr;
      std::size_t capacity = 0;
    };

    /// The calling thread's stage storage, or (if a summation on this thread
    /// is already running, e.g. re-entered from a task it waits for) a
    /// summation's own.
    thread_local LargeBuffer kept_buffers[2];
    thread_local bool        kept_buffers_busy = false;

    /// The points grouped by box (a counting sort, stable): the points in
    /// boxes[b] are order[first[b] .. first[b + 1]); every leaf is in boxes.
    void sort_by_box(const std::vector<Key>   &boxes,
                     const std::vector<Key>   &leaves,
                     std::vector<std::size_t> &order,
                     std::vector<std::size_t> &first)
    {
      const std::size_t        n = leaves.size();
      std::vector<std::size_t> box_of(n);
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 4096), [&](const auto &range) {
        for (std::size_t p = range.begin(); p != range.end(); ++p)
          box_of[p] = position(boxes, leaves[p]);
      });
      first.assign(boxes.size() + 1, 0);
      for (std::size_t p = 0; p < n; ++p)
        {
          if (box_of[p] == boxes.size()) // the plan's boxes and leaves disagree: a bug, not bad input
            throw std::logic_error("butterfly summation: a point lies in no box of its stage");
          ++first[box_of[p] + 1];
        }
      for (std::size_t b = 0; b < boxes.size(); ++b)
        first[b + 1] += first[b];
      order.resize(n);
      std::vector<std::size_t> next(first.begin(), first.end() - 1);
      for (std::size_t p = 0; p < n; ++p)
        order[next[box_of[p]]++] = p;
    }

    /// The data of one stage: per pair (target box, source box) the values
    /// of F^{AB} at A's nodes (layout [output][n_2][n_1][n_0]) and its log scale.
    struct Stage
    {
      unsigned int        tau[max_dim] = {};
      std::vector<Key>    targets, sources;
      double             *data = nullptr; // in a LargeBuffer
      std::vector<double> log_scale;
    };

    /// Runs the plan; false if an interpolated denominator is not positive.
    class Butterfly
    {
    public:
      Butterfly(const ExponentialSum &sum, const Plan &plan, const Geometry &geometry, LargeBuffer *buffers)
        : buffers(buffers)
        , sum(sum)
        , plan(plan)
        , geometry(geometry)
        , dim(sum.dim)
        , n_outputs(sum.dim + 1)
        , block(block_size(plan, sum.dim + 1))
      {
        for (unsigned int m = 0; m < max_dim; ++m)
          {
            points[m] = chebyshev_points(plan.points[m]);
            for (unsigned int k = 0; k < plan.points[m]; ++k)
              barycentric[m].push_back(((k % 2) ? -1. : 1.) * std::sin(M_PI * (2. * k + 1.) / (2. * plan.points[m])));
            // Parent-to-child interpolation: the child's points in the
            // parent's reference coordinates, on either half.
            for (unsigned int side = 0; side < 2; ++side)
              {
                const unsigned int n = plan.points[m];
                to_child[m][side].resize(n * n);
                for (unsigned int k = 0; k < n; ++k)
                  lagrange_values(n,
                                  points[m].data(),
                                  0.5 * points[m][k] + (side == 0 ? -0.5 : 0.5),
                                  &to_child[m][side][k * n]);
              }
          }
        for (unsigned int m = 0; m < dim; ++m)
          middle[m] = geometry.source_low[m] + geometry.source_half[m];
      }

      Stage first_stage() const;
      /// The stage after `old`, halving the target boxes across `direction`,
      /// into `stage` (whose storage is reused).
      void next_stage(const Stage &old, unsigned int direction, Stage &stage) const;
      /// F^{AB} of source box B (centre s, log scale `largest`) at the root's nodes, into out.
      void sum_box_sources(const std::size_t *sources,
                           std::size_t        n_sources,
                           const double      *s,
                           double             largest,
                           const double      *root_centre,
                           const double      *root_half,
                           double            *out) const;
      bool  evaluate_targets(const Stage &stage, std::size_t n_targets, const double *targets, double *values) const;

    private:
      LargeBuffer          *buffers; // two, for the stages' data
      const ExponentialSum &sum;
      const Plan           &plan;
      const Geometry       &geometry;
      const unsigned int    dim, n_outputs;
      const std::size_t     block;
      std::vector<double>   points[max_dim], barycentric[max_dim];
      std::vector<double>   to_child[max_dim][2];
      double                middle[max_dim] = {}; // y0

      /// Centre and half-width of a target box in direction m.
      void target_box(const unsigned int tau[max_dim], Key key, double centre[max_dim], double half[max_dim]) const
      {
        unsigned int index[max_dim];
        index_of(key, index);
        for (unsigned int m = 0; m < max_dim; ++m)
          {
            half[m]   = m < dim ? std::ldexp(geometry.target_half[m], -static_cast<int>(tau[m])) : 0.;
            centre[m] = m < dim ? geometry.target_low[m] + (2. * index[m] + 1.) * half[m] : 0.;
          }
      }

      /// Centre and half-width of a source box.
      void source_box(const unsigned int tau[max_dim], Key key, double centre[max_dim], double half[max_dim]) const
      {
        unsigned int index[max_dim];
        index_of(key, index);
        for (unsigned int m = 0; m < max_dim; ++m)
          {
            half[m] = m < dim ? std::ldexp(geometry.source_half[m], -static_cast<int>(plan.levels[m] - tau[m])) : 0.;
            centre[m] = m < dim ? geometry.source_low[m] + (2. * index[m] + 1.) * half[m] : 0.;
          }
      }
    };

    Stage Butterfly::first_stage() const
    {
      Stage stage;
      stage.targets = plan.stage_targets[0];
      stage.sources = plan.stage_sources[0];
      // Every value is written, by the threads that use it (first touch).
      stage.data = buffers[0].get(stage.sources.size() * block);
      stage.log_scale.assign(stage.sources.size(), -std::numeric_limits<double>::infinity());
      // Sources by leaf (a counting sort): those of box b are order[first[b] .. first[b + 1]).
      std::vector<std::size_t> order, first;
      sort_by_box(stage.sources, plan.source_leaves, order, first);
      double root_centre[max_dim], root_half[max_dim];
      target_box(stage.tau, Key(0), root_centre, root_half);
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, stage.sources.size(), 1), [&](const auto &range) {
        for (std::size_t b = range.begin(); b != range.end(); ++b)
          {
            double s[max_dim], g[max_dim];
            source_box(stage.tau, stage.sources[b], s, g);
            double largest = -std::numeric_limits<double>::infinity();
            for (std::size_t k = first[b]; k < first[b + 1]; ++k)
              {
                const std::size_t j     = order[k];
                double            score = sum.log_weight[j];
                for (unsigned int m = 0; m < dim; ++m)
                  score += root_centre[m] * (sum.coordinate[j * dim + m] - s[m]);
                largest = std::max(largest, score);
              }
            stage.log_scale[b] = largest;
            if (largest > -std::numeric_limits<double>::infinity())
              sum_box_sources(&order[first[b]], first[b + 1] - first[b], s, largest, root_centre, root_half, &stage.data[b * block]);
            else // no weight
              std::fill(&stage.data[b * block], &stage.data[(b + 1) * block], 0.);
          }
      });
      return stage;
    }

    void Butterfly::sum_box_sources(const std::size_t *sources,
                                    std::size_t        n_sources,
                                    const double      *s,
                                    double             largest,
                                    const double      *root_centre,
                                    const double      *root_half,
                                    double            *out) const
    {
      // out[row][i0] += sum_j P[row][j] F[j][i0] per chunk of sources, rows
      // (o, i2, i1) with P = w_j (1, y_j - y0)_o e_{2,i2}(y_j) e_{1,i1}(y_j),
      // F[j][i0] = e_{0,i0}(y_j): a small matrix product.
      constexpr std::size_t chunk = 128; // a multiple of lanes
      const unsigned int   *n     = plan.points;
      const std::size_t     rows  = n_outputs * n[2] * n[1];
      // Per thread, reused from box to box (every entry used is written).
      thread_local std::vector<double> P, F, weight_moment, factor[max_dim], z, score;
      P.resize(rows * chunk);
      F.resize(chunk * n[0]);
      weight_moment.resize(n_outputs * chunk);
      z.resize(chunk);
      score.resize(chunk);
      for (unsigned int m = 0; m < max_dim; ++m)
        factor[m].resize(n[m] * chunk);
      double scale[max_dim][max_points], no_shift[max_points] = {}, zeros[chunk] = {};
      for (unsigned int m = 0; m < dim; ++m)
        for (unsigned int i = 0; i < n[m]; ++i)
          scale[m][i] = root_half[m] * points[m][i];
      for (std::size_t begin = 0; begin < n_sources; begin += chunk)
        {
          const std::size_t count = std::min(chunk, n_sources - begin);
          const std::size_t width = (count + lanes - 1) / lanes * lanes; // whole lane vectors
          for (std::size_t k = 0; k < width; ++k)
            {
              const std::size_t j = sources[begin + std::min(k, count - 1)];
              score[k]            = sum.log_weight[j] - largest;
              for (unsigned int m = 0; m < dim; ++m)
                score[k] += root_centre[m] * (sum.coordinate[j * dim + m] - s[m]);
            }
          // The weights, then factor[m][i][k] = e^{h_m x_i (y_m - s_m)}.
          fast::detail::exponential_rows(1, width, score.data(), zeros, no_shift, no_shift, z.data());
          for (std::size_t k = 0; k < count; ++k)
            {
              const double *y              = &sum.coordinate[sources[begin + k] * dim];
              // (exp_lanes gives e^{-700} for -inf: weight zero is zero.)
              const double weight          = score[k] > -std::numeric_limits<double>::infinity() ? z[k] : 0.;
              weight_moment[k * n_outputs] = weight;
              for (unsigned int m = 0; m < dim; ++m)
                weight_moment[k * n_outputs + m + 1] = weight * (y[m] - middle[m]);
            }
          for (unsigned int m = 0; m < max_dim; ++m)
            {
              if (m >= dim)
                {
                  std::fill(factor[m].begin(), factor[m].begin() + width, 1.);
                  continue;
                }
              for (std::size_t k = 0; k < width; ++k)
                z[k] = sum.coordinate[sources[begin + std::min(k, count - 1)] * dim + m] - s[m];
              fast::detail::exponential_rows(n[m], width, nullptr, z.data(), scale[m], no_shift, factor[m].data());
            }
          for (std::size_t k = 0; k < count; ++k)
            for (unsigned int i = 0; i < n[0]; ++i)
              F[k * n[0] + i] = factor[0][i * width + k];
          for (unsigned int o = 0; o < n_outputs; ++o)
            for (unsigned int i2 = 0; i2 < n[2]; ++i2)
              for (unsigned int i1 = 0; i1 < n[1]; ++i1)
                {
                  double       *row = &P[((o * n[2] + i2) * n[1] + i1) * count];
                  const double *f2 = &factor[2][i2 * width], *f1 = &factor[1][i1 * width];
                  for (std::size_t k = 0; k < count; ++k)
                    row[k] = weight_moment[k * n_outputs + o] * f2[k] * f1[k];
                }
          gemm(rows, n[0], count, P.data(), count, F.data(), n[0], out, n[0], begin > 0);
        }
    }

    void Butterfly::next_stage(const Stage &old, unsigned int direction, Stage &stage) const
    {
      std::copy(old.tau, old.tau + max_dim, stage.tau);
      ++stage.tau[direction];
      const unsigned int index = stage.tau[0] + stage.tau[1] + stage.tau[2];
      stage.targets            = plan.stage_targets[index];
      stage.sources            = plan.stage_sources[index];
      const std::size_t n_sources = stage.sources.size();
      // Every value is written (the first half with weight of each source
      // box sets it; without any, zeros).
      stage.data = buffers[old.data == buffers[0].get(0) ? 1 : 0].get(stage.targets.size() * n_sources * block);
      stage.log_scale.assign(stage.targets.size() * n_sources, -std::numeric_limits<double>::infinity());

      const unsigned int m = direction, n = plan.points[m];
      std::size_t        inner = 1, outer = n_outputs;
      for (unsigned int k = 0; k < max_dim; ++k)
        if (k < m)
          inner *= plan.points[k];
        else if (k > m)
          outer *= plan.points[k];
      tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, stage.targets.size() * n_sources, 1), [&](const auto &range) {
          std::vector<double> matrix(n * n), transposed(n * n);
          for (std::size_t pair = range.begin(); pair != range.end(); ++pair)
            {
              const std::size_t a = pair / n_sources, b = pair % n_sources;
              unsigned int      index[max_dim];
              index_of(stage.targets[a], index);
              const unsigned int side = index[m] & 1u;
              index[m] >>= 1;
              const std::size_t parent = position(old.targets, key_of(index));
              double            c[max_dim], h[max_dim], s_old[max_dim], g_old[max_dim];
              target_box(stage.tau, stage.targets[a], c, h);
              // The halves of source box b across m, at the old stage.
              index_of(stage.sources[b], index);
              std::size_t children[2];
              double      exponent[2];
              double      largest = -std::numeric_limits<double>::infinity();
              for (unsigned int half = 0; half < 2; ++half)
                {
                  unsigned int child[max_dim] = {index[0], index[1], index[2]};
                  child[m]                   = 2 * index[m] + half;
                  children[half]             = position(old.sources, key_of(child));
                  exponent[half]             = -std::numeric_limits<double>::infinity();
                  if (children[half] == old.sources.size())
                    continue;
                  source_box(old.tau, key_of(child), s_old, g_old);
                  // e^{<a, s' - s>}: s' - s = -+ g' along m; its value at A's centre.
                  const double sign = half == 0 ? -1. : 1.;
                  exponent[half]    = old.log_scale[parent * old.sources.size() + children[half]] + sign * c[m] * g_old[m];
                  largest           = std::max(largest, exponent[half]);
                }
              stage.log_scale[pair] = largest;
              double *out           = &stage.data[pair * block];
              bool    add           = false;
              if (!(largest > -std::numeric_limits<double>::infinity())) // no weight in either half
                std::fill(out, out + block, 0.);
              for (unsigned int half = 0; half < 2; ++half)
                {
                  if (!(exponent[half] > -std::numeric_limits<double>::infinity()))
                    continue;
                  const double sign  = half == 0 ? -1. : 1.;
                  const double scale = std::exp(exponent[half] - largest);
                  for (unsigned int k = 0; k < n; ++k)
                    {
                      const double factor = scale * std::exp(sign * h[m] * points[m][k] * g_old[m]);
                      for (unsigned int i = 0; i < n; ++i)
                        matrix[k * n + i] = factor * to_child[m][side][k * n + i];
                    }
                  const double *in = &old.data[(parent * old.sources.size() + children[half]) * block];
                  if (inner == 1)
                    {
                      // out[o][k] = sum_i in[o][i] M[k][i]: M transposed on the right.
                      for (unsigned int k = 0; k < n; ++k)
                        for (unsigned int i = 0; i < n; ++i)
                          transposed[i * n + k] = matrix[k * n + i];
                      gemm(outer, n, n, in, n, transposed.data(), n, out, n, add);
                    }
                  else
                    for (std::size_t o = 0; o < outer; ++o)
                      gemm(n, inner, n, matrix.data(), n, in + o * n * inner, inner, out + o * n * inner, inner, add);
                  add = true;
                }
            }
        });
    }

    bool Butterfly::evaluate_targets(const Stage &stage, std::size_t n_targets, const double *targets, double *values) const
    {
      // Targets by leaf, eight of one leaf at a time (one per lane).
      std::vector<std::size_t> order, first;
      sort_by_box(stage.targets, plan.target_leaves, order, first);
      std::vector<std::size_t> groups, group_leaf; // first target (in order) of each group, its leaf
      for (std::size_t leaf = 0; leaf < stage.targets.size(); ++leaf)
        for (std::size_t k = first[leaf]; k < first[leaf + 1]; k += lanes)
          {
            groups.push_back(k);
            group_leaf.push_back(leaf);
          }
      groups.push_back(n_targets);
      const unsigned int n_values = dim + (sum.log_scale ? 1 : 0);
      std::atomic<bool>  positive{true};
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, groups.size() - 1, 16), [&](const auto &range) {
        double basis[max_dim][max_points * lanes], xi[max_dim][lanes], F[(max_dim + 1) * lanes];
        for (std::size_t group = range.begin(); group != range.end(); ++group)
          {
            const std::size_t leaf  = group_leaf[group];
            const std::size_t begin = groups[group], count = std::min(groups[group + 1], first[leaf + 1]) - begin;
            double            c[max_dim], h[max_dim];
            target_box(stage.tau, stage.targets[leaf], c, h);
            for (unsigned int m = 0; m < max_dim; ++m)
              {
                for (std::size_t l = 0; l < lanes; ++l)
                  {
                    const double *a = &targets[order[begin + std::min(l, count - 1)] * dim];
                    xi[m][l] = m < dim && h[m] > 0. ? std::clamp((a[m] - c[m]) / h[m], -1., 1.) : 0.;
                  }
                lagrange_lanes(plan.points[m], points[m].data(), barycentric[m].data(), xi[m], basis[m]);
              }
            interpolate_lanes(plan.points, n_outputs, &stage.data[leaf * block], basis[0], basis[1], basis[2], F);
            for (std::size_t l = 0; l < count; ++l)
              {
                const std::size_t t = order[begin + l];
                const double     *a = &targets[t * dim];
                const double      D = F[l];
                if (!(D > 0.) || !std::isfinite(D))
                  {
                    positive = false;
                    continue;
                  }
                double mean[max_dim];
                for (unsigned int i = 0; i < dim; ++i)
                  mean[i] = middle[i] + F[(i + 1) * lanes + l] / D + sum.offset[i];
                double *out = &values[t * n_values];
                for (unsigned int i = 0; i < dim; ++i)
                  {
                    double q = 0.;
                    for (unsigned int k = 0; k < dim; ++k)
                      q += (sum.V ? sum.V[i * dim + k] : (i == k ? 1. : 0.)) * mean[k];
                    out[i] = q;
                  }
                if (sum.log_scale)
                  {
                    double score = 0.;
                    for (unsigned int m = 0; m < dim; ++m)
                      score += a[m] * middle[m];
                    out[dim] = score + stage.log_scale[leaf] + std::log(D) + sum.log_scale_offset;
                  }
              }
          }
      });
      return positive;
    }
  } // namespace

  ButterflyOutcome plan_butterfly(const ExponentialSum &sum,
                                  std::size_t           n_targets,
                                  const double         *targets,
                                  double                relative_accuracy)
  {
    const Plan plan = best_plan(sum, n_targets, targets, find_geometry(sum, n_targets, targets), relative_accuracy);
    ButterflyOutcome outcome;
    outcome.cost   = plan.cost;
    outcome.pairs  = plan.pairs;
    outcome.stages = static_cast<unsigned int>(plan.order.size());
    outcome.kappa  = plan.kappa;
    std::copy(plan.points, plan.points + max_dim, outcome.points);
    return outcome;
  }

  ButterflyOutcome butterfly_sums(const ExponentialSum &sum,
                                  std::size_t           n_targets,
                                  const double         *targets,
                                  double                relative_accuracy,
                                  double                max_cost,
                                  double               *values)
  {
    ButterflyOutcome outcome;
    if (n_targets == 0 || sum.n_sources == 0 || sum.dim < 1 || sum.dim > max_dim)
      return outcome;
    const auto     start    = std::chrono::steady_clock::now();
    const Geometry geometry = find_geometry(sum, n_targets, targets);
    const Plan     plan     = best_plan(sum, n_targets, targets, geometry, relative_accuracy);
    outcome.cost            = plan.cost;
    outcome.pairs           = plan.pairs;
    outcome.stages          = static_cast<unsigned int>(plan.order.size());
    outcome.kappa           = plan.kappa;
    std::copy(plan.points, plan.points + max_dim, outcome.points);
    if (!std::isfinite(plan.cost) || !(plan.cost <= max_cost))
      return outcome;
    outcome.affordable = true;
    LargeBuffer  own[2];
    const bool   use_kept = !kept_buffers_busy;
    kept_buffers_busy     = true;
    struct Release
    {
      bool release;
      ~Release()
      {
        if (release)
          kept_buffers_busy = false;
      }
    } release{use_kept};
    const Butterfly butterfly(sum, plan, geometry, use_kept ? kept_buffers : own);
    const auto      t0    = std::chrono::steady_clock::now();
    Stage           stage = butterfly.first_stage();
    const auto      t1    = std::chrono::steady_clock::now();
    Stage           next;
    for (const unsigned int direction : plan.order)
      {
        butterfly.next_stage(stage, direction, next);
        std::swap(stage, next);
      }
    const auto t2 = std::chrono::steady_clock::now();
    outcome.done  = butterfly.evaluate_targets(stage, n_targets, targets, values);
    const auto t3 = std::chrono::steady_clock::now();
    if (std::getenv("TPDE_FAST_PROFILE"))
      std::fprintf(stderr,
                   "butterfly: kappa %g, points %u %u %u, %zu stages, %zu pairs; plan %.4f s, sources %.4f s, "
                   "stages %.4f s, targets %.4f s\n",
                   plan.kappa, plan.points[0], plan.points[1], plan.points[2], plan.order.size(), plan.pairs,
                   std::chrono::duration<double>(t0 - start).count(),
                   std::chrono::duration<double>(t1 - t0).count(),
                   std::chrono::duration<double>(t2 - t1).count(),
                   std::chrono::duration<double>(t3 - t2).count());
    return outcome;
  }
} // namespace tpde::attention::fast
