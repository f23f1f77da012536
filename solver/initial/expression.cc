// Initial type `expression`: any formula in x (x,y; x,y,z), parsed by deal.II's
// FunctionParser (muParser). Under masked attention the variables are s,x
// (s,x,y): the formula gives the density at every position s. On the sphere
// (InitialContext::sphere) it is a formula in the ambient coordinates,
// evaluated on the unit sphere, and a density for the surface measure. Tokens
// are drawn by rejection within the Mesh box, or from the uniform law on the
// sphere.
#include "initial/sphere_geometry.h"

#include <deal.II/base/function_parser.h>
#include <deal.II/base/utilities.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>

namespace tpde
{
  namespace
  {
    template <int dim>
    class Expression : public InitialDensity
    {
    public:
      Expression(const EntryReader &r, const std::string &variables, bool sphere)
        : parser(1)
        , sphere(sphere)
      {
        const std::string formula = r.text("expression");
        std::map<std::string, double> constants;
        for (const auto &item : r.items("constants", ','))
          {
            const auto eq    = item.find('=');
            const auto value = eq == std::string::npos ? std::nullopt : parse_number(item.substr(eq + 1));
            if (!value)
              r.fail("constants", "expected 'name=value' pairs separated by ',', got '" + item + "'");
            constants[dealii::Utilities::trim(item.substr(0, eq))] = *value;
          }
        // deal.II prints muParser's diagnostics to std::cerr before throwing;
        // users get our one-line message instead.
        std::ostringstream muted;
        std::streambuf    *cerr_buffer = std::cerr.rdbuf(muted.rdbuf());
        try
          {
            parser.initialize(variables, formula, constants);
            parser.value(dealii::Point<dim>()); // muParser reports syntax errors on first use
            std::cerr.rdbuf(cerr_buffer);
          }
        catch (const std::exception &)
          {
            std::cerr.rdbuf(cerr_buffer);
            r.fail("expression", "cannot parse '" + formula + "' as a function of " + variables);
          }
      }
      unsigned int dimension() const override { return dim; }
      double       value(const double *x) const override
      {
        dealii::Point<dim> p;
        for (unsigned int c = 0; c < dim; ++c)
          p[c] = x[c];
        return parser.value(p);
      }
      std::vector<double> sample(std::size_t n, particles::Sampling sampling, std::uint64_t seed,
                                 const std::vector<double> &lower, const std::vector<double> &upper) const override
      {
        if (!sphere)
          return InitialDensity::sample(n, sampling, seed, lower, upper);
        return sphere::sample_by_rejection([this](const double *x) { return std::max(value(x), 0.); }, dim, n,
                                           sampling, seed);
      }

    private:
      dealii::FunctionParser<dim> parser;
      bool                        sphere;
    };
  } // namespace

  InitialType expression_initial_type()
  {
    InitialType type;
    type.declare = [](EntryDeclarations &entries) {
      entries.declare("expression", "", EntryPattern::anything(),
                      "Density formula in x (1D), x,y (2D), x,y,z (3D) for type = expression "
                      "(deal.II FunctionParser syntax, e.g. 'exp(-x^2-y^2)*(1+0.5*sin(3*x))'). "
                      "Masked attention: in s,x (d = 1) or s,x,y (d = 2); every slice should be a "
                      "probability density in x (only the total mass is normalised). On the sphere: a "
                      "formula in the ambient x,y (circle) or x,y,z (S^2), evaluated on the unit sphere, a "
                      "density for arc length / area.");
      entries.declare("constants", "", EntryPattern::anything(), "Constants used in 'expression', e.g. 'a=1, b=2'.");
    };
    type.read = [](const EntryReader &r, const InitialContext &context) -> std::shared_ptr<const InitialDensity> {
      if (r.is_empty("expression"))
        r.fail("expression", "expected a formula in x (and y, z), got nothing");
      const unsigned int n = context.dim + (context.s_coordinate ? 1 : 0);
      const std::string  variables = context.s_coordinate ? (n == 2 ? "s,x" : "s,x,y") :
                                     n == 1               ? "x" :
                                     n == 2               ? "x,y" :
                                                            "x,y,z";
      if (n == 1)
        return std::make_shared<Expression<1>>(r, variables, context.sphere);
      if (n == 2)
        return std::make_shared<Expression<2>>(r, variables, context.sphere);
      return std::make_shared<Expression<3>>(r, variables, context.sphere);
    };
    return type;
  }
} // namespace tpde
