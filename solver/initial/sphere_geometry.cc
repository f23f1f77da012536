#include "initial/sphere_geometry.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tpde::sphere
{
  double area(unsigned int dim)
  {
    return dim == 2 ? 2 * M_PI : 4 * M_PI;
  }

  void require_sphere(const EntryReader &r, const InitialContext &context, const std::string &type)
  {
    if (!context.sphere)
      r.fail("type", "type = " + type + " is a density on the sphere: expected tokens on the sphere "
                                        "(Mesh/domain = sphere)");
    if (context.dim != 2 && context.dim != 3)
      r.fail("type", "type = " + type + " expected dimension 2 (the circle) or 3 (S^2), got dimension " +
                       std::to_string(context.dim));
    // Masked attention on the circle: the same density of (x, y) at every s
    // (initial_condition.cc, CircleDensityFunction).
    if (context.s_coordinate && context.dim != 2)
      r.fail("type", "type = " + type + " has no masked-attention form (densities of (s, x))");
  }

  void refuse_sphere(const EntryReader &r, const InitialContext &context, const std::string &type)
  {
    if (context.sphere)
      r.fail("type", "expected a density on the sphere (sphere uniform, von mises, poisson kernel or "
                     "expression), got type = " +
                       type);
  }

  void uniform_point(unsigned int dim, const double *u, double *x)
  {
    if (dim == 2)
      {
        x[0] = std::cos(2 * M_PI * u[0]);
        x[1] = std::sin(2 * M_PI * u[0]);
        return;
      }
    // Archimedes: the height z of a uniform point of S^2 is uniform in [-1, 1].
    const double z = 2 * u[0] - 1, s = std::sqrt(std::max(0., (1 - z) * (1 + z)));
    x[0]           = s * std::cos(2 * M_PI * u[1]);
    x[1]           = s * std::sin(2 * M_PI * u[1]);
    x[2]           = z;
    normalise(dim, x);
  }

  bool normalise(unsigned int dim, double *x)
  {
    double norm2 = 0;
    for (unsigned int c = 0; c < dim; ++c)
      norm2 += x[c] * x[c];
    if (!(norm2 > 0) || !std::isfinite(norm2))
      return false;
    const double norm = std::sqrt(norm2);
    for (unsigned int c = 0; c < dim; ++c)
      x[c] /= norm;
    return true;
  }

  std::array<std::array<double, 3>, 2> tangent_basis(unsigned int dim, const double *mu)
  {
    std::array<std::array<double, 3>, 2> e{};
    if (dim == 2)
      {
        e[0] = {{-mu[1], mu[0], 0.}};
        return e;
      }
    // Gram-Schmidt from the axis least aligned with mu, then the cross product.
    unsigned int axis = 0;
    for (unsigned int c = 1; c < 3; ++c)
      if (std::abs(mu[c]) < std::abs(mu[axis]))
        axis = c;
    e[0][axis] = 1;
    for (unsigned int c = 0; c < 3; ++c)
      e[0][c] -= mu[axis] * mu[c];
    normalise(3, e[0].data());
    e[1] = {{mu[1] * e[0][2] - mu[2] * e[0][1], mu[2] * e[0][0] - mu[0] * e[0][2], mu[0] * e[0][1] - mu[1] * e[0][0]}};
    return e;
  }

  particles::Proposal uniform_proposal(unsigned int dim)
  {
    return [dim](const double *u, double *x) { uniform_point(dim, u, x); };
  }

  std::vector<double> sample_by_rejection(const std::function<double(const double *)> &density, unsigned int dim,
                                          std::size_t n, particles::Sampling sampling, std::uint64_t seed,
                                          double bound)
  {
    const particles::Proposal uniform = uniform_proposal(dim);
    if (!(bound > 0))
      bound = particles::probe_bound(dim - 1, uniform, density, dim, seed, "the sphere");
    return particles::rejection_sampling(
      dim, dim - 1, uniform, [&](std::size_t, const double *x) { return density(x); }, bound, n, sampling, seed,
      "rejection sampling on the sphere accepts almost no candidate (is the density concentrated on a tiny part "
      "of the sphere?)");
  }

  double SphereDensity::value(const double *x) const
  {
    double y[3] = {x[0], x[1], dim == 3 ? x[2] : 0.};
    if (!normalise(dim, y))
      return 1. / area(dim);
    return on_sphere(y);
  }
} // namespace tpde::sphere
