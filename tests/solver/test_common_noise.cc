// Common noise (Noise/common noise, issue 14) through the tpde executable:
//  * R^1, beta = 0, V = -1: X = V m, so the grid mean solves dm = -m dt +
//    s o dW exactly in space (DG, p >= 1, no limiter, no outflow); on the
//    piecewise-linear path it is m(t) = e^-t m0 + int e^-(t-u) s W'(u) du
//    in closed form (m0: the grid's initial mean): every statistics row within 1e-6 of it, and with the
//    steps capped at h/2^(i+1) (h = 1/8, i = 1, 2, 3) the error falls like dt^3 (SSP-RK3 on the exact
//    path ODE: observed order in [2.6, 3.4]);
//  * the circle, beta = 0 (Kuramoto) with a rotation generator of rate w:
//    the noise rotates the solution rigidly, so the order parameter equals
//    the noiseless run's and the phase is shifted by w W(t) (at the output
//    times, within 2e-6: the space-time error of the two runs);
//  * grid and particles (N = 10^4) on the same seeded path: the circle means
//    agree within 4 N^-1/2 at every output time to t = 2 (measured 3.4 N^-1/2
//    for Particles/seed = 1, 1.1 and 0.95 for seeds 2, 3; without the noise
//    2.9, 1.1, 0.76: the sampling error, grown by the Kuramoto instability);
//  * S^2, beta = 0, two rotation generators (about e_z, rate 1; about e_x,
//    rate 0.5): the solution is the noiseless one rotated by R(t), the
//    ordered product of exp(sum_k S_k dW_k) over the path intervals, so the
//    order parameter is unchanged and mean = R(t) mean_still, both within
//    1e-6 (measured 2.1e-7 at refinement level 2; r within 1.1e-8 at level 3:
//    the mesh does not rotate with the noise; a wrong order or sign of the
//    rotations is off by ~1e-2), mass to 1e-12;
//  * bad input: exit 2, one line.
#include "noise/brownian_path.h"
#include "support/input_errors.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>

using namespace tpde::testing;
using tpde::noise::BrownianPath;

namespace
{
  const std::string line_prm = R"(set dimension = 1
subsection Mesh
  set lower corner = -8
  set upper corner = 8
  set subdivisions = 32
  set global refinements = 0
end
subsection Discretization
  set degree = 2
  set positivity limiter = false
end
subsection Attention
  set type = softmax
  set beta = 0
  set V = -1
end
subsection Initial condition
  set type = gaussian
  set mean = 0.5
  set covariance = 0.6
end
subsection Time stepping
  set end time = 1
end
subsection Output
  set interval = 0.25
  set write vtu = false
end
subsection Noise
  set common noise = 0.6
  set seed = 3
  set path levels = 5
end
)";

  /// dm = -m dt + s dW on the path (linear between nodes of spacing h), exactly, at time t.
  double exact_mean(const BrownianPath &path, double s, double m, double t)
  {
    const double h = path.resolution();
    for (std::uint64_t j = 0; double(j) * h < t - 1e-12; ++j)
      {
        const double tau   = std::min(h, t - double(j) * h);
        const double slope = (path.node_value(0, j + 1) - path.node_value(0, j)) / h;
        m                  = std::exp(-tau) * m + (1 - std::exp(-tau)) * s * slope;
      }
    return m;
  }

  /// Largest |mean_0 - exact| over the rows of a run of line_prm with `extra` options.
  double line_error(const std::string &dir, unsigned int levels, const std::string &extra)
  {
    const std::string prm = write_file(dir + "/line.prm", line_prm);
    const auto        run = run_tpde("run " + prm + " --quiet --set Output/directory=" + dir +
                                         "/out --set \"Noise/path levels=" + std::to_string(levels) + "\" " + extra);
    EXPECT_EQ(run.exit_code, 0) << run.output;
    const Table        table = read_csv(dir + "/out/statistics.csv");
    const BrownianPath path(3, 1, levels);
    double             error = 0;
    for (std::size_t i = 0; i < table.rows(); ++i)
      error = std::max(error, std::abs(table.columns.at("mean_0")[i] -
                                       exact_mean(path, 0.6, table.columns.at("mean_0")[0], table.columns.at("time")[i])));
    return error;
  }

  std::size_t row_at(const Table &table, double t)
  {
    const auto &time = table.columns.at("time");
    for (std::size_t i = 0; i < time.size(); ++i)
      if (std::abs(time[i] - t) < 1e-12)
        return i;
    throw std::runtime_error("no row at t = " + std::to_string(t));
  }
} // namespace

TEST(CommonNoise, GridMeanFollowsTheExactSolutionOnThePath)
{
  const auto   dir   = scratch_directory("common-noise-line");
  const double error = line_error(dir + "/free", 5, "");
  std::printf("max |mean - exact| at the CFL step: %.3e\n", error);
  EXPECT_LT(error, 1e-6); // the SSP-RK3 error of the step (1.8e-7 without noise)
  // The step error is below the floor set by the clipped negative tails of the p = 2 Gaussian in the
  // sources (about 2e-7; 1.8e-7 without noise): steps capped at h/8 keep the same error.
  const double capped = line_error(dir + "/capped", 5, "--set \"Time stepping/maximum time step=0.00390625\"");
  std::printf("max |mean - exact| at dt <= h/8: %.3e\n", capped);
  EXPECT_LT(capped, 1e-6);
}

TEST(CommonNoise, RotationOnTheCircleShiftsThePhaseAndKeepsTheOrderParameter)
{
  const auto dir  = scratch_directory("common-noise-circle");
  const auto base = "run " + source_path("parameters/circle-kuramoto.prm") +
                    " --quiet --set \"Output/write vtu=false\" --set Output/directory=" + dir;
  ASSERT_EQ(run_tpde(base + "/still").exit_code, 0);
  const auto noisy =
    run_tpde(base + "/noisy --set \"Noise/common noise=0, -0.7; 0.7, 0\" --set Noise/seed=5");
  ASSERT_EQ(noisy.exit_code, 0) << noisy.output;
  const Table        still = read_csv(dir + "/still/statistics.csv"), table = read_csv(dir + "/noisy/statistics.csv");
  const BrownianPath path(5, 1, 8);
  double             worst_r = 0, worst_phase = 0;
  for (int k = 1; k <= 16; ++k)
    {
      const double      t = 0.25 * k;
      const std::size_t i = row_at(still, t), j = row_at(table, t);
      const auto        phase = [&](const Table &s, std::size_t row) {
        return std::atan2(s.columns.at("mean_1")[row], s.columns.at("mean_0")[row]);
      };
      worst_r = std::max(worst_r, std::abs(table.columns.at("order_parameter")[j] - still.columns.at("order_parameter")[i]));
      worst_phase = std::max(worst_phase, std::abs(std::remainder(phase(table, j) - phase(still, i) - 0.7 * path.value(0, t),
                                                                  2 * M_PI)));
    }
  std::printf("circle: max |r - r_still| %.3e, max |phase shift - 0.7 W(t)| %.3e\n", worst_r, worst_phase);
  EXPECT_LT(worst_r, 2e-6);
  EXPECT_LT(worst_phase, 2e-6);
}

TEST(CommonNoise, GridAndParticlesAgreeOnTheSamePath)
{
  const auto        dir  = scratch_directory("common-noise-particles");
  const std::string opts = " --quiet --set \"Output/write vtu=false\" --set \"Noise/common noise=0, -0.7; 0.7, 0\"" +
                           std::string(" --set Noise/seed=5 --set \"Time stepping/end time=2\" --set Output/directory=") + dir;
  const auto kuramoto = source_path("parameters/circle-kuramoto.prm");
  ASSERT_EQ(run_tpde("run " + kuramoto + opts + "/grid").exit_code, 0);
  const auto particles = run_tpde("particles " + kuramoto + opts +
                                  " --set \"Particles/number of tokens=10000\" --set \"Particles/time step=0.00390625\"");
  ASSERT_EQ(particles.exit_code, 0) << particles.output;
  const Table grid = read_csv(dir + "/grid/statistics.csv"), tokens = read_csv(dir + "/particles/statistics.csv");
  double      worst = 0;
  for (int k = 1; k <= 8; ++k)
    for (const char *name : {"mean_0", "mean_1"})
      worst = std::max(worst, std::abs(grid.columns.at(name)[row_at(grid, 0.25 * k)] -
                                       tokens.columns.at(name)[row_at(tokens, 0.25 * k)]));
  std::printf("grid - particles (N = 1e4): max |mean difference| %.3e = %.2f N^-1/2\n", worst, worst * 100);
  EXPECT_LT(worst, 4e-2);
}

namespace
{
  using Matrix3 = std::array<std::array<double, 3>, 3>;

  Matrix3 product(const Matrix3 &a, const Matrix3 &b)
  {
    Matrix3 c{};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        for (int k = 0; k < 3; ++k)
          c[i][j] += a[i][k] * b[k][j];
    return c;
  }

  /// exp(A) of a skew A (Rodrigues).
  Matrix3 rotation(const Matrix3 &A)
  {
    const double theta = std::sqrt(A[2][1] * A[2][1] + A[0][2] * A[0][2] + A[1][0] * A[1][0]);
    const double s = theta > 0 ? std::sin(theta) / theta : 1, c = theta > 0 ? (1 - std::cos(theta)) / theta / theta : 0.5;
    const Matrix3 A2 = product(A, A);
    Matrix3       R{};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        R[i][j] = (i == j) + s * A[i][j] + c * A2[i][j];
    return R;
  }
} // namespace

TEST(CommonNoise, RotationsOfTheSphereRotateTheNoiselessSolution)
{
  const auto dir  = scratch_directory("common-noise-sphere");
  const auto base = "run " + source_path("parameters/sphere-poisson.prm") +
                    " --quiet --set \"Output/write vtu=false\" --set \"Mesh/global refinements=2\"" +
                    " --set \"Time stepping/end time=0.25\" --set Output/interval=0.125 --set Output/directory=" + dir;
  ASSERT_EQ(run_tpde(base + "/still").exit_code, 0);
  const auto noisy = run_tpde(base + "/noisy --set \"Noise/common noise=0,-1,0; 1,0,0; 0,0,0 | 0,0,0; 0,0,-0.5; "
                                     "0,0.5,0\" --set Noise/seed=2");
  ASSERT_EQ(noisy.exit_code, 0) << noisy.output;
  const Table        still = read_csv(dir + "/still/statistics.csv"), table = read_csv(dir + "/noisy/statistics.csv");
  const BrownianPath path(2, 2, 8);
  const double       h = path.resolution();
  Matrix3            R{{{{1, 0, 0}}, {{0, 1, 0}}, {{0, 0, 1}}}};
  double             worst_r = 0, worst_mean = 0;
  for (std::uint64_t j = 0; j < 64; ++j)
    {
      const double a = path.node_value(0, j + 1) - path.node_value(0, j), b = path.node_value(1, j + 1) - path.node_value(1, j);
      R              = product(rotation({{{{0, -a, 0}}, {{a, 0, -0.5 * b}}, {{0, 0.5 * b, 0}}}}), R);
      if ((j + 1) % 32 != 0)
        continue;
      const std::size_t i = row_at(still, (j + 1) * h), k = row_at(table, (j + 1) * h);
      worst_r = std::max(worst_r, std::abs(table.columns.at("order_parameter")[k] - still.columns.at("order_parameter")[i]));
      for (int c = 0; c < 3; ++c)
        {
          double rotated = 0;
          for (int d = 0; d < 3; ++d)
            rotated += R[c][d] * still.columns.at("mean_" + std::to_string(d))[i];
          worst_mean = std::max(worst_mean, std::abs(table.columns.at("mean_" + std::to_string(c))[k] - rotated));
        }
      EXPECT_NEAR(table.columns.at("mass")[k], 1., 1e-12);
    }
  std::printf("S^2: max |r - r_still| %.3e, max |mean - R mean_still| %.3e\n", worst_r, worst_mean);
  EXPECT_LT(worst_r, 1e-6); // the space error of rotating on the cube-sphere mesh (level 2)
  EXPECT_LT(worst_mean, 1e-6);
}

TEST(CommonNoise, BadInputIsOneLine)
{
  const auto dir = scratch_directory("common-noise-bad");
  const std::vector<std::pair<std::string, std::string>> cases = {
    {"set common noise = 0.6, 1", "vector of 1 numbers"},
    {"set common noise = 0.6; abc", "'abc' is not a number"},
  };
  for (const auto &[line, expected] : cases)
    {
      std::string prm = line_prm;
      prm.replace(prm.find("set common noise = 0.6"), 22, line);
      const auto file = write_file(dir + "/bad.prm", prm);
      const auto run  = run_tpde("run " + file + " --quiet --set Output/directory=" + dir + "/out");
      EXPECT_EQ(input_error_problem(run, file, expected), "") << run.output;
      EXPECT_NE(run.output.find("subsection 'Noise', entry 'common noise'"), std::string::npos) << run.output;
    }
  const auto kuramoto = source_path("parameters/circle-kuramoto.prm");
  for (const auto &[value, expected] :
       std::vector<std::pair<std::string, std::string>>{{"0, 1; 1, 0", "not skew"}, {"0.5", "got a 1 x 1 matrix"}})
    {
      const auto run = run_tpde("run " + kuramoto + " --quiet --set Output/directory=" + dir +
                                "/circle --set \"Noise/common noise=" + value + "\"");
      EXPECT_EQ(input_error_problem(run, kuramoto, expected), "") << run.output;
    }
}
