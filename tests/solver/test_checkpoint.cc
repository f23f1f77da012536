// Checkpoint files and the resume checks: the format round-trips, a damaged
// or foreign file is an input error naming it, only the newest `keep` files
// stay, a resume with changed physics is refused naming the entry, and the
// command line's --resume errors.
#include "checkpoint/checkpoint_file.h"
#include "checkpoint/run_state.h"
#include "common/errors.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace tpde;
using namespace tpde::testing;
namespace fs = std::filesystem;

namespace
{
  Checkpoint sample()
  {
    Checkpoint c;
    c.put("time", 0.25);
    c.put("density", {1., -2.5, 1e-300, 3.});
    c.put_count("step", 17);
    c.put_text("cells", "0:01\n0:02\n");
    return c;
  }

  std::string message_of_parse(const std::string &bytes)
  {
    try
      {
        Checkpoint::parse(bytes, "dir/checkpoint_000000017.tpde");
      }
    catch (const InputError &e)
      {
        return e.what();
      }
    return "";
  }

  std::string read_text(const std::string &file)
  {
    std::ifstream     in(file, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
} // namespace

TEST(CheckpointFile, RoundTripsEveryRecordExactly)
{
  const Checkpoint back = Checkpoint::parse(sample().serialize(), "x");
  EXPECT_EQ(back.number("time"), 0.25);
  EXPECT_EQ(back.numbers("density"), (std::vector<double>{1., -2.5, 1e-300, 3.}));
  EXPECT_EQ(back.count("step"), 17u);
  EXPECT_EQ(back.text("cells"), "0:01\n0:02\n");
  EXPECT_EQ(back.origin(), "x");
  EXPECT_FALSE(back.has("outflow"));
  EXPECT_THROW(back.number("outflow"), InputError);
}

TEST(CheckpointFile, DamageIsAnInputErrorNamingTheFile)
{
  const std::string bytes = sample().serialize();
  // Every truncation and every single flipped byte is recognised.
  for (std::size_t size = 0; size < bytes.size(); ++size)
    EXPECT_NE(message_of_parse(bytes.substr(0, size)).find("dir/checkpoint_000000017.tpde"), std::string::npos)
      << "truncated to " << size;
  for (std::size_t at = 0; at < bytes.size(); ++at)
    {
      std::string damaged = bytes;
      damaged[at] ^= 0x20;
      EXPECT_FALSE(message_of_parse(damaged).empty()) << "byte " << at;
    }
  EXPECT_NE(message_of_parse("hello world, not a checkpoint").find("not a tpde checkpoint"), std::string::npos);
  EXPECT_NE(message_of_parse(bytes + "x").find("damaged"), std::string::npos);
}

TEST(CheckpointFolder, KeepsTheNewestAndIgnoresTemporaryFiles)
{
  const std::string      dir = scratch_directory("checkpoint-folder");
  const CheckpointFolder folder(dir);
  EXPECT_THROW(folder.read_newest("f.prm: "), InputError); // none yet
  for (unsigned long step : {5ul, 40ul, 300ul, 1200ul})
    {
      Checkpoint c = sample();
      c.put_count("step", step);
      folder.write(step, c, 3);
    }
  write_file(dir + "/checkpoints/checkpoint_000009999.tpde.tmp", "half written");
  const auto files = folder.files();
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files.front().filename(), "checkpoint_000000040.tpde");
  EXPECT_EQ(files.back().filename(), "checkpoint_000001200.tpde");
  EXPECT_EQ(folder.read_newest("f.prm: ").count("step"), 1200u);
}

TEST(CheckpointParameters, OnlyFreeEntriesMayChange)
{
  const std::string then = "set dimension = 2\nsubsection Attention\n  set beta = 1\nend\nsubsection Output\n"
                           "  set directory = a\nend\nsubsection Time stepping\n  set end time = 1\n  set cfl = 0.5\nend\n";
  Checkpoint c;
  store_parameters(c, "grid", then);
  c = Checkpoint::parse(c.serialize(), "out/checkpoints/checkpoint_000000010.tpde");
  const std::vector<std::string> sections = {"Output", "Checkpoint"}, entries = {"Time stepping/end time"};
  std::string now = then;
  now.replace(now.find("directory = a"), 13, "directory = b");
  now.replace(now.find("end time = 1"), 12, "end time = 2");
  EXPECT_NO_THROW(check_same_parameters(c, "grid", now, "f.prm", sections, entries));
  try
    {
      std::string physics = then;
      physics.replace(physics.find("beta = 1"), 8, "beta = 2");
      check_same_parameters(c, "grid", physics, "f.prm", sections, entries);
      FAIL() << "a changed beta was accepted";
    }
  catch (const InputError &e)
    {
      EXPECT_NE(std::string(e.what()).find("'Attention/beta' was '1' in the checkpointed run, now '2'"),
                std::string::npos)
        << e.what();
    }
  EXPECT_THROW(check_same_parameters(c, "particles", then, "f.prm", sections, entries), InputError);
}

TEST(Resume, CommandLineErrorsAreOneLineWithExitCode2)
{
  const std::string dir = scratch_directory("resume-errors");
  const std::string prm = source_path("tests/data/small-2d.prm");
  const std::string run = "run " + prm + " --quiet --set \"Output/directory=" + dir + "/out\" --set \"Output/write vtu=false\" ";
  {
    const auto r = run_tpde(run + "--resume --overwrite");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("expected one of them"), std::string::npos) << r.output;
  }
  {
    const auto r = run_tpde(run + "--resume");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("no checkpoint to resume from"), std::string::npos) << r.output;
  }
  // A run with checkpoints, then resumes that must be refused.
  ASSERT_EQ(run_tpde(run + "--set \"Checkpoint/interval=0.05\" --set \"Time stepping/end time=0.1\"").exit_code, 0);
  {
    const auto r = run_tpde(run + "--resume --set \"Checkpoint/interval=0.05\" --set \"Attention/beta=2\"");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("'Attention/beta' was '1'"), std::string::npos) << r.output;
  }
  {
    const auto r = run_tpde(run + "--resume --set \"Checkpoint/interval=0.05\" --set \"Time stepping/end time=0.05\"");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("expected an end time after it"), std::string::npos) << r.output;
  }
  {
    const auto checkpoints = CheckpointFolder(dir + "/out").files();
    ASSERT_FALSE(checkpoints.empty());
    const std::string bytes = read_text(checkpoints.back().string());
    write_file(checkpoints.back().string(), bytes.substr(0, bytes.size() / 2));
    const auto statistics_before = read_text(dir + "/out/statistics.csv");
    const auto r = run_tpde(run + "--resume --set \"Time stepping/end time=0.2\"");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("damaged checkpoint"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(checkpoints.back().filename().string()), std::string::npos) << r.output;
    EXPECT_EQ(read_text(dir + "/out/statistics.csv"), statistics_before) << "a refused resume wrote";
  }
  {
    // A new run into the folder is refused (the checkpoints are part of the run) until --overwrite.
    const auto r = run_tpde(run);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    ASSERT_EQ(run_tpde(run + "--overwrite").exit_code, 0);
    EXPECT_FALSE(fs::exists(dir + "/out/checkpoints")) << "--overwrite left the old checkpoints";
  }
}

TEST(Resume, WallIntervalWritesCheckpointsAndKeepsTheNewest)
{
  const std::string dir = scratch_directory("resume-wall-interval");
  const auto        r   = run_tpde("run " + source_path("tests/data/small-2d.prm") + " --quiet --set \"Output/directory=" +
                           dir + "\" --set \"Output/write vtu=false\" --set \"Checkpoint/wall interval=1e-6\" "
                           "--set \"Checkpoint/keep=2\"");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Every step passes a wall interval of 60 us: the newest two checkpoints
  // remain, the last before the final step.
  const auto files = CheckpointFolder(dir).files();
  ASSERT_EQ(files.size(), 2u);
  const Table statistics = read_csv(dir + "/statistics.csv");
  const auto  last_step  = static_cast<unsigned long>(statistics.columns.at("step").back());
  const auto  newest     = CheckpointFolder(dir).read_newest("");
  EXPECT_EQ(newest.count("step"), last_step - 1);
}
