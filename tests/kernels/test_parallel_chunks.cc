// The fixed-chunk loops (common/parallel_chunks.h, dg/cell_chunks.h): the
// same results on one and two threads, in the order of a plain loop.
#include "common/parallel_chunks.h"
#include "dg/cell_chunks.h"

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <cmath>
#include <random>
#include <vector>

namespace
{
  using namespace tpde;

  std::vector<double> random_values(std::size_t n, unsigned seed)
  {
    std::mt19937_64                        random(seed);
    std::uniform_real_distribution<double> uniform(-1., 1.);
    std::vector<double>                    values(n);
    for (double &v : values)
      v = std::ldexp(uniform(random), static_cast<int>(uniform(random) * 30)); // many magnitudes
    return values;
  }

  template <typename Function>
  void on_one_and_two_threads(const Function &function)
  {
    decltype(function()) one;
    {
      tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
      one = function();
    }
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 2);
    EXPECT_EQ(one, function());
  }

  TEST(ParallelChunks, SumsAddTheChunksInOrderOnAnyThreadCount)
  {
    for (const std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(4096), std::size_t(50001)})
      {
        const std::vector<double> x   = random_values(n, 3);
        const auto                sum = [&] {
          return reduce_chunks(
            n, 0., [&](std::size_t b, std::size_t e, double &s) { for (std::size_t i = b; i < e; ++i) s += x[i]; },
            [](double &total, double part) { total += part; });
        };
        // The same as adding per chunk of 4096, then the chunks in order.
        double expected = 0.;
        for (std::size_t first = 0; first < n; first += items_per_chunk)
          {
            double chunk = 0.;
            for (std::size_t i = first; i < std::min(n, first + items_per_chunk); ++i)
              chunk += x[i];
            expected += chunk;
          }
        EXPECT_EQ(sum(), expected) << n;
        on_one_and_two_threads(sum);
      }
  }

  TEST(ParallelChunks, FilterAndOffsetsKeepTheOrder)
  {
    const std::size_t         n = 30001;
    const std::vector<double> x = random_values(n, 5);
    std::vector<std::size_t>  expected;
    for (std::size_t i = 0; i < n; ++i)
      if (x[i] > 0.)
        expected.push_back(i);
    const auto kept = [&] {
      return filter_chunks<std::size_t>(n, [&](std::size_t i) { return x[i] > 0.; }, [](std::size_t i) { return i; });
    };
    EXPECT_EQ(kept(), expected);
    on_one_and_two_threads(kept);
    const std::vector<std::size_t> offsets = chunk_offsets(n, [&](std::size_t b, std::size_t e) {
      std::size_t count = 0;
      for (std::size_t i = b; i < e; ++i)
        count += x[i] > 0.;
      return count;
    });
    ASSERT_EQ(offsets.size(), n_chunks(n, items_per_chunk) + 1);
    EXPECT_EQ(offsets.back(), expected.size());
    for (std::size_t c = 0; c + 1 < offsets.size(); ++c) // the first kept index of chunk c
      if (offsets[c] < expected.size())
        EXPECT_GE(expected[offsets[c]], c * items_per_chunk);
  }

  // serial_order_sum: bitwise the serial loop, for the widths with a
  // register path and another, over several blocks (the next block is filled
  // while the previous one is added).
  TEST(ParallelChunks, SerialOrderSumEqualsThePlainLoop)
  {
    for (const std::size_t width : {2u, 3u, 6u, 7u, 10u})
      {
        const std::size_t n_items = 3 * 64 * cell_chunk + 17, terms = 5;
        const std::vector<double> x = random_values(n_items * terms * width, 7);
        std::vector<double>       expected(width, 0.);
        for (std::size_t t = 0; t < n_items * terms; ++t)
          for (std::size_t a = 0; a < width; ++a)
            expected[a] += x[t * width + a];
        const auto sum = [&] {
          return serial_order_sum(n_items, terms, width, [&](std::size_t k, double *out) {
            std::copy(x.begin() + k * terms * width, x.begin() + (k + 1) * terms * width, out);
          });
        };
        EXPECT_EQ(sum(), expected) << "width " << width;
        on_one_and_two_threads(sum);
      }
  }
} // namespace
