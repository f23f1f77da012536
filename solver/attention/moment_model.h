// The Gaussian moment model of a variant (physics.md §2): for the variants
// whose velocity field is affine on Gaussians, N(alpha, Sigma) stays Gaussian
// and (alpha, Sigma) solve a small ODE. Each such variant states the ODE's
// right-hand side in its own file (Capabilities::moment_model);
// reference/gaussian_reference.h integrates it. This header sits below both
// and needs nothing but the matrix type.
#pragma once

#include "common/matrix.h"

#include <functional>
#include <string>
#include <vector>

namespace tpde::attention
{
  struct Parameters;

  struct GaussianState
  {
    std::vector<double> mean;       // alpha, size d
    Matrix              covariance; // Sigma, d x d, symmetric positive definite
  };

  /// (alpha, Sigma) -> (alpha', Sigma'). Sigma is exactly symmetric on input;
  /// Sigma' must be returned exactly symmetric (e.g. as M + M^T).
  using MomentDerivative = std::function<GaussianState(const GaussianState &)>;

  /// For the moment models: checks Q, K (k x d, same k >= 1), V (d x d), a
  /// finite beta and d in {1, 2, 3}; throws std::invalid_argument
  /// "Gaussian reference '<variant>': ..." otherwise.
  void check_moment_parameters(const std::string &variant, const Parameters &parameters);

} // namespace tpde::attention
