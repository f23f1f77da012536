// Regression tests on the shipped parameter files (ASPECT style):
//  - Validate/<file>:  every parameters/*.prm, parameters/paper/*.prm and
//    parameters/paper/authors/*.prm passes
//    `tpde --validate` (found by globbing when the program starts, so a new
//    shipped file is covered without editing anything here);
//  - Case/<name>:      the short runs of tests/prm/cases.txt, whose statistics.csv
//    must equal tests/prm/reference/<name>.csv column by column within the
//    case's tolerances (header and row count exactly, integer columns exactly).
// The references are only ever written with TPDE_REGENERATE_REFERENCES=1
// (tests/prm/regenerate.sh); see tests/prm/README.md.
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace tpde::testing;
namespace fs = std::filesystem;

namespace
{
  // ---------------------------------------------------------------- set-up

  /// The tpde executable under test: the build's own, or TPDE_PRM_EXECUTABLE
  /// (e.g. an older binary when regenerating the references from it).
  std::string tpde_executable()
  {
    const char *other = std::getenv("TPDE_PRM_EXECUTABLE");
    return other != nullptr && *other != '\0' ? std::string(other) : std::string(TPDE_EXECUTABLE);
  }

  bool regenerating()
  {
    const char *flag = std::getenv("TPDE_REGENERATE_REFERENCES");
    return flag != nullptr && std::string(flag) == "1";
  }

  std::string shell_quote(const std::string &s)
  {
    std::string quoted = "'";
    for (char c : s)
      quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
  }

  std::string trim(const std::string &s)
  {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos)
      return "";
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
  }

  std::vector<std::string> split(const std::string &s, char separator)
  {
    std::vector<std::string> parts;
    std::istringstream       in(s);
    std::string              part;
    while (std::getline(in, part, separator))
      parts.push_back(trim(part));
    return parts;
  }

  /// gtest parameter names: letters, digits and '_' only.
  std::string identifier(const std::string &s)
  {
    std::string id;
    for (char c : s)
      id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return id;
  }

  // ---------------------------------------------------------- validation

  /// Every shipped parameter file, relative to the source tree, sorted.
  std::vector<std::string> shipped_parameter_files()
  {
    std::vector<std::string> files;
    for (const std::string folder : {"parameters", "parameters/paper", "parameters/paper/authors"})
      for (const auto &entry : fs::directory_iterator(fs::path(TPDE_SOURCE_DIR) / folder))
        if (entry.is_regular_file() && entry.path().extension() == ".prm")
          files.push_back(folder + "/" + entry.path().filename().string());
    std::sort(files.begin(), files.end());
    return files;
  }

  class Validate : public ::testing::TestWithParam<std::string>
  {};

  TEST_P(Validate, ExitsWithZero)
  {
    // Run in a scratch folder: the files' relative output folders are created there.
    const std::string dir    = scratch_directory("prm/validate/" + identifier(GetParam()));
    const auto        result = run_command("sh -c " + shell_quote("cd " + shell_quote(dir) + " && " + shell_quote(tpde_executable()) +
                                                         " --validate " + shell_quote(source_path(GetParam()))));
    EXPECT_EQ(result.exit_code, 0) << "tpde --validate " << GetParam() << ":\n" << result.output;
  }

  INSTANTIATE_TEST_SUITE_P(Shipped, Validate, ::testing::ValuesIn(shipped_parameter_files()),
                           [](const auto &info) { return identifier(info.param); });

  // The glob itself must find the shipped files (a moved folder would otherwise
  // silently leave nothing to validate).
  TEST(ValidateGlob, FindsTheShippedFiles)
  {
    const auto files = shipped_parameter_files();
    EXPECT_GE(files.size(), 26u);
    EXPECT_NE(std::find(files.begin(), files.end(), "parameters/default.prm"), files.end());
  }

  // ----------------------------------------------------------- the cases

  struct Tolerance
  {
    double relative = 0; // times the column's largest |reference| value
    double absolute = 0;
  };

  struct Case
  {
    std::string              name;
    std::string              file;      // relative to the source tree
    std::vector<std::string> overrides; // "Subsection/entry=value"
    unsigned int             ranks   = 1;
    unsigned int             threads = 0; // per rank; 0: 2 on one rank, 1 on several
    std::string              reference; // case name whose reference this run is compared with
    Tolerance                tolerance;
    std::map<std::string, Tolerance> column_tolerance; // per-column overrides
    int                              line = 0;
  };

  // What gtest prints for a parameter (instead of its bytes).
  void PrintTo(const Case &c, std::ostream *out)
  {
    *out << c.name << " (" << c.file << ", np " << c.ranks << ")";
  }

  /// Columns holding counts: compared exactly unless a case says otherwise.
  const std::set<std::string> integer_columns = {"step",      "cells",     "dofs",
                                                 "min_level", "max_level", "sinkhorn_iterations"};

  const std::string cases_file = std::string(TPDE_SOURCE_DIR) + "/tests/prm/cases.txt";

  std::string reference_path(const std::string &name)
  {
    return std::string(TPDE_SOURCE_DIR) + "/tests/prm/reference/" + name + ".csv";
  }

  double parse_number(const std::string &s, const std::string &where)
  {
    std::size_t  used  = 0;
    const double value = std::stod(s, &used);
    if (used != s.size())
      throw std::runtime_error(where + ": not a number: '" + s + "'");
    return value;
  }

  /// tests/prm/cases.txt, see the comment at its top for the format.
  std::vector<Case> read_cases()
  {
    std::ifstream in(cases_file);
    if (!in)
      throw std::runtime_error("cannot read " + cases_file);
    std::vector<Case>           cases;
    std::map<std::string, Case> by_name;
    Tolerance                   defaults{1e-12, 1e-14};
    std::string                 line;
    int                         number = 0;
    while (std::getline(in, line))
      {
        ++number;
        line = trim(line.substr(0, line.find('#')));
        if (line.empty())
          continue;
        const std::string where  = cases_file + ":" + std::to_string(number);
        const auto        fields = split(line, '|');
        if (fields.size() < 3)
          throw std::runtime_error(where + ": expected 'name | file | options [| override ...]'");
        Case c;
        c.name = fields[0];
        c.line = number;
        if (c.name.empty() || identifier(c.name) != c.name || by_name.count(c.name))
          throw std::runtime_error(where + ": case name must be unique and of [A-Za-z0-9_]: '" + c.name + "'");
        if (fields[1].rfind("like ", 0) == 0)
          {
            // Same file and overrides as an earlier case, compared with its reference.
            const std::string other = trim(fields[1].substr(5));
            if (!by_name.count(other))
              throw std::runtime_error(where + ": 'like " + other + "' names no earlier case");
            const Case &o = by_name.at(other);
            c.file        = o.file;
            c.overrides   = o.overrides;
            c.reference   = o.reference;
            c.tolerance   = o.tolerance;
            c.column_tolerance = o.column_tolerance;
          }
        else
          {
            c.file      = fields[1];
            c.reference = c.name;
            c.tolerance = defaults;
          }
        for (const auto &option : split(fields[2], ' '))
          {
            if (option.empty() || option == "-")
              continue;
            const auto eq = option.find('=');
            if (eq == std::string::npos)
              throw std::runtime_error(where + ": option without '=': " + option);
            const std::string key = option.substr(0, eq), value = option.substr(eq + 1);
            if (key == "np")
              c.ranks = static_cast<unsigned int>(parse_number(value, where));
            else if (key == "threads")
              c.threads = static_cast<unsigned int>(parse_number(value, where));
            else if (key == "rtol")
              c.tolerance.relative = parse_number(value, where);
            else if (key == "atol")
              c.tolerance.absolute = parse_number(value, where);
            else if (key.rfind("rtol:", 0) == 0 || key.rfind("atol:", 0) == 0)
              {
                const std::string column = key.substr(5);
                if (!c.column_tolerance.count(column))
                  c.column_tolerance[column] = integer_columns.count(column) ? Tolerance{} : c.tolerance;
                (key[0] == 'r' ? c.column_tolerance[column].relative : c.column_tolerance[column].absolute) =
                  parse_number(value, where);
              }
            else
              throw std::runtime_error(where + ": unknown option " + key);
          }
        for (std::size_t i = 3; i < fields.size(); ++i)
          {
            if (fields[i].find('=') == std::string::npos || fields[i].find('/') == std::string::npos)
              throw std::runtime_error(where + ": override must be 'Subsection/entry=value': " + fields[i]);
            if (fields[1].rfind("like ", 0) == 0)
              throw std::runtime_error(where + ": a 'like' case takes no overrides of its own");
            c.overrides.push_back(fields[i]);
          }
        if (!fs::exists(source_path(c.file)))
          throw std::runtime_error(where + ": no parameter file " + c.file);
        by_name[c.name] = c;
        cases.push_back(c);
      }
    return cases;
  }

  std::vector<Case> cases_or_empty()
  {
    try
      {
        return read_cases();
      }
    catch (const std::exception &)
      {
        // Reported by the CasesFile test below, so that a broken file fails
        // loudly instead of instantiating nothing.
        return {};
      }
  }

  TEST(CasesFile, Parses)
  {
    std::vector<Case> cases;
    try
      {
        cases = read_cases();
      }
    catch (const std::exception &e)
      {
        FAIL() << e.what();
      }
    EXPECT_FALSE(cases.empty());
  }

  /// Runs the case, returns the folder with its statistics.csv.
  std::string run_case(const Case &c)
  {
    const std::string dir = scratch_directory("prm/" + c.name);
    // The thread count is fixed: the last bits of some columns depend on it
    // (tests/prm/README.md), and deal.II would otherwise use every core.
    const std::string threads =
      "DEAL_II_NUM_THREADS=" + std::to_string(c.threads > 0 ? c.threads : (c.ranks > 1 ? 1 : 2));
    std::string command = threads + " ";
    if (c.ranks > 1)
      command += std::string(TPDE_MPIEXEC) + " --allow-run-as-root --oversubscribe -x " + threads + " -np " +
                 std::to_string(c.ranks) + " ";
    command += shell_quote(tpde_executable()) + " run " + shell_quote(source_path(c.file)) + " --quiet";
    for (const auto &o : c.overrides)
      command += " --set " + shell_quote(o);
    // Always: no ParaView files (not compared, and they cost time), output in the scratch folder.
    command += " --set " + shell_quote("Output/write vtu=false");
    command += " --set " + shell_quote("Output/directory=" + dir);
    const auto result = run_command(command);
    if (result.exit_code != 0)
      throw std::runtime_error("exit code " + std::to_string(result.exit_code) + " from\n  " + command + "\n" +
                               result.output);
    return dir;
  }

  /// statistics.csv with wall_seconds set to 0, so that regenerating unchanged
  /// numbers leaves the reference file byte for byte as it was.
  void write_reference(const std::string &statistics, const std::string &reference)
  {
    std::ifstream in(statistics);
    std::string   line;
    std::getline(in, line);
    const auto  header = split(line, ',');
    const auto  wall   = std::find(header.begin(), header.end(), "wall_seconds") - header.begin();
    std::string text   = line + "\n";
    while (std::getline(in, line))
      {
        if (line.empty())
          continue;
        auto cells = split(line, ',');
        if (wall < static_cast<long>(cells.size()))
          cells[wall] = "0";
        for (std::size_t i = 0; i < cells.size(); ++i)
          text += (i ? "," : "") + cells[i];
        text += "\n";
      }
    write_file(reference, text);
  }

  std::string format(double v)
  {
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.17g", v);
    return buffer;
  }

  class Regression : public ::testing::TestWithParam<Case>
  {};

  TEST_P(Regression, MatchesReference)
  {
    const Case &c = GetParam();
    SCOPED_TRACE("case " + c.name + " (tests/prm/cases.txt:" + std::to_string(c.line) + ")");
    std::string dir;
    try
      {
        dir = run_case(c);
      }
    catch (const std::exception &e)
      {
        FAIL() << "case " << c.name << ": " << e.what();
      }
    const std::string statistics = dir + "/statistics.csv";
    ASSERT_TRUE(fs::exists(statistics)) << "case " << c.name << ": no " << statistics;

    if (regenerating() && c.reference == c.name)
      {
        write_reference(statistics, reference_path(c.name));
        std::cout << "[prm] case " << c.name << ": wrote " << reference_path(c.name) << "\n";
      }
    ASSERT_TRUE(fs::exists(reference_path(c.reference)))
      << "case " << c.name << ": no reference " << reference_path(c.reference)
      << " (generate it with tests/prm/regenerate.sh, see tests/prm/README.md)";

    Table got = read_csv(statistics), ref = read_csv(reference_path(c.reference));
    // Columns are public interface: names and order exactly.
    ASSERT_EQ(got.header, ref.header) << "case " << c.name << ": statistics.csv header differs from the reference";
    ASSERT_EQ(got.rows(), ref.rows()) << "case " << c.name << ": number of rows (time steps) differs";
    ASSERT_GT(got.rows(), 1u);

    for (const auto &column : ref.header)
      {
        if (column == "wall_seconds")
          continue;
        const bool integer = integer_columns.count(column) > 0;
        Tolerance  tol     = integer ? Tolerance{} : c.tolerance;
        if (c.column_tolerance.count(column))
          tol = c.column_tolerance.at(column);
        const auto &r = ref.columns[column];
        const auto &g = got.columns[column];
        double      scale = 0;
        for (double v : r)
          scale = std::max(scale, std::abs(v));
        const double allowed = tol.absolute + tol.relative * scale;
        std::size_t  failures = 0, first = 0, worst = 0;
        double       worst_difference = -1;
        for (std::size_t i = 0; i < r.size(); ++i)
          {
            const double d = std::abs(g[i] - r[i]);
            // NaN in either: only equal if both are NaN.
            const bool ok = std::isnan(r[i]) || std::isnan(g[i]) ? (std::isnan(r[i]) && std::isnan(g[i])) : d <= allowed;
            if (!ok)
              {
                if (failures++ == 0)
                  first = i;
                if (!(d <= worst_difference))
                  worst_difference = d, worst = i;
              }
          }
        if (failures > 0)
          {
            const auto describe = [&](std::size_t i) {
              return "row " + std::to_string(i) + " (step " + format(got.columns["step"][i]) + "): got " + format(g[i]) +
                     ", reference " + format(r[i]) + ", |difference| " + format(std::abs(g[i] - r[i]));
            };
            ADD_FAILURE() << "case " << c.name << ", column " << column << ": " << failures << " of " << r.size()
                          << " rows outside the tolerance " << format(allowed) << " = atol " << tol.absolute
                          << " + rtol " << tol.relative << " * column scale " << format(scale) << "\n  first: "
                          << describe(first) << (worst != first ? "\n  worst: " + describe(worst) : std::string());
          }
      }
  }

  INSTANTIATE_TEST_SUITE_P(Case, Regression, ::testing::ValuesIn(cases_or_empty()),
                           [](const auto &info) { return info.param.name; });
} // namespace
