// Softmax self-attention (physics.md §1.2):
//
//   X(x) = V * sum_j w_j exp(beta <Qx, K y_j>) y_j / sum_j w_j exp(beta <Qx, K y_j>).
//
// With A = beta K^T Q the score of source y for target x is <a, y>, a = A x.
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
//  * with `evaluation = fast` (or auto on large problems) the sums are
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
// create_exponential_kernel() below (declared in exponential_kernel.h) takes the factor of K^T Q, an optional |K y|^2 penalty
// (l2: -beta |Qx - Ky|^2 = 2 beta <Qx, Ky> - beta |Ky|^2 - beta |Qx|^2, and the
// last term cancels) and whether the sum is normalised (softmax, l2) or
// divided by the total weight (unnormalized). With a penalty the sources are
// first centred on their bounding box (the dropped terms are constant per
// target and cancel in the normalisation), and the log-weights, which may
// still be large, are kept as a double-double (hi + lo): hi is added to the
// exact coarse sum first, so that this addition rounds at the size of the
// result, not of the log-weight.
#include "attention/exponential_kernel.h"
#include "attention/fast_summation.h"
#include "attention/simd_exp.h"

#include <tbb/blocked_range.h>
#include <tbb/cache_aligned_allocator.h>
#include <tbb/parallel_for.h>

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <vector>

// The vector helpers are always inlined into the clones, so the vector ABI
// GCC warns about for the non-AVX-512 clones (-Wpsabi, reported as late as
// the end of the file) never applies.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace tpde::attention
{
  namespace
  {
    // Sources per lane group: one AVX-512 register (two AVX2, four SSE2).
    // Fixed in the source, not taken from the hardware, so the summation
    // order and hence the result is the same for every clone width.
    constexpr std::size_t source_lanes = 8;
    // Sources per partial sum before it is added to the running total: two
    // level summation keeps the rounding error of long sums at
    // ~(chunk/lanes + n/chunk) ulp instead of ~n/lanes ulp.
    constexpr std::size_t summation_chunk = 512;
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

    // Exact coarse scores (see the top of the file). With S_i a power of two
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

    /// Smallest power of two >= value (value >= 0); 0 for 0.
    double power_of_two_at_least(double value)
    {
      if (value == 0.)
        return 0.;
      int exponent;
      std::frexp(value, &exponent); // value = f 2^exponent, 0.5 <= f < 1
      return std::ldexp(1., exponent);
    }

    std::string shape(const Matrix &m)
    {
      return std::to_string(m.rows) + " x " + std::to_string(m.cols);
    }

    void check_finite_entries(const Matrix &m, const char *name)
    {
      if (m.data.size() != m.rows * m.cols)
        throw std::invalid_argument(std::string(name) + " has " + std::to_string(m.data.size()) +
                                    " entries but shape " + shape(m));
      for (const double entry : m.data)
        if (!std::isfinite(entry))
          throw std::invalid_argument(std::string(name) + " must have finite entries, got " +
                                      m.to_string());
    }

    /// Sources in structure-of-arrays form, positive weights only, padded to
    /// a multiple of source_padding with entries of log-weight -inf (which
    /// give an exponential of at most e^-700 (double) or e^-86 (float)
    /// relative to the largest term: invisible in the sums).
    using AlignedVector = std::vector<double, tbb::cache_aligned_allocator<double>>;

    template <int dim>
    struct SourceArrays
    {
      SourceArrays()                     = default;
      SourceArrays(SourceArrays &&)      = default; // keeps the buffer, so the pointers stay valid
      SourceArrays(const SourceArrays &) = delete;  // a copy would point into the original

      std::size_t   n_used   = 0; // sources with positive weight
      std::size_t   n_padded = 0;
      AlignedVector storage;
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

    // The two sweeps below are compiled once per instruction set and the
    // dynamic loader picks the best clone the CPU supports. x86-64-v4 is
    // AVX-512 (F, BW, CD, DQ, VL); x86-64-v3 is AVX2 + FMA (a plain "avx2"
    // clone would lack FMA); "default" runs on any x86-64.
#define TPDE_ATTENTION_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

    using simd::lanes_double;

    /// Eight consecutive entries (any alignment).
    __attribute__((always_inline)) inline lanes_double load_lanes(const double *data)
    {
      lanes_double result;
      std::memcpy(&result, data, sizeof result);
      return result;
    }

    /// The entries of lanes in a fixed pairwise order.
    __attribute__((always_inline)) inline double sum_lanes(const lanes_double &lane)
    {
      static_assert(source_lanes == 8, "pairwise lane sum written for 8 lanes");
      return ((lane[0] + lane[4]) + (lane[2] + lane[6])) +
             ((lane[1] + lane[5]) + (lane[3] + lane[7]));
    }

    /// Lane-wise maximum of the scores <a, y_j> + log w_j for each target.
    template <int dim>
    TPDE_ATTENTION_CLONES void maximum_scores(const SourceArrays<dim> &sources,
                                              const TargetBlock<dim>  &block,
                                              double                   maximum[targets_per_sweep])
    {
      lanes_double lane_maximum[targets_per_sweep];
      for (unsigned int b = 0; b < targets_per_sweep; ++b)
        lane_maximum[b] = lanes_double{} - std::numeric_limits<double>::infinity();

      for (std::size_t j = 0; j < sources.n_padded; j += source_lanes)
        {
          const lanes_double log_weight = load_lanes(sources.log_weight + j);
          lanes_double       y[dim];
          for (int i = 0; i < dim; ++i)
            y[i] = load_lanes(sources.coordinate[i] + j);
          for (unsigned int b = 0; b < targets_per_sweep; ++b)
            {
              lanes_double score = log_weight;
              for (int i = 0; i < dim; ++i)
                score = block.a[b][i] * y[i] + score;
              lane_maximum[b] = score > lane_maximum[b] ? score : lane_maximum[b];
            }
        }

      for (unsigned int b = 0; b < targets_per_sweep; ++b)
        {
          maximum[b] = lane_maximum[b][0];
          for (std::size_t l = 1; l < source_lanes; ++l)
            maximum[b] = std::max(maximum[b], lane_maximum[b][l]);
        }
    }

    /// Shifted sums: denominator sum_j exp(s_j - max) and numerator
    /// sum_j exp(s_j - max) y_j for each target. split_log_weight: the
    /// log-weights are hi + lo (penalised kernels, see SourceArrays).
    template <int dim, bool split_log_weight>
    TPDE_ATTENTION_CLONES void exponential_sums(const SourceArrays<dim> &sources,
                                                const TargetBlock<dim>  &block,
                                                double denominator[targets_per_sweep],
                                                double numerator[targets_per_sweep][dim])
    {
      lanes_double total_denominator[targets_per_sweep]     = {};
      lanes_double total_numerator[targets_per_sweep][dim] = {};

      for (std::size_t chunk = 0; chunk < sources.n_padded; chunk += summation_chunk)
        {
          const std::size_t chunk_end = std::min(chunk + summation_chunk, sources.n_padded);
          lanes_double      chunk_denominator[targets_per_sweep]     = {};
          lanes_double      chunk_numerator[targets_per_sweep][dim] = {};

          for (std::size_t j = chunk; j < chunk_end; j += source_lanes)
            {
              const lanes_double log_weight = load_lanes(sources.log_weight + j);
              const lanes_double log_weight_lo =
                split_log_weight ? load_lanes(sources.log_weight_lo + j) : lanes_double{};
              lanes_double y[dim], y_hi[dim], y_lo[dim];
              for (int i = 0; i < dim; ++i)
                {
                  y[i]    = load_lanes(sources.coordinate[i] + j);
                  y_hi[i] = load_lanes(sources.coordinate_hi[i] + j);
                  y_lo[i] = load_lanes(sources.coordinate_lo[i] + j);
                }
              for (unsigned int b = 0; b < targets_per_sweep; ++b)
                {
                  // Exact: all terms are multiples of the common step and the
                  // partial sums stay below 2^53 steps.
                  lanes_double coarse = lanes_double{} + block.negative_shift[b];
                  // Small: log-weight (or its low part) plus fine products
                  // (~2^-24 |score|).
                  lanes_double fine = split_log_weight ? log_weight_lo : log_weight;
                  for (int i = 0; i < dim; ++i)
                    {
                      coarse = block.a_hi[b][i] * y_hi[i] + coarse;
                      fine   = block.a_hi[b][i] * y_lo[i] + fine;
                      fine   = block.a_lo[b][i] * y[i] + fine;
                    }
                  // A large log-weight nearly cancels the exact coarse sum for
                  // the sources that matter; a sum rounds at the size of its
                  // result, so adding it there first costs no accuracy.
                  const lanes_double exponent =
                    split_log_weight ? (coarse + log_weight) + fine : coarse + fine;
                  const lanes_double weight = simd::exp_lanes(exponent);
                  chunk_denominator[b] += weight;
                  for (int i = 0; i < dim; ++i)
                    chunk_numerator[b][i] = weight * y[i] + chunk_numerator[b][i];
                }
            }

          for (unsigned int b = 0; b < targets_per_sweep; ++b)
            {
              total_denominator[b] += chunk_denominator[b];
              for (int i = 0; i < dim; ++i)
                total_numerator[b][i] += chunk_numerator[b][i];
            }
        }

      for (unsigned int b = 0; b < targets_per_sweep; ++b)
        {
          denominator[b] = sum_lanes(total_denominator[b]);
          for (int i = 0; i < dim; ++i)
            numerator[b][i] = sum_lanes(total_numerator[b][i]);
        }
    }

    /// The shifted sums of exponential_sums with the exponentials in float
    /// (Parameters::float_exponential): the exponent t = s_j - shift is
    /// formed in double, directly rather than split exactly (its rounding,
    /// ~1e-16 of the score, is far below float precision for scores up to
    /// ~1e6), rounded to float, exponentiated sixteen lanes at a time by
    /// simd::exp_lanes_float and accumulated in double. Each term then has a
    /// relative error of at most ~1.2e-7 + |t| 6e-8, and the shift keeps
    /// |t| of order 1 for the terms that matter (max_float_bound_gap). Split
    /// log-weights contribute only their high part (the low part is below
    /// 1e-16 of it).
    /// Conversions between two lane groups of doubles and sixteen floats.
    /// GCC 12 lowers __builtin_convertvector between 512-bit double and
    /// 256-bit float vectors to 128-bit pieces (about three times the
    /// instructions), so the AVX-512 version uses the intrinsics.
    struct GenericConversions
    {
      typedef float half_float __attribute__((vector_size(32)));
      __attribute__((always_inline)) static simd::lanes_float narrow(lanes_double low,
                                                                     lanes_double high)
      {
        return __builtin_shufflevector(__builtin_convertvector(low, half_float),
                                       __builtin_convertvector(high, half_float),
                                       0, 1, 2, 3, 4, 5, 6, 7,
                                       8, 9, 10, 11, 12, 13, 14, 15);
      }
      __attribute__((always_inline)) static void widen(simd::lanes_float value,
                                                       lanes_double      result[2])
      {
        result[0] = __builtin_convertvector(
          __builtin_shufflevector(value, value, 0, 1, 2, 3, 4, 5, 6, 7), lanes_double);
        result[1] = __builtin_convertvector(
          __builtin_shufflevector(value, value, 8, 9, 10, 11, 12, 13, 14, 15), lanes_double);
      }
    };

    struct Avx512Conversions
    {
      __attribute__((always_inline, target("arch=x86-64-v4"))) static simd::lanes_float
      narrow(lanes_double low, lanes_double high)
      {
        // The zero-masked forms with all lanes set are the plain
        // instructions; the unmasked intrinsics pass an undefined vector that
        // GCC 12 warns about (-Wmaybe-uninitialized).
        const __m256 low_float  = _mm512_maskz_cvtpd_ps(0xff, reinterpret_cast<__m512d>(low));
        const __m256 high_float = _mm512_maskz_cvtpd_ps(0xff, reinterpret_cast<__m512d>(high));
        return reinterpret_cast<simd::lanes_float>(
          _mm512_insertf32x8(_mm512_castps256_ps512(low_float), high_float, 1));
      }
      __attribute__((always_inline, target("arch=x86-64-v4"))) static void
      widen(simd::lanes_float value, lanes_double result[2])
      {
        const __m512 v = reinterpret_cast<__m512>(value);
        result[0] =
          reinterpret_cast<lanes_double>(_mm512_maskz_cvtps_pd(0xff, _mm512_maskz_extractf32x8_ps(0xff, v, 0)));
        result[1] = reinterpret_cast<lanes_double>(
          _mm512_maskz_cvtps_pd(0xff, _mm512_maskz_extractf32x8_ps(0xff, v, 1)));
      }
    };

    // The body of exponential_sums_float, for a class Conversions: a macro
    // because it is compiled twice, once for AVX-512 with the intrinsics,
    // which an inline function without that target cannot call.
#define TPDE_FLOAT_EXPONENTIAL_SUMS(Conversions)                                                  \
      lanes_double  total_denominator[targets_per_sweep]     = {};                                \
      lanes_double  total_numerator[targets_per_sweep][dim] = {};                                 \
                                                                                                  \
      for (std::size_t chunk = 0; chunk < sources.n_padded; chunk += summation_chunk)             \
        {                                                                                         \
          const std::size_t chunk_end = std::min(chunk + summation_chunk, sources.n_padded);      \
          lanes_double      chunk_denominator[targets_per_sweep]     = {};                        \
          lanes_double      chunk_numerator[targets_per_sweep][dim] = {};                         \
                                                                                                  \
          for (std::size_t j = chunk; j < chunk_end; j += 2 * source_lanes)                       \
            {                                                                                     \
              const lanes_double log_weight[2] = {load_lanes(sources.log_weight + j),             \
                                                  load_lanes(sources.log_weight + j + source_lanes)};\
              lanes_double       y[2][dim];                                                       \
              for (int h = 0; h < 2; ++h)                                                         \
                for (int i = 0; i < dim; ++i)                                                     \
                  y[h][i] = load_lanes(sources.coordinate[i] + j + h * source_lanes);             \
              for (unsigned int b = 0; b < targets_per_sweep; ++b)                                \
                {                                                                                 \
                  lanes_double exponent[2];                                                       \
                  for (int h = 0; h < 2; ++h)                                                     \
                    {                                                                             \
                      exponent[h] = log_weight[h] + block.negative_shift[b];                      \
                      for (int i = 0; i < dim; ++i)                                               \
                        exponent[h] = block.a[b][i] * y[h][i] + exponent[h];                      \
                    }                                                                             \
                  lanes_double weight_double[2];                                                  \
                  Conversions::widen(                                                             \
                    simd::exp_lanes_float(Conversions::narrow(exponent[0], exponent[1])),         \
                    weight_double);                                                               \
                  for (int h = 0; h < 2; ++h)                                                     \
                    {                                                                             \
                      chunk_denominator[b] += weight_double[h];                                   \
                      for (int i = 0; i < dim; ++i)                                               \
                        chunk_numerator[b][i] = weight_double[h] * y[h][i] + chunk_numerator[b][i];\
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
                                                                                                  \
          for (unsigned int b = 0; b < targets_per_sweep; ++b)                                    \
            {                                                                                     \
              total_denominator[b] += chunk_denominator[b];                                       \
              for (int i = 0; i < dim; ++i)                                                       \
                total_numerator[b][i] += chunk_numerator[b][i];                                   \
            }                                                                                     \
        }                                                                                         \
                                                                                                  \
      for (unsigned int b = 0; b < targets_per_sweep; ++b)                                        \
        {                                                                                         \
          denominator[b] = sum_lanes(total_denominator[b]);                                       \
          for (int i = 0; i < dim; ++i)                                                           \
            numerator[b][i] = sum_lanes(total_numerator[b][i]);                                   \
        }                                                                                         \
                                                                                                  

    template <int dim>
    __attribute__((target("arch=x86-64-v4"))) void
    exponential_sums_float_avx512(const SourceArrays<dim> &sources,
                                  const TargetBlock<dim>  &block,
                                  double                   denominator[targets_per_sweep],
                                  double                   numerator[targets_per_sweep][dim])
    {
      TPDE_FLOAT_EXPONENTIAL_SUMS(Avx512Conversions)
    }

    template <int dim>
    __attribute__((target_clones("arch=x86-64-v3", "default"))) void
    exponential_sums_float_generic(const SourceArrays<dim> &sources,
                                   const TargetBlock<dim>  &block,
                                   double                   denominator[targets_per_sweep],
                                   double                   numerator[targets_per_sweep][dim])
    {
      TPDE_FLOAT_EXPONENTIAL_SUMS(GenericConversions)
    }

    /// The float sums in the best version for this CPU (dispatched by hand:
    /// the AVX-512 one uses intrinsics, which target_clones cannot share).
    template <int dim>
    void exponential_sums_float(const SourceArrays<dim> &sources,
                                const TargetBlock<dim>  &block,
                                double                   denominator[targets_per_sweep],
                                double                   numerator[targets_per_sweep][dim])
    {
      static const bool avx512 = __builtin_cpu_supports("x86-64-v4");
      if (avx512)
        exponential_sums_float_avx512<dim>(sources, block, denominator, numerator);
      else
        exponential_sums_float_generic<dim>(sources, block, denominator, numerator);
    }

#undef TPDE_FLOAT_EXPONENTIAL_SUMS
#undef TPDE_ATTENTION_CLONES

    /// What distinguishes the exponential kernels (see create_exponential_kernel).
    struct ExponentialKind
    {
      std::string name;         // variant name, for messages
      double      score_factor; // A = score_factor K^T Q
      double      key_penalty;  // log-weights get - key_penalty |K y|^2
      bool        normalised;   // N / D (softmax, l2) or sum w e^s y / sum w
    };

    template <int dim>
    class ExponentialKernel : public Kernel
    {
    public:
      ExponentialKernel(const Parameters &parameters, const ExponentialKind &kind)
          : kind(kind)
          , K(parameters.K)
          , evaluation(parameters.evaluation)
          , tolerance(parameters.tolerance)
          , float_exponential(parameters.float_exponential)
      {
        // A = factor K^T Q, kept in long double so that a = A x is accurate to
        // far below double rounding before it is split.
        for (int p = 0; p < dim; ++p)
          for (int q = 0; q < dim; ++q)
            {
              long double sum = 0;
              for (std::size_t r = 0; r < parameters.Q.rows; ++r)
                sum += static_cast<long double>(parameters.K(r, p)) * parameters.Q(r, q);
              A[p][q] = sum * kind.score_factor;
            }
        for (int p = 0; p < dim; ++p)
          for (int q = 0; q < dim; ++q)
            V[p][q] = parameters.V(p, q);
      }

      unsigned int dimension() const override { return dim; }

      void evaluate(std::size_t   n_targets,
                    const double *targets,
                    std::size_t   n_sources,
                    const double *sources,
                    const double *weights,
                    double       *velocities) const override
      {
        if (n_targets == 0)
          return;
        for (std::size_t k = 0; k < n_targets * dim; ++k)
          if (!std::isfinite(targets[k]))
            throw std::invalid_argument(kind.name +
                                        " attention: target coordinates must be finite");
        const SourceArrays<dim> source_arrays = make_source_arrays(n_sources, sources, weights);
        const std::size_t       n_used        = source_arrays.n_used;
        if (evaluation == Parameters::Evaluation::fast)
          {
            evaluate_fast(n_targets,
                          targets,
                          source_arrays,
                          std::numeric_limits<double>::infinity(),
                          velocities);
            return;
          }
        if (evaluation == Parameters::Evaluation::automatic &&
            fast_summation_pays(n_targets, n_used, tolerance) &&
            evaluate_fast(n_targets,
                          targets,
                          source_arrays,
                          fast_summation_max_fraction * static_cast<double>(n_targets) *
                            static_cast<double>(n_used),
                          velocities))
          return;

        const std::size_t n_blocks = (n_targets + targets_per_sweep - 1) / targets_per_sweep;
        tbb::parallel_for(
          tbb::blocked_range<std::size_t>(0, n_blocks),
          [&](const tbb::blocked_range<std::size_t> &range) {
            for (std::size_t block = range.begin(); block != range.end(); ++block)
              evaluate_block(
                block * targets_per_sweep, n_targets, targets, source_arrays, velocities);
          });
      }

    private:
      ExponentialKind        kind;
      Matrix                 K;
      Parameters::Evaluation evaluation;
      double                 tolerance;
      bool                   float_exponential;
      long double     A[dim][dim];
      double          V[dim][dim];

      SourceArrays<dim>
      make_source_arrays(std::size_t n_sources, const double *sources, const double *weights) const
      {
        double      maximum_weight = 0.;
        long double total_weight   = 0.;
        for (std::size_t j = 0; j < n_sources; ++j)
          {
            if (!(weights[j] >= 0.) || !std::isfinite(weights[j]))
              throw std::invalid_argument(kind.name +
                                          " attention: source weights must be finite and "
                                          "non-negative, got " +
                                          std::to_string(weights[j]) + " for source " +
                                          std::to_string(j));
            maximum_weight = std::max(maximum_weight, weights[j]);
            total_weight += weights[j];
          }
        if (!(maximum_weight > 0.))
          throw std::invalid_argument(kind.name +
                                      " attention: the total source weight must be positive");
        const double log_maximum_weight = std::log(maximum_weight);

        std::size_t n_used         = 0;
        double      magnitude[dim] = {};
        double      lowest[dim], highest[dim];
        std::fill(lowest, lowest + dim, std::numeric_limits<double>::infinity());
        std::fill(highest, highest + dim, -std::numeric_limits<double>::infinity());
        for (std::size_t j = 0; j < n_sources; ++j)
          if (weights[j] > 0.)
            {
              ++n_used;
              for (int i = 0; i < dim; ++i)
                {
                  const double coordinate = sources[j * dim + i];
                  if (!std::isfinite(coordinate))
                    throw std::invalid_argument(kind.name +
                                                " attention: source coordinates must be finite");
                  magnitude[i] = std::max(magnitude[i], std::abs(coordinate));
                  lowest[i]    = std::min(lowest[i], coordinate);
                  highest[i]   = std::max(highest[i], coordinate);
                }
            }

        const bool        penalised = kind.key_penalty != 0.;
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
                result.score_offset[i] = 2 * static_cast<long double>(kind.key_penalty) * sum;
              }
          }
        result.n_used   = n_used;
        result.n_padded = (n_used + source_padding - 1) / source_padding * source_padding;
        result.max_over_total_weight =
          static_cast<double>(static_cast<long double>(maximum_weight) / total_weight);
        result.storage.assign((3 * dim + (penalised ? 2 : 1)) * result.n_padded, 0.);
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

        std::size_t k = 0;
        for (std::size_t j = 0; j < n_sources; ++j)
          if (weights[j] > 0.)
            {
              for (int i = 0; i < dim; ++i)
                {
                  const double coordinate =
                    penalised ? sources[j * dim + i] - result.centre[i] : sources[j * dim + i];
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
        if (penalised)
          {
            double *const log_weight_lo = base + (3 * dim + 1) * result.n_padded;
            add_key_penalty(result, weights, n_sources, log_weight, log_weight_lo);
            result.log_weight_lo = log_weight_lo;
          }
        find_extent(result);
        for (; k < result.n_padded; ++k)
          log_weight[k] = -std::numeric_limits<double>::infinity();
        return result;
      }

      /// Replaces the log-weights of the sources in use by
      /// l_j = log w_j - key_penalty |K y'_j|^2 - max_j(...) (y' = y - centre),
      /// computed in long double and split into log_weight (rounded) +
      /// log_weight_lo (the rest). Like the plain log-weights they are <= 0
      /// with maximum 0, which bounds the shift.
      void add_key_penalty(const SourceArrays<dim> &result,
                           const double            *weights,
                           std::size_t              n_sources,
                           double                  *log_weight,
                           double                  *log_weight_lo) const
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
                std::log(static_cast<long double>(weights[j])) - kind.key_penalty * squared_norm;
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
              scale_by_exponential(velocity, shift[b]);
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

      /// Velocities by fast::interpolate: the score vectors a = A x (rounded
      /// to double) are the interpolation variable, the node values come
      /// from evaluate_points on the sources each box keeps. False (and
      /// velocities untouched) if it gave up after max_interactions.
      bool evaluate_fast(std::size_t              n_targets,
                         const double            *targets,
                         const SourceArrays<dim> &sources,
                         double                   max_interactions,
                         double                  *velocities) const
      {
        std::vector<double> score_vectors(n_targets * dim);
        for (std::size_t t = 0; t < n_targets; ++t)
          {
            long double a[dim];
            score_vector(targets + t * dim, sources, a);
            for (int p = 0; p < dim; ++p)
              score_vectors[t * dim + p] = static_cast<double>(a[p]);
          }
        std::vector<double> coordinates(sources.n_used * dim);
        for (std::size_t j = 0; j < sources.n_used; ++j)
          for (int i = 0; i < dim; ++i)
            coordinates[j * dim + i] = sources.coordinate[i][j];

        fast::ExponentialSum sum;
        sum.dim        = dim;
        sum.log_scale  = !kind.normalised;
        sum.n_sources  = sources.n_used;
        sum.coordinate = coordinates.data();
        sum.log_weight = sources.log_weight;
        // q = V (N / D + centre), L = shift + log D + log(w_max / W): as
        // evaluate_points (map_mean) computes them.
        double V_rows[dim * dim];
        for (int p = 0; p < dim; ++p)
          for (int q = 0; q < dim; ++q)
            V_rows[p * dim + q] = V[p][q];
        sum.V = V_rows;
        for (int i = 0; i < dim; ++i)
          sum.offset[i] = sources.centred ? sources.centre[i] : 0.;
        sum.log_scale_offset = std::log(sources.max_over_total_weight);
        sum.evaluate   = [&](std::size_t                      n_points,
                           const double                    *points,
                           const std::vector<std::size_t> *subset,
                           double                          *values) {
          if (subset == nullptr)
            evaluate_points(n_points, points, sources, values);
          else
            evaluate_points(n_points, points, select_sources(sources, *subset), values);
        };
        const unsigned int  n_outputs = dim + (kind.normalised ? 0 : 1);
        std::vector<double> values(n_targets * n_outputs);
        if (fast::interpolate(
              sum, n_targets, score_vectors.data(), tolerance, values.data(), max_interactions)
              .abandoned)
          return false;
        for (std::size_t t = 0; t < n_targets; ++t)
          {
            std::copy(&values[t * n_outputs], &values[t * n_outputs] + dim, velocities + t * dim);
            if (!kind.normalised)
              scale_by_exponential(velocities + t * dim, values[t * n_outputs + dim]);
          }
        return true;
      }

      /// The listed sources (indices below n_used) as their own arrays, on
      /// the same grid and in the same frame as `all`.
      static SourceArrays<dim> select_sources(const SourceArrays<dim>        &all,
                                              const std::vector<std::size_t> &indices)
      {
        SourceArrays<dim> result;
        const bool        split    = all.log_weight_lo != nullptr;
        result.n_used              = indices.size();
        result.n_padded            = (indices.size() + source_padding - 1) / source_padding * source_padding;
        result.storage.assign((3 * dim + (split ? 2 : 1)) * result.n_padded, 0.);
        double *const base = result.storage.data();
        const auto    copy = [&](const double *from, std::size_t slot, double padding) {
          double *to = base + slot * result.n_padded;
          for (std::size_t k = 0; k < indices.size(); ++k)
            to[k] = from[indices[k]];
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

      /// heaviest, lowest and highest of the sources in use.
      static void find_extent(SourceArrays<dim> &sources)
      {
        sources.heaviest = 0;
        for (std::size_t k = 0; k < sources.n_used; ++k)
          if (sources.log_weight[k] > sources.log_weight[sources.heaviest])
            sources.heaviest = k;
        for (int i = 0; i < dim; ++i)
          {
            const double *y    = sources.coordinate[i];
            sources.lowest[i]  = *std::min_element(y, y + sources.n_used);
            sources.highest[i] = *std::max_element(y, y + sources.n_used);
          }
      }

      /// The fast summation's view (fast_summation.h) at score vectors
      /// given directly: q = V (N / D + centre) and, unnormalised, the log
      /// of the scale L = shift + log D + log(w_max / W), so that the
      /// velocity is q e^L.
      void evaluate_points(std::size_t              n_points,
                           const double            *points,
                           const SourceArrays<dim> &sources,
                           double                  *values) const
      {
        const unsigned int n_outputs = dim + (kind.normalised ? 0 : 1);
        const std::size_t  n_blocks  = (n_points + targets_per_sweep - 1) / targets_per_sweep;
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n_blocks),
                          [&](const tbb::blocked_range<std::size_t> &range) {
                            for (std::size_t block = range.begin(); block != range.end(); ++block)
                              {
                                const std::size_t first = block * targets_per_sweep;
                                long double       a[targets_per_sweep][dim];
                                for (unsigned int b = 0; b < targets_per_sweep; ++b)
                                  {
                                    const std::size_t point =
                                      std::min<std::size_t>(first + b, n_points - 1);
                                    for (int p = 0; p < dim; ++p)
                                      a[b][p] = points[point * dim + p];
                                  }
                                double numerator[targets_per_sweep][dim],
                                  denominator[targets_per_sweep], shift[targets_per_sweep];
                                sweep_block(a, sources, numerator, denominator, shift);
                                for (unsigned int b = 0;
                                     b < targets_per_sweep && first + b < n_points;
                                     ++b)
                                  {
                                    double *result = values + (first + b) * n_outputs;
                                    double  mean[dim];
                                    for (int i = 0; i < dim; ++i)
                                      mean[i] = numerator[b][i] / denominator[b];
                                    map_mean(sources, mean, result);
                                    if (!kind.normalised)
                                      result[dim] = shift[b] + std::log(denominator[b]) +
                                                    std::log(sources.max_over_total_weight);
                                  }
                              }
                          });
      }

      /// velocity *= e^shift. Beyond |shift| = 700 as two factors e^{shift/2},
      /// so that a representable product is not lost to an overflowing (or
      /// underflowing) factor; a velocity beyond the double range becomes
      /// +-inf (or NaN for a zero direction), which the solver reports.
      static void scale_by_exponential(double *velocity, double shift)
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

  // Shared with the other variants: declared (not in a header) in l2.cc,
  // sigmoid.cc and unnormalized.cc, which use them.

  /// Checks what every Q/K/V variant needs; throws std::invalid_argument
  /// naming the entry and what was expected.
  void check_attention_parameters(const std::string &variant, const Parameters &parameters)
  {
    const unsigned int dim = parameters.dim;
    if (dim < 1 || dim > 3)
      throw std::invalid_argument(variant + " attention supports dim = 1, 2 or 3, got " +
                                  std::to_string(dim));
    const std::string d = std::to_string(dim);
    if (parameters.Q.rows < 1 || parameters.Q.cols != dim)
      throw std::invalid_argument("Q must be k x " + d + " (k >= 1 rows of " + d +
                                  " entries), got " + shape(parameters.Q));
    if (parameters.K.rows != parameters.Q.rows || parameters.K.cols != parameters.Q.cols)
      throw std::invalid_argument("K must have the same shape as Q (" + shape(parameters.Q) +
                                  "), got " + shape(parameters.K));
    if (parameters.V.rows != dim || parameters.V.cols != dim)
      throw std::invalid_argument("V must be " + d + " x " + d + ", got " + shape(parameters.V));
    if (!std::isfinite(parameters.beta))
      {
        std::ostringstream text;
        text << "beta must be finite, got " << parameters.beta;
        throw std::invalid_argument(text.str());
      }
    check_finite_entries(parameters.Q, "Q");
    check_finite_entries(parameters.K, "K");
    check_finite_entries(parameters.V, "V");
  }

  bool fast_summation_pays(std::size_t n_targets, std::size_t n_sources, double tolerance)
  {
    return n_targets >= fast_summation_min_targets && n_sources >= fast_summation_min_sources &&
           tolerance >= fast_summation_min_tolerance;
  }

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
    switch (parameters.dim)
      {
        case 1:
          return std::make_unique<ExponentialKernel<1>>(parameters, kind);
        case 2:
          return std::make_unique<ExponentialKernel<2>>(parameters, kind);
        default:
          return std::make_unique<ExponentialKernel<3>>(parameters, kind);
      }
  }

  Variant make_softmax_variant()
  {
    return {"softmax",
            "Softmax self-attention: X(x) = V * sum_j w_j exp(beta <Qx, K y_j>) y_j / "
            "sum_j w_j exp(beta <Qx, K y_j>), the weighted mean of the sources under the "
            "softmax of the scores beta <Qx, K y_j>, mapped by V. Q and K are k x d for any "
            "k >= 1 (same shape), V is d x d, beta is any finite number (d = 1, 2 or 3). "
            "Evaluated as an overflow-safe log-sum-exp, so large scores are fine.",
            [](const Parameters &parameters) {
              return create_exponential_kernel("softmax", parameters, parameters.beta, 0., true);
            }};
  }
} // namespace tpde::attention
