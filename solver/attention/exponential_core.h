// The exponential kernel family's core (softmax, l2, unnormalized, and through
// them multihead, sinkhorn and masked): sources in structure-of-arrays form
// with exact coarse parts, and the SIMD sweeps that sum exponentials of
// scores over them. The method and its accuracy argument are described in
// exponential_kernel.cc; this header is internal to the exponential_*.cc files.
#pragma once

#include "attention/kernel_base.h"

#include <cmath>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tpde::attention::exponential
{
  // Sources are padded to a multiple of this: the float exponential
  // (exponential_sums_float) takes two lane groups (16 floats) at a time.
  constexpr std::size_t source_padding = 2 * source_lanes;
  // Float exponential: the exponent t is rounded to float (absolute error
  // |t| 2^-24), so the shift must be close to the largest score; the
  // bounding-box bound is used only when it is within this of the heaviest
  // source's score, else a sweep finds the maximum.
  constexpr double max_float_bound_gap = 1.;
  // Targets per sweep: each loaded source lane group is used this many
  // times, but every target needs its own accumulators and constants in
  // registers. 2 measured fastest on Zen 4 for d = 1, 2, 3 (tried 1, 2, 3,
  // 4, 6, 8).
  constexpr unsigned int targets_per_sweep = 2;

  // Exact coarse scores (see exponential_kernel.cc). With S_i a power of two
  // bounding |y_i| and P = max_i (power of two bounding |a_i|) * S_i:
  //  * y_hi[i] is y[i] rounded to a multiple of S_i 2^-26 (<= 2^26 steps);
  //  * G = P 2^-50 and a_hi[i] is a[i] rounded to a multiple of G / (S_i 2^-26)
  //    (<= 2^24 steps), so a_hi[i] y_hi[i] is a multiple of G with at most
  //    50 significant bits: exact;
  //  * the shift (the maximum score, |max| <= d P since log-weights are <= 0
  //    and equal 0 for the heaviest source, or its bounding-box bound, which
  //    lies between the maximum and d P) is rounded to a multiple of G (the
  //    fast summation's source subsets may lack the heaviest source; their
  //    shifts can then exceed d P by the subset's largest |log-weight|, and
  //    the coarse sums lose exactness at the level of eps times that);
  //  * every partial sum of shift and coarse products is a multiple of G of
  //    size <= |max| + d P <= 2 d P <= 6 P < 8 P = 2^53 G (d <= 3): exact.
  constexpr int coarse_source_bits   = 26;
  constexpr int common_step_exponent = -50;

  /// velocity *= e^shift (dim components). Beyond |shift| = 700 as two
  /// factors e^{shift/2}, so that a representable product is not lost to an
  /// overflowing (or underflowing) factor; a velocity beyond the double range
  /// becomes +-inf (or NaN for a zero direction), which the solver reports.
  template <int dim>
  void scale_by_exponential(double *velocity, double shift)
  {
    if (std::abs(shift) <= 700.)
      {
        const double factor = std::exp(shift);
        for (int p = 0; p < dim; ++p)
          velocity[p] *= factor;
      }
    else
      {
        const double half = std::exp(0.5 * shift);
        for (int p = 0; p < dim; ++p)
          velocity[p] = velocity[p] * half * half;
      }
  }

  /// Smallest power of two >= value (value >= 0); 0 for 0.
  double power_of_two_at_least(double value);

  /// Cache-aligned doubles left uninitialised: the packing writes every
  /// entry (the sources on the TBB threads, then the padding), so zeroing
  /// them first would only cost time (first-touch page faults on one thread).
  class SourceStorage
  {
  public:
    void allocate(std::size_t n)
    {
      buffer = Buffer(n > 0 ? tbb::cache_aligned_allocator<double>().allocate(n) : nullptr, Free{n});
    }
    double *data() const { return buffer.get(); }

  private:
    struct Free
    {
      std::size_t n = 0;
      void        operator()(double *p) const { tbb::cache_aligned_allocator<double>().deallocate(p, n); }
    };
    using Buffer = std::unique_ptr<double, Free>;
    Buffer buffer{nullptr, Free{}};
  };


  /// Sources in structure-of-arrays form, positive weights only, padded to
  /// a multiple of source_padding with entries of log-weight -inf (which
  /// give an exponential of at most e^-700 (double) or e^-86 (float)
  /// relative to the largest term: invisible in the sums).
  template <int dim>
  struct SourceArrays
  {
    SourceArrays()                     = default;
    SourceArrays(SourceArrays &&)      = default; // keeps the buffer, so the pointers stay valid
    SourceArrays(const SourceArrays &) = delete;  // a copy would point into the original

    std::size_t   n_used   = 0; // sources with positive weight
    std::size_t   n_padded = 0;
    SourceStorage storage;
    const double *coordinate[dim];    // y (penalised kernels: y - centre)
    const double *coordinate_hi[dim]; // y rounded to a multiple of grid_step
    const double *coordinate_lo[dim]; // y - coordinate_hi (exact)
    // log(w / w_max) <= 0; penalised kernels: log w - c |K y|^2 minus its
    // maximum (also <= 0), rounded to double, with the rest in log_weight_lo.
    const double *log_weight;
    const double *log_weight_lo = nullptr;    // low part (penalised kernels only)
    double        grid_step[dim];             // power of two: 2^-26 * bound on |y|
    double        lowest[dim], highest[dim];  // bounding box of coordinate
    std::size_t   heaviest = 0;               // a source with log_weight 0
    double        max_over_total_weight = 1.; // w_max / sum_j w_j
    // Penalised kernels work with y - centre (see add_key_penalty): the
    // score vector becomes A x - score_offset and the mean gains + centre.
    bool        centred           = false;
    double      centre[dim]       = {};
    long double score_offset[dim] = {};
  };

  /// Per-target data of one sweep.
  template <int dim>
  struct TargetBlock
  {
    // a = A x rounded to double: enough to find the maximum score.
    double a[targets_per_sweep][dim];
    // a = a_hi + a_lo (to ~1e-23 relative), a_hi on the grid that makes
    // a_hi * y_hi a multiple of common_step[b].
    double a_hi[targets_per_sweep][dim];
    double a_lo[targets_per_sweep][dim];
    double common_step[targets_per_sweep];
    // -(maximum score), rounded to a multiple of common_step[b].
    double negative_shift[targets_per_sweep];
  };

  /// This process's sources of a distributed sum (Kernel::evaluate_distributed),
  /// packed; none where it holds no mass. Checked like check_sources (and the
  /// targets finite) on every process, and failed on all of them alike (a
  /// collective cannot be left half-way): std::invalid_argument if any
  /// process's data are invalid or the total weight is not positive.
  /// heaviest: this process's largest weight; total: all processes' weight.
  template <int dim>
  std::optional<SourceArrays<dim>> pack_distributed_sources(const std::string           &variant,
                                                            std::size_t                  n_targets,
                                                            const double                *targets,
                                                            std::size_t                  n_sources,
                                                            const double                *points,
                                                            const double                *weights,
                                                            const Matrix                &K,
                                                            double                       key_penalty,
                                                            const fast::Collective      &collective,
                                                            double                      &heaviest,
                                                            double                      &total);

  /// Lane-wise maximum of the scores <a, y_j> + log w_j for each target.
  template <int dim>
  void maximum_scores(const SourceArrays<dim> &sources,
                    const TargetBlock<dim>  &block,
                    double                   maximum[targets_per_sweep]);

  /// Shifted sums: denominator sum_j exp(s_j - max) and numerator
  /// sum_j exp(s_j - max) y_j for each target. split_log_weight: the
  /// log-weights are hi + lo (penalised kernels, see SourceArrays).
  template <int dim, bool split_log_weight>
  void exponential_sums(const SourceArrays<dim> &sources,
                      const TargetBlock<dim>  &block,
                      double                   denominator[targets_per_sweep],
                      double                   numerator[targets_per_sweep][dim]);

  /// exponential_sums with the exponentials in float (Parameters::float_exponential).
  template <int dim>
  void exponential_sums_float(const SourceArrays<dim> &sources,
                            const TargetBlock<dim>  &block,
                            double                   denominator[targets_per_sweep],
                            double                   numerator[targets_per_sweep][dim]);

  /// The sources of a kernel with key penalty p (0: none) as arrays: log-weights
  /// log(w / w_max), or with a penalty log w - p |K y'|^2 minus its maximum on
  /// sources centred on their bounding box (y' = y - centre).
  template <int dim>
  SourceArrays<dim> pack_exponential_sources(const Sources &sources, const Matrix &K, double key_penalty);

  /// The listed sources (indices below n_used) as their own arrays, on
  /// the same grid and in the same frame as `all`.
  template <int dim>
  SourceArrays<dim> select_sources(const SourceArrays<dim> &all, const std::vector<std::size_t> &indices);
} // namespace tpde::attention::exponential
