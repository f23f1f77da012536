// Threads per process from the cores it is bound to.
//
// deal.II divides a node's cores among the MPI ranks on it but ignores the
// binding: a rank that mpirun bound to one core (its default for few ranks)
// would run as many threads as the node has cores on that one core (1.6x
// slower on 2 cores). The command line and the Python module both call this.
#pragma once

#include <deal.II/base/multithread_info.h>

#include <sched.h>

namespace tpde
{
  /// The cores this process may run on (its affinity mask), or 0 if unknown.
  inline unsigned int bound_cores()
  {
    cpu_set_t set;
    CPU_ZERO(&set);
    return sched_getaffinity(0, sizeof(set), &set) == 0 ? static_cast<unsigned int>(CPU_COUNT(&set)) : 0;
  }

  /// Lowers deal.II's (and so TBB's) thread limit to bound_cores().
  inline void limit_threads_to_bound_cores()
  {
    const unsigned int cores = bound_cores();
    if (cores > 0 && cores < dealii::MultithreadInfo::n_threads())
      dealii::MultithreadInfo::set_thread_limit(cores);
  }
} // namespace tpde
