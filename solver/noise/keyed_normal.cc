#include "noise/keyed_normal.h"

#include <cmath>

namespace tpde::noise
{
  namespace
  {
    std::uint64_t mix(std::uint64_t z)
    {
      z += 0x9e3779b97f4a7c15ULL;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      return z ^ (z >> 31);
    }

    double unit_open(std::uint64_t bits) { return (double(bits >> 11) + 0.5) * 0x1p-53; } // in (0, 1)
  } // namespace

  double keyed_normal(std::uint64_t seed, std::uint64_t a, std::uint64_t b, std::uint64_t c)
  {
    const std::uint64_t h1 = mix(mix(mix(mix(seed) ^ a) ^ b) ^ c);
    const std::uint64_t h2 = mix(h1 ^ 0x5851f42d4c957f2dULL);
    return std::sqrt(-2 * std::log(unit_open(h1))) * std::cos(2 * M_PI * unit_open(h2));
  }
} // namespace tpde::noise
