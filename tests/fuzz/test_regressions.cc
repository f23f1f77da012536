// The bugs the fuzz test (test_readers.cc) found, one input each: every one
// crashed, hung, aborted the process or escaped as an exception of the wrong
// type (exit code 1) before its fix; now each is an input error (exit code 2)
// with a one-line message.
#include "dg/dg_space.h"
#include "parameters/parameters.h"
#include "particles/token_csv.h"
#include "run/run_size.h"
#include "run/simulation.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <chrono>

using namespace tpde;
using tpde::testing::scratch_directory;
using tpde::testing::source_path;
using tpde::testing::write_file;

namespace
{
  /// The InputError's message of `body` (fails if it throws nothing or anything else).
  template <typename Body>
  std::string input_error_of(const Body &body)
  {
    try
      {
        body();
      }
    catch (const InputError &e)
      {
        const std::string message = e.what();
        EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
        return message;
      }
    catch (const std::exception &e)
      {
        ADD_FAILURE() << "expected an InputError, got " << typeid(e).name() << ": " << e.what();
        return {};
      }
    ADD_FAILURE() << "expected an InputError, got none";
    return {};
  }

  /// Reads `text` as a gmsh file into the triangulation of a run, refined `refinements` times.
  template <int dim>
  std::string mesh_error(const std::string &name, const std::string &text, unsigned int refinements = 1)
  {
    MeshParameters mesh;
    mesh.domain             = MeshParameters::Domain::file;
    mesh.file               = write_file(scratch_directory("fuzz-regression-" + name) + "/" + name + ".msh", text);
    mesh.global_refinements = refinements;
    const auto start        = std::chrono::steady_clock::now();
    const std::string message = input_error_of([&]() {
      DGSpace<dim> space(mesh, DiscretizationParameters(), false, name + ".prm", MPI_COMM_WORLD);
      space.setup();
    });
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.) << name;
    EXPECT_NE(message.find(name + ".msh"), std::string::npos) << message;
    return message;
  }

  const std::string square_nodes = "$Nodes\n9\n1 -8 -8 0\n2 0 -8 0\n3 8 -8 0\n4 -8 0 0\n5 0 0 0\n6 8 0 0\n"
                                   "7 -8 8 0\n8 0 8 0\n9 8 8 0\n$EndNodes\n";
  const std::string format_2   = "$MeshFormat\n2.2 0 8\n$EndMeshFormat\n";
  const std::string format_41  = "$MeshFormat\n4.1 0 8\n$EndMeshFormat\n";
  const std::string nodes_41   = "$Nodes\n1 4 1 4\n2 1 0 4\n1\n2\n3\n4\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n$EndNodes\n";
} // namespace

// deal.II's reader took the counts of $Entities at their word: four billion
// curves read from a failed stream (minutes, then a crash); and a file that
// ended early looped forever looking for $EndPhysicalNames.
TEST(FuzzRegressions, GmshCountsFromTheFileNeitherHangNorAllocate)
{
  mesh_error<2>("entities", format_41 + "$Entities\n1 -8 -8 0 8 8 0 0 0\n$EndEntities\n" + nodes_41 +
                              "$Elements\n1 1 1 1\n2 1 3 1\n1 1 2 3 4\n$ENDELM\n");
  mesh_error<2>("physical-names", format_2 + "$PhysicalNames\n1\n2 1 \"domain\"\n");
  EXPECT_NE(mesh_error<2>("huge-count", format_2 + "$Nodes\n4000000000\n1 0 0 0\n$EndNodes\n")
              .find("more than the rest of the file can hold"),
            std::string::npos);
}

// deal.II's reader wrote past its vertex vector when the node blocks of a
// 4.1 file held more nodes than declared, and indexed past an array of four
// maps with an entity dimension of 7.
TEST(FuzzRegressions, GmshBlocksAndEntityDimensionsAreChecked)
{
  mesh_error<2>("blocks", format_41 + "$Nodes\n1 2 1 4\n2 1 0 4\n1\n2\n3\n4\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n"
                                      "$EndNodes\n$Elements\n1 1 1 1\n2 1 3 1\n1 1 2 3 4\n$EndElements\n");
  mesh_error<2>("entity-dimension", format_41 + nodes_41 + "$Elements\n1 1 1 1\n7 1 3 1\n1 1 2 3 4\n$EndElements\n");
}

// p4est aborts the process (SC_ABORT_NOT_REACHED in its 2:1 balance, at the
// first refinement) when one cell's edge is another's diagonal, or when cells
// that share an edge at a node also touch a third cell only at that node.
TEST(FuzzRegressions, GmshMeshesThatP4estCannotBalanceAreRefused)
{
  const std::string diagonal = format_2 + square_nodes +
                               "$Elements\n4\n1 3 2 0 1 1 2 5 4\n2 3 2 0 1 2 3 6 5\n3 3 2 0 1 4 5 8 7\n"
                               "4 3 2 0 1 4 6 9 8\n$EndElements\n";
  EXPECT_NE(mesh_error<2>("diagonal", diagonal).find("not one whole edge or face of both"), std::string::npos);
  const std::string pinched = format_2 + square_nodes +
                              "$Elements\n3\n1 3 2 0 1 1 2 5 4\n2 3 2 0 1 4 5 8 7\n3 3 2 0 1 5 6 9 3\n$EndElements\n";
  EXPECT_NE(mesh_error<2>("pinched", pinched).find("not connected through edges"), std::string::npos);
  // 3D: a 2 x 1 x 1 block and a cube that touches it only at its corner (2, 1, 1).
  std::string nodes = "$Nodes\n19\n";
  const int   xyz[19][3] = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {1, 1, 0}, {0, 0, 1}, {1, 0, 1}, {0, 1, 1},
                            {1, 1, 1}, {2, 0, 0}, {2, 1, 0}, {2, 0, 1}, {2, 1, 1}, {3, 1, 1}, {3, 2, 1},
                            {2, 2, 1}, {2, 1, 2}, {3, 1, 2}, {3, 2, 2}, {2, 2, 2}};
  for (int i = 0; i < 19; ++i)
    nodes += std::to_string(i + 1) + " " + std::to_string(xyz[i][0]) + " " + std::to_string(xyz[i][1]) + " " +
             std::to_string(xyz[i][2]) + "\n";
  nodes += "$EndNodes\n";
  const std::string pinched_3d = format_2 + nodes +
                                 "$Elements\n3\n1 5 2 0 1 1 2 4 3 5 6 8 7\n2 5 2 0 1 2 9 10 4 6 11 12 8\n"
                                 "3 5 2 0 1 12 13 14 15 16 17 18 19\n$EndElements\n";
  EXPECT_NE(mesh_error<3>("pinched-3d", pinched_3d).find("not connected through faces"), std::string::npos);
}

// Mesh/domain = file was refined 'global refinements' times before any size
// check: refinements = 20 on the 4 cells of meshes/square.msh allocated
// until the machine ran out of memory. The file's cells are now counted first.
TEST(FuzzRegressions, MeshFileSizeIsCheckedBeforeRefining)
{
  const Parameters p = read_parameters(source_path("tests/data/small-2d.prm"),
                                       {"Mesh/domain=file", "Mesh/file=" + source_path("meshes/square.msh"),
                                        "Mesh/global refinements=20"});
  const RunSize size = estimate_run_size(p);
  EXPECT_TRUE(size.known);
  EXPECT_EQ(size.cells, 4ull << 40);
  const std::string message = input_error_of([&]() { validate_run(p, MPI_COMM_WORLD, true); });
  EXPECT_NE(message.find("entries 'file' and 'global refinements'"), std::string::npos) << message;
  const Parameters small = read_parameters(source_path("tests/data/small-2d.prm"),
                                           {"Mesh/domain=file", "Mesh/file=" + source_path("meshes/square.msh")});
  EXPECT_EQ(validate_run(small, MPI_COMM_WORLD, true).cells, 4u);
}

// Mesh/subdivisions = 1e19 was converted to unsigned int (undefined; 0 here):
// a mesh without cells, and deal.II's ExcMessage escaped (exit code 1).
TEST(FuzzRegressions, SubdivisionsBeyondUnsignedAreInputErrors)
{
  for (const char *value : {"1e19", "4294967296", "2147483648"})
    {
      const std::string message = input_error_of([&]() {
        read_parameters(source_path("tests/data/small-2d.prm"), {std::string("Mesh/subdivisions=") + value});
      });
      EXPECT_NE(message.find("'subdivisions'"), std::string::npos) << message;
    }
  EXPECT_NO_THROW(read_parameters(source_path("tests/data/small-2d.prm"), {"Mesh/subdivisions=2147483647"}));
}

// A token time times 'import time scale' overflowed to inf: a snapshot at
// t = inf (and an earlier one at t = inf - inf = NaN in the statistics).
TEST(FuzzRegressions, TokenTimesStayFinite)
{
  const std::string dir  = scratch_directory("fuzz-regression-csv");
  const std::string file = write_file(dir + "/tokens.csv", "time,x\n0,1\n2147483647,0.5\n");
  EXPECT_EQ(particles::read_token_csv(file, 1, 1.).size(), 2u);
  EXPECT_THROW(particles::read_token_csv(file, 1, 1e300), std::invalid_argument);
  write_file(dir + "/layers/layer_1e300.csv", "x\n1\n");
  EXPECT_THROW(particles::read_token_csv(dir + "/layers/layer_*.csv", 1, 1e10), std::invalid_argument);
  EXPECT_EQ(particles::read_token_csv(dir + "/layers/layer_*.csv", 1, 1.).front().time, 1e300);
}

// `--set "=5"` (no entry name) took the last of no path parts: a segfault.
TEST(FuzzRegressions, OverrideWithoutAnEntryIsAnInputError)
{
  for (const char *assignment : {"=5", " = 5", "/=5", "Mesh/=5", "Mesh//subdivisions=2"})
    {
      const std::string message = input_error_of(
        [&]() { read_parameters(source_path("tests/data/small-2d.prm"), {assignment}); });
      EXPECT_NE(message.find("expected 'Subsection/entry=value'"), std::string::npos) << message;
    }
  // A newline in an argument was echoed into the message (input_error_of asserts one line).
  const std::string message = input_error_of(
    [&]() { read_parameters(source_path("tests/data/small-2d.prm"), {"Nope/subdivisions=2\n"}); });
  EXPECT_NE(message.find("Nope/subdivisions=2\\x0a"), std::string::npos) << message;
}

// K = (-3.8e-38, 1e308) with evaluation = fast: finite entries, infinite
// scores beta <Qx, Ky>; the fast summation then evaluated empty source boxes
// (a segfault in tpde validate). Entries of Q and K are bounded by 1e100.
TEST(FuzzRegressions, ScoresThatOverflowAreInputErrors)
{
  for (const std::vector<std::string> &set :
       {std::vector<std::string>{"Attention/Q=0.38, 0.92", "Attention/K=-0.384615384615385e-37, 1e308"},
        std::vector<std::string>{"Attention/Q=1e101, 0; 0, 1"}})
    {
      const std::string message =
        input_error_of([&]() { read_parameters(source_path("tests/data/small-2d.prm"), set); });
      EXPECT_NE(message.find("1e100"), std::string::npos) << message;
    }
  EXPECT_NO_THROW(read_parameters(source_path("tests/data/small-2d.prm"), {"Attention/K=1e50, 0; 0, 1"}));
}
