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
    // Mesh/domain = sphere only (output/sphere_statistics.h):
    unsigned int modes             = 4;    // columns mode_1 .. mode_<modes>
    double       cluster_threshold = 0.25; // clusters: local maxima above this fraction of the maximum
    static const EntryTable<OutputParameters> &entry_table();
    /// Checks across entries (InputError through `r`).
    void check(const EntryReader &r) const;
  };
} // namespace tpde
