// Token positions exported by other codes (for example the hidden states of a
// real Transformer, projected to d <= 3 dimensions), read from CSV so that they
// can be written and compared exactly like our own particle runs.
//
// Format: comma-separated, one token per line, a header line naming the
// columns; blank lines and lines starting with '#' are skipped. Coordinates
// are the columns x, y, z (or x0, x1, x2), the first d of them; an optional
// column `time` (or `t`) gives each token's time; other columns are ignored.
// Two layouts:
//  * one file with a time column: the rows are grouped by time;
//  * one file per time: `path` contains one '*', which matches a number in
//    each file name (layer_*.csv -> layer_0.csv, layer_1.csv, ...); that
//    number is the time unless the file has a time column.
// Every time is multiplied by `time_scale` (layer index -> PDE time).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace tpde::particles
{
  struct TokenSnapshot
  {
    double              time = 0;
    std::vector<double> positions; // N x dim, row-major
  };

  /// A check of one token's coordinates (dim numbers): empty if it is
  /// acceptable, else what is wrong (the reader adds the file and line).
  using TokenCheck = std::function<std::string(const double *x)>;

  /// Snapshots in increasing time. Throws std::invalid_argument with a
  /// one-line message naming the file (and line) and what was expected,
  /// also for a token that `check` (if set) refuses.
  std::vector<TokenSnapshot> read_token_csv(const std::string &path, unsigned int dim, double time_scale = 1.,
                                            const TokenCheck &check = {});
} // namespace tpde::particles
