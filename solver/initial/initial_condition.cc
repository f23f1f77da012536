#include "initial/initial_condition.h"

#include "common/collective.h"
#include "limiter/positivity_limiter.h"
#include "sphere/circle_chart.h"

#include <deal.II/base/mpi.h>

#include <cmath>
#include <iostream>
#include <sstream>

namespace tpde
{
  namespace
  {
    /// An InitialDensity seen by deal.II. Masked attention (`s_coordinate`
    /// with a density of x): the point is (s, x), and from s = upper_from on
    /// the upper data applies. On the sphere S^2 the mapped nodes lie within
    /// the mapping's error of the sphere: the density is read at x / |x|.
    template <int dim>
    class DensityFunction : public dealii::Function<dim>
    {
    public:
      DensityFunction(std::shared_ptr<const InitialDensity> lower, std::shared_ptr<const InitialDensity> upper,
                      double upper_from, bool on_sphere = false)
        : lower(std::move(lower))
        , upper(std::move(upper))
        , upper_from(upper_from)
        , offset(dim - this->lower->dimension())
        , on_sphere(on_sphere)
      {}
      double value(const dealii::Point<dim> &p, unsigned int = 0) const override
      {
        double       x[dim];
        const double scale = on_sphere ? 1. / p.norm() : 1.;
        for (unsigned int c = offset; c < dim; ++c)
          x[c - offset] = p[c] * scale;
        return (offset == 0 || p[0] < upper_from || !upper ? *lower : *upper).value(x);
      }

    private:
      std::shared_ptr<const InitialDensity> lower, upper;
      double                                upper_from;
      unsigned int                          offset; // 1: the first coordinate is s and not seen
      bool                                  on_sphere;
    };

    /// A density on the circle seen through the angle chart of its mesh: the
    /// last coordinate is theta (before it, masked attention's s).
    template <int dim>
    class CircleDensityFunction : public dealii::Function<dim>
    {
    public:
      explicit CircleDensityFunction(std::shared_ptr<const InitialDensity> density)
        : density(std::move(density))
      {}
      double value(const dealii::Point<dim> &p, unsigned int = 0) const override
      {
        double x[dim + 1];
        for (int c = 0; c + 1 < dim; ++c)
          x[c] = p[c];
        sphere::circle_point(p[dim - 1], x + dim - 1);
        return density->value(x);
      }

    private:
      std::shared_ptr<const InitialDensity> density;
    };
  } // namespace

  template <int dim, int spacedim>
  std::unique_ptr<dealii::Function<spacedim>> make_initial_density(const InitialConditionParameters &ic)
  {
    if (ic.sphere)
      {
        if constexpr (dim == spacedim && dim <= 2) // theta, or (s, theta)
          {
            if (ic.density->dimension() == dim + 1)
              return std::make_unique<CircleDensityFunction<dim>>(ic.density);
          }
        else if constexpr (spacedim == 3 && dim == 2)
          {
            if (ic.density->dimension() == 3)
              return std::make_unique<DensityFunction<spacedim>>(ic.density, nullptr, 1., true);
          }
        throw std::logic_error("make_initial_density: a sphere density needs the circle's chart or the S^2 mesh");
      }
    if (!ic.upper || ic.upper_from >= 1.)
      return std::make_unique<DensityFunction<spacedim>>(ic.density, nullptr, 1.);
    // Both parts probability densities: every slice has mass 1.
    return std::make_unique<DensityFunction<spacedim>>(ic.density->with_unit_mass(), ic.upper, ic.upper_from);
  }

  template <int dim, int spacedim>
  double total_mass(const DGSpace<dim, spacedim> &space, const double *owned_values)
  {
    const unsigned int n    = space.n_nodes();
    double             mass = 0;
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      for (unsigned int q = 0; q < n; ++q)
        mass += space.node_weight(k, q) * space.cell_values(owned_values, k)[q];
    return dealii::Utilities::MPI::sum(mass, space.communicator);
  }

  template <int dim, int spacedim>
  void project_initial_density(const DGSpace<dim, spacedim>          &space,
                               const dealii::Function<spacedim> &density,
                               InitialConditionParameters::Projection projection,
                               Limiting                     limit,
                               VectorType                  &owned)
  {
    const unsigned int n  = space.n_nodes();
    const unsigned int nf = space.n_fine_points();
    double            *u  = owned.begin();
    bool               finite = true;
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      {
        double *uk = space.cell_values(u, k);
        if (projection == InitialConditionParameters::Projection::interpolation)
          for (unsigned int q = 0; q < n; ++q)
            {
              dealii::Point<spacedim> p;
              for (unsigned int c = 0; c < spacedim; ++c)
                p[c] = space.node_point(k, q)[c];
              uk[q] = density.value(p);
            }
        else
          {
            // (u, phi_i) = (f, phi_i) with the diagonal mass matrix, f by a
            // (p+3)-point Gauss rule.
            std::fill(uk, uk + n, 0.);
            for (unsigned int q = 0; q < nf; ++q)
              {
                dealii::Point<spacedim> p;
                for (unsigned int c = 0; c < spacedim; ++c)
                  p[c] = space.fine_point(k, q)[c];
                const double  fw  = density.value(p) * space.fine_weight(k, q);
                const double *phi = space.fine_shape_values(q);
                for (unsigned int i = 0; i < n; ++i)
                  uk[i] += fw * phi[i];
              }
            for (unsigned int i = 0; i < n; ++i)
              uk[i] /= space.node_weight(k, i);
          }
        for (unsigned int i = 0; i < n; ++i)
          finite = finite && std::isfinite(uk[i]);
      }
    throw_if_any_rank_failed<InputError>(
      space.communicator,
      finite ? std::nullopt :
               std::optional<std::string>("subsection 'Initial condition': the initial density is not "
                                          "finite at a node of the mesh"));
    positivity_limiter(space, u, limit);
    const double mass = total_mass(space, u);
    if (!(mass > 0))
      throw InputError("subsection 'Initial condition': the initial density has no positive mass "
                       "on the mesh (is it inside the domain?)");
    owned *= 1. / mass;
  }

#define TPDE_INSTANTIATE(dim, spacedim)                                                                   \
  template std::unique_ptr<dealii::Function<spacedim>> make_initial_density<dim, spacedim>(                     \
    const InitialConditionParameters &);                                                         \
  template void   project_initial_density<dim, spacedim>(const DGSpace<dim, spacedim> &, const dealii::Function<spacedim> &, \
                                             InitialConditionParameters::Projection, Limiting, \
                                             VectorType &);                \
  template double total_mass<dim, spacedim>(const DGSpace<dim, spacedim> &, const double *);
  TPDE_INSTANTIATE(1, 1)
  TPDE_INSTANTIATE(2, 2)
  TPDE_INSTANTIATE(3, 3)
  TPDE_INSTANTIATE(2, 3)
#undef TPDE_INSTANTIATE
} // namespace tpde
