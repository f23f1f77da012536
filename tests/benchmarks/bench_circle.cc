// The zonal fast path on the circle (sphere/circle_fourier.h) against direct
// sums: N targets = N sources at N = 1e4, 1e5, 1e6, non-uniform angles (three
// von Mises-like clusters of unequal weight and width over a 30% uniform
// background), weights ~ 1/N; softmax (SA) and unnormalized (USA) with
// A = beta (rotation by 0.3) (a and b nonzero, radius beta) and a general V.
// For each: the Fourier kernel's time (`evaluation = auto`), its modes and
// fallback share, the direct chart kernel's time (all targets up to 1e5; at
// 1e6 a subset of targets against all sources, scaled to N targets, marked
// *), the ratio, and the max |error| relative to the max |velocity| over the
// compared targets. All threads TBB may use.
//
//   bench_circle [--beta=B] [--subset=TARGETS]
#include "attention/attention.h"
#include "sphere/circle_fourier.h"

#include <tbb/info.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace
{
  using namespace tpde;

  /// Angles from the cluster mixture, shuffled (the kernels see no order).
  void make_angles(std::size_t n, std::vector<double> &theta, std::vector<double> &w)
  {
    std::mt19937_64                        random(42);
    std::uniform_real_distribution<double> unit(0, 1);
    std::normal_distribution<double>       normal(0, 1);
    const double centre[3] = {0.5, 2.6, 4.4}, width[3] = {0.15, 0.3, 0.08}, share[3] = {0.35, 0.2, 0.15};
    theta.resize(n);
    w.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      {
        double u = unit(random), angle = 2 * M_PI * unit(random);
        for (int c = 0; c < 3; ++c)
          {
            if (u < share[c])
              {
                angle = centre[c] + width[c] * normal(random);
                break;
              }
            u -= share[c];
          }
        theta[i] = angle - 2 * M_PI * std::floor(angle / (2 * M_PI));
        w[i]     = (0.5 + unit(random)) / n;
      }
  }

  double seconds_since(std::chrono::steady_clock::time_point start)
  {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  /// Best of `repeat` evaluations of targets [0, n_targets) against all sources.
  double time_kernel(const attention::Kernel &kernel, std::size_t n_targets, const std::vector<double> &theta,
                     const std::vector<double> &w, std::vector<double> &v, int repeat)
  {
    v.assign(n_targets, 0.);
    double best = 1e300;
    for (int r = 0; r < repeat; ++r)
      {
        const auto start = std::chrono::steady_clock::now();
        kernel.evaluate(n_targets, theta.data(), theta.size(), theta.data(), w.data(), v.data());
        best = std::min(best, seconds_since(start));
      }
    return best;
  }
} // namespace

int main(int argc, char **argv)
{
  double      beta   = 9;
  std::size_t subset = 4096;
  for (int a = 1; a < argc; ++a)
    if (std::strncmp(argv[a], "--beta=", 7) == 0)
      beta = std::atof(argv[a] + 7);
    else if (std::strncmp(argv[a], "--subset=", 9) == 0)
      subset = std::strtoul(argv[a] + 9, nullptr, 10);
    else
      {
        std::fprintf(stderr, "usage: bench_circle [--beta=B] [--subset=TARGETS]\n");
        return 2;
      }
  attention::Parameters p;
  p.dim  = 2;
  p.beta = beta;
  p.Q    = Matrix::parse("0.955336489125606, -0.295520206661340; 0.295520206661340, 0.955336489125606");
  p.K    = Matrix::identity(2);
  p.V    = Matrix::parse("0.7, -1.3; 0.4, 0.9");
  const auto score = sphere::zonal_score(p.beta, p.Q, p.K);
  std::printf("Circle attention, Fourier path vs direct sums: beta Q^T K = a I + b J, radius %.6g, phase %.3f; "
              "%d threads\n",
              score ? score->radius : 0., score ? score->phase : 0., tbb::info::default_concurrency());
  std::printf("%-12s %8s %6s %9s %11s %13s %10s %14s\n", "type", "N", "modes", "fallback", "fourier [s]",
              "direct [s]", "ratio", "max rel. error");
  for (const std::string type : {"softmax", "unnormalized"})
    for (const std::size_t n : {std::size_t(10000), std::size_t(100000), std::size_t(1000000)})
      {
        std::vector<double> theta, w, fast, direct;
        make_angles(n, theta, w);
        p.evaluation        = attention::Parameters::Evaluation::automatic;
        const auto fourier  = sphere::create_circle_kernel(type, p);
        const int  repeat   = n <= 100000 ? 5 : 2;
        const double t_fast = time_kernel(*fourier, n, theta, w, fast, repeat);
        const auto   diag   = fourier->diagnostics();
        p.evaluation        = attention::Parameters::Evaluation::direct;
        const auto        chart   = sphere::create_circle_kernel(type, p);
        const std::size_t checked = n <= 100000 ? n : std::min(subset, n);
        const double      t_direct =
          time_kernel(*chart, checked, theta, w, direct, 1) * static_cast<double>(n) / static_cast<double>(checked);
        double error = 0, scale = 0;
        for (std::size_t i = 0; i < checked; ++i)
          {
            error = std::max(error, std::abs(fast[i] - direct[i]));
            scale = std::max(scale, std::abs(direct[i]));
          }
        std::printf("%-12s %8zu %6g %9.4f %11.4f %12.3f%s %10.0f %14.2e\n", type.c_str(), n,
                    diag.empty() ? 0. : diag[0].second, diag.empty() ? 1. : diag[1].second, t_fast, t_direct,
                    checked < n ? "*" : " ", t_direct / t_fast, error / scale);
        std::fflush(stdout);
      }
  std::printf("(* direct timed on the first %zu targets against all sources and scaled to N targets; the error "
              "is over those targets)\n",
              subset);
  return 0;
}
