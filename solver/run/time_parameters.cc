#include "run/time_parameters.h"

namespace tpde
{
  const Choices<TimeScheme> &TimeSteppingParameters::schemes()
  {
    static const Choices<TimeScheme> all({
      {"ssp-rk3", {{0., 0.75, 1. / 3.}}, "third order, three stages (Shu-Osher);"},
      {"ssp-rk2", {{0., 0.5}}, "second order, two stages (Heun);"},
      {"forward-euler", {{0.}}, "first order, one stage."},
    });
    return all;
  }

  const EntryTable<TimeSteppingParameters> &TimeSteppingParameters::entry_table()
  {
    static const EntryTable<TimeSteppingParameters> table = EntryTable<TimeSteppingParameters>()
      .add("end time", &TimeSteppingParameters::end_time, "1", EntryPattern::real(), "Final time T (depth), > 0.")
      .add("cfl", &TimeSteppingParameters::cfl, "0.5", EntryPattern::real(0, 1),
          "Courant number C: dt = C / ((2p+1) max_K sum_k max|X_k|/h_k) over all cells K (h_k: cell "
          "extent along k). Zhang-Shu positivity of a forward-Euler stage needs C / (2p+1) <= the first "
          "Gauss-Lobatto weight of the check points: C <= 1.5, 0.83, 1.17, 0.75 for p = 1, 2, 3, 4 (SSP "
          "stages keep the bound). The velocity changes within a step, so steps whose stages still "
          "produce a negative cell mean are repeated with half the step.")
      .add_choice("scheme", &TimeSteppingParameters::scheme, "ssp-rk3", TimeSteppingParameters::schemes(), "Explicit strong-stability-preserving Runge-Kutta scheme:")
      .add("maximum time step", &TimeSteppingParameters::maximum_time_step, "0", EntryPattern::real(0),
          "Upper bound on dt (0: none), e.g. to study the time error.")
      .add("negligible density", &TimeSteppingParameters::negligible_density, "1e-14", EntryPattern::real(0, 1),
          "Points whose density is below this fraction of the largest nodal density carry no mass that matters; their "
          "speed is capped so that it never sets the time step (0: off). Softmax-type attention tilts the density by "
          "exp(<Qx, Ky>), so targets far from the mass read the density's tail, where it is numerical noise in relative "
          "terms, and can get speeds many times those where the mass is (T8: 6.7 instead of about 1). Capping keeps "
          "mass exact (face velocities stay single-valued).")
      .add("maximum steps", &TimeSteppingParameters::maximum_steps, "1000000", EntryPattern::integer(0),
          "Step budget: a run that needs more steps than this to reach the end time stops as a physical failure "
          "(exit code 3, output kept; 0: no budget): when it has taken that many, or when, for 'shrink steps' "
          "consecutive steps, the steps taken plus (end time - t) / dt exceed it. The shipped examples need at "
          "most a few thousand steps; "
          "10^6 steps of the smallest useful mesh take hours, so reaching the budget means the time step has "
          "collapsed (a blow-up) rather than a long run.")
      .add("step shrink", &TimeSteppingParameters::step_shrink, "1e-6", EntryPattern::real(0, 1),
          "Blow-up rule: when the CFL time step (before landing on output times) stays below this fraction of "
          "the first step's for 'shrink steps' consecutive steps, the velocity is blowing up and the run stops "
          "as a physical failure (exit code 3, output kept). E.g. 1D unnormalized attention with beta = 1, "
          "V = 5 falls from dt 1e-2 to 4e-8 and would otherwise run for ever.")
      .add("shrink steps", &TimeSteppingParameters::shrink_steps, "100", EntryPattern::integer(0),
          "Consecutive steps of the 'step shrink' rule and of the projected step budget (0: both rules are off; "
          "the budget itself still applies).")
      .add("minimum mass", &TimeSteppingParameters::minimum_mass, "1e-3", EntryPattern::real(0, 1),
          "Mass left in the domain (statistics column 'mass'; mass + outflow = 1) below which the run stops as "
          "a physical failure (exit code 3, output kept): the moments are normalised by the mass and mean "
          "nothing once it has left. A warning is printed once on stdout when the mass falls below 10 times "
          "this value. 0: off.");
    return table;
  }

  void TimeSteppingParameters::check(const EntryReader &r) const
  {
    if (!(end_time > 0))
      r.fail("end time", "expected a positive time");
    if (!(cfl > 0))
      r.fail("cfl", "expected a Courant number in (0, 1]");
  }
} // namespace tpde
