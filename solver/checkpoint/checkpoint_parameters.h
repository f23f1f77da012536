// `subsection Checkpoint`: when a run saves the state it can be resumed from
// (`tpde run FILE --resume`, `tpde particles FILE --resume`).
#pragma once

#include "common/parameter_entries.h"

namespace tpde
{
  struct CheckpointParameters : TabledParameters<CheckpointParameters>
  {
    double       interval      = 0; // simulated time between checkpoints (0: none)
    double       wall_interval = 0; // wall-clock minutes between checkpoints (0: none)
    unsigned int keep          = 3; // newest checkpoints kept
    bool         at_end        = false; // also after the last step

    bool enabled() const { return interval > 0 || wall_interval > 0 || at_end; }

    static const EntryTable<CheckpointParameters> &entry_table();
  };
} // namespace tpde
