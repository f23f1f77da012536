#include "output/run_output.h"

#include <deal.II/base/data_out_base.h>

#include <vtkXMLWriter.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace tpde
{
  void write_file_atomically(const std::string &path, const std::string &text)
  {
    const std::string temporary = path + ".tmp";
    {
      std::ofstream out(temporary, std::ios::binary);
      out << text;
      out.flush();
      if (!out)
        throw std::runtime_error("cannot write " + temporary);
    }
    std::filesystem::rename(temporary, path);
  }

  void write_parameters_prm(const std::filesystem::path &directory, const std::string &as_prm)
  {
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error)
      throw std::filesystem::filesystem_error("cannot create directories", directory, error);
    try
      {
        write_file_atomically((directory / "parameters.prm").string(), as_prm);
      }
    catch (const std::exception &e)
      {
        throw std::runtime_error(e.what()); // not a failure to create the folder
      }
  }

  void write_vtk_xml_atomically(vtkXMLWriter *writer, const std::string &path)
  {
    const std::string temporary = path + ".tmp";
    writer->SetFileName(temporary.c_str());
    writer->SetHeaderTypeToUInt64();
    // Raw appended binary: exact doubles and the fastest to write and read;
    // double-precision data compresses poorly, so compression would mostly cost time.
    writer->SetDataModeToAppended();
    writer->EncodeAppendedDataOff();
    writer->SetCompressorTypeToNone();
    if (writer->Write() != 1 || writer->GetErrorCode() != 0)
      {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw std::runtime_error("cannot write " + temporary);
      }
    std::filesystem::rename(temporary, path);
  }

  StatisticsFile::StatisticsFile(const std::string &path, const std::vector<std::string> &header, bool active,
                                 std::optional<std::uint64_t> continue_at)
    : path(path)
  {
    if (!active)
      return;
    std::string line;
    for (std::size_t i = 0; i < header.size(); ++i)
      line += (i ? "," : "") + header[i];
    line += '\n';
    if (continue_at)
      {
        // The rows up to the checkpoint stay; later ones (written before the
        // run was stopped) go, so the resumed run neither repeats nor skips one.
        std::ifstream in(path, std::ios::binary);
        std::string   first;
        std::getline(in, first);
        std::error_code error;
        const auto      size = std::filesystem::file_size(path, error);
        if (!in || first + '\n' != line)
          throw std::runtime_error("cannot resume " + path + ": missing, or its header is not this run's");
        if (error || size < *continue_at)
          throw std::runtime_error("cannot resume " + path + ": shorter (" + std::to_string(size) +
                                   " bytes) than at the checkpoint (" + std::to_string(*continue_at) + " bytes)");
        std::filesystem::resize_file(path, *continue_at, error);
        if (error)
          throw std::runtime_error("cannot resume " + path + ": " + error.message());
        bytes = *continue_at;
      }
    else
      {
        try
          {
            write_file_atomically(path, line);
          }
        catch (const std::exception &)
          {
            throw std::runtime_error("cannot write " + path);
          }
        bytes = line.size();
      }
    descriptor = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (descriptor < 0)
      throw std::runtime_error("cannot write " + path);
  }

  StatisticsFile::~StatisticsFile()
  {
    if (descriptor >= 0)
      ::close(descriptor);
  }

  void StatisticsFile::write(const std::vector<double> &row)
  {
    if (descriptor < 0)
      return;
    // The whole line first, then one write: a row is never half-written.
    std::string line;
    char        buffer[32];
    for (std::size_t i = 0; i < row.size(); ++i)
      {
        std::snprintf(buffer, sizeof buffer, "%.17g", row[i]);
        if (i)
          line += ',';
        line += buffer;
      }
    line += '\n';
    const char *data = line.data();
    std::size_t left = line.size();
    while (left > 0) // a regular file takes it at once unless the disk is full
      {
        const ssize_t written = ::write(descriptor, data, left);
        if (written < 0 && errno == EINTR)
          continue;
        if (written <= 0)
          throw std::runtime_error("cannot write " + path);
        data += written;
        left -= static_cast<std::size_t>(written);
      }
    bytes += line.size();
  }

  PvdCollection::PvdCollection(std::string path)
    : path(std::move(path))
  {}

  void PvdCollection::add(double time, const std::string &file)
  {
    series.emplace_back(time, file);
  }

  void PvdCollection::write() const
  {
    std::ostringstream pvd;
    pvd << std::setprecision(17); // times exactly as in statistics.csv
    dealii::DataOutBase::write_pvd_record(pvd, series);
    write_file_atomically(path, pvd.str());
  }

  OutputSchedule::OutputSchedule(double interval, double end_time, std::vector<double> breaks)
    : step(interval > 0 ? interval : end_time)
    , end_time(end_time)
    , next_output(step)
    , breaks(std::move(breaks))
  {}

  double OutputSchedule::target(double time) const
  {
    double goal = std::min(next_output, end_time);
    for (const double b : breaks)
      if (b * (1 - 1e-12) > time) // the same round-off as attention::LayerTimes::layer_at
        return std::min(goal, b);
    return goal;
  }

  bool OutputSchedule::finished(double time) const
  {
    return time >= end_time * (1 - 1e-14);
  }

  double OutputSchedule::limit_step(double time, double dt) const
  {
    const double goal = target(time);
    if (time + dt >= goal * (1 - 1e-12))
      return goal - time;
    if (time + 2 * dt > goal)
      return 0.5 * (goal - time);
    return dt;
  }

  unsigned long OutputSchedule::equal_steps(double time, double max_dt) const
  {
    return static_cast<unsigned long>(std::max(1., std::ceil((target(time) - time) / max_dt * (1 - 1e-12))));
  }

  bool OutputSchedule::pass(double time)
  {
    if (!(time >= next_output * (1 - 1e-12) || finished(time)))
      return false;
    while (next_output <= time * (1 + 1e-12))
      next_output += step;
    return true;
  }
} // namespace tpde
