// Branch-free exps for the attention hot loops.
//
// exp_nonpositive (scalar, auto-vectorised by GCC) serves the sigmoid kernel;
// exp_lanes (eight lanes in a GCC vector type, table-based) serves the
// exponential kernels of softmax.cc and the fast summation; exp_lanes_float
// (sixteen float lanes) their optional float exponential.
//
// std::exp is a library call, so a loop that calls it cannot be vectorised.
// This version is plain arithmetic plus integer bit manipulation, written so
// that GCC vectorises a loop calling it. It is meant for the arguments of a
// log-sum-exp (t = score - max <= 0): it is accurate to about 1 ulp for
// -708 <= t <= 709 and returns exactly 0 below -708 (such terms are below
// 1e-307 of the largest one and cannot change a sum that contains it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tpde::attention::simd
{
  /// exp(t) for t <= 709; exactly 0 for t < -708 (including t = -inf).
  inline double exp_nonpositive(double t)
  {
    // Adding 1.5 * 2^52 rounds t * log2(e) to the nearest integer n and leaves
    // n in the low mantissa bits, so no float-to-int conversion is needed.
    constexpr double round_shifter = 6755399441055744.0; // 1.5 * 2^52
    constexpr double log2_e        = 1.4426950408889634074;
    // Cody-Waite: ln 2 = ln2_high + ln2_low where ln2_high has 21 trailing zero
    // bits, so n * ln2_high is exact for |n| < 2^21 and r = t - n ln 2 carries
    // no cancellation error.
    constexpr double ln2_high = 6.93147180369123816490e-01;
    constexpr double ln2_low  = 1.90821492927058770002e-10;
    // Below -708 the result would be subnormal and is replaced by 0.
    constexpr double zero_below = -708.0;

    const double shifted = t * log2_e + round_shifter;
    const double n       = shifted - round_shifter;
    const double r_high  = t - n * ln2_high;
    const double r       = r_high - n * ln2_low; // |r| <= ln2/2 (+ rounding)

    // Taylor series of exp(r) to degree 13 (Horner, highest degree first):
    // the remainder |r|^14/14! < 4e-18 is far below one ulp on |r| <= 0.347.
    constexpr double taylor_coefficients[] = {1. / 6227020800.,
                                              1. / 479001600.,
                                              1. / 39916800.,
                                              1. / 3628800.,
                                              1. / 362880.,
                                              1. / 40320.,
                                              1. / 5040.,
                                              1. / 720.,
                                              1. / 120.,
                                              1. / 24.,
                                              1. / 6.,
                                              1. / 2.,
                                              1.,
                                              1.};

    double p = taylor_coefficients[0];
    for (std::size_t k = 1; k < sizeof taylor_coefficients / sizeof(double); ++k)
      p = p * r + taylor_coefficients[k];

    // 2^n: the low 12 bits of the shifted value's bit pattern are n mod 4096
    // (1.5 * 2^52 contributes only bits above them); adding the exponent bias
    // and shifting into the exponent field gives the double 2^n for
    // -1022 <= n <= 1023 without any integer conversion of n.
    std::uint64_t bits;
    std::memcpy(&bits, &shifted, sizeof bits);
    bits = (bits + 1023u) << 52;
    double two_to_n;
    std::memcpy(&two_to_n, &bits, sizeof two_to_n);
    double result = p * two_to_n;

    // Lanes with t < -708 (where n is out of range; for t = -inf the
    // arithmetic above even yields NaN) are zeroed with an integer mask on
    // the result. All lanes compute everything, so the loop stays
    // branch-free; discarded lanes may raise floating-point exception flags.
    // Why not `t < zero_below ? 0. : result`, or clamping t first: GCC then
    // branches around the floating-point work (or threads the clamped path
    // as a constant), which it cannot if-convert without AVX-512 masking
    // under -ftrapping-math, and the loop is not vectorised for AVX2.
    // keep = all ones if t - zero_below >= 0 (sign bit 0), else 0; computed
    // from the sign bit with integer operations only, which every SSE2-level
    // vectoriser supports (a floating-point compare feeding a 64-bit integer
    // select is not vectorised for plain x86-64).
    const double  distance = t - zero_below;
    std::uint64_t distance_bits;
    std::memcpy(&distance_bits, &distance, sizeof distance_bits);
    const std::uint64_t keep = (distance_bits >> 63) - 1u;
    std::uint64_t       result_bits;
    std::memcpy(&result_bits, &result, sizeof result_bits);
    result_bits &= keep;
    std::memcpy(&result, &result_bits, sizeof result);
    return result;
  }

  // The vector functions are always inlined into code compiled for one
  // instruction set, so the ABI of passing vectors (which GCC warns about for
  // the non-AVX-512 clones) never applies.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

  /// Eight doubles (one AVX-512 register, two AVX2 or four SSE2 registers:
  /// GCC lowers the vector type to whatever the compiled clone supports).
  typedef double       lanes_double __attribute__((vector_size(64)));
  typedef std::int64_t lanes_int __attribute__((vector_size(64)));

  /// max(x, bound) lane by lane for a negative bound, in one unsigned
  /// integer minimum: the bit patterns of doubles ordered as unsigned
  /// integers are the positive ones in increasing order, then the negative
  /// ones in decreasing order (-0 first, -inf last), so every x below the
  /// bound (including -inf) has a larger pattern than the bound and every
  /// other x a smaller one. A floating-point max (or a compare and blend,
  /// what GCC makes of `x > bound ? x : bound` without -ffinite-math-only)
  /// costs more.
  __attribute__((always_inline)) inline lanes_double at_least(lanes_double x, double bound)
  {
    typedef std::uint64_t lanes_unsigned __attribute__((vector_size(64)));
    const lanes_unsigned bits  = __builtin_bit_cast(lanes_unsigned, x);
    const lanes_unsigned limit = __builtin_bit_cast(lanes_unsigned, lanes_double{} + bound);
    return __builtin_bit_cast(lanes_double, bits < limit ? bits : limit);
  }

  /// exp(t) lane by lane for -inf <= t <= 700, relative error about 3e-16
  /// at most (1.4 ulp); arguments below -700 give exp(-700) ~ 1e-304
  /// instead of the true value (callers add such terms to sums containing a
  /// term ~1, where they are invisible). Cheaper than exp_nonpositive:
  /// t = (n + j/16) ln 2 + r with a 16-entry table for 2^{j/16}, which one
  /// two-register permute (vpermt2pd on AVX-512) looks up, so |r| <= ln2/32
  /// and a degree-6 polynomial suffices instead of degree 13.
  __attribute__((always_inline)) inline lanes_double exp_lanes(lanes_double t)
  {
    constexpr double round_shifter = 6755399441055744.0;  // 1.5 * 2^52, see above
    constexpr double sixteen_over_ln2 = 23.083120654223414; // 16 / ln 2
    // ln2/16 split as in exp_nonpositive (hi has 21 trailing zero bits, so
    // n * hi is exact for the |n| < 2^15 that occur here).
    constexpr double step_high = 6.93147180369123816490e-01 / 16.;
    constexpr double step_low  = 1.90821492927058770002e-10 / 16.;
    // 2^{j/16}, j = 0..15, rounded to double (the rounding, <= 2^-53
    // relative, is the main error of the result).
    const lanes_double table_low  = {1.0,
                                     1.0442737824274138,
                                     1.0905077326652577,
                                     1.1387886347566916,
                                     1.189207115002721,
                                     1.241857812073484,
                                     1.2968395546510096,
                                     1.3542555469368927};
    const lanes_double table_high = {1.4142135623730951,
                                     1.4768261459394993,
                                     1.5422108254079407,
                                     1.6104903319492543,
                                     1.681792830507429,
                                     1.7562521603732995,
                                     1.8340080864093424,
                                     1.9152065613971474};
    // Degree-6 polynomial through the Chebyshev points of |r| <= 1.02 ln2/32
    // (relative error 8e-18 there; computed in 50-digit arithmetic).
    constexpr double c1 = 1.0000000000000025243, c2 = 0.50000000000000031554,
                     c3 = 0.16666666662529672398, c4 = 0.041666666661495435225,
                     c5 = 0.0083335028305229819863, c6 = 0.0013889100760016836654;

    // Clamped (also -inf) so that 2^n below stays in the normal range.
    t                          = at_least(t, -700.);
    const lanes_double shifted = t * sixteen_over_ln2 + round_shifter;
    const lanes_double n       = shifted - round_shifter; // integer: 16 n' + j
    const lanes_double r       = (t - n * step_high) - n * step_low;
    lanes_double       p       = lanes_double{} + c6;
    p                          = p * r + c5;
    p                          = p * r + c4;
    p                          = p * r + c3;
    p                          = p * r + c2;
    p                          = p * r + c1;
    p                          = p * r + 1.;
    // The low mantissa bits of `shifted` hold n (two's complement): its low 4
    // bits index the table (the permute reads only those), and the bits above
    // hold floor(n / 16), moved into the exponent field as in exp_nonpositive.
    const lanes_int    bits  = __builtin_bit_cast(lanes_int, shifted);
    const lanes_double power = __builtin_shuffle(table_low, table_high, bits & 15);
    const lanes_int    result_bits =
      __builtin_bit_cast(lanes_int, power * p) + ((bits >> 4) << 52);
    return __builtin_bit_cast(lanes_double, result_bits);
  }

  /// Sixteen floats (one AVX-512 register).
  typedef float         lanes_float __attribute__((vector_size(64)));
  typedef std::int32_t  lanes_int32 __attribute__((vector_size(64)));
  typedef std::uint32_t lanes_uint32 __attribute__((vector_size(64)));

  /// exp(t) lane by lane in float for -inf <= t <= 88, relative error at
  /// most 1.2e-7 (two float ulps; measured against long double on a dense
  /// grid of [-86, 8]: mostly the roundings of the table entry and of the
  /// final fused multiply-add); arguments below -86 give exp(-86) ~ 4e-38 instead (callers
  /// add such terms to sums with a term near 1). The scheme of exp_lanes in
  /// single precision: t = (n + j/16) ln 2 + r, the 16-entry table in one
  /// register (vpermps), |r| <= ln2/32, so that the degree-3 Taylor
  /// polynomial (remainder r^4/24 < 1e-8) suffices. Note that t itself is
  /// rounded to float by the caller: an absolute error of |t| 2^-24, which
  /// is why the callers shift the exponents so that the terms that matter
  /// have |t| of order 1.
  __attribute__((always_inline)) inline lanes_float exp_lanes_float(lanes_float t)
  {
    constexpr float round_shifter    = 12582912.f; // 1.5 * 2^23, as in exp_nonpositive
    constexpr float sixteen_over_ln2 = 23.083120346069336f;
    // ln2/16 = step_high + step_low, step_high with 13 significant bits, so
    // n * step_high is exact for the |n| < 2^11 that occur (|t| <= 88).
    constexpr float step_high = 0.0433197021484375f;
    constexpr float step_low  = 1.9966364561696537e-06f;
    // 2^{j/16}, j = 0..15, rounded to float.
    const lanes_float table = {1.0f,
                               1.0442737340927124f,
                               1.0905077457427979f,
                               1.1387885808944702f,
                               1.1892070770263672f,
                               1.2418577671051025f,
                               1.2968395948410034f,
                               1.3542555570602417f,
                               1.4142135381698608f,
                               1.4768261909484863f,
                               1.5422108173370361f,
                               1.610490322113037f,
                               1.6817928552627563f,
                               1.7562521696090698f,
                               1.8340080976486206f,
                               1.9152065515518188f};

    // max(t, -86) by an unsigned minimum of the bit patterns (see
    // at_least): 2^floor(n/16) then stays >= 2^-125, so the product below
    // is a normal float.
    const lanes_uint32 bits_t = __builtin_bit_cast(lanes_uint32, t);
    const lanes_uint32 limit  = __builtin_bit_cast(lanes_uint32, lanes_float{} - 86.f);
    t = __builtin_bit_cast(lanes_float, bits_t < limit ? bits_t : limit);

    const lanes_float shifted = t * sixteen_over_ln2 + round_shifter;
    const lanes_float n       = shifted - round_shifter;
    const lanes_float r       = (t - n * step_high) - n * step_low;
    // e^r - 1 = r (1 + r/2 + r^2/6); the table entry times e^r is then
    // formed as power + power (e^r - 1) in one fused rounding.
    lanes_float p             = lanes_float{} + 1.f / 6.f;
    p                         = p * r + 0.5f;
    p                         = p * r + 1.f;
    p                         = p * r;
    // Low mantissa bits of `shifted` hold n: the low 4 index the table, the
    // rest (floor(n / 16), two's complement) go into the exponent field; the
    // bits of the shifter itself are shifted out of the 32-bit lane.
    const lanes_int32  bits  = __builtin_bit_cast(lanes_int32, shifted);
    const lanes_float  power = __builtin_shuffle(table, bits & 15);
    const lanes_uint32 scale = __builtin_bit_cast(lanes_uint32, bits >> 4) << 23;
    return __builtin_bit_cast(lanes_float,
                              __builtin_bit_cast(lanes_uint32, power * p + power) + scale);
  }

#pragma GCC diagnostic pop
} // namespace tpde::attention::simd
