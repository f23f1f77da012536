// Internal to the fast summation (fast_summation*.cc): constants, the
// SIMD helpers and the Interpolator, whose parts live in
//   fast_summation.cc        driver: axes, root box, scale, pruning, Chebyshev transforms
//   fast_summation_grid.cc   factorised node grids
//   fast_summation_boxes.cc  the adaptive box recursion (degrees, errors, splitting)
//   fast_summation_simd.cc   the vectorised loops
//   fast_summation_butterfly.cc  the hand-off to the butterfly summation.
#pragma once

#include "attention/fast_summation.h"
#include "common/parallel_chunks.h"

#include <array>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <vector>

namespace tpde::attention::fast
{
  /// butterfly_work_limit_for once the root box is to be split (0: never).
  double butterfly_work_limit_after_root_split(unsigned int dim);
} // namespace tpde::attention::fast

namespace tpde::attention::fast::detail
{
  constexpr unsigned int max_dim = 3;
  // Degrees per direction tried on a box: multiples of 8 up to 32 (64 in
  // 1D); see Interpolator::process.
  constexpr unsigned int max_degree = 64;
  // Relative size below which a direction is treated as flat: the product
  // of the targets' and the sources' extents (a bound on the score change
  // across the direction), in units of the tolerance.
  constexpr double flat_fraction_of_tolerance = 1e-3;
  // A source is dropped from a box when its score stays this many nats
  // (plus log N) below the box's largest score everywhere in the box.
  constexpr double pruning_margin = 40.;
  // Recursion guard: deeper boxes are evaluated directly.
  constexpr unsigned int max_depth = 60;
  // Targets sampled exactly for the velocity scale S.
  constexpr std::size_t scale_sample_size = 32;
  // Reference coordinates of the two check points of a box (away from the
  // Chebyshev-Lobatto nodes and from each other).
  // Cost of a node of a factorised grid relative to an exact evaluation,
  // per source (measured about 1/6 in 2D and 3D; taken larger to be safe).
  constexpr double factorised_node_cost = 0.25;
  constexpr double check_points[2][max_dim] = {{0.3627, -0.7119, 0.5183},
                                               {-0.5431, 0.1789, -0.8277}};

  using Indices = std::vector<std::size_t>;

  /// Lowest and highest value per direction, for reduce_chunks.
  struct Bounds
  {
    double low[max_dim], high[max_dim];
    Bounds()
    {
      for (unsigned int k = 0; k < max_dim; ++k)
        {
          low[k]  = std::numeric_limits<double>::infinity();
          high[k] = -std::numeric_limits<double>::infinity();
        }
    }
    void include(unsigned int k, double value)
    {
      low[k]  = std::min(low[k], value);
      high[k] = std::max(high[k], value);
    }
    static void combine(Bounds &total, const Bounds &part)
    {
      for (unsigned int k = 0; k < max_dim; ++k)
        {
          total.low[k]  = std::min(total.low[k], part.low[k]);
          total.high[k] = std::max(total.high[k], part.high[k]);
        }
    }
  };

  // Where the time goes: with the environment variable TPDE_FAST_PROFILE
  // set, interpolate() prints the seconds spent per phase to stderr,
  // summed over the tasks (so on several threads the sum exceeds the wall
  // time). perf is not available on the development machine; these
  // timers cost two clock reads per phase and box.
  enum Phase
  {
    phase_setup,        // axes, root box and its pruning, velocity scale
    phase_nodes,        // node sums (exact or factorised grids) and check points
    phase_coefficients, // node bookkeeping, transforms, tails, dropping
    phase_targets,      // interpolants at the targets
    phase_direct,       // boxes summed directly
    phase_split,        // splitting: target lists and source pruning
    n_phases
  };
  constexpr const char *phase_names[n_phases] =
    {"setup", "nodes", "coefficients", "targets", "direct", "split"};

  struct Profile
  {
    const bool                        enabled = std::getenv("TPDE_FAST_PROFILE") != nullptr;
    std::atomic<std::int64_t>         nanoseconds[n_phases] = {};
    std::chrono::steady_clock::time_point start() const
    {
      return enabled ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    }
    void stop(Phase phase, std::chrono::steady_clock::time_point since)
    {
      if (enabled)
        nanoseconds[phase] += std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now() - since)
                                .count();
    }
    void print() const
    {
      if (!enabled)
        return;
      std::fprintf(stderr, "fast summation profile [s]:");
      for (int p = 0; p < n_phases; ++p)
        std::fprintf(stderr, " %s %.4f", phase_names[p], 1e-9 * nanoseconds[p].load());
      std::fprintf(stderr, "\n");
    }
  };

  constexpr std::size_t lanes = 8;
  typedef double        lanes_double __attribute__((vector_size(64)));


  // Factorised node grids (Interpolator::evaluate_grid): sources per
  // chunk (the chunk's factor rows stay in L2) and per group of chunks (one
  // task, one partial sum; fixed, so results do not depend on the threads).
  // At most max_grid_groups groups (larger ones for many sources): each
  // holds a partial sum of the whole grid (up to 33 x 36 x 132 doubles in 3D).
  constexpr std::size_t grid_chunk = 512, grid_group = 8 * grid_chunk, max_grid_groups = 16;
  // Register tile of grid_products: tile_rows x tile_columns accumulators
  // plus the rows loaded per step fit the 32 AVX-512 registers.
  constexpr std::size_t tile_rows = 4, tile_columns = 5;




  /// Axis-aligned box in rotated score space (active directions only).
  struct Box
  {
    double  lower[max_dim], upper[max_dim];
    Indices targets; // indices of the targets inside
    Indices sources; // sources that may matter in the box
    // Node work this box and its descendants may still spend (see
    // interpolate's node_allowance).
    double allowance = 0.;
  };

  /// A tensor Chebyshev series (layout as Interpolator::Interpolant) at
  /// eight points at once, one per vector lane: xi[m][l] is the reference
  /// coordinate of point l in direction m, values[o][l] its output o.
  /// Compiled per instruction set like the direct kernel's sweeps.
  void evaluate_interpolant_lanes(unsigned int        n_active,
                                  const unsigned int *degrees,
                                  unsigned int        n_outputs,
                                  const double       *coefficients,
                                  const unsigned int *line_length,
                                  const double (*xi)[lanes],
                                  double (*values)[lanes]);

  /// out[i][j] = exp(base[j] + scale[i] z[j] - shift[i]) (base null: 0),
  /// i < n_rows, j < length (a multiple of lanes).
  void exponential_rows(std::size_t   n_rows,
                        std::size_t   length,
                        const double *base,
                        const double *z,
                        const double *scale,
                        const double *shift,
                        double       *out);

  /// maximum[i] = max(maximum[i], max_j base[j] + scale[i] z[j]), j < length
  /// (a multiple of lanes).
  void maximum_rows(std::size_t   n_rows,
                    std::size_t   length,
                    const double *base,
                    const double *z,
                    const double *scale,
                    double       *maximum);

  /// C[r][c] = sum_j F[r][j] G[c][j] for r < n_rows (a multiple of
  /// tile_rows), c < n_columns (a multiple of tile_columns), j < length (a
  /// multiple of lanes): a small matrix product, the bulk of the work of a
  /// factorised node grid.
  void grid_products(std::size_t   n_rows,
                     std::size_t   n_columns,
                     std::size_t   length,
                     const double *F,
                     const double *G,
                     double       *C);

  class Interpolator
  {
  public:
    Interpolator(const ExponentialSum &sum,
                 std::size_t           n_targets,
                 const double         *targets,
                 double                tolerance,
                 double                max_interactions,
                 double                node_allowance,
                 double               *values,
                 const Collective     *collective = nullptr)
        : sum(sum)
        , dim(sum.dim)
        , n_outputs(sum.dim + (sum.log_scale ? 1 : 0))
        , n_targets(n_targets)
        , targets(targets)
        , tolerance(tolerance)
        , max_interactions(max_interactions)
        , node_allowance(node_allowance)
        , values(values)
        , collective(collective)
    {}

    Statistics run();

    /// fast::butterfly_work_per_pair (fast_summation_butterfly.cc).
    double butterfly_work_per_pair();

    /// interpolate_distributed (fast_summation_distributed.cc).
    Statistics run_distributed();

  private:
    const ExponentialSum &sum;
    const unsigned int    dim, n_outputs;
    const std::size_t     n_targets;
    const double         *targets;
    const double          tolerance;
    const double          max_interactions;
    const double          node_allowance;
    double               *values;
    // Distributed sums: the other processes (null: this one holds all).
    const Collective *collective;

    Profile profile;

    // Exact interactions (points x sources) so far, shared by the boxes
    // processed in parallel; past max_interactions everything stops.
    std::atomic<double> spent{0.};
    std::atomic<bool>   abandoned{false};

    /// Accounts for n_points exact evaluations over n_sources sources (each
    /// costing `weight` of an exact sum); false (and abandoned) if that
    /// exceeds the allowance.
    bool charge(std::size_t n_points, std::size_t n_sources, double weight = 1.);

    static Statistics abandon();

    // Score space: a = centre + R u, u_k = <R_k, a - centre>.
    double       centre[max_dim] = {};
    double       axes[max_dim][max_dim]; // columns: rotated axes
    unsigned int n_active = 0;
    unsigned int active[max_dim];   // active directions (rotated indices)
    double       flat_u[max_dim] = {}; // u of the flat directions (middle of the targets)
    std::vector<double> target_u;   // n_targets x dim (rotated)
    // Bounds of target_u per rotated direction (over all processes).
    double target_low[max_dim] = {}, target_high[max_dim] = {};
    // Sources for pruning: rotated, centred coordinates and log-weights
    // including the centre's score <centre, y_j>.
    std::vector<double> source_z; // n_sources x dim
    std::vector<double> source_log_weight;
    double              source_middle[max_dim] = {}; // subtracted from source_z
    double              pruning_threshold = 0.;
    // Error budget: tolerance S / 2 (log form for unnormalised sums).
    double log_half_budget = 0.;

    // Highest degree per direction; see process() for the 3D boxes that
    // are not factorisable.
    unsigned int last_degree = 32;

    /// Centre and principal axes of the targets' score vectors, the rotated
    /// targets and sources, the active directions; over all processes with
    /// a collective.
    void find_axes();
    /// The frame of a itself instead of the principal axes when the targets'
    /// bounding box is clearly smaller there (box_of_a: over all processes).
    /// The principal axes of nearly isotropic targets are set by rounding,
    /// and a square of targets seen at 45 degrees needs a box of twice the area.
    void keep_frame_of_a_if_tighter(const Bounds &box_of_a);
    /// The sources in the rotated frame (source_z, source_log_weight), their
    /// extent per rotated direction, the pruning threshold.
    void rotate_sources(double source_extent[max_dim]);
    /// With a collective: the bounds [low, high] over all processes (in place).
    void global_bounds(double *low, double *high, unsigned int n) const;

    /// The targets' bounding box (over all processes with a collective),
    /// with this process's targets and pruned sources.
    Box make_root_box() const;

    /// The velocity scale S from an exact evaluation at sample targets:
    /// evenly spaced ones and the extreme ones along every rotated axis.
    bool find_scale(const Indices &sources);
    Indices scale_sample; // the targets find_scale evaluated
    std::vector<double> scale_values; // and their exact values (n_outputs each)

    /// The butterfly summation (butterfly_summation.h) instead of the box
    /// recursion, where its predicted cost is well below the direct sum's
    /// and its values at the scale sample pass the error budget
    /// (fast_summation_butterfly.cc); false: nothing was decided.
    /// The work it spends (kept or not) comes off root's allowance and is
    /// counted in statistics.node_work.
    bool try_butterfly(Box &root, Statistics &statistics);
    /// Whether these sums may go to the butterfly (after find_axes): in 3D
    /// before the box recursion, in 2D once the root box is to be split.
    bool butterfly_applies() const;
    /// Set when the root box is to be split (no degree up to 32 holds the sums).
    bool root_split = false;
    /// The largest error at the targets `checked` (exact values given)
    /// against the budget's measure (1: exactly the budget), of values at
    /// all targets.
    double sample_error_over_budget(const Indices             &checked,
                                    const std::vector<double> &exact_values,
                                    const std::vector<double> &all_values) const;
    /// Evenly spaced targets (about n_even) and the extreme ones along every rotated axis.
    Indices sample_targets(std::size_t n_even) const;
    /// log max over the points of max_i |q_i| e^L (values as ExponentialSum::evaluate).
    double largest_log_velocity(std::size_t n_points, const double *point_values) const;

    /// Half-widths and middle of the box in every rotated direction
    /// (flat directions: the targets' extent there is negligible).
    void box_geometry(const Box &box, double middle[max_dim], double half[max_dim]) const;

    /// The sources of `candidates` (all n_candidates sources if null) whose largest score over the box comes
    /// within the pruning threshold of the largest smallest score.
    Indices prune(const Box &box, const std::size_t *candidates, std::size_t n_candidates) const;
    Indices prune(const Box &box, const Indices &candidates) const
    {
      return prune(box, candidates.data(), candidates.size());
    }

    /// Score vector of the rotated point u (flat directions at flat_u).
    void score_vector(const double reference[max_dim], const Box &box, double *a) const;

    /// Polynomial degree per active direction.
    using Degrees = std::array<unsigned int, max_dim>;

    std::size_t node_count(const Degrees &degrees) const;

    /// Multi-index of node `node` of the grid (direction m varies with
    /// stride prod_{m' < m} (degree_m' + 1)).
    void node_index(std::size_t node, const Degrees &degrees, unsigned int index[max_dim]) const;

    /// Values at the Chebyshev-Lobatto nodes cos(pi j / n_m) ->
    /// Chebyshev coefficients, in place (nodes x n_outputs), one direction
    /// at a time.
    void to_coefficients(const Degrees &degrees, std::vector<double> &data) const;

    /// An accepted interpolant: coefficients (nodes x n_outputs) and, per
    /// line along direction 0, how many leading coefficients matter.
    struct Interpolant
    {
      Degrees               degrees = {};
      std::vector<double>   coefficients;
      std::vector<unsigned> line_length;
    };

    /// The interpolant at reference coordinates xi (active directions).
    void interpolant_value(const Interpolant &interpolant,
                           const double       xi[max_dim],
                           double            *result) const;

    Statistics evaluate_directly(const Box &box);

    /// Whether evaluate_grid is accurate on this box (see there): the
    /// gap of its factors is far from underflow, and the rounding of its
    /// exponents (a few ulps of the largest score) far below the tolerance.
    bool factorisable(const Box &box) const;

    /// Values at all nodes of the box's grid (layout as node_index) in
    /// one pass over its sources, factorised: with u = middle + half xi,
    /// the score of source j at a node is
    ///   base_j + sum_m half_m xi_{m,i_m} z_{j,m} (+ a constant per node),
    /// so e^{score} is a product of one factor per direction, each needing
    /// only (degree + 1) exponentials per source instead of one per node.
    /// Direction 0 gives the rows F, directions 1 and 2 times (1, y_j) the
    /// columns G of the sums C = F G^T (grid_products), per node in
    /// direction 2. Every factor is shifted by its largest exponent, so
    /// none overflows; their product's largest term is then at least
    /// e^{-gap} with gap = sum_{m >= 1} half_m (extent of z_m), which must
    /// stay far from underflow. The exponents are rounded at the size of
    /// the scores instead of exactly (as in the direct kernel), so this is
    /// used only while that rounding is far below the tolerance; false
    /// (node_values untouched) otherwise, and the caller evaluates the
    /// nodes exactly.
    bool evaluate_grid(const Box &box, const Degrees &degrees, std::vector<double> &node_values) const;

    /// evaluate_grid's sources and factors (fast_summation_grid.cc).
    struct FactorGrid;
    /// Node coordinates, gathered sources and the shifts of the factors.
    void gather_grid(const Box &box, const Degrees &degrees, FactorGrid &grid) const;
    /// The shifts of the direction-0 factors: their largest exponent.
    void grid_row_shifts(FactorGrid &grid) const;
    /// The sums C = F G^T per node in direction 2, over all sources.
    std::vector<double> grid_sums(const FactorGrid &grid) const;
    /// Per node (layout as node_index) from the sums: the tilted mean (dim
    /// values, before V and offset) and log sum_j e^{s_j}, n_nodes x (dim + 1).
    void grid_partials(const FactorGrid &grid, const std::vector<double> &total, double *partials) const;
    /// Outputs (q, and L if log_scale) from tilted means and log-sums
    /// (n_points x (dim + 1)): q = V (mean + offset), L = log-sum + log_scale_offset.
    void outputs_from_partials(std::size_t n_points, const double *partials, double *values) const;
    /// Distributed sums: ExponentialSum::partial's values at the grid's
    /// nodes over this process's sources of the box, factorised; false
    /// (nothing written) where evaluate_grid would not be accurate.
    bool partial_grid(const Box &box, const Degrees &degrees, double *partials) const;

    /// One box's adaptive interpolation (process()): the degrees reached,
    /// the exact values known so far and the costs counted.
    struct BoxLevels
    {
      Statistics   statistics;
      double       node_cost    = 1.; // of a grid node, relative to an exact sum
      unsigned int first_degree = 8;  // also the step of the degrees
      unsigned int last_degree  = 32;
      Degrees      degrees      = {};
      bool                checked = false; // check_exact holds the values
      std::vector<double> check_exact;     // exact values at the check points
      // Every exact value so far, by node: cos(pi j / n) in direction m is
      // identified by j / n in lowest terms, so the nodes that grids of
      // different degrees share are evaluated once.
      std::map<std::array<unsigned int, 2 * max_dim>, std::vector<double>> known;
      std::vector<double> node_values; // current grid, nodes x n_outputs
      double              tail[max_dim] = {};
      double              node_work = 0.; // spent from the box's allowance
    };

    /// The interpolant of the current grid and its error estimate.
    struct Estimate
    {
      Interpolant interpolant;
      double      largest_q           = 0.; // max |q| over the nodes
      double      budget              = 0.; // allowed error
      double      error               = 0.; // estimated error
      double      largest_coefficient = 0.; // largest of degree >= 1
    };

    /// What an error of L weighs against one of q: max|q| (the velocity
    /// is q e^L), or 1 with ExponentialSum::absolute_error.
    double log_weight(const Estimate &estimate) const;

    static constexpr std::size_t n_check_points = 2;

    /// Degrees and costs of a new box.
    BoxLevels start_levels(const Box &box) const;
    /// Those of a box whose node grids are factorised or not.
    BoxLevels levels_for(bool factorised) const;

    /// Counts n_points node sums over the box's sources; against the box's
    /// allowance at `cost` each relative to an exact sum.
    static void count_exact(const Box &box, BoxLevels &levels, std::size_t n_points, double cost = 1.);

    /// Whether the box can still afford the grid of levels.degrees (and
    /// the check points, the first time) from its allowance.
    bool affordable(const Box &box, const BoxLevels &levels) const;

    /// Exact sums at the nodes of levels.degrees not yet known (and the check
    /// points the first time) into levels.node_values; false if abandoned.
    bool evaluate_nodes_exactly(const Box &box, BoxLevels &levels);

    /// Exact sums at the check points (once) after a factorised grid;
    /// false if abandoned.
    bool evaluate_check_points(const Box &box, BoxLevels &levels);

    /// Size of the coefficient of node `node`: q's worst component plus
    /// max |q| times the coefficient of L.
    double coefficient_size(const Estimate &estimate, std::size_t node) const;

    /// Coefficients of levels.node_values, the coefficient tails per
    /// direction (into levels.tail) and the error against the check points.
    Estimate estimate_error(BoxLevels &levels) const;

    /// Accepted interpolant: shortens the lines along direction 0 by the
    /// smallest coefficients that half the unused budget covers.
    void trim_coefficients(Estimate &estimate) const;

    /// The interpolant at the box's targets, into values.
    void interpolate_targets(const Box &box, const Interpolant &interpolant);

    /// Raises the degrees of the directions whose tail is too large; false
    /// if none is, or if some direction is not predicted to pass (split).
    bool raise_degrees(BoxLevels &levels, const Estimate &estimate) const;

    /// The direction with the largest coefficient tail.
    unsigned int split_direction(const BoxLevels &levels) const;

    /// The halves of `box` across active direction `direction`, with their
    /// targets and pruned sources.
    void halve(const Box &box, unsigned int direction, Box children[2]) const;

    // Distributed sums (fast_summation_distributed.cc).
    /// Combines every process's ExponentialSum::partial values at n_points
    /// (n_points x (dim + 1)) into the values (n_points x n_outputs).
    void combine(std::size_t n_points, const std::vector<double> &partials, double *combined) const;
    /// The velocity scale from sample targets of every process.
    void find_global_scale(const Indices &sources);
    struct OpenBox;
    /// The score vectors of every box's grid nodes, then of its check
    /// points the first time; box b's are points first[b] ... first[b + 1] - 1.
    std::vector<double> level_points(const std::vector<OpenBox> &boxes, std::vector<std::size_t> &first) const;
    /// Node sums at the grids of the boxes (and their check points, once)
    /// and the first process's decisions on them: accepted boxes are
    /// interpolated at this process's targets; the boxes of the next level
    /// (raised degrees, halves holding targets) are returned.
    std::vector<OpenBox> refine_level(std::vector<OpenBox> &boxes, Statistics &statistics);
    /// Direct sums at the boxes' targets, gathered from all processes.
    void sum_directly_across(const std::vector<OpenBox> &boxes, Statistics &statistics);

    /// Splits across the direction with the largest tail and processes both
    /// halves; the statistics of both added to this box's.
    Statistics split(const Box &box, unsigned int depth, const BoxLevels &levels);

    /// A box's interpolation, raised degrees, or split (or direct sums).
    /// In 2D a root box that is to be split goes to the butterfly first:
    /// a single root grid (mesh densities, typically) is cheaper than the
    /// butterfly, a deep tree (clustered particles) 2.4x dearer, and only
    /// the root tells them apart. The root's allowance pays for the try.
    Statistics process(Box &box, unsigned int depth);
  };
} // namespace tpde::attention::fast::detail
