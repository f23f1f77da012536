// tpde particles on the circle (Mesh/domain = sphere, d = 2), T12 of
// physics.md §4.4 (beta = 0, wrapped Cauchy start, circle-kuramoto.prm):
//  * the statistics carry the grid's circle columns; the tokens stay in
//    [0, 2 pi); energy = |m|^2 / 2 (beta = 0), and the energy identity
//    d energy / dt = energy_rate holds along the run (central differences);
//    |m(t)| follows the exact wrapped Cauchy r(t) within the sampling error;
//  * the .vtp points lie on the ring with a theta array and tangent velocities;
//  * imported tokens (x, y on the unit circle) become angles; off the circle: exit 2;
//  * the mean-field limit: the exact W1 on the circle between N i.i.d. tokens
//    and the grid solution at t = 2, averaged over seeds, decays like
//    N^-1/2: fitted slope in [-0.65, -0.35] for N = 100 ... 10^4, and
//    W1 sqrt(N) in [1, 6] at every N (measured 2.1 ... 3.0; tokens that do
//    not move, or move the wrong way, stay O(0.1) away at every N).
#include "parameters/parameters.h"
#include "postprocess/comparison.h"
#include "postprocess/vtk_reader.h"
#include "run/particle_run.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <vtkDataArray.h>
#include <vtkPointData.h>

#include <cmath>
#include <cstdio>
#include <fstream>

using namespace tpde::testing;

namespace
{
  const std::string kuramoto = "parameters/circle-kuramoto.prm";
}

TEST(CircleParticles, StatisticsOfTheKuramotoRun)
{
  const auto dir = scratch_directory("circle-particles");
  const auto grid =
    run_tpde("run " + source_path(kuramoto) + " --quiet --set Output/directory=" + dir + "/grid --set \"Output/write vtu=false\"");
  ASSERT_EQ(grid.exit_code, 0) << grid.output;
  const auto run = run_tpde("particles " + source_path(kuramoto) + " --quiet --set Output/directory=" + dir +
                            " --set \"Particles/number of tokens=3000\" --set \"Particles/time step=0.1\"");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const Table grid_table = read_csv(dir + "/grid/statistics.csv"), table = read_csv(dir + "/particles/statistics.csv");
  for (const auto &name : {"mean_0", "mean_1", "cov_00", "cov_11", "order_parameter", "energy", "energy_rate",
                           "mode_1", "mode_4", "clusters", "ref_order_parameter"})
    {
      EXPECT_EQ(grid_table.columns.count(name), 1u) << name;
      EXPECT_EQ(table.columns.count(name), 1u) << name;
    }
  const auto &t = table.columns.at("time"), &r = table.columns.at("order_parameter"),
             &e = table.columns.at("energy"), &rate = table.columns.at("energy_rate");
  const std::size_t last = table.rows() - 1;
  ASSERT_EQ(t[last], 4.);
  const double sampling = 1 / std::sqrt(3000.);
  for (std::size_t i = 0; i <= last; ++i)
    {
      EXPECT_NEAR(e[i], 0.5 * r[i] * r[i], 1e-12);
      EXPECT_NEAR(r[i], std::hypot(table.columns.at("mean_0")[i], table.columns.at("mean_1")[i]), 1e-12);
      EXPECT_NEAR(r[i], table.columns.at("ref_order_parameter")[i], 3 * sampling) << t[i];
      if (i > 0 && i < last)
        {
          EXPECT_NEAR((e[i + 1] - e[i - 1]) / (t[i + 1] - t[i - 1]), rate[i], 2e-3 * rate[i] + 1e-6) << t[i];
        }
    }
  EXPECT_NEAR(table.columns.at("ref_order_parameter")[last], 0.9185562220, 1e-9);
  EXPECT_EQ(table.columns.at("clusters")[last], 1.);
  EXPECT_EQ(table.columns.at("tokens")[last], 3000.);

  // The last .vtp: tokens on the ring, theta in [0, 2 pi), tangent velocities.
  const auto series = tpde::postprocess::read_pvd(dir + "/particles/particles.pvd");
  ASSERT_EQ(series.back().time, 4.);
  const auto    tokens   = tpde::postprocess::read_polydata(series.back().file);
  vtkDataArray *theta    = tokens->GetPointData()->GetArray("theta");
  vtkDataArray *velocity = tokens->GetPointData()->GetArray("velocity");
  ASSERT_NE(theta, nullptr);
  ASSERT_EQ(theta->GetNumberOfTuples(), 3000);
  for (vtkIdType i = 0; i < tokens->GetNumberOfPoints(); ++i)
    {
      double x[3], v[3];
      tokens->GetPoint(i, x);
      velocity->GetTuple(i, v);
      const double angle = theta->GetComponent(i, 0);
      ASSERT_TRUE(angle >= 0 && angle < 2 * M_PI) << angle;
      EXPECT_NEAR(x[0], std::cos(angle), 1e-15);
      EXPECT_NEAR(x[1], std::sin(angle), 1e-15);
      EXPECT_EQ(x[2], 0.);
      EXPECT_NEAR(x[0] * v[0] + x[1] * v[1], 0., 1e-15); // tangent
    }
}

TEST(CircleParticles, W1ToTheGridDecaysLikeInverseSquareRootOfN)
{
  const auto dir    = scratch_directory("circle-particles-mean-field");
  const auto prm    = source_path(kuramoto);
  const auto result = run_tpde("run " + prm + " --quiet --set Output/directory=" + dir +
                               " --set Output/interval=0 --set \"Time stepping/end time=2\"");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto series = tpde::postprocess::read_pvd(dir + "/solution.pvd");
  ASSERT_EQ(series.back().time, 2.);
  const auto                           chart = tpde::postprocess::circle_chart_grid(tpde::postprocess::read_grid(series.back().file));
  const tpde::postprocess::MeshDensity density(chart, 1);

  const struct
  {
    unsigned long n;
    unsigned int  seeds;
  } levels[] = {{100, 32}, {316, 16}, {1000, 8}, {3162, 3}, {10000, 2}};
  std::vector<double> sizes, distances;
  for (const auto &level : levels)
    {
      double sum = 0;
      for (unsigned int seed = 1; seed <= level.seeds; ++seed)
        {
          const auto parameters = tpde::read_parameters(
            prm, {"Particles/number of tokens=" + std::to_string(level.n), "Particles/seed=" + std::to_string(seed),
                  "Particles/sampling=random", "Particles/time step=0.25", "Output/interval=0",
                  "Time stepping/end time=2"});
          tpde::RunOptions options;
          options.quiet        = true;
          options.write_output = false;
          const auto summary   = tpde::run_particles(parameters, options);
          ASSERT_EQ(summary.time, 2.);
          ASSERT_EQ(summary.positions.size(), level.n); // angles
          sum += density.w1_circle_to_tokens(summary.positions);
        }
      const double w1 = sum / level.seeds;
      std::printf("N = %6lu  seeds %2u  mean W1 on the circle = %.4e  (W1 sqrt(N) = %.3f)\n", level.n, level.seeds,
                  w1, w1 * std::sqrt(double(level.n)));
      EXPECT_GT(w1 * std::sqrt(double(level.n)), 1.) << level.n;
      EXPECT_LT(w1 * std::sqrt(double(level.n)), 6.) << level.n;
      sizes.push_back(double(level.n));
      distances.push_back(w1);
    }
  const double slope = log_log_slope(sizes, distances);
  std::printf("fitted slope of log W1 against log N: %.3f\n", slope);
  EXPECT_GE(slope, -0.65);
  EXPECT_LE(slope, -0.35);
}

TEST(CircleParticles, ImportsTokensOnTheCircle)
{
  const auto dir = scratch_directory("circle-particles-import");
  {
    std::ofstream csv(dir + "/tokens.csv");
    csv.precision(17);
    csv << "time,x,y\n";
    for (const double t : {0., 0.5})
      for (const double theta : {0.1, 0.2 + t, 6.2})
        csv << t << "," << std::cos(theta) << "," << std::sin(theta) << "\n";
  }
  const auto run = run_tpde("particles " + source_path(kuramoto) + " --quiet --set Output/directory=" + dir +
                            " --set \"Particles/import file=" + dir + "/tokens.csv\"");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const Table table = read_csv(dir + "/particles/statistics.csv");
  ASSERT_EQ(table.rows(), 2u);
  for (std::size_t row = 0; row < 2; ++row)
    {
      const double t = 0.5 * row;
      double       m[2] = {0, 0};
      for (const double theta : {0.1, 0.2 + t, 6.2})
        m[0] += std::cos(theta) / 3, m[1] += std::sin(theta) / 3;
      EXPECT_NEAR(table.columns.at("order_parameter")[row], std::hypot(m[0], m[1]), 1e-12);
      EXPECT_NEAR(table.columns.at("mean_1")[row], m[1], 1e-12);
    }
  const auto    series = tpde::postprocess::read_pvd(dir + "/particles/particles.pvd");
  const auto    tokens = tpde::postprocess::read_polydata(series.back().file);
  vtkDataArray *theta  = tokens->GetPointData()->GetArray("theta");
  ASSERT_NE(theta, nullptr);
  EXPECT_NEAR(theta->GetComponent(2, 0), 6.2, 1e-12);

  std::ofstream(dir + "/off.csv") << "x,y\n1,0\n0.5,0.5\n";
  const auto off = run_tpde("particles " + source_path(kuramoto) + " --quiet --overwrite --set Output/directory=" +
                            dir + " --set \"Particles/import file=" + dir + "/off.csv\"");
  EXPECT_EQ(off.exit_code, 2) << off.output;
  EXPECT_NE(off.output.find("off the unit circle"), std::string::npos) << off.output;
}
