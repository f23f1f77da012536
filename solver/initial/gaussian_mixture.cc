// Initial types `gaussian` (N(mean, covariance)) and `mixture` (a weighted sum
// of Gaussians); tokens are drawn by the exact transform (inverse normal CDF
// and Cholesky factor).
#include "initial/gaussian_mixture.h"
#include "initial/sphere_geometry.h"

namespace tpde
{
  GaussianMixture::GaussianMixture(std::vector<Component> components)
    : components(std::move(components))
  {
    for (const auto &c : this->components)
      densities.emplace_back(c.state);
  }

  unsigned int GaussianMixture::dimension() const
  {
    return components.front().state.mean.size();
  }

  double GaussianMixture::value(const double *x) const
  {
    double sum = 0;
    for (std::size_t i = 0; i < components.size(); ++i)
      sum += components[i].weight * densities[i].evaluate(x);
    return sum;
  }

  std::optional<reference::GaussianState> GaussianMixture::gaussian() const
  {
    if (components.size() == 1)
      return components.front().state;
    return std::nullopt;
  }

  std::shared_ptr<const InitialDensity> GaussianMixture::with_unit_mass() const
  {
    double total = 0;
    for (const auto &c : components)
      total += c.weight;
    std::vector<Component> scaled = components;
    for (auto &c : scaled)
      c.weight /= total;
    return std::make_shared<GaussianMixture>(std::move(scaled));
  }

  std::vector<double> GaussianMixture::sample(std::size_t n, particles::Sampling sampling, std::uint64_t seed,
                                              const std::vector<double> &, const std::vector<double> &) const
  {
    std::vector<particles::GaussianComponent> parts;
    for (const auto &c : components)
      parts.push_back({c.weight, c.state.mean, c.state.covariance});
    return particles::sample_gaussian_mixture(parts, n, sampling, seed);
  }

  InitialType gaussian_initial_type()
  {
    InitialType type;
    type.declare = [](EntryDeclarations &entries) {
      entries.declare("mean", "0", EntryPattern::anything(), "Gaussian mean: d numbers.");
      entries.declare("covariance", "", EntryPattern::anything(),
                      "Gaussian covariance: symmetric positive definite d x d matrix, rows "
                      "separated by ';'. Empty: the identity.");
    };
    type.read = [](const EntryReader &r, const InitialContext &context) -> std::shared_ptr<const InitialDensity> {
      sphere::refuse_sphere(r, context, "gaussian");
      const auto   mean       = r.vector("mean", context.dim);
      const Matrix covariance = r.covariance("covariance", context.dim);
      return std::make_shared<GaussianMixture>(std::vector<GaussianMixture::Component>{{1., {mean, covariance}}});
    };
    return type;
  }

  InitialType mixture_initial_type()
  {
    InitialType type;
    type.declare = [](EntryDeclarations &entries) {
      entries.declare("mixture weights", "1", EntryPattern::anything(),
                      "Positive weights of the mixture components, separated by ','.");
      entries.declare("mixture means", "0", EntryPattern::anything(),
                      "One row of d numbers per component, rows separated by ';'.");
      entries.declare("mixture covariances", "1", EntryPattern::anything(),
                      "One d x d matrix per component, matrices separated by '|'.");
    };
    type.read = [](const EntryReader &r, const InitialContext &context) -> std::shared_ptr<const InitialDensity> {
      sphere::refuse_sphere(r, context, "mixture");
      const unsigned int                    dim = context.dim;
      std::vector<GaussianMixture::Component> components;
      for (const auto &w : r.items("mixture weights", ','))
        {
          const auto value = parse_number(w);
          if (!value || !(*value > 0))
            r.fail("mixture weights", "expected positive numbers, got '" + w + "'");
          components.push_back({*value, {}});
        }
      const std::size_t n = components.size();
      if (n == 0)
        r.fail("mixture weights", "expected at least one weight");
      const Matrix means = r.matrix("mixture means");
      if (means.rows != n || means.cols != dim)
        r.fail("mixture means", "expected one row of " + std::to_string(dim) + " numbers per component (" +
                                  std::to_string(n) + " x " + std::to_string(dim) + "), got " + matrix_shape(means));
      const auto covariances = r.items("mixture covariances", '|');
      if (covariances.size() != n)
        r.fail("mixture covariances",
               "expected " + std::to_string(n) + " matrices separated by '|', got " + std::to_string(covariances.size()));
      for (std::size_t c = 0; c < n; ++c)
        {
          components[c].state.mean.assign(means.data.begin() + c * dim, means.data.begin() + (c + 1) * dim);
          Matrix m;
          try
            {
              m = Matrix::parse(covariances[c]);
            }
          catch (const std::invalid_argument &e)
            {
              r.fail("mixture covariances", std::string("malformed matrix: ") + e.what());
            }
          if (m.rows != dim || m.cols != dim)
            r.fail("mixture covariances", "expected a " + std::to_string(dim) + " x " + std::to_string(dim) +
                                            " covariance matrix, got " + matrix_shape(m));
          if (!is_symmetric_positive_definite(m))
            r.fail("mixture covariances",
                   "expected a symmetric positive definite covariance matrix, got '" + m.to_string() + "'");
          components[c].state.covariance = m;
        }
      return std::make_shared<GaussianMixture>(std::move(components));
    };
    return type;
  }
} // namespace tpde
