// Masked (causal) attention around a given kernel of the tokens x: the
// points are (s, x), see masked.cc. The registry's `masked` variant wraps the
// variant `masked kernel`; this wraps any kernel, e.g. the circle's angle
// kernel (sphere/circle_fourier.h), whose points are angles.
#pragma once

#include "attention/attention.h"

#include <memory>

namespace tpde::attention
{
  /// Points (s, x) with x a point of `base`; positional_decay: lambda >= 0
  /// (throws std::invalid_argument otherwise).
  std::unique_ptr<Kernel> make_masked_kernel(std::unique_ptr<Kernel> base, double positional_decay);
} // namespace tpde::attention
