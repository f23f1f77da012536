// Loops over the owned cells (or faces) on the TBB threads with results that
// do not depend on the thread count: the items are cut into chunks of a fixed
// size, every chunk keeps its own partial results, and the partials are
// combined serially in chunk order. Threads are limited by deal.II
// (DEAL_II_NUM_THREADS) through TBB.
#pragma once

#include "common/parallel_chunks.h"

#include <tbb/parallel_invoke.h>

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
    return n_chunks(n_items, cell_chunk);
  }

  /// body(chunk, begin, end) for every chunk of [0, n_items), on the TBB
  /// threads; chunks must write only their own items and partials.
  template <typename Body>
  void for_cell_chunks(std::size_t n_items, const Body &body)
  {
    for_chunks(
      n_items,
      [&](std::size_t begin, std::size_t end) { body(begin / cell_chunk, begin, end); },
      cell_chunk);
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

  namespace detail
  {
    /// sum[a] += rows[t * width + a] for t < n_rows, in order of t; a
    /// compile-time width keeps the running sums in registers.
    template <std::size_t width>
    void add_rows_in_order(const double *rows, std::size_t n_rows, double *sum)
    {
      double running[width];
      std::copy(sum, sum + width, running);
      for (std::size_t t = 0; t < n_rows; ++t)
        for (std::size_t a = 0; a < width; ++a)
          running[a] += rows[t * width + a];
      std::copy(running, running + width, sum);
    }

    inline void add_rows_in_order(const double *rows, std::size_t n_rows, std::size_t width, double *sum)
    {
      switch (width)
        {
          case 2:
            return add_rows_in_order<2>(rows, n_rows, sum);
          case 3:
            return add_rows_in_order<3>(rows, n_rows, sum);
          case 6:
            return add_rows_in_order<6>(rows, n_rows, sum);
          case 10:
            return add_rows_in_order<10>(rows, n_rows, sum);
          default:
            for (std::size_t t = 0; t < n_rows; ++t)
              for (std::size_t a = 0; a < width; ++a)
                sum[a] += rows[t * width + a];
        }
    }
  } // namespace detail

  /// Sums bitwise equal to those of the serial loop over items and their
  /// terms: body(k, terms) writes item k's `terms_per_item` x `width` values
  /// (in the serial loop's order) on the threads, and they are added
  /// serially, a block of items at a time, while the next block is filled.
  /// For sums whose last bits matter (differences of large moments); the
  /// serial part is one add per value.
  template <typename Body>
  std::vector<double> serial_order_sum(std::size_t n_items, std::size_t terms_per_item, std::size_t width,
                                       const Body &body)
  {
    constexpr std::size_t block = 64 * cell_chunk; // items per fill of a buffer
    const std::size_t     rows_per_item = terms_per_item * width;
    std::vector<double>   sum(width, 0.), buffer[2];
    const auto            fill = [&](std::size_t first, std::vector<double> &into) {
      const std::size_t last = std::min(n_items, first + block);
      into.resize((last - first) * rows_per_item);
      for_cell_chunks(last - first, [&](std::size_t, std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i)
          body(first + i, into.data() + i * rows_per_item);
      });
    };
    const auto add = [&](const std::vector<double> &rows) {
      detail::add_rows_in_order(rows.data(), rows.size() / width, width, sum.data());
    };
    if (n_items == 0)
      return sum;
    fill(0, buffer[0]);
    std::size_t current = 0;
    for (std::size_t next = block; next < n_items; next += block, current = 1 - current)
      tbb::parallel_invoke([&] { add(buffer[current]); }, [&] { fill(next, buffer[1 - current]); });
    add(buffer[current]);
    return sum;
  }

  /// A reduction in a fixed order: body(begin, end, partial) folds its
  /// chunk's items into partial (`init` on entry); the partials are folded
  /// into `init` in chunk order with combine(result, partial).
  template <typename T, typename Body, typename Combine>
  T reduce_over_cell_chunks(std::size_t n_items, T init, const Body &body, const Combine &combine)
  {
    return reduce_chunks(
      n_items, init, body, [&](T &total, const T &partial) { total = combine(total, partial); }, cell_chunk);
  }
} // namespace tpde
