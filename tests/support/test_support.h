// Helpers shared by the tests: scratch folders, prm files written from
// strings, running the tpde executable, reading statistics.csv.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace tpde::testing
{
  /// A fresh, empty folder below the build tree's test-output/ named after the test.
  std::string scratch_directory(const std::string &name);

  /// Writes `text` to `path` (creating parent folders); returns path.
  std::string write_file(const std::string &path, const std::string &text);

  struct CommandResult
  {
    int         exit_code = -1;
    std::string output; // stdout and stderr together
  };
  /// Runs a shell command, capturing its output and exit code.
  CommandResult run_command(const std::string &command);

  /// "<tpde executable> args" (or "mpirun -np N ... tpde args" when ranks > 1).
  CommandResult run_tpde(const std::string &arguments, unsigned int ranks = 1);

  /// statistics.csv as columns: name -> values, in file order.
  struct Table
  {
    std::vector<std::string>                    header;
    std::map<std::string, std::vector<double>> columns;
    std::size_t rows() const { return columns.empty() ? 0 : columns.begin()->second.size(); }
  };
  Table read_csv(const std::string &path);

  /// Least-squares slope of log(values) against log(sizes) (a convergence
  /// or sampling law: -1/2 for N^-1/2).
  double log_log_slope(const std::vector<double> &sizes, const std::vector<double> &values);

  /// Absolute path of a file in the source tree, e.g. "parameters/default.prm".
  std::string source_path(const std::string &relative);
} // namespace tpde::testing
