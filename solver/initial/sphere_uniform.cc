// Initial type `sphere uniform`: the uniform density on the sphere with an
// optional mode and seeded piecewise-constant noise,
//   rho(x) = (1 + a Y(x) + A c(x)) / |S^{d-1}|,
// a = `mode amplitude`, A = `noise amplitude`, and
//  * circle: Y = cos(k (theta - `mode phase`)), k = `mode`, theta the angle
//    of x; so a = 2 int rho cos(k (theta - phase)) dtheta for k >= 1;
//  * S^2: Y = Y_l^m, l = `mode`, m = `mode order`, the real spherical
//    harmonic normalised to mean square 1 over the sphere ("4 pi" or
//    geodesy normalisation: int Y^2 dA = 4 pi, no Condon-Shortley phase):
//    Y_l^m = sqrt((2 - delta_m0) (2l + 1) (l-|m|)! / (l+|m|)!) P_l^|m|(cos polar)
//    times cos(m azimuth) (m > 0), 1 (m = 0), sin(|m| azimuth) (m < 0); e.g.
//    Y_1^1 = sqrt(3) x, Y_1^-1 = sqrt(3) y, Y_1^0 = sqrt(3) z. Then
//    a = int rho Y dA. Its maximum is sqrt(2l + 1) for m = 0 and is
//    computed numerically otherwise (for the positivity check);
//  * c: `noise cells` equal-area cells, each with its own value v_i, uniform
//    in [-1, 1] from mt19937_64(`noise seed`) in cell order, minus their mean
//    (so the mass stays 1 exactly): the same on any mesh and rank count.
//    Circle: n equal arcs from theta = 0, counterclockwise. S^2: b bands of
//    equal height in z (b the largest divisor of n with b <= sqrt(n / 2),
//    from z = -1 up) times n / b equal azimuth sectors from azimuth 0
//    (n = 64: 4 bands x 16 sectors); cell index = band * (n / b) + sector.
// The mass is 1 because Y (mode >= 1) and c have mean 0. Tokens: rejection
// against the bound (1 + |a| max|Y| + A max|c|) / |S|.
#include "initial/sphere_geometry.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace tpde
{
  namespace
  {
    struct Settings
    {
      unsigned int dim   = 2;
      long         mode  = 0; // k (circle) or l (S^2)
      long         order = 0; // m (S^2)
      double       amplitude = 0, phase = 0, noise = 0;
      std::uint64_t seed  = 1;
      long          cells = 64;
    };

    /// The S^2 harmonic's polar factor as a function of the polar angle.
    double polar_factor(long l, long m, double polar)
    {
      // std::sph_legendre is orthonormal over the area (1 / sqrt(4 pi)
      // scale) with the Condon-Shortley phase (-1)^m, which we drop.
      const long   am    = std::abs(m);
      const double scale = std::sqrt(4 * M_PI * (m == 0 ? 1. : 2.)) * (am % 2 ? -1. : 1.);
      return scale * std::sph_legendre(static_cast<unsigned int>(l), static_cast<unsigned int>(am), polar);
    }

    /// max |polar_factor| over [0, pi]: a grid of 64 points per degree, then
    /// a golden-section search around every local maximum of the grid.
    double polar_factor_sup(long l, long m)
    {
      const long          points = 64 * (l + 1);
      const double        h      = M_PI / points;
      std::vector<double> f(points + 1);
      for (long i = 0; i <= points; ++i)
        f[i] = std::abs(polar_factor(l, m, i * h));
      double sup = std::max(f.front(), f.back());
      for (long i = 1; i < points; ++i)
        {
          if (f[i] < f[i - 1] || f[i] < f[i + 1])
            continue;
          const double g = 0.5 * (std::sqrt(5.) - 1);
          double       a = (i - 1) * h, b = (i + 1) * h;
          for (int step = 0; step < 60; ++step)
            {
              const double c = b - g * (b - a), d = a + g * (b - a);
              if (std::abs(polar_factor(l, m, c)) > std::abs(polar_factor(l, m, d)))
                b = d;
              else
                a = c;
            }
          sup = std::max({sup, f[i], std::abs(polar_factor(l, m, 0.5 * (a + b)))});
        }
      return sup;
    }

    class SphereUniform : public sphere::SphereDensity
    {
    public:
      explicit SphereUniform(const Settings &s)
        : SphereDensity(s.dim)
        , s(s)
      {
        bands = 1;
        if (dim == 3)
          for (long b = 1; b * b * 2 <= s.cells; ++b)
            if (s.cells % b == 0)
              bands = b;
        sectors = s.cells / bands;
        particles::UniformSource source(particles::Sampling::random, 1, s.seed);
        double                   mean = 0, u;
        for (long i = 0; i < s.cells; ++i)
          {
            source.next(&u);
            noise_values.push_back(2 * u - 1);
            mean += noise_values.back() / s.cells;
          }
        for (double &v : noise_values)
          {
            v -= mean;
            noise_max = std::max(noise_max, std::abs(v));
          }
        if (dim == 3 && s.amplitude != 0)
          mode_max = polar_factor_sup(s.mode, s.order);
      }

      /// max |Y| (1 when there is no mode) and max |c|.
      double mode_sup() const { return mode_max; }
      double noise_sup() const { return noise_max; }

      std::vector<double> sample(std::size_t n, particles::Sampling sampling, std::uint64_t seed,
                                 const std::vector<double> &, const std::vector<double> &) const override
      {
        const double bound = (1 + std::abs(s.amplitude) * mode_sup() + s.noise * noise_sup()) / sphere::area(dim);
        return sphere::sample_by_rejection([this](const double *x) { return value(x); }, dim, n, sampling, seed,
                                           bound * (1 + 1e-12));
      }

    protected:
      double on_sphere(const double *x) const override
      {
        double azimuth = std::atan2(x[1], x[0]);
        if (azimuth < 0)
          azimuth += 2 * M_PI;
        double perturbation = 0;
        if (s.amplitude != 0)
          {
            if (dim == 2)
              perturbation = std::cos(s.mode * (azimuth - s.phase));
            else
              perturbation = polar_factor(s.mode, s.order, std::atan2(std::hypot(x[0], x[1]), x[2])) *
                             (s.order > 0 ? std::cos(s.order * azimuth) :
                              s.order < 0 ? std::sin(-s.order * azimuth) :
                                            1.);
            perturbation *= s.amplitude;
          }
        if (s.noise != 0)
          perturbation += s.noise * noise_values[cell(x, azimuth)];
        return (1 + perturbation) / sphere::area(dim);
      }

    private:
      std::size_t cell(const double *x, double azimuth) const
      {
        const long sector = std::min<long>(sectors - 1, static_cast<long>(azimuth / (2 * M_PI) * sectors));
        if (dim == 2)
          return sector;
        const long band = std::min<long>(bands - 1, static_cast<long>(0.5 * (x[2] + 1) * bands));
        return band * sectors + sector;
      }

      Settings            s;
      long                bands = 1, sectors = 1;
      std::vector<double> noise_values;
      double              mode_max = 1, noise_max = 0;
    };

    Settings read_settings(const EntryReader &r, unsigned int dim)
    {
      Settings s;
      s.dim       = dim;
      s.mode      = r.integer("mode");
      s.order     = r.integer("mode order");
      s.amplitude = r.real("mode amplitude");
      s.phase     = r.real("mode phase");
      s.noise     = r.real("noise amplitude");
      s.cells     = r.integer("noise cells");
      const long seed = r.integer("noise seed");
      if (s.mode < 0 || s.mode > 1000)
        r.fail("mode", "expected a whole number in [0, 1000], got " + std::to_string(s.mode));
      if (dim == 2 && s.order != 0)
        r.fail("mode order", "expected 0 on the circle (the order m belongs to S^2; use mode phase)");
      if (dim == 3 && std::abs(s.order) > s.mode)
        r.fail("mode order", "expected -l <= m <= l with l = mode = " + std::to_string(s.mode) + ", got " +
                               std::to_string(s.order));
      if (dim == 3 && s.phase != 0)
        r.fail("mode phase", "expected 0 on S^2 (rotate the harmonic with mode order instead)");
      if (!std::isfinite(s.amplitude) || !std::isfinite(s.phase))
        r.fail("mode amplitude", "expected finite numbers for mode amplitude and mode phase");
      if (s.mode == 0 && s.amplitude != 0)
        r.fail("mode amplitude", "expected 0 for mode = 0 (the constant mode would change the mass); choose "
                                 "mode >= 1");
      if (!(s.noise >= 0) || !std::isfinite(s.noise))
        r.fail("noise amplitude", "expected a number >= 0, got " + r.text("noise amplitude"));
      if (s.cells < 1 || s.cells > 1000000)
        r.fail("noise cells", "expected a whole number in [1, 1000000], got " + std::to_string(s.cells));
      if (seed < 0)
        r.fail("noise seed", "expected a whole number >= 0, got " + std::to_string(seed));
      s.seed = static_cast<std::uint64_t>(seed);
      return s;
    }
  } // namespace

  InitialType sphere_uniform_initial_type()
  {
    InitialType type;
    type.declare = [](EntryDeclarations &entries) {
      entries.declare("mode", "0", EntryPattern::integer(0, 1000),
                      "Sphere uniform: the mode of the perturbation, k >= 1 on the circle "
                      "(cos(k (theta - mode phase))), the degree l on S^2 (real harmonic Y_l^m with mean "
                      "square 1, no Condon-Shortley phase, Y_1^1 = sqrt(3) x). 0: none.");
      entries.declare("mode order", "0", EntryPattern::integer(-1000, 1000),
                      "Sphere uniform on S^2: the order m of Y_l^m, -l <= m <= l (m > 0: cos(m azimuth), "
                      "m < 0: sin(|m| azimuth)). 0 on the circle.");
      entries.declare("mode amplitude", "0", EntryPattern::real(),
                      "Sphere uniform: density (1 + amplitude Y + noise) / |S|.");
      entries.declare("mode phase", "0", EntryPattern::real(), "Sphere uniform on the circle: phase in radians.");
      entries.declare("noise amplitude", "0", EntryPattern::real(0),
                      "Sphere uniform: amplitude of the seeded cell noise (values uniform in [-1, 1] minus "
                      "their mean). |mode amplitude| max|Y| + noise amplitude max|noise| must stay below 1.");
      entries.declare("noise seed", "1", EntryPattern::integer(0), "Sphere uniform: seed of the noise values.");
      entries.declare("noise cells", "64", EntryPattern::integer(1, 1000000),
                      "Sphere uniform: number n of equal-area noise cells: n equal arcs on the circle; on S^2 "
                      "b bands of equal height in z (b the largest divisor of n not above sqrt(n/2)) times "
                      "n/b azimuth sectors.");
    };
    type.read = [](const EntryReader &r, const InitialContext &context) -> std::shared_ptr<const InitialDensity> {
      sphere::require_sphere(r, context, "sphere uniform");
      const Settings s       = read_settings(r, context.dim);
      auto           density = std::make_shared<SphereUniform>(s);
      const double   mode    = std::abs(s.amplitude) * density->mode_sup();
      const double   noise   = s.noise * density->noise_sup();
      if (!(mode + noise < 1))
        {
          std::ostringstream sum;
          sum << "expected |mode amplitude| max|Y| + noise amplitude max|noise| < 1 (a positive density), got "
              << std::abs(s.amplitude) << " * " << density->mode_sup() << " + " << s.noise << " * "
              << density->noise_sup() << " = " << mode + noise;
          r.fail(s.amplitude != 0 ? "mode amplitude" : "noise amplitude", sum.str());
        }
      return density;
    };
    return type;
  }
} // namespace tpde
