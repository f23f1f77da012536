// Wall time of a run (grid or particles) and when to print its progress line.
#pragma once

#include <chrono>
#include <optional>

namespace tpde
{
  class RunClock
  {
  public:
    /// Seconds since construction.
    double seconds() const
    {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }

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
    double                                last_report = 0;
  };
} // namespace tpde
