// Adaptive explicit Runge-Kutta integration of y' = f(t, y), y in R^n.
//
// Any embedded explicit pair given as a Butcher tableau; the default is the
// extrapolated midpoint rule of order 8(6), Dormand-Prince 5(4) is available.
//
// Used for the Gaussian moment ODEs (alpha, Sigma), which are small (n <= 12)
// and smooth but may blow up in finite time. The references must be far more
// accurate than the grid solver they check (1e-12 versus 1e-5), so the default
// tolerances are tight. Plain C++: no deal.II.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace tpde::reference
{
  /// Coefficients of an embedded explicit Runge-Kutta pair. a is strictly lower
  /// triangular (stages x stages, row-major); b gives the propagated solution of
  /// order `order`, b_embedded the error estimator of order `embedded_order`.
  struct ButcherTableau
  {
    std::string         name;
    unsigned int        stages = 0;
    std::vector<double> a;
    std::vector<double> b;
    std::vector<double> b_embedded;
    std::vector<double> c;
    unsigned int        order          = 0;
    unsigned int        embedded_order = 0;
    /// First Same As Last: the last stage is evaluated at the new solution, so
    /// it is the first stage of the next step.
    bool first_same_as_last = false;

    double a_entry(unsigned int i, unsigned int j) const { return a[i * stages + j]; }
  };

  /// Dormand-Prince 5(4) (DOPRI5): propagates the 5th-order solution (local
  /// extrapolation), 7 stages, FSAL, so 6 evaluations per accepted step.
  const ButcherTableau &dormand_prince_54();

  /// Gragg's explicit midpoint rule with polynomial extrapolation in h^2
  /// (Gragg-Bulirsch-Stoer without smoothing), written as one explicit
  /// Runge-Kutta tableau: `columns` = k midpoint sweeps with 2, 4, ..., 2k
  /// substeps, extrapolated to order 2k; the estimator drops the first sweep
  /// (order 2k - 2). k = 4: 17 stages, order 8(6).
  ButcherTableau extrapolated_midpoint(unsigned int columns);

  /// The default pair: extrapolated_midpoint(4), order 8(6). At the same rtol
  /// it needs about half the right-hand side evaluations of Dormand-Prince
  /// 5(4) and its global error is ~10x smaller (T1 moment ODE to t = 30 at
  /// rtol 1e-13: 6e-14 versus 9e-13).
  const ButcherTableau &default_ode_method();

  struct OdeOptions
  {
    /// The Runge-Kutta pair; nullptr: default_ode_method().
    const ButcherTableau *method = nullptr;
    double rtol = 1e-13;
    double atol = 1e-15;
    /// > 0: take steps of exactly this size (the last one in each advance_to
    /// adjusted to land on t_end) without error control. Used to measure the
    /// order of the method; the references themselves use adaptive steps.
    double fixed_step = 0.;
    /// Accepted plus rejected steps allowed in one advance_to call.
    std::size_t max_steps_per_advance = 20'000'000;
  };

  class OdeIntegrator
  {
  public:
    /// dydt is overwritten with f(t, y); both have the size of y0.
    using RightHandSide =
      std::function<void(double t, const std::vector<double> &y, std::vector<double> &dydt)>;

    OdeIntegrator(RightHandSide       f,
                  double              t0,
                  std::vector<double> y0,
                  double              rtol = 1e-13,
                  double              atol = 1e-15);
    OdeIntegrator(RightHandSide f, double t0, std::vector<double> y0, const OdeOptions &options);

    /// Integrates from time() to exactly t_end (t_end >= time(); equal is a
    /// no-op). Steps are shortened to hit t_end, but the step size the
    /// controller proposed is remembered, so frequent calls with small
    /// increments do not make later steps small.
    /// Throws std::runtime_error when the step size underflows or the state
    /// becomes non-finite (typically a finite-time blow-up); time() and state()
    /// then hold the last accepted step.
    void advance_to(double t_end);

    double                     time() const { return t; }
    const std::vector<double> &state() const { return y; }
    std::size_t                steps() const { return n_accepted; }
    std::size_t                rejected_steps() const { return n_rejected; }
    std::size_t                rhs_evaluations() const { return n_evaluations; }
    const ButcherTableau      &method() const { return tableau; }

    /// The right-hand side changes at time() (piecewise-constant weights):
    /// f(t, y) is evaluated again, the proposed step is kept.
    void right_hand_side_changed() { have_f_at_y = false; }

    /// Where the integration is (time, proposed step, solution), and its
    /// restore: a resumed run continues exactly as the run that was stopped.
    std::vector<double> snapshot() const;
    void                restore(const std::vector<double> &snapshot);

  private:
    void   evaluate(double time, const std::vector<double> &state, std::vector<double> &dydt);
    double initial_step_size(double interval);
    /// One trial step of size h from (t, y) into y_trial; returns the scaled
    /// error norm (0 in fixed-step mode), or +infinity if anything is not finite.
    double trial_step(double h);

    ButcherTableau        tableau;
    RightHandSide         f;
    OdeOptions            options;

    double              t;
    std::vector<double> y;
    std::vector<double> f_at_y; // f(t, y), valid if have_f_at_y
    bool                have_f_at_y = false;
    double              h_proposed  = 0.; // 0: not chosen yet

    std::vector<std::vector<double>> k; // stage derivatives
    std::vector<double>              y_stage, y_trial;

    std::size_t n_accepted = 0, n_rejected = 0, n_evaluations = 0;
  };
} // namespace tpde::reference
