// Wall time of a run (grid or particles) and when to print its progress line.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <optional>

namespace tpde
{
  class RunClock
  {
  public:
    /// `already_elapsed`: seconds of the run before it was resumed.
    explicit RunClock(double already_elapsed = 0)
      : offset(already_elapsed)
    {}

    /// Seconds since construction, plus the seconds before a resume.
    double seconds() const
    {
      return offset + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }

    /// Continues a resumed run's clock.
    void resume(double already_elapsed) { offset = already_elapsed; last_report = already_elapsed; }

    /// The elapsed seconds if a progress line is due (every 2 s and when the
    /// run is `finished`), otherwise nothing.
    std::optional<double> progress_due(bool finished)
    {
      const double elapsed = seconds();
      if (!(elapsed - last_report > 2. || finished))
        return std::nullopt;
      last_report = elapsed;
      return elapsed;
    }

    /// CPU seconds of the process (all its threads) over wall seconds since
    /// construction (so after a resume: since the resume): how many cores
    /// this rank kept busy (threads waiting in a spin count as busy).
    double cores() const
    {
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      return wall > 0 ? (process_cpu_seconds() - cpu_start) / wall : 0.;
    }

    static double process_cpu_seconds()
    {
      rusage usage{};
      getrusage(RUSAGE_SELF, &usage);
      return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
    }

  private:
    double                                cpu_start   = process_cpu_seconds();
    std::chrono::steady_clock::time_point start       = std::chrono::steady_clock::now();
    double                                offset      = 0;
    double                                last_report = 0;
  };
} // namespace tpde
