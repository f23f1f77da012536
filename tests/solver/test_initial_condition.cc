// Every kind of initial data is projected, limited and normalised to mass 1,
// with the moments of the density it describes.
#include "support/dg_moments.h"

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

  /// Moments of the initial density on 48 x 48 Q3 cells of tests/data/small-2d.prm.
  Moments initial_moments(const std::vector<std::string> &overrides)
  {
    auto o = overrides;
    o.push_back("Mesh/subdivisions=48");
    o.push_back("Discretization/degree=3");
    Simulation<2> simulation(parameters_from("tests/data/small-2d.prm", o), MPI_COMM_WORLD);
    simulation.initialize();
    const auto s = raw_moments(simulation.space(), simulation.solution().begin());
    Moments    m{};
    m.mass      = s[0];
    m.mean[0]   = s[1] / s[0];
    m.mean[1]   = s[2] / s[0];
    m.cov[0][0] = s[3] / s[0] - m.mean[0] * m.mean[0];
    m.cov[0][1] = s[4] / s[0] - m.mean[0] * m.mean[1];
    m.cov[1][1] = s[5] / s[0] - m.mean[1] * m.mean[1];
    m.min_check = simulation.min_check_value();
    return m;
  }

  /// An expected value with its absolute tolerance.
  struct Near
  {
    double value, tolerance;
  };

  struct Case
  {
    std::string              name;
    std::vector<std::string> overrides;
    Near                     mean[2], cov00, cov01, cov11;
  };
} // namespace

class InitialCondition : public ::testing::TestWithParam<Case>
{};

TEST_P(InitialCondition, HasTheMomentsOfItsDensity)
{
  const Case   &c = GetParam();
  const Moments m = initial_moments(c.overrides);
  EXPECT_NEAR(m.mass, 1., 1e-13); // sum over ~37000 nodes
  EXPECT_NEAR(m.mean[0], c.mean[0].value, c.mean[0].tolerance);
  EXPECT_NEAR(m.mean[1], c.mean[1].value, c.mean[1].tolerance);
  EXPECT_NEAR(m.cov[0][0], c.cov00.value, c.cov00.tolerance);
  EXPECT_NEAR(m.cov[0][1], c.cov01.value, c.cov01.tolerance);
  EXPECT_NEAR(m.cov[1][1], c.cov11.value, c.cov11.tolerance);
  EXPECT_GE(m.min_check, 0.);
}

INSTANTIATE_TEST_SUITE_P(
  Kinds,
  InitialCondition,
  ::testing::Values(
    // [-9, 9]^2 leaves tails of ~1e-15 (8 standard deviations).
    Case{"GaussianHasExactMoments", {"Mesh/lower corner=-9", "Mesh/upper corner=9"},
         {{1., 1e-9}, {-0.5, 1e-9}}, {1., 1e-9}, {0.3, 1e-9}, {0.5, 1e-9}},
    // weights 1/4, 3/4: mean = (0.5, 0.75); cov = sum w_i (S_i + m_i m_i^T) - m m^T
    Case{"MixtureHasMixtureMoments",
         {"Initial condition/type=mixture", "Initial condition/mixture weights=1, 3",
          "Initial condition/mixture means=-1, 0; 1, 1",
          "Initial condition/mixture covariances=0.3, 0; 0, 0.3 | 0.2, 0.1; 0.1, 0.4"},
         {{0.5, 1e-9}, {0.75, 1e-9}}, {0.25 * 1.3 + 0.75 * 1.2 - 0.25, 1e-8}, {0.75 * 1.1 - 0.375, 1e-8},
         {0.25 * 0.3 + 0.75 * 1.4 - 0.5625, 1e-8}},
    // [-2, 1] x [-1.5, 3] lies on cell faces of the 48 x 48 mesh (h = 0.25), so
    // the projection is the exact uniform density.
    Case{"UniformBoxAlignedWithCellsIsExact",
         {"Initial condition/type=box", "Initial condition/box lower corner=-2, -1.5",
          "Initial condition/box upper corner=1, 3"},
         {{-0.5, 1e-13}, {0.75, 1e-13}}, {9. / 12., 1e-13}, {0., 1e-13}, {4.5 * 4.5 / 12., 1e-13}},
    // Disc of radius 2 at (0.5, -1): covariance r^2/4 I. The boundary is not
    // resolved by the mesh: O(h) errors, limited positivity.
    Case{"UniformBallHasBallMoments",
         {"Initial condition/type=ball", "Initial condition/ball center=0.5, -1", "Initial condition/ball radius=2"},
         {{0.5, 2e-3}, {-1., 2e-3}}, {1., 2e-2}, {0., 2e-3}, {1., 2e-2}},
    // An unnormalised Gaussian formula with constants: N((a, 0), diag(0.5, 0.25)).
    Case{"ExpressionMatchesTheSameGaussian",
         {"Initial condition/type=expression", "Initial condition/expression=exp(-(x-a)^2 - 2*y^2)",
          "Initial condition/constants=a=0.7"},
         {{0.7, 1e-9}, {0., 1e-9}}, {0.5, 1e-8}, {0., 1e-9}, {0.25, 1e-8}}),
  [](const ::testing::TestParamInfo<Case> &info) { return info.param.name; });
