// Gaussian references with idiosyncratic noise (Noise/diffusion D): the data
// stay Gaussian, the mean ODE is unchanged and the covariance ODE gains 2 D I
// (reference/gaussian_reference.h, set_diffusion); the grid run with the SIPG
// diffusion must follow it as closely as the runs without noise do.
#include "support/solver_runs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

using namespace tpde;
using namespace tpde::testing;

TEST(DiffusionGaussian, ReferencesIn1DAnd2D)
{
  // 1D softmax collapse against diffusion: the setting of Convergence.T1CollapseIn1D (Q2, 160 cells).
  const RunSummary s1 = run_without_output(parameters_from(
    "parameters/gaussian-1d-collapse.prm", {"Noise/diffusion=0.3", "Mesh/subdivisions=160", "Mesh/global refinements=0",
                                            "Discretization/degree=2", "Time stepping/end time=0.5"}));
  std::printf("1D softmax, D = 0.3: relative moment error %.2e (ref cov %.4f)\n", relative_moment_error(s1, 1),
              column(s1.header, s1.last_row, "ref_cov_00"));
  EXPECT_LE(relative_moment_error(s1, 1), 1e-6);
  EXPECT_LE(s1.max_mass_defect, 1e-12);
  // 2D: softmax, l2 and two heads, each with D = 0.2, in the resolved setting of the 2D reference tests.
  const std::vector<std::vector<std::string>> variants = {
    {"Attention/type=softmax"},
    {"Attention/type=l2"},
    {"Attention/type=multihead", "Attention/heads=2", "Attention/head Q=-0.26, 0.51 | -0.23, -0.32",
     "Attention/head K=-0.93, -0.21 | 1.11, 0.42",
     "Attention/head C=-1.04, -0.25; -0.39, -0.19 | 1.67, -0.86; -0.51, -0.50", "Attention/head beta=1"}};
  for (const auto &variant : variants)
    {
      auto o = resolved_gaussian_2d(variant);
      o.push_back("Noise/diffusion=0.2");
      o.push_back("Time stepping/end time=0.25"); // the 1 core budget of this file
      const RunSummary s = run_without_output(parameters_from("parameters/gaussian-2d-isotropize.prm", o));
      const double     e = relative_moment_error(s, 2);
      std::printf("2D %s, D = 0.2: relative moment error %.2e (ref cov_11 %.4f)\n", variant[0].c_str(), e,
                  column(s.header, s.last_row, "ref_cov_11"));
      EXPECT_LE(e, 1e-5) << variant[0];
      EXPECT_LE(s.max_mass_defect, 1e-12);
    }
}

TEST(DiffusionGaussian, SinkhornIn1D)
{
  // The setting of VariantDynamics.T5SinkhornCollapseMatchesTheMomentOde with D = 0.2 to t = 0.5.
  const RunSummary s = run_without_output(parameters_from(
    "parameters/gaussian-1d-collapse.prm",
    {"Attention/type=sinkhorn", "Attention/Q=1", "Attention/K=1", "Attention/V=-1", "Attention/sinkhorn epsilon=1",
     "Attention/sinkhorn tolerance=1e-12", "Initial condition/mean=0.3", "Mesh/lower corner=-8",
     "Mesh/upper corner=8", "Noise/diffusion=0.2", "Time stepping/end time=0.5"}));
  const double var = column(s.header, s.last_row, "cov_00"), ref = column(s.header, s.last_row, "ref_cov_00");
  std::printf("1D Sinkhorn, D = 0.2: variance %.10f, reference %.10f, relative error %.2e\n", var, ref,
              std::abs(var / ref - 1));
  EXPECT_LE(std::abs(var / ref - 1), 1e-5);
  EXPECT_LE(relative_moment_error(s, 1), 1e-5);
  EXPECT_LE(s.max_mass_defect, 1e-12);
}

TEST(DiffusionGaussian, SecondOrderInTime)
{
  // Strang splitting of SDIRK2 half steps around SSP-RK3: order 2. The 1D collapse with D = 0.3 to t = 1 on
  // 80 Q3 cells (the spatial error far below) at fixed steps below the CFL step (~0.0099): the error of
  // the variance against the reference falls by 4 per halving.
  std::vector<double> errors;
  for (const char *dt : {"0.008", "0.004", "0.002"})
    {
      const RunSummary s = run_without_output(parameters_from(
        "parameters/gaussian-1d-collapse.prm",
        {"Noise/diffusion=0.3", "Mesh/subdivisions=80", "Mesh/global refinements=0", "Discretization/degree=3",
         "Time stepping/end time=1", "Time stepping/cfl=1", std::string("Time stepping/maximum time step=") + dt,
         "Output/interval=0"}));
      errors.push_back(std::abs(column(s.header, s.last_row, "cov_00") - column(s.header, s.last_row, "ref_cov_00")));
      std::printf("dt = %s: variance error %.3e%s", dt, errors.back(), errors.size() > 1 ? "" : "\n");
      if (errors.size() > 1)
        {
          const double order = std::log2(errors[errors.size() - 2] / errors.back());
          std::printf(", order %.2f\n", order);
          EXPECT_GE(order, 1.9);
          EXPECT_LE(order, 2.2);
        }
    }
}
