// Every kind of bad input gets exit code 2, one line naming the file, the
// entry and what was expected, and leaves nothing behind.
#include "support/input_errors.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

using namespace tpde::testing;

namespace
{
  std::string base_prm()
  {
    std::ifstream     in(source_path("tests/data/small-2d.prm"));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  /// Replaces the line `set <entry> = ...` (first occurrence) by `replacement`.
  std::string with_line(const std::string &prm, const std::string &entry, const std::string &replacement)
  {
    const std::regex line("set " + entry + " *=[^\n]*");
    std::string      out = std::regex_replace(prm, line, replacement, std::regex_constants::format_first_only);
    if (out == prm)
      throw std::runtime_error("no entry " + entry);
    return out;
  }

  /// "Subsection/entry" of every `set` line of `text` (subsections tracked).
  std::vector<std::string> entries_set_in(const std::string &text)
  {
    std::vector<std::string> keys, path;
    std::istringstream       in(text);
    std::string              line;
    while (std::getline(in, line))
      {
        const auto first = line.find_first_not_of(' ');
        line             = first == std::string::npos ? "" : line.substr(first);
        if (line.rfind("subsection ", 0) == 0)
          path.push_back(line.substr(11));
        else if (line == "end" && !path.empty())
          path.pop_back();
        else if (line.rfind("set ", 0) == 0)
          {
            std::string key;
            for (const auto &section : path)
              key += section + "/";
            const auto eq = line.find('=');
            std::string entry = line.substr(4, eq - 4);
            entry.erase(entry.find_last_not_of(' ') + 1);
            keys.push_back(key + entry);
          }
      }
    return keys;
  }

  /// `prm` without the `set` lines of entries that `appended` sets again (an
  /// entry set twice is an input error of its own).
  std::string without_entries_of(const std::string &prm, const std::string &appended)
  {
    const auto               again = entries_set_in(appended);
    std::vector<std::string> path;
    std::istringstream       in(prm);
    std::string              line, out;
    while (std::getline(in, line))
      {
        const auto keys = entries_set_in(line);
        std::string trimmed = line.substr(std::min(line.size(), line.find_first_not_of(' ')));
        if (trimmed.rfind("subsection ", 0) == 0)
          path.push_back(trimmed.substr(11));
        else if (trimmed == "end" && !path.empty())
          path.pop_back();
        std::string prefix;
        for (const auto &section : path)
          prefix += section + "/";
        if (keys.size() == 1 && std::find(again.begin(), again.end(), prefix + keys[0]) != again.end())
          continue;
        out += line + "\n";
      }
    return out;
  }

  struct Case
  {
    std::string name;
    std::string entry;       // entry to replace ("" = append `replacement` to the file)
    std::string replacement; // the new line
    std::string expected;    // substring of the message
  };

} // namespace

class BadInput : public ::testing::TestWithParam<Case>
{};

TEST_P(BadInput, ExitCode2OneLineNothingWritten)
{
  const Case &c   = GetParam();
  const auto  dir = scratch_directory("bad-input-" + c.name);
  std::string prm = base_prm();
  const std::string out_dir = dir + "/out";
  prm = with_line(prm, "directory", "set directory = " + out_dir);
  if (c.entry.empty())
    prm = without_entries_of(prm, c.replacement) + "\n" + c.replacement + "\n";
  else
    prm = with_line(prm, c.entry, c.replacement);
  const std::string file = write_file(dir + "/case.prm", prm);

  for (const std::string mode : {"--validate", "run"})
    {
      const auto result = run_tpde(mode + " " + file + " --quiet");
      SCOPED_TRACE(mode + ": " + result.output);
      EXPECT_EQ(input_error_problem(result, "case.prm", c.expected), "");
      EXPECT_FALSE(std::filesystem::exists(out_dir)) << "nothing may be written";
    }
}

INSTANTIATE_TEST_SUITE_P(
  Table,
  BadInput,
  ::testing::Values(
    Case{"unknown_entry", "", "subsection Attention\n  set temperature = 2\nend", "name <temperature>"},
    Case{"unknown_subsection_entry", "", "set colour = red", "name <colour>"},
    Case{"malformed_number", "beta", "set beta = 1.x", "entry 'beta': expected a number, got '1.x'"},
    Case{"beta_overflowing_scores", "beta", "set beta = -1e308",
         "entry 'beta': expected |beta| max|Q| max|K| <= 1e100 (larger scores overflow), got beta = -1e308"},
    Case{"malformed_vector", "mean", "set mean = 1, abc", "entry 'mean'"},
    Case{"wrong_vector_length", "mean", "set mean = 1, 2, 3", "expected 2 numbers"},
    Case{"malformed_matrix", "Q", "set Q = 1, 0; 0", "entry 'Q'"},
    Case{"matrix_not_number", "V", "set V = 1, 0; 0, x", "'x' is not a number"},
    Case{"Q_wrong_columns", "Q", "set Q = 1, 0, 0; 0, 1, 0", "Q must be k x 2"},
    Case{"K_shape_differs_from_Q", "K", "set K = 1, 0", "K must have the same shape as Q"},
    Case{"V_not_square", "V", "set V = 1, 0; 0, 1; 1, 1", "V must be 2 x 2"},
    Case{"covariance_not_symmetric", "covariance", "set covariance = 1, 0.5; 0, 1", "symmetric positive definite"},
    Case{"covariance_not_positive", "covariance", "set covariance = 1, 2; 2, 1", "symmetric positive definite"},
    Case{"covariance_wrong_shape", "covariance", "set covariance = 1", "2 x 2"},
    Case{"degree_too_high", "degree", "set degree = 7", "entry named degree"},
    Case{"degree_zero", "degree", "set degree = 0", "entry named degree"},
    Case{"negative_end_time", "end time", "set end time = -1", "entry 'end time'"},
    Case{"zero_end_time", "end time", "set end time = 0", "entry 'end time'"},
    Case{"dimension_out_of_range", "dimension", "set dimension = 4", "entry named dimension"},
    Case{"zero_cfl", "", "subsection Time stepping\n  set cfl = 0\nend", "entry 'cfl'"},
    Case{"unknown_attention_type", "type", "set type = cosine", "entry named type"},
    Case{"multihead_head_count", "", "subsection Attention\n  set type = multihead\n  set heads = 2\n"
         "  set head Q = 1, 0 | 0, 1 | 1, 1\nend", "entry 'head Q': expected 2 items separated by '|'"},
    Case{"multihead_K_shape", "", "subsection Attention\n  set type = multihead\n  set heads = 2\n"
         "  set head Q = 1, 0 | 0, 1\n  set head K = 1, 0 | 0, 1; 1, 0\nend",
         "entry 'head K': head 2 must have the shape of its Q (1 x 2), got 2 x 2"},
    Case{"multihead_C_not_square", "", "subsection Attention\n  set type = multihead\n  set heads = 2\n"
         "  set head C = 1, 0; 0, 1 | 1, 0\nend", "entry 'head C': head 2 must be 2 x 2, got 1 x 2"},
    Case{"multihead_beta_not_number", "", "subsection Attention\n  set type = multihead\n  set heads = 2\n"
         "  set head beta = 1 | x\nend", "entry 'head beta'"},
    Case{"sinkhorn_epsilon_zero", "", "subsection Attention\n  set type = sinkhorn\n  set sinkhorn epsilon = 0\nend",
         "entry 'sinkhorn epsilon': expected a finite number > 0"},
    // subsection Layers: per-layer values separated by '|' (heads' lists: layers by '||')
    Case{"layers_wrong_count", "", "subsection Layers\n  set count = 3\nend\nsubsection Attention\n  set beta = 1 | 2\nend",
         "subsection 'Attention', entry 'beta': expected 1 or 3 values separated by '|' (one per layer, Layers/count = "
         "3), got 2"},
    Case{"layers_bar_with_one_layer", "", "subsection Attention\n  set beta = 1 | 2\nend",
         "entry 'beta': expected one value (Layers/count = 1), got 2"},
    Case{"layers_bad_number", "", "subsection Layers\n  set count = 2\nend\nsubsection Attention\n  set beta = 1 | x\nend",
         "subsection 'Attention', layer 2 of 2, entry 'beta': expected a number, got 'x'"},
    Case{"layers_bad_matrix", "", "subsection Layers\n  set count = 2\nend\nsubsection Attention\n"
         "  set V = -1, 0; 0, -1 | 1, 0; 0, x\nend", "layer 2 of 2, entry 'V': expected a matrix"},
    Case{"layers_bad_shape", "", "subsection Layers\n  set count = 3\nend\nsubsection Attention\n"
         "  set Q = 1, 0; 0, 1 | 1, 0; 0, 1 | 1, 0, 0; 0, 1, 0\nend", "subsection 'Attention', layer 3 of 3: Q must be k x 2"},
    Case{"layers_heads_below_one", "", "subsection Layers\n  set count = 2\nend\nsubsection Attention\n"
         "  set type = multihead\n  set heads = 1 | 0\nend", "layer 2 of 2, entry 'heads': expected a whole number in [1"},
    Case{"layers_head_lists", "", "subsection Layers\n  set count = 2\nend\nsubsection Attention\n"
         "  set type = multihead\n  set heads = 2\n  set head beta = 1 | 2 || 1 | 2 | 3\nend",
         "layer 2 of 2, entry 'head beta': expected 2 items separated by '|'"},
    Case{"layers_zero_duration", "", "subsection Layers\n  set count = 2\n  set duration = 0\nend",
         "subsection 'Layers', entry 'duration': expected a positive duration of each layer with count = 2, got 0"},
    Case{"layers_zero_count", "", "subsection Layers\n  set count = 0\nend", "entry named count"},
    // subsection Feed-forward: shapes against d = 2 and h (W1's rows), activations, per-layer values
    Case{"feed_forward_W1_shape", "", "subsection Feed-forward\n  set type = mlp\n  set W1 = 1, 0, 0\n  set W2 = 1; 1\nend",
         "subsection 'Feed-forward', entry 'W1': expected an h x 2 matrix (h hidden units, d = 2 columns), got 1 x 3"},
    Case{"feed_forward_W2_shape", "", "subsection Feed-forward\n  set type = mlp\n  set W1 = 1, 0; 0, 1; 1, 1\n"
         "  set W2 = 1, 0; 0, 1\nend", "entry 'W2': expected a 2 x 3 matrix (d rows, h = 3 columns as W1 has rows)"},
    Case{"feed_forward_unknown_activation", "", "subsection Feed-forward\n  set type = mlp\n  set W1 = 1, 0\n"
         "  set W2 = 1; 1\n  set activation = sigmoid\nend", "entry 'activation': expected one of relu|gelu|tanh"},
    Case{"feed_forward_missing_W1", "", "subsection Feed-forward\n  set type = mlp\nend",
         "entry 'W1': expected a matrix of shape h x 2 (rows separated by ';') for type = mlp, got nothing"},
    Case{"feed_forward_layer_shape", "", "subsection Layers\n  set count = 2\nend\nsubsection Feed-forward\n"
         "  set type = affine\n  set A = 1, 0; 0, 1 | 1, 0\nend",
         "subsection 'Feed-forward', layer 2 of 2, entry 'A': expected a 2 x 2 matrix (d = 2), got 1 x 2"},
    Case{"feed_forward_scale_without_block", "", "subsection Feed-forward\n  set residual scale = 2\nend",
         "entry 'residual scale': expected 1 with type = none (no block), got 2"},
    Case{"unknown_evaluation", "", "subsection Attention\n  set evaluation = fastest\nend",
         "entry 'evaluation': expected one of direct|fast|auto, got 'fastest'"},
    Case{"zero_tolerance", "", "subsection Attention\n  set tolerance = 0\nend",
         "entry 'tolerance': expected a positive number, got '0'"},
    Case{"missing_mesh_file", "", "subsection Mesh\n  set domain = file\n  set file = no-such-mesh.msh\nend",
         "no-such-mesh.msh"},
    // Root may write anywhere, so make the folder impossible: its parent is a file.
    Case{"unwritable_output", "directory", "set directory = " TPDE_SOURCE_DIR "/README.md/out", "entry 'directory'"},
    Case{"refinement_thresholds_reversed", "",
         "subsection Mesh refinement\n  set strategy = threshold\n  set refine threshold = 1e-8\n"
         "  set coarsen threshold = 1e-6\nend",
         "entry 'coarsen threshold': expected a value below the refine threshold"},
    Case{"negative_negligible_density", "", "subsection Time stepping\n  set negligible density = -1\nend",
         "entry named negligible density"},
    Case{"corner_order", "upper corner", "set upper corner = -7", "entry 'upper corner'"},
    Case{"bad_expression", "", "subsection Initial condition\n  set type = expression\n  set expression = exp(-x^2 +\nend",
         "entry 'expression'"},
    Case{"masked_kernel_sinkhorn", "", "subsection Attention\n  set type = masked\n  set masked kernel = sinkhorn\nend",
         "entry 'masked kernel': expected one of softmax"},
    Case{"masked_adaptive", "", "subsection Attention\n  set type = masked\nend\nsubsection Mesh refinement\n"
         "  set adaptive = true\nend", "entry 'adaptive': expected false with Attention/type = masked"},
    Case{"masked_dimension_3", "", "set dimension = 3\nsubsection Attention\n  set type = masked\nend",
         "entry 'dimension': masked attention supports d = 1 or 2"},
    Case{"masked_mesh_file", "", "subsection Attention\n  set type = masked\nend\nsubsection Mesh\n  set domain = file\n"
         "  set file = " TPDE_SOURCE_DIR "/meshes/square.msh\nend", "entry 'domain': masked attention needs domain = box"},
    Case{"masked_slice_outside", "", "subsection Attention\n  set type = masked\nend\nsubsection Masked attention\n"
         "  set slices = 0.5, 1.5\nend", "entry 'slices': expected positions s in [0, 1]"},
    Case{"masked_upper_data_needs_gaussian", "", "subsection Attention\n  set type = masked\nend\n"
         "subsection Initial condition\n  set type = box\nend\nsubsection Masked attention\n  set upper data from = 0.5\nend",
         "entry 'upper data from': expected 1 (no upper data) unless"},
    Case{"masked_upper_covariance_shape", "", "subsection Attention\n  set type = masked\nend\n"
         "subsection Masked attention\n  set upper data from = 0.5\n  set upper covariance = 1\nend",
         "entry 'upper covariance': expected a 2 x 2 covariance"},
    Case{"masked_upper_data_from_inside_cell", "", "subsection Attention\n  set type = masked\nend\n"
         "subsection Masked attention\n  set upper data from = 0.3\nend",
         "entry 'upper data from': expected a boundary between cells along s (a multiple of 1/2 here)"},
    Case{"masked_upper_data_from_zero", "", "subsection Attention\n  set type = masked\nend\n"
         "subsection Masked attention\n  set upper data from = 0\nend", "entry 'upper data from': expected a position s in (0, 1]"},
    Case{"negative_diffusion", "", "subsection Noise\n  set diffusion = -0.5\nend", "named diffusion"},
    Case{"diffusion_with_masked", "", "subsection Attention\n  set type = masked\nend\nsubsection Noise\n  set diffusion = 0.1\nend",
         "subsection 'Noise', entry 'diffusion': 0 with Attention/type = masked"}),
  [](const ::testing::TestParamInfo<Case> &info) { return info.param.name; });

TEST(BadInput, MissingParameterFile)
{
  const auto result = run_tpde("run /nonexistent/file.prm --quiet");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("/nonexistent/file.prm"), std::string::npos) << result.output;
}

TEST(BadInput, UnknownCommandLineOption)
{
  const auto result = run_tpde("--frobnicate");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("--frobnicate"), std::string::npos) << result.output;
}

TEST(BadInput, BadOverride)
{
  const auto result = run_tpde("--validate " + source_path("tests/data/small-2d.prm") +
                               " --set Attention/beta=abc");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("beta"), std::string::npos) << result.output;
}

TEST(CommandLine, ValidateAcceptsGoodFileAndWritesNothing)
{
  const auto dir    = scratch_directory("validate-good");
  const auto result = run_tpde("--validate " + source_path("tests/data/small-2d.prm") +
                               " --set Output/directory=" + dir + "/out");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_FALSE(std::filesystem::exists(dir + "/out"));
}

TEST(CommandLine, PrintParametersListsEveryEntryWithDocumentation)
{
  const auto prm = run_tpde("--print-parameters prm");
  EXPECT_EQ(prm.exit_code, 0);
  for (const char *entry : {"dimension", "lower corner", "global refinements", "degree", "beta", "set Q",
                            "covariance", "end time", "cfl", "scheme", "directory", "interval"})
    EXPECT_NE(prm.output.find(entry), std::string::npos) << entry;
  EXPECT_NE(prm.output.find("Zhang-Shu"), std::string::npos) << "documentation is printed";
  const auto json = run_tpde("--print-parameters json");
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_NE(json.output.find("\"default_value\""), std::string::npos);
  EXPECT_NE(json.output.find("\"documentation\""), std::string::npos);
}

TEST(CommandLine, VersionNamesDealIIRanksThreadsAndSimd)
{
  const auto v = run_tpde("--version");
  EXPECT_EQ(v.exit_code, 0);
  for (const char *word : {"tpde", "deal.II 9.4", "MPI ranks", "threads", "SIMD"})
    EXPECT_NE(v.output.find(word), std::string::npos) << word;
}

// A process bound to one core (mpirun's default binding of a rank) runs one
// thread, not as many as the node has cores.
TEST(CommandLine, ThreadsFollowTheBoundCores)
{
  const auto v = run_command("taskset -c 0 " + std::string(TPDE_EXECUTABLE) + " --version");
  ASSERT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("threads per rank 1 (cores this rank may run on: 1)"), std::string::npos) << v.output;
}
