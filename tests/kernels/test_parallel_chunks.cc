// The fixed-chunk loops (common/parallel_chunks.h, dg/cell_chunks.h): the
// same results on one and two threads, in the order of a plain loop.
#include "attention/exponential_core.h"
#include "common/matrix.h"
#include "common/parallel_chunks.h"
#include "dg/cell_chunks.h"

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <cmath>
#include <cstring>
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

  /// Bit for bit (EXPECT_EQ on doubles takes -0 for +0).
  bool same_bits(const std::vector<double> &a, const std::vector<double> &b)
  {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
  }
  bool same_bits(double a, double b)
  {
    return std::memcmp(&a, &b, sizeof(double)) == 0;
  }
  bool same_bits(const std::vector<std::size_t> &a, const std::vector<std::size_t> &b)
  {
    return a == b;
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
    EXPECT_TRUE(same_bits(one, function()));
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
        EXPECT_TRUE(same_bits(sum(), expected)) << n;
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
    for (std::size_t c = 0; c + 1 < offsets.size(); ++c) // the kept items before chunk c
      EXPECT_EQ(offsets[c], static_cast<std::size_t>(std::lower_bound(expected.begin(), expected.end(),
                                                                      c * items_per_chunk) -
                                                     expected.begin()));
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
        EXPECT_TRUE(same_bits(sum(), expected)) << "width " << width;
        on_one_and_two_threads(sum);
      }
  }

  // The packed sources (SourceArrays, written on the threads into storage
  // that is not zeroed first): every slot up to the padding, bit for bit, on
  // 1 and 2 threads, with and without the key penalty (l2); sources of zero
  // weight at chunk edges, the largest weight twice in different chunks, a
  // used count that is not a multiple of the padding; and the layout of the
  // plain loop: used sources in order, log-weights log(w / w_max).
  TEST(ParallelChunks, PackedSourcesAreTheSameOnAnyThreadCount)
  {
    constexpr int     dim = 2;
    const std::size_t n   = 3 * items_per_chunk + 123;
    std::vector<double> points = random_values(n * dim, 9), weights = random_values(n, 10);
    for (double &w : weights)
      w = std::abs(w) + 1e-3;
    for (const std::size_t j : {std::size_t(0), items_per_chunk - 1, items_per_chunk, 2 * items_per_chunk + 1, n - 1})
      weights[j] = 0.;
    weights[17] = weights[items_per_chunk + 17] = 1e12; // the heaviest, twice
    attention::Sources sources;
    sources.n       = n;
    sources.points  = points.data();
    sources.weights = weights.data();
    for (const double w : weights)
      {
        sources.maximum_weight = std::max(sources.maximum_weight, w);
        sources.total_weight += w;
        sources.n_used += w > 0.;
      }
    const Matrix K = Matrix::identity(dim);
    for (const double key_penalty : {0., 0.5})
      {
        const auto packed = [&] {
          const auto          arrays = attention::exponential::pack_exponential_sources<dim>(sources, K, key_penalty);
          const std::size_t   slots  = 3 * dim + (key_penalty != 0. ? 2 : 1);
          std::vector<double> all(arrays.storage.data(), arrays.storage.data() + slots * arrays.n_padded);
          all.push_back(static_cast<double>(arrays.heaviest));
          for (int i = 0; i < dim; ++i)
            all.insert(all.end(), {arrays.lowest[i], arrays.highest[i]});
          return all;
        };
        on_one_and_two_threads(packed);
        if (key_penalty == 0.)
          {
            const auto arrays = attention::exponential::pack_exponential_sources<dim>(sources, K, 0.);
            ASSERT_EQ(arrays.n_used, n - 5);
            EXPECT_EQ(arrays.heaviest, 16u); // source 17, the first of the two heaviest, after source 0
            std::size_t k = 0;
            for (std::size_t j = 0; j < n; ++j)
              if (weights[j] > 0.)
                {
                  EXPECT_TRUE(same_bits(arrays.coordinate[1][k], points[j * dim + 1])) << j;
                  EXPECT_TRUE(same_bits(arrays.log_weight[k], std::log(weights[j] / sources.maximum_weight))) << j;
                  ++k;
                }
            for (; k < arrays.n_padded; ++k)
              EXPECT_EQ(arrays.log_weight[k], -INFINITY);
          }
      }
  }
} // namespace
