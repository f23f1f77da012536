// l2 self-attention (physics.md §1.4):
//
//   X(x) = V * sum_j w_j exp(-beta |Qx - K y_j|^2) y_j / sum_j w_j exp(-beta |Qx - K y_j|^2).
//
// Parameters: beta (any finite number; beta > 0 attracts queries to nearby
// keys), Q and K (k x d, the same shape, any k >= 1), V (d x d); d = 1, 2, 3.
// The original l2 self-attention ties Q = K. Sources with w_j = 0 are ignored;
// the total weight must be positive.
//
// Expanding the square, -beta |Qx - Ky|^2 = 2 beta <Qx, Ky> - beta |Ky|^2 -
// beta |Qx|^2. The last term is the same for every source of a target and
// cancels, so l2 is softmax attention with A = 2 beta K^T Q and the per-source
// log-weight log w_j - beta |K y_j|^2. It is evaluated by the softmax kernel's
// core (softmax.cc: exact coarse scores, log-sum-exp, SIMD exp, TBB over
// target blocks, deterministic). The core centres the sources on their
// bounding box first and keeps the log-weights as a double-double, so the
// accuracy depends on the spread of the data, not on its distance from the
// origin (with Q = K the field is translation-equivariant to rounding).
#include "attention/exponential_kernel.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tpde::attention
{
  namespace
  {
    /// The moment model (physics.md §2.4): the tilted law has precision
    /// Sigma^{-1} + 2 beta K^T K, so
    /// X(x) = V (I + 2 beta Sigma K^T K)^{-1} (alpha + 2 beta Sigma K^T Q x) = a + B x:
    ///   alpha' = a + B alpha,  Sigma' = B Sigma + Sigma B^T,
    ///   a = V M^{-1} alpha,  B = 2 beta V M^{-1} Sigma K^T Q,  M = I + 2 beta Sigma K^T K.
    MomentDerivative make_l2_moments(const Parameters &p)
    {
      check_moment_parameters("l2", p);
      const Matrix KtK = (2. * p.beta) * (transpose(p.K) * p.K);
      const Matrix KtQ = (2. * p.beta) * (transpose(p.K) * p.Q);
      const Matrix V   = p.V;
      const Matrix I   = Matrix::identity(p.dim);
      return [KtK, KtQ, V, I](const GaussianState &s) {
        const Matrix &Sigma = s.covariance;
        // M is invertible for PD Sigma and beta >= 0 (similar to
        // I + Sigma^{1/2} 2 beta K^T K Sigma^{1/2}); inverse() throws otherwise.
        const Matrix              VMinv     = V * inverse(I + Sigma * KtK);
        const Matrix              B         = VMinv * Sigma * KtQ;
        const Matrix              BSigma    = B * Sigma;
        std::vector<double>       mean_rate = VMinv * s.mean;
        const std::vector<double> drift     = B * s.mean;
        for (std::size_t i = 0; i < mean_rate.size(); ++i)
          mean_rate[i] += drift[i];
        // B Sigma + Sigma B^T = BSigma + BSigma^T: exactly symmetric.
        return GaussianState{mean_rate, BSigma + transpose(BSigma)};
      };
    }
  } // namespace

  Variant make_l2_variant()
  {
    Variant variant = make_exponential_variant(
      "l2",
      "l2 self-attention: X(x) = V * sum_j w_j exp(-beta |Qx - K y_j|^2) y_j / "
      "sum_j w_j exp(-beta |Qx - K y_j|^2), the weighted mean of the sources under the "
      "softmax of the negative squared query-key distances, mapped by V. Q and K are "
      "k x d for any k >= 1 (same shape; the original l2 attention has Q = K), V is "
      "d x d, beta is any finite number (d = 1, 2 or 3). Overflow-safe log-sum-exp.",
      [](const Parameters &parameters) { return 2. * parameters.beta; },
      [](const Parameters &parameters) { return parameters.beta; },
      true);
    variant.capabilities.moment_model = make_l2_moments;
    return variant;
  }
} // namespace tpde::attention
