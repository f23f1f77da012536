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

    /// Checks Q, K (k x d, same k >= 1), V (d x d), beta, d in {1,2,3}.
    void check_query_key_value(const std::string &variant, const attention::Parameters &p)
    {
      const std::string where = "Gaussian reference '" + variant + "': ";
      const std::size_t d     = p.dim;
      require(d >= 1 && d <= 3, where + "dim must be 1, 2 or 3, not " + std::to_string(d));
      require(std::isfinite(p.beta), where + "beta is not finite");
      require(p.Q.rows >= 1 && p.Q.cols == d,
              where + "Q must be k x " + std::to_string(d) + ", is " + shape(p.Q));
      require(p.K.rows == p.Q.rows && p.K.cols == d,
              where + "K must have the shape of Q (" + shape(p.Q) + "), is " + shape(p.K));
      require(p.V.rows == d && p.V.cols == d,
              where + "V must be " + std::to_string(d) + " x " + std::to_string(d) + ", is " +
                shape(p.V));
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

  /// l2 (physics.md §2.4): the tilted law has precision Sigma^{-1} + 2 beta K^T K,
  /// so X(x) = V (I + 2 beta Sigma K^T K)^{-1} (alpha + 2 beta Sigma K^T Q x) = a + B x:
  ///   alpha' = a + B alpha,  Sigma' = B Sigma + Sigma B^T,
  ///   a = V M^{-1} alpha,  B = 2 beta V M^{-1} Sigma K^T Q,  M = I + 2 beta Sigma K^T K.
  MomentDerivative make_l2_moments(const attention::Parameters &p)
  {
    check_query_key_value("l2", p);
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

  /// Multi-head (physics.md §2.3), A_h = beta_h K_h^T Q_h: X(x) = sum_h C_h (alpha + Sigma A_h x),
  ///   alpha' = sum_h C_h (I + Sigma A_h) alpha,  Sigma' = sum_h (C_h Sigma A_h Sigma + transpose).
  MomentDerivative make_multihead_moments(const attention::Parameters &p)
  {
    require(!p.heads.empty(), "Gaussian reference 'multihead': no heads");
    std::vector<Matrix> A, C;
    for (std::size_t h = 0; h < p.heads.size(); ++h)
      {
        attention::Parameters single = p;
        single.beta                  = p.heads[h].beta;
        single.Q                     = p.heads[h].Q;
        single.K                     = p.heads[h].K;
        single.V                     = p.heads[h].C;
        check_query_key_value("multihead (head " + std::to_string(h + 1) + ")", single);
        A.push_back(single.beta * (transpose(single.K) * single.Q));
        C.push_back(single.V);
      }
    const Matrix I = Matrix::identity(p.dim);
    return [A, C, I](const GaussianState &s) {
      const Matrix       &Sigma = s.covariance;
      Matrix              M(Sigma.rows, Sigma.cols);
      std::vector<double> mean_rate(s.mean.size(), 0.);
      for (std::size_t h = 0; h < A.size(); ++h)
        {
          M                             = M + C[h] * Sigma * A[h] * Sigma;
          const std::vector<double> add = C[h] * (I + Sigma * A[h]) * s.mean;
          for (std::size_t i = 0; i < mean_rate.size(); ++i)
            mean_rate[i] += add[i];
        }
      return GaussianState{mean_rate, M + transpose(M)};
    };
  }

  /// Sinkhorn (physics.md §2.5): X(x) = V (alpha + Gamma (x - alpha)), so
  ///   alpha' = V alpha,  Sigma' = B Sigma + Sigma B^T,  B = V Gamma.
  MomentDerivative make_sinkhorn_moments(const attention::Parameters &p)
  {
    check_query_key_value("sinkhorn", p);
    require(p.sinkhorn_epsilon > 0 && std::isfinite(p.sinkhorn_epsilon),
            "Gaussian reference 'sinkhorn': epsilon must be finite and > 0");
    const attention::Parameters parameters = p;
    return [parameters](const GaussianState &s) {
      const Matrix B      = parameters.V * sinkhorn_regression_matrix(s.covariance, parameters);
      const Matrix BSigma = B * s.covariance;
      return GaussianState{parameters.V * s.mean, BSigma + transpose(BSigma)};
    };
  }

  Matrix sinkhorn_regression_matrix(const Matrix &Sigma, const attention::Parameters &p)
  {
    // The plan is the Gaussian with covariance [Sigma, C; C^T, Sigma] whose
    // precision has the off-diagonal block -M, M = (beta / eps) Q^T K. With
    // D = Sigma^{-1/2} C Sigma^{-1/2} that reads D (I - D^T D)^{-1} = N,
    // N = Sigma^{1/2} M Sigma^{1/2}, solved (||D|| < 1) by D = N F with
    // F = 2 (I + (I + 4 N^T N)^{1/2})^{-1}. Gamma = C^T Sigma^{-1} =
    // Sigma^{1/2} F Sigma^{1/2} M^T: no inverse of Sigma or of M is needed.
    const Matrix M = (p.beta / p.sinkhorn_epsilon) * (transpose(p.Q) * p.K);
    const Matrix R = symmetric_square_root(Sigma);
    const Matrix N = R * M * R;
    const Matrix I = Matrix::identity(Sigma.rows);
    const Matrix F = 2. * inverse(I + symmetric_square_root(I + 4. * (transpose(N) * N)));
    return R * F * R * transpose(M);
  }

  MomentDerivative make_softmax_moments(const attention::Parameters &p)
  {
    check_query_key_value("softmax", p);
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

  GaussianReference::GaussianReference(const std::string             &variant,
                                       const attention::Parameters &parameters,
                                       const GaussianState         &initial,
                                       double                       t0,
                                       double                       rtol,
                                       double                       atol)
    : variant_name(variant)
    , dim(parameters.dim)
  {
    MomentDerivative derivative = make_moment_derivative(variant, parameters);
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
    const std::size_t d   = dim;
    auto              rhs = [derivative, d](double,
                                   const std::vector<double> &y,
                                   std::vector<double>       &dydt) {
      GaussianState s;
      unpack(y, d, s);
      const GaussianState ds = derivative(s);
      std::copy(ds.mean.begin(), ds.mean.end(), dydt.begin());
      std::copy(ds.covariance.data.begin(), ds.covariance.data.end(), dydt.begin() + d);
    };
    integrator = std::make_unique<OdeIntegrator>(rhs, t0, pack(current), rtol, atol);
  }

  const GaussianState &GaussianReference::advance_to(double t)
  {
    try
      {
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
