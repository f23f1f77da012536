// The token integrator (solver/particles): RK4 converges with order 4 (and
// SSP-RK3 with order 3) for every registered attention variant, and the
// velocities it integrates agree with an independent long-double brute force
// of each variant's particle formula (physics.md §1) to 1e-13.
#include "particles/particle_system.h"
#include "support/random_attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <vector>

namespace
{
  using namespace tpde;
  using LongVector = std::vector<long double>;

  /// Random parameters for any variant: the shared entries plus two heads
  /// (multihead) and tight Sinkhorn marginals; each variant reads what it uses.
  attention::Parameters random_parameters(unsigned int dim, std::mt19937_64 &random)
  {
    auto p = tpde::testing::random_attention_parameters(dim, 2, 0.5, random);
    for (double &v : p.V.data)
      v *= 0.3;
    p.bias = 0.3;
    std::normal_distribution<double> normal;
    for (int h = 0; h < 2; ++h)
      {
        attention::Parameters::Head head;
        head.beta = 0.4 + 0.2 * h;
        head.Q    = Matrix(1, dim);
        head.K    = Matrix(1, dim);
        head.C    = Matrix(dim, dim);
        for (Matrix *m : {&head.Q, &head.K, &head.C})
          for (double &entry : m->data)
            entry = 0.5 * normal(random);
        p.heads.push_back(head);
      }
    // Sinkhorn: marginals converged far enough for the 1e-13 comparison.
    p.sinkhorn_tolerance      = 1e-15;
    p.sinkhorn_max_iterations = 100000;
    return p;
  }

  std::vector<double> random_tokens(std::size_t n, unsigned int dim, std::mt19937_64 &random)
  {
    std::normal_distribution<double> normal;
    std::vector<double>              x(n * dim);
    for (double &value : x)
      value = 0.7 * normal(random);
    return x;
  }

  std::vector<double> integrate(const attention::Kernel &kernel, const std::vector<double> &x0, double end_time,
                                unsigned int steps, particles::Integrator integrator)
  {
    particles::ParticleSystem system(kernel, x0);
    for (unsigned int s = 0; s < steps; ++s)
      system.step(end_time / steps, integrator);
    return system.positions();
  }

  double max_difference(const std::vector<double> &a, const std::vector<double> &b)
  {
    double largest = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
      largest = std::max(largest, std::abs(a[i] - b[i]));
    return largest;
  }

  // ---- brute force ------------------------------------------------------------

  long double dot_rows(const Matrix &Q, const long double *x, const Matrix &K, const long double *y, unsigned int dim)
  {
    long double s = 0;
    for (std::size_t r = 0; r < Q.rows; ++r)
      {
        long double qx = 0, ky = 0;
        for (unsigned int c = 0; c < dim; ++c)
          {
            qx += Q(r, c) * x[c];
            ky += K(r, c) * y[c];
          }
        s += qx * ky;
      }
    return s;
  }

  /// sum_j a_ij y_j / normaliser_i, mapped by M, for weights a_ij (n x n).
  LongVector apply_weights(const std::vector<long double> &a, const LongVector &x, unsigned int dim, const Matrix &M,
                           bool normalise)
  {
    const std::size_t n = x.size() / dim;
    LongVector        v(n * dim, 0.L);
    for (std::size_t i = 0; i < n; ++i)
      {
        long double mean[3] = {0, 0, 0}, total = 0;
        for (std::size_t j = 0; j < n; ++j)
          {
            total += a[i * n + j];
            for (unsigned int c = 0; c < dim; ++c)
              mean[c] += a[i * n + j] * x[j * dim + c];
          }
        for (unsigned int r = 0; r < dim; ++r)
          for (unsigned int c = 0; c < dim; ++c)
            v[i * dim + r] += M(r, c) * mean[c] / (normalise ? total : (long double)n);
      }
    return v;
  }

  /// beta <Q x_i, K x_j> for all token pairs (n x n).
  std::vector<long double> scores(long double beta, const Matrix &Q, const Matrix &K, const LongVector &x,
                                  unsigned int dim)
  {
    const std::size_t        n = x.size() / dim;
    std::vector<long double> c(n * n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        c[i * n + j] = beta * dot_rows(Q, &x[i * dim], K, &x[j * dim], dim);
    return c;
  }

  /// f applied to every entry.
  template <class Function>
  std::vector<long double> map_entries(std::vector<long double> a, Function f)
  {
    for (long double &value : a)
      value = f(value);
    return a;
  }

  long double exp_of(long double z)
  {
    return std::exp(z);
  }

  // The particle formulas of the variants with weights 1/N (physics.md §1).

  LongVector softmax_velocity(const attention::Parameters &p, const LongVector &x)
  {
    return apply_weights(map_entries(scores(p.beta, p.Q, p.K, x, p.dim), exp_of), x, p.dim, p.V, true);
  }

  LongVector unnormalized_velocity(const attention::Parameters &p, const LongVector &x)
  {
    return apply_weights(map_entries(scores(p.beta, p.Q, p.K, x, p.dim), exp_of), x, p.dim, p.V, false);
  }

  LongVector sigmoid_velocity(const attention::Parameters &p, const LongVector &x)
  {
    const auto sigma = [&](long double score) { return 1.L / (1.L + std::exp(-(score + p.bias))); };
    return apply_weights(map_entries(scores(p.beta, p.Q, p.K, x, p.dim), sigma), x, p.dim, p.V, false);
  }

  LongVector l2_velocity(const attention::Parameters &p, const LongVector &x)
  {
    const std::size_t        n = x.size() / p.dim;
    std::vector<long double> a(n * n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        {
          long double d2 = 0;
          for (std::size_t r = 0; r < p.Q.rows; ++r)
            {
              long double diff = 0;
              for (unsigned int c = 0; c < p.dim; ++c)
                diff += p.Q(r, c) * x[i * p.dim + c] - p.K(r, c) * x[j * p.dim + c];
              d2 += diff * diff;
            }
          a[i * n + j] = std::exp(-(long double)p.beta * d2);
        }
    return apply_weights(a, x, p.dim, p.V, true);
  }

  LongVector multihead_velocity(const attention::Parameters &p, const LongVector &x)
  {
    LongVector v(x.size(), 0.L);
    for (const auto &head : p.heads)
      {
        const LongVector part =
          apply_weights(map_entries(scores(head.beta, head.Q, head.K, x, p.dim), exp_of), x, p.dim, head.C, true);
        for (std::size_t i = 0; i < v.size(); ++i)
          v[i] += part[i];
      }
    return v;
  }

  LongVector sinkhorn_velocity(const attention::Parameters &p, const LongVector &x)
  {
    // Scale exp(c_ij / eps), c = beta <Q x_i, K x_j>, to a doubly stochastic
    // plan (rows and columns summing to 1/n under the weights 1/n), log
    // domain, to convergence.
    const std::size_t              n   = x.size() / p.dim;
    const long double              eps = p.sinkhorn_epsilon;
    const std::vector<long double> c   = scores(p.beta, p.Q, p.K, x, p.dim);
    std::vector<long double>       f(n, 0.L), g(n, 0.L);
    const auto log_mean_exp = [&](auto term) {
      long double largest = -INFINITY, sum = 0;
      for (std::size_t k = 0; k < n; ++k)
        largest = std::max(largest, term(k));
      for (std::size_t k = 0; k < n; ++k)
        sum += std::exp(term(k) - largest);
      return largest + std::log(sum / n);
    };
    for (int iteration = 0; iteration < 100000; ++iteration)
      {
        for (std::size_t i = 0; i < n; ++i)
          f[i] = -eps * log_mean_exp([&](std::size_t j) { return (c[i * n + j] + g[j]) / eps; });
        long double change = 0;
        for (std::size_t j = 0; j < n; ++j)
          {
            const long double updated = -eps * log_mean_exp([&](std::size_t i) { return (c[i * n + j] + f[i]) / eps; });
            change = std::max(change, std::abs(updated - g[j]));
            g[j]   = updated;
          }
        if (change < 1e-18L)
          break;
      }
    std::vector<long double> a(n * n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        a[i * n + j] = std::exp((c[i * n + j] + f[i] + g[j]) / eps);
    return apply_weights(a, x, p.dim, p.V, false);
  }

  /// Tokens (s, x); each attends (softmax) to the tokens with s_j <= s_i; s frozen.
  LongVector masked_velocity(const attention::Parameters &p, const LongVector &x)
  {
    const std::size_t d = p.dim, n = x.size() / (d + 1);
    LongVector        v(x.size(), 0.L);
    for (std::size_t i = 0; i < n; ++i)
      {
        long double mean[3] = {0, 0, 0}, total = 0;
        for (std::size_t j = 0; j < n; ++j)
          if (x[j * (d + 1)] <= x[i * (d + 1)])
            {
              const long double a =
                std::exp((long double)p.beta * dot_rows(p.Q, &x[i * (d + 1) + 1], p.K, &x[j * (d + 1) + 1], d));
              total += a;
              for (std::size_t c = 0; c < d; ++c)
                mean[c] += a * x[j * (d + 1) + 1 + c];
            }
        for (std::size_t r = 0; r < d; ++r)
          for (std::size_t c = 0; c < d; ++c)
            v[i * (d + 1) + 1 + r] += p.V(r, c) * mean[c] / total;
      }
    return v;
  }

  using Formula = LongVector (*)(const attention::Parameters &, const LongVector &);

  /// The brute-force particle formula of each variant, by name.
  const std::map<std::string, Formula> &brute_force()
  {
    static const std::map<std::string, Formula> formulas = {
      {"softmax", softmax_velocity},     {"l2", l2_velocity},
      {"sigmoid", sigmoid_velocity},     {"unnormalized", unnormalized_velocity},
      {"multihead", multihead_velocity}, {"sinkhorn", sinkhorn_velocity},
      {"masked", masked_velocity},
    };
    return formulas;
  }

  TEST(ParticleIntegrator, RungeKuttaOrdersForEveryVariant)
  {
    for (const auto &variant : attention::variants())
      for (unsigned int dim : {1u, 2u})
        {
          // Own random stream per case: adding a variant changes no other case.
          std::mt19937_64 random(std::hash<std::string>()(variant.name) + dim);
          SCOPED_TRACE(variant.name + " " + std::to_string(dim) + "D");
          const auto parameters = random_parameters(dim, random);
          const auto kernel     = variant.create(parameters);
          // Masked tokens carry their position s first: dimension() = dim + 1.
          const auto x0         = random_tokens(5, kernel->dimension(), random);
          // Integrate until the fastest token has moved by about 0.5, whatever
          // the strength of the random field.
          particles::ParticleSystem start(*kernel, x0);
          const double end_time =
            0.5 / std::max(particles::max_speed(start.velocity().data(), 5, kernel->dimension()), 1e-3);
          const auto   reference = integrate(*kernel, x0, end_time, 1024, particles::Integrator::rk4);
          ASSERT_GT(max_difference(reference, x0), 0.1) << "the tokens barely move: the test would be vacuous";
          for (const auto &[integrator, order] :
               {std::pair{particles::Integrator::rk4, 4.}, std::pair{particles::Integrator::ssp_rk3, 3.}})
            {
              double errors[3];
              for (int level = 0; level < 3; ++level)
                errors[level] = max_difference(integrate(*kernel, x0, end_time, 8u << level, integrator), reference);
              const double rate = std::log2(errors[1] / errors[2]);
              std::printf("%-13s %uD %-8s errors %.2e %.2e %.2e  order %.2f\n", variant.name.c_str(), dim,
                          order == 4 ? "rk4" : "ssp-rk3", errors[0], errors[1], errors[2], rate);
              EXPECT_NEAR(rate, order, 0.3);
              EXPECT_NEAR(std::log2(errors[0] / errors[1]), order, 0.5);
            }
        }
  }

  TEST(ParticleIntegrator, VelocitiesMatchBruteForceForEveryVariant)
  {
    std::mt19937_64 random(7);
    for (const auto &variant : attention::variants())
      {
        const auto formula = brute_force().find(variant.name);
        ASSERT_NE(formula, brute_force().end())
          << "attention variant '" << variant.name << "' has no brute-force particle formula in this test";
        for (unsigned int dim : {1u, 2u, 3u})
          {
            SCOPED_TRACE(variant.name + " " + std::to_string(dim) + "D");
            const auto parameters = random_parameters(dim, random);
            const auto kernel     = variant.create(parameters);
            const auto x          = random_tokens(40, kernel->dimension(), random);
            particles::ParticleSystem system(*kernel, x);
            const LongVector exact = formula->second(parameters, LongVector(x.begin(), x.end()));
            double           scale = 0, error = 0;
            for (std::size_t i = 0; i < x.size(); ++i)
              scale = std::max(scale, (double)std::abs(exact[i]));
            for (std::size_t i = 0; i < x.size(); ++i)
              error = std::max(error, (double)std::abs(system.velocity()[i] - exact[i]));
            EXPECT_LE(error, 1e-13 * scale) << "relative error " << error / scale;

            // One RK4 step of the system against RK4 on the brute-force field.
            const double dt   = 0.05;
            const auto   rate = [&](const LongVector &y) { return formula->second(parameters, y); };
            const LongVector y0(x.begin(), x.end());
            LongVector       k1 = rate(y0), y(y0.size()), k2, k3, k4;
            for (std::size_t i = 0; i < y.size(); ++i)
              y[i] = y0[i] + 0.5L * dt * k1[i];
            k2 = rate(y);
            for (std::size_t i = 0; i < y.size(); ++i)
              y[i] = y0[i] + 0.5L * dt * k2[i];
            k3 = rate(y);
            for (std::size_t i = 0; i < y.size(); ++i)
              y[i] = y0[i] + dt * k3[i];
            k4 = rate(y);
            system.step(dt, particles::Integrator::rk4);
            double step_error = 0, size = 0;
            for (std::size_t i = 0; i < y.size(); ++i)
              {
                const long double exact_step = y0[i] + dt / 6.L * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
                step_error = std::max(step_error, (double)std::abs(system.positions()[i] - exact_step));
                size       = std::max(size, (double)std::abs(exact_step));
              }
            EXPECT_LE(step_error, 1e-13 * size);
            std::printf("%-13s %uD  velocity error %.1e, RK4 step error %.1e (relative)\n", variant.name.c_str(), dim,
                        error / scale, step_error / size);
            EXPECT_EQ(system.evaluations(), 4u); // the first stage reused the velocity above
          }
      }
  }
} // namespace
