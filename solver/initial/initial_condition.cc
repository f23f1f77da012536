#include "initial/initial_condition.h"

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/grid/grid_tools.h>

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

      /// The density on R^dim, if that is what this function is (not masked, not on the sphere).
      const InitialDensity *plain() const { return offset == 0 && !on_sphere ? lower.get() : nullptr; }

    private:
      std::shared_ptr<const InitialDensity> lower, upper;
      double                                upper_from;
      unsigned int                          offset; // 1: the first coordinate is s and not seen
      bool                                  on_sphere;
    };

    /// A density on the circle seen through the angle chart of its mesh: the
    /// last coordinate is theta (before it, masked attention's s). A density
    /// of (s, x, y) sees s; one of (x, y) only (the circle's own types) is
    /// the same at every s.
    template <int dim>
    class CircleDensityFunction : public dealii::Function<dim>
    {
    public:
      explicit CircleDensityFunction(std::shared_ptr<const InitialDensity> density)
        : density(std::move(density))
        , sees_s(this->density->dimension() == dim + 1)
      {}
      double value(const dealii::Point<dim> &p, unsigned int = 0) const override
      {
        double       x[dim + 1];
        const int    first = sees_s ? dim - 1 : 0; // where the circle point goes
        for (int c = 0; c < first; ++c)
          x[c] = p[c];
        sphere::circle_point(p[dim - 1], x + first);
        return density->value(x);
      }

    private:
      std::shared_ptr<const InitialDensity> density;
      bool                                  sees_s;
    };
  } // namespace

  template <int dim, int spacedim>
  std::unique_ptr<dealii::Function<spacedim>> make_initial_density(const InitialConditionParameters &ic)
  {
    if (ic.sphere)
      {
        if constexpr (dim == spacedim && dim <= 2) // theta, or (s, theta)
          {
            if (ic.density->dimension() == dim + 1 || ic.density->dimension() == 2)
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

  namespace
  {
    /// A density that knows its moments exactly inside the mesh's bounding
    /// box (InitialDensity::moments_in_box) gets them back after the
    /// projection, unless the limiter is told not to keep moments.
    template <int dim, int spacedim>
    void keep_exact_moments(const DGSpace<dim, spacedim> &space, const dealii::Function<spacedim> &density,
                            Limiting limit, double *u)
    {
      const auto *function = dynamic_cast<const DensityFunction<spacedim> *>(&density);
      if constexpr (dim == spacedim)
        if (function && function->plain() && limit == Limiting::keep_moments)
          {
            const auto box = dealii::GridTools::compute_bounding_box(*space.triangulation);
            double     lower[dim], upper[dim], box_volume = 1;
            for (unsigned int c = 0; c < dim; ++c)
              {
                lower[c] = dealii::Utilities::MPI::min(box.get_boundary_points().first[c], space.communicator);
                upper[c] = dealii::Utilities::MPI::max(box.get_boundary_points().second[c], space.communicator);
                box_volume *= upper[c] - lower[c];
              }
            // Only where the mesh is its bounding box (a mesh file need not be):
            // otherwise the box's moments are not those of the mesh's part.
            double mesh_volume = 0;
            for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
              mesh_volume += space.owned_cell(k)->measure();
            if (std::abs(dealii::Utilities::MPI::sum(mesh_volume, space.communicator) - box_volume) > 1e-10 * box_volume)
              return;
            if (const auto moments = function->plain()->moments_in_box(lower, upper))
              impose_moments(space, u, moments->data() + 1, moments->data() + 1 + dim);
          }
    }
  } // namespace

  namespace
  {
    /// The (p+3)-point Gauss rule on s^dim equal sub-cells of the unit cell,
    /// with the basis there; for densities that ask for it
    /// (InitialDensity::projection_subdivisions) on box cells.
    template <int dim, int spacedim>
    struct SubcellRule
    {
      SubcellRule(const DGSpace<dim, spacedim> &space, unsigned int s)
      {
        const dealii::QGauss<dim> gauss(space.degree() + 3);
        for (unsigned int child = 0; child < dealii::Utilities::pow(s, dim); ++child)
          for (unsigned int q = 0; q < gauss.size(); ++q)
            {
              dealii::Point<dim> xi;
              for (unsigned int c = 0, rest = child; c < dim; ++c, rest /= s)
                xi[c] = (rest % s + gauss.point(q)[c]) / s;
              for (unsigned int c = 0; c < dim; ++c)
                unit.push_back(xi[c]);
              weight.push_back(gauss.weight(q) / dealii::Utilities::pow(s, dim));
              for (unsigned int i = 0; i < space.n_nodes(); ++i)
                phi.push_back(space.fe.shape_value(i, xi));
            }
      }
      std::vector<double> unit, weight, phi; // per point: dim coordinates, one weight, n_nodes values
    };

    /// Whether cell k is an axis-parallel box with the coordinate axes as its
    /// reference axes (a mesh file's cells may be rotated or flipped), so
    /// that x = lower + xi * extent.
    template <int dim, int spacedim>
    bool is_box(const DGSpace<dim, spacedim> &space, std::size_t k)
    {
      if (dim != spacedim)
        return false;
      const auto box    = space.cell_box(k);
      double     volume = 1, largest = 0;
      for (unsigned int c = 0; c < dim; ++c)
        {
          volume *= box.extent[c];
          largest = std::max(largest, box.extent[c]);
        }
      if (!(std::abs(space.owned_cell(k)->measure() - volume) <= 1e-10 * volume))
        return false;
      const auto &support = space.fe.get_unit_support_points();
      for (unsigned int q = 0; q < space.n_nodes(); ++q)
        for (unsigned int c = 0; c < dim; ++c)
          if (std::abs(box.lower[c] + support[q][c] * box.extent[c] - space.node_point(k, q)[c]) > 1e-10 * largest)
            return false;
      return true;
    }

    /// (u, phi_i) = (f, phi_i) on box cell k by `rule` (u: the cell's values).
    template <int dim, int spacedim>
    void project_on_subcells(const DGSpace<dim, spacedim> &space, std::size_t k, const dealii::Function<spacedim> &density,
                             const SubcellRule<dim, spacedim> &rule, double *u)
    {
      const unsigned int n      = space.n_nodes();
      const auto         box    = space.cell_box(k);
      double             volume = 1;
      for (unsigned int c = 0; c < dim; ++c)
        volume *= box.extent[c];
      std::fill(u, u + n, 0.);
      for (std::size_t q = 0; q < rule.weight.size(); ++q)
        {
          dealii::Point<spacedim> p;
          for (unsigned int c = 0; c < dim; ++c)
            p[c] = box.lower[c] + rule.unit[q * dim + c] * box.extent[c];
          const double fw = density.value(p) * rule.weight[q] * volume;
          for (unsigned int i = 0; i < n; ++i)
            u[i] += fw * rule.phi[q * n + i];
        }
      for (unsigned int i = 0; i < n; ++i)
        u[i] /= space.node_weight(k, i);
    }
  } // namespace

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
    const auto        *function     = dynamic_cast<const DensityFunction<spacedim> *>(&density);
    const unsigned int subdivisions = function && function->plain() ? function->plain()->projection_subdivisions() : 1;
    const std::optional<SubcellRule<dim, spacedim>> subcells =
      subdivisions > 1 ? std::make_optional(SubcellRule<dim, spacedim>(space, subdivisions)) : std::nullopt;
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      {
        double *uk = space.cell_values(u, k);
        if (subcells && projection == InitialConditionParameters::Projection::l2 && is_box(space, k))
          project_on_subcells(space, k, density, *subcells, uk);
        else if (projection == InitialConditionParameters::Projection::interpolation)
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
    keep_exact_moments(space, density, limit, u);
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
