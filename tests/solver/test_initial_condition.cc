// Every kind of initial data is projected, limited and normalised to mass 1,
// with the moments of the density it describes.
#include "initial/initial_condition.h"
#include "support/solver_runs.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  struct Moments
  {
    double mass, mean[2], cov[2][2], min_check;
  };

  Moments initial_moments(const std::vector<std::string> &overrides)
  {
    auto o = overrides;
    o.push_back("Mesh/subdivisions=48");
    o.push_back("Discretization/degree=3");
    Simulation<2> simulation(parameters_from("tests/data/small-2d.prm", o), MPI_COMM_WORLD);
    simulation.initialize();
    const auto  &space = simulation.space();
    const double *u    = simulation.solution().begin();
    const unsigned int n = space.n_nodes();
    Moments      m{};
    double       s[6] = {0, 0, 0, 0, 0, 0};
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      for (unsigned int q = 0; q < n; ++q)
        {
          const double  w = space.node_JxW[k * n + q] * u[space.cell_offset[k] + q];
          const double *x = space.node_points.data() + (k * n + q) * 2;
          s[0] += w;
          s[1] += w * x[0];
          s[2] += w * x[1];
          s[3] += w * x[0] * x[0];
          s[4] += w * x[0] * x[1];
          s[5] += w * x[1] * x[1];
        }
    m.mass       = s[0];
    m.mean[0]    = s[1] / s[0];
    m.mean[1]    = s[2] / s[0];
    m.cov[0][0]  = s[3] / s[0] - m.mean[0] * m.mean[0];
    m.cov[0][1]  = s[4] / s[0] - m.mean[0] * m.mean[1];
    m.cov[1][1]  = s[5] / s[0] - m.mean[1] * m.mean[1];
    m.min_check  = simulation.min_check_value();
    return m;
  }
} // namespace

TEST(InitialCondition, GaussianHasExactMoments)
{
  // [-9, 9]^2 leaves tails of ~1e-15 (8 standard deviations).
  const Moments m = initial_moments({"Mesh/lower corner=-9", "Mesh/upper corner=9"});
  EXPECT_NEAR(m.mass, 1., 1e-13); // sum over ~37000 nodes
  EXPECT_NEAR(m.mean[0], 1., 1e-9);
  EXPECT_NEAR(m.mean[1], -0.5, 1e-9);
  EXPECT_NEAR(m.cov[0][0], 1., 1e-9);
  EXPECT_NEAR(m.cov[0][1], 0.3, 1e-9);
  EXPECT_NEAR(m.cov[1][1], 0.5, 1e-9);
  EXPECT_GE(m.min_check, 0.);
}

TEST(InitialCondition, MixtureHasMixtureMoments)
{
  const Moments m = initial_moments({"Initial condition/type=mixture", "Initial condition/mixture weights=1, 3",
                                     "Initial condition/mixture means=-1, 0; 1, 1",
                                     "Initial condition/mixture covariances=0.3, 0; 0, 0.3 | 0.2, 0.1; 0.1, 0.4"});
  // weights 1/4, 3/4: mean = (0.5, 0.75); cov = sum w_i (S_i + m_i m_i^T) - m m^T
  EXPECT_NEAR(m.mass, 1., 1e-13); // sum over ~37000 nodes
  EXPECT_NEAR(m.mean[0], 0.5, 1e-9);
  EXPECT_NEAR(m.mean[1], 0.75, 1e-9);
  EXPECT_NEAR(m.cov[0][0], 0.25 * 1.3 + 0.75 * 1.2 - 0.25, 1e-8);
  EXPECT_NEAR(m.cov[0][1], 0.75 * 1.1 - 0.375, 1e-8);
  EXPECT_NEAR(m.cov[1][1], 0.25 * 0.3 + 0.75 * 1.4 - 0.5625, 1e-8);
}

TEST(InitialCondition, UniformBoxAlignedWithCellsIsExact)
{
  // [-2, 1] x [-1.5, 3] lies on cell faces of the 48 x 48 mesh (h = 0.25), so
  // the projection is the exact uniform density.
  const Moments m = initial_moments({"Initial condition/type=box", "Initial condition/box lower corner=-2, -1.5",
                                     "Initial condition/box upper corner=1, 3"});
  EXPECT_NEAR(m.mass, 1., 1e-13); // sum over ~37000 nodes
  EXPECT_NEAR(m.mean[0], -0.5, 1e-13);
  EXPECT_NEAR(m.mean[1], 0.75, 1e-13);
  EXPECT_NEAR(m.cov[0][0], 9. / 12., 1e-13);
  EXPECT_NEAR(m.cov[0][1], 0., 1e-13);
  EXPECT_NEAR(m.cov[1][1], 4.5 * 4.5 / 12., 1e-13);
  EXPECT_GE(m.min_check, 0.);
}

TEST(InitialCondition, UniformBallHasBallMoments)
{
  // Disc of radius 2 at (0.5, -1): covariance r^2/4 I. The boundary is not
  // resolved by the mesh: O(h) errors, limited positivity.
  const Moments m = initial_moments({"Initial condition/type=ball", "Initial condition/ball center=0.5, -1",
                                     "Initial condition/ball radius=2"});
  EXPECT_NEAR(m.mass, 1., 1e-13); // sum over ~37000 nodes
  EXPECT_NEAR(m.mean[0], 0.5, 2e-3);
  EXPECT_NEAR(m.mean[1], -1., 2e-3);
  EXPECT_NEAR(m.cov[0][0], 1., 2e-2);
  EXPECT_NEAR(m.cov[0][1], 0., 2e-3);
  EXPECT_NEAR(m.cov[1][1], 1., 2e-2);
  EXPECT_GE(m.min_check, 0.);
}

TEST(InitialCondition, ExpressionMatchesTheSameGaussian)
{
  // An unnormalised Gaussian formula with constants: N((a, 0), diag(0.5, 0.25)).
  const Moments m = initial_moments({"Initial condition/type=expression",
                                     "Initial condition/expression=exp(-(x-a)^2 - 2*y^2)",
                                     "Initial condition/constants=a=0.7"});
  EXPECT_NEAR(m.mass, 1., 1e-13); // sum over ~37000 nodes
  EXPECT_NEAR(m.mean[0], 0.7, 1e-9);
  EXPECT_NEAR(m.mean[1], 0., 1e-9);
  EXPECT_NEAR(m.cov[0][0], 0.5, 1e-8);
  EXPECT_NEAR(m.cov[0][1], 0., 1e-9);
  EXPECT_NEAR(m.cov[1][1], 0.25, 1e-8);
}
