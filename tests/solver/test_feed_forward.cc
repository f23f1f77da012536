// Feed-forward blocks (subsection Feed-forward, issue 15): an affine block
// keeps Gaussians Gaussian, so the grid's moments must follow the moment ODE
// with the block's rates (composition sum and split, 1D and 2D, within the
// tolerances of test_layers.cc); a zero block changes no bit; an MLP block
// (tanh, relu) has no reference, so the grid is compared with the particle
// solver, whose moments must agree within the N^-1/2 law of i.i.d. tokens
// (N = 1e4 and 1e5). Mass is exact to round-off in every grid run.
#include "attention/layers.h"
#include "run/particle_run.h"
#include "support/solver_runs.h"
#include "support/step_checks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  const std::string collapse_1d = "parameters/gaussian-1d-collapse.prm";
  const std::string gaussian_2d = "parameters/gaussian-2d-isotropize.prm";

  /// The worst relative moment error against the reference, and how far the
  /// block moved the reference's cov_00 (relative) from the run without it.
  std::pair<double, double> affine_run(const std::string &prm, unsigned int dim, std::vector<std::string> block,
                                       const std::vector<std::string> &without)
  {
    const RunSummary with  = run_without_output(parameters_from(prm, block));
    const RunSummary plain = run_without_output(parameters_from(prm, without));
    EXPECT_LE(with.max_mass_defect, 1e-12);
    const double ref = column(with.header, with.last_row, "ref_cov_00");
    return {relative_moment_error(with, dim), std::abs(ref - column(plain.header, plain.last_row, "ref_cov_00")) / ref};
  }
} // namespace

TEST(FeedForward, FieldsAtAPointAndTheirComposition)
{
  // One hidden unit: z = W1 x + b1 = 0.3 + 0.8 + 0.5 = 1.6 at x = (0.3, 0.4); F = (2 act(z) + 0.1, -act(z)).
  attention::FeedForward mlp;
  mlp.type = attention::FeedForward::Type::mlp;
  mlp.W1   = Matrix::parse("1, 2");
  mlp.b1   = {0.5};
  mlp.W2   = Matrix::parse("2; -1");
  mlp.b2   = {0.1, 0};
  const double x[2] = {0.3, 0.4};
  using Activation  = attention::FeedForward::Activation;
  for (const auto &[activation, value] : {std::pair{Activation::tanh, 0.92166855440647133},
                                          std::pair{Activation::relu, 1.6},
                                          std::pair{Activation::gelu, 1.6 * 0.94520070830044201}})
    {
      mlp.activation = activation;
      double v[2]    = {1, 1}; // add() accumulates
      mlp.add(1, 2, x, 0.5, v);
      EXPECT_NEAR(v[0], 1 + 0.5 * (2 * value + 0.1), 1e-14);
      EXPECT_NEAR(v[1], 1 - 0.5 * value, 1e-14);
    }

  // The composition in LayeredKernel: sum s (X + F); split 2 s X, then 2 s F (no attention).
  attention::Parameters p;
  p.dim = 2;
  p.Q = p.K = p.V = Matrix::identity(2);
  attention::FeedForward affine;
  affine.type           = attention::FeedForward::Type::affine;
  affine.A              = Matrix::parse("0, -1; 1, 0.5");
  affine.b              = {0.2, -0.1};
  affine.residual_scale = 0.7;
  const double sources[4] = {0, 0, 1, -1}, weights[2] = {0.5, 0.5};
  double       X[2], F[2] = {0, 0};
  attention::create("softmax", p)->evaluate(1, x, 2, sources, weights, X);
  affine.add(1, 2, x, 1., F);
  const auto velocity = [&](attention::Composition composition, unsigned int phase) {
    std::vector<std::unique_ptr<attention::Kernel>> kernels;
    kernels.push_back(attention::create("softmax", p));
    attention::LayeredKernel kernel(std::move(kernels), {{affine}, composition});
    kernel.select(0, phase);
    std::vector<double> v(2);
    kernel.evaluate(1, x, 2, sources, weights, v.data());
    return v;
  };
  const auto sum = velocity(attention::Composition::sum, 0), first = velocity(attention::Composition::split, 0),
             second = velocity(attention::Composition::split, 1);
  for (unsigned int c = 0; c < 2; ++c)
    {
      EXPECT_NEAR(sum[c], 0.7 * (X[c] + F[c]), 1e-15);
      EXPECT_NEAR(first[c], 1.4 * X[c], 1e-15);
      EXPECT_NEAR(second[c], 1.4 * F[c], 1e-15);
    }
}

TEST(FeedForward, SplitHalvesEveryLayerAndRepeatsTheLast)
{
  attention::LayerTimes times;
  times.count    = 2;
  times.duration = 0.25;
  times.phases   = 2;
  const auto boundaries = times.boundaries(1.);
  ASSERT_EQ(boundaries.size(), 7u) << "every multiple of tau / 2 before the end, also past count tau";
  for (std::size_t k = 0; k < boundaries.size(); ++k)
    EXPECT_NEAR(boundaries[k], 0.125 * double(k + 1), 1e-15);
  const struct
  {
    double       t;
    unsigned int layer, phase;
  } expected[] = {{0, 0, 0}, {0.1, 0, 0}, {0.125 * (1 - 1e-13), 0, 1}, {0.2, 0, 1}, {0.25, 1, 0},
                  {0.4, 1, 1}, {0.6, 1, 0}, {0.7, 1, 1}};
  for (const auto &e : expected)
    {
      EXPECT_EQ(times.position_at(e.t).layer, e.layer) << "t = " << e.t;
      EXPECT_EQ(times.position_at(e.t).phase, e.phase) << "t = " << e.t;
    }
  EXPECT_NEAR(times.next_boundary(0.125 * (1 - 1e-13)), 0.25, 1e-15) << "a boundary reached by round-off is passed";
}

TEST(FeedForward, NoGridOrParticleStepStraddlesAHalfLayer)
{
  // split, two layers of 0.25 to t = 0.6: the halves 0.125, 0.25, 0.375 and, the last layer repeating, 0.5.
  const auto        dir = scratch_directory("feed-forward-steps");
  const std::string set = " --quiet --set Output/directory=" + dir +
                          " --set 'Mesh/global refinements=2' --set 'Time stepping/end time=0.6'"
                          " --set Layers/count=2 --set Layers/duration=0.25 --set Feed-forward/type=affine"
                          " --set 'Feed-forward/A=0.4 | 0.2' --set Feed-forward/composition=split"
                          " --set 'Output/interval=0.2' --set 'Output/write vtu=false'"
                          " --set 'Particles/number of tokens=1000' --set 'Particles/time step=0.05'";
  for (const std::string mode : {"run", "particles"})
    {
      const auto result = run_tpde(mode + " " + source_path(collapse_1d) + set);
      ASSERT_EQ(result.exit_code, 0) << result.output;
      const Table table = read_csv(dir + (mode == "run" ? "" : "/particles") + "/statistics.csv");
      SCOPED_TRACE(mode);
      expect_steps_land_on(table.columns.at("time"), {0.125, 0.25, 0.375, 0.5});
    }
}

TEST(FeedForward, ZeroBlockChangesNoBit)
{
  const RunSummary plain = run_without_output(parameters_from(collapse_1d, {"Time stepping/end time=0.2"}));
  const RunSummary zero  = run_without_output(parameters_from(
    collapse_1d, {"Time stepping/end time=0.2", "Feed-forward/type=affine", "Feed-forward/A=0", "Feed-forward/b=0"}));
  ASSERT_EQ(plain.header, zero.header) << "an affine block keeps the reference columns";
  ASSERT_EQ(plain.last_row.size(), zero.last_row.size());
  for (const char *name : {"mass", "mean_0", "cov_00", "ref_mean_0", "ref_cov_00", "err_l2"})
    EXPECT_EQ(column(plain.header, plain.last_row, name), column(zero.header, zero.last_row, name)) << name;
  EXPECT_EQ(plain.steps, zero.steps);
}

TEST(FeedForward, Affine1DMatchesTheMomentOde)
{
  // Collapse (V = -1) against a spreading, drifting block; sum, then split over two layers of 0.25 whose halves
  // repeat to t = 1 (the steps land on every multiple of 0.125).
  const std::vector<std::string> block = {"Feed-forward/type=affine", "Feed-forward/A=0.4 | 0.2",
                                          "Feed-forward/b=0.3 | -0.2", "Feed-forward/residual scale=1 | 1.5",
                                          "Layers/count=2", "Layers/duration=0.25"};
  for (const char *composition : {"sum", "split"})
    {
      auto overrides = block;
      overrides.push_back(std::string("Feed-forward/composition=") + composition);
      const auto [error, moved] = affine_run(collapse_1d, 1, overrides, {});
      std::printf("1D affine block, %s: worst relative moment error %.2e; the block moves cov by %.2f\n",
                  composition, error, moved);
      EXPECT_GT(moved, 0.05) << "the block must matter";
      EXPECT_LE(error, 1e-6) << composition;
    }
}

TEST(FeedForward, Affine2DMatchesTheMomentOde)
{
  // A rotation and a drift against softmax collapse; split repeats the one layer's halves (tau = 0.2). (A
  // stronger block moves the Gaussian further over the 16 x 16 cells: 0, -1; 1, 0.4 costs 1.1e-5 in split.)
  for (const char *composition : {"sum", "split"})
    {
      const auto [error, moved] =
        affine_run(gaussian_2d, 2,
                   resolved_gaussian_2d({"Feed-forward/type=affine", "Feed-forward/A=0, -1; 1, 0", "Feed-forward/b=0.2, 0",
                                "Feed-forward/residual scale=0.8", "Layers/duration=0.2",
                                std::string("Feed-forward/composition=") + composition}),
                   resolved_gaussian_2d({}));
      std::printf("2D affine block, %s: worst relative moment error %.2e; the block moves cov by %.2f\n",
                  composition, error, moved);
      EXPECT_GT(moved, 0.05);
      EXPECT_LE(error, 1e-5) << composition;
    }
}

namespace
{
  /// 2D softmax collapse with an MLP block that splits the density along x
  /// and folds it in y (mlp-2d.prm's kind), to t = 0.5.
  std::vector<std::string> mlp_case(const std::string &activation)
  {
    std::vector<std::string> o = {"Feed-forward/type=mlp", "Feed-forward/activation=" + activation,
                                  "Attention/V=-0.5, 0; 0, -0.5", "Initial condition/mean=0.2, 0",
                                  "Initial condition/covariance=0.5, 0.1; 0.1, 0.4", "Mesh/lower corner=-5",
                                  "Mesh/upper corner=5", "Mesh/subdivisions=20", "Mesh/global refinements=0",
                                  "Discretization/degree=2", "Time stepping/end time=0.5", "Output/interval=0"};
    if (activation == "tanh")
      for (const char *e : {"Feed-forward/W1=3, 0; 0, 1", "Feed-forward/W2=1.5, 0; 0, -0.5"})
        o.push_back(e);
    else // a dead zone |x| < 0.3 and an outward push beyond, a fold of y > 0
      for (const char *e : {"Feed-forward/W1=1, 0; -1, 0; 0, 1", "Feed-forward/b1=-0.3, -0.3, 0",
                            "Feed-forward/W2=1.5, -1.5, 0; 0, 0, -0.8"})
        o.push_back(e);
    return o;
  }

  const char *moments[] = {"mean_0", "mean_1", "cov_00", "cov_01", "cov_11"};

  /// max over the moments of |particles - grid| sqrt(N) / scale, scale = sqrt of the covariance's largest entry for
  /// the means and that entry for the covariance: the error in units of the i.i.d. fluctuation.
  double fluctuation_units(const RunSummary &grid, const ParticleRunSummary &tokens, double n)
  {
    const double c     = std::max(column(grid.header, grid.last_row, "cov_00"), column(grid.header, grid.last_row, "cov_11"));
    double       worst = 0;
    for (const char *m : moments)
      {
        const double scale = m[0] == 'm' ? std::sqrt(c) : c;
        const double error =
          std::abs(column(tokens.header, tokens.last_row, m) - column(grid.header, grid.last_row, m));
        worst = std::max(worst, error * std::sqrt(n) / scale);
      }
    return worst;
  }
} // namespace

TEST(FeedForward, MlpGridAgainstParticlesWithinTheSquareRootLaw)
{
  for (const std::string activation : {"tanh", "relu"})
    {
      const auto       overrides = mlp_case(activation);
      const RunSummary grid      = run_without_output(parameters_from(gaussian_2d, overrides));
      EXPECT_LE(grid.max_mass_defect, 1e-12) << activation;
      EXPECT_EQ(std::count(grid.header.begin(), grid.header.end(), "ref_cov_00"), 0) << "no reference for mlp";
      // The block must matter: without it the moments differ by far more than the particles' fluctuation.
      auto attention_only = overrides;
      attention_only.push_back("Feed-forward/type=none");
      attention_only.erase(attention_only.begin());
      const RunSummary plain = run_without_output(parameters_from(gaussian_2d, attention_only));
      const double     cov   = column(grid.header, grid.last_row, "cov_00");
      const double     moved = std::abs(cov - column(plain.header, plain.last_row, "cov_00")) / cov;
      for (const unsigned long n : {10000ul, 100000ul})
        {
          auto parameters = parameters_from(gaussian_2d, overrides);
          parameters.particles.number_of_tokens = n;
          parameters.particles.sampling         = particles::Sampling::random;
          parameters.particles.time_step        = 0.05;
          RunOptions options;
          options.quiet        = true;
          options.write_output = false;
          const auto   tokens  = run_particles(parameters, options);
          const double units   = fluctuation_units(grid, tokens, double(n));
          std::printf("mlp %s, N = %6lu: worst moment difference to the grid %.2f i.i.d. standard deviations "
                      "(the block moves cov_00 by %.3f, relative)\n", activation.c_str(), n, units, moved);
          EXPECT_LE(units, 5.) << activation << ", N = " << n;
          // Without the block the particles would be off by this many standard deviations: the test can tell.
          EXPECT_GT(moved * std::sqrt(double(n)), 20.) << "the block must move the moments by more than 5 sigma";
        }
    }
}
