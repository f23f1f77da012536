// The Sinkhorn scaling behind Sinkhorn attention (physics.md §1.5), on its own
// so that tests and the particle solver can use the potentials directly.
//
// For the probability measure mu = sum_j p_j delta_{y_j}, p_j = w_j / sum_i w_i,
// and the score s(x, y) = <S x, y>, find potentials f, g (in units of the
// temperature: f = f_physics / epsilon) such that the plan
//   pi(x, y) = exp(s(x, y) + f(x) + g(y))
// has both marginals 1: sum_j p_j pi(y_i, y_j) = 1 for every i and
// sum_i p_i pi(y_i, y_j) = 1 for every j (sources with p > 0).
#pragma once

#include "common/matrix.h"

#include <cstddef>
#include <limits>
#include <vector>

namespace tpde::attention
{
  struct SinkhornSolution
  {
    /// g(y_j) for every source j (zero-weight sources included: g extends to
    /// any point by the column formula). f follows from g by the row formula
    ///   f(x) = -log sum_j p_j exp(s(x, y_j) + g(y_j)),
    /// which makes the row marginals exact at every x.
    std::vector<double> potential;
    unsigned int        iterations = 0; // row + column updates performed
    /// max_j |sum_i p_i pi(y_i, y_j) - 1| over the sources with p_j > 0 for
    /// (f, g) as above (the rows are exact up to rounding).
    double marginal_error = 0;
    /// With fast sums: the marginal error as measured with them plus the
    /// bound of their errors, 2 tolerance / 4 (an estimate of the exact
    /// marginal error from above, see sinkhorn.cc); whether they were used
    /// to the end (false: gave up for the direct sums).
    bool fast = false;
  };

  struct Parameters;

  /// How solve_sinkhorn evaluates the two log-sum-exps of an iteration.
  /// Direct: all pairs, exact to rounding. Fast: the fast summation
  /// (fast_summation.h) with an absolute error bound on the potentials of a
  /// quarter of the tolerance each (see sinkhorn.cc for why), giving up for
  /// the direct sums for the rest of the solve once one sum's exact
  /// evaluations exceed max_fraction of the direct sum's pairs, and with the
  /// node grids of each sum bounded by node_fraction of its pairs
  /// (fast::interpolate's node_allowance: what does not fit is summed
  /// directly box by box).
  struct SinkhornSummation
  {
    bool   fast          = false;
    double max_fraction  = std::numeric_limits<double>::infinity();
    double node_fraction = std::numeric_limits<double>::infinity();
  };

  /// Sinkhorn (physics.md §2.5): the matrix Gamma of the conditional mean
  /// E_pi[y | x] = alpha + Gamma (x - alpha) of the entropic plan of N(alpha, Sigma)
  /// with itself for the score (beta / epsilon) <Qx, Ky>; the velocity is
  /// V (alpha + Gamma (x - alpha)). Sigma symmetric positive definite. The
  /// moment model of the variant.
  Matrix sinkhorn_regression_matrix(const Matrix &Sigma, const Parameters &parameters);

  /// Log-domain Sinkhorn iterations g -> f -> g, started from
  /// `initial_potential` (n_sources entries, or empty for g = 0), until the
  /// column marginal error is <= tolerance or after max_iterations updates
  /// (then marginal_error > tolerance: the caller decides). sources is
  /// n_sources x dim row-major, weights >= 0 with a positive sum, dim = 1..3,
  /// score_matrix dim x dim. Deterministic and threaded (TBB). `summation`:
  /// direct sums by default.
  SinkhornSolution solve_sinkhorn(unsigned int               dim,
                                  std::size_t                n_sources,
                                  const double              *sources,
                                  const double              *weights,
                                  const Matrix              &score_matrix,
                                  double                     tolerance,
                                  unsigned int               max_iterations,
                                  const std::vector<double> &initial_potential,
                                  const SinkhornSummation   &summation = {});
} // namespace tpde::attention
