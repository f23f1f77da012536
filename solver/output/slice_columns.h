// The statistics.csv columns of masked attention's slices (slice<k>_*),
// shared by the grid (output/statistics.cc: the DG density at s_k) and the
// particles (output/particle_statistics.cc: the tokens in a window around
// s_k), so that both runs write the same names with the same meaning:
//
//   slice<k>_s, _mass, _mean_*, _cov_* [, _mode_1 .. _mode_L on the circle]
//   [where the Gaussian reference is exact: _ref_mean_*, _ref_cov_*,
//    _err_mean, _err_cov (relative, see append) and, on the grid only,
//    the density errors _err_l1, _err_l2]
//
// Each slice is summed into `n_sums()` numbers: mass, first moments, raw
// second moments, the L1 and squared L2 density errors, then the cos and sin
// sums of the modes 1..L.
#pragma once

#include "attention/layers.h"
#include "output/statistics_schema.h"
#include "parameters/parameters.h"
#include "reference/gaussian_reference.h"

#include <optional>
#include <string>
#include <vector>

namespace tpde
{
  /// Masked attention (points (s, x)): slices rho(s, .) with their own
  /// columns. The unmasked Gaussian reference of the base variant is exact for
  /// the slices below `exact_below` (physics.md §2.7 (b)).
  struct SliceSetup
  {
    std::vector<double>                     positions;
    std::optional<reference::GaussianState> gaussian; // data of x below exact_below
    double                                  exact_below = 0.;
    std::string                             base_type;
    attention::Layers                       layers; // the masked kernel's weights, per layer
    /// On the circle, (s, theta): the columns slice<k>_mode_1 .. _mode_<modes>.
    unsigned int                            modes = 0;
  };

  /// The slices of a masked run's parameters (Masked attention/slices).
  SliceSetup masked_slice_setup(const Parameters &p);

  class SliceColumns
  {
  public:
    SliceColumns() = default; // no slices
    /// `dimension`: of a slice's moments (x, or (cos theta, sin theta));
    /// `modes`: L (0 off the circle); `density_errors`: the grid's
    /// err_l1, err_l2 columns.
    SliceColumns(const SliceSetup &setup, unsigned int dimension, unsigned int modes, bool density_errors);

    std::size_t  size() const { return slices.size(); }
    double       position(std::size_t l) const { return slices[l].s; }
    bool         exact(std::size_t l) const { return slices[l].exact; }
    unsigned int dimension() const { return m; }
    unsigned int modes() const { return n_modes; }
    std::size_t  n_sums() const { return 1 + m + m * m + 2 + 2 * n_modes; }
    std::size_t  error_offset() const { return 1 + m + m * m; } // L1, then squared L2
    std::size_t  mode_offset() const { return 3 + m + m * m; }

    void append_header(std::vector<std::string> &header) const;
    /// The exact Gaussian at `time`, if any slice has it (null otherwise or past a blow-up).
    const reference::GaussianState *reference_state(double time) { return reference.state(time); }
    /// Every slice's columns from `sums` (size() x n_sums()).
    void append(const std::vector<double> &sums, const reference::GaussianState *state,
                std::vector<double> &row) const;

    ReferenceTracker       &tracker() { return reference; }
    const ReferenceTracker &tracker() const { return reference; }

  private:
    struct Slice
    {
      double s;
      bool   exact; // the reference applies
    };
    std::vector<Slice> slices;
    ReferenceTracker   reference{nullptr};
    unsigned int       m = 1, n_modes = 0;
    bool               density_errors = false;
  };
} // namespace tpde
