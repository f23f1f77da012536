#include "noise/brownian_path.h"

#include "noise/keyed_normal.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace tpde::noise
{
  BrownianPath::BrownianPath(std::uint64_t seed, unsigned int n_paths, unsigned int levels)
    : seed(seed)
    , n_motions(n_paths)
    , levels(levels)
    , spacing(std::ldexp(1., -int(levels)))
    , at_integers(n_paths, std::vector<double>{0.})
  {
    if (levels > 30)
      throw std::invalid_argument("BrownianPath: at most 30 levels, got " + std::to_string(levels));
  }

  double BrownianPath::integer_time_value(unsigned int k, std::uint64_t n) const
  {
    std::vector<double> &w = at_integers.at(k);
    while (w.size() <= n)
      w.push_back(w.back() + keyed_normal(seed, k, w.size() - 1, 0)); // level 0: the unit increments
    return w[n];
  }

  double BrownianPath::node_value(unsigned int k, std::uint64_t j) const
  {
    const std::uint64_t n = j >> levels, i = j & ((std::uint64_t(1) << levels) - 1);
    double              low = integer_time_value(k, n);
    if (i == 0)
      return low;
    double        high = integer_time_value(k, n + 1);
    std::uint64_t lo = 0, hi = std::uint64_t(1) << levels;
    for (unsigned int l = 1;; ++l)
      {
        const std::uint64_t mid = (lo + hi) / 2;
        // The midpoint's index counted in units of 2^-l (odd): the same at every finer resolution.
        const std::uint64_t index = mid >> (levels - l);
        const double        w =
          0.5 * (low + high) + std::sqrt(std::ldexp(1., -int(l) - 1)) * keyed_normal(seed, k, n, (std::uint64_t(l) << 32) | index);
        if (mid == i)
          return w;
        (i < mid ? hi : lo) = mid;
        (i < mid ? high : low) = w;
      }
  }

  double BrownianPath::value(unsigned int k, double t) const
  {
    if (!(t >= 0))
      throw std::invalid_argument("BrownianPath: expected t >= 0, got " + std::to_string(t));
    const double        x = t / spacing;
    const std::uint64_t j = static_cast<std::uint64_t>(std::floor(x));
    const double        f = x - double(j);
    const double        w = node_value(k, j);
    return f == 0 ? w : w + f * (node_value(k, j + 1) - w);
  }
} // namespace tpde::noise
