// Softmax self-attention (physics.md §1.2):
//
//   X(x) = V * sum_j w_j exp(beta <Qx, K y_j>) y_j / sum_j w_j exp(beta <Qx, K y_j>).
//
// With A = beta K^T Q the score of source y for target x is <a, y>, a = A x:
// the exponential kernel with score factor beta, no key penalty, normalised
// (exponential_kernel.cc: exact coarse scores, log-sum-exp, SIMD, threads,
// fast summation). A Gaussian stays Gaussian (physics.md §2.2).
#include "attention/exponential_kernel.h"

#include <memory>
#include <optional>
#include <string>

namespace tpde::attention
{
  namespace
  {
    /// The moment model (physics.md §2.2), A = beta K^T Q:
    ///   alpha' = V (I + Sigma A) alpha,  Sigma' = V Sigma A Sigma + Sigma A^T Sigma V^T.
    MomentDerivative make_softmax_moments(const Parameters &p)
    {
      check_moment_parameters("softmax", p);
      const Matrix A = p.beta * (transpose(p.K) * p.Q);
      const Matrix V = p.V;
      const Matrix I = Matrix::identity(p.dim);
      return [A, V, I](const GaussianState &s) {
        const Matrix &Sigma = s.covariance;
        const Matrix  M     = V * Sigma * A * Sigma;
        // Sigma A^T Sigma V^T = M^T for symmetric Sigma; M + M^T is exactly symmetric.
        return GaussianState{V * (I + Sigma * A) * s.mean, M + transpose(M)};
      };
    }
  } // namespace

  Variant make_softmax_variant()
  {
    Variant variant = make_exponential_variant(
      "softmax",
      "Softmax self-attention: X(x) = V * sum_j w_j exp(beta <Qx, K y_j>) y_j / "
      "sum_j w_j exp(beta <Qx, K y_j>), the weighted mean of the sources under the "
      "softmax of the scores beta <Qx, K y_j>, mapped by V. Q and K are k x d for any "
      "k >= 1 (same shape), V is d x d, beta is any finite number (d = 1, 2 or 3). "
      "Evaluated as an overflow-safe log-sum-exp, so large scores are fine.",
      beta_score_factor,
      no_key_penalty,
      true);
    variant.capabilities.moment_model = make_softmax_moments;
    return variant;
  }
} // namespace tpde::attention
