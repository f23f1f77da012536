// GoogleTest entry point shared by all test programs: MPI (and deal.II's
// thread pool) must be initialised before any parallel triangulation exists.
// Without mpirun, the same fast singleton start-up as `tpde` (each solver and
// fuzz test program is its own process, and many start `tpde` as well).
#include "run/mpi_singleton.h"

#include <deal.II/base/mpi.h>

#include <gtest/gtest.h>

int main(int argc, char **argv)
{
  const unsigned singleton = tpde::prefer_isolated_mpi_singleton();
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv); // threads: all cores
  tpde::forget_isolated_mpi_singleton(singleton);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
