// What every run loop (grid or particles) stores in a checkpoint besides its
// own state: where it is in time and in its output files, and the parameters
// it ran with (a resume with different physics is refused).
#pragma once

#include "checkpoint/checkpoint_file.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tpde
{
  struct RunProgress
  {
    unsigned long step             = 0;
    double        time             = 0;
    double        next_output      = 0; // OutputSchedule's next output time
    double        wall_seconds     = 0; // of the run so far (the wall_seconds column continues)
    std::uint64_t statistics_bytes = 0; // statistics.csv up to this step's row
    std::vector<std::pair<double, std::string>> outputs; // the .pvd series so far

    void               store(Checkpoint &checkpoint) const;
    static RunProgress load(const Checkpoint &checkpoint);
  };

  /// Records `as_prm` (the parameters as parsed) and the run kind.
  void store_parameters(Checkpoint &checkpoint, const std::string &kind, const std::string &as_prm);

  /// Throws InputError "<file>: ..." if the checkpoint is of another kind of
  /// run or its parameters differ from `as_prm` in an entry outside
  /// `free_sections` and `free_entries` ("Subsection/entry"): those may change
  /// on resume (e.g. Output, Checkpoint, Time stepping/end time).
  void check_same_parameters(const Checkpoint &checkpoint, const std::string &kind, const std::string &as_prm,
                             const std::string &file, const std::vector<std::string> &free_sections,
                             const std::vector<std::string> &free_entries);
} // namespace tpde
