// The Fourier sums of circle_fourier.h: Bessel values, mode counts, the
// zonal test and the source and target loops. The loops run on groups of 32
// points (four 8-lane vectors, one AVX-512 register each), compiled per
// instruction set like the attention kernels (kernel_base.h); e^{i k phi} is
// advanced by one complex rotation per mode and re-seeded from cos, sin every
// reseed_interval modes so that the modulus and phase do not drift. Sources
// are summed in fixed blocks and the blocks added in order, targets are
// independent: results do not depend on the number of threads.
#include "sphere/circle_fourier.h"

#include "attention/kernel_base.h"
#include "sphere/miller_recurrence.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <math.h> // sincos (GNU): both at the cost of one
#include <stdexcept>

namespace tpde::sphere
{
  namespace
  {
    typedef double             lanes __attribute__((vector_size(64)));
    constexpr unsigned int     lane_count       = 8;
    constexpr unsigned int     groups           = 4;
    constexpr unsigned int     group_points     = lane_count * groups;
    constexpr unsigned int     reseed_interval  = 64;
    constexpr std::size_t      source_block     = 2048; // sources summed per block before the blocks are added
    constexpr std::size_t      target_block     = 1024; // targets per task
    constexpr double           eps              = std::numeric_limits<double>::epsilon();

    typedef long long lanes_int __attribute__((vector_size(64)));

    /// cos, sin of factor * angle[l] for 8 lanes, within ~1 ulp of libm:
    /// Cody-Waite reduction by pi/2 (three parts, exact products for
    /// |n| < 2^20) and Taylor polynomials on [-pi/4, pi/4], whose dropped
    /// terms are below 6e-17 relative. Lanes beyond |x| = 1e5 go to libm.
    /// (libm's scalar sincos took half the time of the Fourier sums.)
    __attribute__((always_inline)) inline void phasor_lanes(const double *angle, double factor, lanes &cosine,
                                                            lanes &sine)
    {
      lanes x;
      for (unsigned int l = 0; l < lane_count; ++l)
        x[l] = factor * angle[l];
      const lanes shifter = lanes{} + 0x1.8p52;
      // round(x * 2 / pi): its low bits are the integer's in the shifted sum.
      const lanes shifted = x * 0.63661977236758134308 + shifter;
      const lanes n       = shifted - shifter;
      lanes       r       = x - n * 1.57079632673412561417e+00;
      r                   = r - n * 6.07710050630396597660e-11;
      r                   = r - n * 2.02226624871116645580e-21;
      const lanes r2      = r * r;
      const lanes s =
        r + r * r2 *
              (-1. / 6 +
               r2 * (1. / 120 +
                     r2 * (-1. / 5040 +
                           r2 * (1. / 362880 +
                                 r2 * (-1. / 39916800 + r2 * (1. / 6227020800 + r2 * (-1. / 1307674368000)))))));
      const lanes c =
        1. + r2 * (-0.5 +
                   r2 * (1. / 24 +
                         r2 * (-1. / 720 +
                               r2 * (1. / 40320 +
                                     r2 * (-1. / 3628800 +
                                           r2 * (1. / 479001600 +
                                                 r2 * (-1. / 87178291200 + r2 * (1. / 20922789888000))))))));
      // Quadrant q = n mod 4: (cos, sin) = (c, s), (-s, c), (-c, -s), (s, -c).
      const lanes_int q    = (lanes_int)shifted & 3; // a vector cast keeps the bits
      const lanes_int odd  = (q & 1) != 0;
      const lanes     swap_c = odd ? s : c, swap_s = odd ? c : s;
      cosine               = ((q == 1) | (q == 2)) ? -swap_c : swap_c;
      sine                 = (q >= 2) ? -swap_s : swap_s;
      for (unsigned int l = 0; l < lane_count; ++l)
        if (!(std::abs(x[l]) <= 1e5))
          ::sincos(x[l], &sine[l], &cosine[l]);
    }

    /// acc[2k] += sum_p w_p cos(k phi_p), acc[2k + 1] -= sum_p w_p sin(k phi_p),
    /// k < n_coefficients, for one group of points (lane-wise partial sums).
    TPDE_ATTENTION_CLONES
    void source_group(const double *phi, const double *w, unsigned int n_coefficients, lanes *acc)
    {
      lanes zr[groups], zi[groups], er[groups], ei[groups], wl[groups];
      for (unsigned int g = 0; g < groups; ++g)
        {
          phasor_lanes(phi + g * lane_count, 1., er[g], ei[g]);
          ei[g] = -ei[g];
          zr[g] = lanes{} + 1.;
          zi[g] = lanes{};
          for (unsigned int l = 0; l < lane_count; ++l)
            wl[g][l] = w[g * lane_count + l];
        }
      for (unsigned int k = 0; k < n_coefficients; ++k)
        {
          if (k > 0 && k % reseed_interval == 0)
            for (unsigned int g = 0; g < groups; ++g)
              {
                phasor_lanes(phi + g * lane_count, k, zr[g], zi[g]);
                zi[g] = -zi[g];
              }
          else if (k > 0)
            for (unsigned int g = 0; g < groups; ++g)
              {
                const lanes r = zr[g] * er[g] - zi[g] * ei[g];
                zi[g]         = zr[g] * ei[g] + zi[g] * er[g];
                zr[g]         = r;
              }
          acc[2 * k] += (wl[0] * zr[0] + wl[1] * zr[1]) + (wl[2] * zr[2] + wl[3] * zr[3]);
          acc[2 * k + 1] += (wl[0] * zi[0] + wl[1] * zi[1]) + (wl[2] * zi[2] + wl[3] * zi[3]);
        }
    }

    /// Target sums for one group of points (theta: group_points angles):
    /// scaled = dc[0] + sum_{k >= 1} dc[2k] cos k theta + dc[2k + 1] sin k theta,
    /// and with mc the two numerator components likewise (four per mode).
    TPDE_ATTENTION_CLONES
    void target_group(const double *theta, unsigned int modes, const double *dc, const double *mc, double *scaled,
                      double *mean)
    {
      lanes zr[groups], zi[groups], er[groups], ei[groups], d[groups], nr[groups], ni[groups];
      for (unsigned int g = 0; g < groups; ++g)
        {
          phasor_lanes(theta + g * lane_count, 1., er[g], ei[g]);
          zr[g] = er[g];
          zi[g] = ei[g];
          d[g]  = lanes{} + dc[0];
          nr[g] = lanes{} + (mc ? mc[0] : 0.);
          ni[g] = lanes{} + (mc ? mc[2] : 0.);
        }
      for (unsigned int k = 1; k <= modes; ++k)
        {
          if (k % reseed_interval == 0)
            for (unsigned int g = 0; g < groups; ++g)
              phasor_lanes(theta + g * lane_count, k, zr[g], zi[g]);
          else if (k > 1)
            for (unsigned int g = 0; g < groups; ++g)
              {
                const lanes r = zr[g] * er[g] - zi[g] * ei[g];
                zi[g]         = zr[g] * ei[g] + zi[g] * er[g];
                zr[g]         = r;
              }
          const double a = dc[2 * k], b = dc[2 * k + 1];
          for (unsigned int g = 0; g < groups; ++g)
            d[g] += a * zr[g] + b * zi[g];
          if (mc)
            {
              const double *u = mc + 4 * k;
              for (unsigned int g = 0; g < groups; ++g)
                {
                  nr[g] += u[0] * zr[g] + u[1] * zi[g];
                  ni[g] += u[2] * zr[g] + u[3] * zi[g];
                }
            }
        }
      for (unsigned int g = 0; g < groups; ++g)
        for (unsigned int l = 0; l < lane_count; ++l)
          {
            scaled[g * lane_count + l] = d[g][l];
            if (mean)
              {
                mean[2 * (g * lane_count + l)]     = nr[g][l];
                mean[2 * (g * lane_count + l) + 1] = ni[g][l];
              }
          }
    }

    /// c_k = sum_j w_j e^{-i k phi_j} for k < n_coefficients, as (re, im) pairs.
    std::vector<double> source_coefficients(std::size_t n, const double *phi, const double *weights,
                                            unsigned int n_coefficients)
    {
      const std::size_t   padded = attention::padded_size(std::max<std::size_t>(n, 1), group_points);
      std::vector<double> angle(padded, 0.), w(padded, 0.);
      std::copy(phi, phi + n, angle.begin());
      std::copy(weights, weights + n, w.begin());
      const std::size_t   n_blocks = attention::padded_size(padded, source_block) / source_block;
      const std::size_t   width    = 2 * std::size_t(n_coefficients);
      std::vector<double> partial(n_blocks * width, 0.);
      attention::parallel_for_each(n_blocks, [&](std::size_t b) {
        // Cache-line aligned (std::vector<lanes> need not be: the vector
        // attribute is dropped in template arguments).
        attention::AlignedVector storage(width * lane_count, 0.);
        lanes                   *acc = reinterpret_cast<lanes *>(storage.data());
        const std::size_t        end = std::min(padded, (b + 1) * source_block);
        for (std::size_t p = b * source_block; p < end; p += group_points)
          source_group(&angle[p], &w[p], n_coefficients, acc);
        for (std::size_t c = 0; c < width; ++c)
          partial[b * width + c] = attention::pairwise_sum(acc[c]);
      });
      std::vector<double> c(width, 0.);
      for (std::size_t b = 0; b < n_blocks; ++b)
        for (std::size_t i = 0; i < width; ++i)
          c[i] += partial[b * width + i];
      return c;
    }
  } // namespace

  std::vector<double> scaled_bessel_i(double r, unsigned int n)
  {
    if (!(r >= 0) || !std::isfinite(r))
      throw std::invalid_argument("scaled_bessel_i: r must be finite and >= 0");
    std::vector<double> out(n + 1, 0.);
    if (r < 1e-8)
      {
        // I_k(r) = (r/2)^k / k! (1 + O(r^2)): exact to rounding here, and the
        // recurrence's 2k / r would overflow.
        double term = std::exp(-r);
        for (unsigned int k = 0; k <= n && term > 0; ++k)
          {
            out[k] = term;
            term *= 0.5 * r / (k + 1);
          }
        return out;
      }
    // Backward recurrence I_{k-1} = I_{k+1} + (2k / r) I_k from far above the
    // last significant order (I_k / I_0 ~ e^{-k^2 / 2r}), values rescaled
    // before they overflow; the normalisation is a sum of positive terms.
    const unsigned int start = n + 40 + static_cast<unsigned int>(std::ceil(std::sqrt(100. * r)));
    return miller_backward(
      n, start, [r](unsigned int k) { return 2. * k / r; }, [](unsigned int k) { return k == 0 ? 1. : 2.; });
  }

  unsigned int fourier_modes(double r)
  {
    if (!(r > 0))
      return 0;
    const double estimate = std::sqrt(80. * r);
    if (estimate > 2. * max_fourier_modes)
      return static_cast<unsigned int>(std::min(estimate, 1e9));
    const unsigned int        n = 40 + static_cast<unsigned int>(std::ceil(std::sqrt(100. * r)));
    const std::vector<double> b = scaled_bessel_i(r, n);
    const double              allowed = std::ldexp(b[0], -55);
    double                    tail    = 0.;
    unsigned int              M       = n;
    while (M > 0 && tail + 2 * b[M] <= allowed)
      tail += 2 * b[M--];
    return M;
  }

  std::optional<ZonalScore> zonal_score(double beta, const Matrix &Q, const Matrix &K)
  {
    if (Q.cols != 2 || K.cols != 2 || Q.rows != K.rows)
      return std::nullopt;
    long double A[2][2] = {{0, 0}, {0, 0}};
    for (int p = 0; p < 2; ++p)
      for (int q = 0; q < 2; ++q)
        {
          for (std::size_t r = 0; r < Q.rows; ++r)
            A[p][q] += static_cast<long double>(Q(r, p)) * K(r, q);
          A[p][q] *= beta;
        }
    const double largest =
      static_cast<double>(std::max(std::max(std::abs(A[0][0]), std::abs(A[0][1])),
                                   std::max(std::abs(A[1][0]), std::abs(A[1][1]))));
    const double traceless = static_cast<double>(std::hypot(A[0][0] - A[1][1], A[0][1] + A[1][0]) / 2);
    if (!std::isfinite(largest) || !(traceless <= 8 * eps * largest))
      return std::nullopt;
    // <x, A y> = a cos(theta - phi) + b sin(theta - phi) for A = a I + b J.
    const double a = static_cast<double>((A[0][0] + A[1][1]) / 2);
    const double b = static_cast<double>((A[1][0] - A[0][1]) / 2);
    return ZonalScore{std::hypot(a, b), std::atan2(b, a)};
  }

  ZonalSums::ZonalSums(ZonalScore score, std::size_t n_sources, const double *phi, const double *weights,
                       bool with_mean)
    : n_modes(fourier_modes(score.radius))
    , with_mean(with_mean)
  {
    if (n_modes > max_fourier_modes)
      throw std::logic_error("ZonalSums: too many modes for the score radius");
    const unsigned int        M = n_modes;
    const std::vector<double> c = source_coefficients(n_sources, phi, weights, M + (with_mean ? 2 : 1));
    const std::vector<double> bessel = scaled_bessel_i(score.radius, M);
    // G_k = I_k e^{-i k delta} c_k; the target adds 2 Re(e^{i k theta} G_k).
    density_coefficients.assign(2 * (M + 1), 0.);
    double weighted_order = 1.; // sum_{k in Z} e^{-r} I_|k| (1 + |k|), for the error bound
    for (unsigned int k = 0; k <= M; ++k)
      {
        const double cr = std::cos(k * score.phase), ci = -std::sin(k * score.phase);
        const double gr = bessel[k] * (cr * c[2 * k] - ci * c[2 * k + 1]);
        const double gi = bessel[k] * (cr * c[2 * k + 1] + ci * c[2 * k]);
        density_coefficients[2 * k]     = k == 0 ? gr : 2 * gr;
        density_coefficients[2 * k + 1] = k == 0 ? 0. : -2 * gi;
        weighted_order += k == 0 ? 0. : 2. * k * bessel[k];
        if (!with_mean)
          continue;
        // N = sum_k e^{i k theta} H_k, H_k = I_|k| e^{-i k delta} c_{k-1},
        // with c_{-m} = conj(c_m); per k >= 1 the pair H_k, H_{-k} = P, R.
        const auto conj_c = [&](int m) { return m >= 0 ? std::make_pair(c[2 * m], -c[2 * m + 1])
                                                       : std::make_pair(c[-2 * m], c[-2 * m + 1]); };
        const auto [pr0, pi0] = conj_c(1 - int(k)); // conj(c_{1-k}) = c_{k-1}
        const double pr = bessel[k] * (cr * pr0 - ci * pi0), pi = bessel[k] * (cr * pi0 + ci * pr0);
        if (k == 0)
          {
            mean_coefficients.assign(4 * (M + 1), 0.);
            mean_coefficients[0] = pr;
            mean_coefficients[2] = pi;
            continue;
          }
        const auto [qr0, qi0] = conj_c(int(k) + 1); // c_{-k-1}, times e^{i k delta} = conj(cr + i ci)
        const double qr = bessel[k] * (cr * qr0 + ci * qi0), qi = bessel[k] * (cr * qi0 - ci * qr0);
        mean_coefficients[4 * k]     = pr + qr;
        mean_coefficients[4 * k + 1] = qi - pi;
        mean_coefficients[4 * k + 2] = pi + qi;
        mean_coefficients[4 * k + 3] = pr - qr;
      }
    // Measured errors (tests/kernels/test_circle_fourier.cc, and up to 1e6
    // sources) stay below 3 ulp of W, growing to 10 ulp at r = 3000 with all
    // the mass at one point, where the phase errors (~|k| ulp) of the many
    // modes add coherently: a few ulp of W times (2 + sqrt of the mean |k|).
    bound = 4 * eps * c[0] * (2 + std::sqrt(weighted_order));
  }

  void ZonalSums::evaluate(std::size_t n_targets, const double *theta, double *scaled, double *mean) const
  {
    if (with_mean && mean == nullptr)
      throw std::logic_error("ZonalSums::evaluate: the mean needs an output");
    const std::size_t n_tasks = attention::padded_size(n_targets, target_block) / target_block;
    attention::parallel_for_each(n_tasks, [&](std::size_t task) {
      double angle[group_points], d[group_points], m[2 * group_points];
      const std::size_t end = std::min(n_targets, (task + 1) * target_block);
      for (std::size_t first = task * target_block; first < end; first += group_points)
        {
          const std::size_t count = std::min<std::size_t>(group_points, end - first);
          std::fill(angle, angle + group_points, 0.);
          std::copy(theta + first, theta + first + count, angle);
          target_group(angle, n_modes, density_coefficients.data(), with_mean ? mean_coefficients.data() : nullptr,
                       d, m);
          std::copy(d, d + count, scaled + first);
          if (with_mean)
            std::copy(m, m + 2 * count, mean + 2 * first);
        }
    });
  }
} // namespace tpde::sphere
