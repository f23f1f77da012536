// When the fast summation hands the sums to the butterfly summation
// (butterfly_summation.h): full-rank 3D score spaces before the box
// recursion, where its node grids need high degrees summed over every
// source, and full-rank 2D ones once the root box is to be split; if the
// butterfly's predicted cost is well below the direct sum's. Its result is
// kept only if it meets the error budget at the scale sample.
#include "attention/butterfly_summation.h"
#include "attention/fast_summation_internal.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace tpde::attention::fast::detail
{
  namespace
  {
    // The relative accuracy of the sums that the budget allows, about, for
    // planning before the velocity scale is known (see try_butterfly).
    constexpr double nominal_accuracy_per_tolerance = 0.05;
    // Targets checked against exact sums besides the velocity scale's sample.
    constexpr std::size_t extra_checked_targets = 64;
    // The accuracy asked of the butterfly the first time and, if the sample
    // check fails, the second (relative to what the budget allows).
    constexpr double butterfly_accuracy_tries[2] = {1., 1e-3};
  } // namespace

  double Interpolator::sample_error_over_budget(const Indices             &checked,
                                                const std::vector<double> &exact_values,
                                                const std::vector<double> &all_values) const
  {
    const double budget = std::exp(log_half_budget);
    double       worst  = 0.;
    for (std::size_t s = 0; s < checked.size(); ++s)
      {
        const double *exact   = &exact_values[s * n_outputs];
        const double *value   = &all_values[checked[s] * n_outputs];
        double        q_error = 0., q_size = 0.;
        for (unsigned int i = 0; i < dim; ++i)
          {
            q_error = std::max(q_error, std::abs(value[i] - exact[i]));
            q_size  = std::max(q_size, std::abs(exact[i]));
          }
        double error = q_error;
        if (sum.log_scale)
          {
            const double L_error = std::abs(value[dim] - exact[dim]);
            error = sum.absolute_error ? q_error + L_error : std::exp(exact[dim]) * (q_error + q_size * L_error);
          }
        worst = std::max(worst, std::isfinite(error) ? error / budget : std::numeric_limits<double>::infinity());
      }
    return worst;
  }

  bool Interpolator::butterfly_applies() const
  {
    return !sum.probe && !collective && n_active == dim &&
           (root_split ? butterfly_work_limit_after_root_split(dim) : butterfly_work_limit_for(dim)) > 0. &&
           std::getenv("TPDE_NO_BUTTERFLY") == nullptr;
  }

  double Interpolator::butterfly_work_per_pair()
  {
    if (n_targets == 0 || sum.n_sources == 0)
      return std::numeric_limits<double>::infinity();
    find_axes();
    if (!butterfly_applies())
      return std::numeric_limits<double>::infinity();
    const ButterflyOutcome outcome = plan_butterfly(sum, n_targets, targets, nominal_accuracy_per_tolerance * tolerance);
    return outcome.cost / (static_cast<double>(n_targets) * static_cast<double>(sum.n_sources));
  }

  bool Interpolator::try_butterfly(Box &root, Statistics &statistics)
  {
    if (!butterfly_applies() || scale_sample.empty())
      return false;
    // The budget as a relative accuracy of the sums D and N: an error
    // eps D in D and eps G D in N (G: the sources' largest distance from
    // the middle of their box) moves q by at most |V| 2 eps G, and L by eps.
    double low[max_dim], high[max_dim];
    std::fill(low, low + max_dim, std::numeric_limits<double>::infinity());
    std::fill(high, high + max_dim, -std::numeric_limits<double>::infinity());
    for (std::size_t j = 0; j < sum.n_sources; ++j)
      for (unsigned int m = 0; m < dim; ++m)
        {
          low[m]  = std::min(low[m], sum.coordinate[j * dim + m]);
          high[m] = std::max(high[m], sum.coordinate[j * dim + m]);
        }
    double G = 0., V_norm = 0.;
    for (unsigned int m = 0; m < dim; ++m)
      G += 0.25 * (high[m] - low[m]) * (high[m] - low[m]);
    G = std::sqrt(G);
    for (unsigned int i = 0; i < dim * dim; ++i)
      V_norm += sum.V ? sum.V[i] * sum.V[i] : (i % (dim + 1) == 0 ? 1. : 0.);
    V_norm = std::sqrt(V_norm);
    double largest_L = sum.log_scale && !sum.absolute_error ? -std::numeric_limits<double>::infinity() : 0.;
    double largest_q = 0.;
    for (std::size_t s = 0; s < scale_sample.size(); ++s)
      {
        for (unsigned int i = 0; i < dim; ++i)
          largest_q = std::max(largest_q, std::abs(scale_values[s * n_outputs + i]));
        if (sum.log_scale && !sum.absolute_error)
          largest_L = std::max(largest_L, scale_values[s * n_outputs + dim]);
      }
    const double accuracy = std::exp(log_half_budget - largest_L) /
                            std::max(2. * V_norm * G + (sum.log_scale ? largest_q : 0.), 1e-300);

    // Checked: the scale's sample and evenly spaced targets between them.
    Indices             checked = scale_sample;
    std::vector<double> exact_values(scale_values), points;
    for (std::size_t k = 0; k < extra_checked_targets && k < n_targets; ++k)
      {
        const std::size_t t = (2 * k + 1) * n_targets / (2 * extra_checked_targets);
        checked.push_back(t);
        points.insert(points.end(), targets + t * dim, targets + (t + 1) * dim);
      }
    exact_values.resize(checked.size() * n_outputs);
    sum.evaluate(checked.size() - scale_sample.size(), points.data(), &root.sources,
                 &exact_values[scale_sample.size() * n_outputs]);

    const double direct_pairs = static_cast<double>(n_targets) * static_cast<double>(root.sources.size());
    std::vector<double> butterfly_values(n_targets * n_outputs);
    for (const double factor : butterfly_accuracy_tries)
      {
        const auto since = profile.start();
        const ButterflyOutcome outcome = butterfly_sums(
          sum,
          n_targets,
          targets,
          factor * accuracy,
          (root_split ? butterfly_work_limit_after_root_split(dim) : butterfly_work_limit_for(dim)) * direct_pairs,
          butterfly_values.data());
        profile.stop(phase_nodes, since);
        if (!outcome.affordable)
          {
            if (profile.enabled)
              std::fprintf(stderr,
                           "butterfly: not used, %.3g multiply-adds predicted (%.3g per direct pair), kappa %g, "
                           "points %u %u %u, %u stages\n",
                           outcome.cost,
                           outcome.cost / direct_pairs,
                           outcome.kappa,
                           outcome.points[0],
                           outcome.points[1],
                           outcome.points[2],
                           outcome.stages);
            return false;
          }
        // Spent whether kept or not: the box recursion gets what is left.
        const double spent = outcome.cost / butterfly_multiply_adds_per_pair;
        root.allowance -= spent;
        statistics.node_work += spent;
        if (!outcome.done)
          continue; // a denominator not positive: more accuracy
        const double error = sample_error_over_budget(checked, exact_values, butterfly_values);
        if (profile.enabled)
          std::fprintf(stderr,
                       "butterfly: accuracy %.3g, %zu pairs, %.3g multiply-adds (%.3g per direct pair); sample "
                       "error %.3g of the budget at %zu targets\n",
                       factor * accuracy,
                       outcome.pairs,
                       outcome.cost,
                       outcome.cost / direct_pairs,
                       error,
                       checked.size());
        if (error <= 1.)
          {
            std::copy(butterfly_values.begin(), butterfly_values.end(), values);
            statistics.butterfly_work = outcome.cost;
            return true;
          }
      }
    return false;
  }
} // namespace tpde::attention::fast::detail

namespace tpde::attention::fast
{
  double butterfly_work_limit_for(unsigned int dim)
  {
    // Not in 2D before the box recursion (measured, 2026-12-05): on
    // clustered particles the butterfly is 2.4x faster than the box
    // recursion at 1e4..1e6, but on mesh densities one root box of degree
    // <= 32 often holds the sums (T6 at 64^2: 908 node sums), which is
    // cheaper than the butterfly's pairs; see
    // butterfly_work_limit_after_root_split.
    return dim == 3 ? butterfly_work_limit : 0.;
  }

  double butterfly_work_limit_after_root_split(unsigned int dim)
  {
    // In 2D once the root box is to be split (no degree up to 32 predicted
    // to meet the budget): the box recursion then builds a tree, and the
    // butterfly is the cheaper of the two (README, fast summation).
    return dim == 2 ? butterfly_work_limit : 0.;
  }

  double butterfly_work_per_pair(const ExponentialSum &sum, std::size_t n_targets, const double *targets, double tolerance)
  {
    const double unlimited = std::numeric_limits<double>::infinity();
    detail::Interpolator interpolator(sum, n_targets, targets, tolerance, unlimited, unlimited, nullptr);
    return interpolator.butterfly_work_per_pair();
  }
} // namespace tpde::attention::fast
