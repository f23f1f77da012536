// The distributed fast summation (fast::interpolate_distributed through
// Kernel::evaluate_distributed) against the direct sum over all sources, with
// the processes simulated by threads that share an in-memory Collective: the
// targets and sources of a clustered problem are dealt out to them, and each
// process's velocities at its own targets must meet the tolerance relative to
// the largest velocity of all.
#include "attention/attention.h"
#include "attention/fast_summation.h"
#include "support/clustered_problem.h"
#include "support/kernel_problem.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace
{
  using namespace tpde;
  using attention::Parameters;

  /// n processes as threads: every operation writes each one's data to its
  /// slot, waits for all, and reads them in process order (so all agree).
  class ThreadCollective
  {
  public:
    explicit ThreadCollective(unsigned int n)
      : n(n)
      , slots(n)
    {}

    attention::fast::Collective for_process(unsigned int rank)
    {
      attention::fast::Collective c;
      c.sum       = [this, rank](double *data, std::size_t size) { reduce(rank, data, size, false); };
      c.max       = [this, rank](double *data, std::size_t size) { reduce(rank, data, size, true); };
      c.broadcast = [this, rank](double *data, std::size_t size) {
        exchange(rank, std::vector<double>(data, data + size));
        std::copy(slots[0].begin(), slots[0].end(), data);
        wait();
      };
      c.gather = [this, rank](const std::vector<double> &local, std::size_t &offset) {
        exchange(rank, local);
        std::vector<double> all;
        for (unsigned int r = 0; r < n; ++r)
          {
            if (r == rank)
              offset = all.size();
            all.insert(all.end(), slots[r].begin(), slots[r].end());
          }
        wait();
        return all;
      };
      return c;
    }

    std::size_t calls = 0; // by process 0

  private:
    void reduce(unsigned int rank, double *data, std::size_t size, bool maximum)
    {
      exchange(rank, std::vector<double>(data, data + size));
      for (std::size_t i = 0; i < size; ++i)
        {
          double value = slots[0][i];
          for (unsigned int r = 1; r < n; ++r)
            value = maximum ? std::max(value, slots[r][i]) : value + slots[r][i];
          data[i] = value;
        }
      wait();
    }

    // Publishes this process's data and waits until all have.
    void exchange(unsigned int rank, std::vector<double> data)
    {
      if (rank == 0)
        ++calls;
      slots[rank] = std::move(data);
      wait();
    }

    void wait()
    {
      std::unique_lock<std::mutex> lock(mutex);
      const std::size_t            generation = passed;
      if (++arrived == n)
        {
          arrived = 0;
          ++passed;
          all_arrived.notify_all();
        }
      else
        all_arrived.wait(lock, [&] { return passed != generation; });
    }

    const unsigned int               n;
    std::vector<std::vector<double>> slots;
    std::mutex                       mutex;
    std::condition_variable          all_arrived;
    unsigned int                     arrived = 0;
    std::size_t                      passed  = 0;
  };

  /// The problem's velocities with its targets and sources dealt round-robin
  /// to n_processes threads, each evaluating its own with evaluate_distributed.
  std::vector<double> distributed_velocities(const std::string               &variant,
                                             const tpde::testing::PointProblem      &problem,
                                             unsigned int                      n_processes,
                                             std::size_t                      *calls  = nullptr,
                                             std::vector<std::string>         *errors = nullptr,
                                             double                           *fast_share = nullptr)
  {
    const unsigned int dim    = problem.parameters.dim;
    auto               kernel = attention::create(variant, problem.parameters);
    EXPECT_TRUE(kernel->sums_distributed_sources());
    ThreadCollective    collective(n_processes);
    std::vector<double> velocities(problem.targets.size());
    std::vector<std::thread> processes;
    for (unsigned int rank = 0; rank < n_processes; ++rank)
      processes.emplace_back([&, rank] {
        std::vector<double>      targets, sources, weights, local_velocities;
        std::vector<std::size_t> mine;
        for (std::size_t t = rank; t < problem.n_targets(); t += n_processes)
          {
            mine.push_back(t);
            targets.insert(targets.end(), &problem.targets[t * dim], &problem.targets[(t + 1) * dim]);
          }
        for (std::size_t j = rank; j < problem.n_sources(); j += n_processes)
          {
            sources.insert(sources.end(), &problem.sources[j * dim], &problem.sources[(j + 1) * dim]);
            weights.push_back(problem.weights[j]);
          }
        local_velocities.resize(targets.size());
        try
          {
            kernel->evaluate_distributed(mine.size(), targets.data(), weights.size(), sources.data(),
                                         weights.data(), collective.for_process(rank), local_velocities.data());
          }
        catch (const std::invalid_argument &error)
          {
            if (errors == nullptr)
              throw;
            (*errors)[rank] = error.what();
          }
        for (std::size_t i = 0; i < mine.size(); ++i)
          std::copy(&local_velocities[i * dim], &local_velocities[(i + 1) * dim], &velocities[mine[i] * dim]);
      });
    for (auto &process : processes)
      process.join();
    if (calls)
      *calls = collective.calls;
    if (fast_share) // the same on every process (a collective sum)
      for (const auto &[name, value] : kernel->diagnostics())
        if (name == "fast_share")
          *fast_share = value;
    return velocities;
  }

  std::vector<double> direct_velocities(const std::string &variant, tpde::testing::PointProblem problem)
  {
    problem.parameters.evaluation = Parameters::Evaluation::direct;
    return tpde::testing::kernel_velocities(*attention::create(variant, problem.parameters), problem.targets,
                                      problem.sources, problem.weights);
  }
} // namespace

// Softmax and unnormalized, d = 1, 2, 3, on 1, 2 and 3 processes: within the
// tolerance of the direct sum over all sources.
TEST(DistributedFastSummation, MatchesDirectSumOnEveryProcessCount)
{
  constexpr double tolerance = 1e-10;
  double           worst     = 0.;
  unsigned int     seed      = 40;
  for (const std::string variant : {"softmax", "unnormalized"})
    for (unsigned int dim = 1; dim <= 3; ++dim)
      {
        tpde::testing::PointProblem problem = tpde::testing::clustered_problem(dim, dim, 1.5, 3000, 4000, ++seed);
        problem.parameters.evaluation = Parameters::Evaluation::fast;
        problem.parameters.tolerance  = tolerance;
        const auto reference          = direct_velocities(variant, problem);
        for (unsigned int processes : {1u, 2u, 3u})
          {
            const double error = tpde::testing::relative_error(distributed_velocities(variant, problem, processes), reference);
            worst              = std::max(worst, error);
            EXPECT_LE(error, tolerance) << variant << ", d = " << dim << ", " << processes << " processes";
          }
      }
  std::printf("largest relative error of the distributed fast summation: %.3e (tolerance %.0e)\n", worst, tolerance);
}

// The kernels put each process's factorised grids on the scale of its partial
// sums (log-weights relative to its own heaviest source): with the weights of
// the three processes e^6 apart, the grids agree with the check points, so the
// sums stay interpolated. Without that offset they would end in direct sums.
TEST(DistributedFastSummation, ProcessesWithWeightsFarApartKeepTheirGrids)
{
  // (d = 1, 2: this clustered 3D problem is too small for grids, its boxes are summed directly.)
  for (const std::string variant : {"softmax", "unnormalized"})
    for (unsigned int dim = 1; dim <= 2; ++dim)
      {
        tpde::testing::PointProblem problem = tpde::testing::clustered_problem(dim, dim, 1., 3000, 6000, 60 + dim);
        problem.parameters.evaluation       = Parameters::Evaluation::fast;
        for (std::size_t j = 0; j < problem.n_sources(); ++j) // dealt round-robin: process j % 3
          problem.weights[j] *= std::exp(6. * static_cast<double>(j % 3));
        double       share = -1.;
        const double error = tpde::testing::relative_error(
          distributed_velocities(variant, problem, 3, nullptr, nullptr, &share), direct_velocities(variant, problem));
        std::printf("%s, d = %u, weights e^6 apart on 3 processes: fast_share %.3f, relative error %.2e\n",
                    variant.c_str(), dim, share, error);
        EXPECT_LE(error, 1e-10) << variant << ", d = " << dim;
        EXPECT_GE(share, 0.9) << variant << ", d = " << dim;
      }
}

// A process without any source mass (all its weights zero) and one without
// targets take part like the others.
TEST(DistributedFastSummation, ProcessesWithoutSourcesOrTargets)
{
  tpde::testing::PointProblem problem = tpde::testing::clustered_problem(2, 2, 1., 2000, 3000, 7);
  problem.parameters.evaluation = Parameters::Evaluation::fast;
  const auto reference          = direct_velocities("softmax", problem);
  // Dealt round-robin to 3 processes: process 1's sources get no weight.
  for (std::size_t j = 1; j < problem.n_sources(); j += 3)
    problem.weights[j] = 0.;
  const auto without = direct_velocities("softmax", problem);
  EXPECT_GT(tpde::testing::relative_error(without, reference), 1e-6); // the zero weights matter
  EXPECT_LE(tpde::testing::relative_error(distributed_velocities("softmax", problem, 3), without), 1e-10);
  // More processes than targets: some have none.
  tpde::testing::PointProblem few = tpde::testing::clustered_problem(2, 2, 1., 3, 3000, 8);
  few.parameters.evaluation = Parameters::Evaluation::fast;
  EXPECT_LE(tpde::testing::relative_error(distributed_velocities("softmax", few, 5), direct_velocities("softmax", few)),
            1e-10);
}

// Invalid data on one process fail every process alike (none is left
// waiting in a collective): a NaN weight on process 1 of 3.
TEST(DistributedFastSummation, InvalidSourcesOnOneProcessFailAll)
{
  tpde::testing::PointProblem problem = tpde::testing::clustered_problem(2, 2, 1., 300, 300, 9);
  problem.parameters.evaluation       = Parameters::Evaluation::fast;
  problem.weights[1]                  = std::nan("");
  std::vector<std::string> errors(3);
  distributed_velocities("softmax", problem, 3, nullptr, &errors);
  EXPECT_NE(errors[1].find("finite and non-negative"), std::string::npos) << errors[1];
  for (unsigned int rank : {0u, 2u})
    EXPECT_NE(errors[rank].find("another process"), std::string::npos) << rank << ": " << errors[rank];
}

// What is exchanged does not grow with the sources: the same targets against
// 4x the sources need no more collective calls (they follow the tree).
TEST(DistributedFastSummation, CollectiveCallsDoNotGrowWithTheSources)
{
  std::size_t calls[2] = {};
  for (unsigned int i = 0; i < 2; ++i)
    {
      tpde::testing::PointProblem problem = tpde::testing::clustered_problem(2, 2, 1., 2000, i == 0 ? 5000 : 20000, 11);
      problem.parameters.evaluation = Parameters::Evaluation::fast;
      distributed_velocities("softmax", problem, 2, &calls[i]);
    }
  std::printf("collective calls: %zu with 5000 sources, %zu with 20000\n", calls[0], calls[1]);
  EXPECT_GT(calls[0], 5u);
  EXPECT_LE(calls[1], calls[0] + 6);
}

// l2 (centred per process) and the other evaluations keep gathering.
TEST(DistributedFastSummation, OnlyFastSoftmaxAndUnnormalizedDistribute)
{
  tpde::testing::PointProblem problem = tpde::testing::clustered_problem(2, 2, 1., 10, 10, 3);
  problem.parameters.evaluation = Parameters::Evaluation::fast;
  EXPECT_TRUE(attention::create("softmax", problem.parameters)->sums_distributed_sources());
  EXPECT_FALSE(attention::create("l2", problem.parameters)->sums_distributed_sources());
  problem.parameters.distributed_sources = false;
  EXPECT_FALSE(attention::create("softmax", problem.parameters)->sums_distributed_sources());
  problem.parameters.distributed_sources = true;
  problem.parameters.evaluation          = Parameters::Evaluation::automatic;
  EXPECT_FALSE(attention::create("unnormalized", problem.parameters)->sums_distributed_sources());
}

namespace
{
  /// A normalised 2D sum given directly (no kernel): sources y_j with log-weights l_j;
  /// process p keeps l_j - shift[p] and adds shift[p] back in its partial sums, as the
  /// kernel's processes keep theirs relative to their heaviest weight.
  struct ShiftedSums
  {
    std::vector<double> y, log_weight;
    double              shift = 0.;

    void partial(std::size_t n_points, const double *at, const std::vector<std::size_t> *subset, double *out) const
    {
      const std::size_t n = subset ? subset->size() : log_weight.size();
      for (std::size_t p = 0; p < n_points; ++p)
        {
          std::vector<double> score(n);
          double              largest = -std::numeric_limits<double>::infinity();
          for (std::size_t k = 0; k < n; ++k)
            {
              const std::size_t j = subset ? (*subset)[k] : k;
              score[k]            = at[2 * p] * y[2 * j] + at[2 * p + 1] * y[2 * j + 1] + log_weight[j];
              largest             = std::max(largest, score[k]);
            }
          double total = 0., mean[2] = {0., 0.};
          for (std::size_t k = 0; k < n; ++k)
            {
              const std::size_t j = subset ? (*subset)[k] : k;
              const double      e = std::exp(score[k] - largest);
              total += e;
              mean[0] += e * y[2 * j];
              mean[1] += e * y[2 * j + 1];
            }
          out[3 * p]     = n ? mean[0] / total : 0.;
          out[3 * p + 1] = n ? mean[1] / total : 0.;
          out[3 * p + 2] = n ? largest + std::log(total) + shift : -std::numeric_limits<double>::infinity();
        }
    }
  };

  /// The tilted means at the targets from 3 processes whose partial sums carry the
  /// offsets 0, 7.3, 14.6; the grids of each one are put on its scale with
  /// partial_log_offset = the offset times grid_offset_factor (1: right).
  std::vector<double> shifted_distributed_means(const std::vector<double> &targets,
                                                const std::vector<double> &y,
                                                const std::vector<double> &log_weight,
                                                double                     grid_offset_factor,
                                                std::size_t               &grid_nodes,
                                                std::size_t               &direct_targets)
  {
    constexpr unsigned int   n_processes = 3;
    const std::size_t        n_targets   = targets.size() / 2;
    ThreadCollective         collective(n_processes);
    std::vector<double>      means(targets.size());
    std::vector<std::size_t> nodes(n_processes), direct(n_processes);
    std::vector<std::thread> processes;
    for (unsigned int rank = 0; rank < n_processes; ++rank)
      processes.emplace_back([&, rank] {
        ShiftedSums sums;
        sums.shift = 7.3 * rank;
        for (std::size_t j = rank; j < log_weight.size(); j += n_processes)
          {
            sums.y.insert(sums.y.end(), {y[2 * j], y[2 * j + 1]});
            sums.log_weight.push_back(log_weight[j] - sums.shift);
          }
        std::vector<double> mine;
        for (std::size_t t = rank; t < n_targets; t += n_processes)
          mine.insert(mine.end(), {targets[2 * t], targets[2 * t + 1]});
        attention::fast::ExponentialSum sum;
        sum.dim                = 2;
        sum.n_sources          = sums.log_weight.size();
        sum.coordinate         = sums.y.data();
        sum.log_weight         = sums.log_weight.data();
        sum.partial_log_offset = grid_offset_factor * sums.shift;
        sum.partial            = [&sums](std::size_t n, const double *at, const std::vector<std::size_t> *subset,
                              double *out) { sums.partial(n, at, subset, out); };
        std::vector<double> values(mine.size());
        const auto          statistics = attention::fast::interpolate_distributed(
          sum, mine.size() / 2, mine.data(), 1e-10, values.data(), collective.for_process(rank));
        nodes[rank]  = statistics.grid_node_evaluations;
        direct[rank] = statistics.direct_targets;
        for (std::size_t i = 0; i < mine.size() / 2; ++i)
          std::copy(&values[2 * i], &values[2 * i + 2], &means[2 * (rank + i * n_processes)]);
      });
    for (auto &process : processes)
      process.join();
    grid_nodes     = *std::min_element(nodes.begin(), nodes.end());
    direct_targets = std::accumulate(direct.begin(), direct.end(), std::size_t(0));
    return means;
  }
} // namespace

// Each process sums its node grids factorised where its sources allow it, and
// puts them on the scale of its ExponentialSum::partial (partial_log_offset):
// with offsets 0, 7.3 and 14.6 on three processes, the means match the exact
// sums to the tolerance with few direct sums. Forgetting the offset (factor 0)
// makes the grids disagree with the check points (exact partial sums), so the
// boxes are split down to direct sums: still accurate, but no longer fast.
TEST(DistributedFastSummation, FactorisedGridsJoinEachProcessScale)
{
  std::mt19937                           random(5);
  std::uniform_real_distribution<double> uniform(-1., 1.);
  std::vector<double>                    targets(2 * 2500), y(2 * 4000), log_weight(4000);
  for (double &a : targets)
    a = 2. * uniform(random);
  for (std::size_t j = 0; j < log_weight.size(); ++j)
    {
      y[2 * j]      = uniform(random) + (j % 3 == 0 ? 0.5 : -0.3); // two overlapping clusters
      y[2 * j + 1]  = 0.7 * uniform(random);
      log_weight[j] = 2. * uniform(random);
    }
  ShiftedSums all{y, log_weight};
  std::vector<double> exact(targets.size());
  std::vector<double> exact_with_log(targets.size() / 2 * 3);
  all.partial(targets.size() / 2, targets.data(), nullptr, exact_with_log.data());
  for (std::size_t t = 0; t < targets.size() / 2; ++t)
    std::copy(&exact_with_log[3 * t], &exact_with_log[3 * t + 2], &exact[2 * t]);

  std::size_t  grid_nodes = 0, direct_targets = 0, direct_forgotten = 0, nodes_forgotten = 0;
  const double error =
    tpde::testing::relative_error(shifted_distributed_means(targets, y, log_weight, 1., grid_nodes, direct_targets), exact);
  const double forgotten = tpde::testing::relative_error(
    shifted_distributed_means(targets, y, log_weight, 0., nodes_forgotten, direct_forgotten), exact);
  std::printf("factorised distributed grids: %zu grid nodes per process (least), %zu targets summed directly, "
              "relative error %.3e; offsets forgotten: %zu targets summed directly, relative error %.3e\n",
              grid_nodes, direct_targets, error, direct_forgotten, forgotten);
  EXPECT_GT(grid_nodes, 0u);
  EXPECT_LE(error, 1e-10);
  EXPECT_LE(direct_targets, targets.size() / 2 / 20);
  EXPECT_GE(direct_forgotten, targets.size() / 2 / 2);
}
