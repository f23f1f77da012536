// Masked (causal) attention on the circle as a grid run: the (s, theta) mesh
// (Mesh/domain = sphere, dimension = 2, Attention/type = masked), theta
// periodic, the masked circle kernel, positional decay (physics.md §1.7, §4.3).
//  * causality at lambda = 0 and lambda > 0: other data above s1 = 1/2 leave
//    the density and the field below s1 unchanged to round-off;
//  * the linear response of uniform data plus eps f(s) cos theta (f = 1 below
//    1/4) on parameters/lost-in-the-middle.prm's grid: the slices' mode_1
//    columns give f(t, s) = 2 mode_1 / eps, which must be e^{a t} below 1/4
//    and physics.md §4.3's closed form int_0^{1/4} g_a(t, s; s0) ds0 above
//    (a = n^2 I_n(beta) / beta, as in tests/kernels/test_masked_circle_response.cc)
//    within 1e-3 relative, at t = 0.5 and 1 and s = 0.375, 0.5, 0.625, 0.75, 1;
//  * the total and every slice's mass are conserved to round-off;
//  * bad input (S^2, dimension 3) is one line, exit 2.
#include "support/masked_response.h"
#include "support/solver_runs.h"

#include "initial/initial_condition.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  const std::string lost_in_the_middle = "parameters/lost-in-the-middle.prm";

  RunOptions quiet_without_output()
  {
    RunOptions options;
    options.quiet        = true;
    options.write_output = false;
    return options;
  }

  /// f(t, s) for s > s1 from physics.md §4.3 (support/masked_response.h).
  double closed_form(double t, double s, double s1, double a, double lambda)
  {
    return masked_response_above(t, s, s1, a, lambda);
  }

  /// Every slice<k>_mass of a row.
  std::vector<double> slice_masses(const std::vector<std::string> &header, const std::vector<double> &row)
  {
    std::vector<double> masses;
    for (unsigned int k = 0; std::find(header.begin(), header.end(), "slice" + std::to_string(k) + "_mass") !=
                             header.end();
         ++k)
      masses.push_back(column(header, row, "slice" + std::to_string(k) + "_mass"));
    return masses;
  }

  /// Two runs that differ only in the data above s = 1/2, in equal fixed
  /// steps to t = 0.5: below 1/2 density and field agree to round-off.
  void expect_causality(double lambda)
  {
    // A nonlinear amplitude (0.3) below and the changed data above; fixed
    // steps and no speed cap (both global, they would couple the halves).
    const std::vector<std::string> common = {
      "Masked attention/positional decay=" + std::to_string(lambda), "Time stepping/negligible density=0",
      "Mesh/subdivisions=12", "Masked attention/s subdivisions=8", "Discretization/degree=2",
      "Initial condition/expression=(1 + 0.3 * x + (s >= 0.5) * c * y) / (2 * pi)"};
    auto a_overrides = common, b_overrides = common;
    a_overrides.push_back("Initial condition/constants=c=0, pi=3.141592653589793");
    b_overrides.push_back("Initial condition/constants=c=0.6, pi=3.141592653589793");
    Simulation<2> a(parameters_from(lost_in_the_middle, a_overrides), MPI_COMM_WORLD, quiet_without_output());
    Simulation<2> b(parameters_from(lost_in_the_middle, b_overrides), MPI_COMM_WORLD, quiet_without_output());
    a.initialize();
    b.initialize();
    const double end = 0.5, mass0 = total_mass(a.space(), a.solution().begin());
    const auto   masses0 = slice_masses(a.statistics_header(), a.statistics_row(0, 0., 0.));
    const int    steps   = static_cast<int>(std::ceil(end / (0.8 * std::min(a.stable_time_step(), b.stable_time_step()))));
    for (int i = 0; i < steps; ++i)
      {
        ASSERT_TRUE(a.step(end / steps));
        ASSERT_TRUE(b.step(end / steps));
      }
    const auto        &space = a.space();
    const unsigned int n     = space.n_nodes();
    double             below = 0, above = 0, largest = 0, velocity_below = 0;
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      for (unsigned int q = 0; q < n; ++q)
        {
          const double difference = std::abs(space.cell_values(a.solution().begin(), k)[q] -
                                             space.cell_values(b.solution().begin(), k)[q]);
          const bool   lower      = space.node_point(k, q)[0] < 0.5;
          (lower ? below : above) = std::max(lower ? below : above, difference);
          largest = std::max(largest, std::abs(space.cell_values(a.solution().begin(), k)[q]));
          if (lower)
            velocity_below = std::max(velocity_below, std::abs(a.field().node_velocity()[space.node_index(k, q) * 2 + 1] -
                                                               b.field().node_velocity()[space.node_index(k, q) * 2 + 1]));
        }
    const double mass_change = std::abs(total_mass(a.space(), a.solution().begin()) - mass0);
    const auto   masses      = slice_masses(a.statistics_header(), a.statistics_row(steps, end / steps, 0.));
    double       slice_change = 0;
    for (std::size_t k = 0; k < masses.size(); ++k)
      slice_change = std::max(slice_change, std::abs(masses[k] - masses0[k]));
    std::printf("lambda = %g, %d steps to t = %g: max |difference| / max density: s < 1/2 %.1e, s > 1/2 %.1e; "
                "velocity difference below %.1e; total mass change %.1e, slice masses (%zu) change %.1e\n",
                lambda, steps, end, below / largest, above / largest, velocity_below, mass_change, masses.size(),
                slice_change);
    EXPECT_LE(below, 1e-14 * largest);
    EXPECT_LE(velocity_below, 1e-14);
    EXPECT_GT(above, 0.05 * largest) << "the upper data must matter above 1/2";
    EXPECT_LE(mass_change, 1e-13);
    EXPECT_LE(slice_change, 1e-13);
  }
} // namespace

TEST(MaskedCircle, DataAboveOneHalfLeaveTheSolutionBelowUnchangedWithoutDecay)
{
  expect_causality(0.);
}

TEST(MaskedCircle, DataAboveOneHalfLeaveTheSolutionBelowUnchangedWithDecay)
{
  expect_causality(2.);
}

TEST(MaskedCircle, LinearResponseMatchesTheClosedForm)
{
  for (const double lambda : {2., 0.})
    {
      const Parameters p = parameters_from(lost_in_the_middle, {"Masked attention/positional decay=" + std::to_string(lambda)});
      Simulation<2>    simulation(p, MPI_COMM_WORLD, quiet_without_output());
      simulation.initialize();
      const auto   header = simulation.statistics_header();
      const auto   first  = simulation.statistics_row(0, 0., 0.);
      const double eps = 1e-4, s1 = 0.25, beta = p.attention.beta, a = std::cyl_bessel_i(1., beta) / beta;
      const double dt = p.time.maximum_time_step;
      double       worst = 0;
      unsigned long step  = 0;
      for (const double t : {0.5, 1.})
        {
          while (simulation.time() < t - 1e-12)
            {
              ASSERT_TRUE(simulation.step(std::min(dt, t - simulation.time())));
              ++step;
            }
          const auto row = simulation.statistics_row(step, dt, 0.);
          for (unsigned int k = 0; k < p.masked_attention.slices.size(); ++k)
            {
              const std::string slice    = "slice" + std::to_string(k) + "_";
              const double      s        = column(header, row, slice + "s");
              const double      response = 2 * column(header, row, slice + "mode_1") / eps;
              const double      exact    = s < s1 ? std::exp(a * t) : closed_form(t, s, s1, a, lambda);
              const double      error    = std::abs(response / exact - 1);
              worst                      = std::max(worst, error);
              std::printf("lambda = %g, t = %g, s = %.3f: response %.8f, closed form %.8f (%.1e relative)\n",
                          lambda, t, s, response, exact, error);
              // mode 2 stays at the nonlinear level eps^2
              EXPECT_LE(column(header, row, slice + "mode_2"), 10 * eps * eps) << slice;
            }
        }
      const auto masses0 = slice_masses(header, first), masses = slice_masses(header, simulation.statistics_row(step, dt, 0.));
      for (std::size_t k = 0; k < masses.size(); ++k)
        {
          EXPECT_NEAR(masses0[k], 1., 1e-12);
          EXPECT_NEAR(masses[k], masses0[k], 1e-13);
        }
      std::printf("lambda = %g: worst response error %.2e relative (a = %.6f)\n", lambda, worst, a);
      EXPECT_LE(worst, 1e-4); // issue 14 asks for 1e-3; measured 8.4e-6 (lambda = 2), 5.9e-6 (lambda = 0)
    }
}

// The circle's own initial types are densities of the point (x, y) alone:
// every slice starts from them. Von Mises with kappa = 1 has the first
// Fourier amplitude I_1(1) / I_0(1) on every slice.
TEST(MaskedCircle, CircleInitialTypesAreTheSameAtEveryS)
{
  const Parameters p = parameters_from(lost_in_the_middle, {"Initial condition/type=von mises"});
  Simulation<2>    simulation(p, MPI_COMM_WORLD, quiet_without_output());
  simulation.initialize();
  const auto   header   = simulation.statistics_header();
  const auto   first    = simulation.statistics_row(0, 0., 0.);
  const double expected = std::cyl_bessel_i(1., 1.) / std::cyl_bessel_i(0., 1.);
  const auto   masses   = slice_masses(header, first);
  ASSERT_EQ(masses.size(), 6u);
  for (unsigned int k = 0; k < masses.size(); ++k)
    {
      EXPECT_NEAR(masses[k], 1., 1e-12) << "slice " << k;
      EXPECT_NEAR(column(header, first, "slice" + std::to_string(k) + "_mode_1"), expected, 1e-6 * expected)
        << "slice " << k;
    }
}

TEST(MaskedCircle, UpperDataOnTheCircleIsOneLineExitTwo)
{
  const auto result =
    run_tpde("run " + source_path(lost_in_the_middle) + " --quiet --set \"Masked attention/upper data from=0.5\"");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("entry 'upper data from': expected 1 on the circle"), std::string::npos)
    << result.output;
  EXPECT_LE(std::count(result.output.begin(), result.output.end(), '\n'), 1) << "one line: " << result.output;
}

TEST(MaskedCircle, NegativePositionalDecayIsOneLineExitTwo)
{
  const auto result =
    run_tpde("run " + source_path(lost_in_the_middle) + " --quiet --set \"Masked attention/positional decay=-1\"");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("lost-in-the-middle.prm: subsection 'Masked attention', entry 'positional decay': "
                               "expected a number >= 0, got -1"),
            std::string::npos)
    << result.output;
  EXPECT_LE(std::count(result.output.begin(), result.output.end(), '\n'), 1) << "one line: " << result.output;
}

TEST(MaskedCircle, MaskedOnTheSphereS2IsOneLineExitTwo)
{
  const auto result = run_tpde("run " + source_path(lost_in_the_middle) + " --quiet --set dimension=3");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("lost-in-the-middle.prm: subsection 'Attention', entry 'type': expected a type other "
                               "than masked with Mesh/domain = sphere and dimension = 3"),
            std::string::npos)
    << result.output;
  EXPECT_LE(std::count(result.output.begin(), result.output.end(), '\n'), 1) << "one line: " << result.output;
}
