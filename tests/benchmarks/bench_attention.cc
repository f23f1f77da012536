// Throughput of the attention kernels in interactions (target-source pairs)
// per second: a naive scalar softmax (std::exp, array-of-structs, one target
// at a time, one thread) against the registered "softmax" kernel, direct on
// one thread and on all threads TBB may use, and fast (fast_summation.h,
// tolerance 1e-10; its rate is the equivalent N M / time) on all threads.
// Data: uniform points in [-1, 1]^d, scores O(10).
//
// Then (unless --scaling=off) the fast summation on clustered data in 2D
// (a 5-cluster Gaussian mixture with unequal weights and widths; targets
// and sources drawn from it; Q = K = I, beta = 1, V a rotation-contraction,
// as in parameters/default.prm) at N = M = 1e4, 1e5, 1e6: its time, the
// direct time (at 1e6 estimated from a subset of targets), the speedup, the
// relative max error against direct (at 1e6 on a subset of targets) and the
// fitted growth exponent of the fast time from 1e4 to 1e6; and the same
// comparison in 3D at N = M = 1e5 and 1e6 on three data sets (the 5-cluster
// mixture, uniform in a cube, clustered on S^2; make_3d_problem), direct
// estimated from a subset of targets.
// Rows direct_float_*: `exponential = float`. With TPDE_FAST_PROFILE set,
// the fast summation prints where its time goes (to stderr).
//
//   bench_attention [--size=N ...] [--scaling=on|off|only|2d|3d] [Google Benchmark flags]
//
// --size=N sets N targets = N sources (repeatable; default 16384 = 2^14).
#include "attention/attention.h"
#include "support/clustered_points.h"
#include "support/sphere_points.h"
#include "support/random_attention.h"

#include <benchmark/benchmark.h>
#include <tbb/global_control.h>
#include <tbb/info.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace
{
  using namespace tpde;

  struct Problem
  {
    attention::Parameters parameters;
    std::size_t           n = 0; // targets = sources
    std::vector<double>   targets, sources, weights;
  };

  /// Gaussian-like data: points in [-1, 1]^dim, random Q, K, V with beta
  /// chosen so scores are O(10) (a peaked but not degenerate softmax).
  Problem make_problem(unsigned int dim, std::size_t n)
  {
    std::mt19937_64                        random(1234 + dim);
    std::uniform_real_distribution<double> unit(-1., 1.);
    Problem                                problem;
    problem.parameters = tpde::testing::random_attention_parameters(dim, dim, 10. / dim, random);
    problem.n = n;
    problem.targets.resize(n * dim);
    problem.sources.resize(n * dim);
    problem.weights.resize(n);
    for (double &x : problem.targets)
      x = unit(random);
    for (double &y : problem.sources)
      y = unit(random);
    for (double &w : problem.weights)
      w = 1. + 0.5 * unit(random);
    return problem;
  }

  /// The straightforward implementation: per target, one pass for the
  /// largest score, one pass summing w_j exp(s_j - max) and its moments.
  void naive_softmax(const Problem &problem, std::vector<double> &velocities)
  {
    const attention::Parameters &p   = problem.parameters;
    const std::size_t            dim = p.dim;
    const Matrix                 A   = p.beta * (transpose(p.K) * p.Q);
    for (std::size_t t = 0; t < problem.n; ++t)
      {
        const double *x = &problem.targets[t * dim];
        double        a[3];
        for (std::size_t i = 0; i < dim; ++i)
          {
            a[i] = 0.;
            for (std::size_t q = 0; q < dim; ++q)
              a[i] += A(i, q) * x[q];
          }
        const auto score = [&](std::size_t j) {
          double s = 0.;
          for (std::size_t i = 0; i < dim; ++i)
            s += a[i] * problem.sources[j * dim + i];
          return s;
        };
        double maximum = -std::numeric_limits<double>::infinity();
        for (std::size_t j = 0; j < problem.n; ++j)
          maximum = std::max(maximum, score(j));
        double denominator = 0., numerator[3] = {0., 0., 0.};
        for (std::size_t j = 0; j < problem.n; ++j)
          {
            const double e = problem.weights[j] * std::exp(score(j) - maximum);
            denominator += e;
            for (std::size_t i = 0; i < dim; ++i)
              numerator[i] += e * problem.sources[j * dim + i];
          }
        for (std::size_t i = 0; i < dim; ++i)
          {
            double v = 0.;
            for (std::size_t q = 0; q < dim; ++q)
              v += p.V(i, q) * numerator[q] / denominator;
            velocities[t * dim + i] = v;
          }
      }
  }

  void report_interactions(benchmark::State &state, std::size_t n)
  {
    state.counters["interactions"] =
      benchmark::Counter(static_cast<double>(n) * n, benchmark::Counter::kIsIterationInvariantRate);
  }

  void bench_naive(benchmark::State &state, unsigned int dim)
  {
    const Problem       problem = make_problem(dim, state.range(0));
    std::vector<double> velocities(problem.n * dim);
    for (auto _ : state)
      {
        naive_softmax(problem, velocities);
        benchmark::DoNotOptimize(velocities.data());
        benchmark::ClobberMemory();
      }
    report_interactions(state, problem.n);
  }

  /// threads = 0: whatever TBB may use (deal.II's limit applies the same way).
  void bench_registered(benchmark::State                 &state,
                        unsigned int                      dim,
                        int                               threads,
                        attention::Parameters::Evaluation evaluation,
                        bool                              float_exponential = false)
  {
    std::unique_ptr<tbb::global_control> limit;
    if (threads > 0)
      limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                    threads);
    Problem problem               = make_problem(dim, state.range(0));
    problem.parameters.evaluation        = evaluation;
    problem.parameters.float_exponential = float_exponential;
    const auto kernel = attention::create("softmax", problem.parameters);
    std::vector<double> velocities(problem.n * dim);
    for (auto _ : state)
      {
        kernel->evaluate(problem.n,
                         problem.targets.data(),
                         problem.n,
                         problem.sources.data(),
                         problem.weights.data(),
                         velocities.data());
        benchmark::DoNotOptimize(velocities.data());
        benchmark::ClobberMemory();
      }
    report_interactions(state, problem.n);
    state.counters["threads"] =
      threads > 0 ? threads :
                    tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
  }

  /// The clustered problem of the scaling study in dim = 2 or 3: targets
  /// and sources from a 5-cluster Gaussian mixture, weights in [0.5, 1.5],
  /// Q = K = I, beta = 1, V a rotation-contraction; problem.n = n_sources.
  Problem make_clustered_problem(unsigned int dim, std::size_t n_targets, std::size_t n_sources)
  {
    std::mt19937_64 random(dim == 2 ? 2026 : 2027);
    Problem         problem;
    problem.parameters.dim  = dim;
    problem.parameters.beta = 1.;
    problem.parameters.Q    = Matrix::identity(dim);
    problem.parameters.K    = Matrix::identity(dim);
    problem.parameters.V    = Matrix::parse(dim == 2 ? "-0.3, -1; 1, -0.3" : "-0.3, -1, 0; 1, -0.3, 0; 0, 0, -0.3");
    const auto mixture      = tpde::testing::GaussianMixture::random(dim, 5, 3., random);
    problem.n               = n_sources;
    problem.targets         = mixture.sample(n_targets, random);
    problem.sources         = mixture.sample(n_sources, random);
    std::uniform_real_distribution<double> weight(0.5, 1.5);
    problem.weights.resize(n_sources);
    for (double &w : problem.weights)
      w = weight(random);
    return problem;
  }

  /// Seconds for evaluating the first n_targets targets of `problem` (all
  /// sources) with the given evaluation; velocities of those targets out.
  double time_evaluation(const Problem                    &problem,
                         std::size_t                       n_targets,
                         attention::Parameters::Evaluation evaluation,
                         std::vector<double>              &velocities)
  {
    attention::Parameters parameters = problem.parameters;
    parameters.evaluation            = evaluation;
    parameters.tolerance             = 1e-10;
    const auto kernel                = attention::create("softmax", parameters);
    velocities.assign(n_targets * parameters.dim, 0.);
    const auto start = std::chrono::steady_clock::now();
    kernel->evaluate(n_targets,
                     problem.targets.data(),
                     problem.n,
                     problem.sources.data(),
                     problem.weights.data(),
                     velocities.data());
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  double relative_max_error(const std::vector<double> &v, const std::vector<double> &reference)
  {
    double difference = 0., size = 0.;
    for (std::size_t i = 0; i < reference.size(); ++i)
      {
        difference = std::max(difference, std::abs(v[i] - reference[i]));
        size       = std::max(size, std::abs(reference[i]));
      }
    return difference / size;
  }

  /// The scaling study described at the top of the file, on all threads.
  void fast_summation_scaling()
  {
    constexpr std::size_t error_subset = 4096; // targets compared with direct at 1e6
    const std::size_t     sizes[]      = {10000, 100000, 1000000};
    double                fast_seconds[3];
    std::printf("\nFast summation, clustered 2D softmax (5-cluster Gaussian mixture), "
                "tolerance 1e-10, all threads\n");
    std::printf("%10s %12s %12s %10s %16s %26s\n",
                "N = M",
                "fast [s]",
                "direct [s]",
                "speedup",
                "max rel. error",
                "fast equivalent inter./s");
    for (int s = 0; s < 3; ++s)
      {
        const std::size_t   n       = sizes[s];
        const Problem       problem = make_clustered_problem(2, n, n);
        std::vector<double> fast, direct;
        fast_seconds[s] = time_evaluation(problem, n, attention::Parameters::Evaluation::fast, fast);
        // Direct on all targets up to 1e5; at 1e6 on a subset, timed and
        // scaled to all targets (the direct cost is linear in the targets).
        const std::size_t checked = n <= 100000 ? n : error_subset;
        const double      direct_seconds =
          time_evaluation(problem, checked, attention::Parameters::Evaluation::direct, direct) *
          static_cast<double>(n) / static_cast<double>(checked);
        fast.resize(direct.size());
        std::printf("%10zu %12.3f %12.3f%s %9.1fx %16.3g %26.3g\n",
                    n,
                    fast_seconds[s],
                    direct_seconds,
                    checked < n ? "*" : " ",
                    direct_seconds / fast_seconds[s],
                    relative_max_error(fast, direct),
                    static_cast<double>(n) * static_cast<double>(n) / fast_seconds[s]);
      }
    std::printf("(* estimated from %zu targets, which are also the ones compared)\n",
                error_subset);
    std::printf("fitted growth of the fast time from 1e4 to 1e6: N^%.2f\n",
                std::log(fast_seconds[2] / fast_seconds[0]) / std::log(100.));
  }

  /// A 3D problem of the fast-versus-direct table: `clustered` (the
  /// 5-cluster mixture, beta 1), `uniform` (uniform in [-3, 3]^3, beta 1) or
  /// `sphere` (three von Mises-Fisher caps on S^2, beta 9), N targets and N
  /// sources, Q = K = I, V as in make_clustered_problem.
  Problem make_3d_problem(const std::string &data, std::size_t n)
  {
    if (data == "clustered")
      return make_clustered_problem(3, n, n);
    Problem problem         = make_clustered_problem(3, 0, 0);
    problem.n               = n;
    std::mt19937_64 random(2028);
    if (data == "uniform")
      {
        std::uniform_real_distribution<double> coordinate(-3., 3.);
        for (std::vector<double> *points : {&problem.targets, &problem.sources})
          for (std::size_t i = 0; i < 3 * n; ++i)
            points->push_back(coordinate(random));
      }
    else
      {
        problem.parameters.beta = 9.;
        problem.targets         = tpde::testing::clustered_sphere(n, random);
        problem.sources         = tpde::testing::clustered_sphere(n, random);
      }
    std::uniform_real_distribution<double> weight(0.5, 1.5);
    problem.weights.resize(n);
    for (double &w : problem.weights)
      w = weight(random);
    return problem;
  }

  /// The 3D table described at the top of the file, on all threads.
  void fast_summation_3d()
  {
    constexpr std::size_t checked = 4096;
    std::printf("\nFast summation in 3D, softmax, N targets = N sources, Q = K = I, tolerance 1e-10, all "
                "threads\n");
    std::printf("%10s %10s %12s %12s %10s %16s\n", "data", "N", "fast [s]", "direct [s]", "speedup", "max rel. error");
    for (const std::string data : {"clustered", "uniform", "sphere"})
      {
        double fast_seconds[2];
        int    row = 0;
        for (const std::size_t n : {std::size_t(100000), std::size_t(1000000)})
          {
            const Problem       problem = make_3d_problem(data, n);
            std::vector<double> fast, direct;
            fast_seconds[row] = time_evaluation(problem, n, attention::Parameters::Evaluation::fast, fast);
            const double direct_seconds =
              time_evaluation(problem, checked, attention::Parameters::Evaluation::direct, direct) *
              static_cast<double>(n) / static_cast<double>(checked);
            fast.resize(direct.size());
            std::printf("%10s %10zu %12.3f %12.3f* %9.1fx %16.3g\n",
                        data.c_str(),
                        n,
                        fast_seconds[row],
                        direct_seconds,
                        direct_seconds / fast_seconds[row],
                        relative_max_error(fast, direct));
            ++row;
          }
        std::printf("%10s fitted growth of the fast time from 1e5 to 1e6: N^%.2f\n",
                    data.c_str(),
                    std::log(fast_seconds[1] / fast_seconds[0]) / std::log(10.));
      }
    std::printf("(* estimated from the first %zu targets, which are also the ones compared)\n", checked);
  }

  /// The clone the kernels' ifunc resolvers pick (same test as GCC's).
  std::string simd_clone()
  {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4"))
      return "x86-64-v4 (AVX-512)";
    if (__builtin_cpu_supports("x86-64-v3"))
      return "x86-64-v3 (AVX2+FMA)";
    return "default (x86-64)";
  }
} // namespace

int main(int argc, char **argv)
{
  // Take out our own --size=N flags before Google Benchmark sees the rest.
  std::vector<long> sizes;
  std::string       scaling = "on";
  int               kept    = 1;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--size=", 7) == 0)
      sizes.push_back(std::atol(argv[i] + 7));
    else if (std::strncmp(argv[i], "--scaling=", 10) == 0)
      scaling = argv[i] + 10;
    else
      argv[kept++] = argv[i];
  if (scaling != "on" && scaling != "off" && scaling != "only" && scaling != "2d" && scaling != "3d")
    {
      std::fprintf(stderr, "bench_attention: --scaling must be on, off, only, 2d or 3d\n");
      return 2;
    }
  if (scaling == "2d" || scaling == "3d")
    {
      std::printf("attention_simd_clone: %s\n", simd_clone().c_str());
      if (scaling == "2d")
        fast_summation_scaling();
      else
        fast_summation_3d();
      return 0;
    }
  if (scaling == "only")
    {
      std::printf("attention_simd_clone: %s\n", simd_clone().c_str());
      fast_summation_scaling();
      fast_summation_3d();
      return 0;
    }
  argc = kept;
  if (sizes.empty())
    sizes.push_back(1L << 14);

  for (unsigned int dim = 1; dim <= 3; ++dim)
    {
      const std::string d = std::to_string(dim);
      for (const long n : sizes)
        {
          // Single-thread rates use CPU time, so that other load on the
          // machine does not enter the ratio; multi-threaded ones wall time.
          benchmark::RegisterBenchmark(("naive_scalar/d" + d).c_str(), bench_naive, dim)
            ->Arg(n)
            ->Unit(benchmark::kMillisecond);
          const auto direct = attention::Parameters::Evaluation::direct;
          const auto fast   = attention::Parameters::Evaluation::fast;
          benchmark::RegisterBenchmark(
            ("direct_1_thread/d" + d).c_str(), bench_registered, dim, 1, direct, false)
            ->Arg(n)
            ->Unit(benchmark::kMillisecond);
          benchmark::RegisterBenchmark(
            ("direct_all_threads/d" + d).c_str(), bench_registered, dim, 0, direct, false)
            ->Arg(n)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
          // exponential = float (exp in 16 float lanes, double sums).
          benchmark::RegisterBenchmark(
            ("direct_float_1_thread/d" + d).c_str(), bench_registered, dim, 1, direct, true)
            ->Arg(n)
            ->Unit(benchmark::kMillisecond);
          benchmark::RegisterBenchmark(
            ("direct_float_all_threads/d" + d).c_str(), bench_registered, dim, 0, direct, true)
            ->Arg(n)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
          benchmark::RegisterBenchmark(
            ("fast_all_threads/d" + d).c_str(), bench_registered, dim, 0, fast, false)
            ->Arg(n)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
        }
    }

  benchmark::AddCustomContext("attention_simd_clone", simd_clone());
  benchmark::AddCustomContext("tbb_default_concurrency",
                              std::to_string(tbb::info::default_concurrency()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (scaling == "on")
    {
      fast_summation_scaling();
      fast_summation_3d();
    }
  return 0;
}
