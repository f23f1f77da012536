#include "output/output_parameters.h"

namespace tpde
{
  const EntryTable<OutputParameters> &OutputParameters::entry_table()
  {
    static const EntryTable<OutputParameters> table = EntryTable<OutputParameters>()
      .add("directory", &OutputParameters::directory, "output/default", EntryPattern::anything(),
          "Output folder (created if missing): solution_*.vtu/.pvtu, solution.pvd, statistics.csv and "
          "parameters.prm.")
      .add("interval", &OutputParameters::interval, "0.1", EntryPattern::real(0),
          "Time between two ParaView outputs (0: only the initial and final state).")
      .add("write vtu", &OutputParameters::write_vtu, "true", EntryPattern::boolean(),
          "Write ParaView files (statistics.csv is always written).");
    return table;
  }

  void OutputParameters::check(const EntryReader &r) const
  {
    if (directory.empty())
      r.fail("directory", "expected a folder name");
  }
} // namespace tpde
