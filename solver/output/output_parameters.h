// `subsection Output`: where a run writes and how often.
#pragma once

#include "common/parameter_entries.h"

#include <string>

namespace tpde
{
  struct OutputParameters
  {
    std::string directory = "output/default";
    double      interval  = 0.1; // 0: only initial and final state
    bool        write_vtu = true;

    static void             declare(EntryDeclarations &entries);
    static OutputParameters read(const EntryReader &r);
  };
} // namespace tpde
