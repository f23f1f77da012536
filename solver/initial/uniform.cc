// Initial types `box` and `ball`: uniform densities (value 1 inside).
// Tokens: an affine map of uniform points (box), rejection in the bounding
// box (ball).
#include "initial/sphere_geometry.h"

namespace tpde
{
  namespace
  {
    class UniformBox : public InitialDensity
    {
    public:
      UniformBox(std::vector<double> lower, std::vector<double> upper)
        : lower(std::move(lower))
        , upper(std::move(upper))
      {}
      unsigned int dimension() const override { return lower.size(); }
      double       value(const double *x) const override
      {
        for (unsigned int c = 0; c < lower.size(); ++c)
          if (x[c] < lower[c] || x[c] > upper[c])
            return 0.;
        return 1.;
      }
      std::vector<double> sample(std::size_t n, particles::Sampling sampling, std::uint64_t seed,
                                 const std::vector<double> &, const std::vector<double> &) const override
      {
        return particles::sample_box(lower, upper, n, sampling, seed);
      }

    private:
      std::vector<double> lower, upper;
    };

    class UniformBall : public InitialDensity
    {
    public:
      UniformBall(std::vector<double> center, double radius)
        : center(std::move(center))
        , radius(radius)
      {}
      unsigned int dimension() const override { return center.size(); }
      double       value(const double *x) const override
      {
        double r2 = 0;
        for (unsigned int c = 0; c < center.size(); ++c)
          r2 += (x[c] - center[c]) * (x[c] - center[c]);
        return r2 <= radius * radius ? 1. : 0.;
      }
      std::vector<double> sample(std::size_t n, particles::Sampling sampling, std::uint64_t seed,
                                 const std::vector<double> &, const std::vector<double> &) const override
      {
        std::vector<double> lower = center, upper = center;
        for (unsigned int c = 0; c < center.size(); ++c)
          {
            lower[c] -= radius;
            upper[c] += radius;
          }
        return InitialDensity::sample(n, sampling, seed, lower, upper);
      }

    private:
      std::vector<double> center;
      double              radius;
    };
  } // namespace

  InitialType box_initial_type()
  {
    InitialType type;
    type.declare = [](EntryDeclarations &entries) {
      entries.declare("box lower corner", "-1", EntryPattern::anything(),
                      "Uniform box density: lower corner (d numbers).");
      entries.declare("box upper corner", "1", EntryPattern::anything(),
                      "Uniform box density: upper corner (d numbers).");
    };
    type.read = [](const EntryReader &r, const InitialContext &context) -> std::shared_ptr<const InitialDensity> {
      sphere::refuse_sphere(r, context, "box");
      const auto lower = r.vector("box lower corner", context.dim);
      const auto upper = r.vector("box upper corner", context.dim);
      for (unsigned int k = 0; k < context.dim; ++k)
        if (!(lower[k] < upper[k]))
          r.fail("box upper corner", "expected every coordinate to exceed the lower corner's");
      return std::make_shared<UniformBox>(lower, upper);
    };
    return type;
  }

  InitialType ball_initial_type()
  {
    InitialType type;
    type.declare = [](EntryDeclarations &entries) {
      entries.declare("ball center", "0", EntryPattern::anything(), "Uniform ball density: center.");
      entries.declare("ball radius", "1", EntryPattern::real(0), "Uniform ball density: radius.");
    };
    type.read = [](const EntryReader &r, const InitialContext &context) -> std::shared_ptr<const InitialDensity> {
      sphere::refuse_sphere(r, context, "ball");
      return std::make_shared<UniformBall>(r.vector("ball center", context.dim), r.real("ball radius"));
    };
    return type;
  }
} // namespace tpde
