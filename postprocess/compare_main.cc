// tpde-compare REFERENCE.pvd PARTICLES.pvd [--output FILE.csv] [--plot FILE.png | --no-plot]
//              [--dimension d] [--directions 64] [--subdivisions 3 (2D) | 1 (3D)]
//
// Compares a particle run (particles.pvd: token clouds) with a grid run
// (solution.pvd: DG density) or with another particle run, at every time the
// two series share (times equal to 1e-9 relative). Columns of the CSV:
//   time, tokens, reference_mass (grid: integral of the density, else 1),
//   mean_diff_i and cov_diff_ij (particles minus reference), max_mean_diff, max_cov_diff,
//   w1 (1D: exact, through the CDFs) or sliced_w2 (2D/3D: --directions fixed
//   directions; against a grid, the grid is represented by Gauss atoms on
//   --subdivisions sub-cells per cell direction, and sw2_resolution bounds the
//   error this makes), and against a grid l1_histogram (tokens per cell /
//   (N |K|) against the density), l1_floor (its limit N -> infinity) and
//   outside (share of tokens in no cell).
// Runs on the circle (Mesh/domain = sphere, d = 2) are recognised by their
// point array `theta`: the moments are those of the ambient point (i = 0, 1),
// the distance is w1_circle, the exact W1 on the circle (geodesic distance;
// comparison.h), and the histogram columns use the cells in theta.
// Runs on S^2 (Mesh/domain = sphere, d = 3) are recognised by the grid: 2D
// cells whose points span R^3. The tokens are unit points of R^3, the
// moments those of the ambient point (i = 0, 1, 2), the distance sliced_w2
// over the fixed 3D directions with the grid's atoms read at x / |x|
// (comparison.h); there are no histogram columns (the curved cells hold the
// sphere only to the mapping's accuracy, so tokens on the exact sphere are
// not located in them). Two particle runs on S^2: --dimension 3.
// The plot shows the distances over time (gnuplot, Debian package gnuplot-nox).
// Defaults: compare.csv and compare.png next to PARTICLES.pvd. Bad input: one
// line on stderr, exit code 2, nothing written.
#include "postprocess/compare_runs.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <utility>
#include <stdexcept>
#include <string>
#include <vector>

namespace
{
  namespace fs = std::filesystem;
  using namespace tpde::postprocess;

  constexpr const char *usage =
    "usage: tpde-compare REFERENCE.pvd PARTICLES.pvd [--output FILE.csv] [--plot FILE.png | --no-plot] "
    "[--dimension d] [--directions 64] [--subdivisions 3 (2D) | 1 (3D)]";

  struct UsageError : std::runtime_error
  {
    using std::runtime_error::runtime_error;
  };

  struct Options
  {
    std::string        reference, particles, output, plot;
    bool               no_plot = false;
    std::optional<unsigned int> dimension;
    unsigned int       directions = 64;
    std::optional<unsigned int> subdivisions; // default: 3 in 2D, 1 in 3D (atoms grow like s^d)
  };

  unsigned int parse_count(const std::string &name, const std::string &text, unsigned int low, unsigned int high)
  {
    unsigned int value  = 0;
    const auto   result = std::from_chars(text.data(), text.data() + text.size(), value);
    if (result.ec != std::errc() || result.ptr != text.data() + text.size() || value < low || value > high)
      throw UsageError(name + " must be a whole number from " + std::to_string(low) + " to " +
                       std::to_string(high) + ", not \"" + text + "\"");
    return value;
  }

  Options parse_arguments(int argc, char **argv)
  {
    Options                  options;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i)
      {
        std::string argument = argv[i], value;
        if (argument.rfind("--", 0) != 0)
          {
            files.push_back(argument);
            continue;
          }
        if (argument == "--no-plot")
          {
            options.no_plot = true;
            continue;
          }
        if (const auto equals = argument.find('='); equals != std::string::npos)
          {
            value    = argument.substr(equals + 1);
            argument = argument.substr(0, equals);
          }
        else if (i + 1 < argc)
          value = argv[++i];
        if (value.empty())
          throw UsageError(argument + " needs a value");
        if (argument == "--output")
          options.output = value;
        else if (argument == "--plot")
          options.plot = value;
        else if (argument == "--dimension")
          options.dimension = parse_count("--dimension", value, 1, 3);
        else if (argument == "--directions")
          options.directions = parse_count("--directions", value, 1, 100000);
        else if (argument == "--subdivisions")
          options.subdivisions = parse_count("--subdivisions", value, 1, 64);
        else
          throw UsageError("unknown option " + argument);
      }
    if (files.size() != 2)
      throw UsageError("expected two .pvd files (reference run, particle run), got " + std::to_string(files.size()));
    options.reference = files[0];
    options.particles = files[1];
    const fs::path folder = fs::path(options.particles).parent_path();
    if (options.output.empty())
      options.output = (folder / "compare.csv").string();
    if (options.plot.empty())
      options.plot = (folder / "compare.png").string();
    if (options.no_plot)
      options.plot.clear();
    return options;
  }

  std::string format(double value)
  {
    char       buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
    return std::string(buffer, result.ptr);
  }

  void write_atomically(const std::string &path, const std::string &text)
  {
    const std::string temporary = path + ".tmp";
    {
      std::ofstream out(temporary);
      if (!(out << text) || !(out.flush()))
        throw std::runtime_error("cannot write " + temporary);
    }
    fs::rename(temporary, path);
  }

  /// Distances over time, log scale, with gnuplot; written atomically too.
  void plot(const std::string &csv, const std::string &png, const std::vector<std::string> &columns,
            const std::string &title)
  {
    const std::string temporary_png = png + ".tmp";
    const std::string script_path   = png + ".gp.tmp";
    std::ostringstream script;
    script << "set terminal pngcairo size 1000,640 noenhanced\n"
           << "set output '" << temporary_png << "'\n"
           << "set datafile separator ','\n"
           << "set title '" << title << "'\n"
           << "set xlabel 'time'\nset ylabel 'distance'\nset logscale y\nset format y '%.0e'\nset grid\nset key outside right\n"
           << "plot";
    for (std::size_t i = 0; i < columns.size(); ++i)
      script << (i ? "," : "") << " '" << csv << "' using (column('time')):(column('" << columns[i]
             << "') > 0 ? column('" << columns[i] << "') : NaN) with linespoints title '" << columns[i] << "'";
    script << "\n";
    write_atomically(script_path, script.str());
    const std::string command = "gnuplot '" + script_path + "' 2>&1";
    const int         status  = std::system(command.c_str());
    fs::remove(script_path);
    if (status != 0 || !fs::exists(temporary_png))
      throw std::runtime_error("gnuplot failed to draw " + png);
    fs::rename(temporary_png, png);
  }

} // namespace

int main(int argc, char **argv)
{
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h")
      {
        std::cout << usage << '\n';
        return 0;
      }
  try
    {
      const Options options = parse_arguments(argc, argv);
      if (!options.plot.empty() && std::system("command -v gnuplot > /dev/null 2>&1") != 0)
        throw std::runtime_error("gnuplot not found (Debian package gnuplot-nox); pass --no-plot for the CSV only");
      CompareOptions compare_options;
      compare_options.dimension    = options.dimension;
      compare_options.directions   = options.directions;
      compare_options.subdivisions = options.subdivisions;
      const DistanceTable table    = compare_runs(options.reference, options.particles, compare_options);

      std::ostringstream csv;
      for (std::size_t i = 0; i < table.header.size(); ++i)
        csv << (i ? "," : "") << table.header[i];
      csv << '\n';
      for (const auto &row : table.rows)
        {
          for (std::size_t i = 0; i < row.size(); ++i)
            csv << (i ? "," : "") << format(row[i]);
          csv << '\n';
        }
      write_atomically(options.output, csv.str());
      if (!options.plot.empty())
        plot(options.output, options.plot, table.distances,
             fs::path(options.particles).filename().string() + " vs " + fs::path(options.reference).filename().string());
      std::cout << "tpde-compare: " << table.rows.size() << " matched times, " << table.description << " -> "
                << options.output << (options.plot.empty() ? "" : ", " + options.plot) << '\n';
      return 0;
    }
  catch (const UsageError &error)
    {
      std::cerr << "tpde-compare: " << error.what() << " (" << usage << ")\n";
      return 2;
    }
  catch (const CompareOptionError &error)
    {
      std::cerr << "tpde-compare: " << error.what() << " (" << usage << ")\n";
      return 2;
    }
  catch (const std::exception &error)
    {
      std::cerr << "tpde-compare: " << error.what() << '\n';
      return 2;
    }
}
