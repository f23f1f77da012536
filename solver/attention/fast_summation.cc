// Adaptive Chebyshev interpolation of the exponential sums in score space;
// the method and its error budget are described in fast_summation.h.
#include "attention/fast_summation.h"
#include "attention/simd_exp.h"
#include "common/symmetric_eigen.h"

// The lane helpers below are compiled into target clones and never called
// across an ABI boundary with vector arguments (-Wpsabi would warn about the
// non-AVX-512 clones).
#pragma GCC diagnostic ignored "-Wpsabi"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <stdexcept>

namespace tpde::attention::fast
{
  namespace
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

    // Where the time goes: with the environment variable TPDE_FAST_PROFILE
    // set, interpolate() prints the seconds spent per phase to stderr,
    // summed over the tasks (so on several threads the sum exceeds the wall
    // time). perf is not available on the development machine; these
    // timers cost two clock reads per phase and box.
    enum Phase
    {
      phase_setup,        // axes, root box and its pruning, velocity scale
      phase_nodes,        // exact evaluations at nodes and check points
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

    /// A tensor Chebyshev series (layout as Interpolator::Interpolant) at
    /// eight points at once, one per vector lane: xi[m][l] is the reference
    /// coordinate of point l in direction m, values[o][l] its output o.
    /// Compiled per instruction set like the direct kernel's sweeps.
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void
    evaluate_interpolant_lanes(unsigned int        n_active,
                               const unsigned int *degrees,
                               unsigned int        n_outputs,
                               const double       *coefficients,
                               const unsigned int *line_length,
                               const double (*xi)[lanes],
                               double (*values)[lanes])
    {
      lanes_double chebyshev[max_dim][max_degree + 1];
      for (unsigned int m = 0; m < n_active; ++m)
        {
          lanes_double x;
          std::memcpy(&x, xi[m], sizeof x);
          chebyshev[m][0] = lanes_double{} + 1.;
          chebyshev[m][1] = x;
          for (unsigned int k = 2; k <= degrees[m]; ++k)
            chebyshev[m][k] = 2. * x * chebyshev[m][k - 1] - chebyshev[m][k - 2];
        }
      lanes_double       result[max_dim + 1] = {};
      const unsigned int line_size           = n_active == 0 ? 1 : degrees[0] + 1;
      std::size_t        n_lines             = 1;
      for (unsigned int m = 1; m < n_active; ++m)
        n_lines *= degrees[m] + 1;
      unsigned int index[max_dim] = {}; // of directions 1.. of the line
      for (std::size_t line = 0; line < n_lines; ++line)
        {
          const unsigned int length = line_length[line];
          if (length > 0)
            {
              const double *c                   = &coefficients[line * line_size * n_outputs];
              lanes_double  along[max_dim + 1] = {};
              for (unsigned int k = 0; k < length; ++k)
                {
                  const lanes_double t = n_active > 0 ? chebyshev[0][k] : lanes_double{} + 1.;
                  for (unsigned int o = 0; o < n_outputs; ++o)
                    along[o] += t * c[k * n_outputs + o];
                }
              lanes_double weight = lanes_double{} + 1.;
              for (unsigned int m = 1; m < n_active; ++m)
                weight *= chebyshev[m][index[m]];
              for (unsigned int o = 0; o < n_outputs; ++o)
                result[o] += weight * along[o];
            }
          for (unsigned int m = 1; m < n_active && ++index[m] > degrees[m]; ++m)
            index[m] = 0;
        }
      for (unsigned int o = 0; o < n_outputs; ++o)
        std::memcpy(values[o], &result[o], sizeof result[o]);
    }

    // Factorised node grids (Interpolator::evaluate_grid): sources per
    // chunk (the chunk's factor rows stay in L2) and per group of chunks (one
    // task, one partial sum; fixed, so results do not depend on the threads).
    // At most max_grid_groups groups (larger ones for many sources): each
    // holds a partial sum of the whole grid (up to 33 x 36 x 132 doubles in 3D).
    constexpr std::size_t grid_chunk = 512, grid_group = 8 * grid_chunk, max_grid_groups = 16;
    // Register tile of grid_products: tile_rows x tile_columns accumulators
    // plus the rows loaded per step fit the 32 AVX-512 registers.
    constexpr std::size_t tile_rows = 4, tile_columns = 5;

    /// out[i][j] = exp(base[j] + scale[i] z[j] - shift[i]) (base null: 0),
    /// i < n_rows, j < length (a multiple of lanes).
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void
    exponential_rows(std::size_t   n_rows,
                     std::size_t   length,
                     const double *base,
                     const double *z,
                     const double *scale,
                     const double *shift,
                     double       *out)
    {
      for (std::size_t i = 0; i < n_rows; ++i)
        for (std::size_t j = 0; j < length; j += lanes)
          {
            lanes_double b = {}, y;
            if (base != nullptr)
              std::memcpy(&b, base + j, sizeof b);
            std::memcpy(&y, z + j, sizeof y);
            const lanes_double value = simd::exp_lanes((b - shift[i]) + scale[i] * y);
            std::memcpy(out + i * length + j, &value, sizeof value);
          }
    }

    /// maximum[i] = max(maximum[i], max_j base[j] + scale[i] z[j]), j < length
    /// (a multiple of lanes).
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void
    maximum_rows(std::size_t   n_rows,
                 std::size_t   length,
                 const double *base,
                 const double *z,
                 const double *scale,
                 double       *maximum)
    {
      for (std::size_t i = 0; i < n_rows; ++i)
        {
          lanes_double largest = lanes_double{} + maximum[i];
          for (std::size_t j = 0; j < length; j += lanes)
            {
              lanes_double b, y;
              std::memcpy(&b, base + j, sizeof b);
              std::memcpy(&y, z + j, sizeof y);
              const lanes_double value = b + scale[i] * y;
              largest                  = value > largest ? value : largest;
            }
          for (std::size_t l = 0; l < lanes; ++l)
            maximum[i] = std::max(maximum[i], largest[l]);
        }
    }

    /// C[r][c] = sum_j F[r][j] G[c][j] for r < n_rows (a multiple of
    /// tile_rows), c < n_columns (a multiple of tile_columns), j < length (a
    /// multiple of lanes): a small matrix product, the bulk of the work of a
    /// factorised node grid.
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void
    grid_products(std::size_t   n_rows,
                  std::size_t   n_columns,
                  std::size_t   length,
                  const double *F,
                  const double *G,
                  double       *C)
    {
      // Columns outside: the tile's G rows are reused from L1 for all rows.
      for (std::size_t c0 = 0; c0 < n_columns; c0 += tile_columns)
        for (std::size_t r0 = 0; r0 < n_rows; r0 += tile_rows)
          {
            lanes_double sum[tile_rows][tile_columns] = {};
            for (std::size_t j = 0; j < length; j += lanes)
              {
                lanes_double f[tile_rows], g[tile_columns];
                for (std::size_t a = 0; a < tile_rows; ++a)
                  std::memcpy(&f[a], F + (r0 + a) * length + j, sizeof f[a]);
                for (std::size_t b = 0; b < tile_columns; ++b)
                  std::memcpy(&g[b], G + (c0 + b) * length + j, sizeof g[b]);
                for (std::size_t a = 0; a < tile_rows; ++a)
                  for (std::size_t b = 0; b < tile_columns; ++b)
                    sum[a][b] = f[a] * g[b] + sum[a][b];
              }
            for (std::size_t a = 0; a < tile_rows; ++a)
              for (std::size_t b = 0; b < tile_columns; ++b)
                {
                  const lanes_double &v = sum[a][b];
                  C[(r0 + a) * n_columns + c0 + b] =
                    ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
                }
          }
    }

    /// Axis-aligned box in rotated score space (active directions only).
    struct Box
    {
      double  lower[max_dim], upper[max_dim];
      Indices targets; // indices of the targets inside
      Indices sources; // sources that may matter in the box
    };

    class Interpolator
    {
    public:
      Interpolator(const ExponentialSum &sum,
                   std::size_t           n_targets,
                   const double         *targets,
                   double                tolerance,
                   double                max_interactions,
                   double               *values)
          : sum(sum)
          , dim(sum.dim)
          , n_outputs(sum.dim + (sum.log_scale ? 1 : 0))
          , n_targets(n_targets)
          , targets(targets)
          , tolerance(tolerance)
          , max_interactions(max_interactions)
          , values(values)
      {}

      Statistics run()
      {
        auto since = profile.start();
        find_axes();
        const Box root = make_root_box();
        if (!find_scale(root.sources))
          return abandon();
        profile.stop(phase_setup, since);
        last_degree = n_active == 1 ? max_degree : 32;
        Statistics statistics = process(root, 0);
        statistics.abandoned  = abandoned;
        profile.print();
        if (profile.enabled)
          std::fprintf(stderr,
                       "  boxes: %zu interpolated, %zu direct (%zu targets), %zu split; %zu node "
                       "evaluations; %.3g exact interactions; degrees %u..%u\n",
                       statistics.boxes_interpolated,
                       statistics.boxes_direct,
                       statistics.direct_targets,
                       statistics.boxes_split,
                       statistics.node_evaluations,
                       statistics.interactions,
                       8u,
                       last_degree);
        return statistics;
      }

    private:
      const ExponentialSum &sum;
      const unsigned int    dim, n_outputs;
      const std::size_t     n_targets;
      const double         *targets;
      const double          tolerance;
      const double          max_interactions;
      double               *values;

      Profile profile;

      // Exact interactions (points x sources) so far, shared by the boxes
      // processed in parallel; past max_interactions everything stops.
      std::atomic<double> spent{0.};
      std::atomic<bool>   abandoned{false};

      /// Accounts for n_points exact evaluations over n_sources sources;
      /// false (and abandoned) if that exceeds the allowance.
      bool charge(std::size_t n_points, std::size_t n_sources)
      {
        const double cost = static_cast<double>(n_points) * static_cast<double>(n_sources);
        double       total = spent.load();
        while (!spent.compare_exchange_weak(total, total + cost))
          ;
        if (total + cost > max_interactions)
          abandoned = true;
        return !abandoned;
      }

      static Statistics abandon()
      {
        Statistics statistics;
        statistics.abandoned = true;
        return statistics;
      }

      // Score space: a = centre + R u, u_k = <R_k, a - centre>.
      double       centre[max_dim] = {};
      double       axes[max_dim][max_dim]; // columns: rotated axes
      unsigned int n_active = 0;
      unsigned int active[max_dim];   // active directions (rotated indices)
      double       flat_u[max_dim] = {}; // u of the flat directions (middle of the targets)
      std::vector<double> target_u;   // n_targets x dim (rotated)
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

      void find_axes()
      {
        for (std::size_t t = 0; t < n_targets; ++t)
          for (unsigned int i = 0; i < dim; ++i)
            centre[i] += targets[t * dim + i];
        for (unsigned int i = 0; i < dim; ++i)
          centre[i] /= static_cast<double>(n_targets);
        Matrix covariance(dim, dim);
        for (std::size_t t = 0; t < n_targets; ++t)
          for (unsigned int i = 0; i < dim; ++i)
            for (unsigned int j = 0; j < dim; ++j)
              covariance(i, j) +=
                (targets[t * dim + i] - centre[i]) * (targets[t * dim + j] - centre[j]);
        const Matrix principal = symmetric_eigen(covariance).vectors;
        for (unsigned int i = 0; i < dim; ++i)
          for (unsigned int j = 0; j < dim; ++j)
            axes[i][j] = principal(i, j);

        target_u.resize(n_targets * dim);
        for (std::size_t t = 0; t < n_targets; ++t)
          for (unsigned int k = 0; k < dim; ++k)
            {
              double u = 0.;
              for (unsigned int i = 0; i < dim; ++i)
                u += axes[i][k] * (targets[t * dim + i] - centre[i]);
              target_u[t * dim + k] = u;
            }

        const std::size_t n_sources = sum.n_sources;
        source_z.resize(n_sources * dim);
        source_log_weight.resize(n_sources);
        double lowest[max_dim], highest[max_dim];
        std::fill(lowest, lowest + dim, std::numeric_limits<double>::infinity());
        std::fill(highest, highest + dim, -std::numeric_limits<double>::infinity());
        for (std::size_t j = 0; j < n_sources; ++j)
          {
            const double *y     = sum.coordinate + j * dim;
            double        score = sum.log_weight[j];
            for (unsigned int i = 0; i < dim; ++i)
              score += centre[i] * y[i];
            source_log_weight[j] = score;
            for (unsigned int k = 0; k < dim; ++k)
              {
                double z = 0.;
                for (unsigned int i = 0; i < dim; ++i)
                  z += axes[i][k] * y[i];
                source_z[j * dim + k] = z;
                lowest[k]             = std::min(lowest[k], z);
                highest[k]            = std::max(highest[k], z);
              }
          }
        // Centring z drops a score <u, middle> common to all sources.
        double source_extent[max_dim];
        for (unsigned int k = 0; k < dim; ++k)
          {
            const double middle = 0.5 * (lowest[k] + highest[k]);
            source_middle[k]    = middle;
            for (std::size_t j = 0; j < n_sources; ++j)
              source_z[j * dim + k] -= middle;
            source_extent[k] = highest[k] - lowest[k];
          }
        pruning_threshold = pruning_margin + std::log(static_cast<double>(n_sources) + 1.);

        for (unsigned int k = 0; k < dim; ++k)
          {
            double low = std::numeric_limits<double>::infinity(), high = -low;
            for (std::size_t t = 0; t < n_targets; ++t)
              {
                low  = std::min(low, target_u[t * dim + k]);
                high = std::max(high, target_u[t * dim + k]);
              }
            if ((high - low) * source_extent[k] <= flat_fraction_of_tolerance * tolerance)
              flat_u[k] = 0.5 * (low + high);
            else
              active[n_active++] = k;
          }
      }

      Box make_root_box() const
      {
        Box root;
        for (unsigned int m = 0; m < n_active; ++m)
          {
            const unsigned int k = active[m];
            root.lower[m]        = std::numeric_limits<double>::infinity();
            root.upper[m]        = -std::numeric_limits<double>::infinity();
            for (std::size_t t = 0; t < n_targets; ++t)
              {
                root.lower[m] = std::min(root.lower[m], target_u[t * dim + k]);
                root.upper[m] = std::max(root.upper[m], target_u[t * dim + k]);
              }
          }
        root.targets.resize(n_targets);
        for (std::size_t t = 0; t < n_targets; ++t)
          root.targets[t] = t;
        Indices all(sum.n_sources);
        for (std::size_t j = 0; j < sum.n_sources; ++j)
          all[j] = j;
        root.sources = prune(root, all);
        return root;
      }

      /// The velocity scale S from an exact evaluation at sample targets:
      /// evenly spaced ones and the extreme ones along every rotated axis.
      bool find_scale(const Indices &sources)
      {
        Indices sample;
        const std::size_t stride = std::max<std::size_t>(1, n_targets / scale_sample_size);
        for (std::size_t t = 0; t < n_targets; t += stride)
          sample.push_back(t);
        for (unsigned int k = 0; k < dim; ++k)
          {
            std::size_t low = 0, high = 0;
            for (std::size_t t = 1; t < n_targets; ++t)
              {
                if (target_u[t * dim + k] < target_u[low * dim + k])
                  low = t;
                if (target_u[t * dim + k] > target_u[high * dim + k])
                  high = t;
              }
            sample.push_back(low);
            sample.push_back(high);
          }
        if (!charge(sample.size(), sources.size()))
          return false;
        std::vector<double> points, sample_values(sample.size() * n_outputs);
        for (const std::size_t t : sample)
          points.insert(points.end(), targets + t * dim, targets + (t + 1) * dim);
        sum.evaluate(sample.size(), points.data(), &sources, sample_values.data());
        double log_scale = -std::numeric_limits<double>::infinity();
        for (std::size_t s = 0; s < sample.size(); ++s)
          {
            const double *v       = &sample_values[s * n_outputs];
            double        largest = 0.;
            for (unsigned int i = 0; i < dim; ++i)
              largest = std::max(largest, std::abs(v[i]));
            log_scale = std::max(log_scale, std::log(largest) + (sum.log_scale ? v[dim] : 0.));
          }
        log_half_budget = std::log(0.5 * tolerance) + log_scale;
        return true;
      }

      /// Half-widths and middle of the box in every rotated direction
      /// (flat directions: the targets' extent there is negligible).
      void box_geometry(const Box &box, double middle[max_dim], double half[max_dim]) const
      {
        for (unsigned int k = 0; k < dim; ++k)
          {
            middle[k] = flat_u[k];
            half[k]   = 0.;
          }
        for (unsigned int m = 0; m < n_active; ++m)
          {
            middle[active[m]] = 0.5 * (box.lower[m] + box.upper[m]);
            half[active[m]]   = 0.5 * (box.upper[m] - box.lower[m]);
          }
      }

      /// The sources of `candidates` whose largest score over the box comes
      /// within the pruning threshold of the largest smallest score.
      Indices prune(const Box &box, const Indices &candidates) const
      {
        double middle[max_dim], half[max_dim];
        box_geometry(box, middle, half);
        const auto bounds = [&](std::size_t j, double &low, double &high) {
          double centre_score = source_log_weight[j], spread = 0.;
          for (unsigned int k = 0; k < dim; ++k)
            {
              centre_score += middle[k] * source_z[j * dim + k];
              spread += half[k] * std::abs(source_z[j * dim + k]);
            }
          low  = centre_score - spread;
          high = centre_score + spread;
        };
        double best_low = -std::numeric_limits<double>::infinity();
        for (const std::size_t j : candidates)
          {
            double low, high;
            bounds(j, low, high);
            best_low = std::max(best_low, low);
          }
        Indices kept;
        for (const std::size_t j : candidates)
          {
            double low, high;
            bounds(j, low, high);
            if (high >= best_low - pruning_threshold)
              kept.push_back(j);
          }
        return kept;
      }

      /// Score vector of the rotated point u (flat directions at flat_u).
      void score_vector(const double reference[max_dim], const Box &box, double *a) const
      {
        double u[max_dim];
        for (unsigned int k = 0; k < dim; ++k)
          u[k] = flat_u[k];
        for (unsigned int m = 0; m < n_active; ++m)
          u[active[m]] = 0.5 * (box.lower[m] + box.upper[m]) +
                         0.5 * (box.upper[m] - box.lower[m]) * reference[m];
        for (unsigned int i = 0; i < dim; ++i)
          {
            a[i] = centre[i];
            for (unsigned int k = 0; k < dim; ++k)
              a[i] += axes[i][k] * u[k];
          }
      }

      /// Polynomial degree per active direction.
      using Degrees = std::array<unsigned int, max_dim>;

      std::size_t node_count(const Degrees &degrees) const
      {
        std::size_t count = 1;
        for (unsigned int m = 0; m < n_active; ++m)
          count *= degrees[m] + 1;
        return count;
      }

      /// Multi-index of node `node` of the grid (direction m varies with
      /// stride prod_{m' < m} (degree_m' + 1)).
      void node_index(std::size_t node, const Degrees &degrees, unsigned int index[max_dim]) const
      {
        for (unsigned int m = 0; m < n_active; ++m)
          {
            index[m] = node % (degrees[m] + 1);
            node /= degrees[m] + 1;
          }
      }

      /// Values at the Chebyshev-Lobatto nodes cos(pi j / n_m) ->
      /// Chebyshev coefficients, in place (nodes x n_outputs), one direction
      /// at a time.
      void to_coefficients(const Degrees &degrees, std::vector<double> &data) const
      {
        const std::size_t n_nodes = node_count(degrees);
        std::size_t       stride  = 1;
        for (unsigned int m = 0; m < n_active; stride *= degrees[m] + 1, ++m)
          {
            const unsigned int  n = degrees[m];
            std::vector<double> cosine((n + 1) * (n + 1)), line(n + 1);
            for (unsigned int k = 0; k <= n; ++k)
              for (unsigned int j = 0; j <= n; ++j)
                cosine[k * (n + 1) + j] =
                  (j == 0 || j == n ? 0.5 : 1.) * (k == 0 || k == n ? 1. : 2.) / n *
                  std::cos(M_PI * static_cast<double>(j * k % (2 * n)) / n);
            for (std::size_t start = 0; start < n_nodes; ++start)
              {
                if ((start / stride) % (n + 1) != 0)
                  continue; // not the first node of a line in direction m
                for (unsigned int o = 0; o < n_outputs; ++o)
                  {
                    for (unsigned int j = 0; j <= n; ++j)
                      line[j] = data[(start + j * stride) * n_outputs + o];
                    for (unsigned int k = 0; k <= n; ++k)
                      {
                        double c = 0.;
                        for (unsigned int j = 0; j <= n; ++j)
                          c += cosine[k * (n + 1) + j] * line[j];
                        data[(start + k * stride) * n_outputs + o] = c;
                      }
                  }
              }
          }
      }

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
                             double            *result) const
      {
        const Degrees &n = interpolant.degrees;
        double         chebyshev[max_dim][max_degree + 1];
        for (unsigned int m = 0; m < n_active; ++m)
          {
            chebyshev[m][0] = 1.;
            chebyshev[m][1] = xi[m];
            for (unsigned int k = 2; k <= n[m]; ++k)
              chebyshev[m][k] = 2. * xi[m] * chebyshev[m][k - 1] - chebyshev[m][k - 2];
          }
        std::fill(result, result + n_outputs, 0.);
        const unsigned int line_size      = n_active == 0 ? 1 : n[0] + 1;
        const std::size_t  n_lines        = node_count(n) / line_size;
        unsigned int       index[max_dim] = {}; // of directions 1.. of the line
        for (std::size_t line = 0; line < n_lines; ++line)
          {
            const unsigned int length = interpolant.line_length[line];
            if (length > 0)
              {
                double weight = 1.;
                for (unsigned int m = 1; m < n_active; ++m)
                  weight *= chebyshev[m][index[m]];
                const double *c = &interpolant.coefficients[line * line_size * n_outputs];
                double        along[max_dim + 1] = {};
                for (unsigned int k = 0; k < length; ++k)
                  {
                    const double t = n_active > 0 ? chebyshev[0][k] : 1.;
                    for (unsigned int o = 0; o < n_outputs; ++o)
                      along[o] += t * c[k * n_outputs + o];
                  }
                for (unsigned int o = 0; o < n_outputs; ++o)
                  result[o] += weight * along[o];
              }
            for (unsigned int m = 1; m < n_active && ++index[m] > n[m]; ++m)
              index[m] = 0;
          }
      }

      Statistics evaluate_directly(const Box &box)
      {
        if (!charge(box.targets.size(), box.sources.size()))
          return abandon();
        const auto since = profile.start();
        Statistics statistics;
        statistics.boxes_direct   = 1;
        statistics.direct_targets = box.targets.size();
        statistics.interactions =
          static_cast<double>(box.targets.size()) * static_cast<double>(box.sources.size());
        std::vector<double> points, box_values(box.targets.size() * n_outputs);
        points.reserve(box.targets.size() * dim);
        for (const std::size_t t : box.targets)
          points.insert(points.end(), targets + t * dim, targets + (t + 1) * dim);
        sum.evaluate(box.targets.size(), points.data(), &box.sources, box_values.data());
        for (std::size_t i = 0; i < box.targets.size(); ++i)
          std::copy(&box_values[i * n_outputs],
                    &box_values[(i + 1) * n_outputs],
                    values + box.targets[i] * n_outputs);
        profile.stop(phase_direct, since);
        return statistics;
      }

      /// Whether evaluate_grid is accurate on this box (see there): the
      /// gap of its factors is far from underflow, and the rounding of its
      /// exponents (a few ulps of the largest score) far below the tolerance.
      bool factorisable(const Box &box) const
      {
        constexpr double max_gap = 300.; // e^-300: far from underflow and the exp clamp at -700
        if (box.sources.empty())
          return false;
        double half[max_dim] = {}, middle[max_dim];
        box_geometry(box, middle, half);
        double magnitude = 0., z_low[max_dim], z_high[max_dim];
        std::fill(z_low, z_low + max_dim, std::numeric_limits<double>::infinity());
        std::fill(z_high, z_high + max_dim, -std::numeric_limits<double>::infinity());
        for (const std::size_t j : box.sources)
          {
            double value = source_log_weight[j];
            for (unsigned int c = 0; c < dim; ++c)
              value += middle[c] * source_z[j * dim + c];
            magnitude = std::max(magnitude, std::abs(value));
            for (unsigned int m = 0; m < n_active; ++m)
              {
                z_low[m]  = std::min(z_low[m], source_z[j * dim + active[m]]);
                z_high[m] = std::max(z_high[m], source_z[j * dim + active[m]]);
              }
          }
        double gap = 0.;
        for (unsigned int m = 0; m < n_active; ++m)
          {
            const double h = half[active[m]];
            magnitude += h * std::max(std::abs(z_low[m]), std::abs(z_high[m]));
            if (m >= 1)
              gap += h * (z_high[m] - z_low[m]);
          }
        return gap <= max_gap &&
               16. * std::numeric_limits<double>::epsilon() * magnitude <= 1e-2 * tolerance;
      }

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
      bool evaluate_grid(const Box &box, const Degrees &degrees, std::vector<double> &node_values) const
      {
        const std::size_t n_sources = box.sources.size();
        if (!factorisable(box))
          return false;
        const std::size_t n_padded = (n_sources + lanes - 1) / lanes * lanes;
        const unsigned int n_factors = std::max(1u, n_active);
        double             half[max_dim] = {}, middle[max_dim];
        box_geometry(box, middle, half);
        std::size_t         n_points[max_dim] = {1, 1, 1};
        std::vector<double> scale[max_dim], shift[max_dim], reference[max_dim];
        for (unsigned int m = 0; m < max_dim; ++m)
          {
            const unsigned int n = m < n_active ? degrees[m] : 0;
            n_points[m]          = n + 1;
            for (unsigned int i = 0; i <= n; ++i)
              {
                reference[m].push_back(n == 0 ? 0. : std::cos(M_PI * i / n));
                scale[m].push_back(m < n_active ? half[active[m]] * reference[m][i] : 0.);
              }
          }

        // Gathered sources: base_j, z_{j,m} (active directions), y_j.
        std::vector<double> base(n_padded, -std::numeric_limits<double>::infinity());
        std::vector<double> z[max_dim], y[max_dim];
        for (unsigned int m = 0; m < n_factors; ++m)
          z[m].assign(n_padded, 0.);
        for (unsigned int i = 0; i < dim; ++i)
          y[i].assign(n_padded, 0.);
        double z_low[max_dim], z_high[max_dim];
        std::fill(z_low, z_low + max_dim, 0.);
        std::fill(z_high, z_high + max_dim, 0.);
        for (std::size_t k = 0; k < n_sources; ++k)
          {
            const std::size_t j     = box.sources[k];
            double            value = source_log_weight[j];
            for (unsigned int c = 0; c < dim; ++c)
              value += middle[c] * source_z[j * dim + c];
            base[k] = value;
            for (unsigned int m = 0; m < n_active; ++m)
              {
                const double zm = source_z[j * dim + active[m]];
                z[m][k]         = zm;
                z_low[m]        = k == 0 ? zm : std::min(z_low[m], zm);
                z_high[m]       = k == 0 ? zm : std::max(z_high[m], zm);
              }
            for (unsigned int i = 0; i < dim; ++i)
              y[i][k] = sum.coordinate[j * dim + i];
          }

        // Shifts: the largest exponent of each factor row.
        for (unsigned int m = 1; m < max_dim; ++m)
          for (std::size_t i = 0; i < n_points[m]; ++i)
            shift[m].push_back(m < n_active ? std::max(scale[m][i] * z_low[m], scale[m][i] * z_high[m]) :
                                              0.);
        const std::size_t group_step = max_grid_groups * grid_chunk;
        const std::size_t group_size =
          std::max(grid_group, (n_padded + group_step - 1) / group_step * grid_chunk);
        const std::size_t n_groups = (n_padded + group_size - 1) / group_size;
        {
          std::vector<double> group_maximum(n_groups * n_points[0],
                                            -std::numeric_limits<double>::infinity());
          tbb::parallel_for(std::size_t(0), n_groups, [&](std::size_t g) {
            const std::size_t begin = g * group_size, end = std::min(n_padded, begin + group_size);
            maximum_rows(n_points[0],
                         end - begin,
                         base.data() + begin,
                         z[0].data() + begin,
                         scale[0].data(),
                         &group_maximum[g * n_points[0]]);
          });
          shift[0].assign(n_points[0], -std::numeric_limits<double>::infinity());
          for (std::size_t g = 0; g < n_groups; ++g)
            for (std::size_t i = 0; i < n_points[0]; ++i)
              shift[0][i] = std::max(shift[0][i], group_maximum[g * n_points[0] + i]);
        }

        // Rows padded to whole tiles (zero rows), columns (c, i_1) for c = 0
        // (the denominator) and c = 1..dim (numerator components).
        const std::size_t n_rows    = (n_points[0] + tile_rows - 1) / tile_rows * tile_rows;
        const std::size_t n_used    = (dim + 1) * n_points[1];
        const std::size_t n_columns = (n_used + tile_columns - 1) / tile_columns * tile_columns;
        const std::size_t n_sums    = n_points[2] * n_rows * n_columns;
        std::vector<double> partial(n_groups * n_sums, 0.);
        tbb::parallel_for(std::size_t(0), n_groups, [&](std::size_t g) {
          std::vector<double> F(n_rows * grid_chunk, 0.), G(n_columns * grid_chunk, 0.),
            factor1(n_points[1] * grid_chunk, 1.), factor2(n_points[2] * grid_chunk, 1.),
            C(n_rows * n_columns);
          double *const     sums  = &partial[g * n_sums];
          const std::size_t begin = g * group_size, end = std::min(n_padded, begin + group_size);
          for (std::size_t chunk = begin; chunk < end; chunk += grid_chunk)
            {
              const std::size_t length = std::min(grid_chunk, end - chunk);
              exponential_rows(n_points[0],
                               length,
                               base.data() + chunk,
                               z[0].data() + chunk,
                               scale[0].data(),
                               shift[0].data(),
                               F.data());
              if (n_rows > n_points[0]) // the zero rows of the last tile
                std::fill(F.begin() + n_points[0] * length, F.begin() + n_rows * length, 0.);
              if (n_active >= 2)
                exponential_rows(n_points[1],
                                 length,
                                 nullptr,
                                 z[1].data() + chunk,
                                 scale[1].data(),
                                 shift[1].data(),
                                 factor1.data());
              if (n_active >= 3)
                exponential_rows(n_points[2],
                                 length,
                                 nullptr,
                                 z[2].data() + chunk,
                                 scale[2].data(),
                                 shift[2].data(),
                                 factor2.data());
              for (std::size_t i2 = 0; i2 < n_points[2]; ++i2)
                {
                  const double *f2 = &factor2[(n_active >= 3 ? i2 : 0) * length];
                  for (std::size_t i1 = 0; i1 < n_points[1]; ++i1)
                    {
                      const double *f1 = &factor1[(n_active >= 2 ? i1 : 0) * length];
                      double       *g0 = &G[i1 * length];
                      for (std::size_t j = 0; j < length; ++j)
                        g0[j] = f1[j] * f2[j];
                      for (unsigned int c = 1; c <= dim; ++c)
                        {
                          double       *gc = &G[(c * n_points[1] + i1) * length];
                          const double *yc = y[c - 1].data() + chunk;
                          for (std::size_t j = 0; j < length; ++j)
                            gc[j] = g0[j] * yc[j];
                        }
                    }
                  std::fill(G.begin() + n_used * length, G.begin() + n_columns * length, 0.);
                  grid_products(n_rows, n_columns, length, F.data(), G.data(), C.data());
                  double *slice = sums + i2 * n_rows * n_columns;
                  for (std::size_t k = 0; k < n_rows * n_columns; ++k)
                    slice[k] += C[k];
                }
            }
        });
        std::vector<double> total(n_sums, 0.);
        for (std::size_t g = 0; g < n_groups; ++g)
          for (std::size_t k = 0; k < n_sums; ++k)
            total[k] += partial[g * n_sums + k];

        // Outputs per node: q = V (N / D + offset), L = score shift + log D
        // + log_scale_offset, the score shift including sum_k u_k (middle of
        // z_k), which source_z leaves out.
        double constant = 0.; // sum_k u_k middle_k at the box's middle
        for (unsigned int k = 0; k < dim; ++k)
          constant += middle[k] * source_middle[k];
        const std::size_t n_nodes = n_points[0] * n_points[1] * n_points[2];
        node_values.resize(n_nodes * n_outputs);
        for (std::size_t i2 = 0; i2 < n_points[2]; ++i2)
          for (std::size_t i1 = 0; i1 < n_points[1]; ++i1)
            for (std::size_t i0 = 0; i0 < n_points[0]; ++i0)
              {
                const double *row = &total[(i2 * n_rows + i0) * n_columns];
                const double  denominator = row[i1];
                double        mean[max_dim];
                for (unsigned int c = 0; c < dim; ++c)
                  mean[c] = row[(c + 1) * n_points[1] + i1] / denominator + sum.offset[c];
                double *out = &node_values[(i0 + n_points[0] * (i1 + n_points[1] * i2)) * n_outputs];
                for (unsigned int p = 0; p < dim; ++p)
                  {
                    double value = 0.;
                    for (unsigned int q = 0; q < dim; ++q)
                      value += (sum.V != nullptr ? sum.V[p * dim + q] : (p == q ? 1. : 0.)) * mean[q];
                    out[p] = value;
                  }
                if (sum.log_scale)
                  {
                    const std::size_t index[max_dim] = {i0, i1, i2};
                    double            score_shift    = constant;
                    for (unsigned int m = 0; m < n_active; ++m)
                      score_shift += shift[m][index[m]] +
                                     scale[m][index[m]] * source_middle[active[m]];
                    if (n_active == 0)
                      score_shift += shift[0][0];
                    out[dim] = score_shift + std::log(denominator) + sum.log_scale_offset;
                  }
              }
        return true;
      }

      Statistics process(const Box &box, unsigned int depth)
      {
        constexpr std::size_t n_check_points = 2;
        Statistics            statistics;
        const auto            count_exact = [&](std::size_t n_points) {
          statistics.node_evaluations += n_points;
          statistics.interactions +=
            static_cast<double>(n_points) * static_cast<double>(box.sources.size());
        };

        // Exact values at the check points.
        std::vector<double> check_exact(n_check_points * n_outputs);
        bool                checked = false;

        // Cost of a node relative to an exact sum at a target (per source):
        // a node of a factorised grid costs (dim + 1) multiply-adds per
        // source, an exact sum an exponential and its score too.
        const bool   factorised = factorisable(box);
        // (In 1D a factorised node still needs an exponential per source.)
        const double node_cost = factorised && n_active >= 2 ? factorised_node_cost : 1.;
        // Degrees: multiples of 8 up to last_degree; but exact 3D grids (not
        // factorisable) only multiples of 4 up to 16, since a 33^3 grid of
        // exact sums costs more than most boxes are worth.
        const unsigned int first_degree = n_active == 3 && !factorised ? 4 : 8;
        const unsigned int box_last_degree =
          n_active == 3 && !factorised ? std::min(16u, last_degree) : last_degree;

        // Degrees from first_degree, doubled per direction (up to
        // box_last_degree) where that direction's coefficient tail is not yet
        // small, on nested grids: the degree-n nodes are the even-index
        // nodes of the degree-2n grid, so each level evaluates only the new
        // nodes.
        Degrees degrees = {};
        for (unsigned int m = 0; m < n_active; ++m)
          degrees[m] = first_degree;
        // Every exact value so far, by node: cos(pi j / n) in direction m is
        // identified by j / n in lowest terms, so the nodes that grids of
        // different degrees share are evaluated once.
        std::map<std::array<unsigned int, 2 * max_dim>, std::vector<double>> known;
        std::vector<double> node_values; // current grid, nodes x n_outputs
        double              tail[max_dim] = {};
        for (;;)
          {
            const std::size_t n_nodes = node_count(degrees);
            // Direct evaluation is cheaper than this level (and ends the
            // recursion).
            if (box.targets.size() <= node_cost * n_nodes + n_check_points || depth >= max_depth)
              {
                Statistics direct = evaluate_directly(box);
                direct.node_evaluations += statistics.node_evaluations;
                direct.interactions += statistics.interactions;
                return direct;
              }

            // The whole grid factorised where that is accurate: cheaper per
            // node than exact sums, though it cannot reuse the nodes of the
            // coarser grids (which the exact path below keeps in `known`).
            auto since = profile.start();
            const bool gridded = evaluate_grid(box, degrees, node_values);
            profile.stop(phase_nodes, since);
            since = profile.start();
            if (gridded)
              {
                if (!charge(n_nodes, box.sources.size()))
                  return abandon();
                count_exact(n_nodes);
                if (!checked)
                  {
                    std::vector<double> points(n_check_points * dim);
                    for (std::size_t c = 0; c < n_check_points; ++c)
                      score_vector(check_points[c], box, &points[c * dim]);
                    if (!charge(n_check_points, box.sources.size()))
                      return abandon();
                    sum.evaluate(n_check_points, points.data(), &box.sources, check_exact.data());
                    count_exact(n_check_points);
                    checked = true;
                  }
              }
            else
              {
                std::vector<double> points;
                std::vector<std::array<unsigned int, 2 * max_dim>> new_keys;
                const auto key_of = [&](std::size_t node) {
                  unsigned int index[max_dim];
                  node_index(node, degrees, index);
                  std::array<unsigned int, 2 * max_dim> key = {};
                  for (unsigned int m = 0; m < n_active; ++m)
                    {
                      const unsigned int common = std::gcd(index[m], degrees[m]);
                      key[2 * m]                = index[m] / common;
                      key[2 * m + 1]            = degrees[m] / common;
                    }
                  return key;
                };
                for (std::size_t node = 0; node < n_nodes; ++node)
                  {
                    const auto key = key_of(node);
                    if (known.count(key) == 0)
                      {
                        double reference[max_dim];
                        for (unsigned int m = 0; m < n_active; ++m)
                          reference[m] = std::cos(M_PI * key[2 * m] / key[2 * m + 1]);
                        points.resize(points.size() + dim);
                        score_vector(reference, box, &points[points.size() - dim]);
                        new_keys.push_back(key);
                        known[key]; // reserved: a grid holds each key once
                      }
                  }
                if (!checked)
                  for (std::size_t c = 0; c < n_check_points; ++c)
                    {
                      points.resize(points.size() + dim);
                      score_vector(check_points[c], box, &points[points.size() - dim]);
                    }
                const std::size_t n_new = points.size() / dim;
                if (!charge(n_new, box.sources.size()))
                  return abandon();
                std::vector<double> exact(n_new * n_outputs);
                profile.stop(phase_coefficients, since);
                since = profile.start();
                sum.evaluate(n_new, points.data(), &box.sources, exact.data());
                profile.stop(phase_nodes, since);
                since = profile.start();
                count_exact(n_new);
                for (std::size_t i = 0; i < new_keys.size(); ++i)
                  known[new_keys[i]].assign(&exact[i * n_outputs], &exact[(i + 1) * n_outputs]);
                if (!checked)
                  {
                    std::copy(exact.end() - n_check_points * n_outputs, exact.end(), check_exact.begin());
                    checked = true;
                  }
                node_values.resize(n_nodes * n_outputs);
                for (std::size_t node = 0; node < n_nodes; ++node)
                  {
                    const std::vector<double> &value = known[key_of(node)];
                    std::copy(value.begin(), value.end(), &node_values[node * n_outputs]);
                  }

              }

            // Sizes over the nodes: max |q| and max L (L is convex in a, so
            // its maximum over the box is at a corner, which is a node).
            double largest_q = 0., largest_log_scale = -std::numeric_limits<double>::infinity();
            for (std::size_t node = 0; node < n_nodes; ++node)
              {
                for (unsigned int i = 0; i < dim; ++i)
                  largest_q = std::max(largest_q, std::abs(node_values[node * n_outputs + i]));
                if (sum.log_scale)
                  largest_log_scale =
                    std::max(largest_log_scale, node_values[node * n_outputs + dim]);
              }
            const double budget =
              std::exp(log_half_budget - (sum.log_scale ? largest_log_scale : 0.));

            Interpolant interpolant;
            interpolant.degrees      = degrees;
            interpolant.coefficients = node_values;
            to_coefficients(degrees, interpolant.coefficients);

            // Coefficient tails per direction: sum of |c| with degree >= n - 1
            // in that direction, as q's worst component + max|q| |c of L|;
            // and the largest such coefficient of degree >= 1 (the size
            // against which the decay is measured).
            double       error = 0., largest_coefficient = 0.;
            unsigned int index[max_dim] = {};
            std::fill(tail, tail + max_dim, 0.);
            const auto size = [&](std::size_t node) {
              double q = 0.;
              for (unsigned int i = 0; i < dim; ++i)
                q = std::max(q, std::abs(interpolant.coefficients[node * n_outputs + i]));
              return q + (sum.log_scale ?
                            largest_q * std::abs(interpolant.coefficients[node * n_outputs + dim]) :
                            0.);
            };
            for (std::size_t node = 0; node < n_nodes; ++node)
              {
                bool constant = true;
                for (unsigned int m = 0; m < n_active; ++m)
                  {
                    constant = constant && index[m] == 0;
                    if (index[m] + 1 >= degrees[m])
                      tail[m] += size(node);
                  }
                if (!constant)
                  largest_coefficient = std::max(largest_coefficient, size(node));
                for (unsigned int m = 0; m < n_active && ++index[m] > degrees[m]; ++m)
                  index[m] = 0;
              }
            for (unsigned int m = 0; m < n_active; ++m)
              error += tail[m];

            const unsigned int line_size = n_active == 0 ? 1 : degrees[0] + 1;
            const std::size_t  n_lines   = n_nodes / line_size;
            interpolant.line_length.assign(n_lines, line_size); // all coefficients
            for (std::size_t c = 0; c < n_check_points; ++c)
              {
                double interpolated[max_dim + 1];
                interpolant_value(interpolant, check_points[c], interpolated);
                const double *reference = &check_exact[c * n_outputs];
                double        q_error   = 0.;
                for (unsigned int i = 0; i < dim; ++i)
                  q_error = std::max(q_error, std::abs(interpolated[i] - reference[i]));
                error = std::max(error,
                                 q_error + (sum.log_scale ?
                                              largest_q * std::abs(interpolated[dim] - reference[dim]) :
                                              0.));
              }

            // Accepted: drop the smallest coefficients while their sum stays
            // within half of the unused budget (what they can add anywhere);
            // lines along direction 0 end after their last kept coefficient,
            // which shortens the evaluation at the targets.
            if (error <= budget)
              {
                std::vector<double> sizes(n_nodes);
                for (std::size_t node = 0; node < n_nodes; ++node)
                  sizes[node] = size(node);
                std::vector<double> sorted = sizes;
                std::sort(sorted.begin(), sorted.end());
                double dropped = 0., threshold = -1.;
                for (const double c : sorted)
                  {
                    dropped += c;
                    if (dropped > 0.5 * (budget - error))
                      break;
                    threshold = c;
                  }
                interpolant.line_length.assign(n_lines, 0);
                for (std::size_t line = 0; line < n_lines; ++line)
                  for (unsigned int k = 0; k < line_size; ++k)
                    if (sizes[line * line_size + k] > threshold)
                      interpolant.line_length[line] = k + 1;
              }
            profile.stop(phase_coefficients, since);
            if (error <= budget)
              {
                since = profile.start();
                statistics.boxes_interpolated = 1;
                // Eight targets at a time, one per vector lane.
                const std::size_t n_groups = (box.targets.size() + lanes - 1) / lanes;
                tbb::parallel_for(
                  tbb::blocked_range<std::size_t>(0, n_groups, 32),
                  [&](const tbb::blocked_range<std::size_t> &range) {
                    for (std::size_t group = range.begin(); group != range.end(); ++group)
                      {
                        double xi[max_dim][lanes], group_values[max_dim + 1][lanes];
                        for (std::size_t l = 0; l < lanes; ++l)
                          {
                            // A short last group repeats its last target.
                            const std::size_t t =
                              box.targets[std::min(group * lanes + l, box.targets.size() - 1)];
                            for (unsigned int m = 0; m < n_active; ++m)
                              {
                                const double u = target_u[t * dim + active[m]];
                                xi[m][l]       = (2. * u - box.lower[m] - box.upper[m]) /
                                           (box.upper[m] - box.lower[m]);
                              }
                          }
                        evaluate_interpolant_lanes(n_active,
                                                   interpolant.degrees.data(),
                                                   n_outputs,
                                                   interpolant.coefficients.data(),
                                                   interpolant.line_length.data(),
                                                   xi,
                                                   group_values);
                        for (std::size_t l = 0;
                             l < lanes && group * lanes + l < box.targets.size();
                             ++l)
                          for (unsigned int o = 0; o < n_outputs; ++o)
                            values[box.targets[group * lanes + l] * n_outputs + o] =
                              group_values[o][l];
                      }
                  });
                profile.stop(phase_targets, since);
                return statistics;
              }

            // Directions whose tail exceeds their share of the budget get a
            // higher degree, from the multiples of first_degree up to
            // box_last_degree. Geometric decay c_k ~ C r^k predicts the tail at
            // degree n' from the one at n as tail (tail / C)^((n' - n) / n):
            // the smallest degree predicted to pass with a margin of 10 is
            // taken. If some direction is not predicted to pass even at
            // box_last_degree, the box is split instead (raising the degree is
            // cheaper than splitting only when it works).
            const double share    = budget / (2. * std::max(1u, n_active));
            bool         refining = false, promising = true;
            for (unsigned int m = 0; m < n_active; ++m)
              if (tail[m] > share)
                {
                  refining              = true;
                  const double ratio    = largest_coefficient > 0. ? tail[m] / largest_coefficient : 0.;
                  unsigned int next     = degrees[m] + first_degree;
                  const auto   predicted = [&](unsigned int n) {
                    return tail[m] * std::pow(ratio, static_cast<double>(n - degrees[m]) / degrees[m]);
                  };
                  while (next < box_last_degree && !(predicted(next) <= 0.1 * share))
                    next += first_degree;
                  promising  = promising && degrees[m] < box_last_degree && predicted(next) <= 10. * share;
                  degrees[m] = std::min(next, box_last_degree);
                }
            if (!refining || !promising)
              break;
          }

        // Split across the direction with the largest tail.
        const auto   since = profile.start();
        unsigned int split = 0;
        for (unsigned int m = 1; m < n_active; ++m)
          if (tail[m] > tail[split])
            split = m;
        const double middle = 0.5 * (box.lower[split] + box.upper[split]);
        Box          children[2];
        for (Box &child : children)
          {
            std::copy(box.lower, box.lower + n_active, child.lower);
            std::copy(box.upper, box.upper + n_active, child.upper);
          }
        children[0].upper[split] = middle;
        children[1].lower[split] = middle;
        for (const std::size_t t : box.targets)
          children[target_u[t * dim + active[split]] <= middle ? 0 : 1].targets.push_back(t);
        for (Box &child : children)
          child.sources = prune(child, box.sources);
        profile.stop(phase_split, since);

        Statistics from_children[2];
        tbb::parallel_invoke([&] { from_children[0] = process(children[0], depth + 1); },
                             [&] { from_children[1] = process(children[1], depth + 1); });
        statistics.boxes_split += 1;
        for (const Statistics &child : from_children)
          {
            statistics.boxes_interpolated += child.boxes_interpolated;
            statistics.boxes_direct += child.boxes_direct;
            statistics.boxes_split += child.boxes_split;
            statistics.node_evaluations += child.node_evaluations;
            statistics.direct_targets += child.direct_targets;
            statistics.interactions += child.interactions;
          }
        return statistics;
      }
    };
  } // namespace

  Statistics interpolate(const ExponentialSum &sum,
                         std::size_t           n_targets,
                         const double         *targets,
                         double                tolerance,
                         double               *values,
                         double                max_interactions)
  {
    if (!(tolerance > 0.))
      throw std::invalid_argument("fast summation: the tolerance must be positive");
    if (sum.dim < 1 || sum.dim > max_dim)
      throw std::invalid_argument("fast summation: dim must be 1, 2 or 3");
    if (n_targets == 0)
      return {};
    Interpolator interpolator(sum, n_targets, targets, tolerance, max_interactions, values);
    return interpolator.run();
  }
} // namespace tpde::attention::fast
