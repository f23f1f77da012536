// Loops over the owned cells (or faces) on the TBB threads with results that
// do not depend on the thread count: the items are cut into chunks of a fixed
// size, every chunk keeps its own partial results, and the partials are
// combined serially in chunk order. Threads are limited by deal.II
// (DEAL_II_NUM_THREADS) through TBB.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace tpde
{
  /// Items per chunk: enough work per task (a Q2 cell is ~1 us) and still
  /// many chunks on small meshes. Fixed, so that partial sums do not depend
  /// on the thread count.
  constexpr std::size_t cell_chunk = 64;

  inline std::size_t n_cell_chunks(std::size_t n_items)
  {
    return (n_items + cell_chunk - 1) / cell_chunk;
  }

  /// body(chunk, begin, end) for every chunk of [0, n_items), on the TBB
  /// threads; chunks must write only their own items and partials.
  template <typename Body>
  void for_cell_chunks(std::size_t n_items, const Body &body)
  {
    const std::size_t n_chunks = n_cell_chunks(n_items);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n_chunks, 1),
                      [&](const tbb::blocked_range<std::size_t> &range) {
                        for (std::size_t c = range.begin(); c != range.end(); ++c)
                          body(c, c * cell_chunk, std::min(n_items, (c + 1) * cell_chunk));
                      });
  }

  /// Sums of `width` values over [0, n_items): body(begin, end, partial) adds
  /// its chunk's items to partial[0..width) (zero on entry) in item order;
  /// the chunks' partials are then added in chunk order.
  template <typename Body>
  std::vector<double> sum_over_cell_chunks(std::size_t n_items, std::size_t width, const Body &body)
  {
    std::vector<double> partials(n_cell_chunks(n_items) * width, 0.), sum(width, 0.);
    for_cell_chunks(n_items, [&](std::size_t c, std::size_t begin, std::size_t end) {
      body(begin, end, partials.data() + c * width);
    });
    for (std::size_t c = 0; c < n_cell_chunks(n_items); ++c)
      for (std::size_t a = 0; a < width; ++a)
        sum[a] += partials[c * width + a];
    return sum;
  }

  /// Sums bitwise equal to those of the serial loop over items and their
  /// terms: body(k, terms) writes item k's `terms_per_item` x `width` values
  /// (in the serial loop's order) on the threads, and they are added
  /// serially, a block of items at a time. For sums whose last bits matter
  /// (differences of large moments); the serial part is one add per value.
  template <typename Body>
  std::vector<double> serial_order_sum(std::size_t n_items, std::size_t terms_per_item, std::size_t width,
                                       const Body &body)
  {
    constexpr std::size_t block = 64 * cell_chunk; // items per fill of the buffer
    std::vector<double>   sum(width, 0.), buffer(std::min(n_items, block) * terms_per_item * width);
    for (std::size_t first = 0; first < n_items; first += block)
      {
        const std::size_t last = std::min(n_items, first + block);
        for_cell_chunks(last - first, [&](std::size_t, std::size_t begin, std::size_t end) {
          for (std::size_t i = begin; i < end; ++i)
            body(first + i, buffer.data() + i * terms_per_item * width);
        });
        for (std::size_t t = 0; t < (last - first) * terms_per_item; ++t)
          for (std::size_t a = 0; a < width; ++a)
            sum[a] += buffer[t * width + a];
      }
    return sum;
  }

  /// A reduction in a fixed order: body(begin, end, partial) folds its
  /// chunk's items into partial (`init` on entry); the partials are folded
  /// into `init` in chunk order with combine(result, partial).
  template <typename T, typename Body, typename Combine>
  T reduce_over_cell_chunks(std::size_t n_items, T init, const Body &body, const Combine &combine)
  {
    std::vector<T> partials(n_cell_chunks(n_items), init);
    for_cell_chunks(n_items, [&](std::size_t c, std::size_t begin, std::size_t end) {
      body(begin, end, partials[c]);
    });
    for (const T &partial : partials)
      init = combine(init, partial);
    return init;
  }
} // namespace tpde
