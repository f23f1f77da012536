// tpde particles on S^2 (Mesh/domain = sphere, dimension = 3), against the
// grid's S^2 runs and exact solutions (physics.md §4.1, §4.4):
//  * the T14 run (sphere-poisson.prm, beta = 0): the statistics carry the
//    grid's S^2 columns with the same meaning; energy = |m|^2 / 2; the energy
//    identity d energy/dt = energy_rate along the run; |m(t)| follows the
//    exact Poisson-kernel |m(t)| within the sampling error; the tokens of the
//    .vtp lie on the sphere to 1e-14 with tangent velocities; tpde-compare
//    gives the sliced W2 against the grid at every shared time, and 0 against
//    the particle run itself;
//  * the time integrator: one token under softmax attention with V = Omega
//    (a rotation generator) moves by X(x) = P_x^perp(Omega x) = Omega x, a
//    rotation about z, exactly known: the error halves like dt^4 (RK4) and
//    dt^3 (SSP-RK3) through the retraction, and |x| = 1 to 1e-14 after every
//    step; interacting tokens (beta = 2, V = I) show the same orders by
//    self-convergence;
//  * the mean-field limit: the ambient mean of N i.i.d. tokens at t = 1
//    against the grid's (SA and USA, beta = 1, the Poisson start of T14;
//    the grid's mean is converged to 1e-8 there): the RMS error over seeds
//    times sqrt(N) stays in [0.5, 4] for N = 10^3, 10^3.5, 10^4 and its
//    fitted slope against N lies in [-0.8, -0.2] (few seeds per N: the
//    RMS itself is uncertain by about 25% at N = 10^4);
//  * layers: one token stays under V = I, then rotates exactly under V = Omega;
//  * imported tokens: within 1e-6 of the sphere accepted (and projected),
//    off it an input error naming the file and line.
#include "parameters/parameters.h"
#include "particles/particle_system.h"
#include "postprocess/vtk_reader.h"
#include "run/domain_setup.h"
#include "run/particle_run.h"
#include "support/solver_runs.h"

#include <gtest/gtest.h>

#include <vtkDataArray.h>
#include <vtkPointData.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  const std::string poisson = "parameters/sphere-poisson.prm";

  ParticleRunSummary particles_in_memory(const std::vector<std::string> &overrides)
  {
    RunOptions options;
    options.quiet        = true;
    options.write_output = false;
    return run_particles(read_parameters(source_path(poisson), overrides), options);
  }

  /// The largest ||x_i| - 1| of N x 3 points.
  double sphere_defect(const std::vector<double> &x)
  {
    double worst = 0;
    for (std::size_t i = 0; i + 2 < x.size(); i += 3)
      worst = std::max(worst, std::abs(std::sqrt(x[i] * x[i] + x[i + 1] * x[i + 1] + x[i + 2] * x[i + 2]) - 1));
    return worst;
  }

  double distance(const std::vector<double> &a, const std::vector<double> &b)
  {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
      worst = std::max(worst, std::abs(a[i] - b[i]));
    return worst;
  }

  /// `steps` equal steps to `end`; checks the sphere after every step.
  std::vector<double> integrate(const Parameters &p, const std::vector<double> &start, double end, int steps,
                                particles::Integrator integrator)
  {
    const auto                kernel = create_kernel(p);
    particles::ParticleSystem system(*kernel, start);
    system.set_sphere_retraction();
    for (int k = 0; k < steps; ++k)
      {
        system.step(end / steps, integrator);
        EXPECT_LE(sphere_defect(system.positions()), 1e-14) << "step " << k;
      }
    return system.positions();
  }
} // namespace

TEST(SphereParticles, T14StatisticsVtpAndCompare)
{
  const auto dir  = scratch_directory("sphere-particles");
  const auto grid = run_tpde("run " + source_path(poisson) + " --quiet --set Output/directory=" + dir + "/grid");
  ASSERT_EQ(grid.exit_code, 0) << grid.output;
  const unsigned long n   = 2000;
  const auto          run = run_tpde("particles " + source_path(poisson) + " --quiet --set Output/directory=" + dir +
                                     " --set \"Particles/number of tokens=" + std::to_string(n) +
                                     "\" --set \"Particles/time step=0.05\"");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const Table grid_table = read_csv(dir + "/grid/statistics.csv"), table = read_csv(dir + "/particles/statistics.csv");
  for (const auto &name : {"mean_0", "mean_2", "cov_00", "cov_22", "max_speed", "order_parameter", "energy",
                           "energy_rate", "mode_1", "mode_4", "clusters", "ref_order_parameter"})
    {
      EXPECT_EQ(grid_table.columns.count(name), 1u) << name;
      EXPECT_EQ(table.columns.count(name), 1u) << name;
    }
  const auto &t = table.columns.at("time"), &m = table.columns.at("order_parameter"),
             &e = table.columns.at("energy"), &rate = table.columns.at("energy_rate");
  const std::size_t last = table.rows() - 1;
  ASSERT_EQ(t[last], 1.);
  for (std::size_t i = 0; i <= last; ++i)
    {
      const double mean[3] = {table.columns.at("mean_0")[i], table.columns.at("mean_1")[i],
                              table.columns.at("mean_2")[i]};
      EXPECT_NEAR(m[i], std::sqrt(mean[0] * mean[0] + mean[1] * mean[1] + mean[2] * mean[2]), 1e-14);
      EXPECT_NEAR(e[i], 0.5 * m[i] * m[i], 1e-14) << "beta = 0: the energy is |m|^2 / 2";
      EXPECT_NEAR(table.columns.at("mode_1")[i], m[i], 1e-13) << "degree 1 is the mean";
      EXPECT_NEAR(m[i], table.columns.at("ref_order_parameter")[i], 3 / std::sqrt(double(n))) << t[i];
      if (i > 0 && i < last)
        {
          EXPECT_NEAR((e[i + 1] - e[i - 1]) / (t[i + 1] - t[i - 1]), rate[i], 2e-3 * rate[i]) << t[i];
        }
    }
  std::printf("T14 particles (N = %lu) at t = 1: |m| = %.6f, exact %.6f, grid %.6f\n", n, m[last],
              table.columns.at("ref_order_parameter")[last], grid_table.columns.at("order_parameter").back());

  const auto series = postprocess::read_pvd(dir + "/particles/particles.pvd");
  ASSERT_EQ(series.back().time, 1.);
  const auto    tokens   = postprocess::read_polydata(series.back().file);
  vtkDataArray *velocity = tokens->GetPointData()->GetArray("velocity");
  ASSERT_EQ(tokens->GetNumberOfPoints(), vtkIdType(n));
  for (vtkIdType i = 0; i < tokens->GetNumberOfPoints(); ++i)
    {
      double x[3], v[3];
      tokens->GetPoint(i, x);
      velocity->GetTuple(i, v);
      EXPECT_LE(std::abs(std::sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]) - 1), 1e-14);
      EXPECT_LE(std::abs(x[0] * v[0] + x[1] * v[1] + x[2] * v[2]), 1e-15) << "tangent";
    }

  const std::string tool    = (std::filesystem::path(TPDE_EXECUTABLE).parent_path() / "tpde-compare").string();
  const auto        compare = run_command(tool + " " + dir + "/grid/solution.pvd " + dir +
                                          "/particles/particles.pvd --no-plot --output " + dir + "/compare.csv");
  ASSERT_EQ(compare.exit_code, 0) << compare.output;
  EXPECT_NE(compare.output.find("on S^2"), std::string::npos) << compare.output;
  const Table distances = read_csv(dir + "/compare.csv");
  ASSERT_EQ(distances.rows(), 5u); // t = 0, 0.25, ..., 1
  for (std::size_t i = 0; i < distances.rows(); ++i)
    {
      const double sw2 = distances.columns.at("sliced_w2")[i];
      std::printf("t = %.2f: sliced W2 grid - particles %.4e (sqrt(N) SW2 = %.2f), max mean diff %.2e\n",
                  distances.columns.at("time")[i], sw2, sw2 * std::sqrt(double(n)),
                  distances.columns.at("max_mean_diff")[i]);
      EXPECT_GT(sw2, 0.);
      EXPECT_LT(sw2 * std::sqrt(double(n)), 3.) << "sampling scale";
      EXPECT_LT(distances.columns.at("max_mean_diff")[i], 4 / std::sqrt(double(n)));
      EXPECT_NEAR(distances.columns.at("reference_mass")[i], 1., 1e-4);
    }
  EXPECT_EQ(distances.columns.count("l1_histogram"), 0u);
  // The grid's moments as tpde-compare reads them from the surface (atoms at x / |x|): at t = 0 the exact
  // mean of the Poisson kernel, m3(0.2) e_z, and the grid's own covariance.
  EXPECT_NEAR(table.columns.at("mean_2")[0] - distances.columns.at("mean_diff_2")[0], 0.2645209773, 1e-7);
  EXPECT_NEAR(table.columns.at("cov_22")[0] - distances.columns.at("cov_diff_22")[0],
              grid_table.columns.at("cov_22")[0], 1e-7);
  const auto self = run_command(tool + " " + dir + "/particles/particles.pvd " + dir +
                                "/particles/particles.pvd --no-plot --dimension 3 --output " + dir + "/self.csv");
  ASSERT_EQ(self.exit_code, 0) << self.output;
  const Table same = read_csv(dir + "/self.csv");
  ASSERT_EQ(same.rows(), 5u);
  for (const double d : same.columns.at("sliced_w2"))
    EXPECT_EQ(d, 0.) << "identical data";
}

TEST(SphereParticles, RetractedRungeKuttaKeepsItsOrderOnARotation)
{
  // One token, softmax (its weight is 1 at any beta), V = Omega: X(x) = Omega x - <x, Omega x> x = Omega x.
  const auto   p    = read_parameters(source_path(poisson), {"Attention/beta=1", "Attention/V=0, -1, 0; 1, 0, 0; 0, 0, 0"});
  const double x0[3] = {0.6, 0., 0.8}, end = 3;
  const std::vector<double> exact = {0.6 * std::cos(end), 0.6 * std::sin(end), 0.8};
  const struct
  {
    particles::Integrator integrator;
    double                order;
  } schemes[] = {{particles::Integrator::rk4, 4}, {particles::Integrator::ssp_rk3, 3}};
  for (const auto &scheme : schemes)
    {
      double previous = 0;
      for (const int steps : {15, 30, 60, 120})
        {
          const double error = distance(integrate(p, {x0[0], x0[1], x0[2]}, end, steps, scheme.integrator), exact);
          if (previous > 0)
            {
              const double order = std::log2(previous / error);
              std::printf("rotation, order %g scheme: %3d steps, error %.3e, observed order %.3f\n", scheme.order,
                          steps, error, order);
              EXPECT_NEAR(order, scheme.order, 0.15) << steps;
            }
          previous = error;
        }
    }
}

TEST(SphereParticles, LayersSwitchTheSurfaceKernel)
{
  // Two layers of 0.5, one token under softmax: V = I gives X = P_x^perp x = 0 (it stays), then V = Omega
  // rotates it about z by the remaining 0.5.
  const std::vector<std::string> overrides = {
    "Layers/count=2", "Layers/duration=0.5", "Attention/V=1, 0, 0; 0, 1, 0; 0, 0, 1 | 0, -1, 0; 1, 0, 0; 0, 0, 0",
    "Particles/number of tokens=1", "Particles/time step=0.01"};
  const auto start = sample_initial_tokens(read_parameters(source_path(poisson), overrides));
  const auto s     = particles_in_memory(overrides);
  ASSERT_EQ(s.time, 1.);
  const std::vector<double> exact = {std::cos(0.5) * start[0] - std::sin(0.5) * start[1],
                                     std::sin(0.5) * start[0] + std::cos(0.5) * start[1], start[2]};
  std::printf("two layers: error %.2e after the rotation by 0.5\n", distance(s.positions, exact));
  EXPECT_LE(distance(s.positions, exact), 1e-10);
  EXPECT_LE(sphere_defect(s.positions), 1e-14);
}

TEST(SphereParticles, InteractingTokensConvergeWithTheSchemesOrder)
{
  // 32 tokens from a von Mises-Fisher mixture, SA at beta = 2 (clustering), t in [0, 1]: differences to a
  // run with 1280 steps.
  const auto p = read_parameters(
    source_path(poisson), {"Attention/beta=2", "Initial condition/type=von mises",
                           "Initial condition/von mises weights=0.5,0.5",
                           "Initial condition/von mises directions=1,0,0;0,0.6,0.8",
                           "Initial condition/von mises concentrations=2,3", "Particles/number of tokens=32"});
  const auto start     = sample_initial_tokens(p);
  const auto reference = integrate(p, start, 1., 1280, particles::Integrator::rk4);
  for (const auto &[integrator, order] : {std::pair{particles::Integrator::rk4, 4.}, {particles::Integrator::ssp_rk3, 3.}})
    {
      const double coarse = distance(integrate(p, start, 1., 20, integrator), reference);
      const double fine   = distance(integrate(p, start, 1., 40, integrator), reference);
      std::printf("32 tokens, SA beta = 2: errors %.3e (20 steps), %.3e (40 steps), observed order %.3f (scheme %g)\n",
                  coarse, fine, std::log2(coarse / fine), order);
      EXPECT_NEAR(std::log2(coarse / fine), order, 0.3);
    }
}

namespace
{
  /// The N^-1/2 law of the ambient mean at t = 1 for one attention type (beta = 1, the T14 start).
  void means_approach_the_grid(const std::string &type)
  {
    const struct
    {
      unsigned long n;
      unsigned int  seeds;
    } levels[] = {{1000, 8}, {3162, 4}, {10000, 2}};
    // 96 cells Q2: the grid's mean at t = 1 agrees with 384 cells to 1.5e-8.
    const std::vector<std::string> physics = {"Attention/type=" + type, "Attention/beta=1"};
    auto                           grid_overrides = physics;
    grid_overrides.push_back("Mesh/global refinements=2");
    const RunSummary grid = run_without_output(parameters_from(poisson, grid_overrides));
    double           grid_mean[3];
    for (int c = 0; c < 3; ++c)
      grid_mean[c] = column(grid.header, grid.last_row, "mean_" + std::to_string(c));
    std::vector<double> sizes, errors;
    for (const auto &level : levels)
      {
        double squares = 0;
        for (unsigned int seed = 1; seed <= level.seeds; ++seed)
          {
            auto overrides = physics;
            overrides.insert(overrides.end(), {"Particles/number of tokens=" + std::to_string(level.n),
                                               "Particles/seed=" + std::to_string(seed), "Particles/time step=0.25"});
            const auto s = particles_in_memory(overrides);
            ASSERT_EQ(s.time, 1.);
            for (int c = 0; c < 3; ++c)
              {
                const double gap = column(s.header, s.last_row, "mean_" + std::to_string(c)) - grid_mean[c];
                squares += gap * gap / level.seeds;
              }
          }
        const double rms = std::sqrt(squares);
        std::printf("%-12s beta = 1, N = %5lu (%u seeds): RMS |mean - grid mean| = %.3e, times sqrt(N) = %.3f\n",
                    type.c_str(), level.n, level.seeds, rms, rms * std::sqrt(double(level.n)));
        EXPECT_GT(rms * std::sqrt(double(level.n)), 0.5) << level.n;
        EXPECT_LT(rms * std::sqrt(double(level.n)), 4.) << level.n;
        sizes.push_back(double(level.n));
        errors.push_back(rms);
      }
    const double slope = log_log_slope(sizes, errors);
    std::printf("%-12s fitted slope of log RMS against log N: %.3f\n", type.c_str(), slope);
    EXPECT_GE(slope, -0.8);
    EXPECT_LE(slope, -0.2);
  }
} // namespace

TEST(SphereParticles, SoftmaxMeansApproachTheGridLikeInverseSquareRootOfN)
{
  means_approach_the_grid("softmax");
}

TEST(SphereParticles, UnnormalizedMeansApproachTheGridLikeInverseSquareRootOfN)
{
  means_approach_the_grid("unnormalized");
}

TEST(SphereParticles, ImportsTokensOnTheSphereAndRefusesOthers)
{
  const auto dir = scratch_directory("sphere-particles-import");
  {
    std::ofstream csv(dir + "/tokens.csv");
    csv.precision(17);
    csv << "time,x,y,z\n";
    for (const double t : {0., 0.5})
      {
        csv << t << ",0,0," << 1 + 5e-7 << "\n"; // within 1e-6: accepted, projected
        csv << t << "," << std::cos(t) << "," << std::sin(t) << ",0\n";
        csv << t << ",0,-0.6,0.8\n";
      }
  }
  const auto run = run_tpde("particles " + source_path(poisson) + " --quiet --set Output/directory=" + dir +
                            " --set \"Particles/import file=" + dir + "/tokens.csv\"");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const Table table = read_csv(dir + "/particles/statistics.csv");
  ASSERT_EQ(table.rows(), 2u);
  for (std::size_t row = 0; row < 2; ++row)
    {
      const double t    = 0.5 * row;
      const double m[3] = {std::cos(t) / 3, (std::sin(t) - 0.6) / 3, 1.8 / 3};
      EXPECT_NEAR(table.columns.at("order_parameter")[row], std::sqrt(m[0] * m[0] + m[1] * m[1] + m[2] * m[2]), 1e-14);
      EXPECT_NEAR(table.columns.at("mean_2")[row], m[2], 1e-14);
    }

  std::ofstream(dir + "/off.csv") << "x,y,z\n0,0,1\n\n0.5,0.5,0.5\n";
  const auto off = run_tpde("particles " + source_path(poisson) + " --quiet --overwrite --set Output/directory=" + dir +
                            " --set \"Particles/import file=" + dir + "/off.csv\"");
  EXPECT_EQ(off.exit_code, 2) << off.output;
  EXPECT_NE(off.output.find("off.csv:4: the token lies off the unit sphere"), std::string::npos) << off.output;
  EXPECT_EQ(std::count(off.output.begin(), off.output.end(), '\n'), 1) << off.output;
}
