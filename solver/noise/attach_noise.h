// Connects the common noise of `subsection Noise` to a solver's velocity: the
// solver's field (AttentionField or ParticleSystem) calls the returned noise's
// add_velocity after the attention. On the grid the rates are those of the
// path interval holding the solver's current time (its steps are cut at the
// path nodes, CommonNoise::limit_step); the particles set chords per step.
#pragma once

#include "noise/noise_parameters.h"

#include <memory>

namespace tpde::noise
{
  /// Nothing without common noise. `time` (grid): the rates follow the path interval holding *time.
  template <typename Field>
  std::unique_ptr<CommonNoise> attach_common_noise(Field &field, const NoiseParameters &p, const double *time = nullptr)
  {
    if (!p.has_common_noise())
      return nullptr;
    auto        noise = std::make_unique<CommonNoise>(p.fields, p.seed, p.path_levels);
    CommonNoise *raw  = noise.get();
    field.add_velocity_with([raw, time](std::size_t n, const double *x, double *v) {
      if (time)
        raw->select_interval(*time);
      raw->add_velocity(n, x, v);
    });
    return noise;
  }
} // namespace tpde::noise
