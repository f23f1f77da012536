// Masked attention's tokens (physics.md §1.7): token j of N sits at the
// position s_j = (j + 1) / N (the i/n, i = 1..n, of §1.7: the last token at
// s = 1, no token at s = 0) and carries x_j drawn from the initial data at
// that position, so the tokens' s-marginal is the grid's Lebesgue one.
//
// How x_j is drawn, with the samplers of an unmasked run (particles/sampling.h):
//  * data that does not see s (a density of x, the circle's own types): the
//    N tokens of that density, in sampling order, one per position;
//  * upper data from s1 < 1: the tokens below s1 from the lower data (seed),
//    those from s1 on from the upper Gaussian (a seed derived from it, so the
//    two parts are independent);
//  * an expression of (s, x): token j by rejection from x -> rho(s_j, x)
//    (within the Mesh box, or from the uniform law on the circle), the bound
//    probed over (s, x) so that it holds for every position.
// Every slice is taken as a probability density in x (the expression type
// documents it; the grid normalises only the total mass).
#pragma once

#include "initial/initial_parameters.h"

#include <cstdint>
#include <vector>

namespace tpde
{
  /// s_j = (j + 1) / N, j = 0..n-1.
  double masked_token_position(std::size_t j, std::size_t n);

  /// N tokens (s_j, x_j) as rows of 1 + d numbers (box: x in R^d; circle:
  /// 1 + 1, the angle theta in [0, 2 pi)). `lower`, `upper`: the box of x
  /// (unused on the circle). Throws std::invalid_argument when it cannot sample.
  std::vector<double> sample_masked_tokens(const InitialConditionParameters &initial, std::size_t n,
                                           particles::Sampling sampling, std::uint64_t seed,
                                           const std::vector<double> &lower, const std::vector<double> &upper);
} // namespace tpde
