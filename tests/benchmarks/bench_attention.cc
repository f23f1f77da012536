// Throughput of the attention kernels in interactions (target-source pairs)
// per second: a naive scalar softmax (std::exp, array-of-structs, one target
// at a time, one thread) against the registered "softmax" kernel on one
// thread and on all threads TBB may use.
//
//   bench_attention [--size=N ...] [Google Benchmark flags]
//
// --size=N sets N targets = N sources (repeatable; default 16384 = 2^14).
#include "attention/attention.h"
#include "support/random_attention.h"

#include <benchmark/benchmark.h>
#include <tbb/global_control.h>
#include <tbb/info.h>

#include <algorithm>
#include <cmath>
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
  void bench_registered(benchmark::State &state, unsigned int dim, int threads)
  {
    std::unique_ptr<tbb::global_control> limit;
    if (threads > 0)
      limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                    threads);
    const Problem       problem = make_problem(dim, state.range(0));
    const auto          kernel  = attention::create("softmax", problem.parameters);
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
  int               kept = 1;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--size=", 7) == 0)
      sizes.push_back(std::atol(argv[i] + 7));
    else
      argv[kept++] = argv[i];
  argc = kept;
  if (sizes.empty())
    sizes.push_back(1L << 14);

  for (unsigned int dim = 1; dim <= 3; ++dim)
    {
      const std::string d = std::to_string(dim);
      for (const long n : sizes)
        {
          benchmark::RegisterBenchmark(("naive_scalar/d" + d).c_str(), bench_naive, dim)
            ->Arg(n)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
          benchmark::RegisterBenchmark(("softmax_1_thread/d" + d).c_str(), bench_registered, dim, 1)
            ->Arg(n)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
          benchmark::RegisterBenchmark(
            ("softmax_all_threads/d" + d).c_str(), bench_registered, dim, 0)
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
  return 0;
}
