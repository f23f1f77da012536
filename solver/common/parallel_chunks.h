// Loops over n items cut into chunks of a fixed size, run on the TBB threads
// (deal.II limits them through DEAL_II_NUM_THREADS). The chunks do not depend
// on the number of threads, and reductions fold the chunks' partial results
// in chunk order, so every result is the same bits on any number of threads.
// A loop of one chunk runs on the calling thread. Plain C++ and TBB, so that
// the attention kernels can use it as well as the DG operators.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace tpde
{
  /// Items per chunk of the loops over targets and sources: large enough
  /// that a chunk outweighs the cost of a task.
  constexpr std::size_t items_per_chunk = 4096;

  inline std::size_t n_chunks(std::size_t n, std::size_t chunk)
  {
    return (n + chunk - 1) / chunk;
  }

  /// body(begin, end) for the chunks of [0, n).
  template <typename Body>
  void for_chunks(std::size_t n, const Body &body, std::size_t chunk = items_per_chunk)
  {
    const std::size_t count = n_chunks(n, chunk);
    if (count == 1)
      body(std::size_t(0), n);
    else if (count > 1)
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, count, 1), [&](const tbb::blocked_range<std::size_t> &range) {
        for (std::size_t c = range.begin(); c != range.end(); ++c)
          body(c * chunk, std::min(n, (c + 1) * chunk));
      });
  }

  /// A reduction of [0, n) in a fixed order: accumulate(begin, end, partial)
  /// folds a chunk's items into its partial (`identity` on entry), and
  /// combine(total, partial) folds the partials, in chunk order, into the
  /// total (`identity` on entry). Min and max give the result of a plain
  /// loop; sums differ from it in rounding only when there are several chunks.
  template <typename T, typename Accumulate, typename Combine>
  T reduce_chunks(std::size_t       n,
                  const T          &identity,
                  const Accumulate &accumulate,
                  const Combine    &combine,
                  std::size_t       chunk = items_per_chunk)
  {
    std::vector<T> partial(n_chunks(n, chunk), identity);
    for_chunks(
      n, [&](std::size_t begin, std::size_t end) { accumulate(begin, end, partial[begin / chunk]); }, chunk);
    T total = identity;
    for (const T &part : partial)
      combine(total, part);
    return total;
  }

  /// Where each chunk's items start when the items of [0, n) that count
  /// (count(begin, end) of them in a chunk) are packed in order: offsets[c]
  /// for chunk c, and offsets.back() is their number.
  template <typename Count>
  std::vector<std::size_t> chunk_offsets(std::size_t n, const Count &count, std::size_t chunk = items_per_chunk)
  {
    std::vector<std::size_t> offsets(n_chunks(n, chunk) + 1, 0);
    for_chunks(
      n, [&](std::size_t begin, std::size_t end) { offsets[begin / chunk + 1] = count(begin, end); }, chunk);
    for (std::size_t c = 1; c < offsets.size(); ++c)
      offsets[c] += offsets[c - 1];
    return offsets;
  }

  /// item(i) for the i < n with keep(i), in increasing order of i.
  template <typename Item, typename Keep, typename Make>
  std::vector<Item> filter_chunks(std::size_t n, const Keep &keep, const Make &item, std::size_t chunk = items_per_chunk)
  {
    std::vector<std::vector<Item>> kept(std::max<std::size_t>(n_chunks(n, chunk), 1));
    for_chunks(
      n,
      [&](std::size_t begin, std::size_t end) {
        std::vector<Item> &mine = kept[begin / chunk];
        for (std::size_t i = begin; i < end; ++i)
          if (keep(i))
            mine.push_back(item(i));
      },
      chunk);
    if (kept.size() == 1)
      return std::move(kept[0]);
    std::size_t total = 0;
    for (const auto &part : kept)
      total += part.size();
    std::vector<Item> result;
    result.reserve(total);
    for (const auto &part : kept)
      result.insert(result.end(), part.begin(), part.end());
    return result;
  }
} // namespace tpde
