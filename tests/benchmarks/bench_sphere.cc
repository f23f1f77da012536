// The zonal fast path on S^2 (sphere/sphere_harmonics.h) against direct sums:
// N targets = N sources at N = 1e4, 1e5, 1e6 on the quasi-uniform Fibonacci
// lattice and on a clustered law (three von Mises-Fisher caps of unequal
// weight and width over a 20% uniform background), weights ~ 1/N; softmax
// (SA) and unnormalized (USA) with A = beta O (O a rotation, radius beta) and
// a general V. For each: the harmonic kernel's time (`evaluation = fast`),
// its degree and fallback share, the direct surface kernel's time (all
// targets up to 1e5; at 1e6 a subset of targets against all sources, scaled
// linearly to N targets, marked *), the ratio, and the max |error| relative
// to the max |velocity| over the compared targets. All threads TBB may use.
//
//   bench_sphere [--beta=B] [--subset=TARGETS] [--max=N]
#include "attention/attention.h"
#include "sphere/sphere_harmonics.h"
#include "support/sphere_points.h"

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

  double seconds_since(std::chrono::steady_clock::time_point start)
  {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  /// Best of `repeat` evaluations of targets [0, n_targets) against all sources.
  double time_kernel(const attention::Kernel &kernel, std::size_t n_targets, const std::vector<double> &x,
                     const std::vector<double> &w, std::vector<double> &v, int repeat)
  {
    v.assign(3 * n_targets, 0.);
    double best = 1e300;
    for (int r = 0; r < repeat; ++r)
      {
        const auto start = std::chrono::steady_clock::now();
        kernel.evaluate(n_targets, x.data(), w.size(), x.data(), w.data(), v.data());
        best = std::min(best, seconds_since(start));
      }
    return best;
  }
} // namespace

int main(int argc, char **argv)
{
  double      beta = 9, largest = 1e6;
  std::size_t subset = 2048;
  for (int a = 1; a < argc; ++a)
    if (std::strncmp(argv[a], "--beta=", 7) == 0)
      beta = std::atof(argv[a] + 7);
    else if (std::strncmp(argv[a], "--subset=", 9) == 0)
      subset = std::strtoul(argv[a] + 9, nullptr, 10);
    else if (std::strncmp(argv[a], "--max=", 6) == 0)
      largest = std::atof(argv[a] + 6);
    else
      {
        std::fprintf(stderr, "usage: bench_sphere [--beta=B] [--subset=TARGETS] [--max=N]\n");
        return 2;
      }
  attention::Parameters p;
  p.dim  = 3;
  p.beta = beta;
  // A rotation by 0.3 about the z axis: A = beta O is zonal with a rotation.
  p.Q = Matrix::parse("0.955336489125606, -0.295520206661340, 0; 0.295520206661340, 0.955336489125606, 0; 0, 0, 1");
  p.K = Matrix::identity(3);
  p.V = Matrix::parse("0.7, -1.3, 0.2; 0.4, 0.9, -0.5; 0.1, 0.3, 1.1");
  std::printf("S^2 attention, harmonic (Funk-Hecke) path vs direct sums: beta Q^T K = %g O, tolerance %g; "
              "%d threads\n",
              beta, p.tolerance, tbb::info::default_concurrency());
  std::printf("%-12s %-9s %8s %6s %9s %10s %13s %10s %14s\n", "type", "points", "N", "degree", "fallback",
              "fast [s]", "direct [s]", "ratio", "max rel. error");
  for (const std::string type : {"softmax", "unnormalized"})
    for (const bool clustered : {false, true})
      for (const std::size_t n : {std::size_t(10000), std::size_t(100000), std::size_t(1000000)})
        {
          if (double(n) > largest)
            continue;
          std::mt19937_64           random(42);
          std::uniform_real_distribution<double> unit(0, 1);
          const std::vector<double> x = clustered ? testing::clustered_sphere(n, random) : testing::fibonacci_sphere(n);
          std::vector<double>       w(n), fast, direct;
          for (double &v : w)
            v = (0.5 + unit(random)) / n;
          p.evaluation          = attention::Parameters::Evaluation::fast;
          const auto   harmonic = sphere::create_surface_kernel(type, p);
          const double t_fast   = time_kernel(*harmonic, n, x, w, fast, n <= 100000 ? 3 : 1);
          const auto   diag     = harmonic->diagnostics();
          p.evaluation          = attention::Parameters::Evaluation::direct;
          const auto        exact   = sphere::create_surface_kernel(type, p);
          const std::size_t checked = n <= 100000 ? n : std::min(subset, n);
          const double      t_direct =
            time_kernel(*exact, checked, x, w, direct, 1) * static_cast<double>(n) / static_cast<double>(checked);
          double error = 0, scale = 0;
          for (std::size_t i = 0; i < 3 * checked; ++i)
            {
              error = std::max(error, std::abs(fast[i] - direct[i]));
              scale = std::max(scale, std::abs(direct[i]));
            }
          std::printf("%-12s %-9s %8zu %6g %9.4f %10.4f %12.3f%s %10.0f %14.2e\n", type.c_str(),
                      clustered ? "clustered" : "lattice", n, diag.empty() ? 0. : diag[0].second,
                      diag.empty() ? 1. : diag[1].second, t_fast, t_direct, checked < n ? "*" : " ",
                      t_direct / t_fast, error / scale);
          std::fflush(stdout);
        }
  std::printf("(* direct timed on the first %zu targets against all sources and scaled linearly to N targets; "
              "the error is over those targets)\n",
              subset);
  return 0;
}
