// Initial type `von mises`: a weighted sum of von Mises-Fisher laws on the
// sphere, each e^{kappa <mu, x>} normalised:
//   circle: e^{kappa <mu, x>} / (2 pi I_0(kappa)),
//   S^2:    kappa e^{kappa <mu, x>} / (4 pi sinh kappa)   (kappa = 0: uniform).
// Evaluated as e^{-kappa |x - mu|^2 / 2} (= e^{kappa (<mu, x> - 1)} on the
// sphere) times a scaled normaliser, so that kappa in the hundreds neither
// overflows nor loses digits. Tokens are exact draws: Best and Fisher's
// rejection from a wrapped Cauchy law on the circle, the inverse CDF of
// <mu, x> and a uniform tangent direction on S^2.
#include "initial/sphere_geometry.h"

#include <algorithm>
#include <cmath>

namespace tpde
{
  namespace
  {
    /// Concentrations beyond this are refused: the law's width 1 / sqrt(kappa)
    /// is then far below any mesh, and the samplers' constants degenerate.
    constexpr double max_concentration = 1e6;

    /// I_0(kappa) e^{-kappa}: the power series (positive terms) up to 30, the
    /// asymptotic series beyond (its smallest term there is below e^{-60}).
    double scaled_bessel_i0(double kappa)
    {
      if (kappa <= 30)
        {
          const double q   = 0.25 * kappa * kappa;
          double       sum = 1, term = 1;
          for (int k = 1; term > 1e-17 * sum; ++k)
            {
              term *= q / (double(k) * k);
              sum += term;
            }
          return sum * std::exp(-kappa);
        }
      double sum = 1, term = 1;
      for (int k = 1; k < 200; ++k)
        {
          const double next = term * (2. * k - 1) * (2. * k - 1) / (8. * k * kappa);
          if (next > term || next < 1e-17)
            break;
          term = next;
          sum += term;
        }
      return sum / std::sqrt(2 * M_PI * kappa);
    }

    struct Component
    {
      double              weight; // normalised: the weights sum to 1
      std::vector<double> mu;     // unit vector
      double              kappa;
      double              scale = 0; // density at mu / e^0: the normaliser times e^{kappa}
    };

    class VonMisesMixture : public sphere::SphereDensity
    {
    public:
      explicit VonMisesMixture(std::vector<Component> components)
        : SphereDensity(components.front().mu.size())
        , components(std::move(components))
      {
        for (auto &c : this->components)
          if (c.kappa == 0)
            c.scale = 1. / sphere::area(dim);
          else if (dim == 2)
            c.scale = 1. / (2 * M_PI * scaled_bessel_i0(c.kappa));
          else // kappa / (4 pi sinh kappa) e^{kappa} = kappa / (2 pi (1 - e^{-2 kappa}))
            c.scale = c.kappa / (-2 * M_PI * std::expm1(-2 * c.kappa));
      }

      std::vector<double> sample(std::size_t n, particles::Sampling sampling, std::uint64_t seed,
                                 const std::vector<double> &, const std::vector<double> &) const override;

    protected:
      double on_sphere(const double *x) const override
      {
        double sum = 0;
        for (const auto &c : components)
          {
            // kappa (<mu, x> - 1) = -kappa |x - mu|^2 / 2: no cancellation near mu.
            double d2 = 0;
            for (unsigned int a = 0; a < dim; ++a)
              d2 += (x[a] - c.mu[a]) * (x[a] - c.mu[a]);
            sum += c.weight * c.scale * std::exp(-0.5 * c.kappa * d2);
          }
        return sum;
      }

    private:
      /// cos of the angle to mu of one circle draw (Best & Fisher 1979): a
      /// wrapped Cauchy proposal accepted with probability Y e^{1 - Y}, exact
      /// for any s > 1 (their s maximises the acceptance rate). u: the point
      /// drawn last, whose u[1], u[2] make the first try; u[3] of the accepted
      /// point is left for the side.
      static double best_fisher(double kappa, particles::UniformSource &source, double *u)
      {
        // Their s = (1 + rho^2) / (2 rho), rho = (tau - sqrt(2 tau)) / (2 kappa),
        // tau = 1 + sqrt(1 + 4 kappa^2), in a form without cancellation.
        const double half = 0.5 / kappa, s = half + std::sqrt(1 + half * half);
        for (;; source.next(u))
          {
            const double z = std::cos(M_PI * u[1]);
            const double w = (1 + s * z) / (s + z);
            const double y = kappa * (s - w);
            if (y * (2 - y) - u[2] >= 0 || std::log(y / u[2]) + 1 - y >= 0)
              return w;
          }
      }

      std::vector<Component> components;
    };

    std::vector<double> VonMisesMixture::sample(std::size_t n, particles::Sampling sampling, std::uint64_t seed,
                                                const std::vector<double> &, const std::vector<double> &) const
    {
      std::vector<double> cumulative;
      for (const auto &c : components)
        cumulative.push_back((cumulative.empty() ? 0. : cumulative.back()) + c.weight);
      // u[0]: the component; circle u[1..3] (Best-Fisher), S^2 u[1..2].
      particles::UniformSource source(sampling, dim == 2 ? 4 : 3, seed);
      std::vector<double>      tokens(n * dim);
      double                   u[4];
      for (std::size_t i = 0; i < n; ++i)
        {
          source.next(u);
          const std::size_t k = std::min<std::size_t>(
            std::upper_bound(cumulative.begin(), cumulative.end(), u[0] * cumulative.back()) - cumulative.begin(),
            components.size() - 1);
          const Component &c = components[k];
          const auto       e = sphere::tangent_basis(dim, c.mu.data());
          double          *x = &tokens[i * dim];
          if (dim == 2)
            {
              const double w = c.kappa == 0 ? std::cos(2 * M_PI * u[1]) : best_fisher(c.kappa, source, u);
              const double sine = std::sqrt(std::max(0., (1 - w) * (1 + w))) * (u[3] < 0.5 ? -1 : 1);
              for (unsigned int a = 0; a < 2; ++a)
                x[a] = w * c.mu[a] + sine * e[0][a];
            }
          else
            {
              // 1 - <mu, x> = -log(u + (1 - u) e^{-2 kappa}) / kappa, written with
              // log1p/expm1 (kappa -> 0: uniform in [0, 2]).
              const double h = c.kappa == 0 ? 2 * (1 - u[1]) :
                                              -std::log1p((1 - u[1]) * std::expm1(-2 * c.kappa)) / c.kappa;
              const double sine = std::sqrt(std::max(0., h * (2 - h)));
              const double phi  = 2 * M_PI * u[2];
              for (unsigned int a = 0; a < 3; ++a)
                x[a] = (1 - h) * c.mu[a] + sine * (std::cos(phi) * e[0][a] + std::sin(phi) * e[1][a]);
            }
          sphere::normalise(dim, x);
        }
      return tokens;
    }

    std::vector<Component> read_components(const EntryReader &r, unsigned int dim)
    {
      std::vector<Component> components;
      double                 total = 0;
      for (const auto &item : r.items("von mises weights", ','))
        {
          const auto value = parse_number(item);
          if (!value || !(*value > 0) || !std::isfinite(*value))
            r.fail("von mises weights", "expected positive numbers separated by ',', got '" + item + "'");
          components.push_back({*value, {}, 0.});
          total += *value;
        }
      const std::size_t n = components.size();
      if (n == 0)
        r.fail("von mises weights", "expected at least one weight");
      for (auto &c : components)
        c.weight /= total;

      const std::string shape = std::to_string(n) + " x " + std::to_string(dim);
      if (r.is_empty("von mises directions"))
        for (auto &c : components)
          {
            c.mu.assign(dim, 0.);
            c.mu[dim - 1] = 1.;
          }
      else
        {
          const Matrix mu = r.matrix("von mises directions");
          if (mu.rows != n || mu.cols != dim)
            r.fail("von mises directions", "expected one row of " + std::to_string(dim) +
                                             " numbers per component, rows separated by ';' (" + shape + "), got " +
                                             matrix_shape(mu));
          for (std::size_t k = 0; k < n; ++k)
            {
              components[k].mu.assign(mu.data.begin() + k * dim, mu.data.begin() + (k + 1) * dim);
              if (!sphere::normalise(dim, components[k].mu.data()))
                r.fail("von mises directions", "expected non-zero finite directions, got row " + std::to_string(k + 1) +
                                                 " = 0");
            }
        }

      auto kappas = r.numbers("von mises concentrations");
      if (kappas.size() == 1)
        kappas.assign(n, kappas[0]); // one value stands for every component
      if (kappas.size() != n)
        r.fail("von mises concentrations",
               "expected " + std::to_string(n) + " numbers (one per weight), got " + std::to_string(kappas.size()));
      for (std::size_t k = 0; k < n; ++k)
        {
          if (!(kappas[k] >= 0 && kappas[k] <= max_concentration))
            r.fail("von mises concentrations",
                   "expected numbers in [0, 1e6], got " + std::to_string(kappas[k]));
          components[k].kappa = kappas[k];
        }
      return components;
    }
  } // namespace

  InitialType von_mises_initial_type()
  {
    InitialType type;
    type.declare = [](EntryDeclarations &entries) {
      entries.declare("von mises weights", "1", EntryPattern::anything(),
                      "von Mises-Fisher mixture on the sphere: positive weights separated by ',' (normalised "
                      "to sum 1).");
      entries.declare("von mises directions", "", EntryPattern::anything(),
                      "One mean direction of d numbers per component, rows separated by ';' (normalised; "
                      "non-zero). Empty: every component along the last axis.");
      entries.declare("von mises concentrations", "1", EntryPattern::anything(),
                      "kappa >= 0 per component, separated by ',' (one number: all). Component density "
                      "e^{kappa <mu,x>} / (2 pi I_0(kappa)) on the circle, kappa e^{kappa <mu,x>} / "
                      "(4 pi sinh kappa) on S^2 (area measure); kappa = 0: uniform.");
    };
    type.read = [](const EntryReader &r, const InitialContext &context) -> std::shared_ptr<const InitialDensity> {
      sphere::require_sphere(r, context, "von mises");
      return std::make_shared<VonMisesMixture>(read_components(r, context.dim));
    };
    return type;
  }
} // namespace tpde
