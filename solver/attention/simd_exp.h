// A branch-free exp for the attention hot loop.
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
} // namespace tpde::attention::simd
