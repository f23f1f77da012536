// Tokens on S^2 (Mesh/domain = sphere, d = 3: a surface mesh in R^3) against
// the exact results of physics.md §4.4: T14 (the Poisson kernel at beta = 0),
// the growth rates of the uniform state's harmonic degrees (SA and USA), the
// energy identities of §4.1, mass to round-off through adaptation, the
// harmonic diagnostics against brute force, and the surface in ParaView.
#include "sphere/surface_diagnostics.h"
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
#include <random>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  double last(const RunSummary &s, const std::string &name) { return column(s.header, s.last_row, name); }

  /// |m(t)| of the Poisson kernel from r0 = 0.2 (physics.md §5, T14).
  constexpr double m_at_1 = 0.4747500789, m_at_4 = 0.9809039599;

  double legendre(unsigned int l, double t)
  {
    double p0 = 1, p1 = t;
    if (l == 0)
      return 1;
    for (unsigned int k = 2; k <= l; ++k)
      {
        const double p2 = ((2. * k - 1) * t * p1 - (k - 1.) * p0) / k;
        p0              = p1;
        p1              = p2;
      }
    return p1;
  }
} // namespace

TEST(SphereSurface, HarmonicAmplitudesEqualThePairSumsOfLegendrePolynomials)
{
  // sqrt(4 pi / (2l+1) sum_m S_lm^2) = sqrt(sum_ij w_i w_j P_l(<x_i, x_j>)) (addition theorem).
  std::mt19937                           random(7);
  std::normal_distribution<double>       normal;
  std::uniform_real_distribution<double> uniform(0.1, 1.);
  const std::size_t                      n = 200;
  std::vector<double>                    x(3 * n), w(n);
  for (std::size_t i = 0; i < n; ++i)
    {
      double p[3] = {normal(random) + 0.7, normal(random), normal(random) - 0.3};
      const double r = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
      for (int c = 0; c < 3; ++c)
        x[3 * i + c] = p[c] / r;
      w[i] = uniform(random);
    }
  const unsigned int  L = 12;
  std::vector<double> sums((L + 1) * (L + 1) - 1, 0.);
  sphere::add_harmonic_sums(L, n, x.data(), w.data(), sums.data());
  for (unsigned int l = 1; l <= L; ++l)
    {
      double pair = 0;
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j)
          pair += w[i] * w[j] *
                  legendre(l, x[3 * i] * x[3 * j] + x[3 * i + 1] * x[3 * j + 1] + x[3 * i + 2] * x[3 * j + 2]);
      EXPECT_NEAR(sphere::harmonic_amplitude(l, &sums[l * l - 1]), std::sqrt(pair), 1e-12 * std::sqrt(pair) + 1e-13)
        << "degree " << l;
    }
}

TEST(SphereSurface, PoissonMeanAndItsInverse)
{
  // m3 by quadrature of the density (1/4pi)((1 - r^2) / |x - w|^2)^2 over z = <x, w/|w|>: the mean is
  // (1/2) int_{-1}^{1} z f dz with f((1-r^2)/(1 - 2 r z + r^2))^2; Simpson with 2e5 intervals.
  for (const double r : {1e-4, 0.05, 0.2, 0.5, 0.9})
    {
      const int n = 200000;
      double    mean = 0, mass = 0;
      for (int k = 0; k <= n; ++k)
        {
          const double z = -1 + 2. * k / n, f = std::pow((1 - r * r) / (1 - 2 * r * z + r * r), 2);
          const double s = (k == 0 || k == n) ? 1 : (k % 2 ? 4 : 2);
          mean += s * z * f;
          mass += s * f;
        }
      EXPECT_NEAR(sphere::poisson_mean(r), mean / mass, 1e-10) << "r = " << r;
      EXPECT_NEAR(sphere::poisson_radius(sphere::poisson_mean(r)), r, 1e-12);
    }
  EXPECT_NEAR(sphere::poisson_order_parameter(0.2, 1.), m_at_1, 1e-10);
  EXPECT_NEAR(sphere::poisson_order_parameter(0.2, 4.), m_at_4, 1e-10);
}

TEST(SphereSurface, T14PoissonKernel)
{
  // The shipped file: w = (0, 0, 0.2), 384 cells Q2, t = 1.
  const RunSummary s = run_without_output(parameters_from("parameters/sphere-poisson.prm", {}));
  const double     m = last(s, "order_parameter");
  std::printf("T14 at t = 1: |m| = %.12f, exact %.10f, error %.2e; mass defect %.2e\n", m, m_at_1,
              std::abs(m - m_at_1), s.max_mass_defect);
  EXPECT_NEAR(last(s, "ref_order_parameter"), m_at_1, 1e-9);
  EXPECT_LE(std::abs(m - m_at_1), 1e-7);
  EXPECT_NEAR(last(s, "mean_2"), m, 1e-14) << "w keeps its direction";
  EXPECT_LE(std::hypot(last(s, "mean_0"), last(s, "mean_1")), 1e-13);
  EXPECT_NEAR(last(s, "mode_1"), m, 1e-14) << "degree 1 is the mean";
  EXPECT_NEAR(last(s, "energy"), 0.5 * m * m, 1e-14) << "beta = 0: the energy is |m|^2 / 2";
  EXPECT_LE(s.max_mass_defect, 1e-12);
  EXPECT_GE(s.min_check_value, 0.);
}

TEST(SphereSurface, T14OnAnAdaptiveMesh)
{
  // From 96 cells, refined towards the pole up to level 4 (hanging faces between curved cells, some with
  // their line running the other way from one side): the reference to round-off-level accuracy, and the
  // mass 1 to round-off through every refinement and coarsening.
  const RunSummary s = run_without_output(
    parameters_from("parameters/sphere-poisson.prm",
                    {"Time stepping/end time=0.5", "Mesh/global refinements=2", "Mesh refinement/adaptive=true",
                     "Mesh refinement/maximum level=4"}));
  const double m = last(s, "order_parameter");
  std::printf("T14 at t = 0.5, adaptive: |m| error %.2e, %g cells (levels %g..%g), mass defect %.2e\n",
              std::abs(m - last(s, "ref_order_parameter")), last(s, "cells"), last(s, "min_level"),
              last(s, "max_level"), s.max_mass_defect);
  EXPECT_LE(std::abs(m - last(s, "ref_order_parameter")), 1e-7);
  EXPECT_EQ(last(s, "max_level"), 4.) << "the pole was refined";
  EXPECT_LE(s.max_mass_defect, 1e-12);
  EXPECT_GE(s.min_check_value, 0.);
}

TEST(SphereSurface, GrowthRatesOfTheUniformState)
{
  // rho = (1 + 1e-6 Y_l) / 4 pi: lambda_l = l (l+1) c_l(beta) / beta (USA) with the Funk-Hecke
  // coefficient c_l = sqrt(pi / (2 beta)) I_{l+1/2}(beta), divided by c_0 = sinh(beta) / beta for SA.
  // Measured between t = 0.1 and 0.5 in one run.
  const double rates[2][2][3] = {{{.735759, .429377, .120781}, {.626071, .365365, .102775}},
                                 {{.974383, 1.055568, .568455}, {.537315, .582084, .313470}}};
  const char  *types[2]       = {"unnormalized", "softmax"};
  for (int b = 0; b < 2; ++b)
    for (int v = 0; v < 2; ++v)
      for (unsigned int l = 1; l <= 3; ++l)
        {
          const double beta = b + 1.;
          double exact = l * (l + 1) * std::sqrt(M_PI / (2 * beta)) * std::cyl_bessel_i(l + 0.5, beta) / beta;
          if (v == 1)
            exact /= std::sinh(beta) / beta;
          const std::string dir    = scratch_directory("sphere_growth");
          const auto        result = run_tpde(
            "run " + source_path("parameters/sphere-poisson.prm") + " --quiet --overwrite --set 'Output/directory=" +
            dir + "' --set Output/write\\ vtu=false --set Attention/type=" + types[v] +
            " --set Attention/beta=" + std::to_string(beta) +
            " --set 'Mesh/global refinements=2' --set 'Initial condition/type=sphere uniform' --set 'Initial "
            "condition/mode=" + std::to_string(l) + "' --set 'Initial condition/mode order=" + std::to_string(l - 1) +
            "' --set 'Initial condition/mode amplitude=1e-6' --set 'Output/modes=" + std::to_string(l) +
            "' --set 'Time stepping/end time=0.5' --set 'Time stepping/maximum time step=0.01'");
          ASSERT_EQ(result.exit_code, 0) << result.output;
          const Table  table = read_csv(dir + "/statistics.csv");
          const auto  &t = table.columns.at("time"), &mode = table.columns.at("mode_" + std::to_string(l));
          std::size_t  first = 0;
          while (t[first] < 0.1 - 1e-12)
            ++first;
          const std::size_t end  = table.rows() - 1;
          const double      rate = std::log(mode[end] / mode[first]) / (t[end] - t[first]);
          std::printf("S^2 %-12s beta = %g, l = %u: rate %.8f, exact %.8f, relative error %.2e\n", types[v], beta, l,
                      rate, exact, std::abs(rate / exact - 1));
          EXPECT_NEAR(exact, rates[b][v][l - 1], 1e-6);
          EXPECT_LE(std::abs(rate / exact - 1), 1e-4) << types[v] << " beta " << beta << " degree " << l;
          EXPECT_LE(std::abs(table.columns.at("mass")[end] - 1), 1e-12);
        }
}

TEST(SphereSurface, EnergyIdentities)
{
  // d energy/dt = energy_rate (USA: int |X|^2 drho, SA: int |X|^2 Z drho; Q = K = V = I), integrated over
  // [0, 1] by Simpson's rule on the uniform steps of a von Mises-Fisher mixture's run at beta = 1.
  for (const std::string type : {"unnormalized", "softmax"})
    {
      const std::string dir    = scratch_directory("sphere_energy_" + type);
      const auto        result = run_tpde(
        "run " + source_path("parameters/sphere-poisson.prm") + " --quiet --set 'Output/directory=" + dir +
        "' --set Output/write\\ vtu=false --set Attention/type=" + type +
        " --set Attention/beta=1 --set 'Mesh/global refinements=2' --set Discretization/degree=3 --set 'Initial condition/type=von mises' --set "
        "'Initial condition/von mises weights=0.6,0.4' --set 'Initial condition/von mises directions=1,0,0;-0.5,0.8,0.3' "
        "--set 'Initial condition/von mises concentrations=3,5' --set 'Time stepping/end time=1' --set 'Time "
        "stepping/maximum time step=5e-3'");
      ASSERT_EQ(result.exit_code, 0) << result.output;
      const Table table = read_csv(dir + "/statistics.csv");
      const auto &t = table.columns.at("time"), &E = table.columns.at("energy"),
                 &rate = table.columns.at("energy_rate");
      const std::size_t n = table.rows() - 1; // steps
      const double integral = simpson_over_rows(t, rate, 0, n);
      const double change = E[n] - E[0];
      std::printf("S^2 energy identity %-12s: E(1) - E(0) = %.12f, int rate = %.12f, relative %.2e\n", type.c_str(),
                  change, integral, std::abs(change / integral - 1));
      EXPECT_GT(change, 0.02) << "the energy increases (attraction)";
      EXPECT_LE(std::abs(change / integral - 1), 1e-6);
    }
}

TEST(SphereSurface, ParaViewSeesTheSphere)
{
  // The .vtu is the surface in R^3: points on the unit sphere (to the mapping's accuracy), the velocity
  // tangent to it.
  const std::string dir    = scratch_directory("sphere_vtk");
  const auto        result = run_tpde("run " + source_path("parameters/sphere-poisson.prm") +
                                      " --quiet --overwrite --set 'Output/directory=" + dir +
                                      "' --set 'Time stepping/end time=0.25' --set 'Mesh/global refinements=2'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  vtkNew<vtkXMLUnstructuredGridReader> reader;
  reader->SetFileName((dir + "/solution_00001.vtu").c_str());
  reader->Update();
  vtkUnstructuredGrid *grid = reader->GetOutput();
  ASSERT_GT(grid->GetNumberOfPoints(), 0);
  vtkDataArray *velocity = grid->GetPointData()->GetArray("velocity");
  ASSERT_NE(velocity, nullptr);
  double largest_speed = 0;
  for (vtkIdType i = 0; i < grid->GetNumberOfPoints(); ++i)
    {
      double x[3], v[3];
      grid->GetPoint(i, x);
      velocity->GetTuple(i, v);
      const double r = std::sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
      EXPECT_NEAR(r, 1., 1e-5);
      const double speed = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
      EXPECT_LE(std::abs(x[0] * v[0] + x[1] * v[1] + x[2] * v[2]) / r, 1e-14) << "tangent";
      largest_speed = std::max(largest_speed, speed);
    }
  EXPECT_GT(largest_speed, 0.1);
}
