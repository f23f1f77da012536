// The vectorised loops of the fast summation.
#include "attention/fast_summation_internal.h"
#include "attention/simd_exp.h"

#include <algorithm>
#include <cstring>

// The lane helpers are compiled into target clones and never called across
// an ABI boundary with vector arguments (-Wpsabi would warn about the
// non-AVX-512 clones).
#pragma GCC diagnostic ignored "-Wpsabi"

namespace tpde::attention::fast::detail
{
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
} // namespace tpde::attention::fast::detail
