// Unnormalized self-attention (physics.md §1.6, the n -> infinity limit of
// sigmoid attention with bias -log n; on the sphere this is GLPR's "USA"):
//
//   X(x) = V * sum_j w_j exp(beta <Qx, K y_j>) y_j / W,   W = sum_j w_j,
//
// i.e. the integral of exp(beta <Qx, Ky>) V y against the probability
// measure mu = sum_j (w_j / W) delta_{y_j}. There is no softmax normalisation.
//
// Parameters: beta (any finite number), Q and K (k x d, the same shape, any
// k >= 1), V (d x d); d = 1, 2, 3. Sources with w_j = 0 are ignored; W must be
// positive.
//
// Evaluation: by the softmax kernel's core (softmax.cc) with the scores
// s_j = beta <Qx, K y_j> + log(w_j / w_max) shifted by their maximum m, as
//   X(x) = e^m (w_max / W) V sum_j e^{s_j - m} y_j,
// so every exponential in the sum is <= 1 and only the single factor e^m can
// overflow. It is applied last (as e^{m/2} e^{m/2} beyond |m| = 700), so the
// result is finite whenever the velocity is representable. A velocity beyond
// the double range (m larger than ~1400 + log of 1/|V mean|) comes back as +-inf,
// or NaN in components where the direction is 0: the velocity really is
// infinite there, and the solver reports the non-finite field as a physical
// failure.
#include "attention/exponential_kernel.h"

#include <memory>
#include <optional>
#include <string>

namespace tpde::attention
{
  Variant make_unnormalized_variant()
  {
    return make_exponential_variant(
      "unnormalized",
      "Unnormalized self-attention: X(x) = V * sum_j w_j exp(beta <Qx, K y_j>) y_j / "
      "sum_j w_j, the integral of exp(beta <Qx, Ky>) V y against the token probability "
      "measure, without softmax normalisation. Q and K are k x d for any k >= 1 (same "
      "shape), V is d x d, beta is any finite number (d = 1, 2 or 3). Evaluated as "
      "e^m times a sum of exponentials <= 1 (m the largest score); where the velocity "
      "exceeds the double range it is infinite and the run stops as a physical failure.",
      beta_score_factor,
      no_key_penalty,
      false);
  }
} // namespace tpde::attention
