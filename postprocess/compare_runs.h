// The comparison of a particle run with a grid run or with another particle run, at every output time
// the two share: the distance table of tpde-compare (compare_main.cc, which documents the columns) and
// of the Python module's tpde.compare.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tpde::postprocess
{
  struct CompareOptions
  {
    std::optional<unsigned int> dimension;    // needed for two particle runs; checked against a grid
    unsigned int                directions = 64;
    std::optional<unsigned int> subdivisions; // default: 3 in 2D, 1 in 3D (atoms grow like s^d)
  };

  /// A dimension missing or contradicting the runs (the command line's usage error).
  class CompareOptionError : public std::invalid_argument
  {
  public:
    using std::invalid_argument::invalid_argument;
  };

  struct DistanceTable
  {
    std::vector<std::string>         header;      // the columns of every row
    std::vector<std::string>         distances;   // the columns that are distances (plotted)
    std::vector<std::vector<double>> rows;        // one per shared output time
    std::string                      description; // which distance, e.g. "exact W1, column w1"
  };

  /// The table of `particles_pvd` (a particle run's .pvd) against `reference_pvd` (a grid run's or a
  /// particle run's .pvd). Throws CompareOptionError, or std::runtime_error with a one-line message
  /// on files it cannot read or runs that share no output time.
  DistanceTable compare_runs(const std::string &reference_pvd, const std::string &particles_pvd,
                             const CompareOptions &options = {});
} // namespace tpde::postprocess
