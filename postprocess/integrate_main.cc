// tpde-integrate RUN.pvd [--dimension d] [--field density] [--cell-field cell_mass]
//
// Prints, as CSV, for every time of the series: the integral of the point
// field (interpolated with each cell's own, possibly higher-order, shape
// functions) and the sum of the cell field (column left out with
// --cell-field none). A single .vtu/.pvtu is accepted
// too and reported at time 0. Exit code 2 and one line on stderr on bad input.
#include "postprocess/vtk_reader.h"

#include <charconv>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace
{
  constexpr const char *usage =
    "usage: tpde-integrate RUN.pvd [--dimension d] [--field density] [--cell-field cell_mass|none]";

  struct Options
  {
    std::string        input;
    std::optional<int> dimension;
    std::string        field      = "density";
    std::string        cell_field = "cell_mass";
  };

  // Thrown for command-line mistakes; reported with the usage line.
  struct UsageError : std::runtime_error
  {
    using std::runtime_error::runtime_error;
  };

  // Shortest text that reads back as the same double.
  std::string format(double value)
  {
    char       buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
    return std::string(buffer, result.ptr);
  }

  int parse_dimension(const std::string &text)
  {
    int        value = 0;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    if (result.ec != std::errc() || result.ptr != text.data() + text.size() || value < 1 || value > 3)
      throw UsageError("--dimension must be 1, 2 or 3, not \"" + text + "\"");
    return value;
  }

  Options parse_arguments(int argc, char **argv)
  {
    Options options;
    for (int i = 1; i < argc; ++i)
      {
        std::string argument = argv[i];
        std::string value;
        bool        has_value = false;
        if (argument.rfind("--", 0) == 0)
          {
            // Accept both "--name value" and "--name=value".
            if (const auto equals = argument.find('='); equals != std::string::npos)
              {
                value     = argument.substr(equals + 1);
                argument  = argument.substr(0, equals);
                has_value = true;
              }
            const bool takes_value =
              argument == "--dimension" || argument == "--field" || argument == "--cell-field";
            if (!takes_value)
              throw UsageError("unknown option " + argument);
            if (!has_value)
              {
                if (i + 1 >= argc)
                  throw UsageError(argument + " needs a value");
                value = argv[++i];
              }
            if (value.empty())
              throw UsageError(argument + " needs a non-empty value");
            if (argument == "--dimension")
              options.dimension = parse_dimension(value);
            else if (argument == "--field")
              options.field = value;
            else
              options.cell_field = value;
          }
        else if (options.input.empty())
          options.input = argument;
        else
          throw UsageError("more than one input file (" + options.input + ", " + argument + ")");
      }
    if (options.input.empty())
      throw UsageError("no input file");
    return options;
  }

  std::vector<tpde::postprocess::TimeSeriesEntry> time_series(const std::string &input)
  {
    const std::string extension = std::filesystem::path(input).extension().string();
    if (extension == ".vtu" || extension == ".pvtu")
      return {{0.0, input}};
    if (extension != ".pvd")
      throw std::runtime_error(input + ": expected a .pvd (or .vtu/.pvtu) file");
    auto entries = tpde::postprocess::read_pvd(input);
    if (entries.empty())
      throw std::runtime_error(input + " lists no data sets");
    return entries;
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
      const auto    entries = time_series(options.input);

      // Read everything before printing, so that bad input gives no partial table.
      std::vector<std::string> rows;
      for (const auto &entry : entries)
        {
          const auto grid = tpde::postprocess::read_grid(entry.file);
          const int  dimension =
            options.dimension ? *options.dimension : tpde::postprocess::cell_dimension(grid);
          if (dimension == 0)
            throw std::runtime_error(entry.file + " has no cells");
          try
            {
              const double integral =
                tpde::postprocess::integrate_point_field(grid, options.field, dimension);
              std::string row = format(entry.time) + "," + format(integral);
              if (options.cell_field != "none")
                row += "," + format(tpde::postprocess::sum_cell_field(grid, options.cell_field));
              rows.push_back(row);
            }
          catch (const std::exception &error)
            {
              throw std::runtime_error(entry.file + ": " + error.what());
            }
        }

      std::cout << "time,integral";
      if (options.cell_field != "none")
        std::cout << "," << options.cell_field << "_sum";
      std::cout << '\n';
      for (const auto &row : rows)
        std::cout << row << '\n';
      return 0;
    }
  catch (const UsageError &error)
    {
      std::cerr << "tpde-integrate: " << error.what() << " (" << usage << ")\n";
      return 2;
    }
  catch (const std::exception &error)
    {
      std::cerr << "tpde-integrate: " << error.what() << '\n';
      return 2;
    }
}
