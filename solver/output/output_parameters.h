// `subsection Output`: where a run writes and how often.
#pragma once

#include "common/parameter_entries.h"

#include <string>

namespace tpde
{
  struct OutputParameters : TabledParameters<OutputParameters>
  {
    std::string directory = "output/default";
    double      interval  = 0.1; // 0: only initial and final state
    bool        write_vtu = true;
    bool        plots     = false; // statistics.png at the end of a successful run (run/plots.h)
    static const EntryTable<OutputParameters> &entry_table();
    /// Checks across entries (InputError through `r`).
    void check(const EntryReader &r) const;
  };
} // namespace tpde
