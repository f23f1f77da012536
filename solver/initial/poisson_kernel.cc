// Initial type `poisson kernel`: the hyperbolic Poisson kernel of the unit
// ball at w (|w| < 1), a density on the sphere (physics.md 4.4):
//   circle: (1 / 2 pi) (1 - |w|^2) / |x - w|^2, the wrapped Cauchy law with
//           r = |w| and mean direction the angle of w (its mean is w);
//   S^2:    (1 / 4 pi) ((1 - |w|^2) / |x - w|^2)^2 (mean m_3(|w|) w / |w|).
// At beta = 0 the attention flow keeps the family (w moves), so it is an
// exact solution. Tokens: uniform points pushed through the Moebius map
// T_w(x) = ((1 - r^2) x + 2 (1 + <w, x>) w) / (1 + 2 <w, x> + r^2), the ball
// automorphism taking 0 to w, whose image of the uniform law is the kernel.
#include "initial/sphere_geometry.h"

#include <cmath>

namespace tpde
{
  namespace
  {
    class PoissonKernel : public sphere::SphereDensity
    {
    public:
      explicit PoissonKernel(std::vector<double> center)
        : SphereDensity(center.size())
        , w(std::move(center))
      {
        for (double c : w)
          r2 += c * c;
      }

      std::vector<double> sample(std::size_t n, particles::Sampling sampling, std::uint64_t seed,
                                 const std::vector<double> &, const std::vector<double> &) const override
      {
        particles::UniformSource source(sampling, dim - 1, seed);
        std::vector<double>      tokens(n * dim);
        double                   u[2], x[3];
        for (std::size_t i = 0; i < n; ++i)
          {
            source.next(u);
            sphere::uniform_point(dim, u, x);
            const double wx    = dot(x);
            const double scale = 1. / (1 + 2 * wx + r2); // = 1 / |x + w|^2 >= 1 / (1 + r)^2
            double      *t     = &tokens[i * dim];
            for (unsigned int c = 0; c < dim; ++c)
              t[c] = ((1 - r2) * x[c] + 2 * (1 + wx) * w[c]) * scale;
            sphere::normalise(dim, t);
          }
        return tokens;
      }

    protected:
      double on_sphere(const double *x) const override
      {
        // |x - w|^2 = 1 - 2 <w, x> + |w|^2 on the sphere; >= (1 - r)^2 > 0.
        const double ratio = (1 - r2) / (1 - 2 * dot(x) + r2);
        return (dim == 2 ? ratio : ratio * ratio) / sphere::area(dim);
      }

    private:
      double dot(const double *x) const
      {
        double s = 0;
        for (unsigned int c = 0; c < dim; ++c)
          s += w[c] * x[c];
        return s;
      }

      std::vector<double> w;
      double              r2 = 0;
    };
  } // namespace

  InitialType poisson_kernel_initial_type()
  {
    InitialType type;
    type.declare = [](EntryDeclarations &entries) {
      entries.declare("poisson center", "0", EntryPattern::anything(),
                      "Poisson kernel on the sphere: the point w of the open unit ball (d numbers, |w| < 1; "
                      "0: uniform). Circle: the wrapped Cauchy law with r = |w| and mean w.");
    };
    type.read = [](const EntryReader &r, const InitialContext &context) -> std::shared_ptr<const InitialDensity> {
      sphere::require_sphere(r, context, "poisson kernel");
      const auto w  = r.vector("poisson center", context.dim);
      double     r2 = 0;
      for (double c : w)
        r2 += c * c;
      if (!(r2 < 1))
        r.fail("poisson center", "expected a point of the open unit ball (|w| < 1), got |w| = " +
                                   std::to_string(std::sqrt(r2)));
      return std::make_shared<PoissonKernel>(w);
    };
    return type;
  }
} // namespace tpde
