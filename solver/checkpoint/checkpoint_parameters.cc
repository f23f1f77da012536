#include "checkpoint/checkpoint_parameters.h"

namespace tpde
{
  const EntryTable<CheckpointParameters> &CheckpointParameters::entry_table()
  {
    static const EntryTable<CheckpointParameters> table = EntryTable<CheckpointParameters>()
      .add("interval", &CheckpointParameters::interval, "0", EntryPattern::real(0),
          "Simulated time between two checkpoints (0: none by time). A checkpoint is written after the first "
          "step that reaches or passes each multiple of it, into <output folder>/checkpoints/checkpoint_<step>.tpde; "
          "`tpde run FILE --resume` (or `tpde particles FILE --resume`) continues from the newest one. It holds "
          "everything the run needs to continue as if never stopped: the mesh (as cell ids, so a run can resume "
          "on another number of MPI ranks), the density or the token positions, time, step count and the time "
          "step state, the output schedule, the ParaView series and how much of statistics.csv belongs to it.")
      .add("wall interval", &CheckpointParameters::wall_interval, "0", EntryPattern::real(0),
          "Wall-clock minutes between two checkpoints (0: none by wall time); with both set, whichever comes "
          "first. Rank 0's clock decides for all ranks.")
      .add("keep", &CheckpointParameters::keep, "3", EntryPattern::integer(1),
          "How many of the newest checkpoints are kept; older ones are deleted once a newer one is complete.")
      .add("at end", &CheckpointParameters::at_end, "false", EntryPattern::boolean(),
          "Also write a checkpoint after the last step, at the end time. A later run continues from it with "
          "`--resume` and a later end time, or on another mesh, box or coordinates with `Initial condition/type "
          "= checkpoint`.");
    return table;
  }
} // namespace tpde
