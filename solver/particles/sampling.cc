#include "particles/sampling.h"


#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

namespace tpde::particles
{
  namespace
  {
    constexpr unsigned int primes[] = {2, 3, 5, 7, 11, 13, 17, 19};

    /// 53 random bits to (0, 1): never 0 or 1, so inverse CDFs stay finite.
    double open_unit(std::uint64_t bits)
    {
      return (double(bits >> 11) + 0.5) * 0x1p-53;
    }

    /// Lower Cholesky factor of a small SPD matrix.
    Matrix cholesky(const Matrix &a)
    {
      std::optional<Matrix> factor = cholesky_factor(a);
      if (!factor)
        throw std::invalid_argument("covariance " + a.to_string() + " is not positive definite");
      return *factor;
    }

    double normal_cdf(double x)
    {
      return 0.5 * std::erfc(-x / std::sqrt(2.));
    }
  } // namespace


  double radical_inverse(std::uint64_t i, unsigned int base)
  {
    double result = 0, digit_value = 1. / base;
    for (; i > 0; i /= base, digit_value /= base)
      result += double(i % base) * digit_value;
    return result;
  }

  UniformSource::UniformSource(Sampling kind, unsigned int dimensions, std::uint64_t seed)
    : kind(kind)
    , dimensions(dimensions)
    , generator(seed)
  {
    if (dimensions > sizeof(primes) / sizeof(primes[0]))
      throw std::invalid_argument("UniformSource: at most 8 dimensions");
    if (kind == Sampling::quasi_random)
      {
        // The offset comes from the seed's own generator stream.
        std::mt19937_64 offsets(seed);
        for (unsigned int c = 0; c < dimensions; ++c)
          shift.push_back(open_unit(offsets()));
      }
  }

  void UniformSource::next(double *u)
  {
    if (kind == Sampling::random)
      {
        for (unsigned int c = 0; c < dimensions; ++c)
          u[c] = open_unit(generator());
        return;
      }
    ++index; // index 0 is the corner point of every radical inverse
    for (unsigned int c = 0; c < dimensions; ++c)
      {
        double value = radical_inverse(index, primes[c]) + shift[c];
        value -= std::floor(value);
        // Keep strictly inside (0, 1) for the inverse CDF.
        u[c] = std::clamp(value, 0x1p-60, 1. - 0x1p-53);
      }
  }

  double inverse_normal_cdf(double u)
  {
    if (!(u > 0 && u < 1))
      throw std::invalid_argument("inverse_normal_cdf: u must lie in (0, 1)");
    if (u > 0.5)
      return -inverse_normal_cdf(1. - u);
    // Lower half: x <= 0. Start from the tail asymptote (or 0 near the centre)
    // and run Newton on f(x) = log Phi(x) - log u, which is concave and
    // increasing, so the iterates approach the root monotonically from the
    // right after the first step.
    const double log_u = std::log(u);
    double       x     = u > 0.3 ? 0. : -std::sqrt(-2. * log_u);
    for (int iteration = 0; iteration < 100; ++iteration)
      {
        const double cdf = normal_cdf(x);
        const double pdf = std::exp(-0.5 * x * x) / std::sqrt(2. * M_PI);
        const double dx  = (std::log(cdf) - log_u) * cdf / pdf;
        x -= dx;
        // Quadratic convergence: after a step of 1e-9 the error is ~1e-18.
        if (std::abs(dx) <= 1e-9 * std::max(1., std::abs(x)))
          break;
      }
    return x;
  }

  std::vector<double> sample_gaussian_mixture(const std::vector<GaussianComponent> &components,
                                              std::size_t n, Sampling sampling, std::uint64_t seed)
  {
    if (components.empty())
      throw std::invalid_argument("sample_gaussian_mixture: no components");
    const unsigned int  dim = static_cast<unsigned int>(components[0].mean.size());
    std::vector<Matrix> factors;
    std::vector<double> cumulative;
    double              total = 0;
    for (const auto &c : components)
      {
        factors.push_back(cholesky(c.covariance));
        total += c.weight;
        cumulative.push_back(total);
      }
    // One coordinate picks the component (only when there is a choice).
    const unsigned int  offset = components.size() > 1 ? 1 : 0;
    UniformSource       source(sampling, dim + offset, seed);
    std::vector<double> tokens(n * dim), u(dim + offset), z(dim);
    for (std::size_t i = 0; i < n; ++i)
      {
        source.next(u.data());
        std::size_t c = 0;
        if (offset)
          c = std::min<std::size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), u[0] * total) -
                                      cumulative.begin(),
                                    components.size() - 1);
        for (unsigned int a = 0; a < dim; ++a)
          z[a] = inverse_normal_cdf(u[offset + a]);
        for (unsigned int a = 0; a < dim; ++a)
          {
            double value = components[c].mean[a];
            for (unsigned int b = 0; b <= a; ++b)
              value += factors[c](a, b) * z[b];
            tokens[i * dim + a] = value;
          }
      }
    return tokens;
  }

  std::vector<double> sample_box(const std::vector<double> &lower, const std::vector<double> &upper,
                                 std::size_t n, Sampling sampling, std::uint64_t seed)
  {
    const unsigned int  dim = static_cast<unsigned int>(lower.size());
    UniformSource       source(sampling, dim, seed);
    std::vector<double> tokens(n * dim);
    for (std::size_t i = 0; i < n; ++i)
      {
        source.next(&tokens[i * dim]);
        for (unsigned int a = 0; a < dim; ++a)
          tokens[i * dim + a] = lower[a] + (upper[a] - lower[a]) * tokens[i * dim + a];
      }
    return tokens;
  }

  double probe_bound(unsigned int dimensions, const Proposal &place, const std::function<double(const double *)> &density,
                     std::size_t point_size, std::uint64_t seed, const std::string &where)
  {
    UniformSource       probes(Sampling::quasi_random, dimensions, seed);
    std::vector<double> u(dimensions), x(point_size);
    double              bound = 0;
    for (int i = 0; i < 4096; ++i)
      {
        probes.next(u.data());
        place(u.data(), x.data());
        const double value = density(x.data());
        if (std::isfinite(value))
          bound = std::max(bound, value);
      }
    if (!(bound > 0))
      throw std::invalid_argument("the density is zero on every probe point of " + where + ", so it cannot be sampled");
    return 1.25 * bound;
  }

  std::vector<double> rejection_sampling(unsigned int dim, unsigned int proposal_dimensions, const Proposal &propose,
                                         const std::function<double(std::size_t, const double *)> &density,
                                         double bound, std::size_t n, Sampling sampling, std::uint64_t seed,
                                         const std::string &hopeless)
  {
    std::vector<double> tokens(n * dim), u(proposal_dimensions + 1), x(dim);
    for (;;)
      {
        // Candidates: proposal_dimensions coordinates for the point, one for acceptance.
        UniformSource source(sampling, proposal_dimensions + 1, seed);
        std::size_t   accepted = 0;
        double        exceeded = 0;
        for (std::size_t tries = 0; accepted < n; ++tries)
          {
            if (tries > 1000 * (n + 1000))
              throw std::invalid_argument(hopeless);
            source.next(u.data());
            propose(u.data(), x.data());
            const double value = density(accepted, x.data());
            if (value > bound)
              {
                exceeded = value;
                break;
              }
            if (u[proposal_dimensions] * bound < value)
              std::copy(x.begin(), x.end(), tokens.begin() + (accepted++) * dim);
          }
        if (exceeded == 0)
          return tokens;
        bound = 1.25 * exceeded;
      }
  }

  Proposal box_proposal(const std::vector<double> &lower, const std::vector<double> &upper)
  {
    return [lower, upper](const double *u, double *x) {
      for (std::size_t a = 0; a < lower.size(); ++a)
        x[a] = lower[a] + (upper[a] - lower[a]) * u[a];
    };
  }

  std::vector<double> sample_by_rejection(const std::function<double(const double *)> &density,
                                          const std::vector<double> &lower, const std::vector<double> &upper,
                                          std::size_t n, Sampling sampling, std::uint64_t seed)
  {
    const unsigned int dim     = static_cast<unsigned int>(lower.size());
    const Proposal     in_box  = box_proposal(lower, upper);
    const double       bound   = probe_bound(dim, in_box, density, dim, seed, "the box");
    return rejection_sampling(
      dim, dim, in_box, [&](std::size_t, const double *x) { return density(x); }, bound, n, sampling, seed,
      "rejection sampling accepts almost no candidate (is the density concentrated on a tiny part of the box?)");
  }
} // namespace tpde::particles
