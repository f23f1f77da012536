// The statistics.csv schema shared by grid and particle runs: columns that
// mean the same carry the same name and come in the same order in both.
//
//   step, time, dt, mass, <run: after mass>, mean_i, cov_ij, <run: after moments>,
//   [one initial Gaussian: ref_mean_i, ref_cov_ij, <run: reference errors>], <run: last>
//
// grid:      after mass outflow; after moments min_density, entropy, max_speed,
//            cells, dofs, wall_seconds; errors err_l1, err_l2; last min_level,
//            max_level, kernel diagnostics, slice<k>_* (masked attention)
// particles: after moments max_speed, wall_seconds; errors err_mean, err_cov;
//            last tokens, kernel diagnostics
//
// Column names are a public interface: extend, never rename.
#pragma once

#include "reference/gaussian_reference.h"

#include <memory>
#include <string>
#include <vector>

namespace tpde
{
  /// The columns a run adds to the shared ones, at the places above.
  struct RunColumns
  {
    std::vector<std::string> after_mass;
    std::vector<std::string> after_moments;
    std::vector<std::string> reference_errors; // only with the reference columns
    std::vector<std::string> last;
  };

  /// prefix + mean_i (i < d), then prefix + cov_ij (row-major).
  void append_moment_columns(std::vector<std::string> &header, const std::string &prefix, unsigned int d);

  /// The header of statistics.csv of a `dim`-dimensional run.
  std::vector<std::string> statistics_header(unsigned int dim, bool with_reference, const RunColumns &own);

  /// The exact Gaussian solution over time; past a finite-time blow-up it no
  /// longer exists and state() is null from then on.
  class ReferenceTracker
  {
  public:
    explicit ReferenceTracker(std::unique_ptr<reference::GaussianReference> reference);
    bool                            active() const { return reference != nullptr; }
    const reference::GaussianState *state(double time);

    /// Its state for a checkpoint (empty if inactive), and the restore.
    std::vector<double> snapshot() const;
    void                restore(const std::vector<double> &snapshot);

  private:
    std::unique_ptr<reference::GaussianReference> reference;
    bool                                          failed = false;
  };

  /// Two trackers' snapshots in one vector (the first's length first), and back.
  std::vector<double> join_snapshots(const ReferenceTracker &a, const ReferenceTracker &b);
  void split_snapshots(const std::vector<double> &snapshot, ReferenceTracker &a, ReferenceTracker &b);

  /// The columns ref_mean_*, ref_cov_* of `state` (NaN if null) and, if null,
  /// `n_error_columns` more NaN.
  void append_reference_moments(std::vector<double> &row, const reference::GaussianState *state,
                                unsigned int dim, unsigned int n_error_columns);

  /// Column lookup in a row of statistics.csv.
  double column(const std::vector<std::string> &header, const std::vector<double> &row,
                const std::string &name);
} // namespace tpde
