// Building blocks shared by the attention variants (defined in softmax.cc):
// the shape checks and the exponential kernel family
//   X(x) = V sum_j w_j exp(s <Kx', ...>) y_j / (normalised ? sum_j w_j exp(...) : sum_j w_j)
// behind softmax, l2 and unnormalized attention.
#pragma once

#include "attention/attention.h"

#include <memory>
#include <string>

namespace tpde::attention
{
  /// Checks dim, beta and the shapes of Q, K, V; throws std::invalid_argument
  /// naming `variant`, the entry and the expected shape.
  void check_attention_parameters(const std::string &variant, const Parameters &parameters);

  /// Scores score_factor * <Qx, K y_j> - key_penalty * |K y_j|^2 + log w_j;
  /// `normalised` divides by the exponential sum (softmax) or by the total
  /// weight (unnormalized).
  std::unique_ptr<Kernel> create_exponential_kernel(const std::string &variant,
                                                    const Parameters  &parameters,
                                                    double             score_factor,
                                                    double             key_penalty,
                                                    bool               normalised);
} // namespace tpde::attention
