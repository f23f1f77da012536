// GoogleTest entry point shared by all test programs: MPI (and deal.II's
// thread pool) must be initialised before any parallel triangulation exists.
#include <deal.II/base/mpi.h>

#include <gtest/gtest.h>

int main(int argc, char **argv)
{
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv); // threads: all cores
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
