// Dynamics of the attention variants against their Gaussian moment ODEs
// (physics.md §5): T4, the 1D l2 collapse.
#include "support/solver_runs.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace tpde;
using namespace tpde::testing;

TEST(VariantDynamics, T4L2CollapseMatchesTheMomentOde)
{
  // v = 1, k = 1, q = -1, beta = 1, N(0, 0.5) on [-8, 8]; s(1) = 0.2264554258.
  const auto p = parameters_from("parameters/gaussian-1d-collapse.prm",
                                 {"Attention/type=l2", "Attention/Q=-1", "Attention/K=1", "Attention/V=1",
                                  "Initial condition/mean=0", "Mesh/lower corner=-8", "Mesh/upper corner=8"});
  const RunSummary s   = run_without_output(p);
  const double     var = column(s.header, s.last_row, "cov_00");
  const double     ref = column(s.header, s.last_row, "ref_cov_00");
  std::printf("T4 at t = 1: variance %.12f, reference %.12f (physics.md 0.2264554258), relative error %.2e\n",
              var, ref, std::abs(var / ref - 1));
  EXPECT_NEAR(ref, 0.2264554258, 1e-10);
  EXPECT_LE(std::abs(var / ref - 1), 1e-5);
  EXPECT_LE(std::abs(column(s.header, s.last_row, "mean_0")), 1e-12) << "the mean stays at 0";
  EXPECT_LE(s.max_mass_defect, 1e-12);
}
