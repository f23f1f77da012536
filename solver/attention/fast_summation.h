// Fast summation for the exponential attention kernels (softmax, l2,
// unnormalized): cost ~ (N + M) instead of N M at a user tolerance.
//
// The velocity at a target depends on it only through its score vector
// a = A x (A = factor K^T Q, physics.md §1): with sources y_j and log-weights
// l_j it is a smooth function of a,
//   q(a) = V sum_j e^{<a, y_j> + l_j} y_j / sum_j e^{<a, y_j> + l_j}
// (the mean of the tilted source measure, mapped by V; the gradient of the
// log cumulant generating function), times exp(L(a)) with the log of the
// normalisation L(a) = log sum_j e^{<a, y_j> + l_j} for unnormalised
// attention. So q (and L) are interpolated in a-space:
//  * a-space is rotated to the principal axes of the targets' score vectors
//    (or kept in its own frame when the targets' bounding box is smaller
//    there than 0.9 of the principal one: the principal axes of a square
//    grid of targets are set by rounding);
//    directions in which the targets' extent times the sources' extent is
//    below 1e-3 tolerance (nats) are flat (rank-deficient K^T Q, k < d);
//  * the targets' bounding box is split adaptively; on each box q (and L)
//    are interpolated by tensor Chebyshev polynomials at the
//    Chebyshev-Lobatto points, with values of the sums at the nodes.
//    The degree starts at 8 per direction and is raised, per
//    direction whose coefficient tail is not yet small, to the smallest
//    multiple of the first degree (up to 32; 64 in 1D) that the
//    decay of the coefficients predicts to suffice. Where the scores are
//    moderate (nearly always), the whole grid is evaluated at once,
//    factorised: e^{<a, y>} is a product of one factor per direction over
//    the tensor grid, so a grid costs per source (degree + 1) exponentials
//    per direction and (dim + 1) multiply-adds per node (a small matrix
//    product) instead of an exponential per node. Otherwise (and in 3D
//    then from degree 4 up to 16 only) exact values are kept
//    by node (cos(pi j / n) is the same node for every j / n in lowest
//    terms), so nodes shared by the grids are evaluated once. A box is
//    accepted when the sum over the directions of its coefficients in the
//    two highest degrees of that direction (the truncation error of a
//    geometrically converging series is below that) and the interpolation
//    error at two extra check points are within the box's error budget.
//    When the decay predicts that the highest degree will not do, the box
//    is split in half across the direction with the largest tail instead;
//  * an accepted box drops its smallest coefficients within half of the
//    unused budget and is evaluated at its targets eight at a time (SIMD);
//  * a box holding no more targets than the nodes of its next degree
//    (a quarter of them for factorised grids, whose nodes are cheaper) is
//    evaluated directly instead (so no box costs much more than the direct
//    sum over its targets), which also ends the recursion;
//  * per box, sources whose score cannot come within 40 + log N nats of the
//    box's largest score anywhere in the box are dropped (each contributes
//    below e^-40 relative; bounds from the box's corners), children start
//    from their parent's list.
//
// Wide full-rank 3D sums (three active directions) go instead to the
// butterfly summation (butterfly_summation.h) when its predicted work is
// well below the direct sum's (butterfly_work_limit below): with a wide
// score range the box recursion above needs grids of degree 24-32 per
// direction summed over every source, where the butterfly's cost is
// (targets + sources) times a grid of ~16 points per direction plus a part
// that depends on the score range only. Its result is kept if it meets the
// budget below at the velocity scale's sample targets (exact sums), else
// the box recursion runs. Full-rank 2D sums go to it only once the root box
// is to be split, its degrees (up to 32) not predicted to meet the budget
// (butterfly_work_limit_after_root_split, fast_summation_butterfly.cc): a
// single root grid, common for mesh densities, is cheaper than the
// butterfly, while clustered particles, whose box trees are deep, sum about
// 2x faster by the butterfly (3-8x faster particle runs, README).
//
// Error budget. With S the largest |velocity| over a sample of targets
// (evaluated exactly; S is at most the true maximum, so this is
// conservative), every box needs
//   e^{max L} (|error of q| + max|q| |error of L|) <= tolerance S / 2,
// L = 0 for normalised attention. As far as the error estimate holds (it is
// an estimate, not a bound: tails of series that converge at least
// geometrically, as these analytic functions' do, checked at two points),
// the result satisfies
//   max_t |v_fast(x_t) - v_direct(x_t)| <= tolerance max_t |v_direct(x_t)|
// (with ExponentialSum::absolute_error: max_t |L_fast - L_direct| <= tolerance for q = 0)
// (max norm over targets and components) up to the rounding of the score
// vectors, ~1e-16 times the largest |score|. tests/kernels/test_fast_summation.cc
// checks it for every variant against the direct sums.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <vector>

namespace tpde::attention::fast
{
  /// The sum to interpolate, in its score space (dimension dim <= 3).
  struct ExponentialSum
  {
    unsigned int dim = 0;
    /// Outputs per point: dim components of q, then L if log_scale.
    bool log_scale = false;
    /// With log_scale: the budget is absolute instead of relative to the
    /// velocity, every box needs |error of q| + |error of L| <= tolerance / 2
    /// (no scale sample). For sums whose logarithm is the result, e.g. the
    /// Sinkhorn potentials (sinkhorn.cc), with V = 0 so that q = 0.
    bool absolute_error = false;

    /// A probe (evaluation = auto, exponential_kernel.h): count the boxes
    /// and node sums as usual but leave the values at the targets unset
    /// (neither interpolants nor direct sums are evaluated there).
    bool probe = false;

    /// The sources, for pruning: n_sources points y_j (row-major) and log_weight l_j.
    std::size_t   n_sources  = 0;
    const double *coordinate = nullptr;
    const double *log_weight = nullptr;

    /// How the outputs follow from the sums, for evaluating whole node grids
    /// at once (factorised, see fast_summation.cc): with s_j = <a, y_j> + l_j,
    ///   q(a) = V (sum_j e^{s_j} y_j / sum_j e^{s_j} + offset),
    ///   L(a) = log sum_j e^{s_j} + log_scale_offset.
    /// evaluate() below must agree with this up to rounding. V: dim x dim,
    /// row-major; null stands for the identity.
    const double *V                = nullptr;
    double        offset[3]        = {};
    double        log_scale_offset = 0.;

    /// Exact values at n_points score vectors (row-major) using only the
    /// sources listed in `subset` (indices into the arrays above; all
    /// sources if null): n_points x (dim + log_scale), row-major.
    std::function<void(std::size_t                      n_points,
                       const double                    *points,
                       const std::vector<std::size_t> *subset,
                       double                          *values)>
      evaluate;

    /// Distributed sums (interpolate_distributed): this process's part at
    /// n_points score vectors over its sources in `subset` (all if null):
    /// per point the tilted mean sum_j e^{s_j} y_j / sum_j e^{s_j} (dim
    /// values, before V and offset) and log sum_j e^{s_j} (-inf, mean 0,
    /// without sources), with every process's s_j on one common scale.
    std::function<void(std::size_t                      n_points,
                       const double                    *points,
                       const std::vector<std::size_t> *subset,
                       double                          *values)>
      partial;
    /// What partial adds to log sum_j e^{s_j} to put this process's sums on
    /// the common scale (e.g. the log of its heaviest weight when l_j are
    /// relative to it): node grids summed by the interpolator itself
    /// (factorised) are put on that scale alike.
    double partial_log_offset = 0.;
  };

  /// The processes (MPI ranks) that share one distributed sum, as the few
  /// collective operations it needs, so that this library needs no MPI.
  /// Every process calls them in the same order with the same sizes.
  struct Collective
  {
    /// In place, element-wise over all processes.
    std::function<void(double *, std::size_t)> sum, max;
    /// In place: the first process's values to all.
    std::function<void(double *, std::size_t)> broadcast;
    /// Every process's `local` values, concatenated in process order; offset:
    /// where this process's part starts.
    std::function<std::vector<double>(const std::vector<double> &local, std::size_t &offset)> gather;
  };

  struct Statistics
  {
    std::size_t boxes_interpolated = 0; // accepted boxes
    std::size_t boxes_direct       = 0; // boxes evaluated directly
    std::size_t boxes_split        = 0; // rejected and split
    std::size_t node_evaluations   = 0; // exact evaluations at nodes and check points
    std::size_t grid_node_evaluations = 0; // of those, nodes of factorised grids (cheaper; see fast_summation_grid.cc)
    std::size_t direct_targets     = 0; // targets evaluated directly
    double      interactions       = 0; // points x sources summed exactly (after pruning)
    double      node_work          = 0; // points x sources of nodes, check points and the scale sample
    bool        abandoned          = false; // max_interactions reached: values incomplete
    double      butterfly_work     = 0.; // multiply-adds of the butterfly summation, if it was used (butterfly_summation.h)
  };

  /// Values of the sum (as ExponentialSum::evaluate) at n_targets score
  /// vectors to the relative tolerance described at the top of this file.
  /// tolerance > 0. Gives up (Statistics::abandoned, values incomplete) as
  /// soon as the exact evaluations would exceed max_interactions points x
  /// sources, so that a caller can fall back to the direct sum when the
  /// interpolation does not pay.
  ///
  /// node_allowance (points x sources of exact sums; a node of a factorised
  /// grid is charged at its cost relative to an exact sum, factorised_node_cost
  /// in fast_summation_internal.h, while Statistics::node_work counts it as a
  /// whole pair) bounds the work spent on node grids and the velocity scale, the
  /// part that is lost when a box is not accepted: the root box gets it,
  /// every box spends from its own, a split box hands the rest to its halves
  /// in proportion to their targets, and a box that cannot afford its next
  /// grid is summed directly (over its pruned sources). So the result is
  /// always complete, costs at most node_allowance more than the direct sum,
  /// and depends only on the data (not on the threads). Infinite: no bound.
  Statistics interpolate(const ExponentialSum &sum,
                         std::size_t           n_targets,
                         const double         *targets,
                         double                tolerance,
                         double               *values,
                         double max_interactions = std::numeric_limits<double>::infinity(),
                         double node_allowance   = std::numeric_limits<double>::infinity());

  /// interpolate() hands full-rank 3D sums (three active directions, see
  /// the top of this file) to the butterfly summation (butterfly_summation.h)
  /// when its predicted work is at most this many multiply-adds per pair
  /// (target, source) of the direct sum: the direct kernel sums 1.4e9 pairs
  /// per second and core, the butterfly's loops run about 3.6e9 multiply-adds
  /// (butterfly_multiply_adds_per_pair in the time of a pair), so this is
  /// about twice as fast as the direct sum or better. Its values
  /// are kept if they meet the error budget at the velocity scale's sample
  /// targets (else the box recursion below runs).
  constexpr double butterfly_multiply_adds_per_pair = 2.6;
  constexpr double butterfly_work_limit             = 0.5 * butterfly_multiply_adds_per_pair;
  /// The limit for a score space of `dim` active directions before the box
  /// recursion (0: never, as in 1D and 2D; 2D may hand over after the root
  /// box, see fast_summation_butterfly.cc).
  double butterfly_work_limit_for(unsigned int dim);

  /// The butterfly's predicted multiply-adds per pair of the direct sum if
  /// interpolate() would try it on these sums (full rank in 3D, no probe),
  /// else infinity: for evaluation = auto (exponential_kernel.h).
  double butterfly_work_per_pair(const ExponentialSum &sum,
                                 std::size_t           n_targets,
                                 const double         *targets,
                                 double                tolerance);

  /// interpolate() with the targets and the sources split among the
  /// processes of `collective`, which all call it together. They share one
  /// box tree over all targets' score vectors (axes and extents from
  /// reductions) and refine it level by level: at each level every process
  /// sums its own sources at the nodes and check points of all boxes (its
  /// grids factorised where its sources allow, as on one process, with
  /// partial_log_offset; else ExponentialSum::partial), the partial sums are combined in two reductions
  /// (the largest log-sum, then the rescaled sums), and the first process's
  /// decisions (accept, raise the degrees, split) are broadcast, so that the
  /// trees agree exactly. Boxes with few targets in all are summed directly:
  /// their targets are gathered, summed by every process over its sources
  /// and combined likewise. The data exchanged depend on the number of
  /// boxes and nodes, which the smoothness of the sums sets, not on the
  /// number of sources. Pruning uses this process's sources only, which
  /// keeps more of them than the global bound would. No probe.
  Statistics interpolate_distributed(const ExponentialSum &sum,
                                     std::size_t           n_targets,
                                     const double         *targets,
                                     double                tolerance,
                                     double               *values,
                                     const Collective     &collective);
} // namespace tpde::attention::fast
