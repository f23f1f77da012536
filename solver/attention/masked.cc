// Masked (causal) attention (physics.md §1.7). A point is (s, x): the
// position s in [0, 1] of a token in the sequence (coordinate 0) and the token
// x in R^d. A token attends only to the tokens at or before its position:
//
//   X(s, x) = (0, X_base[mu restricted to [0, s] x R^d](x)),
//
// with X_base another variant (`masked kernel`): softmax (default), l2 and
// multihead normalise per target over that prefix; unnormalized and sigmoid
// divide by its mass. s is a frozen label (velocity 0). Sinkhorn is excluded:
// its plan is normalised over the targets too, which no causal mask respects.
//
// Point sources (tokens; s_i = i/n in the particle system of §1.7): the prefix
// of a target is every source with s_j <= s_i, itself included.
//
// Grid sources (evaluate_on_lines, attention::SourceLines): masking the
// quadrature nodes would be only first order in the cell that contains the
// target. The kernel does not depend on s, so the prefix is the x-measure
//   M(y) = int_0^{s_t} rho(s, y) ds
// at the x-positions y of the lines, and this is integrated exactly for the
// polynomial through the nodal values: a line entirely below s_t contributes
// its whole weight, a line whose cell [lower, upper] contains s_t contributes
//   sum_a w_a R_a(tau),  tau = (s_t - lower) / (upper - lower),
//   R_a(tau) = int_0^tau l_a / int_0^1 l_a   (l_a: Lagrange polynomial of node a).
// That sum is negative only where the polynomial is (an under-resolved cell);
// it is then taken as 0, as the unmasked field does with negative nodal
// densities.
//
// Cost: targets are grouped by their s value, and each group is one call of
// the base kernel with the prefix measure. Its sources are the distinct
// x-positions: lines at the same x (one column of a tensor mesh) are merged,
// so the cost is about targets x (x-positions), less than the unmasked direct
// sum over all (s, x) nodes.
//
// Targets with no mass at or below them (the face s = 0) get velocity 0. It is
// never used there: (0, X) has no flux through faces of constant s.
//
// Positional decay lambda >= 0 (`Masked attention/positional decay`, physics.md
// §4.3): the source at s' <= s has the weight
//   k_lambda(s, s') = lambda e^{-lambda (s - s')} / (1 - e^{-lambda s})
// (1/s at lambda = 0). Every variant's field depends only on the normalised
// prefix measure (softmax, l2, multihead normalise per target; unnormalized
// and sigmoid divide by the prefix mass), and int_0^s k_lambda ds' = 1 with
// slices of unit mass, so it suffices to multiply the sources by
// e^{-lambda (s - s')}: the constant cancels. For tokens at j/N this is the
// ALiBi weight e^{-lambda (j - k) / N} / Z_j of token k <= j. On the lines the
// factor is integrated with the nodal polynomial: sum_a w_a R_a(tau, c) with
//   R_a(tau, c) = int_0^tau l_a(u) e^{-c (tau - u)} du / int_0^1 l_a,
// c = lambda (upper - lower), by Gauss-Legendre panels over which c u changes
// by at most 1 (round-off for these degrees). lambda = 0 keeps the code path
// of the plain mask (bitwise the same results).
#include "attention/masked.h"

#include "attention/kernel_base.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tpde::attention
{
  namespace
  {
    /// Nodes and weights of the n-point Gauss-Legendre rule on [0, 1]
    /// (Newton's method on P_n from the Chebyshev guesses).
    void gauss_legendre(std::size_t n, std::vector<double> &nodes, std::vector<double> &weights)
    {
      nodes.assign(n, 0.);
      weights.assign(n, 0.);
      for (std::size_t i = 0; i < n; ++i)
        {
          double x = std::cos(M_PI * (double(i) + 0.75) / (double(n) + 0.5)), derivative = 1.;
          for (int iteration = 0; iteration < 100; ++iteration)
            {
              double p0 = 1., p1 = x; // P_0, P_1, then P_{k-1}, P_k
              for (std::size_t k = 2; k <= n; ++k)
                {
                  const double p2 = ((2. * double(k) - 1.) * x * p1 - (double(k) - 1.) * p0) / double(k);
                  p0              = p1;
                  p1              = p2;
                }
              derivative       = double(n) * (x * p1 - p0) / (x * x - 1.);
              const double dx  = p1 / derivative;
              x -= dx;
              if (std::abs(dx) < 1e-16)
                break;
            }
          nodes[i]   = 0.5 * (1. - x);
          weights[i] = 1. / ((1. - x * x) * derivative * derivative);
        }
    }

    /// R_a(tau) of the header for the nodes of one line (reference coordinates).
    class PartialIntegrals
    {
    public:
      explicit PartialIntegrals(const std::vector<double> &nodes)
        : m(nodes.size())
        , coefficients(m * m, 0.)
        , total(m)
      {
        for (std::size_t a = 0; a < m; ++a)
          {
            // Monomial coefficients of l_a, built factor by factor (m <= 5:
            // well conditioned on [0, 1]).
            std::vector<double> c(m, 0.);
            c[0] = 1.;
            std::size_t degree = 0;
            for (std::size_t b = 0; b < m; ++b)
              if (b != a)
                {
                  const double scale = 1. / (nodes[a] - nodes[b]);
                  for (std::size_t k = degree + 1; k-- > 0;)
                    {
                      c[k + 1] += c[k] * scale;
                      c[k] *= -nodes[b] * scale;
                    }
                  ++degree;
                }
            std::copy(c.begin(), c.end(), coefficients.begin() + a * m);
            total[a] = integral(a, 1.);
            if (!(total[a] > 0.))
              throw std::invalid_argument("masked attention: the line nodes must form a rule "
                                          "with positive weights (Gauss points)");
          }
      }

      /// sum_a weights[a] R_a(tau).
      double weight_below(const double *weights, double tau) const
      {
        double sum = 0.;
        for (std::size_t a = 0; a < m; ++a)
          sum += weights[a] * (integral(a, tau) / total[a]);
        return sum;
      }

      /// sum_a weights[a] R_a(tau, c) of the header (positional decay).
      double decayed_weight_below(const double *weights, double tau, double c) const
      {
        if (gauss_nodes.empty())
          gauss_legendre(8, gauss_nodes, gauss_weights);
        const std::size_t panels = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(c * tau)));
        const double      width  = tau / double(panels);
        double            sum    = 0.;
        for (std::size_t panel = 0; panel < panels; ++panel)
          for (std::size_t g = 0; g < gauss_nodes.size(); ++g)
            {
              const double u      = width * (double(panel) + gauss_nodes[g]);
              const double factor = gauss_weights[g] * width * std::exp(-c * (tau - u));
              for (std::size_t a = 0; a < m; ++a)
                sum += weights[a] * factor * (lagrange(a, u) / total[a]);
            }
        return sum;
      }

    private:
      double lagrange(std::size_t a, double u) const
      {
        double value = 0.;
        for (std::size_t k = m; k-- > 0;)
          value = value * u + coefficients[a * m + k];
        return value;
      }

      double integral(std::size_t a, double tau) const
      {
        double value = 0.;
        for (std::size_t k = m; k-- > 0;)
          value = (value + coefficients[a * m + k] / double(k + 1)) * tau;
        return value;
      }

      std::size_t         m;
      std::vector<double> coefficients; // a * m + k: coefficient of sigma^k in l_a
      std::vector<double> total;        // int_0^1 l_a
      mutable std::vector<double> gauss_nodes, gauss_weights;
    };

    class MaskedKernel : public CheckedKernel
    {
    public:
      MaskedKernel(std::unique_ptr<Kernel> base_kernel, double positional_decay)
        : CheckedKernel("masked", base_kernel->dimension() + 1)
        , base(std::move(base_kernel))
        , d(base->dimension())
        , decay(positional_decay)
      {
        if (!(decay >= 0. && std::isfinite(decay)))
          throw std::invalid_argument("masked attention: the positional decay must be a finite number >= 0");
      }

      bool uses_source_lines() const override { return true; }

      std::vector<std::pair<std::string, double>> diagnostics() const override
      {
        return base->diagnostics();
      }

      void begin_step() const override { base->begin_step(); }

      void evaluate_on_lines(std::size_t        n_targets,
                             const double      *targets,
                             std::size_t        n_sources,
                             const double      *sources,
                             const double      *weights,
                             const SourceLines &lines,
                             double            *velocities) const override
      {
        const std::size_t m = lines.points_per_line;
        if (m == 0)
          return evaluate(n_targets, targets, n_sources, sources, weights, velocities);
        if (n_sources % m != 0)
          throw std::logic_error("masked attention: sources are not whole lines");
        const std::size_t      n_lines = n_sources / m;
        const PartialIntegrals partial(
          std::vector<double>(lines.reference_nodes, lines.reference_nodes + m));

        // Columns: distinct x-positions. Lines of different cells at one x
        // differ by rounding at most; positions are compared on a grid of
        // 2^-40 times the extent of the sources (a pair straddling a grid
        // line stays two columns, which is only slower).
        std::vector<double> low(d, 0.), extent(d, 0.);
        for (std::size_t c = 0; c < d; ++c)
          {
            double lo = 0., hi = 0.;
            for (std::size_t l = 0; l < n_lines; ++l)
              {
                const double v = sources[l * m * (d + 1) + 1 + c];
                lo = l == 0 ? v : std::min(lo, v);
                hi = l == 0 ? v : std::max(hi, v);
              }
            low[c]    = lo;
            extent[c] = hi > lo ? hi - lo : 1.;
          }
        std::map<std::array<long long, 3>, std::size_t> column_of_key;
        std::vector<std::size_t>                         column(n_lines);
        std::vector<double>                              column_x;
        for (std::size_t l = 0; l < n_lines; ++l)
          {
            const double           *x = sources + l * m * (d + 1) + 1;
            std::array<long long, 3> key{};
            for (std::size_t c = 0; c < d; ++c)
              key[c] = std::llround(std::ldexp((x[c] - low[c]) / extent[c], 40));
            const auto [it, added] = column_of_key.emplace(key, column_of_key.size());
            if (added)
              column_x.insert(column_x.end(), x, x + d);
            column[l] = it->second;
          }
        const std::size_t n_columns = column_of_key.size();

        // Whole lines: their weight (decay: e^{-lambda (upper - s')} included).
        std::vector<double> line_weight(n_lines, 0.);
        for (std::size_t l = 0; l < n_lines; ++l)
          if (decay > 0.)
            line_weight[l] = partial.decayed_weight_below(weights + l * m, 1., decay * (lines.upper[l] - lines.lower[l]));
          else
            for (std::size_t a = 0; a < m; ++a)
              line_weight[l] += weights[l * m + a];
        std::vector<std::size_t> by_upper(n_lines), by_lower(n_lines);
        std::iota(by_upper.begin(), by_upper.end(), 0);
        std::iota(by_lower.begin(), by_lower.end(), 0);
        std::stable_sort(by_upper.begin(), by_upper.end(),
                         [&](std::size_t i, std::size_t j) { return lines.upper[i] < lines.upper[j]; });
        std::stable_sort(by_lower.begin(), by_lower.end(),
                         [&](std::size_t i, std::size_t j) { return lines.lower[i] < lines.lower[j]; });

        std::vector<double>      below(n_columns, 0.); // lines entirely below s
        std::vector<double>      prefix(n_columns), x, w;
        std::vector<std::size_t> started; // lines with lower < s, possibly containing s
        std::size_t              next_full = 0, next_started = 0;
        double                   below_at  = 0.; // the s that `below` is decayed to
        for_each_group(n_targets, targets, [&](double s, const std::vector<std::size_t> &group) {
          if (decay > 0.)
            {
              const double factor = std::exp(-decay * (s - below_at));
              for (double &b : below)
                b *= factor;
              below_at = s;
            }
          for (; next_full < n_lines && lines.upper[by_upper[next_full]] <= s; ++next_full)
            below[column[by_upper[next_full]]] +=
              line_weight[by_upper[next_full]] * decay_factor(s - lines.upper[by_upper[next_full]]);
          for (; next_started < n_lines && lines.lower[by_lower[next_started]] < s; ++next_started)
            started.push_back(by_lower[next_started]);
          started.erase(std::remove_if(started.begin(), started.end(),
                                       [&](std::size_t l) { return lines.upper[l] <= s; }),
                        started.end());
          prefix = below;
          for (const std::size_t l : started)
            {
              const double h   = lines.upper[l] - lines.lower[l];
              const double tau = (s - lines.lower[l]) / h;
              prefix[column[l]] += std::max(0., decay > 0. ? partial.decayed_weight_below(weights + l * m, tau, decay * h)
                                                           : partial.weight_below(weights + l * m, tau));
            }
          x.clear();
          w.clear();
          for (std::size_t c = 0; c < n_columns; ++c)
            if (prefix[c] > 0.)
              {
                x.insert(x.end(), &column_x[c * d], &column_x[c * d] + d);
                w.push_back(prefix[c]);
              }
          evaluate_group(group, targets, w.size(), x.data(), w.data(), !w.empty(), velocities);
        });
      }

    protected:
      void evaluate_checked(const Targets &target_points,
                            const Sources &source_points,
                            double        *velocities) const override
      {
        const std::size_t n_targets = target_points.n, n_sources = source_points.n;
        const double     *targets = target_points.points, *sources = source_points.points;
        const double     *weights = source_points.weights;
        // Sources in order of s: the prefix of every group is a leading run.
        std::vector<std::size_t> order(n_sources);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) {
          return sources[i * (d + 1)] < sources[j * (d + 1)];
        });
        std::vector<double> x, w, position, decayed;
        x.reserve(n_sources * d);
        w.reserve(n_sources);
        std::size_t next  = 0;
        double      total = 0.;
        for_each_group(n_targets, targets, [&](double s, const std::vector<std::size_t> &group) {
          for (; next < n_sources && sources[order[next] * (d + 1)] <= s; ++next)
            {
              const double *p = sources + order[next] * (d + 1);
              x.insert(x.end(), p + 1, p + 1 + d);
              w.push_back(weights[order[next]]);
              position.push_back(p[0]);
              total += weights[order[next]];
            }
          const double *group_weights = w.data();
          if (decay > 0.)
            {
              decayed.resize(w.size());
              for (std::size_t j = 0; j < w.size(); ++j)
                decayed[j] = w[j] * decay_factor(s - position[j]);
              group_weights = decayed.data();
            }
          evaluate_group(group, targets, w.size(), x.data(), group_weights, total > 0., velocities);
        });
      }

    private:
      /// e^{-lambda ds}, the positional decay over a distance ds >= 0.
      double decay_factor(double ds) const { return decay > 0. ? std::exp(-decay * ds) : 1.; }

      /// Calls f(s, indices) for the targets of each distinct s, in increasing s.
      template <typename F>
      void for_each_group(std::size_t n_targets, const double *targets, const F &f) const
      {
        std::vector<std::size_t> order(n_targets);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) {
          return targets[i * (d + 1)] < targets[j * (d + 1)];
        });
        std::vector<std::size_t> group;
        for (std::size_t k = 0; k < n_targets;)
          {
            const double s = targets[order[k] * (d + 1)];
            group.clear();
            for (; k < n_targets && targets[order[k] * (d + 1)] == s; ++k)
              group.push_back(order[k]);
            f(s, group);
          }
      }

      /// Velocities (0, X_base) of the targets in `group` for the given
      /// prefix measure (x-positions and weights); 0 without mass.
      void evaluate_group(const std::vector<std::size_t> &group,
                          const double                   *targets,
                          std::size_t                     n_sources,
                          const double                   *x,
                          const double                   *w,
                          bool                            has_mass,
                          double                         *velocities) const
      {
        std::vector<double> points(group.size() * d), result(group.size() * d, 0.);
        for (std::size_t i = 0; i < group.size(); ++i)
          std::copy(targets + group[i] * (d + 1) + 1, targets + (group[i] + 1) * (d + 1),
                    points.begin() + i * d);
        if (has_mass)
          base->evaluate(group.size(), points.data(), n_sources, x, w, result.data());
        for (std::size_t i = 0; i < group.size(); ++i)
          {
            double *v = velocities + group[i] * (d + 1);
            v[0]      = 0.;
            std::copy(result.begin() + i * d, result.begin() + (i + 1) * d, v + 1);
          }
      }

      std::unique_ptr<Kernel> base;
      std::size_t             d;
      double                  decay; // lambda of the header
    };

    /// The variant `masked kernel` names; throws std::invalid_argument
    /// listing the variants that may be masked otherwise.
    const Variant &find_masked_base(const Parameters &parameters)
    {
      const std::string &name = parameters.masked_kernel;
      std::string        allowed;
      for (const Variant &variant : variants())
        if (variant.capabilities.masked_base)
          {
            if (variant.name == name)
              return variant;
            allowed += (allowed.empty() ? "" : ", ") + variant.name;
          }
      throw std::invalid_argument("entry 'masked kernel': expected one of " + allowed +
                                  " (sinkhorn's plan is normalised over all tokens, which a "
                                  "causal mask cannot respect), got '" + name + "'");
    }

    /// The base variant's form in x, embedded in the point (s, x) with s not
    /// scored. The mask is ignored: every source counts for every target,
    /// which bounds what a source receives from the targets above it.
    std::optional<ScoreForm> masked_score_form(const Parameters &parameters)
    {
      const Variant           &base = find_masked_base(parameters);
      std::optional<ScoreForm> form;
      if (base.capabilities.score_form)
        form = base.capabilities.score_form(parameters);
      if (form)
        for (Matrix *m : {&form->A, &form->KtK})
          {
            Matrix embedded(m->rows + 1, m->cols + 1, 0.);
            for (std::size_t i = 0; i < m->rows; ++i)
              for (std::size_t j = 0; j < m->cols; ++j)
                embedded(i + 1, j + 1) = (*m)(i, j);
            *m = embedded;
          }
      return form;
    }
  } // namespace

  std::unique_ptr<Kernel> make_masked_kernel(std::unique_ptr<Kernel> base, double positional_decay)
  {
    return std::make_unique<MaskedKernel>(std::move(base), positional_decay);
  }

  Variant make_masked_variant()
  {
    Variant variant{"masked",
            "Masked (causal) attention: points are (s, x), s in [0, 1] the position in the "
            "sequence (first coordinate, a frozen label) and x in R^d; X(s, x) = (0, X_base(x)) "
            "with X_base the variant 'masked kernel' (softmax, l2, multihead, unnormalized or "
            "sigmoid) over the tokens at positions s' <= s only. On the grid the prefix "
            "integral over s' is exact for the DG polynomial, also inside the target's cell. "
            "Q, K, V (or the multihead entries) are those of the base variant (d x d). With "
            "Masked attention/positional decay = lambda > 0 the source at s' <= s is weighted by "
            "lambda e^{-lambda (s - s')} / (1 - e^{-lambda s}) instead of 1/s.",
            [](const Parameters &parameters) -> std::unique_ptr<Kernel> {
              return make_masked_kernel(find_masked_base(parameters).create(parameters),
                                        parameters.positional_decay);
            }};
    Capabilities &can     = variant.capabilities;
    can.score_form        = masked_score_form;
    can.fast_summation    = true; // through the base variant, where it applies
    can.float_exponential = true;
    can.positions         = true;
    variant.declare_entries = [](EntryDeclarations &entries) {
      entries.declare("masked kernel", "softmax", EntryPattern::anything(),
                      "masked: the variant each token applies to the tokens at or before its position s (softmax, "
                      "l2, multihead, unnormalized or sigmoid, with their entries above); see subsection 'Masked "
                      "attention'.");
    };
    variant.read_entries = [](const EntryReader &r, Parameters &p) {
      p.masked_kernel = r.text("masked kernel");
      // The base variant's own entries (an unknown base fails when the kernel is built).
      for (const Variant &base : variants())
        if (base.name == p.masked_kernel && base.capabilities.masked_base && base.read_entries)
          base.read_entries(r, p);
    };
    return variant;
  }
} // namespace tpde::attention
