// `tpde particles`: token sampling, the run's files (statistics.csv against
// the exact Gaussian, .vtp/.pvd read back), reproducibility, CSV import and
// bad input.
#include "particles/sampling.h"
#include "postprocess/vtk_reader.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <vtkDataArray.h>
#include <vtkFieldData.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

using namespace tpde::testing;
namespace particles = tpde::particles;

namespace
{
  std::vector<double> coordinates(vtkPolyData *cloud, unsigned int dim)
  {
    std::vector<double> x;
    for (vtkIdType i = 0; i < cloud->GetNumberOfPoints(); ++i)
      for (unsigned int c = 0; c < dim; ++c)
        x.push_back(cloud->GetPoint(i)[c]);
    return x;
  }

  /// Mean and covariance of N x dim tokens.
  std::pair<std::vector<double>, std::vector<double>> sample_moments(const std::vector<double> &x, unsigned int dim)
  {
    const std::size_t   n = x.size() / dim;
    std::vector<double> mean(dim, 0.), cov(dim * dim, 0.);
    for (std::size_t i = 0; i < n; ++i)
      for (unsigned int a = 0; a < dim; ++a)
        mean[a] += x[i * dim + a] / n;
    for (std::size_t i = 0; i < n; ++i)
      for (unsigned int a = 0; a < dim; ++a)
        for (unsigned int b = 0; b < dim; ++b)
          cov[a * dim + b] += (x[i * dim + a] - mean[a]) * (x[i * dim + b] - mean[b]) / n;
    return {mean, cov};
  }

  const std::string t1_prm = source_path("parameters/gaussian-1d-collapse.prm");
} // namespace

TEST(ParticleSampling, InverseNormalCdfRoundTrips)
{
  for (const double u : {1e-300, 1e-100, 1e-10, 1e-3, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-10})
    {
      // In the tails the relative error of Phi is |x| times the absolute error
      // of x, which cannot be below an ulp of x: allow that conditioning.
      const double x         = particles::inverse_normal_cdf(u);
      const double tolerance = 1e-14 * std::max(1., x * x);
      if (u <= 0.5)
        EXPECT_NEAR(0.5 * std::erfc(-x / std::sqrt(2.)) / u, 1., tolerance) << "u = " << u;
      else
        EXPECT_NEAR(0.5 * std::erfc(x / std::sqrt(2.)) / (1 - u), 1., tolerance) << "u = " << u;
    }
  EXPECT_EQ(particles::inverse_normal_cdf(0.5), 0.);
}

TEST(ParticleSampling, MixtureAndBallMoments)
{
  // Two-component mixture in 2D: exact moments from the components.
  std::vector<particles::GaussianComponent> mixture = {
    {0.4, {2., 0.}, tpde::Matrix::parse("0.3, 0; 0, 0.15")},
    {0.6, {-1., 1.7}, tpde::Matrix::parse("0.2, 0.05; 0.05, 0.3")}};
  std::vector<double> mean(2, 0.), second(4, 0.);
  for (const auto &c : mixture)
    for (unsigned int a = 0; a < 2; ++a)
      {
        mean[a] += c.weight * c.mean[a];
        for (unsigned int b = 0; b < 2; ++b)
          second[a * 2 + b] += c.weight * (c.covariance(a, b) + c.mean[a] * c.mean[b]);
      }
  const std::size_t n = 20000;
  for (const auto sampling : {particles::Sampling::quasi_random, particles::Sampling::random})
    {
      const auto tokens      = particles::sample_gaussian_mixture(mixture, n, sampling, 3);
      const auto [m, cov]    = sample_moments(tokens, 2);
      // Quasi-random: discrepancy ~ (log N)^3 / N; random: 6 standard errors (sd <= 1.7).
      const double tolerance = sampling == particles::Sampling::quasi_random ? 3e-3 : 6 * 1.7 / std::sqrt(double(n));
      for (unsigned int a = 0; a < 2; ++a)
        {
          EXPECT_NEAR(m[a], mean[a], tolerance);
          for (unsigned int b = 0; b < 2; ++b)
            EXPECT_NEAR(cov[a * 2 + b], second[a * 2 + b] - mean[a] * mean[b], 2 * tolerance);
        }
    }
  // Uniform unit ball in 2D by rejection: mean 0, covariance I/4, all inside.
  const auto disc = particles::sample_by_rejection(
    [](const double *x) { return x[0] * x[0] + x[1] * x[1] <= 1. ? 1. : 0.; }, {-1., -1.}, {1., 1.}, n,
    particles::Sampling::quasi_random, 5);
  const auto [m, cov] = sample_moments(disc, 2);
  for (std::size_t i = 0; i < n; ++i)
    ASSERT_LE(disc[2 * i] * disc[2 * i] + disc[2 * i + 1] * disc[2 * i + 1], 1.);
  EXPECT_NEAR(m[0], 0., 3e-3);
  EXPECT_NEAR(m[1], 0., 3e-3);
  EXPECT_NEAR(cov[0], 0.25, 3e-3);
  EXPECT_NEAR(cov[3], 0.25, 3e-3);
  EXPECT_NEAR(cov[1], 0., 3e-3);
}

TEST(ParticleSampling, BoxAndNonUniformRejection)
{
  const std::size_t n = 20000;
  // Box [-1, 3] x [0, 0.5]: mean (1, 0.25), variances 16/12 and 0.25/12.
  const auto box      = particles::sample_box({-1., 0.}, {3., 0.5}, n, particles::Sampling::quasi_random, 2);
  const auto [mb, cb] = sample_moments(box, 2);
  EXPECT_NEAR(mb[0], 1., 1e-3);
  EXPECT_NEAR(mb[1], 0.25, 1e-3);
  EXPECT_NEAR(cb[0], 16. / 12, 2e-3);
  EXPECT_NEAR(cb[3], 0.25 / 12, 2e-3);
  // Density 2x on [0, 1] (as for type = expression): mean 2/3, variance 1/18,
  // for both samplings (random: 6 standard errors).
  for (const auto sampling : {particles::Sampling::quasi_random, particles::Sampling::random})
    {
      const auto tokens  = particles::sample_by_rejection([](const double *x) { return 2 * x[0]; }, {0.}, {1.}, n,
                                                          sampling, 9);
      const auto [m, c]  = sample_moments(tokens, 1);
      const double tolerance = sampling == particles::Sampling::quasi_random ? 2e-3 : 6 * 0.24 / std::sqrt(double(n));
      EXPECT_NEAR(m[0], 2. / 3, tolerance);
      EXPECT_NEAR(c[0], 1. / 18, tolerance);
    }
}

TEST(ParticleRun, T1FilesAndExactGaussian)
{
  const auto dir = scratch_directory("particles-t1");
  const auto result = run_tpde("particles " + t1_prm + " --quiet --set Output/directory=" + dir +
                               " --set Output/interval=0.25 --set 'Particles/number of tokens=4000'"
                               " --set Particles/sampling=quasi-random --set 'Particles/time step=0.05'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string particles_dir = dir + "/particles";
  EXPECT_TRUE(std::filesystem::exists(particles_dir + "/parameters.prm"));

  const Table table = read_csv(particles_dir + "/statistics.csv");
  ASSERT_EQ(table.rows(), 21u); // 20 steps of 0.05 and the initial state
  for (const char *column : {"step", "time", "dt", "mass", "mean_0", "cov_00", "max_speed", "wall_seconds",
                             "ref_mean_0", "ref_cov_00", "err_mean", "err_cov", "tokens"})
    ASSERT_TRUE(table.columns.count(column)) << column;
  EXPECT_DOUBLE_EQ(table.columns.at("time").back(), 1.);
  EXPECT_NEAR(table.columns.at("ref_cov_00").back(), 0.25, 1e-10);          // T1: s(1) = 0.25
  EXPECT_NEAR(table.columns.at("ref_mean_0").back(), 0.2601300475, 1e-9);
  // Quasi-random tokens carry the Gaussian's moments to ~1e-4; the dynamics keep them.
  EXPECT_LT(table.columns.at("err_mean").front(), 2e-3);
  EXPECT_LT(table.columns.at("err_mean").back(), 2e-3);
  EXPECT_LT(table.columns.at("err_cov").back(), 2e-3);

  const auto series = tpde::postprocess::read_pvd(particles_dir + "/particles.pvd");
  ASSERT_EQ(series.size(), 5u);
  for (std::size_t k = 0; k < series.size(); ++k)
    EXPECT_NEAR(series[k].time, 0.25 * k, 1e-15);
  const auto last = tpde::postprocess::read_polydata(series.back().file);
  ASSERT_EQ(last->GetNumberOfPoints(), 4000);
  ASSERT_EQ(last->GetNumberOfVerts(), 4000);
  EXPECT_EQ(last->GetFieldData()->GetArray("TimeValue")->GetComponent(0, 0), 1.);
  const auto [mean, cov] = sample_moments(coordinates(last, 1), 1);
  EXPECT_NEAR(mean[0], table.columns.at("mean_0").back(), 1e-14);
  EXPECT_NEAR(cov[0], table.columns.at("cov_00").back(), 1e-14);
}

TEST(ParticleRun, SameSeedSameTokens)
{
  const auto dir = scratch_directory("particles-seed");
  std::vector<std::vector<double>> finals;
  for (const std::string seed : {"4", "4", "5"})
    {
      const auto out    = dir + "/seed" + std::to_string(finals.size());
      const auto result = run_tpde("particles " + source_path("tests/data/small-2d.prm") + " --quiet --set Output/directory=" +
                                   out + " --set 'Particles/number of tokens=300' --set Particles/seed=" + seed);
      ASSERT_EQ(result.exit_code, 0) << result.output;
      const auto series = tpde::postprocess::read_pvd(out + "/particles/particles.pvd");
      finals.push_back(coordinates(tpde::postprocess::read_polydata(series.back().file), 2));
    }
  for (const auto &tokens : finals)
    ASSERT_EQ(tokens.size(), 600u) << "300 tokens in 2D";
  EXPECT_EQ(finals[0], finals[1]);
  EXPECT_NE(finals[0], finals[2]);
}

TEST(ParticleRun, ImportsCsvWithTimeColumnAndPerTimeFiles)
{
  const auto      dir = scratch_directory("particles-import");
  std::mt19937_64 random(11);
  std::normal_distribution<double> normal;
  // Layout 1: one file with a time column (rows of different times interleaved).
  std::vector<std::vector<double>> tokens(3);
  std::string                      text = "token,x,time,y\n";
  for (int i = 0; i < 50; ++i)
    for (int t = 0; t < 3; ++t)
      {
        const double x = normal(random), y = normal(random);
        tokens[t].insert(tokens[t].end(), {x, y});
        char line[128];
        std::snprintf(line, sizeof line, "%d,%.17g,%d,%.17g\n", i, x, t, y);
        text += line;
      }
  write_file(dir + "/tokens.csv", text);
  // Layout 2: one file per layer.
  for (int t = 0; t < 3; ++t)
    {
      std::string layer = "# exported hidden states\nx0,x1\n";
      for (int i = 0; i < 50; ++i)
        {
          char line[96];
          std::snprintf(line, sizeof line, "%.17g,%.17g\n", tokens[t][2 * i], tokens[t][2 * i + 1]);
          layer += line;
        }
      write_file(dir + "/layers/layer_" + std::to_string(t) + ".csv", layer);
    }
  for (const std::string &source : {dir + "/tokens.csv", dir + "/layers/layer_*.csv"})
    {
      SCOPED_TRACE(source);
      const auto out    = dir + "/out";
      std::filesystem::remove_all(out);
      const auto result = run_tpde("particles " + source_path("tests/data/small-2d.prm") + " --quiet --set Output/directory=" +
                                   out + " --set 'Particles/import file=" + source + "' --set 'Particles/import time scale=0.5'");
      ASSERT_EQ(result.exit_code, 0) << result.output;
      const auto series = tpde::postprocess::read_pvd(out + "/particles/particles.pvd");
      ASSERT_EQ(series.size(), 3u);
      const Table table = read_csv(out + "/particles/statistics.csv");
      for (int t = 0; t < 3; ++t)
        {
          EXPECT_EQ(series[t].time, 0.5 * t);
          EXPECT_EQ(coordinates(tpde::postprocess::read_polydata(series[t].file), 2), tokens[t]);
          EXPECT_NEAR(table.columns.at("mean_1")[t], sample_moments(tokens[t], 2).first[1], 1e-15);
        }
    }
}

TEST(ParticleRun, BadInputExitCode2NothingWritten)
{
  const auto dir = scratch_directory("particles-bad");
  write_file(dir + "/broken.csv", "x,y\n1,2\n3,oops\n");
  const struct
  {
    std::string set, expected;
  } cases[] = {
    {"'Particles/time step=0'", "subsection 'Particles', entry 'time step': expected a positive time step"},
    {"Particles/integrator=euler", "integrator"},
    {"'Particles/import file=" + dir + "/broken.csv'", "broken.csv:3: expected a number in column 2, got 'oops'"},
    {"'Particles/import file=" + dir + "/missing_*.csv'", "entry 'import file'"},
  };
  for (const auto &c : cases)
    {
      const auto out    = dir + "/out";
      const auto result = run_tpde("particles " + source_path("tests/data/small-2d.prm") + " --quiet --set Output/directory=" +
                                   out + " --set " + c.set);
      EXPECT_EQ(result.exit_code, 2) << result.output;
      EXPECT_NE(result.output.find(c.expected), std::string::npos) << result.output;
      EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
      EXPECT_FALSE(std::filesystem::exists(out)) << c.set;
    }
}

TEST(ParticleRun, SharedStatisticsColumnsMatchTheGridRun)
{
  // One statistics schema: the columns a grid run and a particle run share
  // have the same names in the same order (the grid's own columns, e.g.
  // outflow and cells, and the particles' tokens lie between them).
  const auto dir    = scratch_directory("particles-schema");
  const auto common = " --quiet --set Output/directory=" + dir +
                      " --set 'Output/write vtu=false' --set 'Time stepping/end time=0.02'";
  const auto grid   = run_tpde("run " + source_path("tests/data/small-2d.prm") + common);
  ASSERT_EQ(grid.exit_code, 0) << grid.output;
  const auto particles = run_tpde("particles " + source_path("tests/data/small-2d.prm") + common +
                                  " --set 'Particles/number of tokens=200'");
  ASSERT_EQ(particles.exit_code, 0) << particles.output;
  const auto grid_header     = read_csv(dir + "/statistics.csv").header;
  const auto particle_header = read_csv(dir + "/particles/statistics.csv").header;
  const auto shared_in       = [](const std::vector<std::string> &header, const std::vector<std::string> &other) {
    std::vector<std::string> shared;
    for (const auto &name : header)
      if (std::find(other.begin(), other.end(), name) != other.end())
        shared.push_back(name);
    return shared;
  };
  const std::vector<std::string> expected = {"step",   "time",   "dt",     "mass",      "mean_0",       "mean_1",
                                             "cov_00", "cov_01", "cov_10", "cov_11",    "max_speed",    "wall_seconds",
                                             "ref_mean_0", "ref_mean_1", "ref_cov_00", "ref_cov_01", "ref_cov_10",
                                             "ref_cov_11", "fast_share"};
  EXPECT_EQ(shared_in(grid_header, particle_header), expected);
  EXPECT_EQ(shared_in(particle_header, grid_header), expected);
}
