// How a run (grid or particles) is driven from the command line or a test.
#pragma once

namespace tpde
{
  struct RunOptions
  {
    bool quiet        = false; // no progress line, no timing summary
    bool write_output = true;  // output folder, statistics.csv, ParaView files
    bool overwrite    = false; // the output folder may hold a previous run's files (removed first)
    bool resume       = false; // continue from the newest checkpoint in the output folder
  };
} // namespace tpde
