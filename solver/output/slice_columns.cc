#include "output/slice_columns.h"

#include <algorithm>
#include <cmath>

namespace tpde
{
  SliceSetup masked_slice_setup(const Parameters &p)
  {
    SliceSetup slices;
    slices.positions = p.masked_attention.slices;
    slices.gaussian  = p.initial.gaussian();
    // physics.md §2.7 (b): exact below the first s where the data changes.
    slices.exact_below = p.initial.upper_from < 1. ? p.initial.upper_from : 2.;
    slices.base_type   = p.attention.masked_kernel;
    slices.layers      = p.layers;
    slices.modes       = p.output.modes; // used on the circle
    return slices;
  }

  SliceColumns::SliceColumns(const SliceSetup &setup, unsigned int dimension, unsigned int modes,
                             bool density_errors)
    : m(dimension)
    , n_modes(modes)
    , density_errors(density_errors)
  {
    bool any_exact = false;
    for (const double s : setup.positions)
      {
        const bool exact =
          setup.gaussian && reference::has_gaussian_reference(setup.base_type) && s < setup.exact_below;
        slices.push_back({s, exact});
        any_exact = any_exact || exact;
      }
    if (any_exact)
      reference = ReferenceTracker(
        std::make_unique<reference::GaussianReference>(setup.base_type, setup.layers, *setup.gaussian));
  }

  void SliceColumns::append_header(std::vector<std::string> &h) const
  {
    for (std::size_t k = 0; k < slices.size(); ++k)
      {
        // Components of x count from 0 (the mesh's coordinate 0 is s).
        const std::string prefix = "slice" + std::to_string(k) + "_";
        h.push_back(prefix + "s");
        h.push_back(prefix + "mass");
        append_moment_columns(h, prefix, m);
        for (unsigned int l = 1; l <= n_modes; ++l)
          h.push_back(prefix + "mode_" + std::to_string(l));
        if (!slices[k].exact)
          continue;
        append_moment_columns(h, prefix + "ref_", m);
        for (const char *name : {"err_mean", "err_cov"})
          h.push_back(prefix + name);
        if (density_errors)
          for (const char *name : {"err_l1", "err_l2"})
            h.push_back(prefix + name);
      }
  }

  void SliceColumns::append(const std::vector<double> &sums, const reference::GaussianState *state,
                            std::vector<double> &row) const
  {
    const unsigned int d = m;
    for (std::size_t l = 0; l < slices.size(); ++l)
      {
        const double *sum  = &sums[l * n_sums()];
        const double  mass = sum[0];
        double        mean[3], cov[9];
        row.push_back(slices[l].s);
        row.push_back(mass);
        for (unsigned int i = 0; i < d; ++i)
          row.push_back(mean[i] = sum[1 + i] / mass);
        for (unsigned int i = 0; i < d; ++i)
          for (unsigned int j = 0; j < d; ++j)
            row.push_back(cov[i * d + j] = sum[1 + d + i * d + j] / mass - mean[i] * mean[j]);
        const double *modes = sum + mode_offset(); // cos, sin sums per mode
        for (unsigned int k = 0; k < n_modes; ++k)
          row.push_back(std::hypot(modes[2 * k], modes[2 * k + 1]));
        if (!slices[l].exact)
          continue;
        append_reference_moments(row, state, d, density_errors ? 4 : 2);
        if (!state)
          continue;
        // Mean error relative to the mean's size, or to the standard
        // deviation where the exact mean is (near) 0; covariance error
        // relative to the largest exact entry.
        double mean_error = 0., mean_size = 0., cov_error = 0., cov_size = 0.;
        for (unsigned int i = 0; i < d; ++i)
          {
            mean_error += (mean[i] - state->mean[i]) * (mean[i] - state->mean[i]);
            mean_size += state->mean[i] * state->mean[i];
          }
        for (unsigned int i = 0; i < d; ++i)
          for (unsigned int j = 0; j < d; ++j)
            {
              cov_error = std::max(cov_error, std::abs(cov[i * d + j] - state->covariance(i, j)));
              cov_size  = std::max(cov_size, std::abs(state->covariance(i, j)));
            }
        row.push_back(std::sqrt(mean_error) / std::max(std::sqrt(mean_size), std::sqrt(cov_size)));
        row.push_back(cov_error / cov_size);
        if (!density_errors)
          continue;
        row.push_back(sum[error_offset()]);
        row.push_back(std::sqrt(sum[error_offset() + 1]));
      }
  }
} // namespace tpde
