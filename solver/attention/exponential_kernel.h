// The exponential kernel family (defined in exponential_kernel.cc)
//   X(x) = V sum_j w_j exp(s <Kx', ...>) y_j / (normalised ? sum_j w_j exp(...) : sum_j w_j)
// behind softmax, l2 and unnormalized attention.
#pragma once

#include "attention/kernel_base.h"

#include <cstddef>
#include <memory>
#include <string>

namespace tpde::attention
{
  /// The rule of `evaluation = auto`: the fast summation (fast_summation.h)
  /// is tried when there are at least 20000 targets and 20000 sources with
  /// positive weight and the tolerance is at least 1e-13. Below those sizes
  /// its fixed costs (hundreds of exact evaluations per box, a scale sample)
  /// are comparable to the direct sum; below that tolerance the rounding of
  /// the score vectors (~1e-16 of the largest score) is no longer negligible.
  /// Whether it pays also depends on the data (how smooth the field is in
  /// score space), so the attempt is abandoned for the direct sum once its
  /// exact evaluations reach a quarter of the direct sum's targets x sources
  /// (auto then costs at most 1.25 times the direct sum).
  constexpr std::size_t fast_summation_min_targets   = 20000;
  constexpr std::size_t fast_summation_min_sources   = 20000;
  constexpr double      fast_summation_min_tolerance = 1e-13;
  constexpr double      fast_summation_max_fraction  = 0.25;
  bool fast_summation_pays(std::size_t n_targets, std::size_t n_sources, double tolerance);

  /// Scores score_factor * <Qx, K y_j> - key_penalty * |K y_j|^2 + log w_j;
  /// `normalised` divides by the exponential sum (softmax) or by the total
  /// weight (unnormalized).
  std::unique_ptr<Kernel> create_exponential_kernel(const std::string &variant,
                                                    const Parameters  &parameters,
                                                    double             score_factor,
                                                    double             key_penalty,
                                                    bool               normalised);

  /// The ScoreForm of that kernel: A = score_factor K^T Q, c = -key_penalty.
  ScoreForm exponential_score_form(const Parameters &parameters, double score_factor, double key_penalty);

  /// Score factor beta (softmax, unnormalized: scores beta <Qx, Ky>).
  inline double beta_score_factor(const Parameters &parameters) { return parameters.beta; }

  /// Key penalty 0 (no -c |Ky|^2 term).
  inline double no_key_penalty(const Parameters &) { return 0.; }

  /// A variant evaluated by create_exponential_kernel with the score factor
  /// and key penalty its functions take from the parameters, with the
  /// capabilities all of them share (score form, masked base, fast
  /// summation, float exponential); the caller adds a moment model.
  Variant make_exponential_variant(const std::string &name,
                                   const std::string &documentation,
                                   double (*score_factor)(const Parameters &),
                                   double (*key_penalty)(const Parameters &),
                                   bool normalised);
} // namespace tpde::attention
