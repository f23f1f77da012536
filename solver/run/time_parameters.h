// `subsection Time stepping`: the end time (depth), the explicit SSP
// Runge-Kutta scheme and the CFL control of the step.
#pragma once

#include "common/parameter_entries.h"

#include <vector>

namespace tpde
{
  /// An explicit SSP Runge-Kutta scheme in Shu-Osher form:
  /// u_i = a_i u_0 + (1 - a_i) (u_{i-1} + dt L(u_{i-1})), one a_i per stage.
  struct TimeScheme
  {
    std::vector<double> stage_coefficients;
    bool operator==(const TimeScheme &other) const { return stage_coefficients == other.stage_coefficients; }
  };

  struct TimeSteppingParameters : TabledParameters<TimeSteppingParameters>
  {
    double     end_time           = 1.;
    double     cfl                = 0.5;
    TimeScheme scheme             = {{0., 0.75, 1. / 3.}};
    double     maximum_time_step  = 0.;    // 0: no cap
    double     negligible_density = 1e-14; // relative; speeds there do not set dt (0: off)
    unsigned long maximum_steps   = 1000000; // step budget (0: none)
    double     step_shrink        = 1e-6;  // CFL dt below this fraction of the first step's ...
    unsigned int shrink_steps     = 100;   // ... for this many consecutive steps: blow-up (0: off)
    double     minimum_mass       = 1e-3;  // mass left in the domain below which the run stops (0: off)

    static const Choices<TimeScheme> &schemes();
    static const EntryTable<TimeSteppingParameters> &entry_table();
    /// Checks across entries (InputError through `r`).
    void check(const EntryReader &r) const;
  };
} // namespace tpde
