// Throughput of the positivity limiter (Zhang-Shu per cell plus the
// restoration of the global moments) on the projected, unlimited initial
// data of a parameter file, with the threads DEAL_II_NUM_THREADS allows:
//
//   DEAL_II_NUM_THREADS=2 build/bench_limiter parameters/gaussian-2d-isotropize.prm [repetitions] [--set E=V]...
//
// Prints cells, DoFs, threads, the median time of one limiter call and DoF/s.
// tests/benchmarks/cores_used.py runs it with 1 and 2 threads.
#include "dg/dg_space.h"
#include "initial/initial_condition.h"
#include "limiter/positivity_limiter.h"
#include "parameters/parameters.h"

#include <deal.II/base/mpi.h>
#include <deal.II/base/multithread_info.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char **argv)
{
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv);
  if (argc < 2)
    {
      std::cerr << "usage: bench_limiter FILE.prm [repetitions] [--set Subsection/entry=value]...\n";
      return 2;
    }
  unsigned int             repetitions = 50;
  std::vector<std::string> overrides   = {"Output/write vtu=false"};
  for (int a = 2; a < argc; ++a)
    if (std::string(argv[a]) == "--set" && a + 1 < argc)
      overrides.push_back(argv[++a]);
    else
      repetitions = static_cast<unsigned int>(std::atoi(argv[a]));
  const tpde::Parameters p = tpde::read_parameters(argv[1], overrides);
  if (p.dimension != 2)
    {
      std::cerr << "bench_limiter: 2D parameter files only\n";
      return 2;
    }
  tpde::DGSpace<2> space(p.mesh, p.discretization, p.masked(), p.file, MPI_COMM_WORLD);
  space.setup();
  tpde::VectorType raw, work;
  space.initialize_vector(raw);
  space.initialize_vector(work);
  const auto initial = tpde::make_initial_density<2, 2>(p.initial);
  tpde::project_initial_density(space, *initial, p.initial.projection, tpde::Limiting::measure, raw);

  std::vector<double> seconds;
  for (unsigned int r = 0; r < repetitions; ++r)
    {
      work         = raw;
      const auto t = std::chrono::steady_clock::now();
      tpde::positivity_limiter(space, work.begin(), tpde::Limiting::keep_moments);
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
    }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  std::printf("cells %zu dofs %zu threads %u median %.3e s dof/s %.3e\n", space.n_owned_cells(),
              static_cast<std::size_t>(space.dof_handler.n_dofs()), dealii::MultithreadInfo::n_threads(), median,
              space.dof_handler.n_dofs() / median);
  return 0;
}
