// The reliability guards, one table row each: the command line, input
// guards (exit 2, one message, nothing written), the output folder's
// previous run, and the physical guards (exit 3, the run stops quickly and
// keeps its output).
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace tpde::testing;
namespace fs = std::filesystem;

namespace
{
  std::string small_prm() { return source_path("tests/data/small-2d.prm"); }

  std::string read_text(const std::string &file)
  {
    std::ifstream     in(file);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  struct Case
  {
    std::string name;
    std::string arguments; // after `tpde`; FILE: a case file written from `file_text`, OUT: the output folder
    std::string file_text; // "" : no case file
    int         exit_code;
    std::string expected; // substring of the output
  };

  std::string replace_all(std::string text, const std::string &from, const std::string &to)
  {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
    return text;
  }

} // namespace

class InputGuards : public ::testing::TestWithParam<Case>
{};

TEST_P(InputGuards, ExitCodeMessageAndNothingWritten)
{
  const Case       &c   = GetParam();
  const std::string dir = scratch_directory("input-guards-" + c.name);
  const std::string out = dir + "/out";
  std::string       arguments = replace_all(c.arguments, "OUT", out);
  if (!c.file_text.empty())
    arguments = replace_all(arguments, "FILE", write_file(dir + "/case.prm", c.file_text));
  const auto result = run_tpde(arguments);
  SCOPED_TRACE(arguments + "\n" + result.output);
  EXPECT_EQ(result.exit_code, c.exit_code);
  EXPECT_NE(result.output.find(c.expected), std::string::npos) << "expected '" << c.expected << "'";
  EXPECT_EQ(result.output.find("Stacktrace"), std::string::npos);
  if (c.exit_code == 2)
    {
      EXPECT_FALSE(fs::exists(out)) << "nothing may be written";
    }
}

INSTANTIATE_TEST_SUITE_P(
  Table,
  InputGuards,
  ::testing::Values(
    Case{"no_arguments", "", "", 2, "no command given"},
    Case{"unknown_command", "runn " + small_prm(), "", 2, "unknown command 'runn'"},
    Case{"unknown_command_usage", "runn " + small_prm(), "", 2, "usage: tpde run FILE.prm"},
    Case{"print_parameters_foo", "--print-parameters foo", "", 2, "'foo': expected prm or json"},
    Case{"help_exit_codes", "--help", "", 0, "3  physical failure"},
    Case{"help_paths", "--help", "", 0, "relative to the folder of the parameter file"},
    Case{"help_overwrite", "--help", "", 0, "--overwrite"},
    Case{"help_components", "--help", "", 0, "Attention/type"},
    Case{"empty_file", "run FILE --set Output/directory=OUT", "# only a comment\n\n   \n", 2,
         "got no 'set' line"},
    Case{"folder_as_file", "run " TPDE_SOURCE_DIR "/tests --set Output/directory=OUT", "", 2,
         "expected a parameter file, got a folder"},
    Case{"entry_set_twice", "run FILE --set Output/directory=OUT",
         "subsection Attention\n  set beta = 1\n  # again\n  set beta = 2\nend\n", 2,
         "entry 'Attention/beta' is set twice (lines 2 and 4)"},
    Case{"entry_set_twice_in_two_blocks", "run FILE --set Output/directory=OUT",
         "subsection Time stepping\n  set cfl = 0.5\nend\nsubsection Output\nend\nsubsection Time stepping\n"
         "  set cfl = 0.4\nend\n", 2, "'Time stepping/cfl' is set twice (lines 2 and 7)"},
    // deal.II reads tabs as spaces and upper-case keywords: the same entry
    // in two subsections is not set twice, the same one in one is.
    Case{"same_entry_two_subsections_tabs", "validate FILE --set Output/directory=OUT",
         "subsection\tOutput\n  set interval = 0.1\nend\nSUBSECTION Mesh refinement\n  SET interval = 5\nEND\n", 0,
         "valid"},
    Case{"entry_set_twice_upper_case", "run FILE --set Output/directory=OUT",
         "SUBSECTION Attention\n  SET beta = 1\n  set beta = 2\nEND\n", 2,
         "entry 'Attention/beta' is set twice (lines 2 and 3)"},
    Case{"masked_kernel_masked", "run FILE --set Output/directory=OUT",
         "set dimension = 1\nsubsection Attention\n  set type = masked\n  set masked kernel = masked\nend\n", 2,
         "entry 'masked kernel'"},
    Case{"negative_expression", "run FILE --set Output/directory=OUT",
         "set dimension = 1\nsubsection Attention\n  set Q = 1\n  set K = 1\n  set V = 1\nend\n"
         "subsection Initial condition\n  set type = expression\n  set expression = exp(-x^2) - 0.01\nend\n", 2,
         "entry 'expression': expected a density >= 0 on the mesh, got -0.01"},
    Case{"negative_expression_validate", "validate FILE --set Output/directory=OUT",
         "set dimension = 1\nsubsection Attention\n  set Q = 1\n  set K = 1\n  set V = 1\nend\n"
         "subsection Initial condition\n  set type = expression\n  set expression = x\nend\n", 2,
         "entry 'expression': expected a density >= 0"},
    Case{"too_many_cells", "run " + small_prm() + " --set Output/directory=OUT --set \"Mesh refinement/maximum cells=50\"",
         "", 2, "the mesh has 64 cells, more than 'Mesh refinement/maximum cells' = 50"},
    Case{"out_of_memory", "run " + small_prm() + " --set Output/directory=OUT --set \"Mesh/global refinements=12\"", "",
         2, "expected a run that fits in memory: 1073741824 cells"},
    Case{"validate_prints_size", "validate " + small_prm() + " --set Output/directory=OUT", "", 0,
         "cells 64, DoFs 576, memory estimate"},
    Case{"validate_prints_folder", "validate " + small_prm() + " --set Output/directory=OUT", "", 0,
         "output folder"}),
  [](const ::testing::TestParamInfo<Case> &info) { return info.param.name; });

TEST(OutputFolder, PreviousRunIsRefusedUnlessOverwriteWhichRemovesExactlyItsFiles)
{
  const std::string dir  = scratch_directory("input-guards-previous-run") + "/out";
  const std::string base = "run " + small_prm() + " --quiet --set Output/directory=" + dir;
  ASSERT_EQ(run_tpde(base + " --set Output/interval=0.05").exit_code, 0);
  ASSERT_TRUE(fs::exists(dir + "/solution_00004.vtu"));
  write_file(dir + "/notes.txt", "mine\n");
  write_file(dir + "/particles/statistics.csv", "step\n");
  const auto again = run_tpde(base);
  EXPECT_EQ(again.exit_code, 2) << again.output;
  EXPECT_NE(again.output.find("holds the files of a previous run"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("--overwrite"), std::string::npos) << again.output;
  EXPECT_TRUE(fs::exists(dir + "/solution_00004.vtu")) << "a refused run removes nothing";
  const auto validate = run_tpde("validate " + small_prm() + " --set Output/directory=" + dir);
  EXPECT_EQ(validate.exit_code, 2) << validate.output;

  const auto overwrite = run_tpde(base + " --overwrite");
  EXPECT_EQ(overwrite.exit_code, 0) << overwrite.output;
  EXPECT_FALSE(fs::exists(dir + "/solution_00004.vtu")) << "no stale solution files";
  EXPECT_TRUE(fs::exists(dir + "/particles/statistics.csv")) << "a particle run beside it is its own run";
  EXPECT_TRUE(fs::exists(dir + "/solution_00002.vtu"));
  EXPECT_EQ(read_text(dir + "/notes.txt"), "mine\n") << "other files are kept";
}

TEST(OutputFolder, ParticleRunRefusesAPreviousParticleRun)
{
  const std::string dir  = scratch_directory("input-guards-previous-particles") + "/out";
  const std::string base = "particles " + small_prm() + " --quiet --set Output/directory=" + dir +
                           " --set \"Particles/number of tokens=50\" --set \"Time stepping/end time=0.02\"";
  ASSERT_EQ(run_tpde(base).exit_code, 0);
  const auto again = run_tpde(base);
  EXPECT_EQ(again.exit_code, 2) << again.output;
  EXPECT_NE(again.output.find("entry 'directory'"), std::string::npos) << again.output;
  EXPECT_EQ(run_tpde(base + " --overwrite").exit_code, 0);
}

namespace
{
  struct Failure
  {
    std::string name;
    std::string file; // relative to the source folder
    std::string sets;
    std::string expected;
    std::size_t max_rows;
    double      end_time;
  };

  // 1D unnormalized attention, beta = 1, V = 5: the velocity blows up.
  const std::string unnormalized = " --set dimension=1 --set Attention/type=unnormalized --set Attention/beta=1"
                                   " --set Attention/V=5 --set Attention/Q=1 --set Attention/K=1";
  const std::string small_1d = unnormalized + " --set \"Initial condition/mean=0\""
                                              " --set \"Initial condition/covariance=1\" --set Mesh/subdivisions=20";
} // namespace

class PhysicalGuards : public ::testing::TestWithParam<Failure>
{};

TEST_P(PhysicalGuards, StopQuicklyWithExitCode3AndKeepTheOutput)
{
  const Failure    &c      = GetParam();
  const std::string dir    = scratch_directory("input-guards-" + c.name);
  const auto        result = run_tpde("run " + source_path(c.file) + " --quiet --set \"Output/write vtu=false\" "
                                      "--set Output/directory=" + dir + "/out" + c.sets);
  SCOPED_TRACE(result.output);
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_NE(result.output.find(c.expected), std::string::npos) << "expected '" << c.expected << "'";
  const Table stats = read_csv(dir + "/out/statistics.csv");
  ASSERT_GE(stats.rows(), 2u);
  EXPECT_LT(stats.rows(), c.max_rows) << "the run must stop quickly";
  const auto last = [&](const char *name) { return stats.columns.at(name).back(); };
  EXPECT_NEAR(last("mass") + last("outflow"), 1., 1e-12);
  EXPECT_LT(last("time"), c.end_time) << "stopped before the end time";
  if (c.name == "mass_left")
    {
      EXPECT_LT(last("mass"), 1e-3);
      EXPECT_GE(stats.columns.at("mass")[stats.rows() - 2], 1e-3) << "stops at the first row below";
      EXPECT_NE(result.output.find("warning: the mass left in the domain"), std::string::npos);
    }
  else if (c.name == "step_budget")
    EXPECT_EQ(last("step"), 30.);
  else
    EXPECT_LT(last("dt"), 1e-6) << "the step had collapsed";
}

INSTANTIATE_TEST_SUITE_P(
  Table,
  PhysicalGuards,
  ::testing::Values(
    // The step is ~1e-10 from the start: 100 steps project beyond the budget.
    Failure{"unnormalized_projected_budget", "tests/data/small-2d.prm", small_1d,
            "more than Time stepping/maximum steps = 1000000", 110, 0.2},
    // dt falls from 2.1e-4 to 2e-8 by t = 0.0195; without a budget the shrink rule stops it.
    Failure{"unnormalized_step_shrink", "parameters/gaussian-1d-blowup.prm",
            " --set Attention/type=unnormalized --set Attention/V=5 --set \"Time stepping/maximum steps=0\""
            " --set \"Time stepping/step shrink=1e-4\"",
            "the time step stayed below 0.0001 of the first step's", 700, 1.},
    Failure{"step_budget", "tests/data/small-2d.prm", small_1d + " --set \"Time stepping/maximum steps=30\"",
            "the step budget (Time stepping/maximum steps = 30) is spent", 32, 0.2},
    // V = 3 I spreads the Gaussian out of the box [-6, 6]^2.
    Failure{"mass_left", "tests/data/small-2d.prm", " --set \"Attention/V=3, 0; 0, 3\" --set \"Time stepping/end time=5\"",
            "below Time stepping/minimum mass = 0.001", 200, 5.}),
  [](const ::testing::TestParamInfo<Failure> &info) { return info.param.name; });
