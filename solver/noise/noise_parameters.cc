#include "noise/noise_parameters.h"

namespace tpde
{
  const EntryTable<NoiseParameters> &NoiseParameters::entry_table()
  {
    static const EntryTable<NoiseParameters> table = EntryTable<NoiseParameters>()
      .add("diffusion", &NoiseParameters::diffusion, "0", EntryPattern::real(0),
          "Idiosyncratic noise: every token moves with its own independent sqrt(2 D) dW on top of the attention, "
          "so the density obeys d_t rho + div(rho X[rho]) = D Lap rho (the Laplace-Beltrami operator on the "
          "sphere). 0: deterministic.")
      .add("common noise", &NoiseParameters::common_noise, "", EntryPattern::anything(),
          "Common noise: the fields sigma_k, separated by ';', driven by independent Brownian motions W_k shared "
          "by all tokens (Stratonovich): d rho + div(rho X) dt + sum_k div(rho sigma_k) o dW_k = 0. Empty: none.")
      .add("seed", &NoiseParameters::seed, "1", EntryPattern::integer(0),
          "Seed of the noise: one seed is one path of the common noise, the same for the grid and the particles.")
      .add("path levels", &NoiseParameters::path_levels, "8", EntryPattern::integer(0, 30),
          "Resolution of the common noise path: the Brownian motions are sampled at the times j 2^-L (L = path "
          "levels, the same motion at every L) and are linear in between (Wong-Zakai). The grid cuts its steps at "
          "these times and the particles step at most 2^-L, so the strong error of a run is that of the "
          "piecewise-linear path: O(2^-L) for constant (additive) fields, O(2^-L/2) in general.");
    return table;
  }
} // namespace tpde
