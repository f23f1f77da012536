// Butterfly summation of the exponential sums (fast_summation.h) for wide
// score ranges, where interpolating in the targets' score space alone needs
// node grids of high degree summed over every source.
//
// The kernel e^{<a, y>} of a target score vector a and a source y is not
// smooth over all pairs, but it is over a pair of boxes A (half-widths h)
// and B (half-widths g) with h_m g_m <= kappa in every direction m: with
// centres c of A and s of B,
//   e^{<a, y>} = e^{<a, s>} e^{<c, y - s>} e^{<a - c, y - s>},
// and the last factor varies by at most e^{2 kappa} over A x B, so the
// partial sum F^{AB}(a) = sum_{y in B} w_y (1, y - y0) e^{<a, y - s>} is a
// smooth function of a on A whatever |c| and the weights are, and a tensor
// Chebyshev interpolant of n_m ~ e kappa / 2 + log(1 / accuracy) points per
// direction represents it to a relative accuracy (all terms are positive,
// so a relative error per term is one of the sum). This is the
// complementary low rank of the butterfly algorithm (Candes, Demanet and
// Ying 2009, for Fourier integral operators), here for real exponents.
//
// The algorithm: let H, G be the half-widths of the targets' and the
// sources' bounding boxes. Direction m is halved L_m times, the smallest
// number with H_m G_m 2^{-L_m} <= kappa. Stage 0 pairs the root target box
// with the source boxes of the finest level (G_m 2^{-L_m}) and sums each
// source box's sources at the root's Chebyshev nodes (factorised: one
// exponential per source, direction and node coordinate). Each of the
// L = sum L_m stages then halves the target boxes across one direction
// and merges the source boxes across it: F^{AB} at the nodes of a child A
// of A' is sum over the two halves B' of B of e^{<a, s' - s>} F^{A'B'}
// interpolated from A' (a one-dimensional interpolation along the halved
// direction, as the other directions' nodes are A''s). After the last
// stage the target boxes are leaves paired with all sources, and each
// target takes its leaf's interpolant:
//   D(a) = e^{<a, s>} F_0(a), the tilted mean y0 + F_{1..d}(a) / F_0(a).
// Every pair carries a log scale, so nothing overflows. Only boxes holding
// targets or sources are kept. Cost: (targets + sources) prod n_m plus
// per stage (pairs) x 2 n_m prod n_m, with pairs = prod_m 2^{L_m} at most,
// independent of the numbers of targets and sources.
//
// Accuracy: interpolating e^{kappa t} on [-1, 1] at n Chebyshev points errs
// by about 4 I_n(kappa) relative to its largest value, e^{kappa} times
// that relative to its smallest; n_m is chosen from that bound at the
// requested accuracy. Each stage re-interpolates along one direction,
// which can amplify the error carried so far by the Lebesgue constant
// (about 3); the accuracy asked per stage includes a margin for it, and
// the caller (fast_summation.cc) checks the result at sample targets
// against exact sums.
#pragma once

#include "attention/fast_summation.h"

#include <cstddef>

namespace tpde::attention::fast
{
  struct ButterflyOutcome
  {
    bool         done   = false; // values written
    bool         affordable = false; // a plan at most max_cost (done = false with it: a denominator was not positive)
    double       cost   = 0.;     // predicted, in multiply-adds
    std::size_t  pairs  = 0;      // box pairs over all stages
    unsigned int stages = 0;
    unsigned int points[3] = {1, 1, 1}; // Chebyshev points per direction
    double       kappa  = 0.;
  };

  /// The cost (multiply-adds) the butterfly would take for these targets
  /// and sources at the relative accuracy, and its parameters (done = false).
  ButterflyOutcome plan_butterfly(const ExponentialSum &sum,
                                  std::size_t           n_targets,
                                  const double         *targets,
                                  double                relative_accuracy);

  /// The values of the sum (layout as ExponentialSum::evaluate) at the
  /// targets, with the denominator D and the numerator N = sum w e^{s}
  /// (y - y0) each to about relative_accuracy (N relative to
  /// sum w e^{s} |y - y0|, y0 the middle of the sources' bounding box),
  /// if the butterfly costs at most max_cost multiply-adds (affordable);
  /// otherwise nothing is written and done = false. done = false with
  /// affordable: an interpolated denominator was not positive (too coarse an
  /// accuracy), values partly written. The sources and the targets must be
  /// finite.
  ButterflyOutcome butterfly_sums(const ExponentialSum &sum,
                                  std::size_t           n_targets,
                                  const double         *targets,
                                  double                relative_accuracy,
                                  double                max_cost,
                                  double               *values);
} // namespace tpde::attention::fast
