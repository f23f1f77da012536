// Idiosyncratic noise on the grid (subsection Noise, diffusion D): the SIPG
// discretisation of D Lap rho with its SDIRK2 half steps around the transport
// (run/simulation_diffusion.cc). Exact solutions: the heat kernel on a
// Gaussian (order p + 1 in L2), Gaussian references whose covariance ODE
// gains 2 D I, Fourier modes on the circle (e^{-D k^2 t}) and spherical
// harmonics on S^2 (e^{-D l(l+1) t}) with X = 0.
#include "support/solver_runs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  double last(const RunSummary &s, const std::string &name) { return column(s.header, s.last_row, name); }

  /// mode_<k> at the end over mode_<k> at t = 0, k = 1..modes (a second run to t ~ 0 gives the initial row).
  std::vector<double> mode_ratios(const std::string &prm, std::vector<std::string> o, unsigned int modes,
                                  double end_time)
  {
    o.push_back("Time stepping/end time=" + std::to_string(end_time));
    const RunSummary end = run_without_output(parameters_from(prm, o));
    o.back()             = "Time stepping/end time=1e-12";
    o.push_back("Noise/diffusion=0");
    const RunSummary    start = run_without_output(parameters_from(prm, o));
    std::vector<double> ratios;
    for (unsigned int k = 1; k <= modes; ++k)
      ratios.push_back(last(end, "mode_" + std::to_string(k)) / last(start, "mode_" + std::to_string(k)));
    return ratios;
  }
} // namespace

TEST(Diffusion, HeatKernelOrderPPlusOneIn1D)
{
  // V = 0: X = 0, so N(1, 0.5) spreads to N(1, 0.5 + 2 D t); dt = 1e-3 keeps
  // the time error (Strang + SDIRK2, order 2) below the finest spatial error.
  const std::vector<std::string> setup = {"Attention/V=0", "Noise/diffusion=0.5", "Time stepping/end time=0.2",
                                          "Time stepping/maximum time step=0.001", "Mesh/global refinements=0"};
  for (unsigned int p : {1u, 2u})
    {
      std::vector<double> errors;
      for (unsigned int n : {40u, 80u, 160u})
        {
          auto o = setup;
          o.push_back("Mesh/subdivisions=" + std::to_string(n));
          o.push_back("Discretization/degree=" + std::to_string(p));
          const RunSummary s = run_without_output(parameters_from("parameters/gaussian-1d-collapse.prm", o));
          errors.push_back(last(s, "err_l2"));
          EXPECT_LE(s.max_mass_defect, 1e-12);
          EXPECT_NEAR(last(s, "cov_00"), 0.7, 1e-6);
          if (errors.size() > 1)
            {
              const double order = std::log2(errors[errors.size() - 2] / errors.back());
              std::printf("heat kernel 1D, p = %u, %u cells: L2 error %.3e, order %.2f\n", p, n, errors.back(), order);
              EXPECT_GE(order, p + 0.9);
            }
        }
    }
}

TEST(Diffusion, CircleModesDecayLikeTheHeatKernel)
{
  // beta = 0, unnormalized: X(theta) = the order parameter's pull, 0 for
  // uniform + cos(k theta) (k >= 2, and it stays so); D = 0.1 to t = 1.
  for (unsigned int k : {2u, 3u})
    {
      const double ratio = mode_ratios("parameters/circle-instability.prm",
                                       {"Attention/beta=0", "Noise/diffusion=0.1", "Mesh/subdivisions=32",
                                        "Initial condition/mode=" + std::to_string(k),
                                        "Initial condition/mode amplitude=0.1"},
                                       k, 1.)[k - 1];
      const double exact = std::exp(-0.1 * k * k);
      std::printf("circle mode %u: ratio %.10f, exact %.10f, relative error %.2e\n", k, ratio, exact,
                  ratio / exact - 1);
      EXPECT_LE(std::abs(ratio / exact - 1), 1e-5);
    }
}

TEST(Diffusion, SphereHarmonicsDecayLikeTheHeatKernel)
{
  // V = 0: X = 0 on S^2; the Poisson kernel has all degrees, degree l decays
  // like e^{-D l (l + 1) t}. D = 0.1 to t = 0.5 on the 3-times refined mesh, Q3
  // (Q2 resolved degree 3 only to 5.8e-5; Q3 gives 4e-9, 1.2e-7, 1.1e-6 for l = 1, 2, 3).
  const auto ratios = mode_ratios("parameters/sphere-poisson.prm",
                                  {"Attention/V=0,0,0;0,0,0;0,0,0", "Noise/diffusion=0.1",
                                   "Time stepping/maximum time step=0.01", "Discretization/degree=3"},
                                  3, 0.5);
  for (unsigned int l : {1u, 2u, 3u})
    {
      const double exact = std::exp(-0.1 * l * (l + 1) * 0.5);
      std::printf("S^2 degree %u: ratio %.10f, exact %.10f, relative error %.2e\n", l, ratios[l - 1], exact,
                  ratios[l - 1] / exact - 1);
      EXPECT_LE(std::abs(ratios[l - 1] / exact - 1), 1e-5);
    }
}

TEST(Diffusion, SphereWithHangingFaces)
{
  // The adaptive S^2 mesh (levels 2 to 4 after the initial adaptation: hanging faces, subfaces that a
  // surface mesh may number the other way from one side): mass to round-off and the heat-kernel decay.
  const auto ratios = mode_ratios("parameters/sphere-poisson.prm",
                                  {"Attention/V=0,0,0;0,0,0;0,0,0", "Noise/diffusion=0.1", "Mesh/global refinements=2",
                                   "Mesh refinement/adaptive=true", "Time stepping/maximum time step=0.02"},
                                  2, 0.5);
  for (unsigned int l : {1u, 2u})
    {
      const double exact = std::exp(-0.1 * l * (l + 1) * 0.5);
      std::printf("adaptive S^2, degree %u: relative error %.2e\n", l, ratios[l - 1] / exact - 1);
      EXPECT_LE(std::abs(ratios[l - 1] / exact - 1), 1e-5);
    }
  const RunSummary s = run_without_output(parameters_from(
    "parameters/sphere-poisson.prm", {"Noise/diffusion=0.1", "Mesh/global refinements=2", "Mesh refinement/adaptive=true",
                                      "Time stepping/end time=0.2"}));
  std::printf("adaptive S^2 with attention, D = 0.1: max mass defect %.2e, levels %g..%g\n", s.max_mass_defect,
              last(s, "min_level"), last(s, "max_level"));
  EXPECT_LE(s.max_mass_defect, 1e-12);
  EXPECT_LT(last(s, "min_level"), last(s, "max_level"));
}

TEST(Diffusion, StepStaysSetByTheTransport)
{
  // Softmax with K = 0 moves everything with V times the mean, and noise
  // leaves the mean ODE unchanged: the velocity (so the CFL step) is the same
  // with and without diffusion, and any h^2 / D restriction would show. The
  // rotation V keeps |X| = |mean| constant. 48 x 48 Q2 cells of side 1/3, D = 1:
  // an explicit diffusion step would need dt < h^2 / (2 D (p + 1)^2 d) ~ 2e-3.
  const std::vector<std::string> o = {"Mesh/subdivisions=48", "Attention/K=0, 0; 0, 0", "Attention/V=0, -1; 1, 0",
                                      "Time stepping/end time=0.3"};
  auto with = o;
  with.push_back("Noise/diffusion=1");
  const RunSummary plain = run_without_output(parameters_from("parameters/gaussian-2d-isotropize.prm", o));
  const RunSummary noisy = run_without_output(parameters_from("parameters/gaussian-2d-isotropize.prm", with));
  std::printf("K = 0, rotation V: D = 0 %lu steps (last dt %.5f), D = 1 %lu steps (last dt %.5f), h^2 / D = %.3f\n",
              plain.steps, last(plain, "dt"), noisy.steps, last(noisy, "dt"), 1. / 9);
  EXPECT_LE(noisy.steps, plain.steps + 1);
  EXPECT_EQ(noisy.rejected_steps, 0u);
  std::printf("mass clipped from negative cell means after the diffusion solves: %.2e\n", noisy.diffusion_clipped_mass);
  EXPECT_LE(noisy.diffusion_clipped_mass, 1e-12);
  EXPECT_NEAR(last(noisy, "cov_00"), last(noisy, "ref_cov_00"), 1e-5);
  EXPECT_GT(last(noisy, "ref_cov_00") - last(plain, "ref_cov_00"), 0.5); // 2 D t = 0.6
}

TEST(Diffusion, MassAndPositivityThroughAdaptation)
{
  const RunSummary s = run_without_output(parameters_from(
    "tests/data/isotropize-2d-adaptive.prm", {"Noise/diffusion=0.5", "Time stepping/end time=0.3"}));
  std::printf("adaptive 2D, D = 0.5: max mass defect %.2e, min check value %.2e, cells %g\n", s.max_mass_defect,
              s.min_check_value, last(s, "cells"));
  EXPECT_LE(s.max_mass_defect, 1e-12);
  EXPECT_LE(s.diffusion_clipped_mass, 1e-10);
  EXPECT_GE(last(s, "min_density"), -1e-12);
  EXPECT_NE(last(s, "cells"), 64.); // the mesh did adapt
}
