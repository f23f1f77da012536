// What the initial types on the unit sphere S^{d-1} in R^d share (d = 2: the
// circle, d = 3: S^2): the context checks, the uniform parametrisation,
// rejection sampling on the sphere and a base class that evaluates a density
// at the radial projection of its argument.
#pragma once

#include "initial/initial_density.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tpde::sphere
{
  /// |S^{dim-1}|: 2 pi (circle) or 4 pi (S^2).
  double area(unsigned int dim);

  /// Fails on entry "type" unless the tokens live on the sphere in d = 2 or 3
  /// (and not under masked attention, which has no sphere form).
  void require_sphere(const EntryReader &r, const InitialContext &context, const std::string &type);

  /// Fails on entry "type" if the tokens live on the sphere: `type` is a
  /// density on R^d.
  void refuse_sphere(const EntryReader &r, const InitialContext &context, const std::string &type);

  /// The point of S^{dim-1} that dim - 1 numbers u in (0, 1) stand for, by a
  /// map that sends the uniform law of the cube to the uniform law of the
  /// sphere (angle 2 pi u on the circle; Archimedes' z = 2 u_0 - 1 and
  /// azimuth 2 pi u_1 on S^2), so quasi-random points stay well spread.
  void uniform_point(unsigned int dim, const double *u, double *x);

  /// uniform_point as a proposal of rejection sampling (dim - 1 numbers u).
  particles::Proposal uniform_proposal(unsigned int dim);

  /// x / |x| in place; false (x unchanged) if x = 0 or not finite.
  bool normalise(unsigned int dim, double *x);

  /// Unit vectors that complete the unit vector mu to an orthonormal basis
  /// (one on the circle, two on S^2).
  std::array<std::array<double, 3>, 2> tangent_basis(unsigned int dim, const double *mu);

  /// n points (n x dim) of the sphere distributed like `density` (a function
  /// of the ambient point, non-negative), by rejection from the uniform law.
  /// `bound`: a known upper bound of the density; 0: 1.25 times the largest
  /// value on 4096 probe points, raised (sampling restarts) whenever a
  /// candidate exceeds it, as particles::sample_by_rejection does.
  std::vector<double> sample_by_rejection(const std::function<double(const double *)> &density, unsigned int dim,
                                          std::size_t n, particles::Sampling sampling, std::uint64_t seed,
                                          double bound = 0);

  /// A density on the sphere: value(x) is the density at x / |x| (so that a
  /// mesh of flat cells near the sphere sees the density of the nearest
  /// point), and at x = 0 the mean value 1 / |S^{dim-1}|. The subclasses are
  /// normalised, so with_unit_mass() is the object itself.
  class SphereDensity : public InitialDensity, public std::enable_shared_from_this<SphereDensity>
  {
  public:
    explicit SphereDensity(unsigned int dim)
      : dim(dim)
    {}
    unsigned int                          dimension() const final { return dim; }
    double                                value(const double *x) const final;
    std::shared_ptr<const InitialDensity> with_unit_mass() const final { return shared_from_this(); }

  protected:
    /// The density at a point of the sphere.
    virtual double on_sphere(const double *x) const = 0;

    const unsigned int dim;
  };
} // namespace tpde::sphere
