// The harmonic sums of sphere_harmonics.h: Bessel values, degrees, the
// zonal test and the source and target loops. Real orthonormal harmonics
//   Y_l0 = P_l^0(z),  Y_lm = sqrt 2 P_l^m(z) (cos, sin)(m phi)  (m >= 1),
// with P the normalised associated Legendre functions (no Condon-Shortley
// sign: both sides of the addition theorem use the same ones), computed
// without angles: P_l^m = s^m q_l^m(z) with s e^{i phi} = x + i y, so
// s^m (cos, sin)(m phi) = (x + i y)^m by complex products, and q_l^m by the
// stable normalised three-term recurrence in l,
//   q_m^m = sqrt((2m + 1) / 2m) q_{m-1}^{m-1},  q_0^0 = 1 / sqrt(4 pi),
//   q_l^m = a_lm (z q_{l-1}^m - b_lm q_{l-2}^m),
//   a_lm = sqrt((4l^2 - 1) / (l^2 - m^2)), b_lm = sqrt(((l-1)^2 - m^2) / (4 (l-1)^2 - 1)).
// q_l^m is largest at the poles, ~1e24 at l = max_harmonic_degree = 120
// (P itself is bounded), so nothing overflows. The loops run on
// groups of 16 points (two 8-lane vectors), compiled per instruction set like
// the attention kernels (kernel_base.h); sources are summed in fixed blocks
// added in order, targets are independent: results do not depend on the
// number of threads.
#include "sphere/sphere_harmonics.h"

#include "attention/kernel_base.h"
#include "sphere/miller_recurrence.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace tpde::sphere
{
  namespace
  {
    typedef double         lanes __attribute__((vector_size(64)));
    constexpr unsigned int lane_count   = 8;
    constexpr unsigned int groups       = 2;
    constexpr unsigned int group_points = lane_count * groups;
    constexpr std::size_t  source_block = 2048; // sources summed per block before the blocks are added
    constexpr std::size_t  target_block = 512;  // targets per task
    constexpr double       eps          = std::numeric_limits<double>::epsilon();
    const double           y00          = 0.5 / std::sqrt(M_PI);

    /// The recurrence constants per (m, l) entry (m = 0..L, l = m..L) and per m.
    struct Recurrence
    {
      std::vector<double> a, b, diagonal;
      explicit Recurrence(unsigned int L)
        : diagonal(L + 1, 1.)
      {
        for (unsigned int m = 0; m <= L; ++m)
          {
            if (m > 0)
              diagonal[m] = std::sqrt((2. * m + 1) / (2. * m));
            for (unsigned int l = m; l <= L; ++l)
              {
                const double ll = l, mm = m;
                a.push_back(l == m ? 0. : std::sqrt((4 * ll * ll - 1) / (ll * ll - mm * mm)));
                b.push_back(l == m ? 0. : std::sqrt(((ll - 1) * (ll - 1) - mm * mm) / (4 * (ll - 1) * (ll - 1) - 1)));
              }
          }
      }
    };

    std::size_t entries(unsigned int L) { return std::size_t(L + 1) * (L + 2) / 2; }

    /// The per-group state of both loops: the points, (x + i y)^m = cr + i ci
    /// and q_m^m at the current order m.
    struct Orders
    {
      lanes X[groups], Y[groups], Z[groups], cr[groups], ci[groups], qmm[groups];

      /// A group of points (three arrays of group_points), at order m = 0.
      __attribute__((always_inline)) inline explicit Orders(const double *const *point)
      {
        for (unsigned int g = 0; g < groups; ++g)
          {
            for (unsigned int l = 0; l < lane_count; ++l)
              {
                X[g][l] = point[0][g * lane_count + l];
                Y[g][l] = point[1][g * lane_count + l];
                Z[g][l] = point[2][g * lane_count + l];
              }
            cr[g]  = lanes{} + 1.;
            ci[g]  = lanes{};
            qmm[g] = lanes{} + y00;
          }
      }

      /// From order m - 1 to m (diagonal: sqrt((2m + 1) / 2m)).
      __attribute__((always_inline)) inline void raise(unsigned int g, double diagonal)
      {
        const lanes r = cr[g] * X[g] - ci[g] * Y[g];
        ci[g]         = cr[g] * Y[g] + ci[g] * X[g];
        cr[g]         = r;
        qmm[g] *= diagonal;
      }

      /// q <- q_l^m from q = q_{l-1}^m, qp = q_{l-2}^m (qp <- q_{l-1}^m).
      __attribute__((always_inline)) inline void next_degree(unsigned int g, double a, double b, lanes &q,
                                                             lanes &qp) const
      {
        const lanes next = a * (Z[g] * q - b * qp);
        qp               = q;
        q                = next;
      }
    };

    /// acc[8 e + k] += the lane-wise sums of w q_l^m Re/Im (x + i y)^m times
    /// (1, x, y, z) for entry e = (m, l), over one group of points.
    TPDE_ATTENTION_CLONES
    void source_group(const double *const *point, const double *w, unsigned int L, const double *a,
                      const double *b, const double *diagonal, lanes *acc)
    {
      Orders o(point);
      lanes  W[groups];
      for (unsigned int g = 0; g < groups; ++g)
        for (unsigned int l = 0; l < lane_count; ++l)
          W[g][l] = w[g * lane_count + l];
      std::size_t e = 0;
      for (unsigned int m = 0; m <= L; ++m)
        {
          lanes wc[groups], ws[groups], q[groups], qp[groups];
          for (unsigned int g = 0; g < groups; ++g)
            {
              if (m > 0)
                o.raise(g, diagonal[m]);
              wc[g] = W[g] * o.cr[g];
              ws[g] = W[g] * o.ci[g];
              q[g]  = o.qmm[g];
              qp[g] = lanes{};
            }
          for (unsigned int l = m; l <= L; ++l, ++e)
            {
              lanes *out = acc + 8 * e;
              for (unsigned int g = 0; g < groups; ++g)
                {
                  if (l > m)
                    o.next_degree(g, a[e], b[e], q[g], qp[g]);
                  const lanes tc = wc[g] * q[g], ts = ws[g] * q[g];
                  out[0] += tc;
                  out[1] += tc * o.X[g];
                  out[2] += tc * o.Y[g];
                  out[3] += tc * o.Z[g];
                  out[4] += ts;
                  out[5] += ts * o.X[g];
                  out[6] += ts * o.Y[g];
                  out[7] += ts * o.Z[g];
                }
            }
        }
    }

    /// out[f][i] = sum_e coef[8e + f] q Re(x + i y)^m + coef[8e + 4 + f] q Im(...)
    /// for one group of targets, f = 0 (D) and 1..3 (N).
    TPDE_ATTENTION_CLONES
    void target_group(const double *const *point, unsigned int L, const double *a, const double *b,
                      const double *diagonal, const double *coef, double *out)
    {
      Orders o(point);
      lanes  sum[4][groups];
      for (unsigned int f = 0; f < 4; ++f)
        for (unsigned int g = 0; g < groups; ++g)
          sum[f][g] = lanes{};
      std::size_t e = 0;
      for (unsigned int m = 0; m <= L; ++m)
        {
          lanes q[groups], qp[groups], pc[4][groups], ps[4][groups];
          for (unsigned int g = 0; g < groups; ++g)
            {
              if (m > 0)
                o.raise(g, diagonal[m]);
              q[g]  = o.qmm[g];
              qp[g] = lanes{};
              for (unsigned int f = 0; f < 4; ++f)
                pc[f][g] = ps[f][g] = lanes{};
            }
          for (unsigned int l = m; l <= L; ++l, ++e)
            {
              const double *c = coef + 8 * e;
              for (unsigned int g = 0; g < groups; ++g)
                {
                  if (l > m)
                    o.next_degree(g, a[e], b[e], q[g], qp[g]);
                  for (unsigned int f = 0; f < 4; ++f)
                    {
                      pc[f][g] += c[f] * q[g];
                      ps[f][g] += c[4 + f] * q[g];
                    }
                }
            }
          for (unsigned int g = 0; g < groups; ++g)
            for (unsigned int f = 0; f < 4; ++f)
              sum[f][g] += o.cr[g] * pc[f][g] + o.ci[g] * ps[f][g];
        }
      for (unsigned int f = 0; f < 4; ++f)
        for (unsigned int g = 0; g < groups; ++g)
          for (unsigned int l = 0; l < lane_count; ++l)
            out[f * group_points + g * lane_count + l] = sum[f][g][l];
    }
  } // namespace

  std::vector<double> scaled_spherical_bessel_i(double r, unsigned int n)
  {
    if (!(r >= 0) || !std::isfinite(r))
      throw std::invalid_argument("scaled_spherical_bessel_i: r must be finite and >= 0");
    std::vector<double> out(n + 1, 0.);
    if (r < 1e-8)
      {
        // i_l(r) = r^l / (2l + 1)!! (1 + O(r^2)), exact to rounding here (the
        // recurrence's (2l + 1) / r would overflow).
        double term = std::exp(-r);
        for (unsigned int l = 0; l <= n && term > 0; ++l)
          {
            out[l] = term;
            term *= r / (2. * l + 3);
          }
        return out;
      }
    // Backward recurrence i_{l-1} = i_{l+1} + ((2l + 1) / r) i_l from far above
    // the last significant degree ((2l + 1) i_l / e^r ~ e^{-l^2 / 2r}), values
    // rescaled before they overflow; the normalisation sums positive terms
    // (sum_l (2l + 1) i_l(r) P_l(1) = e^r).
    const unsigned int start = n + 40 + static_cast<unsigned int>(std::ceil(std::sqrt(100. * r)));
    return miller_backward(
      n, start, [r](unsigned int l) { return (2. * l + 1) / r; }, [](unsigned int l) { return 2. * l + 1; });
  }

  double harmonic_tail(double r, unsigned int degree)
  {
    if (!(r > 0))
      return 0.;
    const unsigned int        n = degree + 40 + static_cast<unsigned int>(std::ceil(std::sqrt(100. * r)));
    const std::vector<double> b = scaled_spherical_bessel_i(r, n);
    double                    tail = 0.;
    for (unsigned int l = n; l > degree; --l)
      tail += (2. * l + 1) * b[l];
    return tail;
  }

  unsigned int harmonic_degree(double r, double tolerance)
  {
    if (!(r > 0))
      return 0;
    const double estimate = std::sqrt(80. * r);
    if (estimate > 2. * max_harmonic_degree)
      return static_cast<unsigned int>(std::min(estimate, 1e9));
    const double       allowed = std::max(tolerance * std::exp(-2 * r), std::ldexp(1., -55));
    const unsigned int n       = 40 + static_cast<unsigned int>(std::ceil(std::sqrt(100. * r)));
    const std::vector<double> b = scaled_spherical_bessel_i(r, n);
    double                    tail = 0.;
    unsigned int              L    = n;
    while (L > 0 && tail + (2. * L + 1) * b[L] <= allowed)
      {
        tail += (2. * L + 1) * b[L];
        --L;
      }
    return L;
  }

  std::optional<SphereZonalScore> sphere_zonal_score(double beta, const Matrix &Q, const Matrix &K)
  {
    if (Q.cols != 3 || K.cols != 3 || Q.rows != K.rows)
      return std::nullopt;
    long double A[3][3] = {};
    for (int p = 0; p < 3; ++p)
      for (int q = 0; q < 3; ++q)
        {
          for (std::size_t r = 0; r < Q.rows; ++r)
            A[p][q] += static_cast<long double>(Q(r, p)) * K(r, q);
          A[p][q] *= beta;
        }
    long double AtA[3][3] = {}, trace = 0;
    for (int p = 0; p < 3; ++p)
      for (int q = 0; q < 3; ++q)
        {
          for (int r = 0; r < 3; ++r)
            AtA[p][q] += A[r][p] * A[r][q];
          if (p == q)
            trace += AtA[p][q];
        }
    const long double r2 = trace / 3;
    if (!std::isfinite(static_cast<double>(r2)))
      return std::nullopt;
    for (int p = 0; p < 3; ++p)
      for (int q = 0; q < 3; ++q)
        if (!(std::abs(static_cast<double>(AtA[p][q] - (p == q ? r2 : 0))) <= 16 * eps * static_cast<double>(r2)))
          return std::nullopt;
    SphereZonalScore score;
    score.radius = static_cast<double>(std::sqrt(r2));
    if (score.radius > 0)
      for (int p = 0; p < 3; ++p)
        for (int q = 0; q < 3; ++q) // <x, A y> = <A^T x, y>: R = A^T / radius
          score.rotation[3 * p + q] = static_cast<double>(A[q][p] / std::sqrt(r2));
    return score;
  }

  HarmonicSums::HarmonicSums(double radius, double tolerance, std::size_t n, const double *y, const double *weights)
    : L(harmonic_degree(radius, tolerance))
  {
    if (L > max_harmonic_degree)
      throw std::logic_error("HarmonicSums: too high a degree for the score radius");
    const Recurrence  rec(L);
    const std::size_t n_entries = entries(L), width = 8 * n_entries;
    const std::size_t padded    = attention::padded_size(std::max<std::size_t>(n, 1), group_points);
    std::vector<double> coordinate[3], w(padded, 0.);
    for (unsigned int c = 0; c < 3; ++c)
      {
        coordinate[c].assign(padded, c == 2 ? 1. : 0.); // padding: the north pole with weight 0
        for (std::size_t j = 0; j < n; ++j)
          coordinate[c][j] = y[3 * j + c];
      }
    std::copy(weights, weights + n, w.begin());
    const std::size_t   n_blocks = attention::padded_size(padded, source_block) / source_block;
    std::vector<double> partial(n_blocks * width, 0.);
    attention::parallel_for_each(n_blocks, [&](std::size_t block) {
      attention::AlignedVector storage(width * lane_count, 0.);
      lanes                   *acc = reinterpret_cast<lanes *>(storage.data());
      const std::size_t        end = std::min(padded, (block + 1) * source_block);
      for (std::size_t p = block * source_block; p < end; p += group_points)
        {
          const double *point[3] = {&coordinate[0][p], &coordinate[1][p], &coordinate[2][p]};
          source_group(point, &w[p], L, rec.a.data(), rec.b.data(), rec.diagonal.data(), acc);
        }
      for (std::size_t c = 0; c < width; ++c)
        partial[block * width + c] = attention::pairwise_sum(acc[c]);
    });
    coefficients.assign(width, 0.);
    for (std::size_t block = 0; block < n_blocks; ++block)
      for (std::size_t i = 0; i < width; ++i)
        coefficients[i] += partial[block * width + i];
    const double total_weight = coefficients[0] / y00;
    // 4 pi e^{-r} i_l, and 2 for m >= 1 (the sqrt 2 of both harmonics).
    const std::vector<double> bessel = scaled_spherical_bessel_i(radius, L);
    std::size_t               e      = 0;
    for (unsigned int m = 0; m <= L; ++m)
      for (unsigned int l = m; l <= L; ++l, ++e)
        for (unsigned int k = 0; k < 8; ++k)
          coefficients[8 * e + k] *= 4 * M_PI * bessel[l] * (m == 0 ? 1. : 2.);
    double mean_degree = 0.;
    for (unsigned int l = 0; l <= L; ++l)
      mean_degree += (2. * l + 1) * bessel[l] * l;
    // Rounding: a few ulp of W per degree summed (tests/kernels/
    // test_sphere_harmonics.cc measures it), with the truncation tail.
    bound = total_weight * (harmonic_tail(radius, L) + 8 * eps * (4 + mean_degree));
  }

  void HarmonicSums::evaluate(std::size_t n_targets, const double *x, double *scaled, double *mean) const
  {
    const Recurrence  rec(L);
    const std::size_t n_tasks = attention::padded_size(n_targets, target_block) / target_block;
    attention::parallel_for_each(n_tasks, [&](std::size_t task) {
      double            coordinate[3][group_points], out[4 * group_points];
      const std::size_t end = std::min(n_targets, (task + 1) * target_block);
      for (std::size_t first = task * target_block; first < end; first += group_points)
        {
          const std::size_t count = std::min<std::size_t>(group_points, end - first);
          for (unsigned int i = 0; i < group_points; ++i)
            for (unsigned int c = 0; c < 3; ++c)
              coordinate[c][i] = i < count ? x[3 * (first + i) + c] : (c == 2 ? 1. : 0.);
          const double *point[3] = {coordinate[0], coordinate[1], coordinate[2]};
          target_group(point, L, rec.a.data(), rec.b.data(), rec.diagonal.data(), coefficients.data(), out);
          for (std::size_t i = 0; i < count; ++i)
            {
              scaled[first + i] = out[i];
              for (unsigned int c = 0; c < 3; ++c)
                mean[3 * (first + i) + c] = out[(c + 1) * group_points + i];
            }
        }
    });
  }
} // namespace tpde::sphere
