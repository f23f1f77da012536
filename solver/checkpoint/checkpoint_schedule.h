// When a run writes a checkpoint: after the first step that reaches each
// multiple of `Checkpoint/interval` in simulated time, or when `wall
// interval` minutes have passed since the last one (rank 0's clock decides,
// so every rank agrees).
#pragma once

#include "checkpoint/checkpoint_parameters.h"

#include <mpi.h>

#include <cmath>

namespace tpde
{
  class CheckpointSchedule
  {
  public:
    /// `time`, `wall_seconds`: where the run starts (or resumes).
    CheckpointSchedule(const CheckpointParameters &parameters, double time, double wall_seconds)
      : parameters(parameters)
      , last_wall(wall_seconds)
    {
      if (parameters.interval > 0)
        next_time = (std::floor(time / parameters.interval * (1 + 1e-12)) + 1) * parameters.interval;
    }

    /// Collective. Whether a checkpoint is due after a step to `time`; if so,
    /// the schedule moves on.
    bool due(double time, double wall_seconds, MPI_Comm communicator)
    {
      bool by_time = parameters.interval > 0 && time >= next_time * (1 - 1e-12);
      int  by_wall = parameters.wall_interval > 0 && wall_seconds - last_wall >= 60 * parameters.wall_interval;
      MPI_Bcast(&by_wall, 1, MPI_INT, 0, communicator);
      if (!(by_time || by_wall))
        return false;
      if (parameters.interval > 0)
        while (next_time <= time * (1 + 1e-12))
          next_time += parameters.interval;
      last_wall = wall_seconds;
      return true;
    }

  private:
    CheckpointParameters parameters;
    double               next_time = 0;
    double               last_wall = 0;
  };
} // namespace tpde
