// `subsection Noise`: stochastic token dynamics (physics.md §4.3). Idiosyncratic
// noise (every token its own sqrt(2D) dW) makes the PDE a Fokker-Planck
// equation with diffusion D; common noise (one Brownian path W_k for all
// tokens, fields sigma_k) makes it a stochastic transport equation. Plain C++:
// the particle solver reads the same struct.
#pragma once

#include "common/parameter_entries.h"
#include "noise/common_noise.h"

#include <string>

namespace tpde
{
  struct NoiseParameters : TabledParameters<NoiseParameters>
  {
    double       diffusion = 0;  // D >= 0 of d_t rho + div(rho X) = D Lap rho
    std::string  common_noise;   // the fields sigma_k as text (empty: none)
    unsigned int seed = 1;       // fixes the common noise path (and the particles' own noise)
    unsigned int path_levels = 8; // the common noise path is linear between the nodes j 2^-path_levels
    noise::CommonNoiseFields fields; // common_noise parsed (parameters.cc)

    bool has_diffusion() const { return diffusion > 0; }
    bool has_common_noise() const { return !common_noise.empty(); }

    static const EntryTable<NoiseParameters> &entry_table();
  };
} // namespace tpde
