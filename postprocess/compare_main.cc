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
#include "postprocess/comparison.h"
#include "postprocess/vtk_reader.h"

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
    std::optional<int> dimension;
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
          options.dimension = static_cast<int>(parse_count("--dimension", value, 1, 3));
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

  std::string extension_of(const std::string &file)
  {
    std::string e = fs::path(file).extension().string();
    std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return e;
  }

  std::vector<TimeSeriesEntry> series(const std::string &pvd)
  {
    if (extension_of(pvd) != ".pvd")
      throw std::runtime_error(pvd + ": expected a .pvd time series");
    auto entries = read_pvd(pvd);
    if (entries.empty())
      throw std::runtime_error(pvd + " lists no data sets");
    return entries;
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

  /// The two series, what the reference is, and the dimension.
  struct Inputs
  {
    std::vector<TimeSeriesEntry>       reference_series, particle_series;
    bool                               grid_reference = false;
    bool                               circle         = false; // theta arrays: angles, ambient moments
    bool                               surface        = false; // S^2: a grid of 2D cells in R^3
    unsigned int                       dim            = 0;
    std::vector<std::array<double, 3>> directions;
    unsigned int                       subdivisions = 0;
  };

  Inputs read_inputs(const Options &options)
  {
    Inputs in;
    in.reference_series = series(options.reference);
    in.particle_series  = series(options.particles);
    const std::string reference_kind = extension_of(in.reference_series.front().file);
    in.grid_reference                = reference_kind == ".vtu" || reference_kind == ".pvtu";
    if (!in.grid_reference && reference_kind != ".vtp" && reference_kind != ".pvtp")
      throw std::runtime_error(options.reference + ": expected a grid run (.vtu/.pvtu) or a particle run (.vtp)");
    for (const auto &entry : in.particle_series)
      if (const auto e = extension_of(entry.file); e != ".vtp" && e != ".pvtp")
        throw std::runtime_error(options.particles + ": expected a particle run (.vtp data sets), found " + entry.file);

    // The circle: both runs write `theta` (a particle run of a circle has no other sign of it).
    const bool circle_tokens = !circle_angles(read_polydata(in.particle_series.front().file)).empty();
    const bool circle_reference =
      in.grid_reference ? !circle_angles(read_grid(in.reference_series.front().file)).empty()
                        : !circle_angles(read_polydata(in.reference_series.front().file)).empty();
    if (circle_tokens != circle_reference)
      throw std::runtime_error((circle_tokens ? options.reference : options.particles) +
                               ": one run is on the circle (point array theta), the other is not");
    in.circle = circle_tokens;
    if (in.circle)
      in.dim = 2;
    else if (in.grid_reference)
      {
        const auto grid = read_grid(in.reference_series.front().file);
        in.dim          = static_cast<unsigned int>(cell_dimension(grid));
        double bounds[6];
        grid->GetBounds(bounds);
        in.surface = in.dim == 2 && bounds[5] > bounds[4];
        if (in.surface)
          in.dim = 3; // the tokens' and moments' dimension
      }
    else if (options.dimension)
      in.dim = static_cast<unsigned int>(*options.dimension);
    else
      throw UsageError("two particle runs: give their dimension with --dimension");
    if (options.dimension && static_cast<unsigned int>(*options.dimension) != in.dim)
      throw UsageError("--dimension " + std::to_string(*options.dimension) + " contradicts the grid's cells (" +
                       std::to_string(in.dim) + "D)");
    in.directions   = slicing_directions(in.dim, options.directions);
    in.subdivisions = options.subdivisions ? *options.subdivisions : (in.dim == 3 && !in.surface ? 1 : 3);
    return in;
  }

  /// The CSV header and the distance columns that are plotted.
  std::pair<std::vector<std::string>, std::vector<std::string>> columns_of(const Inputs &in)
  {
    const unsigned int       dim    = in.dim;
    std::vector<std::string> header = {"time", "tokens", "reference_mass"};
    for (unsigned int i = 0; i < dim; ++i)
      header.push_back("mean_diff_" + std::to_string(i));
    for (unsigned int i = 0; i < dim; ++i)
      for (unsigned int j = 0; j < dim; ++j)
        header.push_back("cov_diff_" + std::to_string(i) + std::to_string(j));
    header.push_back("max_mean_diff");
    header.push_back("max_cov_diff");
    std::vector<std::string> distances = {in.circle ? "w1_circle" : dim == 1 ? "w1" : "sliced_w2"};
    if (in.grid_reference)
      {
        if (dim > 1 && !in.circle)
          header.push_back("sw2_resolution");
        if (!in.surface)
          {
            distances.push_back("l1_histogram");
            distances.push_back("l1_floor");
          }
      }
    header.insert(header.end(), distances.begin(), distances.end());
    if (in.grid_reference && !in.surface)
      header.push_back("outside");
    distances.push_back("max_mean_diff");
    distances.push_back("max_cov_diff");
    return {header, distances};
  }

  /// The row so far, then the moment differences (tokens mt minus reference mr) and the distances `tail`.
  std::vector<double> finish_row(std::vector<double> row, const MomentSet &mt, const MomentSet &mr,
                                 const std::vector<double> &tail, unsigned int dim)
  {
    double max_mean = 0, max_cov = 0;
    for (unsigned int i = 0; i < dim; ++i)
      {
        row.push_back(mt.mean[i] - mr.mean[i]);
        max_mean = std::max(max_mean, std::abs(row.back()));
      }
    for (unsigned int i = 0; i < dim * dim; ++i)
      {
        row.push_back(mt.covariance[i] - mr.covariance[i]);
        max_cov = std::max(max_cov, std::abs(row.back()));
      }
    row.push_back(max_mean);
    row.push_back(max_cov);
    row.insert(row.end(), tail.begin(), tail.end());
    return row;
  }

  /// One CSV row: the tokens of `entry` against the reference `partner`.
  std::vector<double> compare_at(const Inputs &in, const TimeSeriesEntry &entry, const TimeSeriesEntry &partner)
  {
    const unsigned int  dim    = in.dim;
    const auto          polydata = read_polydata(entry.file);
    const WeightedCloud tokens   = cloud_from_polydata(polydata, dim);
    const MomentSet     mt       = moments(tokens);
    std::vector<double> row      = {entry.time, double(tokens.size())};
    MomentSet           mr;
    std::vector<double> tail;
    if (in.circle)
      {
        std::vector<double> angles = circle_angles(polydata);
        if (in.grid_reference)
          {
            const auto        chart = circle_chart_grid(read_grid(partner.file));
            const MeshDensity density(chart, 1);
            row.push_back(density.mass());
            mr = density.circle_moments();
            tail.push_back(density.w1_circle_to_tokens(angles));
            const auto l1 = density.histogram_l1(uniform_cloud(1, std::move(angles)));
            tail.insert(tail.end(), {l1.distance, l1.floor, l1.outside});
          }
        else
          {
            const auto          other        = read_polydata(partner.file);
            std::vector<double> other_angles = circle_angles(other);
            const std::size_t   n = angles.size(), m = other_angles.size();
            row.push_back(1.);
            mr = moments(cloud_from_polydata(other, dim));
            tail.push_back(w1_circle(std::move(other_angles), std::vector<double>(m, 1. / m), std::move(angles),
                                     std::vector<double>(n, 1. / n)));
          }
      }
    else if (in.grid_reference)
      {
        const auto  grid = read_grid(partner.file);
        MeshDensity density(grid, in.surface ? 2 : dim);
        if (in.surface)
          density.set_unit_sphere();
        row.push_back(density.mass());
        mr = density.moments();
        if (dim == 1)
          tail.push_back(density.w1_to_tokens(tokens.points));
        else
          {
            tail.push_back(density.atom_cell_diameter(in.subdivisions));
            tail.push_back(sliced_w2(density.atoms(in.subdivisions), tokens, in.directions));
          }
        if (in.surface)
          return finish_row(row, mt, mr, tail, dim);
        const auto l1 = density.histogram_l1(tokens);
        tail.push_back(l1.distance);
        tail.push_back(l1.floor);
        tail.push_back(l1.outside);
      }
    else
      {
        const WeightedCloud other = cloud_from_polydata(read_polydata(partner.file), dim);
        row.push_back(1.);
        mr = moments(other);
        tail.push_back(dim == 1 ? w1_1d(other.points, other.weights, tokens.points, tokens.weights)
                                : sliced_w2(other, tokens, in.directions));
      }
    return finish_row(row, mt, mr, tail, dim);
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
      const Inputs in                = read_inputs(options);
      const auto [header, distances] = columns_of(in);

      std::ostringstream csv;
      for (std::size_t i = 0; i < header.size(); ++i)
        csv << (i ? "," : "") << header[i];
      csv << '\n';
      std::size_t matched = 0;
      for (const auto &entry : in.particle_series)
        {
          const auto partner = std::find_if(in.reference_series.begin(), in.reference_series.end(), [&](const auto &r) {
            return std::abs(r.time - entry.time) <= 1e-9 * std::max(1., std::abs(entry.time));
          });
          if (partner == in.reference_series.end())
            continue;
          ++matched;
          try
            {
              const std::vector<double> row = compare_at(in, entry, *partner);
              for (std::size_t i = 0; i < row.size(); ++i)
                csv << (i ? "," : "") << format(row[i]);
              csv << '\n';
            }
          catch (const std::exception &error)
            {
              throw std::runtime_error(entry.file + " at t = " + format(entry.time) + ": " + error.what());
            }
        }
      if (matched == 0)
        throw std::runtime_error(options.particles + " and " + options.reference + " share no output time");
      write_atomically(options.output, csv.str());
      if (!options.plot.empty())
        plot(options.output, options.plot, distances,
             fs::path(options.particles).filename().string() + " vs " + fs::path(options.reference).filename().string());
      std::cout << "tpde-compare: " << matched << " matched times, "
                << (in.circle    ? "on the circle (theta arrays): exact W1 on the circle, column w1_circle"
                    : in.surface ? "on S^2 (a surface grid in R^3): sliced W2 of the ambient points, column sliced_w2"
                    : in.dim == 1 ? "exact W1, column w1"
                                  : "sliced W2, column sliced_w2")
                << " -> " << options.output
                << (options.plot.empty() ? "" : ", " + options.plot) << '\n';
      return 0;
    }
  catch (const UsageError &error)
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
