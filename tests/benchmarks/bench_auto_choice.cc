// Calibration of `evaluation = auto` (exponential_kernel.h): on one thread
// (CPU time, so that other load matters less), the direct and the fast sums
// of 2D softmax on clustered data as in parameters/default.prm (a 5-cluster
// Gaussian mixture, Q = K = I, V a rotation-contraction), N targets =
// N sources, and the fast sums bounded as auto bounds them (fast_share: the
// share interpolated). The smallest N at which fast wins is what
// fast_summation_min_sources stands for; the auto / min(direct, fast)
// column is the price of the rule on this data.
//
//   bench_auto_choice [--beta=B] [--repeats=R]
#include "attention/attention.h"
#include "attention/exponential_kernel.h"
#include "support/clustered_points.h"

#include <tbb/global_control.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <vector>

namespace
{
  using namespace tpde;
  using attention::Parameters;

  double cpu_seconds()
  {
    timespec now;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return now.tv_sec + 1e-9 * now.tv_nsec;
  }

  /// Least CPU seconds of `repeats` evaluations, and the fast_share of the last.
  double time_evaluation(Parameters parameters, Parameters::Evaluation evaluation, const std::vector<double> &points,
                         const std::vector<double> &weights, int repeats, double &fast_share)
  {
    parameters.evaluation = evaluation;
    const auto          kernel = attention::create("softmax", parameters);
    const std::size_t   n      = weights.size();
    std::vector<double> velocities(points.size());
    double              best = 1e300;
    for (int r = 0; r < repeats; ++r)
      {
        const double start = cpu_seconds();
        kernel->evaluate(n, points.data(), n, points.data(), weights.data(), velocities.data());
        best = std::min(best, cpu_seconds() - start);
      }
    fast_share = kernel->diagnostics().at(0).second;
    return best;
  }
} // namespace

int main(int argc, char **argv)
{
  double beta    = 1.;
  int    repeats = 3;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--beta=", 7) == 0)
      beta = std::atof(argv[i] + 7);
    else if (std::strncmp(argv[i], "--repeats=", 10) == 0)
      repeats = std::atoi(argv[i] + 10);
  tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
  Parameters          parameters;
  parameters.dim  = 2;
  parameters.beta = beta;
  parameters.Q    = Matrix::identity(2);
  parameters.K    = Matrix::identity(2);
  parameters.V    = Matrix(2, 2);
  parameters.V(0, 0) = -0.3;
  parameters.V(0, 1) = -1.;
  parameters.V(1, 0) = 1.;
  parameters.V(1, 1) = -0.3;
  std::printf("2D softmax, beta %g, clustered, 1 thread, CPU seconds (least of %d)\n", beta, repeats);
  std::printf("%8s %10s %10s %10s %9s %10s %11s\n", "N", "direct", "fast", "auto", "fast/dir", "auto/best",
              "fast_share");
  for (const std::size_t n : {500, 1000, 2000, 4000, 8000, 16000, 32000})
    {
      std::mt19937_64 random(1);
      const auto      mixture = tpde::testing::GaussianMixture::random(2, 5, 2.5, random);
      const auto      points  = mixture.sample(n, random);
      std::vector<double> weights(n, 1. / n);
      double              share_direct, share_fast, share_auto;
      const double direct = time_evaluation(parameters, Parameters::Evaluation::direct, points, weights, repeats, share_direct);
      const double fast = time_evaluation(parameters, Parameters::Evaluation::fast, points, weights, repeats, share_fast);
      const double automatic =
        time_evaluation(parameters, Parameters::Evaluation::automatic, points, weights, repeats, share_auto);
      std::printf("%8zu %10.4g %10.4g %10.4g %9.3f %10.3f %11.3f\n", n, direct, fast, automatic, fast / direct,
                  automatic / std::min(direct, fast), share_auto);
    }
  return 0;
}
