// A gmsh mesh of the box gives the same run as the generated box mesh.
#include "support/solver_runs.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace tpde;
using namespace tpde::testing;

TEST(MeshFile, GmshSquareMatchesGeneratedBox)
{
  // meshes/square.msh is [-8, 8]^2 split into 2 x 2 quadrilaterals.
  const std::vector<std::string> common = {"Mesh/lower corner=-8", "Mesh/upper corner=8", "Mesh/global refinements=3",
                                           "Time stepping/end time=0.1"};
  auto box = common;
  box.push_back("Mesh/subdivisions=2");
  auto file = common;
  file.push_back("Mesh/domain=file");
  file.push_back("Mesh/file=" + source_path("meshes/square.msh"));
  const RunSummary a = run_without_output(parameters_from("tests/data/small-2d.prm", box));
  const RunSummary b = run_without_output(parameters_from("tests/data/small-2d.prm", file));
  ASSERT_EQ(a.header, b.header);
  EXPECT_EQ(column(a.header, a.last_row, "cells"), 256.);
  EXPECT_EQ(a.steps, b.steps);
  for (std::size_t i = 0; i < a.header.size(); ++i)
    if (a.header[i] != "wall_seconds")
      {
        EXPECT_NEAR(a.last_row[i], b.last_row[i], 1e-12 * std::max(1., std::abs(a.last_row[i]))) << a.header[i];
      }
}

TEST(MeshFile, MalformedFileIsAnInputError)
{
  const std::string bad = write_file(scratch_directory("bad-mesh") + "/bad.msh", "$MeshFormat\nnonsense\n");
  try
    {
      run_without_output(parameters_from("tests/data/small-2d.prm", {"Mesh/domain=file", "Mesh/file=" + bad}));
      FAIL() << "expected an InputError";
    }
  catch (const InputError &e)
    {
      const std::string m = e.what();
      EXPECT_NE(m.find("bad.msh"), std::string::npos) << m;
      EXPECT_EQ(m.find('\n'), std::string::npos) << "one line: " << m;
    }
}
