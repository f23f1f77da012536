// Start-up without mpirun.
//
// A `tpde` started without mpirun is an MPI singleton. Open MPI (4.1) by
// default spawns a daemon (orted) for it, and probes the cm PML's transports
// (PSM2, OFI/libfabric) before choosing one: 0.2 s each of the 0.85 s that
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
  } // namespace detail

  /// Before MPI_Init: asks Open MPI for an isolated singleton on the ob1 PML
  /// unless mpirun (or another launcher) started the process. A variable the
  /// user set is left as it is. Returns which variables it set (bit i for
  /// detail::singleton_settings[i]).
  inline unsigned prefer_isolated_mpi_singleton()
  {
    const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK") || std::getenv("PMI_RANK");
    unsigned   set      = 0;
    if (launched)
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
