// The defaults of `subsection Mesh refinement` are the settings a careful user
// would choose: with `adaptive = true` alone (the file's Mesh refinement
// subsection reduced to that line), a run reaches the accuracy of the
// settings tuned by hand, within 10x of their errors (moments against the
// exact Gaussian, and the L1 density error), at about their number of cells.
// Cases: the shipped 1D collapse and 2D line (parameters/*adaptive*.prm) and
// two of our own with a refined initial mesh (tests/data/*adaptive*.prm: a 2D
// isotropizing Gaussian and the 1D blow-up T2), 2D cut short. The old defaults
// (combined indicator, fractions 0.3/0.3, maximum level 10, no initial
// refinement) fail the 1D collapse by orders of magnitude.
// The clusters (no exact solution) and the 3D example are measured in the
// commit that chose the defaults, not here (minutes per run).
#include "support/solver_runs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

using namespace tpde;
using namespace tpde::testing;

namespace
{
  /// The file's text with its `subsection Mesh refinement` reduced to
  /// `set adaptive = true`: every other entry takes its default.
  std::string with_refinement_defaults(const std::string &prm_file)
  {
    std::ifstream      in(source_path(prm_file));
    std::ostringstream out;
    std::string        line;
    bool               inside = false, found = false;
    const std::regex   begin(R"(^\s*subsection\s+Mesh refinement\s*$)"), end(R"(^\s*end\s*$)");
    while (std::getline(in, line))
      {
        if (std::regex_match(line, begin))
          {
            inside = found = true;
            out << line << "\n  set adaptive = true\n";
            continue;
          }
        if (inside && std::regex_match(line, end))
          inside = false;
        if (!inside)
          out << line << "\n";
      }
    EXPECT_TRUE(found) << prm_file << " has no Mesh refinement subsection";
    return out.str();
  }

  /// The defaults before they were chosen (commit 74eab50).
  const std::vector<std::string> old_defaults = {
    "Mesh refinement/indicator=combined",      "Mesh refinement/strategy=fraction",
    "Mesh refinement/refine threshold=1e-6",   "Mesh refinement/coarsen threshold=1e-8",
    "Mesh refinement/minimum level=0",         "Mesh refinement/maximum level=10",
    "Mesh refinement/initial refinements=0"};

  struct Outcome
  {
    double moments = 0; // relative_moment_error
    double l1      = 0; // err_l1
    double cells   = 0; // at the end
    double seconds = 0;
  };

  Outcome run(const std::string &label, const Parameters &p)
  {
    const RunSummary s = run_without_output(p);
    Outcome          o{relative_moment_error(s, p.dimension), column(s.header, s.last_row, "err_l1"),
                       column(s.header, s.last_row, "cells"), s.wall_seconds};
    std::printf("  %-28s t = %-5g %6lu steps %6g cells (levels %g..%g)  moments %.2e  L1 %.2e  %.1f s\n",
                label.c_str(), s.time, s.steps, o.cells, column(s.header, s.last_row, "min_level"),
                column(s.header, s.last_row, "max_level"), o.moments, o.l1, o.seconds);
    std::fflush(stdout);
    return o;
  }

  Outcome run_tuned(const std::string &prm_file, std::vector<std::string> overrides)
  {
    return run("tuned", parameters_from(prm_file, std::move(overrides)));
  }

  Outcome run_defaults(const std::string &prm_file, std::vector<std::string> overrides,
                       const std::string &label = "adaptive = true alone")
  {
    overrides.push_back("Output/write vtu=false");
    return run(label, parse_parameters(with_refinement_defaults(prm_file), source_path(prm_file), overrides));
  }

  /// The defaults' errors within 10x of the tuned ones, at most 2x the cells.
  void expect_as_accurate(const Outcome &tuned, const Outcome &defaults)
  {
    EXPECT_LE(defaults.moments, 10 * tuned.moments);
    EXPECT_LE(defaults.l1, 10 * tuned.l1);
    EXPECT_LE(defaults.cells, 2 * tuned.cells);
  }
} // namespace

// T1 to t = 10 (collapse-1d-adaptive.prm): tuned 1.7e-7 (variance). The old
// defaults are 7.8e-3 off at t = 10 (the issue: "around 1e-3") and about 1
// off at t = 0.5, where their mesh has already reached level 10 (most of
// their cost), so they run to t = 0.5 only.
TEST(RefinementDefaults, Collapse1D)
{
  const std::string prm = "parameters/collapse-1d-adaptive.prm";
  std::printf("%s\n", prm.c_str());
  const Outcome tuned    = run_tuned(prm, {});
  const Outcome defaults = run_defaults(prm, {});
  expect_as_accurate(tuned, defaults);

  const std::vector<std::string> short_run = {"Time stepping/end time=0.5"};
  const Outcome tuned_short = run_tuned(prm, short_run);
  auto          old         = short_run;
  old.insert(old.end(), old_defaults.begin(), old_defaults.end());
  const Outcome old_short = run_defaults(prm, old, "old defaults");
  EXPECT_GT(old_short.moments, 1000 * tuned_short.moments);
  EXPECT_GT(old_short.l1, 10 * tuned_short.l1);
}

// T2 to t = 1 on a refined initial mesh (tests/data/blowup-1d-adaptive.prm):
// the automatic minimum level keeps the tail at width 0.25.
TEST(RefinementDefaults, Blowup1D)
{
  const std::string prm = "tests/data/blowup-1d-adaptive.prm";
  std::printf("%s\n", prm.c_str());
  const Outcome tuned = run_tuned(prm, {});
  expect_as_accurate(tuned, run_defaults(prm, {}));
}

// T8 (line-2d-adaptive.prm) to t = 0.25 of 10.
TEST(RefinementDefaults, Line2D)
{
  const std::string              prm = "parameters/line-2d-adaptive.prm";
  const std::vector<std::string> cut = {"Time stepping/end time=0.25"};
  std::printf("%s\n", prm.c_str());
  const Outcome tuned = run_tuned(prm, cut);
  expect_as_accurate(tuned, run_defaults(prm, cut));
}

// T6 on 4 x 4 coarse cells with one global refinement
// (tests/data/isotropize-2d-adaptive.prm) to t = 0.25 of 1.
TEST(RefinementDefaults, Isotropize2D)
{
  const std::string              prm = "tests/data/isotropize-2d-adaptive.prm";
  const std::vector<std::string> cut = {"Time stepping/end time=0.25"};
  std::printf("%s\n", prm.c_str());
  const Outcome tuned = run_tuned(prm, cut);
  expect_as_accurate(tuned, run_defaults(prm, cut));
}

// The automatic entries resolve as documented (and as the tuned examples).
TEST(RefinementDefaults, AutomaticValues)
{
  const auto refinement = [](const std::string &file, std::vector<std::string> overrides = {}) {
    return parse_parameters(with_refinement_defaults(file), source_path(file), overrides).refinement;
  };
  struct Expected
  {
    std::string  file;
    double       refine;
    unsigned int minimum, maximum;
  };
  for (const Expected &e : std::vector<Expected>{{"parameters/collapse-1d-adaptive.prm", 1e-8, 0, 5},
                                                 {"parameters/line-2d-adaptive.prm", 1e-5, 0, 3},
                                                 {"parameters/clusters-2d-adaptive.prm", 1e-5, 0, 3},
                                                 {"parameters/isotropize-3d-adaptive.prm", 1e-3, 0, 3},
                                                 {"tests/data/blowup-1d-adaptive.prm", 1e-8, 3, 5},
                                                 {"tests/data/isotropize-2d-adaptive.prm", 1e-5, 1, 3}})
    {
      SCOPED_TRACE(e.file);
      const auto r = refinement(e.file);
      EXPECT_TRUE(r.adaptive);
      EXPECT_EQ(r.indicator, MeshRefinementParameters::Indicator::attention);
      EXPECT_EQ(r.strategy, MeshRefinementParameters::Strategy::threshold);
      EXPECT_EQ(r.interval, 5u);
      EXPECT_EQ(r.initial_refinements, 10u);
      EXPECT_DOUBLE_EQ(r.refine_threshold, e.refine);
      EXPECT_DOUBLE_EQ(r.coarsen_threshold, e.refine / 100);
      EXPECT_EQ(r.minimum_level, e.minimum);
      EXPECT_EQ(r.maximum_level, e.maximum);
    }
  // A fine initial mesh is never coarsened, and its level is the least maximum.
  const std::string collapse = "parameters/collapse-1d-adaptive.prm";
  auto r = refinement(collapse, {"Mesh/global refinements=6"});
  EXPECT_EQ(r.minimum_level, 6u);
  EXPECT_EQ(r.maximum_level, 6u);
  r = refinement(collapse, {"Mesh/subdivisions=3"}); // 3 * 2^6 >= 160
  EXPECT_EQ(r.maximum_level, 6u);
  r = refinement(collapse, {"Mesh refinement/minimum level=7"});
  EXPECT_EQ(r.maximum_level, 7u);
  r = refinement(collapse, {"Mesh/global refinements=4", "Mesh refinement/maximum level=2"});
  EXPECT_EQ(r.minimum_level, 2u);
  r = refinement(collapse, {"Mesh refinement/refine threshold=1e-4"});
  EXPECT_DOUBLE_EQ(r.coarsen_threshold, 1e-6);
  // The values used are recorded in parameters.prm.
  const auto p = parse_parameters(with_refinement_defaults(collapse), source_path(collapse));
  EXPECT_NE(p.as_prm.find("set maximum level       = 5"), std::string::npos) << p.as_prm;
  EXPECT_NE(p.as_prm.find("set refine threshold    = 1e-08"), std::string::npos) << p.as_prm;
  // Anything else than a number or 'automatic' is an input error naming the entry.
  for (const std::string entry : {"refine threshold", "coarsen threshold", "minimum level", "maximum level"})
    for (const std::string value : {"auto", "-1", "nan"})
      try
        {
          refinement(collapse, {"Mesh refinement/" + entry + "=" + value});
          ADD_FAILURE() << entry << " = " << value << " was accepted";
        }
      catch (const InputError &e)
        {
          EXPECT_NE(std::string(e.what()).find("entry '" + entry + "': expected"), std::string::npos) << e.what();
        }
  EXPECT_THROW(refinement(collapse, {"Mesh refinement/maximum level=2.5"}), InputError);
}
