// Wall time of a run (grid or particles) and when to print its progress line.
#pragma once

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

  private:
    std::chrono::steady_clock::time_point start       = std::chrono::steady_clock::now();
    double                                offset      = 0;
    double                                last_report = 0;
  };
} // namespace tpde
