// Fuzz test of the three readers of user files: the .prm reader
// (parse_parameters, then the run-size check and, for small meshes, the
// checks of `tpde validate`), the token CSV reader (read_token_csv) and the
// gmsh reader (build_mesh through DGSpace, the triangulation a run uses).
//
// Every case is a seeded, deterministic mutation of a shipped valid file
// (parameters/**.prm, tests/data/small-2d.prm, meshes/*.msh and the files in
// tests/fuzz/corpus/): byte flips, insertions and deletions, truncation,
// duplicated, deleted, swapped and repeated lines, numbers replaced by huge,
// tiny, NaN, negative or garbage values, lines spliced from another file and,
// for .prm files, an entry set to such a value. A case passes if the reader
// succeeds or throws its input-error type (InputError; the CSV reader's
// std::invalid_argument, which `tpde particles` turns into an InputError)
// with a one-line message. Any other exception fails the test with the seed
// and the input; a crash, an abort (std::terminate) or a sanitizer report
// prints them before the process dies; a case over the time limit is a hang.
//
//   TPDE_FUZZ_SCALE=10 fuzz_test_readers       ten times the cases
//   TPDE_FUZZ_SEED=prm:1234 fuzz_test_readers  that one case (kinds prm, csv, msh, exe)
//   TPDE_FUZZ_VERBOSE=1 fuzz_test_readers      every case's outcome (the input error's message)
#include "fuzz/fuzz_support.h"
#include "dg/dg_space.h"
#include "parameters/parameters.h"
#include "particles/token_csv.h"
#include "run/run_size.h"
#include "run/simulation.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

using namespace tpde;
using namespace tpde::fuzz;
using tpde::testing::scratch_directory;
using tpde::testing::source_path;
using tpde::testing::write_file;
namespace fs = std::filesystem;

namespace
{
  constexpr std::chrono::seconds case_time_limit(20); // per case; the slowest valid case takes < 1 s

  struct SeedFile
  {
    std::string path; // where the text came from: relative paths in it resolve from here
    std::string text;
    unsigned int dim = 0; // meshes: the dimension of their cells
  };

  std::vector<SeedFile> files_in(const std::vector<std::string> &folders, const std::string &extension)
  {
    std::vector<SeedFile> seeds;
    for (const auto &folder : folders)
      for (const auto &entry : fs::directory_iterator(source_path(folder)))
        if (entry.path().extension() == extension)
          seeds.push_back({entry.path().string(), read_text(entry.path().string())});
    std::sort(seeds.begin(), seeds.end(), [](const SeedFile &a, const SeedFile &b) { return a.path < b.path; });
    return seeds;
  }

  std::vector<std::string> texts_of(const std::vector<SeedFile> &seeds)
  {
    std::vector<std::string> texts;
    for (const auto &s : seeds)
      texts.push_back(s.text);
    return texts;
  }

  bool is_input_error(const std::exception &e)
  {
    return dynamic_cast<const InputError *>(&e) != nullptr;
  }

  bool is_csv_error(const std::exception &e)
  {
    return dynamic_cast<const std::invalid_argument *>(&e) != nullptr;
  }

  /// Failures of one fuzz test, reported together at its end.
  struct Failures
  {
    std::string  kind;
    std::size_t  count = 0;
    std::string  report;
    void add(std::uint64_t seed, const Outcome &o, const std::string &input, const std::vector<std::string> &log)
    {
      ++count;
      if (count > 5)
        return;
      std::ostringstream s;
      s << "\n--- " << kind << " seed " << seed << " (reproduce: TPDE_FUZZ_SEED=" << kind << ":" << seed
        << "): " << o.message.substr(0, 3000) << "\nmutations:";
      for (const auto &step : log)
        s << " [" << step << "]";
      s << "\ninput:\n" << escaped(input.substr(0, 4000)) << (input.size() > 4000 ? "\n(... cut)" : "") << "\n";
      report += s.str();
    }
  };

  /// Cases per outcome, printed so that a run shows what it covered.
  struct Tally
  {
    std::map<std::string, std::size_t> counts;
    void add(const std::string &what) { ++counts[what]; }
    std::string str() const
    {
      std::string out;
      for (const auto &[what, n] : counts)
        out += (out.empty() ? "" : ", ") + what + " " + std::to_string(n);
      return out;
    }
  };

  // ------------------------------------------------------------------ prm

  /// Every declared "Subsection/entry" (and "dimension"), from the handler.
  std::vector<std::pair<std::string, std::string>> declared_entries()
  {
    dealii::ParameterHandler prm;
    declare_parameters(prm);
    std::ostringstream out;
    prm.print_parameters(out, dealii::ParameterHandler::ShortPRM);
    std::vector<std::pair<std::string, std::string>> entries;
    std::string                                      section;
    for (const auto &line : split_lines(out.str()))
      {
        const std::string t = dealii::Utilities::trim(line);
        if (t.rfind("subsection ", 0) == 0)
          section = t.substr(11);
        else if (t == "end")
          section.clear();
        else if (t.rfind("set ", 0) == 0)
          entries.emplace_back(section, dealii::Utilities::trim(t.substr(4, t.find('=') - 4)));
      }
    return entries;
  }

  /// Values the seed files give each entry ("Subsection/entry" -> values).
  std::map<std::string, std::vector<std::string>> values_in(const std::vector<SeedFile> &seeds)
  {
    std::map<std::string, std::set<std::string>> found;
    for (const auto &seed : seeds)
      {
        std::string section;
        for (const auto &line : split_lines(seed.text))
          {
            const std::string t = dealii::Utilities::trim(line.substr(0, line.find('#')));
            if (t.rfind("subsection ", 0) == 0)
              section = t.substr(11);
            else if (t == "end")
              section.clear();
            else if (t.rfind("set ", 0) == 0 && t.find('=') != std::string::npos)
              found[section + "/" + dealii::Utilities::trim(t.substr(4, t.find('=') - 4))].insert(
                dealii::Utilities::trim(t.substr(t.find('=') + 1)));
          }
      }
    std::map<std::string, std::vector<std::string>> values;
    for (const auto &[key, set] : found)
      values[key] = std::vector<std::string>(set.begin(), set.end());
    return values;
  }

  /// Words for entries of every kind: component names, formulas, matrices, paths.
  const std::vector<std::string> &prm_words()
  {
    static const std::vector<std::string> words = {
      "softmax", "multihead", "l2", "sinkhorn", "sigmoid", "unnormalized", "masked", "box", "file", "gaussian",
      "mixture", "expression", "uniform", "true", "false", "yes", "x", "exp(-x^2)", "exp(-x^2-y^2)", "1/x",
      "sqrt(-x)", "log(x)", "x^", "((x", "exp(1000*x)", "-x", "0*x", "s*x", "y", "x+y+z", "sin(", "1, 0; 0, 1",
      "1, 0, 0; 0, 1, 0; 0, 0, 1", "0, 0; 0, 0", "1, 2; 2, 1", "1e308, 0; 0, 1e308", "1; 2", "1, 0; 0", ";;",
      "nan, 0; 0, 1", "jump", "mass", "combined", "attention", "fraction", "threshold", "ssp-rk3", "ssp-rk2",
      "forward-euler", "rk4", "random", "quasi-random", "double", "float", "direct", "fast", "auto", "a=1, b=2",
      "=1", "a=", "pi=3", "0.25, 0.75", "1, 0.5, 0", "0.5, 1, 1; 0.5, -1, 1", "../meshes/square.msh",
      "/nonexistent.msh", "/dev/null", "/", ".", "meshes", "../tests/fuzz/corpus/cube-3d.msh",
      "../tests/fuzz/corpus/line-1d.msh", "../../meshes/square.msh", std::string(3000, 'x'), "1, 2, 3, 4, 5"};
    return words;
  }

  /// `text` with `Subsection/entry` set to `value`: its `set` line replaced,
  /// or a new subsection block appended.
  std::string with_entry(const std::string &text, const std::string &section, const std::string &entry,
                         const std::string &value)
  {
    auto        lines = split_lines(text);
    std::string current;
    for (auto &line : lines)
      {
        const std::string t = dealii::Utilities::trim(line);
        if (t.rfind("subsection ", 0) == 0)
          current = dealii::Utilities::trim(t.substr(11));
        else if (t == "end")
          current.clear();
        else if (current == section && t.rfind("set ", 0) == 0 &&
                 dealii::Utilities::trim(t.substr(4, t.find('=') - 4)) == entry)
          {
            line = "  set " + entry + " = " + value;
            return join_lines(lines);
          }
      }
    std::string block = "set " + entry + " = " + value + "\n";
    if (!section.empty())
      block = "subsection " + section + "\n  " + block + "end\n";
    return join_lines(lines) + block;
  }

  struct PrmCorpus
  {
    std::vector<SeedFile>                            seeds = files_in({"parameters", "parameters/paper", "tests/data"}, ".prm");
    std::vector<std::string>                         texts = texts_of(seeds);
    std::vector<std::pair<std::string, std::string>> entries = declared_entries();
    std::map<std::string, std::vector<std::string>>  seen    = values_in(seeds);
  };

  const PrmCorpus &prm_corpus()
  {
    static const PrmCorpus corpus;
    return corpus;
  }

  /// A mutated parameter file and the seed file it came from.
  std::pair<std::string, const SeedFile *> mutated_prm(Mutator &m)
  {
    const PrmCorpus &c    = prm_corpus();
    const SeedFile  &seed = m.pick(c.seeds);
    std::string      text = seed.text;
    const bool       set_entries = m.chance(0.6);
    if (set_entries)
      for (std::size_t n = 1 + m.below(3); n > 0; --n)
        {
          const auto &[section, entry] = m.pick(c.entries);
          const auto  seen  = c.seen.find(section + "/" + entry);
          std::string value = seen != c.seen.end() && m.chance(0.4) ? m.pick(seen->second) :
                              m.chance(0.5)                          ? m.pick(interesting_values()) :
                                                                       m.pick(prm_words());
          m.note("set " + section + "/" + entry + " = '" + escaped(value.substr(0, 60)) + "'");
          text = with_entry(text, section, entry, value);
        }
    if (!set_entries || m.chance(0.3))
      text = m.mutate(text, c.texts, interesting_values());
    return {text, &seed};
  }

  /// Command-line overrides (`--set`): well-formed ones from the entries and
  /// values of the file mutations, and malformed ones.
  std::vector<std::string> mutated_overrides(Mutator &m)
  {
    static const std::vector<std::string> malformed = {
      "=5", " = ", "=", "", "/=1", "Mesh/=1", "//=1", "Mesh//subdivisions=2", "Mesh/subdivisions",
      "Mesh/subdivisions==2", "Mesh/subdivisions=", "Nope/entry=1", "dimension=", "Mesh/lower corner/x=1",
      "/Mesh/subdivisions=2", "Mesh /  subdivisions = 3", "mesh/subdivisions=2", "Mesh/subdivisions=2\n"};
    std::vector<std::string> overrides;
    for (std::size_t n = 1 + m.below(2); n > 0; --n)
      {
        std::string o;
        if (m.chance(0.4))
          o = m.pick(malformed);
        else
          {
            const auto &[section, entry] = m.pick(prm_corpus().entries);
            o = (section.empty() ? "" : section + "/") + entry + "=" +
                (m.chance(0.5) ? m.pick(interesting_values()) : m.pick(prm_words()));
          }
        if (m.chance(0.2))
          o = m.flip_byte(o);
        m.note("--set '" + escaped(o.substr(0, 80)) + "'");
        overrides.push_back(o);
      }
    return overrides;
  }

  /// What `tpde validate` checks, in-process: parsing, the size estimate and,
  /// for small meshes (at most a few thousand cells; never a huge one), the
  /// mesh, the DoFs, the kernel and the initial data. Returns a word for the tally.
  std::string validate_prm(const std::string &text, const std::string &name,
                           const std::vector<std::string> &overrides = {})
  {
    const Parameters p    = parse_parameters(text, name, overrides);
    const RunSize    size = estimate_run_size(p);
    check_run_size(p, size);
    if (!size.known || size.cells > 4096 || size.dofs > 40000)
      return "parsed (mesh too large to build here)";
    validate_run(p, MPI_COMM_WORLD, true);
    return "validated";
  }

  // ------------------------------------------------------------------ csv

  struct CsvCorpus
  {
    std::vector<SeedFile>    seeds = files_in({"tests/fuzz/corpus"}, ".csv");
    std::vector<std::string> texts = texts_of(seeds);
  };

  const CsvCorpus &csv_corpus()
  {
    static const CsvCorpus corpus;
    return corpus;
  }

  /// The reader's promises on success: at least one time, finite and
  /// increasing times, a positive whole number of finite tokens each.
  void check_snapshots(const std::vector<particles::TokenSnapshot> &snapshots, unsigned int dim)
  {
    if (snapshots.empty())
      throw std::logic_error("success without a snapshot");
    for (std::size_t k = 0; k < snapshots.size(); ++k)
      {
        const auto &s = snapshots[k];
        if (!std::isfinite(s.time) || (k > 0 && !(s.time > snapshots[k - 1].time)))
          throw std::logic_error("snapshot " + std::to_string(k) + ": time " + std::to_string(s.time) +
                                 " is not finite or not increasing");
        if (s.positions.empty() || s.positions.size() % dim != 0)
          throw std::logic_error("snapshot " + std::to_string(k) + ": " + std::to_string(s.positions.size()) +
                                 " coordinates for dimension " + std::to_string(dim));
        for (double x : s.positions)
          if (!std::isfinite(x))
            throw std::logic_error("snapshot " + std::to_string(k) + ": a coordinate is not finite");
      }
  }

  // ------------------------------------------------------------------ msh

  struct MshCorpus
  {
    std::vector<SeedFile> seeds;
    std::vector<std::string> texts;
    MshCorpus()
    {
      seeds = files_in({"meshes", "tests/fuzz/corpus"}, ".msh");
      for (auto &s : seeds)
        {
          // From the file's name only: the folder of a clone may contain "1d" (mktemp's /tmp/tmp.1dq...).
          const std::string name = std::filesystem::path(s.path).filename().string();
          s.dim = name.find("1d") != std::string::npos ? 1 : name.find("3d") != std::string::npos ? 3 : 2;
        }
      texts = texts_of(seeds);
    }
  };

  const MshCorpus &msh_corpus()
  {
    static const MshCorpus corpus;
    return corpus;
  }

  /// Topology and geometry mutations that keep the syntax: in a line of
  /// numbers, one becomes a small whole number (another node of an element,
  /// a moved coordinate) or two swap places (a cell's node order).
  std::string mutate_numbers_of_line(Mutator &m, const std::string &text)
  {
    auto                     lines = split_lines(text);
    std::vector<std::size_t> numeric;
    for (std::size_t i = 0; i < lines.size(); ++i)
      if (!lines[i].empty() && lines[i].find_first_not_of("0123456789.-+e ") == std::string::npos &&
          lines[i].find(' ') != std::string::npos)
        numeric.push_back(i);
    if (numeric.empty())
      return text;
    const std::size_t        at = m.pick(numeric);
    std::istringstream       in(lines[at]);
    std::vector<std::string> words{std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
    const std::size_t        a = m.below(words.size()), b = m.below(words.size());
    if (m.chance(0.5))
      std::swap(words[a], words[b]);
    else
      words[a] = std::to_string(m.below(30));
    m.note("line " + std::to_string(at + 1) + " -> '" + lines[at] + "'");
    lines[at].clear();
    for (const auto &w : words)
      lines[at] += (lines[at].empty() ? "" : " ") + w;
    m.note("  became '" + lines[at] + "'");
    return join_lines(lines);
  }

  /// Reads `file` as a gmsh mesh into the triangulation a run uses
  /// (distributed in 2D/3D, shared in 1D) and sets up the DG space on it.
  std::string read_mesh(const std::string &file, unsigned int dim, unsigned int refinements)
  {
    MeshParameters mesh;
    mesh.domain             = MeshParameters::Domain::file;
    mesh.file               = file;
    mesh.global_refinements = refinements;
    DiscretizationParameters discretization;
    discretization.degree = 1;
    const auto build      = [&](auto dimension) {
      constexpr int d = decltype(dimension)::value;
      DGSpace<d>    space(mesh, discretization, false, "fuzz.prm", MPI_COMM_WORLD);
      space.setup();
      return space.triangulation->n_global_active_cells();
    };
    const auto cells = dim == 1 ? build(std::integral_constant<int, 1>()) :
                       dim == 2 ? build(std::integral_constant<int, 2>()) :
                                  build(std::integral_constant<int, 3>());
    return cells > 0 ? "read" : "read (no cells)";
  }

  /// A prepared case: the mutated input (for the report) and what reads it,
  /// returning a word for the tally.
  struct Case
  {
    std::string                  input;
    std::function<std::string()> read;
  };

  /// One fuzz test: `cases` seeds from `first_seed`; `make_case` mutates,
  /// `accepted` is the reader's input-error type.
  void run_fuzz(const std::string &kind, std::uint64_t first_seed, std::size_t cases,
            const std::function<Case(Mutator &)> &make_case, bool (*accepted)(const std::exception &))
  {
    CaseGuard::install(case_time_limit);
    Failures failures{kind, 0, {}};
    Tally    tally;
    const auto start = std::chrono::steady_clock::now();
    const auto seeds = seeds_for(kind, first_seed, cases);
    const bool verbose = std::getenv("TPDE_FUZZ_VERBOSE") != nullptr; // every case's outcome
    for (const std::uint64_t seed : seeds)
      {
        Mutator         m(seed);
        const Case      c = make_case(m);
        std::string     word;
        const CaseGuard guard(kind, seed, c.input);
        const Outcome   o = classify([&]() { word = c.read(); }, accepted);
        if (o.kind == Outcome::Kind::wrong_exception)
          failures.add(seed, o, c.input, m.log());
        if (verbose)
          std::printf("%s %llu: %s\n", kind.c_str(), static_cast<unsigned long long>(seed),
                      o.kind == Outcome::Kind::success ? word.c_str() : o.message.c_str());
        tally.add(o.kind == Outcome::Kind::success ? word :
                  o.kind == Outcome::Kind::input_error ? "input error" : "FAILED");
      }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s: %zu cases in %.1f s: %s\n", kind.c_str(), seeds.size(), seconds, tally.str().c_str());
    EXPECT_EQ(failures.count, 0u) << failures.count << " of " << seeds.size() << " " << kind
                                  << " cases ended in neither success nor an input error:" << failures.report;
  }
} // namespace

// The harness can fail: valid files pass, broken ones are input errors, and
// an exception of another type is a failure.
TEST(FuzzReaders, SelfCheck)
{
  for (const auto &seed : prm_corpus().seeds)
    EXPECT_NO_THROW(parse_parameters(seed.text, seed.path)) << seed.path;
  EXPECT_GE(prm_corpus().seeds.size(), 20u);
  EXPECT_GE(prm_corpus().entries.size(), 60u);
  EXPECT_EQ(classify([]() { validate_prm(read_text(source_path("tests/data/small-2d.prm")), "small.prm"); },
                     is_input_error).kind,
            Outcome::Kind::success);
  EXPECT_EQ(classify([]() { parse_parameters("set dimension = 4\n", "bad.prm"); }, is_input_error).kind,
            Outcome::Kind::input_error);
  EXPECT_EQ(classify([]() { throw std::runtime_error("not an input error"); }, is_input_error).kind,
            Outcome::Kind::wrong_exception);
  EXPECT_EQ(classify([]() { throw InputError("two\nlines"); }, is_input_error).kind, Outcome::Kind::wrong_exception);

  const std::string dir = scratch_directory("fuzz-self-check");
  for (const auto &seed : csv_corpus().seeds)
    for (unsigned int dim = 1; dim <= 3; ++dim)
      EXPECT_NO_THROW(check_snapshots(particles::read_token_csv(seed.path, dim), dim)) << seed.path;
  const std::string bad_csv = write_file(dir + "/bad.csv", "x,y\n1,2\n3\n");
  EXPECT_EQ(classify([&]() { particles::read_token_csv(bad_csv, 2); }, is_csv_error).kind,
            Outcome::Kind::input_error);

  for (const auto &seed : msh_corpus().seeds)
    EXPECT_EQ(read_mesh(seed.path, seed.dim, 1), "read") << seed.path;
  EXPECT_EQ(msh_corpus().seeds.size(), 7u);
  const std::string bad_msh = write_file(dir + "/bad.msh", "$MeshFormat\n2.2 0 8\n$EndMeshFormat\n$Nodes\n");
  EXPECT_EQ(classify([&]() { read_mesh(bad_msh, 2, 0); }, is_input_error).kind, Outcome::Kind::input_error);

  // Mutations are deterministic.
  Mutator a(7), b(7);
  const std::string text = prm_corpus().texts.front();
  EXPECT_EQ(a.mutate(text, prm_corpus().texts, interesting_values(), 8),
            b.mutate(text, prm_corpus().texts, interesting_values(), 8));
}

TEST(FuzzReaders, ParameterFiles)
{
  run_fuzz("prm", 1000000, case_count(2500), [](Mutator &m) {
    const auto [text, seed] = mutated_prm(m);
    const std::string name  = seed->path;
    const auto overrides    = m.chance(0.2) ? mutated_overrides(m) : std::vector<std::string>();
    std::string input       = text;
    for (const auto &o : overrides)
      input += "# --set '" + o + "'\n";
    return Case{input, [text = text, name, overrides]() { return validate_prm(text, name, overrides); }};
  }, is_input_error);
}

TEST(FuzzReaders, TokenCsv)
{
  const std::string dir = scratch_directory("fuzz-csv");
  run_fuzz("csv", 2000000, case_count(3000), [&](Mutator &m) {
    const CsvCorpus   &c     = csv_corpus();
    const unsigned int dim   = 1 + static_cast<unsigned int>(m.below(3));
    const double       scale = m.pick(std::vector<double>{1., 1., 0.5, 1e-300, 1e300});
    const std::string  input = m.mutate(m.pick(c.texts), c.texts, interesting_values());
    std::string        path  = write_fresh(dir + "/tokens.csv", input);
    if (m.chance(0.1))
      {
        // One file per time: layer_<number>.csv, the number the time.
        const std::string folder = scratch_directory("fuzz-csv/layers");
        const std::vector<std::string> numbers = {"0", "1", "2", "1e400", "1e300", "-1", "x", ""};
        for (std::size_t k = 0; k < 3; ++k)
          write_fresh(folder + "/layer_" + m.pick(numbers) + ".csv",
                     k == 0 ? input : m.mutate(m.pick(c.texts), c.texts, interesting_values(), 1));
        path = folder + "/layer_*.csv";
        m.note("as layer_*.csv with two more files");
      }
    return Case{input, [path, dim, scale]() {
                  check_snapshots(particles::read_token_csv(path, dim, scale), dim);
                  return std::string("read");
                }};
  }, is_csv_error);
}

TEST(FuzzReaders, GmshMeshes)
{
  const std::string dir = scratch_directory("fuzz-msh");
  run_fuzz("msh", 3000000, case_count(4000), [&](Mutator &m) {
    const MshCorpus   &c           = msh_corpus();
    const SeedFile    &seed        = m.pick(c.seeds);
    const unsigned int dim         = m.chance(0.85) ? seed.dim : 1 + static_cast<unsigned int>(m.below(3));
    const unsigned int refinements = m.chance(0.8) ? 0 : 1;
    std::string        input       = seed.text;
    if (m.chance(0.6))
      for (std::size_t n = 1 + m.below(3); n > 0; --n)
        input = mutate_numbers_of_line(m, input);
    if (m.chance(0.6))
      input = m.mutate(input, c.texts, interesting_values());
    const std::string  path        = write_fresh(dir + "/mesh.msh", input);
    m.note("read as " + std::to_string(dim) + "D, " + std::to_string(refinements) + " refinements");
    return Case{input, [path, dim, refinements]() { return read_mesh(path, dim, refinements); }};
  }, is_input_error);
}

// A sample through the executable: `tpde validate FILE` on mutated parameter
// files ends with the exit code the in-process check predicts (0 or 2, never
// a crash or an internal error), and an input error is one line on stderr.
TEST(FuzzReaders, ThroughTheExecutable)
{
  CaseGuard::install(case_time_limit);
  const std::string dir     = scratch_directory("fuzz-exe");
  std::size_t       wanted  = case_count(30);
  const auto        seeds   = seeds_for("exe", 4000000, 20 * wanted);
  if (seeds.empty())
    GTEST_SKIP() << "TPDE_FUZZ_SEED names another kind";
  if (seeds.size() == 1)
    wanted = 1;
  std::size_t ran = 0;
  Tally       tally;
  for (const std::uint64_t seed : seeds)
    {
      if (ran == wanted)
        break;
      Mutator m(seed);
      const std::string text = mutated_prm(m).first;
      // Relative paths in the file resolve from its folder: the scratch folder here.
      const std::string file = write_fresh(dir + "/case-" + std::to_string(seed) + ".prm", text);
      std::string       word;
      Outcome           predicted;
      {
        const CaseGuard guard("exe", seed, text);
        predicted = classify([&]() { word = validate_prm(text, file); }, is_input_error);
      }
      ASSERT_NE(predicted.kind, Outcome::Kind::wrong_exception) << "seed " << seed << ": " << predicted.message;
      if (predicted.kind == Outcome::Kind::success && word != "validated")
        continue; // a mesh too large to build here: the executable would build it
      ++ran;
      const std::string out = dir + "/stdout.txt", err = dir + "/stderr.txt";
      const auto        result = tpde::testing::run_command("sh -c \"" + std::string(TPDE_EXECUTABLE) + " validate '" +
                                                            file + "' >'" + out + "' 2>'" + err + "'\"");
      const std::string stderr_text = read_text(err);
      const int expected = predicted.kind == Outcome::Kind::success ? 0 : 2;
      tally.add("exit " + std::to_string(result.exit_code));
      EXPECT_EQ(result.exit_code, expected)
        << "seed " << seed << " (TPDE_FUZZ_SEED=exe:" << seed << "), in-process: " << predicted.message
        << "\nstdout: " << read_text(out) << "\nstderr: " << stderr_text << "\ninput:\n" << escaped(text);
      if (result.exit_code == 2)
        {
          EXPECT_EQ(stderr_text.rfind("tpde: error: ", 0), 0u) << stderr_text;
          EXPECT_EQ(std::count(stderr_text.begin(), stderr_text.end(), '\n'), 1) << "one line: " << stderr_text;
        }
    }
  std::printf("exe: %zu runs of tpde validate: %s\n", ran, tally.str().c_str());
  EXPECT_EQ(ran, wanted);
}
