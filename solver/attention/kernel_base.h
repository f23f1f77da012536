// What every attention kernel shares: the checks of parameters and inputs,
// the structure-of-arrays form of the sources, the fixed SIMD lane layout,
// the instruction-set clones and the threading over targets.
//
// Reproducibility: lanes and chunks are fixed here, not taken from the
// hardware, so every clone (AVX-512, AVX2, SSE2) sums in the same order, and
// every target (or block of targets) is summed by one task in one fixed
// order, so results do not depend on the number of threads.
#pragma once

#include "attention/attention.h"

#include <tbb/blocked_range.h>
#include <tbb/cache_aligned_allocator.h>
#include <tbb/parallel_for.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

// Compiled once per instruction set; the dynamic loader picks the best clone
// the CPU supports. x86-64-v4 is AVX-512 (F, BW, CD, DQ, VL); x86-64-v3 is
// AVX2 + FMA (a plain "avx2" clone would lack FMA); "default" is any x86-64.
#define TPDE_ATTENTION_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

namespace tpde::attention
{
  // Sources per lane group: one AVX-512 register (two AVX2, four SSE2).
  constexpr std::size_t source_lanes = 8;
  // Sources per partial sum before it is added to the running total: two
  // level summation keeps the rounding error of long sums at
  // ~(chunk/lanes + n/chunk) ulp instead of ~n/lanes ulp.
  constexpr std::size_t summation_chunk = 512;

  using AlignedVector = std::vector<double, tbb::cache_aligned_allocator<double>>;

  /// The eight lanes (array or GCC vector) summed in a fixed pairwise order.
  template <typename Lanes>
  __attribute__((always_inline)) inline double pairwise_sum(const Lanes &lane)
  {
    static_assert(source_lanes == 8, "pairwise lane sum written for 8 lanes");
    return ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
  }

  /// n rounded up to a multiple of `multiple`.
  constexpr std::size_t padded_size(std::size_t n, std::size_t multiple)
  {
    return (n + multiple - 1) / multiple * multiple;
  }

  /// body(i) for i < n on the TBB threads (each i on one thread).
  template <typename Body>
  void parallel_for_each(std::size_t n, const Body &body, std::size_t grain = 1)
  {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, grain),
                      [&](const tbb::blocked_range<std::size_t> &range) {
                        for (std::size_t i = range.begin(); i != range.end(); ++i)
                          body(i);
                      });
  }

  /// "rows x cols", for messages.
  std::string shape(const Matrix &m);

  /// Checks dim, beta and the shapes and entries of Q, K, V; throws
  /// std::invalid_argument naming `variant`, the entry and the expected shape.
  void check_attention_parameters(const std::string &variant, const Parameters &parameters);

  /// Throws std::invalid_argument "<entry> must be finite, got <value>".
  void check_finite_entry(const char *entry, double value);

  /// The points at which a kernel evaluates.
  struct Targets
  {
    std::size_t   n      = 0;
    const double *points = nullptr; // n x dim, row-major
  };

  /// The weighted sources, checked: weights finite and >= 0 with a positive
  /// total, coordinates of the sources with positive weight finite.
  struct Sources
  {
    std::size_t   n       = 0;
    const double *points  = nullptr; // n x dim, row-major
    const double *weights = nullptr;
    std::size_t   n_used  = 0;       // sources with positive weight
    double        maximum_weight = 0.;
    long double   total_weight   = 0.;
  };

  /// Checks the sources as described at Sources (and, with
  /// all_coordinates, the coordinates of zero-weight sources too); messages
  /// start with "<variant> attention: ".
  Sources check_sources(const std::string &variant,
                        unsigned int       dim,
                        std::size_t        n_sources,
                        const double      *points,
                        const double      *weights,
                        bool               all_coordinates = false);

  /// A kernel that checks its inputs once in evaluate() and then works on
  /// checked Targets and Sources.
  class CheckedKernel : public Kernel
  {
  public:
    CheckedKernel(std::string variant, unsigned int dim);

    unsigned int dimension() const override { return point_dimension; }

    void evaluate(std::size_t   n_targets,
                  const double *targets,
                  std::size_t   n_sources,
                  const double *sources,
                  const double *weights,
                  double       *velocities) const final;

  protected:
    /// velocities: targets.n x dim, overwritten.
    virtual void evaluate_checked(const Targets &targets,
                                  const Sources &sources,
                                  double        *velocities) const = 0;

    std::string  variant_name; // for messages
    unsigned int point_dimension;
  };

  /// The sources with positive weight in structure-of-arrays form, padded to
  /// a multiple of `padding` with y = 0 (callers pad their per-source data).
  template <int dim>
  struct PackedSources
  {
    std::size_t              n_padded = 0;
    std::vector<std::size_t> index; // source number of each packed entry
    AlignedVector            coordinate[dim];
  };

  template <int dim>
  PackedSources<dim> pack_sources(const Sources &sources, std::size_t padding)
  {
    PackedSources<dim> packed;
    packed.index.reserve(sources.n_used);
    for (std::size_t j = 0; j < sources.n; ++j)
      if (sources.weights[j] > 0.)
        packed.index.push_back(j);
    packed.n_padded = padded_size(packed.index.size(), padding);
    for (int i = 0; i < dim; ++i)
      {
        packed.coordinate[i].assign(packed.n_padded, 0.);
        for (std::size_t k = 0; k < packed.index.size(); ++k)
          packed.coordinate[i][k] = sources.points[packed.index[k] * dim + i];
      }
    return packed;
  }

  /// A = factor K^T Q in long double, so that a = A x is rounded only once.
  template <int dim>
  void score_matrix(const Parameters &parameters, double factor, long double A[dim][dim])
  {
    for (int p = 0; p < dim; ++p)
      for (int q = 0; q < dim; ++q)
        {
          long double sum = 0;
          for (std::size_t r = 0; r < parameters.Q.rows; ++r)
            sum += static_cast<long double>(parameters.K(r, p)) * parameters.Q(r, q);
          A[p][q] = sum * factor;
        }
  }

  /// The dim x dim matrix m as an array.
  template <int dim>
  void square_array(const Matrix &m, double out[dim][dim])
  {
    for (int p = 0; p < dim; ++p)
      for (int q = 0; q < dim; ++q)
        out[p][q] = m(p, q);
  }

  /// result = M v for a dim x dim array M.
  template <int dim, typename Entry>
  void multiply(const Entry M[dim][dim], const double v[dim], double result[dim])
  {
    for (int p = 0; p < dim; ++p)
      {
        double sum = 0.;
        for (int q = 0; q < dim; ++q)
          sum += M[p][q] * v[q];
        result[p] = sum;
      }
  }

  /// KernelOf<dim>(arguments...) for dim = parameters.dim (1, 2 or 3, checked before).
  template <template <int> class KernelOf, typename... Arguments>
  std::unique_ptr<Kernel> create_for_dimension(unsigned int dim, const Arguments &...arguments)
  {
    switch (dim)
      {
        case 1:
          return std::make_unique<KernelOf<1>>(arguments...);
        case 2:
          return std::make_unique<KernelOf<2>>(arguments...);
        default:
          return std::make_unique<KernelOf<3>>(arguments...);
      }
  }
} // namespace tpde::attention
