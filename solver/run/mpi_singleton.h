// Start-up without mpirun.
//
// A `tpde` started without mpirun is an MPI singleton. Open MPI (4.1) by
// default spawns a daemon (orted) for it, and probes the cm PML's MTLs (PSM2,
// OFI/libfabric) before choosing a PML: 0.2 s each of the 0.85 s that
// `tpde --version` took on the development machine (a one-step 32^2 run:
// 0.76 -> 0.56 s from the PML alone). TPDE never spawns processes
// (MPI_Comm_spawn), so a singleton without the daemon suffices, and one rank
// talks only to itself, which the ob1 PML (with the self transport) does.
// Other MPI implementations ignore the variables. The command line uses
// them; the Python module does not (code in the same interpreter, e.g.
// mpi4py's Spawn, may need the daemon, and one interpreter pays once).
#pragma once

#include <cstdlib>
#include <iterator>

namespace tpde
{
  namespace detail
  {
    struct SingletonSetting
    {
      const char *name;
      const char *value;
    };
    inline constexpr SingletonSetting singleton_settings[] = {{"OMPI_MCA_ess_singleton_isolated", "1"},
                                                              {"OMPI_MCA_pml", "ob1"}};
    /// Set by mpirun (Open MPI), PMIx and PMI launchers (srun, MPICH's
    /// hydra), a Slurm job step and Flux: then the launcher's choices stand
    /// (a missed multi-rank launcher would otherwise get ob1 instead of, e.g.,
    /// UCX).
    inline constexpr const char *launcher_variables[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                                                         "PMI_SIZE", "SLURM_STEP_ID", "FLUX_TASK_RANK"};
  } // namespace detail

  /// Before MPI_Init: asks Open MPI for an isolated singleton on the ob1 PML
  /// unless mpirun (or another launcher) started the process. A variable the
  /// user set is left as it is. Returns which variables it set (bit i for
  /// detail::singleton_settings[i]).
  inline unsigned prefer_isolated_mpi_singleton()
  {
    unsigned set = 0;
    for (const char *launcher : detail::launcher_variables)
      if (std::getenv(launcher))
        return set;
    for (unsigned i = 0; i < std::size(detail::singleton_settings); ++i)
      if (!std::getenv(detail::singleton_settings[i].name))
        {
          setenv(detail::singleton_settings[i].name, detail::singleton_settings[i].value, 0);
          set |= 1u << i;
        }
    return set;
  }

  /// After MPI_Init: removes the variables prefer_isolated_mpi_singleton set,
  /// so that processes this one starts do not inherit them.
  inline void forget_isolated_mpi_singleton(unsigned was_set)
  {
    for (unsigned i = 0; i < std::size(detail::singleton_settings); ++i)
      if (was_set & (1u << i))
        unsetenv(detail::singleton_settings[i].name);
  }
} // namespace tpde
