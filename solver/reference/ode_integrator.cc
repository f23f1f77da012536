#include "reference/ode_integrator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace tpde::reference
{
  namespace
  {
    ButcherTableau make_dormand_prince_54()
    {
      ButcherTableau t;
      t.name               = "Dormand-Prince 5(4)";
      t.stages             = 7;
      t.order              = 5;
      t.embedded_order     = 4;
      t.first_same_as_last = true;
      t.c                  = {0., 1. / 5., 3. / 10., 4. / 5., 8. / 9., 1., 1.};
      t.a.assign(7 * 7, 0.);
      const std::vector<std::vector<double>> rows = {
        {},
        {1. / 5.},
        {3. / 40., 9. / 40.},
        {44. / 45., -56. / 15., 32. / 9.},
        {19372. / 6561., -25360. / 2187., 64448. / 6561., -212. / 729.},
        {9017. / 3168., -355. / 33., 46732. / 5247., 49. / 176., -5103. / 18656.},
        {35. / 384., 0., 500. / 1113., 125. / 192., -2187. / 6784., 11. / 84.}};
      for (unsigned int i = 0; i < 7; ++i)
        for (unsigned int j = 0; j < rows[i].size(); ++j)
          t.a[i * 7 + j] = rows[i][j];
      t.b          = {35. / 384., 0., 500. / 1113., 125. / 192., -2187. / 6784., 11. / 84., 0.};
      t.b_embedded = {5179. / 57600.,
                      0.,
                      7571. / 16695.,
                      393. / 640.,
                      -92097. / 339200.,
                      187. / 2100.,
                      1. / 40.};
      return t;
    }

    bool all_finite(const std::vector<double> &v)
    {
      for (double x : v)
        if (!std::isfinite(x))
          return false;
      return true;
    }

    double max_abs(const std::vector<double> &v)
    {
      double m = 0.;
      for (double x : v)
        m = std::max(m, std::abs(x));
      return m;
    }

    std::string describe(double t, double h, const std::vector<double> &y)
    {
      std::ostringstream out;
      out.precision(17);
      out << "t = " << t << ", step size " << h << ", max |y| = " << max_abs(y);
      return out.str();
    }

    // Step size controller constants (Hairer, Norsett & Wanner, II.4).
    constexpr double safety     = 0.9;
    constexpr double min_factor = 0.2;
    constexpr double max_factor = 5.;
  } // namespace

  const ButcherTableau &dormand_prince_54()
  {
    static const ButcherTableau tableau = make_dormand_prince_54();
    return tableau;
  }

  ButcherTableau extrapolated_midpoint(unsigned int columns)
  {
    if (columns < 2 || columns > 8)
      throw std::invalid_argument("extrapolated_midpoint: columns must be in [2, 8]");
    ButcherTableau t;
    t.name           = "extrapolated midpoint, " + std::to_string(columns) + " columns";
    t.order          = 2 * columns;
    t.embedded_order = 2 * columns - 2;

    std::vector<unsigned int> substeps(columns);
    t.stages = 1;
    for (unsigned int j = 0; j < columns; ++j)
      {
        substeps[j] = 2 * (j + 1);
        t.stages += substeps[j] - 1;
      }
    const unsigned int s = t.stages;
    t.a.assign(s * s, 0.);
    t.c.assign(s, 0.);
    t.b.assign(s, 0.);
    t.b_embedded.assign(s, 0.);

    // Every midpoint iterate is z = y0 + H sum_i w_i k_i; stage 0 is f(y0),
    // shared by all sweeps. z_1 = z_0 + h f(z_0), z_{m+1} = z_{m-1} + 2h f(z_m),
    // h = H/n; the stage of z_m (1 <= m < n) is a new row of the tableau.
    std::vector<std::vector<double>> sweep_results(columns);
    unsigned int                     next_stage = 1;
    for (unsigned int j = 0; j < columns; ++j)
      {
        const unsigned int               n = substeps[j];
        std::vector<std::vector<double>> w(n + 1, std::vector<double>(s, 0.));
        std::vector<unsigned int>        stage_of(n + 1, 0);
        w[1][0] = 1. / n;
        for (unsigned int m = 1; m < n; ++m)
          {
            stage_of[m] = next_stage++;
            for (unsigned int i = 0; i < s; ++i)
              t.a[stage_of[m] * s + i] = w[m][i];
            t.c[stage_of[m]] = static_cast<double>(m) / n;
            w[m + 1]         = w[m - 1];
            w[m + 1][stage_of[m]] += 2. / n;
          }
        sweep_results[j] = w[n];
      }

    // Polynomial extrapolation to h = 0 of the values T(h_j), error expansion
    // in h^2: Lagrange weights at 0 in the variable h_j^2 = (H / n_j)^2.
    auto extrapolate = [&](unsigned int first, std::vector<double> &b) {
      for (unsigned int j = first; j < columns; ++j)
        {
          double weight = 1.;
          for (unsigned int i = first; i < columns; ++i)
            if (i != j)
              {
                const double nj2 = double(substeps[j]) * substeps[j];
                const double ni2 = double(substeps[i]) * substeps[i];
                weight *= nj2 / (nj2 - ni2);
              }
          for (unsigned int i = 0; i < s; ++i)
            b[i] += weight * sweep_results[j][i];
        }
    };
    extrapolate(0, t.b);
    extrapolate(1, t.b_embedded);
    return t;
  }

  const ButcherTableau &default_ode_method()
  {
    static const ButcherTableau tableau = extrapolated_midpoint(4);
    return tableau;
  }

  OdeIntegrator::OdeIntegrator(RightHandSide       rhs,
                               double              t0,
                               std::vector<double> y0,
                               double              rtol,
                               double              atol)
    : OdeIntegrator(std::move(rhs), t0, std::move(y0), [&] {
      OdeOptions o;
      o.rtol = rtol;
      o.atol = atol;
      return o;
    }())
  {}

  OdeIntegrator::OdeIntegrator(RightHandSide       f_,
                               double              t0,
                               std::vector<double> y0,
                               const OdeOptions   &options_)
    : tableau(options_.method ? *options_.method : default_ode_method())
    , f(std::move(f_))
    , options(options_)
    , t(t0)
    , y(std::move(y0))
  {
    if (!f)
      throw std::invalid_argument("OdeIntegrator: no right-hand side given");
    if (!std::isfinite(t0))
      throw std::invalid_argument("OdeIntegrator: initial time is not finite");
    if (y.empty())
      throw std::invalid_argument("OdeIntegrator: empty initial state");
    if (!all_finite(y))
      throw std::invalid_argument("OdeIntegrator: initial state is not finite");
    if (options.fixed_step < 0. || !std::isfinite(options.fixed_step))
      throw std::invalid_argument("OdeIntegrator: fixed_step must be >= 0");
    if (options.fixed_step == 0. &&
        !(options.rtol >= 0. && options.atol >= 0. && options.rtol + options.atol > 0.))
      throw std::invalid_argument("OdeIntegrator: tolerances must be >= 0 and not both zero");
    // Below ~10 eps the error estimate is pure rounding noise.
    if (options.fixed_step == 0. && options.rtol > 0. &&
        options.rtol < 10. * std::numeric_limits<double>::epsilon())
      throw std::invalid_argument("OdeIntegrator: rtol below 10 machine epsilons");
    k.assign(tableau.stages, std::vector<double>(y.size()));
    f_at_y.resize(y.size());
    y_stage.resize(y.size());
    y_trial.resize(y.size());
  }

  void OdeIntegrator::evaluate(double time, const std::vector<double> &state, std::vector<double> &dydt)
  {
    ++n_evaluations;
    f(time, state, dydt);
    if (dydt.size() != state.size())
      throw std::logic_error("OdeIntegrator: right-hand side returned " +
                             std::to_string(dydt.size()) + " values for a state of size " +
                             std::to_string(state.size()));
  }

  double OdeIntegrator::initial_step_size(double interval)
  {
    // Hairer, Norsett & Wanner, "Solving ODEs I", II.4: an Euler step of
    // relative size 1% plus a second-derivative estimate.
    const std::size_t n     = y.size();
    auto              norm  = [&](const std::vector<double> &v) {
      double s = 0.;
      for (std::size_t i = 0; i < n; ++i)
        {
          const double sc = options.atol + options.rtol * std::abs(y[i]);
          s += (v[i] / sc) * (v[i] / sc);
        }
      return std::sqrt(s / n);
    };
    const double d0 = norm(y), d1 = norm(f_at_y);
    double       h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
    h0              = std::min(h0, interval);

    std::vector<double> &y1 = y_stage;
    std::vector<double> &f1 = k[0];
    for (int attempt = 0;; ++attempt)
      {
        for (std::size_t i = 0; i < n; ++i)
          y1[i] = y[i] + h0 * f_at_y[i];
        evaluate(t + h0, y1, f1);
        if (all_finite(f1))
          break;
        if (attempt == 50)
          throw std::runtime_error("OdeIntegrator: right-hand side is not finite near " +
                                   describe(t, h0, y));
        h0 *= 0.1;
      }
    std::vector<double> diff(n);
    for (std::size_t i = 0; i < n; ++i)
      diff[i] = f1[i] - f_at_y[i];
    const double d2   = norm(diff) / h0;
    const double dmax = std::max(d1, d2);
    const double h1   = dmax <= 1e-15 ? std::max(1e-6, 1e-3 * h0) :
                                      std::pow(0.01 / dmax, 1. / (tableau.order + 1.));
    return std::min({100. * h0, h1, interval});
  }

  double OdeIntegrator::trial_step(double h)
  {
    const std::size_t  n = y.size();
    const unsigned int s = tableau.stages;

    k[0] = f_at_y;
    for (unsigned int stage = 1; stage < s; ++stage)
      {
        for (std::size_t i = 0; i < n; ++i)
          {
            double increment = 0.;
            for (unsigned int j = 0; j < stage; ++j)
              increment += tableau.a_entry(stage, j) * k[j][i];
            y_stage[i] = y[i] + h * increment;
          }
        evaluate(t + tableau.c[stage] * h, y_stage, k[stage]);
      }

    // With FSAL, b is the last row of a: the last stage point is the new
    // solution and its derivative is the next step's first stage.
    double error_sum = 0.;
    for (std::size_t i = 0; i < n; ++i)
      {
        double increment = 0., error = 0.;
        for (unsigned int j = 0; j < s; ++j)
          {
            increment += tableau.b[j] * k[j][i];
            error += (tableau.b[j] - tableau.b_embedded[j]) * k[j][i];
          }
        y_trial[i] = tableau.first_same_as_last ? y_stage[i] : y[i] + h * increment;
        const double scale =
          options.atol + options.rtol * std::max(std::abs(y[i]), std::abs(y_trial[i]));
        const double scaled = h * error / scale;
        error_sum += scaled * scaled;
      }
    if (!all_finite(y_trial) || !all_finite(k[s - 1]) || !std::isfinite(error_sum))
      return std::numeric_limits<double>::infinity();
    return options.fixed_step > 0. ? 0. : std::sqrt(error_sum / n);
  }

  void OdeIntegrator::advance_to(double t_end)
  {
    if (!std::isfinite(t_end) || t_end < t)
      {
        std::ostringstream out;
        out.precision(17);
        out << "OdeIntegrator::advance_to(" << t_end << "): target must be finite and >= the current time " << t;
        throw std::invalid_argument(out.str());
      }
    if (t_end == t)
      return;

    if (!have_f_at_y)
      {
        evaluate(t, y, f_at_y);
        if (!all_finite(f_at_y))
          throw std::runtime_error("OdeIntegrator: right-hand side is not finite at " +
                                   describe(t, 0., y));
        have_f_at_y = true;
      }
    if (options.fixed_step > 0.)
      h_proposed = options.fixed_step;
    else if (h_proposed == 0.)
      h_proposed = initial_step_size(t_end - t);

    const double error_exponent =
      -1. / (std::min(tableau.order, tableau.embedded_order) + 1.);
    bool        last_rejected         = false;
    bool        last_trial_not_finite = false;
    std::size_t attempts              = 0;
    while (t < t_end)
      {
        if (++attempts > options.max_steps_per_advance)
          throw std::runtime_error("OdeIntegrator: more than " +
                                   std::to_string(options.max_steps_per_advance) +
                                   " steps in one advance_to at " + describe(t, h_proposed, y));

        // Stretch the step by up to 1% rather than leave a sliver before t_end.
        const double remaining = t_end - t;
        const bool   last      = remaining <= 1.01 * h_proposed;
        const double h         = last ? remaining : h_proposed;
        const double min_step  = 16. * std::numeric_limits<double>::epsilon() * std::abs(t);
        if (!last && (h <= min_step || h <= std::numeric_limits<double>::min()))
          throw std::runtime_error(
            "OdeIntegrator: step size underflow at " + describe(t, h, y) +
            (last_trial_not_finite ? "; the last trial step gave non-finite values" : "") +
            " (the solution probably blows up in finite time just after this t)");

        const double error    = trial_step(h);
        last_trial_not_finite = !std::isfinite(error);
        if (error <= 1.)
          {
            t = last ? t_end : t + h;
            std::swap(y, y_trial);
            if (tableau.first_same_as_last)
              f_at_y = k[tableau.stages - 1];
            else
              {
                evaluate(t, y, f_at_y);
                if (!all_finite(f_at_y))
                  throw std::runtime_error("OdeIntegrator: right-hand side is not finite at " +
                                           describe(t, h, y));
              }
            ++n_accepted;
            if (options.fixed_step > 0.)
              continue;

            double factor = error == 0. ? max_factor : safety * std::pow(error, error_exponent);
            factor = std::clamp(factor, min_factor, last_rejected ? 1. : max_factor);
            // A step shortened to hit t_end says little about the step the
            // solution allows; keep the earlier proposal unless this one is larger.
            h_proposed = h < h_proposed ? std::max(h_proposed, h * factor) : h * factor;
            last_rejected = false;
          }
        else
          {
            if (options.fixed_step > 0.)
              throw std::runtime_error("OdeIntegrator: state became non-finite in a fixed step at " +
                                       describe(t, h, y));
            ++n_rejected;
            const double factor =
              std::isfinite(error) ? std::max(min_factor, safety * std::pow(error, error_exponent)) :
                                     0.1;
            h_proposed    = h * factor;
            last_rejected = true;
          }
      }
  }
  std::vector<double> OdeIntegrator::snapshot() const
  {
    std::vector<double> all = {t, h_proposed};
    all.insert(all.end(), y.begin(), y.end());
    return all;
  }

  void OdeIntegrator::restore(const std::vector<double> &snapshot)
  {
    if (snapshot.size() != 2 + y.size())
      throw std::invalid_argument("OdeIntegrator::restore: expected " + std::to_string(2 + y.size()) +
                                  " numbers, got " + std::to_string(snapshot.size()));
    t          = snapshot[0];
    h_proposed = snapshot[1];
    y.assign(snapshot.begin() + 2, snapshot.end());
    have_f_at_y = false; // f(t, y) is evaluated again, to the same bits
  }
} // namespace tpde::reference
