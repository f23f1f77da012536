// `Layers/weights file` in the solver (issue 15): the file gives exactly the
// parameters and the run of the equivalent '|' entries, the record of a run
// (parameters.prm) reads back, and every bad file stops `tpde` with exit code
// 2 and one line naming the parameter file, the weights file, the layer and
// the entry, before anything is written.
#include "support/input_errors.h"
#include "support/solver_runs.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  /// tests/data/small-2d.prm with `layers` as its Layers subsection and `attention` inside subsection Attention.
  std::string small_prm(const std::string &layers, const std::string &attention, const std::string &out_dir)
  {
    return "set dimension = 2\n"
           "subsection Mesh\n  set lower corner = -6\n  set upper corner = 6\n  set subdivisions = 8\n  set global refinements = 0\nend\n"
           "subsection Discretization\n  set degree = 2\nend\n"
           "subsection Layers\n" + layers + "end\n"
           "subsection Attention\n  set type = softmax\n" + attention + "end\n"
           "subsection Initial condition\n  set type = gaussian\n  set mean = 1, -0.5\n"
           "  set covariance = 1, 0.3; 0.3, 0.5\nend\n"
           "subsection Time stepping\n  set end time = 0.3\nend\n"
           "subsection Output\n  set directory = " + out_dir + "\n  set interval = 0.1\n  set write vtu = false\nend\n";
  }

  /// Three layers of softmax weights; `layer3_V` and `layer3_rest` replace the last layer's V and what follows
  /// it (bad files).
  std::string weights_json(const std::string &layer3_V = "[[-1.5, 0], [0, -0.3]]",
                           const std::string &layer3_rest = ", \"beta\": 1")
  {
    return "{\"format\": \"tpde-weights\", \"version\": 1, \"model dimension\": 2,\n"
           " \"layers\": [\n"
           "  {\"attention\": {\"Q\": [[1, 0], [0, 1]], \"K\": [[0.5, 0], [0, 0.5]], \"V\": [[-1, 0], [0, -1]], "
           "\"beta\": 1}},\n"
           "  {\"attention\": {\"Q\": [[1, 0.5], [0, 1]], \"K\": [[0.5, 0], [0, 0.5]], \"V\": [[0.3, -1], [1, 0.3]], "
           "\"beta\": 0.5}},\n"
           "  {\"attention\": {\"Q\": [[1, 0], [0, 1]], \"K\": [[0.5, 0], [0, 0.5]], \"V\": " + layer3_V +
           layer3_rest + "}}\n ]}\n";
  }

  const std::string bar_entries = "  set beta = 1 | 0.5 | 1\n  set Q = 1, 0; 0, 1 | 1, 0.5; 0, 1 | 1, 0; 0, 1\n"
                                  "  set K = 0.5, 0; 0, 0.5\n  set V = -1, 0; 0, -1 | 0.3, -1; 1, 0.3 | -1.5, 0; 0, -0.3\n";

} // namespace

TEST(WeightsFile, GivesTheParametersAndTheRunOfBarEntries)
{
  const auto dir = scratch_directory("weights-file-equivalent");
  write_file(dir + "/data/w.json", weights_json());
  const Parameters bar  = parse_parameters(small_prm("  set count = 3\n  set duration = 0.1\n", bar_entries, dir + "/a"),
                                           dir + "/bar.prm");
  const Parameters file = parse_parameters(
    small_prm("  set weights file = data/w.json\n  set duration = 0.1\n", "", dir + "/b"), dir + "/file.prm");
  ASSERT_EQ(file.layers.count, 3u);
  ASSERT_EQ(file.layers.attention.size(), 3u);
  for (unsigned int l = 0; l < 3; ++l)
    {
      const auto &a = bar.layers.attention[l], &b = file.layers.attention[l];
      EXPECT_EQ(a.beta, b.beta) << l;
      EXPECT_EQ(a.Q.data, b.Q.data) << l;
      EXPECT_EQ(a.K.data, b.K.data) << l;
      EXPECT_EQ(a.V.data, b.V.data) << l;
    }

  // The record of the run names the file and holds its values; it reads back to the same layers.
  EXPECT_NE(file.as_prm.find(std::filesystem::absolute(dir + "/data/w.json").string()), std::string::npos);
  const Parameters again = parse_parameters(file.as_prm, dir + "/parameters.prm");
  for (unsigned int l = 0; l < 3; ++l)
    EXPECT_EQ(again.layers.attention[l].V.data, file.layers.attention[l].V.data);

  // The same run to the last bit: every moment and reference column at t = 0.3 (three layers).
  const RunSummary run_bar = run_without_output(bar), run_file = run_without_output(file);
  ASSERT_EQ(run_bar.header, run_file.header);
  unsigned int compared = 0;
  for (const std::string &name : run_bar.header)
    if (name.rfind("mean_", 0) == 0 || name.rfind("cov_", 0) == 0 || name.rfind("ref_", 0) == 0 || name == "mass")
      {
        EXPECT_EQ(column(run_bar.header, run_bar.last_row, name), column(run_file.header, run_file.last_row, name))
          << name;
        ++compared;
      }
  EXPECT_GE(compared, 10u);
  EXPECT_EQ(run_bar.steps, run_file.steps);
  std::printf("t = %.3g after %lu steps, cov_00 %.10g (ref %.10g) with the weights file and with '|' entries\n",
              run_file.time, static_cast<unsigned long>(run_file.steps),
              column(run_file.header, run_file.last_row, "cov_00"), column(run_file.header, run_file.last_row, "ref_cov_00"));
}

TEST(WeightsFile, CarriesFeedForwardBlocksProjected)
{
  // An MLP per layer in a model of width D = 3, projected on the first two coordinates: W1 P^T, b1, P W2, P b2.
  const auto dir = scratch_directory("weights-file-feed-forward");
  write_file(dir + "/w.json",
             "{\"format\": \"tpde-weights\", \"version\": 1, \"model dimension\": 3,\n"
             " \"projection\": [[1, 0, 0], [0, 1, 0]],\n"
             " \"layers\": [\n"
             "  {\"attention\": {\"Q\": [[1, 0, 0], [0, 1, 0]], \"K\": [[0.5, 0, 0], [0, 0.5, 0]], \"V\": [[-1, 0, 0], [0, -1, 0], [0, 0, 1]]},\n"
             "   \"feed-forward\": {\"W1\": [[1, 2, 3]], \"b1\": [0.5], \"W2\": [[1], [-1], [7]], \"b2\": [0.1, 0.2, 0.3]}},\n"
             "  {\"attention\": {\"Q\": [[1, 0, 0], [0, 1, 0]], \"K\": [[0.5, 0, 0], [0, 0.5, 0]], \"V\": [[0, -1, 0], [1, 0, 0], [0, 0, 1]]},\n"
             "   \"feed-forward\": {\"W1\": [[0, 1, 0]], \"b1\": [-0.5], \"W2\": [[2], [0], [0]], \"b2\": [0, 0, 9]}}\n"
             " ]}\n");
  const Parameters p = parse_parameters(small_prm("  set weights file = w.json\n  set duration = 0.1\n", "", dir + "/out") +
                                          "subsection Feed-forward\n  set type = mlp\n  set activation = tanh\nend\n",
                                        dir + "/case.prm");
  ASSERT_EQ(p.layers.feed_forward.blocks.size(), 2u);
  const auto &first = p.layers.feed_forward.blocks[0], &second = p.layers.feed_forward.blocks[1];
  EXPECT_EQ(first.W1.data, (std::vector<double>{1, 2}));
  EXPECT_EQ(first.b1, (std::vector<double>{0.5}));
  EXPECT_EQ(first.W2.data, (std::vector<double>{1, -1}));
  EXPECT_EQ(first.b2, (std::vector<double>{0.1, 0.2}));
  EXPECT_EQ(second.W1.data, (std::vector<double>{0, 1}));
  EXPECT_EQ(second.W2.data, (std::vector<double>{2, 0}));
  EXPECT_EQ(second.b2, (std::vector<double>{0, 0}));
}

struct BadWeights
{
  std::string name;
  std::string json;      // the weights file
  std::string layers;    // extra lines of subsection Layers
  std::string attention; // lines of subsection Attention
  std::string expected;  // in the message, after the parameter file's name
};

class BadWeightsFile : public ::testing::TestWithParam<BadWeights>
{};

TEST_P(BadWeightsFile, ExitCode2OneLineNamingFileLayerAndEntry)
{
  const BadWeights &c       = GetParam();
  const auto        dir     = scratch_directory("bad-weights-" + c.name);
  const std::string out_dir = dir + "/out";
  if (!c.json.empty())
    write_file(dir + "/w.json", c.json);
  const std::string prm =
    write_file(dir + "/case.prm", small_prm("  set weights file = w.json\n" + c.layers, c.attention, out_dir));
  for (const std::string mode : {"--validate", "run"})
    {
      const auto result = run_tpde(mode + " " + prm + " --quiet");
      SCOPED_TRACE(mode + ": " + result.output);
      EXPECT_EQ(input_error_problem(result, "case.prm", "w.json"), "") << "naming the parameter and weights files";
      EXPECT_EQ(input_error_problem(result, "case.prm", c.expected), "");
      EXPECT_FALSE(std::filesystem::exists(out_dir)) << "nothing may be written";
    }
}

INSTANTIATE_TEST_SUITE_P(
  Table,
  BadWeightsFile,
  ::testing::Values(
    BadWeights{"nan", weights_json("[[-1.5, 0], [0, NaN]]"), "", "",
               "w.json: layer 3 of 3, 'attention/V' (line 5, column 89): expected a finite number, got nan"},
    BadWeights{"wrong_shape", weights_json("[[-1.5, 0, 0], [0, -0.3, 0]]"), "", "",
               "layer 3 of 3, 'attention/V' (line 5, column 73): expected a 2 x 2 matrix (model dimension 2), got 2 x 3"},
    BadWeights{"unknown_key", weights_json("[[-1.5, 0], [0, -0.3]]", ", \"beta\": 1, \"temperature\": 2"), "", "",
               "layer 3 of 3, 'attention/temperature' (line 5, column 123): unknown key"},
    BadWeights{"missing_value", weights_json("[[-1.5, 0], [0, -0.3]]", ""), "", "",
               "layer 3 of 3 (line 5, column 3): missing 'attention/beta' (layer 1 of 3, 'attention/beta' at line 3"},
    BadWeights{"bad_json", weights_json().substr(0, 60), "", "", "w.json: line 1, column 61: expected a value, got the end of the file"},
    BadWeights{"missing_file", "", "", "", "entry 'weights file': weights file 'w.json' does not exist"},
    BadWeights{"count_conflict", weights_json(), "  set count = 2\n", "",
               "subsection 'Layers', entry 'count': expected 3 (the layers of the weights file 'w.json') or no count, got 2"},
    BadWeights{"set_twice", weights_json(), "", "  set V = -1, 0; 0, -1\n",
               "entry 'Attention/V' is set both in the parameter file and by the weights file"}),
  [](const ::testing::TestParamInfo<BadWeights> &info) { return info.param.name; });
