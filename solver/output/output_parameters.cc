#include "output/output_parameters.h"

namespace tpde
{
  void OutputParameters::declare(EntryDeclarations &entries)
  {
    entries.declare("directory", "output/default", EntryPattern::anything(),
                    "Output folder (created if missing): solution_*.vtu/.pvtu, solution.pvd, statistics.csv and "
                    "parameters.prm.");
    entries.declare("interval", "0.1", EntryPattern::real(0),
                    "Time between two ParaView outputs (0: only the initial and final state).");
    entries.declare("write vtu", "true", EntryPattern::boolean(),
                    "Write ParaView files (statistics.csv is always written).");
  }

  OutputParameters OutputParameters::read(const EntryReader &r)
  {
    OutputParameters o;
    o.directory = r.text("directory");
    o.interval  = r.real("interval");
    o.write_vtu = r.boolean("write vtu");
    if (o.directory.empty())
      r.fail("directory", "expected a folder name");
    return o;
  }
} // namespace tpde
