// The l2, sigmoid, unnormalized, multihead and sinkhorn attention velocities
// assembled by quadrature over the mesh equal their exact fields for a
// Gaussian density N(alpha, Sigma) (physics.md §2.3-§2.6, test T10) in the
// bulk |x - alpha|_Sigma <= 3, to 1e-8 relative (max over the bulk nodes of
// |X_h - X| / max |X|):
//   l2:           X(x) = V (I + 2 beta Sigma K^T K)^{-1} (alpha + 2 beta Sigma K^T Q x);
//   sigmoid:      X(x) = V (m0 alpha + m1 Sigma A x), A = beta K^T Q, m0 = E sigma(u),
//                 m1 = E sigma'(u), u ~ N((Ax).alpha + b, (Ax)^T Sigma (Ax)) (Stein);
//   unnormalized: X(x) = e^{(Ax).alpha + (Ax)^T Sigma (Ax) / 2} V (alpha + Sigma A x);
//   multihead:    X(x) = sum_h C_h (alpha + Sigma A_h x), A_h = beta_h K_h^T Q_h;
//   sinkhorn:     X(x) = V (alpha + Gamma (x - alpha)), Gamma from the Gaussian plan.
// The density is interpolated at the nodes (the Gauss points of each cell),
// so the discrete measure is the Gauss rule applied to the exact density,
// normalised to mass 1 as the solver does.
//
// Domain and mesh (the tilt rule of physics.md §6.2): T6's Gaussian,
// alpha = (1, -0.5), Sigma = [1, .3; .3, .25] (sigma_max = 1.05), on [-10, 10]^2
// with 40 x 40 Q4 cells (as test_attention_quadrature.cc); bulk targets have
// |x| <= 4.1. The weighted integrands they see keep >= 7 sigma_max inside:
//  * l2: the tilted law N(m(x), (Sigma^{-1} + 2 beta K^T K)^{-1}) is narrower
//    than mu (standard deviations 0.35 and 0.72) with |m(x)| <= 1.9;
//  * sigmoid: sigma is bounded, so the integrand is mu itself (|alpha| +
//    7 sigma_max < 8.5); the transition of sigma has width 1 / |Ax| >= 0.5,
//    one cell, resolved by the 5 Gauss points per direction;
//  * unnormalized: the tilted law N(alpha + Sigma A x, Sigma) has
//    |alpha + Sigma A x| <= 2.3 (||Sigma A|| = 0.34 with beta = 0.6).
// Each test takes ~3 s on 2 cores.
#include "support/field_errors.h"

#include "reference/gaussian_reference.h"
#include "support/gauss_hermite.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  using Vector = std::vector<double>;


  double dot(const Vector &a, const Vector &b)
  {
    double sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
      sum += a[i] * b[i];
    return sum;
  }

  Vector plus(const Vector &a, const Vector &b)
  {
    Vector sum(a);
    for (std::size_t i = 0; i < a.size(); ++i)
      sum[i] += b[i];
    return sum;
  }

  /// max over bulk nodes of |X_h - X| / max |X| for the initial density of p.
  double bulk_field_error(const Parameters &p, const ExactField &exact)
  {
    return bulk_node_field_error<2>(p, exact, 500);
  }

  /// `mesh`: overrides of the 40 x 40 Q4 mesh on [-10, 10]^2 (full paths).
  Parameters variant_parameters(const std::string       &type,
                                std::vector<std::string> attention,
                                std::vector<std::string> mesh = {})
  {
    std::vector<std::string> overrides = {"Mesh/lower corner=-10",
                                          "Mesh/upper corner=10",
                                          "Mesh/subdivisions=40",
                                          "Mesh/global refinements=0",
                                          "Discretization/degree=4",
                                          "Initial condition/projection=interpolation",
                                          // A quadrature test: the density must be the
                                          // interpolated Gaussian itself. The limiter would
                                          // rescale far-tail cells (1e-40 densities), which the
                                          // l2 kernel with unrelated Q and K weights heavily.
                                          "Discretization/positivity limiter=false",
                                          "Attention/type=" + type};
    for (const std::string &entry : attention)
      overrides.push_back("Attention/" + entry);
    overrides.insert(overrides.end(), mesh.begin(), mesh.end());
    return parameters_from("parameters/gaussian-2d-isotropize.prm", overrides);
  }
} // namespace

TEST(AttentionVariantFields, L2GaussianFieldMatchesAffineFormula)
{
  // k = 3 rows, Q and K unrelated, a general V.
  const Parameters p = variant_parameters("l2",
                                          {"beta=0.8",
                                           "Q=0.7, -0.3; 0.2, 0.9; 0.5, 0.5",
                                           "K=0.4, 0.8; -0.6, 0.3; 0.1, -0.2",
                                           "V=-1, 0.3; 0.2, -0.8"});
  const Matrix    &K = p.attention.K, &Q = p.attention.Q, &V = p.attention.V;
  const Matrix     Sigma = p.initial.gaussian()->covariance;
  const double     beta  = p.attention.beta;
  const Matrix     M     = Matrix::identity(2) + (2 * beta) * (Sigma * (transpose(K) * K));
  const Matrix     VMinv = V * inverse(M);
  const Matrix     B     = (2 * beta) * (VMinv * (Sigma * (transpose(K) * Q)));
  const Vector     a     = VMinv * p.initial.gaussian()->mean;
  EXPECT_LE(bulk_field_error(p, [&](const Vector &x) { return plus(a, B * x); }), 1e-8);
}

TEST(AttentionVariantFields, SigmoidGaussianFieldMatchesSteinFormula)
{
  // T10: bias b = -1.3.
  const Parameters p = variant_parameters(
    "sigmoid",
    {"beta=1", "bias=-1.3", "Q=1, 0; 0, 1", "K=0.5, 0.1; -0.2, 0.4", "V=-1, 0.3; 0.2, -0.8"});
  const Matrix  A     = p.attention.beta * (transpose(p.attention.K) * p.attention.Q);
  const Matrix  Sigma = p.initial.gaussian()->covariance;
  const Vector  alpha = p.initial.gaussian()->mean;
  const double  b     = p.attention.bias;

  std::vector<long double> nodes, weights;
  gauss_hermite(150, nodes, weights);
  // E f(u) for u ~ N(mean, variance).
  const auto expectation = [&](double mean, double variance, auto f) {
    long double sum = 0;
    for (std::size_t j = 0; j < nodes.size(); ++j)
      sum += weights[j] * f(mean + std::sqrt(2 * variance) * nodes[j]);
    return static_cast<double>(sum / std::sqrt(std::acos(-1.L)));
  };
  const auto sigma = [](long double z) {
    return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z));
  };
  const auto exact = [&](const Vector &x) {
    const Vector c        = A * x;
    const Vector Sigma_c  = Sigma * c;
    const double mean     = dot(c, alpha) + b;
    const double variance = dot(c, Sigma_c);
    const double m0       = expectation(mean, variance, sigma);
    const double m1 =
      expectation(mean, variance, [&](long double u) { return sigma(u) * (1 - sigma(u)); });
    Vector y(2);
    for (unsigned int i = 0; i < 2; ++i)
      y[i] = m0 * alpha[i] + m1 * Sigma_c[i];
    return p.attention.V * y;
  };
  EXPECT_LE(bulk_field_error(p, exact), 1e-8);
}

TEST(AttentionVariantFields, UnnormalizedGaussianFieldMatchesClosedForm)
{
  const Parameters p = variant_parameters(
    "unnormalized", {"beta=0.6", "Q=1, 0; 0, 1", "K=0.5, 0.1; -0.2, 0.4", "V=-1, 0.3; 0.2, -0.8"});
  const Matrix  A     = p.attention.beta * (transpose(p.attention.K) * p.attention.Q);
  const Matrix  Sigma = p.initial.gaussian()->covariance;
  const Vector  alpha = p.initial.gaussian()->mean;
  const auto    exact = [&](const Vector &x) {
    const Vector c       = A * x;
    const Vector Sigma_c = Sigma * c;
    const double scale   = std::exp(dot(c, alpha) + 0.5 * dot(c, Sigma_c));
    const Vector v       = p.attention.V * plus(alpha, Sigma_c);
    return Vector{scale * v[0], scale * v[1]};
  };
  EXPECT_LE(bulk_field_error(p, exact), 1e-8);
}

TEST(AttentionVariantFields, MultiheadGaussianFieldMatchesAffineFormula)
{
  // T10: two heads of different k, unrelated Q_h, K_h, general C_h;
  // ||Sigma A_h|| <= 0.35 keeps the tilted laws inside the domain.
  const Parameters p = variant_parameters("multihead",
                                          {"heads=2",
                                           "head Q=0.7, -0.3; 0.2, 0.9 | 0.5, 0.5",
                                           "head K=0.4, 0.8; -0.6, 0.3 | 0.1, -0.9",
                                           "head C=-1, 0.3; 0.2, -0.8 | 0.5, -0.4; 0.3, 0.9",
                                           "head beta=0.5 | 0.4"});
  const Matrix  Sigma = p.initial.gaussian()->covariance;
  const Vector  alpha = p.initial.gaussian()->mean;
  const auto    exact = [&](const Vector &x) {
    Vector v(2, 0.);
    for (const auto &head : p.attention.heads)
      {
        const Matrix A = head.beta * (transpose(head.K) * head.Q);
        v              = plus(v, head.C * plus(alpha, Sigma * (A * x)));
      }
    return v;
  };
  EXPECT_LE(bulk_field_error(p, exact), 1e-8);
}

TEST(AttentionVariantFields, SinkhornGaussianFieldMatchesAffineFormula)
{
  // X(x) = V (alpha + Gamma (x - alpha)) with Gamma of the Gaussian plan
  // (physics.md §2.5). Every evaluation runs the Sinkhorn iterations over
  // all N sources (O(N^2) each), so the mesh is 26 x 26 Q4 on [-8, 8]^2
  // (16900 sources). The error is the Gauss rule's: 2.1e-8 at 24 x 24 on
  // [-9, 9]^2, 3.0e-9 at 24 x 24 and 1.7e-10 at 28 x 28 on [-8, 8]^2. The
  // conditional laws are narrower than mu and centred at
  // alpha + Gamma (x - alpha), ||Gamma|| < 1.
  const Parameters p = variant_parameters(
    "sinkhorn",
    {"beta=1", "sinkhorn epsilon=0.8", "Q=1, 0; 0, 1", "K=0.5, 0.1; -0.2, 0.4", "V=-1, 0.3; 0.2, -0.8"},
    {"Mesh/lower corner=-8", "Mesh/upper corner=8", "Mesh/subdivisions=26"});
  const Matrix  Gamma = reference::sinkhorn_regression_matrix(p.initial.gaussian()->covariance, p.attention);
  const Vector  alpha = p.initial.gaussian()->mean;
  const auto    exact = [&](const Vector &x) {
    return p.attention.V * plus(alpha, Gamma * Vector{x[0] - alpha[0], x[1] - alpha[1]});
  };
  EXPECT_LE(bulk_field_error(p, exact), 1e-8);
}
