// The SIMD sweeps of the exponential kernels (declared in exponential_core.h).
#include "attention/exponential_core.h"
#include "attention/simd_exp.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

// The vector helpers are always inlined into the clones, so the vector ABI
// GCC warns about for the non-AVX-512 clones (-Wpsabi, reported as late as
// the end of the file) never applies.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace tpde::attention::exponential
{
  namespace
  {
    using simd::lanes_double;

    /// Eight consecutive entries (any alignment).
    __attribute__((always_inline)) inline lanes_double load_lanes(const double *data)
    {
      lanes_double result;
      std::memcpy(&result, data, sizeof result);
      return result;
    }
  } // namespace

  double power_of_two_at_least(double value)
  {
    if (value == 0.)
      return 0.;
    int exponent;
    std::frexp(value, &exponent); // value = f 2^exponent, 0.5 <= f < 1
    return std::ldexp(1., exponent);
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
                y_hi[i] = load_lanes(sources.coordinate_hi[i] + j);
                y_lo[i] = load_lanes(sources.coordinate_lo[i] + j);
                // Exact (y_lo = y - y_hi), and an add is cheaper than a third
                // stream: two arrays per coordinate keep 16384 sources in a
                // 1 MiB L2 cache in 3D.
                y[i] = y_hi[i] + y_lo[i];
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
        denominator[b] = pairwise_sum(total_denominator[b]);
        for (int i = 0; i < dim; ++i)
          numerator[b][i] = pairwise_sum(total_numerator[b][i]);
      }
  }

  namespace
  {
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
          denominator[b] = pairwise_sum(total_denominator[b]);                                       \
          for (int i = 0; i < dim; ++i)                                                           \
            numerator[b][i] = pairwise_sum(total_numerator[b][i]);                                   \
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
#undef TPDE_FLOAT_EXPONENTIAL_SUMS
  } // namespace

  template <int dim>
  void exponential_sums_float(const SourceArrays<dim> &sources,
                              const TargetBlock<dim>  &block,
                              double                   denominator[targets_per_sweep],
                              double                   numerator[targets_per_sweep][dim])
  {
    // Dispatched by hand: the AVX-512 version uses intrinsics, which
    // target_clones cannot share.
    static const bool avx512 = __builtin_cpu_supports("x86-64-v4");
    if (avx512)
      exponential_sums_float_avx512<dim>(sources, block, denominator, numerator);
    else
      exponential_sums_float_generic<dim>(sources, block, denominator, numerator);
  }

#define TPDE_INSTANTIATE_SWEEPS(dim)                                                              \
  template void maximum_scores<dim>(const SourceArrays<dim> &, const TargetBlock<dim> &, double *); \
  template void exponential_sums<dim, false>(                                                     \
    const SourceArrays<dim> &, const TargetBlock<dim> &, double *, double (*)[dim]);              \
  template void exponential_sums<dim, true>(                                                      \
    const SourceArrays<dim> &, const TargetBlock<dim> &, double *, double (*)[dim]);              \
  template void exponential_sums_float<dim>(                                                      \
    const SourceArrays<dim> &, const TargetBlock<dim> &, double *, double (*)[dim]);
  TPDE_INSTANTIATE_SWEEPS(1)
  TPDE_INSTANTIATE_SWEEPS(2)
  TPDE_INSTANTIATE_SWEEPS(3)
#undef TPDE_INSTANTIATE_SWEEPS
} // namespace tpde::attention::exponential
