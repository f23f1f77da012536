// Start-up without mpirun.
//
// A process started without mpirun is an Open MPI "singleton", and Open MPI
// spawns a daemon (orted) for it by default: 0.2 s of the 0.85 s that
// `tpde --version` took on the development machine. TPDE never spawns
// processes (MPI_Comm_spawn), so a singleton without the daemon suffices.
// Other MPI implementations ignore the variable. The command line uses it;
// the Python module does not (code in the same interpreter, e.g. mpi4py's
// Spawn, may need the daemon, and one interpreter pays the 0.2 s once).
#pragma once

#include <cstdlib>

namespace tpde
{
  /// Before MPI_Init: asks Open MPI for an isolated singleton unless mpirun
  /// (or another launcher) started the process or the user set the variable
  /// (=0 keeps the daemon). Returns whether it set the variable.
  inline bool prefer_isolated_mpi_singleton()
  {
    const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK") || std::getenv("PMI_RANK");
    if (launched || std::getenv("OMPI_MCA_ess_singleton_isolated"))
      return false;
    setenv("OMPI_MCA_ess_singleton_isolated", "1", 0);
    return true;
  }

  /// After MPI_Init: removes the variable again if prefer_isolated_mpi_singleton
  /// set it, so that processes this one starts do not inherit it.
  inline void forget_isolated_mpi_singleton(bool was_set)
  {
    if (was_set)
      unsetenv("OMPI_MCA_ess_singleton_isolated");
  }
} // namespace tpde
