// The initial types on the sphere (sphere uniform, von mises, poisson kernel)
// read through their EntryReader as a run would: mass 1 and exact means by
// high-order quadrature over the circle and S^2, the documented mode
// coefficient, the noise cells, tokens on the sphere with the density's
// moments, and the input errors (also the Euclidean types on the sphere).
#include "initial/initial_parameters.h"

#include <deal.II/base/quadrature_lib.h>

#include <gtest/gtest.h>

#include <cmath>
#include <map>

using namespace tpde;

namespace
{
  using Overrides = std::vector<std::pair<std::string, std::string>>;

  /// The density of `type` read from the declared defaults plus `overrides`.
  std::shared_ptr<const InitialDensity> read_density(const std::string &type, unsigned int dim,
                                                     const Overrides &overrides = {}, bool on_sphere = true)
  {
    EntryDeclarations declarations;
    InitialConditionParameters::declare(declarations);
    std::map<std::string, std::string> values;
    for (const auto &e : declarations.entries())
      values[e.name] = e.default_value;
    values["type"] = type;
    for (const auto &[entry, value] : overrides)
      {
        if (!values.count(entry))
          throw std::logic_error("undeclared entry '" + entry + "'");
        values[entry] = value;
      }
    const EntryReader reader("test.prm", "Initial condition", [&](const std::string &entry) {
      if (!values.count(entry))
        throw std::logic_error("read of an undeclared entry '" + entry + "'");
      return values.at(entry);
    });
    InitialContext context;
    context.dim    = dim;
    context.sphere = on_sphere;
    return InitialConditionParameters::read(reader, context).density;
  }

  /// The InputError message of reading `type` (empty if it reads fine).
  std::string read_error(const std::string &type, unsigned int dim, const Overrides &overrides = {},
                         bool on_sphere = true)
  {
    try
      {
        read_density(type, dim, overrides, on_sphere);
      }
    catch (const InputError &e)
      {
        return e.what();
      }
    return "";
  }

  /// Calls f(x, weight) on the nodes of a rule for the surface measure,
  /// composite Gauss-Legendre on panels that follow the default noise cells
  /// (exact up to round-off for piecewise smooth densities on those cells):
  /// circle: 64 arcs x 40 nodes in theta; S^2: 4 bands x 160 nodes in
  /// z = cos(polar) times 16 sectors x 80 nodes in the azimuth (dA = dz dphi).
  template <typename F>
  void for_each_node(unsigned int dim, F &&f)
  {
    double x[3] = {0, 0, 0};
    if (dim == 2)
      {
        const dealii::QGauss<1> q(40);
        for (int p = 0; p < 64; ++p)
          for (unsigned int i = 0; i < q.size(); ++i)
            {
              const double theta = 2 * M_PI * (p + q.point(i)[0]) / 64;
              x[0]               = std::cos(theta);
              x[1]               = std::sin(theta);
              f(x, 2 * M_PI * q.weight(i) / 64);
            }
        return;
      }
    const dealii::QGauss<1> qz(160), qphi(80);
    for (int b = 0; b < 4; ++b)
      for (unsigned int i = 0; i < qz.size(); ++i)
        {
          const double z = -1 + 2 * (b + qz.point(i)[0]) / 4, s = std::sqrt((1 - z) * (1 + z));
          for (int sector = 0; sector < 16; ++sector)
            for (unsigned int j = 0; j < qphi.size(); ++j)
              {
                const double phi = 2 * M_PI * (sector + qphi.point(j)[0]) / 16;
                x[0]             = s * std::cos(phi);
                x[1]             = s * std::sin(phi);
                x[2]             = z;
                f(x, (2 * qz.weight(i) / 4) * (2 * M_PI * qphi.weight(j) / 16));
              }
        }
  }

  /// int g rho over the sphere.
  template <typename G>
  double integral(const InitialDensity &rho, G &&g)
  {
    double sum = 0;
    for_each_node(rho.dimension(), [&](const double *x, double w) { sum += w * g(x) * rho.value(x); });
    return sum;
  }

  struct Moments
  {
    double mass = 0, first[3] = {0, 0, 0}, second[3][3] = {};
  };

  Moments moments(const InitialDensity &rho)
  {
    Moments m;
    for_each_node(rho.dimension(), [&](const double *x, double w) {
      const double f = w * rho.value(x);
      m.mass += f;
      for (int a = 0; a < 3; ++a)
        {
          m.first[a] += f * x[a];
          for (int b = 0; b < 3; ++b)
            m.second[a][b] += f * x[a] * x[b];
        }
    });
    return m;
  }

  /// Mean resultant length of a von Mises-Fisher law.
  double resultant(unsigned int dim, double kappa)
  {
    if (kappa == 0)
      return 0;
    return dim == 2 ? std::cyl_bessel_i(1., kappa) / std::cyl_bessel_i(0., kappa) : 1 / std::tanh(kappa) - 1 / kappa;
  }

  /// physics.md 4.4: the mean of the S^2 Poisson kernel is m_3(r) w / r.
  double m3(double r)
  {
    return (1 + r * r) / (2 * r) + (1 - r * r) * (1 - r * r) / (4 * r * r) * std::log((1 - r) / (1 + r));
  }

  std::vector<double> unit(std::vector<double> v)
  {
    double n = 0;
    for (double c : v)
      n += c * c;
    for (double &c : v)
      c /= std::sqrt(n);
    return v;
  }

  struct Case
  {
    std::string         name, type;
    unsigned int        dim;
    Overrides           overrides;
    std::vector<double> mean; // exact; empty: not known in closed form
  };

  void PrintTo(const Case &c, std::ostream *os)
  {
    *os << c.name;
  }

  std::vector<double> vmf_mean(unsigned int dim, double kappa, const std::vector<double> &direction)
  {
    auto mu = unit(direction);
    for (double &c : mu)
      c *= resultant(dim, kappa);
    return mu;
  }

  std::vector<Case> cases()
  {
    const double        a = 0.4, phase = 0.7;
    const auto          w3 = std::vector<double>{0.2, 0.4, -0.4};
    std::vector<double> mixture = vmf_mean(2, 5, {1, 0});
    const auto          second  = vmf_mean(2, 200, {-0.6, 0.8});
    for (int c = 0; c < 2; ++c)
      mixture[c] = 0.25 * mixture[c] + 0.75 * second[c];
    return {
      {"UniformCircle", "sphere uniform", 2, {}, {0, 0}},
      // rho = (1 + a cos(theta - phase)) / 2 pi: mean (a / 2) (cos phase, sin phase)
      {"CircleMode1", "sphere uniform", 2, {{"mode", "1"}, {"mode amplitude", "0.4"}, {"mode phase", "0.7"}},
       {a / 2 * std::cos(phase), a / 2 * std::sin(phase)}},
      {"CircleMode3Noise", "sphere uniform", 2,
       {{"mode", "3"}, {"mode amplitude", "0.4"}, {"noise amplitude", "0.3"}, {"noise seed", "5"}}, {}},
      {"UniformS2", "sphere uniform", 3, {}, {0, 0, 0}},
      // Y_1^1 = sqrt(3) x: mean a sqrt(3) <x^2> = a / sqrt(3) along x
      {"S2Mode11", "sphere uniform", 3, {{"mode", "1"}, {"mode order", "1"}, {"mode amplitude", "0.4"}},
       {a / std::sqrt(3.), 0, 0}},
      {"S2Mode32Noise", "sphere uniform", 3,
       {{"mode", "3"}, {"mode order", "-2"}, {"mode amplitude", "0.2"}, {"noise amplitude", "0.3"}}, {}},
      {"VonMisesCircle", "von mises", 2, {{"von mises directions", "1, 1"}, {"von mises concentrations", "2"}},
       vmf_mean(2, 2, {1, 1})},
      {"VonMisesCircleKappa200", "von mises", 2,
       {{"von mises directions", "0.3, -2"}, {"von mises concentrations", "200"}}, vmf_mean(2, 200, {0.3, -2})},
      {"VonMisesCircleMixture", "von mises", 2,
       {{"von mises weights", "1, 3"},
        {"von mises directions", "2, 0; -0.6, 0.8"},
        {"von mises concentrations", "5, 200"}},
       mixture},
      {"VonMisesS2", "von mises", 3, {{"von mises directions", "1, 2, 2"}, {"von mises concentrations", "3"}},
       vmf_mean(3, 3, {1, 2, 2})},
      {"VonMisesS2Kappa200", "von mises", 3,
       {{"von mises directions", "-1, 0.5, 0.2"}, {"von mises concentrations", "200"}},
       vmf_mean(3, 200, {-1, 0.5, 0.2})},
      {"VonMisesS2Kappa0", "von mises", 3, {{"von mises concentrations", "0"}}, {0, 0, 0}},
      {"PoissonCircle", "poisson kernel", 2, {{"poisson center", "0.3, -0.5"}}, {0.3, -0.5}},
      {"PoissonS2", "poisson kernel", 3, {{"poisson center", "0.2, 0.4, -0.4"}},
       {m3(0.6) * w3[0] / 0.6, m3(0.6) * w3[1] / 0.6, m3(0.6) * w3[2] / 0.6}},
      {"PoissonS2Pole", "poisson kernel", 3, {{"poisson center", "0, 0, 0.8"}}, {0, 0, m3(0.8)}},
    };
  }
} // namespace

class SphereDensities : public ::testing::TestWithParam<Case>
{};

TEST_P(SphereDensities, HaveMassOneAndTheirExactMean)
{
  const Case &c   = GetParam();
  const auto  rho = read_density(c.type, c.dim, c.overrides);
  ASSERT_EQ(rho->dimension(), c.dim);
  EXPECT_FALSE(rho->gaussian());
  EXPECT_EQ(rho->with_unit_mass().get(), rho.get());
  const Moments m = moments(*rho);
  EXPECT_NEAR(m.mass, 1., 1e-10);
  for (unsigned int a = 0; a < c.mean.size(); ++a)
    EXPECT_NEAR(m.first[a], c.mean[a], 1e-8) << "coordinate " << a;
  // Off the sphere the density is that of the radial projection.
  const double x[3] = {0.3, -1.2, 0.5}, y[3] = {0.6, -2.4, 1.0};
  EXPECT_NEAR(rho->value(x), rho->value(y), 1e-12 * rho->value(x));
}

TEST_P(SphereDensities, SampleOnTheSphereWithTheDensitysMoments)
{
  const Case         &c   = GetParam();
  const auto          rho = read_density(c.type, c.dim, c.overrides);
  const Moments       m   = moments(*rho);
  const std::size_t   n   = 200000;
  const unsigned int  d   = c.dim;
  const auto          tokens = rho->sample(n, particles::Sampling::random, 42, {-1, -1, -1}, {1, 1, 1});
  ASSERT_EQ(tokens.size(), n * d);
  double max_error = 0, first[3] = {}, first2[3] = {}, second[3][3] = {}, second2[3][3] = {};
  for (std::size_t i = 0; i < n; ++i)
    {
      const double *x    = &tokens[i * d];
      double        norm = 0;
      for (unsigned int a = 0; a < d; ++a)
        {
          norm += x[a] * x[a];
          first[a] += x[a] / n;
          first2[a] += x[a] * x[a] / n;
          for (unsigned int b = 0; b < d; ++b)
            {
              second[a][b] += x[a] * x[b] / n;
              second2[a][b] += x[a] * x[a] * x[b] * x[b] / n;
            }
        }
      max_error = std::max(max_error, std::abs(std::sqrt(norm) - 1));
    }
  EXPECT_LE(max_error, 1e-14);
  for (unsigned int a = 0; a < d; ++a)
    {
      const double se = std::sqrt((first2[a] - first[a] * first[a]) / n);
      EXPECT_NEAR(first[a], m.first[a], 4 * se + 1e-12) << "mean of coordinate " << a;
      for (unsigned int b = a; b < d; ++b)
        {
          const double se2 = std::sqrt((second2[a][b] - second[a][b] * second[a][b]) / n);
          EXPECT_NEAR(second[a][b], m.second[a][b], 5 * se2 + 1e-12) << "second moment " << a << b;
        }
    }
  // The seed fixes the tokens; quasi-random tokens lie on the sphere too.
  EXPECT_EQ(rho->sample(1000, particles::Sampling::random, 42, {}, {}),
            std::vector<double>(tokens.begin(), tokens.begin() + 1000 * d));
  EXPECT_NE(rho->sample(1000, particles::Sampling::random, 43, {}, {}),
            std::vector<double>(tokens.begin(), tokens.begin() + 1000 * d));
  const auto quasi = rho->sample(20000, particles::Sampling::quasi_random, 7, {}, {});
  double     quasi_mean[3] = {};
  for (std::size_t i = 0; i < 20000; ++i)
    {
      double norm = 0;
      for (unsigned int a = 0; a < d; ++a)
        {
          norm += quasi[i * d + a] * quasi[i * d + a];
          quasi_mean[a] += quasi[i * d + a] / 20000;
        }
      EXPECT_NEAR(std::sqrt(norm), 1., 1e-14);
    }
  for (unsigned int a = 0; a < d; ++a)
    EXPECT_NEAR(quasi_mean[a], m.first[a], 4 * std::sqrt((first2[a] - first[a] * first[a]) / 20000))
      << "quasi-random mean of coordinate " << a;
}

INSTANTIATE_TEST_SUITE_P(Types, SphereDensities, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case> &info) { return info.param.name; });

TEST(SphereInitial, VonMisesMeanResultantLength)
{
  for (unsigned int dim : {2u, 3u})
    for (double kappa : {0.5, 2., 200.})
      {
        const auto    rho = read_density("von mises", dim, {{"von mises concentrations", std::to_string(kappa)}});
        const Moments m   = moments(*rho);
        EXPECT_NEAR(m.mass, 1., 1e-10) << dim << " " << kappa;
        EXPECT_NEAR(m.first[dim - 1], resultant(dim, kappa), 1e-8) << dim << " " << kappa;
        EXPECT_NEAR(m.first[0], 0., 1e-12);
      }
}

TEST(SphereInitial, PoissonKernelOnTheCircleIsTheWrappedCauchyLaw)
{
  // E[z^k] = w^k for z = e^{i theta}: k = 2 gives the second moments.
  const auto    rho = read_density("poisson kernel", 2, {{"poisson center", "0.3, -0.5"}});
  const Moments m   = moments(*rho);
  EXPECT_NEAR(m.second[0][0] - m.second[1][1], 0.3 * 0.3 - 0.5 * 0.5, 1e-8);
  EXPECT_NEAR(2 * m.second[0][1], 2 * 0.3 * -0.5, 1e-8);
  const double r2 = 0.34, theta = 1.1, x[2] = {std::cos(theta), std::sin(theta)};
  EXPECT_NEAR(rho->value(x),
              (1 - r2) / (2 * M_PI * (1 - 2 * (0.3 * x[0] - 0.5 * x[1]) + r2)), 1e-15);
}

TEST(SphereInitial, CircleModeHasTheDocumentedCoefficient)
{
  // a = 2 int rho cos(k (theta - phase)) dtheta; the sine part vanishes.
  const auto rho = read_density("sphere uniform", 2, {{"mode", "3"}, {"mode amplitude", "0.4"}, {"mode phase", "0.7"}});
  const auto angle = [](const double *x) { return std::atan2(x[1], x[0]); };
  EXPECT_NEAR(2 * integral(*rho, [&](const double *x) { return std::cos(3 * (angle(x) - 0.7)); }), 0.4, 1e-10);
  EXPECT_NEAR(integral(*rho, [&](const double *x) { return std::sin(3 * (angle(x) - 0.7)); }), 0., 1e-12);
  EXPECT_NEAR(integral(*rho, [&](const double *x) { return std::cos(2 * angle(x)); }), 0., 1e-12);
}

TEST(SphereInitial, S2ModeIsTheMeanSquareOneHarmonic)
{
  // Real harmonics with int Y^2 dA = 4 pi, no Condon-Shortley phase.
  struct Harmonic
  {
    int                                   l, m;
    std::function<double(const double *)> y;
  };
  const std::vector<Harmonic> harmonics = {
    {1, 1, [](const double *x) { return std::sqrt(3.) * x[0]; }},
    {1, -1, [](const double *x) { return std::sqrt(3.) * x[1]; }},
    {2, 0, [](const double *x) { return std::sqrt(5.) / 2 * (3 * x[2] * x[2] - 1); }},
    {2, -1, [](const double *x) { return std::sqrt(15.) * x[1] * x[2]; }},
    {3, 2, [](const double *x) { return std::sqrt(105.) / 2 * x[2] * (x[0] * x[0] - x[1] * x[1]); }},
  };
  const auto uniform = read_density("sphere uniform", 3);
  for (const auto &h : harmonics)
    {
      EXPECT_NEAR(integral(*uniform, [&](const double *x) { return h.y(x) * h.y(x); }), 1., 1e-12);
      const auto rho = read_density("sphere uniform", 3,
                                    {{"mode", std::to_string(h.l)},
                                     {"mode order", std::to_string(h.m)},
                                     {"mode amplitude", "0.25"}});
      EXPECT_NEAR(integral(*rho, h.y), 0.25, 1e-10) << "l = " << h.l << ", m = " << h.m;
      for (const auto &other : harmonics)
        {
          if (&other == &h)
            continue;
          EXPECT_NEAR(integral(*rho, other.y), 0., 1e-12) << h.l << h.m << " against " << other.l << other.m;
        }
    }
}

TEST(SphereInitial, ModeAmplitudeIsBoundedByTheHarmonicsMaximum)
{
  // max |Y_2^0| = sqrt(5) (at the poles), max |Y_2^2| = sqrt(15) / 2.
  EXPECT_EQ(read_error("sphere uniform", 3, {{"mode", "2"}, {"mode amplitude", "0.44"}}), "");
  EXPECT_NE(read_error("sphere uniform", 3, {{"mode", "2"}, {"mode amplitude", "-0.45"}}).find("mode amplitude"),
            std::string::npos);
  EXPECT_EQ(read_error("sphere uniform", 3, {{"mode", "2"}, {"mode order", "2"}, {"mode amplitude", "0.51"}}), "");
  EXPECT_NE(read_error("sphere uniform", 3, {{"mode", "2"}, {"mode order", "2"}, {"mode amplitude", "0.52"}}), "");
  EXPECT_EQ(read_error("sphere uniform", 2, {{"mode", "5"}, {"mode amplitude", "0.99"}}), "");
  EXPECT_NE(read_error("sphere uniform", 2, {{"mode", "5"}, {"mode amplitude", "1"}}), "");
}

TEST(SphereInitial, NoiseIsSeededAndConstantOnTheDocumentedCells)
{
  const Overrides noise = {{"noise amplitude", "0.5"}, {"noise seed", "3"}};
  // S^2, 64 cells: 4 bands in z times 16 sectors; the value at every cell's
  // centre, whose average is 1 / 4 pi (the values minus their mean).
  const auto rho = read_density("sphere uniform", 3, noise);
  double     sum = 0, low = 1, high = 0;
  for (int b = 0; b < 4; ++b)
    for (int s = 0; s < 16; ++s)
      {
        const auto point = [&](double fb, double fs) {
          const double z = -1 + 2 * (b + fb) / 4, r = std::sqrt(1 - z * z), phi = 2 * M_PI * (s + fs) / 16;
          return std::vector<double>{r * std::cos(phi), r * std::sin(phi), z};
        };
        const double centre = rho->value(point(0.5, 0.5).data());
        EXPECT_EQ(rho->value(point(0.01, 0.02).data()), centre);
        EXPECT_EQ(rho->value(point(0.98, 0.97).data()), centre);
        sum += centre / 64;
        low  = std::min(low, centre);
        high = std::max(high, centre);
      }
  EXPECT_NEAR(sum, 1 / (4 * M_PI), 1e-15);
  EXPECT_GT(high - low, 0.5 / (4 * M_PI)); // the cells differ
  EXPECT_LE(high - low, 2 * 0.5 / (4 * M_PI));
  // The same seed gives the same density; another seed another one.
  const double x[3] = {0.1, 0.7, -0.2};
  EXPECT_EQ(read_density("sphere uniform", 3, noise)->value(x), rho->value(x));
  EXPECT_NE(read_density("sphere uniform", 3, {{"noise amplitude", "0.5"}, {"noise seed", "4"}})->value(x),
            rho->value(x));
  EXPECT_NE(read_error("sphere uniform", 2, {{"noise amplitude", "2"}}).find("noise amplitude"), std::string::npos);
  // Circle: 10 equal arcs from theta = 0.
  const auto circle = read_density("sphere uniform", 2, {{"noise amplitude", "0.5"}, {"noise cells", "10"}});
  for (int arc = 0; arc < 10; ++arc)
    {
      const double t0 = 2 * M_PI * (arc + 0.01) / 10, t1 = 2 * M_PI * (arc + 0.99) / 10;
      const double a[2] = {std::cos(t0), std::sin(t0)}, b[2] = {std::cos(t1), std::sin(t1)};
      EXPECT_EQ(circle->value(a), circle->value(b)) << "arc " << arc;
    }
  EXPECT_NEAR(moments(*read_density("sphere uniform", 2, {{"noise amplitude", "0.5"}, {"noise cells", "16"}})).mass,
              1., 1e-12);
}

TEST(SphereInitial, SphereTypesNeedTheSphere)
{
  for (const std::string type : {"sphere uniform", "von mises", "poisson kernel"})
    {
      EXPECT_NE(read_error(type, 2, {}, false).find("entry 'type'"), std::string::npos) << type;
      EXPECT_NE(read_error(type, 1, {}, true).find("dimension"), std::string::npos) << type;
      EXPECT_NE(read_error(type, 4, {}, true).find("dimension"), std::string::npos) << type;
      EXPECT_EQ(read_error(type, 3, {}, true), "") << type;
    }
}

TEST(SphereInitial, EuclideanTypesRefuseTheSphere)
{
  for (const std::string type : {"gaussian", "mixture", "box", "ball"})
    {
      EXPECT_EQ(read_error(type, 1, {}, false), "") << type;
      const std::string message = read_error(type, 2, {}, true);
      EXPECT_NE(message.find("expected a density on the sphere"), std::string::npos) << message;
      EXPECT_NE(message.find("got type = " + type), std::string::npos) << message;
    }
  // An expression is a formula in the ambient coordinates, sampled on the sphere.
  const auto rho = read_density("expression", 3, {{"expression", "1 + 0.5 * z"}});
  const auto tokens = rho->sample(1000, particles::Sampling::random, 1, {-2, -2, -2}, {2, 2, 2});
  for (std::size_t i = 0; i < 1000; ++i)
    EXPECT_NEAR(std::hypot(tokens[3 * i], tokens[3 * i + 1], tokens[3 * i + 2]), 1., 1e-14);
}

TEST(SphereInitial, BadEntriesAreInputErrors)
{
  struct Bad
  {
    std::string  type;
    unsigned int dim;
    Overrides    overrides;
    std::string  entry;
  };
  const std::vector<Bad> bad = {
    {"von mises", 2, {{"von mises weights", "1, -1"}}, "von mises weights"},
    {"von mises", 2, {{"von mises weights", ""}}, "von mises weights"},
    {"von mises", 3, {{"von mises directions", "0, 0, 0"}}, "von mises directions"},
    {"von mises", 3, {{"von mises directions", "1, 0"}}, "von mises directions"},
    {"von mises", 2, {{"von mises weights", "1, 1"}, {"von mises directions", "1, 0"}}, "von mises directions"},
    {"von mises", 2, {{"von mises concentrations", "-1"}}, "von mises concentrations"},
    {"von mises", 2, {{"von mises concentrations", "1e7"}}, "von mises concentrations"},
    {"von mises", 2, {{"von mises weights", "1, 2"}, {"von mises directions", "1, 0; 0, 1"},
                      {"von mises concentrations", "1, 2, 3"}}, "von mises concentrations"},
    {"poisson kernel", 2, {{"poisson center", "0.8, 0.6"}}, "poisson center"},
    {"poisson kernel", 3, {{"poisson center", "2"}}, "poisson center"},
    {"poisson kernel", 3, {{"poisson center", "0.1, 0.1"}}, "poisson center"},
    {"sphere uniform", 2, {{"mode amplitude", "0.1"}}, "mode amplitude"}, // mode 0: the constant
    {"sphere uniform", 2, {{"mode", "2"}, {"mode amplitude", "0.6"}, {"noise amplitude", "0.6"}}, "mode amplitude"},
    {"sphere uniform", 2, {{"mode order", "1"}}, "mode order"},
    {"sphere uniform", 3, {{"mode", "2"}, {"mode order", "3"}}, "mode order"},
    {"sphere uniform", 3, {{"mode phase", "0.5"}}, "mode phase"},
    {"sphere uniform", 3, {{"noise amplitude", "-0.1"}}, "noise amplitude"},
    {"sphere uniform", 3, {{"noise cells", "0"}}, "noise cells"},
    {"sphere uniform", 3, {{"mode", "-1"}}, "mode"},
  };
  for (const auto &b : bad)
    {
      const std::string message = read_error(b.type, b.dim, b.overrides);
      EXPECT_NE(message.find("entry '" + b.entry + "'"), std::string::npos)
        << b.type << " " << b.overrides.front().first << " = " << b.overrides.front().second << ": '" << message
        << "'";
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
}
