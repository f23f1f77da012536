// The attention velocity assembled by quadrature over the mesh equals the
// exact affine field of a Gaussian, X(x) = V (alpha + Sigma A x), A = beta K^T Q
// (physics.md §2.2), in the bulk |x - alpha| <= 3 sigma.
#include "support/solver_runs.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  template <int dim>
  double bulk_field_error(const Parameters &p)
  {
    Simulation<dim> simulation(p, MPI_COMM_WORLD);
    simulation.initialize();
    const auto  &space = simulation.space();
    const Matrix A     = p.attention.beta * (transpose(p.attention.K) * p.attention.Q);
    const Matrix &V    = p.attention.V;
    const Matrix &S    = p.initial.covariance;
    const Matrix  P    = inverse(S);
    const auto   &alpha = p.initial.mean;
    const double *X     = simulation.field().node_velocity();
    double        worst = 0, largest = 0;
    std::size_t   bulk  = 0;
    for (std::size_t node = 0; node < space.node_points.size() / dim; ++node)
      {
        std::vector<double> x(space.node_points.begin() + node * dim,
                              space.node_points.begin() + (node + 1) * dim);
        std::vector<double> d(dim);
        for (unsigned int c = 0; c < dim; ++c)
          d[c] = x[c] - alpha[c];
        const auto   Pd = P * d;
        double       mahalanobis2 = 0;
        for (unsigned int c = 0; c < dim; ++c)
          mahalanobis2 += d[c] * Pd[c];
        if (mahalanobis2 > 9.)
          continue;
        ++bulk;
        const auto SAx = S * (A * x);
        std::vector<double> tilted(dim);
        for (unsigned int c = 0; c < dim; ++c)
          tilted[c] = alpha[c] + SAx[c];
        const auto exact = V * tilted;
        double     e2 = 0, n2 = 0;
        for (unsigned int c = 0; c < dim; ++c)
          {
            e2 += (X[node * dim + c] - exact[c]) * (X[node * dim + c] - exact[c]);
            n2 += exact[c] * exact[c];
          }
        worst   = std::max(worst, std::sqrt(e2));
        largest = std::max(largest, std::sqrt(n2));
      }
    EXPECT_GT(bulk, 50u) << "too few bulk nodes for a meaningful test";
    std::printf("bulk nodes %zu, max |X_h - X| / max |X| = %.3e\n", bulk, worst / largest);
    return worst / largest;
  }
} // namespace

TEST(AttentionQuadrature, GaussianField2DMatchesAffineFormula)
{
  // T6 data with a non-symmetric A (K is not a multiple of Q) and a general V.
  const auto p = parameters_from("parameters/gaussian-2d-isotropize.prm",
                                 {"Mesh/lower corner=-10", "Mesh/upper corner=10", "Mesh/subdivisions=40",
                                  "Mesh/global refinements=0", "Discretization/degree=4",
                                  "Initial condition/projection=interpolation",
                                  "Attention/K=0.5, 0.1; -0.2, 0.4", "Attention/V=-1, 0.3; 0.2, -0.8"});
  EXPECT_LE(bulk_field_error<2>(p), 1e-8);
}

TEST(AttentionQuadrature, GaussianField1DMatchesAffineFormula)
{
  const auto p = parameters_from("parameters/gaussian-1d-collapse.prm",
                                 {"Mesh/subdivisions=80", "Mesh/global refinements=0", "Discretization/degree=4",
                                  "Initial condition/projection=interpolation"});
  EXPECT_LE(bulk_field_error<1>(p), 1e-12);
}

namespace
{
  /// Largest |X_interpolated - X_evaluated| / max |X_evaluated| at the face
  /// points in the bulk (Mahalanobis distance <= 3 of the initial Gaussian).
  double face_interpolation_error(Parameters p)
  {
    constexpr int dim = 2;
    p.discretization.interpolate_face_velocity = false;
    Simulation<dim> evaluated(p, MPI_COMM_WORLD);
    evaluated.initialize();
    p.discretization.interpolate_face_velocity = true;
    Simulation<dim> interpolated(p, MPI_COMM_WORLD);
    interpolated.initialize();

    const auto   &space = evaluated.space();
    const Matrix  P     = inverse(p.initial.covariance);
    const double *Xe    = evaluated.field().face_velocity();
    const double *Xi    = interpolated.field().face_velocity();
    EXPECT_EQ(space.face_points.size(), interpolated.space().face_points.size());
    EXPECT_LT(interpolated.field().n_targets(), evaluated.field().n_targets() * 3 / 4)
      << "most faces should be interpolated";
    double      worst = 0, largest = 0;
    std::size_t bulk  = 0;
    for (std::size_t point = 0; point < space.face_points.size() / dim; ++point)
      {
        std::vector<double> d(dim);
        for (unsigned int c = 0; c < dim; ++c)
          d[c] = space.face_points[point * dim + c] - p.initial.mean[c];
        const auto Pd = P * d;
        if (d[0] * Pd[0] + d[1] * Pd[1] > 9.)
          continue;
        ++bulk;
        worst   = std::max(worst, std::hypot(Xi[point * dim] - Xe[point * dim],
                                             Xi[point * dim + 1] - Xe[point * dim + 1]));
        largest = std::max(largest, std::hypot(Xe[point * dim], Xe[point * dim + 1]));
      }
    EXPECT_GT(bulk, 50u);
    std::printf("%zu bulk face points: max |X_interpolated - X_evaluated| / max |X| = %.3e\n", bulk,
                worst / largest);
    return worst / largest;
  }
} // namespace

TEST(AttentionQuadrature, InterpolatedFaceVelocityIsExactForGaussianData)
{
  // Softmax on a Gaussian: the field is affine (the Q4 quadrature field to
  // ~1e-11, see above), which the trace reproduces. Adaptive pre-refinement
  // puts hanging faces into the bulk.
  const auto p = parameters_from("parameters/gaussian-2d-isotropize.prm",
                                 {"Mesh/lower corner=-10", "Mesh/upper corner=10", "Mesh/subdivisions=20",
                                  "Mesh/global refinements=0", "Discretization/degree=4",
                                  "Initial condition/projection=interpolation", "Mesh refinement/adaptive=true",
                                  "Mesh refinement/strategy=threshold", "Mesh refinement/refine threshold=1e-3",
                                  "Mesh refinement/initial refinements=2",
                                  "Attention/K=0.5, 0.1; -0.2, 0.4", "Attention/V=-1, 0.3; 0.2, -0.8"});
  EXPECT_LE(face_interpolation_error(p), 1e-9);
}

TEST(AttentionQuadrature, InterpolatedFaceVelocityConvergesAtOrderPPlusOne)
{
  // Sigmoid attention (T10) makes the field non-affine: the Q2 trace error
  // must fall like h^3 (a factor 8 per halving of h).
  std::vector<double> errors;
  for (const char *cells : {"Mesh/subdivisions=16", "Mesh/subdivisions=32"})
    errors.push_back(face_interpolation_error(parameters_from(
      "parameters/gaussian-2d-isotropize.prm",
      {"Mesh/lower corner=-8", "Mesh/upper corner=8", cells, "Mesh/global refinements=0",
       "Discretization/degree=2", "Attention/type=sigmoid", "Attention/bias=-1.3",
       "Attention/K=0.5, 0.1; -0.2, 0.4", "Attention/V=-1, 0.3; 0.2, -0.8"})));
  const double order = std::log2(errors[0] / errors[1]);
  std::printf("face interpolation order: %.2f\n", order);
  EXPECT_GT(errors[1], 1e-12) << "sigmoid field should not be affine";
  EXPECT_GE(order, 2.6);
  EXPECT_LE(order, 3.6);
}
