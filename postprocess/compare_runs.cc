// The distance table of a particle run against a grid or particle run (compare_runs.h); the
// columns are documented in compare_main.cc.
#include "postprocess/compare_runs.h"

#include "postprocess/comparison.h"
#include "postprocess/vtk_reader.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <tuple>
#include <utility>

namespace tpde::postprocess
{
  namespace
  {
    namespace fs = std::filesystem;

    std::string format(double value)
    {
      char       buffer[64];
      const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
      return std::string(buffer, result.ptr);
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

    Inputs read_inputs(const std::string &reference, const std::string &particles, const CompareOptions &options)
    {
      Inputs in;
      in.reference_series = series(reference);
      in.particle_series  = series(particles);
      const std::string reference_kind = extension_of(in.reference_series.front().file);
      in.grid_reference                = reference_kind == ".vtu" || reference_kind == ".pvtu";
      if (!in.grid_reference && reference_kind != ".vtp" && reference_kind != ".pvtp")
        throw std::runtime_error(reference + ": expected a grid run (.vtu/.pvtu) or a particle run (.vtp)");
      for (const auto &entry : in.particle_series)
        if (const auto e = extension_of(entry.file); e != ".vtp" && e != ".pvtp")
          throw std::runtime_error(particles + ": expected a particle run (.vtp data sets), found " + entry.file);

      // The circle: both runs write `theta` (a particle run of a circle has no other sign of it).
      const bool circle_tokens = !circle_angles(read_polydata(in.particle_series.front().file)).empty();
      const bool circle_reference =
        in.grid_reference ? !circle_angles(read_grid(in.reference_series.front().file)).empty()
                          : !circle_angles(read_polydata(in.reference_series.front().file)).empty();
      if (circle_tokens != circle_reference)
        throw std::runtime_error((circle_tokens ? reference : particles) +
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
        in.dim = *options.dimension;
      else
        throw CompareOptionError("two particle runs: give their dimension with --dimension");
      if (options.dimension && *options.dimension != in.dim)
        throw CompareOptionError("--dimension " + std::to_string(*options.dimension) + " contradicts the grid's cells (" +
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

  DistanceTable compare_runs(const std::string &reference, const std::string &particles, const CompareOptions &options)
  {
    const Inputs  in = read_inputs(reference, particles, options);
    DistanceTable table;
    std::tie(table.header, table.distances) = columns_of(in);
    for (const auto &entry : in.particle_series)
      {
        const auto partner = std::find_if(in.reference_series.begin(), in.reference_series.end(), [&](const auto &r) {
          return std::abs(r.time - entry.time) <= 1e-9 * std::max(1., std::abs(entry.time));
        });
        if (partner == in.reference_series.end())
          continue;
        try
          {
            table.rows.push_back(compare_at(in, entry, *partner));
          }
        catch (const std::exception &error)
          {
            throw std::runtime_error(entry.file + " at t = " + format(entry.time) + ": " + error.what());
          }
      }
    if (table.rows.empty())
      throw std::runtime_error(particles + " and " + reference + " share no output time");
    table.description = in.circle    ? "on the circle (theta arrays): exact W1 on the circle, column w1_circle"
                        : in.surface ? "on S^2 (a surface grid in R^3): sliced W2 of the ambient points, column sliced_w2"
                        : in.dim == 1 ? "exact W1, column w1"
                                      : "sliced W2, column sliced_w2";
    return table;
  }
} // namespace tpde::postprocess
