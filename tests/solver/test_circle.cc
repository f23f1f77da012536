// Tokens on the circle (Mesh/domain = sphere, d = 2) against the exact
// results of physics.md §4.4: T12 (wrapped Cauchy at beta = 0), T13 (growth
// rates of the uniform state's modes, SA and USA), the energy identities of
// §4.1, mass through adaptation and across the periodic seam, input errors.
#include "sphere/circle_fourier.h"
#include "support/simpson.h"
#include "support/solver_runs.h"

#include <gtest/gtest.h>
#include <vtkDataArray.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLUnstructuredGridReader.h>

#include <cmath>
#include <cstdio>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  double last(const RunSummary &s, const std::string &name) { return column(s.header, s.last_row, name); }

  /// r(t) of the wrapped Cauchy family, r0 = 0.3 (physics.md §5, T12).
  constexpr double r_at_4 = 0.9185562220;
} // namespace

TEST(Circle, T12WrappedCauchyOrderParameter)
{
  // The shipped file: r0 = 0.3 centred at angle 1, 64 cells Q3, t = 4.
  const RunSummary s = run_without_output(parameters_from("parameters/circle-kuramoto.prm", {}));
  const double     r = last(s, "order_parameter");
  std::printf("T12 at t = 4: |Z| = %.12f, exact %.10f, error %.2e; mass defect %.2e\n", r, r_at_4,
              std::abs(r - r_at_4), s.max_mass_defect);
  EXPECT_NEAR(last(s, "ref_order_parameter"), r_at_4, 1e-9);
  EXPECT_LE(std::abs(r - r_at_4), 1e-6);
  EXPECT_NEAR(std::atan2(last(s, "mean_1"), last(s, "mean_0")), 1., 1e-9) << "the centre does not move";
  EXPECT_NEAR(last(s, "energy"), 0.5 * r * r, 1e-14) << "beta = 0: the energy is |m|^2 / 2";
  EXPECT_EQ(last(s, "clusters"), 1.);
  EXPECT_LE(s.max_mass_defect, 1e-12);
  EXPECT_EQ(last(s, "fourier_modes"), 0.) << "the zonal fast path (beta = 0: the k = 0 term only)";
  EXPECT_EQ(last(s, "fourier_fallback"), 0.);
}

TEST(Circle, T12AcrossThePeriodicSeamWithAdaptation)
{
  // Centred at angle 0: the peak sits on the face that joins 2 pi to 0, and
  // the adapted mesh refines across it.
  const RunSummary s = run_without_output(parameters_from(
    "parameters/circle-kuramoto.prm", {"Initial condition/poisson center=0.3, 0", "Mesh/subdivisions=16",
                                       "Mesh refinement/adaptive=true"}));
  const double r = last(s, "order_parameter");
  std::printf("T12 centred on the seam, adaptive: |Z| error %.2e, %g cells (levels %g..%g), mass defect %.2e\n",
              std::abs(r - r_at_4), last(s, "cells"), last(s, "min_level"), last(s, "max_level"), s.max_mass_defect);
  EXPECT_LE(std::abs(r - r_at_4), 1e-6);
  EXPECT_LE(std::abs(last(s, "mean_1")), 1e-12) << "symmetric about the seam";
  EXPECT_GT(last(s, "max_level"), 2.) << "the peak was refined";
  EXPECT_LE(s.max_mass_defect, 1e-12);
  EXPECT_GE(s.min_check_value, 0.);
}

TEST(Circle, T13GrowthRatesOfTheUniformState)
{
  // rho = (1 + 1e-6 cos k theta) / 2 pi, beta = 2: lambda_k = k^2 I_k(beta) / beta (USA), divided by
  // I_0(beta) for SA. Measured between t = 0.5 and 1.5 (two runs from the same data).
  const double beta = 2;
  // physics.md §4.4 table (6 digits), USA then SA.
  const double table[2][4] = {{.795318, 1.377897, .957330, .405829}, {.348887, .604451, .419958, .178027}};
  const char  *types[2]    = {"unnormalized", "softmax"};
  for (int v = 0; v < 2; ++v)
    for (int k = 1; k <= 4; ++k)
      {
        double exact = k * k * std::cyl_bessel_i(double(k), beta) / beta;
        if (v == 1)
          exact /= std::cyl_bessel_i(0., beta);
        double mode[2];
        for (int run = 0; run < 2; ++run)
          {
            const RunSummary s = run_without_output(parameters_from(
              "parameters/circle-instability.prm",
              {std::string("Attention/type=") + types[v], "Initial condition/mode=" + std::to_string(k),
               "Time stepping/end time=" + std::string(run ? "1.5" : "0.5"),
               "Output/modes=" + std::to_string(k)}));
            mode[run] = last(s, "mode_" + std::to_string(k));
            EXPECT_LE(s.max_mass_defect, 1e-12);
            EXPECT_EQ(last(s, "fourier_modes"), sphere::fourier_modes(beta)) << "the zonal fast path";
            EXPECT_EQ(last(s, "fourier_fallback"), 0.);
          }
        const double rate = std::log(mode[1] / mode[0]);
        std::printf("T13 %-12s k = %d: rate %.8f, exact %.8f, relative error %.2e\n", types[v], k, rate, exact,
                    std::abs(rate / exact - 1));
        EXPECT_NEAR(exact, table[v][k - 1], 1e-6);
        EXPECT_LE(std::abs(rate / exact - 1), 1e-4) << types[v] << " mode " << k;
      }
}

namespace
{
  // E(t1) - E(t0) and the integral of energy_rate over [t0, t1] by Simpson's rule on the
  // uniform steps of a von Mises mixture's run on the circle (Q = K = V = I).
  std::pair<double, double> energy_change_and_integral(const std::string &type, const std::string &settings,
                                                       double t0, double t1, const std::string &name)
  {
    const std::string dir    = scratch_directory("circle_energy_" + name);
    const auto        result = run_tpde(
      "run " + source_path("parameters/circle-kuramoto.prm") + " --quiet --set 'Output/directory=" + dir +
      "' --set Output/write\\ vtu=false --set Attention/type=" + type + settings +
      " --set 'Initial condition/type=von mises' --set 'Initial condition/von mises "
      "weights=0.6,0.4' --set 'Initial condition/von mises directions=1,0;-0.5,0.8' --set 'Initial "
      "condition/von mises concentrations=3,5' --set 'Time stepping/end time=1' --set 'Time "
      "stepping/maximum time step=2e-3'");
    EXPECT_EQ(result.exit_code, 0) << result.output;
    const Table table = read_csv(dir + "/statistics.csv");
    const auto &t = table.columns.at("time"), &E = table.columns.at("energy"),
               &rate = table.columns.at("energy_rate");
    std::size_t first = 0;
    while (first < t.size() && t[first] < t0 - 1e-12)
      ++first;
    const std::size_t last = table.rows() - 1;
    EXPECT_NEAR(t[first], t0, 1e-12);
    EXPECT_NEAR(t[last], t1, 1e-12);
    const double integral = simpson_over_rows(t, rate, first, last);
    const double change = E[last] - E[first];
    std::printf("energy identity %-24s: E(%g) - E(%g) = %.12f, int rate = %.12f, relative %.2e\n", name.c_str(), t1,
                t0, change, integral, std::abs(change / integral - 1));
    return {change, integral};
  }
} // namespace

TEST(Circle, EnergyIdentities)
{
  // d energy/dt = energy_rate (USA: int |X|^2 drho, SA: int |X|^2 Z drho) over [0, 1] at beta = 1.
  for (const std::string type : {"unnormalized", "softmax"})
    {
      const auto [change, integral] = energy_change_and_integral(type, " --set Attention/beta=1", 0, 1, type);
      EXPECT_GT(change, 0.05) << "the energy increases (attraction)";
      EXPECT_LE(std::abs(change / integral - 1), 1e-6);
    }
}

TEST(Circle, EnergyIdentityInTheSecondLayer)
{
  // Two layers, beta = 1 then 2.5: within the second layer the columns use its beta (with the
  // first layer's beta the identity misses by O(1)).
  const auto [change, integral] =
    energy_change_and_integral("unnormalized",
                               " --set Layers/count=2 --set Layers/duration=0.5 --set 'Attention/beta=1 | 2.5'", 0.5,
                               1, "second layer");
  EXPECT_GT(change, 0.05);
  EXPECT_LE(std::abs(change / integral - 1), 1e-6);
}

TEST(Circle, ParaViewSeesTheRing)
{
  // The .vtu draws the circle in the plane: points at (cos theta, sin theta, 0), theta as a point array,
  // the velocity as a tangent vector (angular speed times the unit tangent).
  const std::string dir    = scratch_directory("circle_vtk");
  const auto        result = run_tpde("run " + source_path("parameters/circle-kuramoto.prm") +
                                      " --quiet --set 'Output/directory=" + dir + "' --set 'Time stepping/end time=0.5'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  vtkNew<vtkXMLUnstructuredGridReader> reader;
  reader->SetFileName((dir + "/solution_00001.vtu").c_str());
  reader->Update();
  vtkUnstructuredGrid *grid = reader->GetOutput();
  ASSERT_GT(grid->GetNumberOfPoints(), 0);
  vtkDataArray *theta = grid->GetPointData()->GetArray("theta");
  vtkDataArray *speed = grid->GetPointData()->GetArray("velocity");
  ASSERT_NE(theta, nullptr);
  ASSERT_NE(speed, nullptr);
  double largest_speed = 0;
  for (vtkIdType i = 0; i < grid->GetNumberOfPoints(); ++i)
    {
      double x[3], v[3];
      grid->GetPoint(i, x);
      speed->GetTuple(i, v);
      EXPECT_NEAR(x[0], std::cos(theta->GetTuple1(i)), 1e-14);
      EXPECT_NEAR(x[1], std::sin(theta->GetTuple1(i)), 1e-14);
      EXPECT_EQ(x[2], 0.);
      EXPECT_NEAR(x[0] * v[0] + x[1] * v[1], 0., 1e-15) << "tangent";
      largest_speed = std::max(largest_speed, std::hypot(v[0], v[1]));
    }
  EXPECT_GT(largest_speed, 0.1);
}

TEST(Circle, InputErrors)
{
  const std::string dir  = scratch_directory("circle_errors");
  const std::string file = source_path("parameters/circle-kuramoto.prm");
  const struct
  {
    std::string mode, overrides, expected;
  } cases[] = {
    {"run", "--set dimension=1", "expected dimension = 2 (the circle) or 3 (S^2) for domain = sphere"},
    {"run", "--set 'Initial condition/type=gaussian'", "expected a density on the sphere"},
    {"run", "--set 'Mesh/subdivisions=0'", "cells around the circle"},
  };
  for (const auto &c : cases)
    {
      const auto result =
        run_tpde(c.mode + " " + file + " --quiet --set 'Output/directory=" + dir + "' " + c.overrides);
      EXPECT_EQ(result.exit_code, 2) << c.overrides << ": " << result.output;
      EXPECT_NE(result.output.find(c.expected), std::string::npos) << result.output;
      EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
    }
}
