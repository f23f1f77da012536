// How a run (grid or particles) is driven from the command line, a test or the Python module.
#pragma once

#include <functional>
#include <vector>

namespace tpde
{
  /// Where a run is, for RunOptions::progress.
  struct RunProgressReport
  {
    unsigned long step     = 0;
    double        time     = 0;
    double        end_time = 0;
    double        dt       = 0;
  };

  struct RunOptions
  {
    bool quiet        = false; // no progress line, no timing summary
    bool write_output = true;  // output folder, statistics.csv, ParaView files
    bool overwrite    = false; // the output folder may hold a previous run's files (removed first)
    bool resume       = false; // continue from the newest checkpoint in the output folder
    /// Called where the progress line is due (every 2 s and at the end), quiet or not (rank 0).
    std::function<void(const RunProgressReport &)> progress;
    /// Particle runs: the initial tokens (N x token dimension, N = Particles/number of tokens)
    /// instead of sampling them; null: sampled. Not with resume or an import file.
    const std::vector<double> *initial_tokens = nullptr;
  };
} // namespace tpde
