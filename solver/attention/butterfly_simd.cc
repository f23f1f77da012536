// The vectorised loops of the butterfly summation (butterfly_summation.cc),
// compiled per instruction set like the fast summation's.
#include "attention/butterfly_internal.h"

#include <cstring>

// The lane helpers are compiled into target clones and never called across
// an ABI boundary with vector arguments.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace tpde::attention::fast::butterfly_detail
{
  namespace
  {
    typedef double lanes_double __attribute__((vector_size(64)));
  }

  namespace
  {
    /// C = (add ? C : 0) + A B for a tile of `rows` rows (<= 4) and
    /// `vectors` (1 or 2) lane vectors of columns.
    template <std::size_t rows, std::size_t vectors>
    __attribute__((always_inline)) inline void gemm_tile(std::size_t   K,
                          const double *A,
                          std::size_t   lda,
                          const double *B,
                          std::size_t   ldb,
                          double       *C,
                          std::size_t   ldc,
                          bool          add)
    {
      lanes_double sum[rows][vectors] = {};
      if (add)
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t v = 0; v < vectors; ++v)
            std::memcpy(&sum[r][v], C + r * ldc + v * lanes, sizeof(lanes_double));
      for (std::size_t k = 0; k < K; ++k)
        {
          lanes_double b[vectors];
          for (std::size_t v = 0; v < vectors; ++v)
            std::memcpy(&b[v], B + k * ldb + v * lanes, sizeof b[v]);
          for (std::size_t r = 0; r < rows; ++r)
            {
              const double a = A[r * lda + k];
              for (std::size_t v = 0; v < vectors; ++v)
                sum[r][v] += a * b[v];
            }
        }
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t v = 0; v < vectors; ++v)
          std::memcpy(C + r * ldc + v * lanes, &sum[r][v], sizeof(lanes_double));
    }

    template <std::size_t vectors>
    __attribute__((always_inline)) inline void gemm_columns(std::size_t   R,
                             std::size_t   K,
                             const double *A,
                             std::size_t   lda,
                             const double *B,
                             std::size_t   ldb,
                             double       *C,
                             std::size_t   ldc,
                             bool          add)
    {
      std::size_t r = 0;
      for (; r + 4 <= R; r += 4)
        gemm_tile<4, vectors>(K, A + r * lda, lda, B, ldb, C + r * ldc, ldc, add);
      for (; r < R; ++r)
        gemm_tile<1, vectors>(K, A + r * lda, lda, B, ldb, C + r * ldc, ldc, add);
    }
  } // namespace

  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void
  gemm(std::size_t   R,
       std::size_t   N,
       std::size_t   K,
       const double *A,
       std::size_t   lda,
       const double *B,
       std::size_t   ldb,
       double       *C,
       std::size_t   ldc,
       bool          add)
  {
    std::size_t c = 0;
    for (; c + 2 * lanes <= N; c += 2 * lanes)
      gemm_columns<2>(R, K, A, lda, B + c, ldb, C + c, ldc, add);
    for (; c + lanes <= N; c += lanes)
      gemm_columns<1>(R, K, A, lda, B + c, ldb, C + c, ldc, add);
    for (; c < N; ++c)
      for (std::size_t r = 0; r < R; ++r)
        {
          double total = add ? C[r * ldc + c] : 0.;
          for (std::size_t k = 0; k < K; ++k)
            total += A[r * lda + k] * B[k * ldb + c];
          C[r * ldc + c] = total;
        }
  }

  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void
  interpolate_lanes(const unsigned int n[max_dim],
                    unsigned int       n_outputs,
                    const double      *data,
                    const double      *basis_0,
                    const double      *basis_1,
                    const double      *basis_2,
                    double            *values)
  {
    lanes_double result[max_dim + 1] = {};
    for (unsigned int o = 0; o < n_outputs; ++o)
      for (unsigned int i2 = 0; i2 < n[2]; ++i2)
        {
          lanes_double plane = {};
          for (unsigned int i1 = 0; i1 < n[1]; ++i1)
            {
              const double *row  = data + ((o * n[2] + i2) * n[1] + i1) * n[0];
              // Four partial sums: the multiply-adds of one would wait on each other.
              lanes_double part[4] = {};
              unsigned int i0      = 0;
              for (; i0 + 4 <= n[0]; i0 += 4)
                for (unsigned int p = 0; p < 4; ++p)
                  {
                    lanes_double b;
                    std::memcpy(&b, basis_0 + (i0 + p) * lanes, sizeof b);
                    part[p] += row[i0 + p] * b;
                  }
              for (; i0 < n[0]; ++i0)
                {
                  lanes_double b;
                  std::memcpy(&b, basis_0 + i0 * lanes, sizeof b);
                  part[0] += row[i0] * b;
                }
              const lanes_double line = (part[0] + part[1]) + (part[2] + part[3]);
              lanes_double b;
              std::memcpy(&b, basis_1 + i1 * lanes, sizeof b);
              plane += line * b;
            }
          lanes_double b;
          std::memcpy(&b, basis_2 + i2 * lanes, sizeof b);
          result[o] += plane * b;
        }
    for (unsigned int o = 0; o < n_outputs; ++o)
      std::memcpy(values + o * lanes, &result[o], sizeof result[o]);
  }

  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void
  lagrange_lanes(unsigned int n, const double *points, const double *weights, const double *xi, double *values)
  {
    lanes_double x;
    std::memcpy(&x, xi, sizeof x);
    if (n == 1)
      {
        const lanes_double one = lanes_double{} + 1.;
        std::memcpy(values, &one, sizeof one);
        return;
      }
    lanes_double total = {};
    for (unsigned int k = 0; k < n; ++k)
      {
        lanes_double difference = x - points[k];
        // A point on a node: a tiny difference gives that node weight 1.
        difference             = difference == 0. ? difference + 1e-300 : difference;
        const lanes_double value = weights[k] / difference;
        total += value;
        std::memcpy(values + k * lanes, &value, sizeof value);
      }
    const lanes_double inverse = 1. / total;
    for (unsigned int k = 0; k < n; ++k)
      {
        lanes_double value;
        std::memcpy(&value, values + k * lanes, sizeof value);
        value *= inverse;
        std::memcpy(values + k * lanes, &value, sizeof value);
      }
  }
} // namespace tpde::attention::fast::butterfly_detail
