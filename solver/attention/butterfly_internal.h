// Internal to the butterfly summation (butterfly_summation.h): box keys,
// the plan (butterfly_plan.cc) and the vectorised loops (butterfly_simd.cc).
#pragma once

#include "attention/butterfly_summation.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tpde::attention::fast::butterfly_detail
{
  constexpr unsigned int max_dim = 3, max_points = 48, lanes = 8;
  // Bits per direction of a box key (at most 2^20 boxes per direction).
  constexpr unsigned int key_bits = 21, max_levels = 20;

  using Key = std::uint64_t;

  inline Key key_of(const unsigned int index[max_dim])
  {
    return Key(index[0]) | Key(index[1]) << key_bits | Key(index[2]) << (2 * key_bits);
  }

  inline void index_of(Key key, unsigned int index[max_dim])
  {
    const Key mask = (Key(1) << key_bits) - 1;
    for (unsigned int m = 0; m < max_dim; ++m)
      index[m] = static_cast<unsigned int>((key >> (m * key_bits)) & mask);
  }

  /// The key of the box at `levels` below the leaf in each direction.
  inline Key coarsen(Key leaf, const unsigned int levels[max_dim])
  {
    unsigned int index[max_dim];
    index_of(leaf, index);
    for (unsigned int m = 0; m < max_dim; ++m)
      index[m] >>= levels[m];
    return key_of(index);
  }

  /// Where key is in the sorted keys (keys.size() if not there).
  inline std::size_t position(const std::vector<Key> &keys, Key key)
  {
    const auto it = std::lower_bound(keys.begin(), keys.end(), key);
    return it != keys.end() && *it == key ? static_cast<std::size_t>(it - keys.begin()) : keys.size();
  }

  /// The keys sorted, each once.
  std::vector<Key> distinct(std::vector<Key> keys);

  /// The distinct keys of the boxes `levels` halvings above the leaves.
  std::vector<Key> coarsened(const std::vector<Key> &leaves, const unsigned int levels[max_dim]);

  /// Chebyshev points of the first kind on [-1, 1] (interior, so that a
  /// child's points never coincide with its parent's).
  std::vector<double> chebyshev_points(unsigned int n);

  /// The Lagrange basis of the n first-kind Chebyshev points at xi
  /// (barycentric form).
  void lagrange_values(unsigned int n, const double *points, double xi, double *values);

  /// The targets' and the sources' bounding boxes.
  struct Geometry
  {
    unsigned int dim = 0;
    double       target_low[max_dim] = {}, target_half[max_dim] = {};
    double       source_low[max_dim] = {}, source_half[max_dim] = {};
  };

  struct Plan
  {
    double                    kappa             = 0.;
    unsigned int              levels[max_dim]   = {};
    unsigned int              points[max_dim]   = {1, 1, 1};
    std::vector<unsigned int> order;              // direction halved per stage
    std::vector<Key>          target_leaves;      // per target
    std::vector<Key>          source_leaves;      // per source
    // Per stage 0..order.size(): the sorted keys of the boxes holding
    // targets (at levels - splits so far) and sources (at the splits so far).
    std::vector<std::vector<Key>> stage_targets, stage_sources;
    double                    cost  = 0.;
    std::size_t               pairs = 0;
    double                    largest_stage = 0.; // doubles
  };

  inline std::size_t block_size(const Plan &plan, unsigned int n_outputs)
  {
    return static_cast<std::size_t>(plan.points[0]) * plan.points[1] * plan.points[2] * n_outputs;
  }

  Geometry find_geometry(const ExponentialSum &sum, std::size_t n_targets, const double *targets);

  /// The cheapest plan over the box-pair sizes tried whose stages fit in
  /// memory, with the leaves of every target and source (infinite cost: none).
  Plan best_plan(const ExponentialSum &sum,
                 std::size_t           n_targets,
                 const double         *targets,
                 const Geometry       &geometry,
                 double                relative_accuracy);

  /// C = A B (add: C += A B), R x N from R x K and K x N, row-major
  /// with leading dimensions lda, ldb, ldc.
  void gemm(std::size_t   R,
            std::size_t   N,
            std::size_t   K,
            const double *A,
            std::size_t   lda,
            const double *B,
            std::size_t   ldb,
            double       *C,
            std::size_t   ldc,
            bool          add);

  /// The tensor interpolant with node values data ([o][i2][i1][i0]) at
  /// eight points, one per lane: basis_m[i][l] is the Lagrange basis
  /// function i of direction m at point l; values[o][l] out.
  void interpolate_lanes(const unsigned int n[max_dim],
                         unsigned int       n_outputs,
                         const double      *data,
                         const double      *basis_0,
                         const double      *basis_1,
                         const double      *basis_2,
                         double            *values);

  /// values[k][l]: the Lagrange basis of the n points (barycentric
  /// weights) at xi[l], l < lanes.
  void lagrange_lanes(unsigned int n, const double *points, const double *weights, const double *xi, double *values);
} // namespace tpde::attention::fast::butterfly_detail
