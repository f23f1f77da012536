// Checkpoint and resume of a grid run (the Simulation members declared under
// "Checkpoint and resume" in simulation.h).
#include "checkpoint/grid_state.h"
#include "common/collective.h"
#include "run/simulation.h"

#include <deal.II/base/mpi.h>

#include <cstdio>
#include <filesystem>

namespace tpde
{
  namespace
  {
    /// Entries that may change when a grid run is resumed: where and how much
    /// it writes, how long it runs; the particle entries do not affect it.
    const std::vector<std::string> free_sections = {"Output", "Checkpoint", "Particles"};
    const std::vector<std::string> free_entries  = {"Time stepping/end time", "Time stepping/maximum steps"};
  } // namespace

  template <int dim, int spacedim>
  void Simulation<dim, spacedim>::read_checkpoint()
  {
    collectively<InputError>(communicator, [&]() {
      const CheckpointFolder folder(parameters.output.directory);
      resumed = std::make_unique<Checkpoint>(
        folder.read_newest(parameters.file + ": subsection 'Output', entry 'directory': --resume: "));
      check_same_parameters(*resumed, "grid", parameters.as_prm, parameters.file, free_sections, free_entries);
      progress = RunProgress::load(*resumed);
      if (progress->time >= parameters.time.end_time * (1 - 1e-14))
        throw InputError(parameters.file + ": subsection 'Time stepping', entry 'end time': --resume: the checkpoint " +
                         resumed->origin() + " is at t = " + std::to_string(progress->time) +
                         ", expected an end time after it");
    });
  }

  template <int dim, int spacedim>
  void Simulation<dim, spacedim>::restore_state()
  {
    current_time       = progress->time;
    outflow_mass       = resumed->number("outflow");
    lowest_check_value = resumed->number("lowest check value");
    indicator          = restore_cell_values(*dg_space, *resumed, "indicator");
    try
      {
        statistics->reference_restore(resumed->numbers("references"));
      }
    catch (const std::invalid_argument &e)
      {
        throw InputError(resumed->origin() + ": incompatible checkpoint (" + e.what() + ")");
      }
  }

  template <int dim, int spacedim>
  unsigned long Simulation<dim, spacedim>::resume_run(RunSummary &summary, OutputSchedule &schedule, RunClock &clock) const
  {
    const auto &state       = resumed->numbers("run summary");
    summary.rejected_steps  = static_cast<unsigned long>(state.at(0));
    summary.max_mass_defect = state.at(1);
    summary.min_check_value = state.at(2);
    summary.first_dt        = state.at(3);
    summary.shrunk_steps    = static_cast<unsigned int>(state.at(4));
    summary.mass_warning    = state.at(5) != 0;
    summary.last_row        = resumed->numbers("last row");
    summary.steps           = progress->step;
    schedule.resume(progress->next_output);
    clock.resume(progress->wall_seconds);
    return progress->step;
  }

  template <int dim, int spacedim>
  void Simulation<dim, spacedim>::write_checkpoint(unsigned long step, const RunSummary &summary,
                                         const OutputSchedule &schedule, const RunClock &clock)
  {
    Checkpoint checkpoint;
    store_mesh_and_density(*dg_space, density, checkpoint);
    store_cell_values(*dg_space, indicator, "indicator", checkpoint);
    if (dealii::Utilities::MPI::this_mpi_process(communicator) == 0)
      {
        store_parameters(checkpoint, "grid", parameters.as_prm);
        RunProgress now;
        now.step             = step;
        now.time             = current_time;
        now.next_output      = schedule.next_output_time();
        now.wall_seconds     = clock.seconds();
        now.statistics_bytes = statistics_file->size();
        if (vtk)
          now.outputs = vtk->outputs();
        now.store(checkpoint);
        checkpoint.put("outflow", outflow_mass);
        checkpoint.put("lowest check value", lowest_check_value);
        checkpoint.put("run summary", {double(summary.rejected_steps), summary.max_mass_defect,
                                       summary.min_check_value, summary.first_dt, double(summary.shrunk_steps),
                                       summary.mass_warning ? 1. : 0.});
        checkpoint.put("last row", summary.last_row);
        checkpoint.put("references", statistics->reference_snapshot());
        try
          {
            CheckpointFolder(parameters.output.directory).write(step, checkpoint, parameters.checkpoint.keep);
          }
        catch (const std::exception &e)
          {
            // The run's results do not depend on it: say so and go on.
            std::fprintf(stderr, "warning: no checkpoint at t = %.6g (step %lu): %s\n", current_time, step, e.what());
          }
      }
  }

#define TPDE_INSTANTIATE(dim, spacedim)                                                                                      \
  template void          Simulation<dim, spacedim>::read_checkpoint();                                                        \
  template void          Simulation<dim, spacedim>::restore_state();                                                          \
  template unsigned long Simulation<dim, spacedim>::resume_run(RunSummary &, OutputSchedule &, RunClock &) const;             \
  template void          Simulation<dim, spacedim>::write_checkpoint(unsigned long, const RunSummary &, const OutputSchedule &, \
                                                           const RunClock &);
  TPDE_INSTANTIATE(1, 1)
  TPDE_INSTANTIATE(2, 2)
  TPDE_INSTANTIATE(3, 3)
  TPDE_INSTANTIATE(2, 3)
#undef TPDE_INSTANTIATE
} // namespace tpde
