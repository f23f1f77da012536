// The files every run writes, grid or particles, in one place: the atomic
// write of a whole file, parameters.prm, statistics.csv (StatisticsFile), the
// .pvd series of the ParaView files (PvdCollection), the atomic write of a VTK
// XML file, and the output times (OutputSchedule).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

class vtkXMLWriter;

namespace tpde
{
  /// Writes `text` to `path` atomically (temporary file + rename).
  void write_file_atomically(const std::string &path, const std::string &text);

  /// Creates `directory` (with its parents) and writes `as_prm` to
  /// `directory`/parameters.prm atomically. Throws std::filesystem::filesystem_error
  /// if the folder cannot be created, std::runtime_error if the file cannot be written.
  void write_parameters_prm(const std::filesystem::path &directory, const std::string &as_prm);

  /// Writes the input of `writer` (any VTK XML writer) to `path` atomically:
  /// raw appended binary with UInt64 headers, uncompressed. Throws std::runtime_error.
  void write_vtk_xml_atomically(vtkXMLWriter *writer, const std::string &path);

  /// statistics.csv: created atomically with its header line, then one row per
  /// write(), each as a single write of the whole line, so that a run stopped
  /// at any point leaves only complete rows. Inactive (e.g. on MPI ranks > 0
  /// or without output) it writes nothing.
  class StatisticsFile
  {
  public:
    /// Throws std::runtime_error("cannot write PATH"). `continue_at`: a
    /// resumed run keeps the file's first `continue_at` bytes (its header must
    /// be `header`) and appends after them.
    StatisticsFile(const std::string &path, const std::vector<std::string> &header, bool active,
                   std::optional<std::uint64_t> continue_at = std::nullopt);
    ~StatisticsFile();
    StatisticsFile(const StatisticsFile &) = delete;
    StatisticsFile &operator=(const StatisticsFile &) = delete;

    /// One row, every number as %.17g (exact round trip).
    void write(const std::vector<double> &row);

    /// Bytes in the file so far (what a checkpoint records).
    std::uint64_t size() const { return bytes; }

  private:
    std::string   path;
    int           descriptor = -1;
    std::uint64_t bytes      = 0;
  };

  /// The .pvd collection of a series of ParaView files with their physical
  /// times (17 digits, as in statistics.csv), rewritten atomically on write().
  class PvdCollection
  {
  public:
    /// `path`: the .pvd file; entries are file names relative to its folder.
    explicit PvdCollection(std::string path);

    using Entries = std::vector<std::pair<double, std::string>>;

    void           add(double time, const std::string &file);
    void           write() const;
    std::size_t    size() const { return series.size(); }
    const Entries &entries() const { return series; }
    /// A resumed run: the series as it was at the checkpoint (not written).
    void           restore(Entries entries) { series = std::move(entries); }

  private:
    std::string                                 path;
    Entries     series;
  };

  /// When a run writes its ParaView output: every `interval` (or only at the
  /// end for interval <= 0) and at the end time. Steps land exactly on these
  /// times (target()).
  class OutputSchedule
  {
  public:
    /// `breaks`: further times every step lands on (layer boundaries), increasing.
    OutputSchedule(double interval, double end_time, std::vector<double> breaks = {});

    /// The time a step from `time` must not pass: the next output time, the
    /// next break (to round-off, one that `time` has reached is passed) or the end.
    double target(double time) const;
    /// Whether `time` is (to round-off) the end time.
    bool finished(double time) const;
    /// A step of at most `dt` from `time`: shortened to land on target(), or
    /// halved if a full step would leave a sliver before it.
    double limit_step(double time, double dt) const;
    /// The number of equal steps, none longer than `max_dt`, from `time` to target().
    unsigned long equal_steps(double time, double max_dt) const;
    /// After a step to `time`: true if `time` is an output time (then the
    /// schedule moves on to the next one).
    bool pass(double time);

    /// The next output time (what a checkpoint records), and its restore.
    double next_output_time() const { return next_output; }
    void   resume(double next_output_time) { next_output = next_output_time; }

  private:
    double step;
    double end_time;
    double next_output;
    std::vector<double> breaks;
  };
} // namespace tpde
