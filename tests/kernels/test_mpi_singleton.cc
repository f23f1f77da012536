// The start-up settings `tpde` gives Open MPI when no launcher started it
// (run/mpi_singleton.h): set only without mpirun, never over the user's own
// value, and removed again after MPI_Init so that child processes do not
// inherit them. Plain environment handling: no MPI is initialised here.
#include "run/mpi_singleton.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace
{
  void clear_all()
  {
    for (const auto &setting : tpde::detail::singleton_settings)
      unsetenv(setting.name);
    for (const char *name : tpde::detail::launcher_variables)
      unsetenv(name);
  }

  std::string value_of(const char *name)
  {
    const char *value = std::getenv(name);
    return value ? value : "(unset)";
  }
} // namespace

TEST(MpiSingleton, WithoutLauncherSetsIsolationAndOb1ThenForgetsThem)
{
  clear_all();
  const unsigned set = tpde::prefer_isolated_mpi_singleton();
  EXPECT_EQ(set, 3u);
  EXPECT_EQ(value_of("OMPI_MCA_ess_singleton_isolated"), "1");
  EXPECT_EQ(value_of("OMPI_MCA_pml"), "ob1");
  tpde::forget_isolated_mpi_singleton(set);
  EXPECT_EQ(value_of("OMPI_MCA_ess_singleton_isolated"), "(unset)");
  EXPECT_EQ(value_of("OMPI_MCA_pml"), "(unset)");
}

TEST(MpiSingleton, KeepsTheUsersValue)
{
  clear_all();
  setenv("OMPI_MCA_pml", "cm", 1);
  const unsigned set = tpde::prefer_isolated_mpi_singleton();
  EXPECT_EQ(set, 1u); // only the isolation
  EXPECT_EQ(value_of("OMPI_MCA_pml"), "cm");
  tpde::forget_isolated_mpi_singleton(set);
  EXPECT_EQ(value_of("OMPI_MCA_pml"), "cm");
  EXPECT_EQ(value_of("OMPI_MCA_ess_singleton_isolated"), "(unset)");
  clear_all();
}

TEST(MpiSingleton, UnderALauncherSetsNothing)
{
  for (const char *launcher : tpde::detail::launcher_variables)
    {
      clear_all();
      setenv(launcher, "2", 1);
      EXPECT_EQ(tpde::prefer_isolated_mpi_singleton(), 0u) << launcher;
      EXPECT_EQ(value_of("OMPI_MCA_pml"), "(unset)") << launcher;
      EXPECT_EQ(value_of("OMPI_MCA_ess_singleton_isolated"), "(unset)") << launcher;
    }
  clear_all();
}
