#include "reference/gaussian_reference.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace tpde::reference
{
  namespace
  {
    void require(bool condition, const std::string &what)
    {
      if (!condition)
        throw std::invalid_argument(what);
    }

    std::string shape(const Matrix &m)
    {
      return std::to_string(m.rows) + " x " + std::to_string(m.cols);
    }

    // ODE state layout: y = (alpha_0..alpha_{d-1}, Sigma row-major).
    std::vector<double> pack(const GaussianState &s)
    {
      std::vector<double> y = s.mean;
      y.insert(y.end(), s.covariance.data.begin(), s.covariance.data.end());
      return y;
    }

    /// Unpacks and symmetrises Sigma (it is already symmetric up to the last
    /// bit; averaging makes that a guarantee for the right-hand sides).
    void unpack(const std::vector<double> &y, std::size_t d, GaussianState &s)
    {
      s.mean.assign(y.begin(), y.begin() + d);
      s.covariance = Matrix(d, d);
      for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j)
          s.covariance(i, j) = 0.5 * (y[d + i * d + j] + y[d + j * d + i]);
    }
  } // namespace

  bool has_gaussian_reference(const std::string &variant)
  {
    for (const attention::Variant &v : attention::variants())
      if (v.name == variant)
        return static_cast<bool>(v.capabilities.moment_model);
    return false;
  }

  std::string gaussian_reference_variants()
  {
    std::string names;
    for (const attention::Variant &v : attention::variants())
      if (v.capabilities.moment_model)
        names += (names.empty() ? "" : "|") + v.name;
    return names;
  }

  MomentDerivative make_moment_derivative(const std::string             &variant,
                                          const attention::Parameters &parameters)
  {
    for (const attention::Variant &v : attention::variants())
      if (v.name == variant && v.capabilities.moment_model)
        return v.capabilities.moment_model(parameters);
    throw std::invalid_argument("no Gaussian reference for attention variant '" + variant +
                                "' (available: " + gaussian_reference_variants() + ")");
  }

  namespace
  {
    /// The moment rate at layer and phase `at`: the attention's, composed with
    /// the layer's affine block as LayeredKernel composes the velocities.
    GaussianState composed_rate(const MomentDerivative &attention, const attention::FeedForwardStack &blocks,
                                const attention::LayerTimes::Position &at, const GaussianState &s)
    {
      if (blocks.blocks.empty())
        return attention(s);
      const attention::FeedForward &block = blocks.blocks[at.layer];
      const bool                    split = blocks.composition == attention::Composition::split;
      if (split && at.phase == 1)
        return block.moments(s, 2 * block.residual_scale);
      GaussianState rate   = attention(s);
      const double  factor = (split ? 2 : 1) * block.residual_scale;
      for (double &m : rate.mean)
        m *= factor;
      rate.covariance = factor * rate.covariance;
      if (!split)
        {
          const GaussianState own = block.moments(s, block.residual_scale);
          for (std::size_t a = 0; a < rate.mean.size(); ++a)
            rate.mean[a] += own.mean[a];
          rate.covariance = rate.covariance + own.covariance;
        }
      return rate;
    }

    attention::Layers one_layer(const attention::Parameters &parameters)
    {
      attention::Layers layers;
      layers.attention = {parameters};
      return layers;
    }
  } // namespace

  GaussianReference::GaussianReference(const std::string             &variant,
                                       const attention::Parameters &parameters,
                                       const GaussianState         &initial,
                                       double                       t0,
                                       double                       rtol,
                                       double                       atol)
    : GaussianReference(variant, one_layer(parameters), initial, t0, rtol, atol)
  {}

  GaussianReference::GaussianReference(const std::string      &variant,
                                       const attention::Layers &layers,
                                       const GaussianState    &initial,
                                       double                  t0,
                                       double                  rtol,
                                       double                  atol)
    : variant_name(variant)
    , dim(layers.attention.at(0).dim)
    , times(layers)
    , active(std::make_shared<attention::LayerTimes::Position>(layers.position_at(t0)))
  {
    std::vector<MomentDerivative> derivatives;
    for (const attention::Parameters &parameters : layers.attention)
      derivatives.push_back(make_moment_derivative(variant, parameters));
    times.count = static_cast<unsigned int>(derivatives.size());
    require(layers.keeps_gaussians(), "Gaussian reference '" + variant + "': an mlp feed-forward block does not keep "
                                      "Gaussians Gaussian");
    const std::string where      = "Gaussian reference '" + variant + "': ";
    require(initial.mean.size() == dim,
            where + "initial mean has " + std::to_string(initial.mean.size()) +
              " entries, dim is " + std::to_string(dim));
    require(initial.covariance.rows == dim && initial.covariance.cols == dim,
            where + "initial covariance must be " + std::to_string(dim) + " x " +
              std::to_string(dim) + ", is " + shape(initial.covariance));
    require(is_symmetric_positive_definite(initial.covariance),
            where + "initial covariance is not symmetric positive definite: " +
              initial.covariance.to_string());

    unpack(pack(initial), dim, current);
    const std::size_t d        = dim;
    const auto        at       = active;
    const auto        blocks   = layers.feed_forward;
    const auto        D        = diffusion;
    auto              rhs      = [derivatives, at, blocks, d, D](double,
                                   const std::vector<double> &y,
                                   std::vector<double>       &dydt) {
      GaussianState s;
      unpack(y, d, s);
      const GaussianState ds = composed_rate(derivatives[at->layer], blocks, *at, s);
      std::copy(ds.mean.begin(), ds.mean.end(), dydt.begin());
      std::copy(ds.covariance.data.begin(), ds.covariance.data.end(), dydt.begin() + d);
      for (std::size_t a = 0; a < d; ++a)
        dydt[d + a * d + a] += 2. * *D;
    };
    integrator = std::make_unique<OdeIntegrator>(rhs, t0, pack(current), rtol, atol);
  }

  const GaussianState &GaussianReference::advance_to(double t)
  {
    try
      {
        // Layer by layer: up to each boundary t has reached, then the next right-hand side.
        for (double b = times.next_boundary(integrator->time()); t >= b * (1 - 1e-12);
             b       = times.next_boundary(integrator->time()))
          {
            integrator->advance_to(b);
            *active = times.position_at(b);
            integrator->right_hand_side_changed();
          }
        const double reached = integrator->time();
        if (!(t <= reached && t >= reached * (1 - 1e-12))) // not a boundary passed by round-off
          integrator->advance_to(t);
      }
    catch (const std::runtime_error &e)
      {
        unpack(integrator->state(), dim, current);
        std::ostringstream out;
        out.precision(17);
        out << "Gaussian reference '" << variant_name << "' cannot reach t = " << t
            << ": stopped at t = " << integrator->time()
            << " (max |Sigma| = " << max_abs(current.covariance) << "). " << e.what();
        throw std::runtime_error(out.str());
      }
    unpack(integrator->state(), dim, current);
    return current;
  }

  void GaussianReference::set_diffusion(double D)
  {
    require(D >= 0, "Gaussian reference '" + variant_name + "': diffusion must be >= 0");
    *diffusion = D;
    integrator->right_hand_side_changed();
  }

  void GaussianReference::restore(const std::vector<double> &snapshot)
  {
    integrator->restore(snapshot);
    *active = times.position_at(integrator->time());
    unpack(integrator->state(), dim, current);
  }

  GaussianDensity::GaussianDensity(const GaussianState &state)
    : dim(state.mean.size())
  {
    require(dim >= 1 && dim <= 3,
            "GaussianDensity: dimension must be 1, 2 or 3, not " + std::to_string(dim));
    require(state.covariance.rows == dim && state.covariance.cols == dim,
            "GaussianDensity: covariance must be " + std::to_string(dim) + " x " +
              std::to_string(dim) + ", is " + shape(state.covariance));
    require(is_symmetric_positive_definite(state.covariance),
            "GaussianDensity: covariance is not symmetric positive definite: " +
              state.covariance.to_string());
    const Matrix P   = inverse(state.covariance);
    const double det = determinant(state.covariance);
    for (unsigned int i = 0; i < dim; ++i)
      {
        mean[i] = state.mean[i];
        for (unsigned int j = 0; j < dim; ++j)
          precision[i][j] = 0.5 * (P(i, j) + P(j, i));
      }
    const double two_pi = 2. * M_PI;
    log_normalisation   = -0.5 * (dim * std::log(two_pi) + std::log(det));
  }

  double GaussianDensity::log_evaluate(const double *x) const
  {
    double r[3] = {};
    for (unsigned int i = 0; i < dim; ++i)
      r[i] = x[i] - mean[i];
    double q = 0.;
    for (unsigned int i = 0; i < dim; ++i)
      for (unsigned int j = 0; j < dim; ++j)
        q += r[i] * precision[i][j] * r[j];
    return log_normalisation - 0.5 * q;
  }

  double GaussianDensity::evaluate(const double *x) const { return std::exp(log_evaluate(x)); }

  double gaussian_density(const GaussianState &state, const double *x)
  {
    return GaussianDensity(state).evaluate(x);
  }
} // namespace tpde::reference
