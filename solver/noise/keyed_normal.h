// Counter-based standard normals: a value is a pure function of its integer
// key, so noise drawn from it needs no generator state (a resumed run or a
// refined path sees the same numbers without storing anything).
#pragma once

#include <cstdint>

namespace tpde::noise
{
  /// A standard normal number that depends only on the key (splitmix64
  /// hashing and the Box-Muller transform).
  double keyed_normal(std::uint64_t seed, std::uint64_t a, std::uint64_t b, std::uint64_t c);
} // namespace tpde::noise
