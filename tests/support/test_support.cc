#include "support/test_support.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace tpde::testing
{
  std::string scratch_directory(const std::string &name)
  {
    const std::filesystem::path dir = std::filesystem::path(TPDE_TEST_OUTPUT_DIR) / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir.string();
  }

  std::string write_file(const std::string &path, const std::string &text)
  {
    const std::filesystem::path p(path);
    if (p.has_parent_path())
      std::filesystem::create_directories(p.parent_path());
    std::ofstream out(path);
    out << text;
    if (!out)
      throw std::runtime_error("cannot write " + path);
    return path;
  }

  CommandResult run_command(const std::string &command)
  {
    // The test program is an MPI singleton: a child mpirun must not inherit
    // its Open MPI / PMIx environment.
    std::string clean = "env";
    for (char **e = environ; *e != nullptr; ++e)
      {
        const std::string entry(*e);
        const std::string name = entry.substr(0, entry.find('='));
        if (name.rfind("OMPI_", 0) == 0 || name.rfind("PMIX_", 0) == 0 || name.rfind("OPAL_", 0) == 0)
          clean += " -u " + name;
      }
    CommandResult result;
    FILE         *pipe = popen((clean + " " + command + " 2>&1").c_str(), "r");
    if (pipe == nullptr)
      throw std::runtime_error("cannot run " + command);
    std::array<char, 4096> buffer;
    std::size_t            n;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
      result.output.append(buffer.data(), n);
    const int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
  }

  CommandResult run_tpde(const std::string &arguments, unsigned int ranks)
  {
    std::string command;
    if (ranks > 1)
      command = std::string(TPDE_MPIEXEC) + " --allow-run-as-root --oversubscribe -np " +
                std::to_string(ranks) + " ";
    command += std::string(TPDE_EXECUTABLE) + " " + arguments;
    return run_command(command);
  }

  Table read_csv(const std::string &path)
  {
    std::ifstream in(path);
    if (!in)
      throw std::runtime_error("cannot read " + path);
    Table       table;
    std::string line;
    std::getline(in, line);
    {
      std::istringstream header(line);
      std::string        name;
      while (std::getline(header, name, ','))
        {
          table.header.push_back(name);
          table.columns[name];
        }
    }
    while (std::getline(in, line))
      {
        if (line.empty())
          continue;
        std::istringstream row(line);
        std::string        cell;
        for (const auto &name : table.header)
          {
            if (!std::getline(row, cell, ','))
              throw std::runtime_error("short row in " + path);
            table.columns[name].push_back(std::stod(cell));
          }
      }
    return table;
  }

  double log_log_slope(const std::vector<double> &sizes, const std::vector<double> &values)
  {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (std::size_t k = 0; k < sizes.size(); ++k)
      {
        const double x = std::log(sizes[k]), y = std::log(values[k]);
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
      }
    const double m = double(sizes.size());
    return (m * sxy - sx * sy) / (m * sxx - sx * sx);
  }

  std::string source_path(const std::string &relative)
  {
    return (std::filesystem::path(TPDE_SOURCE_DIR) / relative).string();
  }
} // namespace tpde::testing
