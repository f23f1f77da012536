// Depth-dependent weights (subsection Layers, issue 15): piecewise-constant
// attention against the moment ODE integrated layer by layer (1D softmax,
// 2D softmax and multihead), the reference itself against a composition of
// one-layer references, and the step control: no step of the grid or of the
// particles straddles a layer boundary.
#include "support/solver_runs.h"
#include "support/step_checks.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  const std::string collapse_1d = "parameters/gaussian-1d-collapse.prm";
  const std::string gaussian_2d = "parameters/gaussian-2d-isotropize.prm";

  /// The reference covariance entry (i, j) at the end of a run.
  double reference_cov(const RunSummary &s, unsigned int i, unsigned int j)
  {
    return column(s.header, s.last_row, "ref_cov_" + std::to_string(i) + std::to_string(j));
  }

  struct LayeredRun
  {
    double error;      // worst relative moment error against the layered reference
    double weights_do; // |ref cov_00 - the first layer's repeated| / ref cov_00
  };

  /// The run of `overrides` and, for comparison, its first layer repeated.
  LayeredRun run_layered(const std::string &prm, unsigned int dim, const std::vector<std::string> &overrides,
                         const std::vector<std::string> &first_layer_only)
  {
    const RunSummary layered = run_without_output(parameters_from(prm, overrides));
    const RunSummary single  = run_without_output(parameters_from(prm, first_layer_only));
    EXPECT_LE(layered.max_mass_defect, 1e-12);
    return {relative_moment_error(layered, dim),
            std::abs(reference_cov(layered, 0, 0) - reference_cov(single, 0, 0)) / reference_cov(layered, 0, 0)};
  }
} // namespace

TEST(Layers, ReferenceIsTheCompositionOfOneLayerReferences)
{
  attention::Layers layers;
  layers.count    = 3;
  layers.duration = 0.3;
  for (const auto &[beta, v] : {std::pair{1., -1.}, std::pair{0.5, 0.7}, std::pair{2., -0.4}})
    {
      attention::Parameters p;
      p.dim  = 2;
      p.beta = beta;
      p.Q    = Matrix::parse("1, 0.2; 0, 1");
      p.K    = Matrix::parse("0.5, 0; 0.1, 0.5");
      p.V    = Matrix::parse(std::to_string(v) + ", 0.1; 0, " + std::to_string(v));
      layers.attention.push_back(p);
    }
  const reference::GaussianState initial{{1, -0.5}, Matrix::parse("1, 0.3; 0.3, 0.25")};

  // In small increments (as the statistics ask), across the boundaries and past count * tau.
  reference::GaussianReference layered("softmax", layers, initial);
  std::vector<double> snapshot_at_boundary;
  for (int k = 1; k <= 100; ++k)
    {
      layered.advance_to(0.01 * k);
      if (k == 30)
        snapshot_at_boundary = layered.snapshot();
    }
  EXPECT_EQ(layered.layer(), 2u) << "the last layer holds after count * tau";

  reference::GaussianState state = initial;
  for (unsigned int l = 0; l < 3; ++l)
    {
      reference::GaussianReference one("softmax", layers.attention[l], state, 0.3 * l);
      state = one.advance_to(l == 2 ? 1. : 0.3 * (l + 1));
    }
  for (unsigned int i = 0; i < 2; ++i)
    {
      EXPECT_NEAR(layered.state().mean[i], state.mean[i], 1e-12);
      for (unsigned int j = 0; j < 2; ++j)
        EXPECT_NEAR(layered.state().covariance(i, j), state.covariance(i, j), 1e-12);
    }
  // The weights matter: the first layer repeated ends elsewhere.
  reference::GaussianReference first("softmax", layers.attention[0], initial);
  EXPECT_GT(std::abs(first.advance_to(1.).covariance(0, 0) - state.covariance(0, 0)), 0.05);

  // A restore at a boundary continues in the next layer.
  reference::GaussianReference resumed("softmax", layers, initial);
  resumed.restore(snapshot_at_boundary);
  EXPECT_EQ(resumed.layer(), 1u);
  for (int k = 31; k <= 100; ++k)
    resumed.advance_to(0.01 * k);
  EXPECT_EQ(resumed.state().covariance(0, 0), layered.state().covariance(0, 0));
}

TEST(Layers, Softmax1DMatchesTheLayerByLayerOde)
{
  // Three layers of 0.3 (collapse, spread, faster collapse), the last holds to t = 1.
  const std::vector<std::string> layers = {"Layers/count=3", "Layers/duration=0.3", "Attention/V=-1 | 0.6 | -2",
                                           "Attention/beta=1 | 0.5 | 1.5", "Attention/K=1 | 1 | 0.8"};
  const auto run = run_layered(collapse_1d, 1, layers, {});
  std::printf("1D softmax, 3 layers: worst relative moment error %.2e; the layers change cov by %.2f\n", run.error,
              run.weights_do);
  EXPECT_GT(run.weights_do, 0.05) << "the layers must matter";
  EXPECT_LE(run.error, 1e-6);
}

TEST(Layers, Softmax2DMatchesTheLayerByLayerOde)
{
  const auto run = run_layered(
    gaussian_2d, 2,
    resolved_gaussian_2d({"Layers/count=3", "Layers/duration=0.2", "Attention/V=-1, 0; 0, -1 | 0.5, 0.3; -0.3, 0.5 | -0.4, 0.6; -0.6, -0.4",
                 "Attention/Q=1, 0; 0, 1 | 1, 0.5; 0, 1 | 1, 0; 0, 1", "Attention/beta=1 | 1 | 0.5"}),
    resolved_gaussian_2d({}));
  std::printf("2D softmax, 3 layers: worst relative moment error %.2e; the layers change cov by %.2f\n", run.error,
              run.weights_do);
  EXPECT_GT(run.weights_do, 0.05);
  EXPECT_LE(run.error, 1e-5);
}

TEST(Layers, Multihead2DMatchesTheLayerByLayerOde)
{
  // Two heads (VariantDynamics.TwoHeadsIn2D) in the first layer, their output matrices swapped and scaled in
  // the second: heads separated by '|', layers by '||'.
  const std::string heads = "Attention/heads=2";
  const std::string q     = "Attention/head Q=-0.26, 0.51 | -0.23, -0.32";
  const std::string k     = "Attention/head K=-0.93, -0.21 | 1.11, 0.42";
  const std::string c1    = "-1.04, -0.25; -0.39, -0.19 | 1.67, -0.86; -0.51, -0.50";
  const std::string c2    = "-0.6, 0.2; -0.2, -0.6 | 0.3, 0; 0, 0.3";
  const auto        run   = run_layered(
    gaussian_2d, 2,
    resolved_gaussian_2d({"Attention/type=multihead", heads, q, k, "Attention/head C=" + c1 + " || " + c2,
                 "Attention/head beta=1 || 1.5", "Layers/count=2", "Layers/duration=0.25"}),
    resolved_gaussian_2d({"Attention/type=multihead", heads, q, k, "Attention/head C=" + c1}));
  std::printf("2D multihead, 2 layers: worst relative moment error %.2e; the layers change cov by %.2f\n",
              run.error, run.weights_do);
  EXPECT_GT(run.weights_do, 0.05);
  EXPECT_LE(run.error, 1e-5);
}

namespace
{
  const std::string four_layers = " --set Layers/count=4 --set Layers/duration=0.13"
                                  " --set 'Attention/V=-1 | 0.5 | -2 | -0.5' --set 'Attention/beta=1 | 0.3 | 1 | 2'"
                                  " --set 'Output/interval=0.1' --set 'Output/write vtu=false'";
} // namespace

TEST(Layers, NoGridStepStraddlesABoundary)
{
  const auto dir    = scratch_directory("layers-grid-steps");
  const auto result = run_tpde("run " + source_path(collapse_1d) + " --quiet --set Output/directory=" + dir +
                               " --set 'Mesh/global refinements=2'" + four_layers);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Table table = read_csv(dir + "/statistics.csv");
  expect_steps_land_on(table.columns.at("time"), {0.13, 0.26, 0.39});
  EXPECT_NEAR(table.columns.at("time").back(), 1., 1e-14);
}

TEST(Layers, NoParticleStepStraddlesABoundaryAndTheTokensFollowTheLayers)
{
  const auto dir    = scratch_directory("layers-particle-steps");
  const auto result = run_tpde("particles " + source_path(collapse_1d) + " --quiet --set Output/directory=" + dir +
                               " --set 'Particles/number of tokens=4000' --set Particles/sampling=quasi-random"
                               " --set 'Particles/time step=0.05'" + four_layers);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Table table = read_csv(dir + "/particles/statistics.csv");
  expect_steps_land_on(table.columns.at("time"), {0.13, 0.26, 0.39});
  // Quasi-random tokens carry the Gaussian's moments to ~1e-4 (ParticleRun.T1FilesAndExactGaussian): a token run
  // that missed a layer switch would be off by far more.
  EXPECT_LT(table.columns.at("err_mean").back(), 2e-3);
  EXPECT_LT(table.columns.at("err_cov").back(), 2e-3);
}
