// Start-up without mpirun.
//
// A process started without mpirun is an Open MPI "singleton", and Open MPI
// spawns a daemon (orted) for it by default: 0.2 s of the 0.85 s that
// `tpde --version` took on the development machine. TPDE never spawns
// processes (MPI_Comm_spawn), so a singleton without the daemon suffices.
// Other MPI implementations ignore the variable.
#pragma once

#include <cstdlib>

namespace tpde
{
  /// Before MPI_Init: asks Open MPI for an isolated singleton unless mpirun
  /// (or another launcher) started the process or the user set it.
  inline void prefer_isolated_mpi_singleton()
  {
    const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK") || std::getenv("PMI_RANK");
    if (!launched)
      setenv("OMPI_MCA_ess_singleton_isolated", "1", 0);
  }
} // namespace tpde
