#include "initial/initial_condition.h"

#include "discretization/collective.h"
#include "discretization/transport_operator.h"

#include <deal.II/base/function_parser.h>
#include <deal.II/base/mpi.h>

#include <cmath>
#include <iostream>
#include <sstream>

namespace tpde
{
  namespace
  {
    template <int dim>
    class GaussianMixture : public dealii::Function<dim>
    {
    public:
      void add(double weight, const reference::GaussianState &state)
      {
        weights.push_back(weight);
        components.emplace_back(state);
      }
      double value(const dealii::Point<dim> &p, unsigned int = 0) const override
      {
        double x[dim];
        for (unsigned int c = 0; c < dim; ++c)
          x[c] = p[c];
        double sum = 0;
        for (std::size_t i = 0; i < weights.size(); ++i)
          sum += weights[i] * components[i].evaluate(x);
        return sum;
      }

    private:
      std::vector<double>                     weights;
      std::vector<reference::GaussianDensity> components;
    };

    template <int dim>
    class Indicator : public dealii::Function<dim>
    {
    public:
      explicit Indicator(std::function<bool(const dealii::Point<dim> &)> inside)
        : inside(std::move(inside))
      {}
      double value(const dealii::Point<dim> &p, unsigned int = 0) const override
      {
        return inside(p) ? 1. : 0.;
      }

    private:
      std::function<bool(const dealii::Point<dim> &)> inside;
    };

    /// Masked attention: a density of x (dim - 1 coordinates) at every s
    /// below `upper_from`, another from there on (none: `lower` everywhere);
    /// the point is (s, x).
    template <int dim>
    class OverPositions : public dealii::Function<dim>
    {
    public:
      OverPositions(std::unique_ptr<dealii::Function<dim - 1>> lower,
                    std::unique_ptr<dealii::Function<dim - 1>> upper,
                    double                                     upper_from)
        : lower(std::move(lower))
        , upper(std::move(upper))
        , upper_from(upper_from)
      {}
      double value(const dealii::Point<dim> &p, unsigned int = 0) const override
      {
        dealii::Point<dim - 1> x;
        for (unsigned int c = 0; c + 1 < dim; ++c)
          x[c] = p[c + 1];
        return (p[0] < upper_from || !upper ? *lower : *upper).value(x);
      }

    private:
      std::unique_ptr<dealii::Function<dim - 1>> lower, upper;
      double                                     upper_from;
    };
  } // namespace

  std::optional<reference::GaussianState> initial_gaussian(const InitialConditionParameters &ic)
  {
    if (ic.type == "gaussian")
      return reference::GaussianState{ic.mean, ic.covariance};
    if (ic.type == "mixture" && ic.mixture_weights.size() == 1)
      return reference::GaussianState{ic.mixture_means[0], ic.mixture_covariances[0]};
    return std::nullopt;
  }

  template <int dim>
  std::unique_ptr<dealii::Function<dim>> make_initial_density(const InitialConditionParameters &ic)
  {
    if constexpr (dim > 1)
      if (ic.s_coordinate && ic.type != "expression")
        {
          // Expressions see (s, x) directly; the other types are densities of x.
          InitialConditionParameters x_only = ic;
          x_only.s_coordinate               = false;
          if (ic.upper_from >= 1.)
            return std::make_unique<OverPositions<dim>>(make_initial_density<dim - 1>(x_only),
                                                        nullptr, 1.);
          // Both parts probability densities: every slice has mass 1.
          double total = 0;
          for (const double w : ic.mixture_weights)
            total += w;
          for (double &w : x_only.mixture_weights)
            w /= total;
          auto upper = std::make_unique<GaussianMixture<dim - 1>>();
          upper->add(1., {ic.upper_mean, ic.upper_covariance});
          return std::make_unique<OverPositions<dim>>(make_initial_density<dim - 1>(x_only),
                                                      std::move(upper), ic.upper_from);
        }
    if (ic.type == "gaussian" || ic.type == "mixture")
      {
        auto mixture = std::make_unique<GaussianMixture<dim>>();
        if (ic.type == "gaussian")
          mixture->add(1., {ic.mean, ic.covariance});
        else
          for (std::size_t i = 0; i < ic.mixture_weights.size(); ++i)
            mixture->add(ic.mixture_weights[i], {ic.mixture_means[i], ic.mixture_covariances[i]});
        return mixture;
      }
    if (ic.type == "box")
      return std::make_unique<Indicator<dim>>([ic](const dealii::Point<dim> &p) {
        for (unsigned int c = 0; c < dim; ++c)
          if (p[c] < ic.box_lower[c] || p[c] > ic.box_upper[c])
            return false;
        return true;
      });
    if (ic.type == "ball")
      return std::make_unique<Indicator<dim>>([ic](const dealii::Point<dim> &p) {
        double r2 = 0;
        for (unsigned int c = 0; c < dim; ++c)
          r2 += (p[c] - ic.ball_center[c]) * (p[c] - ic.ball_center[c]);
        return r2 <= ic.ball_radius * ic.ball_radius;
      });
    // expression
    auto                 parser = std::make_unique<dealii::FunctionParser<dim>>(1);
    std::map<std::string, double> constants;
    for (const auto &item : dealii::Utilities::split_string_list(ic.constants, ','))
      {
        const auto eq = item.find('=');
        try
          {
            if (eq == std::string::npos)
              throw std::invalid_argument(item);
            const auto value = parse_number(item.substr(eq + 1));
            if (!value)
              throw std::invalid_argument(item);
            constants[dealii::Utilities::trim(item.substr(0, eq))] = *value;
          }
        catch (const std::exception &)
          {
            throw InputError("subsection 'Initial condition', entry 'constants': expected "
                             "'name=value' pairs separated by ',', got '" + item + "'");
          }
      }
    const std::string variables = ic.s_coordinate ? (dim == 2 ? "s,x" : "s,x,y") :
                                  dim == 1        ? "x" :
                                  dim == 2        ? "x,y" :
                                                    "x,y,z";
    // deal.II prints muParser's diagnostics to std::cerr before throwing;
    // users get our one-line message instead.
    std::ostringstream muted;
    std::streambuf    *cerr_buffer = std::cerr.rdbuf(muted.rdbuf());
    try
      {
        parser->initialize(variables, ic.expression, constants);
        parser->value(dealii::Point<dim>()); // muParser reports syntax errors on first use
        std::cerr.rdbuf(cerr_buffer);
      }
    catch (const std::exception &)
      {
        std::cerr.rdbuf(cerr_buffer);
        throw InputError("subsection 'Initial condition', entry 'expression': cannot parse '" +
                         ic.expression + "' as a function of " + variables);
      }
    return parser;
  }

  template <int dim>
  double total_mass(const DGSpace<dim> &space, const double *owned_values)
  {
    const unsigned int n    = space.n_nodes();
    double             mass = 0;
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      for (unsigned int q = 0; q < n; ++q)
        mass += space.node_JxW[k * n + q] * owned_values[space.cell_offset[k] + q];
    return dealii::Utilities::MPI::sum(mass, space.communicator);
  }

  template <int dim>
  void project_initial_density(const DGSpace<dim>          &space,
                               const dealii::Function<dim> &density,
                               const std::string           &projection,
                               Limiting                     limit,
                               VectorType                  &owned)
  {
    const unsigned int n  = space.n_nodes();
    const unsigned int nf = space.n_fine_points;
    double            *u  = owned.begin();
    bool               finite = true;
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      {
        double *uk = u + space.cell_offset[k];
        if (projection == "interpolation")
          for (unsigned int q = 0; q < n; ++q)
            {
              dealii::Point<dim> p;
              for (unsigned int c = 0; c < dim; ++c)
                p[c] = space.node_points[(k * n + q) * dim + c];
              uk[q] = density.value(p);
            }
        else
          {
            // (u, phi_i) = (f, phi_i) with the diagonal mass matrix, f by a
            // (p+3)-point Gauss rule.
            std::fill(uk, uk + n, 0.);
            for (unsigned int q = 0; q < nf; ++q)
              {
                dealii::Point<dim> p;
                for (unsigned int c = 0; c < dim; ++c)
                  p[c] = space.fine_points[(k * nf + q) * dim + c];
                const double fw = density.value(p) * space.fine_JxW[k * nf + q];
                for (unsigned int i = 0; i < n; ++i)
                  uk[i] += fw * space.fine_values[q * n + i];
              }
            for (unsigned int i = 0; i < n; ++i)
              uk[i] /= space.node_JxW[k * n + i];
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

#define TPDE_INSTANTIATE(dim)                                                                    \
  template std::unique_ptr<dealii::Function<dim>> make_initial_density<dim>(                     \
    const InitialConditionParameters &);                                                         \
  template void   project_initial_density<dim>(const DGSpace<dim> &, const dealii::Function<dim> &, \
                                             const std::string &, Limiting, VectorType &);                \
  template double total_mass<dim>(const DGSpace<dim> &, const double *);
  TPDE_INSTANTIATE(1)
  TPDE_INSTANTIATE(2)
  TPDE_INSTANTIATE(3)
#undef TPDE_INSTANTIATE
} // namespace tpde
