// Exact Gaussian solutions of the Transformer PDE (physics.md §2).
//
// For the variants whose velocity field is affine on Gaussians, N(alpha, Sigma)
// stays Gaussian and (alpha, Sigma) solve a small ODE. GaussianReference
// integrates that ODE to reference accuracy (~1e-12), so the grid solver's
// moments and density can be compared against it at every output time.
//
// Which variants have a moment model, and the model itself, is stated by the
// variants in their own files (attention::Capabilities::moment_model, types in
// attention/moment_model.h); this module asks the registry and integrates the ODE.
#pragma once

#include "attention/attention.h"
#include "attention/layers.h"
#include "attention/moment_model.h"
#include "attention/sinkhorn.h"
#include "common/matrix.h"
#include "common/symmetric_eigen.h"
#include "reference/ode_integrator.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tpde::reference
{
  /// Defined in attention/moment_model.h; named here for the existing callers.
  using attention::GaussianState;
  using attention::MomentDerivative;

  /// True if `variant` (an attention variant name) has a Gaussian reference.
  bool has_gaussian_reference(const std::string &variant);

  /// Names with a reference, joined by '|'.
  std::string gaussian_reference_variants();

  /// The moment ODE right-hand side of `variant` with the given parameters.
  /// Throws std::invalid_argument for an unknown variant or inconsistent shapes.
  MomentDerivative make_moment_derivative(const std::string             &variant,
                                          const attention::Parameters &parameters);

  /// The Sinkhorn moment model's Gamma (lives in attention/sinkhorn.h; named
  /// here for the existing callers).
  using attention::sinkhorn_regression_matrix;

  /// Square root of a symmetric positive semi-definite matrix (lives in
  /// common/symmetric_eigen.h; named here for the existing callers).
  using tpde::symmetric_square_root;

  class GaussianReference
  {
  public:
    /// Throws std::invalid_argument for an unknown variant, wrong shapes, or a
    /// covariance that is not symmetric positive definite.
    GaussianReference(const std::string             &variant,
                      const attention::Parameters &parameters,
                      const GaussianState         &initial,
                      double                       t0   = 0.,
                      double                       rtol = 1e-13,
                      double                       atol = 1e-15);
    /// Piecewise-constant weights: layer l's moment ODE on [l tau, (l + 1)
    /// tau), the last layer after count * tau. The integration stops at every
    /// boundary and restarts there with the next layer's right-hand side, so
    /// the reference stays exact (no step straddles a jump). Affine
    /// feed-forward blocks add their rates as the composition says (sum:
    /// s (attention + block); split: 2 s attention, then 2 s block, on the
    /// halves of each layer, attention/feed_forward.h); throws
    /// std::invalid_argument for an mlp block (Layers::keeps_gaussians()).
    GaussianReference(const std::string      &variant,
                      const attention::Layers &layers,
                      const GaussianState    &initial,
                      double                  t0   = 0.,
                      double                  rtol = 1e-13,
                      double                  atol = 1e-15);

    /// Integrates the moment ODE to t (t >= time(), or within round-off of a
    /// layer boundary it has passed: a no-op); Sigma is symmetrised.
    /// Throws std::runtime_error on finite-time blow-up (the message gives the
    /// time reached); the state then stays at the last accepted ODE step.
    const GaussianState &advance_to(double t);

    /// Idiosyncratic noise sqrt(2 D) dW on every token: the density stays
    /// Gaussian, the mean ODE is unchanged and the covariance ODE gains 2 D I
    /// (physics.md §4.3). Call before advancing (D >= 0).
    void set_diffusion(double D);

    double               time() const { return integrator->time(); }
    const GaussianState &state() const { return current; }
    unsigned int         dimension() const { return dim; }
    const std::string   &variant() const { return variant_name; }
    const OdeIntegrator &ode() const { return *integrator; }

    /// The layer whose right-hand side is integrated now.
    unsigned int layer() const { return active->layer; }

    /// The integration state, and its restore (checkpoints; the layer follows the time).
    std::vector<double> snapshot() const { return integrator->snapshot(); }
    void                restore(const std::vector<double> &snapshot);

  private:
    std::string                    variant_name;
    unsigned int                   dim;
    attention::LayerTimes          times;
    std::shared_ptr<attention::LayerTimes::Position> active; // read by the right-hand side (shared: the object may move)
    std::shared_ptr<double>        diffusion = std::make_shared<double>(0.); // read by the right-hand side
    std::unique_ptr<OdeIntegrator> integrator;
    GaussianState                  current;
  };

  /// Density of N(mean, covariance) with the inverse and normalisation
  /// precomputed: build once per output time, evaluate at many points.
  class GaussianDensity
  {
  public:
    /// Throws std::invalid_argument unless d in {1,2,3} and the covariance is
    /// symmetric positive definite.
    explicit GaussianDensity(const GaussianState &state);

    /// x has d entries.
    double evaluate(const double *x) const;
    /// log of the density (no underflow far out in the tails).
    double log_evaluate(const double *x) const;
    unsigned int dimension() const { return dim; }

  private:
    unsigned int dim;
    double       mean[3]          = {};
    double       precision[3][3]  = {}; // Sigma^{-1}
    double       log_normalisation = 0.; // -(d log(2 pi) + log det Sigma) / 2
  };

  /// One-off evaluation; prefer GaussianDensity in loops.
  double gaussian_density(const GaussianState &state, const double *x);
} // namespace tpde::reference
