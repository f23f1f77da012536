// `Output/plots = true`: after a successful run, statistics.csv is drawn
// against its references to statistics.png in the run's folder by
// postprocess/plot_statistics.py (Python 3 with numpy and matplotlib).
//
// The script is found through the environment variable TPDE_PLOT_STATISTICS
// (a path to the script) or else in the source tree the executable was built
// from (compile definition TPDE_PLOT_SCRIPT, set in CMakeLists.txt); it runs
// under /usr/bin/python3 (Debian's, with python3-numpy and python3-matplotlib)
// or, where that does not exist, the first python3 on PATH.
#pragma once

#include "parameters/parameters.h"
#include "run/output_folder.h"

#include <string>

namespace tpde
{
  /// The plot script's path: $TPDE_PLOT_STATISTICS, else the source tree's copy.
  std::string plot_script();

  /// Runs the plot script on `folder` (writes folder/statistics.png). Returns
  /// "" on success, else one line saying why not.
  std::string plot_statistics(const std::string &folder);

  /// When p.output.plots is set: plots the run of this kind (Output/directory
  /// or Particles/directory), prints "plot: <file>" unless quiet, and turns a
  /// failure into a one-line warning on stderr. Call on one MPI rank only,
  /// after the run returned.
  void plot_statistics_if_asked(const Parameters &p, RunKind kind, bool quiet);
} // namespace tpde
