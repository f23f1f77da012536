// The exponential kernel family (defined in exponential_kernel.cc)
//   X(x) = V sum_j w_j exp(s <Kx', ...>) y_j / (normalised ? sum_j w_j exp(...) : sum_j w_j)
// behind softmax, l2 and unnormalized attention.
#pragma once

#include "attention/fast_summation.h"
#include "attention/kernel_base.h"

#include <cstddef>
#include <optional>
#include <memory>
#include <string>

namespace tpde::attention
{
  /// The rule of `evaluation = auto`, a cost model in units of one pair
  /// (target, source) of the direct sum, so that it depends only on the data
  /// (no clock: the same choice on any number of threads and after a
  /// restart). A probe runs the fast summation (fast_summation.h) on
  /// fast_summation_probe_sources evenly spaced sources: how many boxes,
  /// degrees and node sums the interpolation needs follows from how smooth
  /// the sums are in score space, which such a sample shows at a small part
  /// of the cost. plan_fast_summation prices its counts, with M targets and
  /// N sources:
  ///   fast   = exact node sums * (node_cost * N + node_overhead)
  ///            + factorised grid nodes * (grid_node_cost * N + node_overhead)
  ///            + directly summed targets * N + target_cost * interpolated targets,
  ///   direct = M * N,
  /// and auto interpolates when fast <= margin * direct. The probe gives up
  /// (direct) once its node sums exceed probe_node_limit: past it either the
  /// fast summation cannot win or the probe would cost more than
  /// probe_fraction of the direct sum (10%: with 1024 of ~1e4 sources a probe
  /// costs about 14% of the fast run it predicts, so at 5% it gave up on T6
  /// at 32^2 where fast costs 0.38 of direct). Targets the probe would sum
  /// directly cost it nothing and are not charged. The fast run's node grids are bounded
  /// at break-even (margin * direct / node_cost pairs; boxes that cannot
  /// afford their next grid are summed directly), so a badly misjudged probe
  /// costs at most about the direct sum more. The probe's sample includes the
  /// extreme sources per coordinate: the spread of the scores, which sets
  /// the number of boxes, grows with the sources' extent. The constants were measured on the
  /// development machine (AMD EPYC, 2 cores, AVX-512, 2026-12-04; 2D softmax
  /// on clustered data, build/bench_auto_choice: a node sum costs 1.2-1.6
  /// pairs per source plus 0.2-0.7 us, a pair ~0.54 ns, on one thread).
  /// fast_summation_pays: tolerance >= 1e-13 (below it the rounding of the
  /// score vectors, ~1e-16 of the largest score, is no longer negligible),
  /// at least fast_summation_min_sources sources, and a probe limit of at
  /// least a first grid and the velocity scale's sample.
  constexpr std::size_t fast_summation_min_sources      = 2000;
  constexpr std::size_t fast_summation_probe_sources    = 1024;
  constexpr double      fast_summation_min_tolerance    = 1e-13;
  constexpr double      fast_summation_node_cost        = 1.4;
  // A node of a factorised grid (fast_summation_grid.cc), per source: fast's
  // 10126 node sums over 1e4 clustered tokens took as long as ~0.6 x 1e8 pairs
  // (2026-12-04; priced at 1.4 the probe gave up where fast was 1.2x cheaper).
  constexpr double      fast_summation_grid_node_cost   = 0.6;
  constexpr double      fast_summation_node_overhead    = 500.;
  constexpr double      fast_summation_target_cost      = 100.;
  constexpr double      fast_summation_margin           = 0.9;
  constexpr double      fast_summation_probe_fraction   = 0.1;
  /// Node sums after which the probe gives up (see above).
  double fast_summation_probe_node_limit(std::size_t n_targets, std::size_t n_sources);
  bool   fast_summation_pays(std::size_t n_targets, std::size_t n_sources, double tolerance);

  struct FastSummationPlan
  {
    bool   fast           = false;
    double fast_cost      = 0.; // predicted, in pairs of the direct sum
    double direct_cost    = 0.;
    double node_allowance = 0.; // for fast::interpolate (pairs)
  };
  /// auto's choice from a probe's statistics (above).
  FastSummationPlan plan_fast_summation(const fast::Statistics &probe, std::size_t n_targets, std::size_t n_sources);

  /// auto's choice where fast::interpolate would hand the sums to the
  /// butterfly summation (fast_summation.h: full-rank 3D, predicted work at
  /// most butterfly_work_limit per pair): fast, without a probe; else none.
  std::optional<FastSummationPlan> plan_butterfly_summation(const fast::ExponentialSum &sum,
                                                            std::size_t                 n_targets,
                                                            const double               *score_vectors,
                                                            double                      tolerance);

  /// Sinkhorn's iterations (no probe): node grids bounded by this fraction
  /// of the pairs.
  constexpr double fast_summation_node_fraction = 0.1;

  /// Scores score_factor * <Qx, K y_j> - key_penalty * |K y_j|^2 + log w_j;
  /// `normalised` divides by the exponential sum (softmax) or by the total
  /// weight (unnormalized).
  std::unique_ptr<Kernel> create_exponential_kernel(const std::string &variant,
                                                    const Parameters  &parameters,
                                                    double             score_factor,
                                                    double             key_penalty,
                                                    bool               normalised);

  /// The ScoreForm of that kernel: A = score_factor K^T Q, c = -key_penalty.
  ScoreForm exponential_score_form(const Parameters &parameters, double score_factor, double key_penalty);

  /// Score factor beta (softmax, unnormalized: scores beta <Qx, Ky>).
  inline double beta_score_factor(const Parameters &parameters) { return parameters.beta; }

  /// Key penalty 0 (no -c |Ky|^2 term).
  inline double no_key_penalty(const Parameters &) { return 0.; }

  /// A variant evaluated by create_exponential_kernel with the score factor
  /// and key penalty its functions take from the parameters, with the
  /// capabilities all of them share (score form, masked base, fast
  /// summation, float exponential); the caller adds a moment model.
  Variant make_exponential_variant(const std::string &name,
                                   const std::string &documentation,
                                   double (*score_factor)(const Parameters &),
                                   double (*key_penalty)(const Parameters &),
                                   bool normalised);
} // namespace tpde::attention
