// The kernel choice on S^2 (create_surface_kernel, sphere_harmonics.h) and
// the harmonic kernel: SA / USA with a zonal A through HarmonicSums, the
// targets its error bound does not resolve through the direct ambient
// kernel. It works on unit points and returns the ambient output V m; the
// surface adapter (surface_kernel.h) projects points and velocities.
// diagnostics() reports the last evaluation: one kernel object must not be
// evaluated from two threads at once.
#include "attention/kernel_base.h"
#include "sphere/fallback_targets.h"
#include "sphere/sphere_harmonics.h"
#include "sphere/surface_kernel.h"

#include <cmath>
#include <limits>

namespace tpde::sphere
{
  namespace
  {
    /// Whether the harmonic sums cost less than the direct sums: per (l, m)
    /// entry and point they do about the work of one direct pair (two
    /// harmonics times four functions against one exponential).
    bool harmonics_pay(std::size_t n_targets, std::size_t n_sources, unsigned int L)
    {
      const double n_entries = double(L + 1) * (L + 2) / 2;
      return double(n_targets) * double(n_sources) >= 2 * n_entries * double(n_targets + n_sources);
    }

    class HarmonicKernel final : public attention::CheckedKernel
    {
    public:
      HarmonicKernel(const std::string &type, const attention::Parameters &p, SphereZonalScore score,
                     std::unique_ptr<attention::Kernel> ambient, std::unique_ptr<attention::Kernel> direct)
        : CheckedKernel(type, 3)
        , score(score)
        , normalized(type == "softmax")
        , automatic(p.evaluation == attention::Parameters::Evaluation::automatic)
        , tolerance(p.tolerance)
        , V(p.V)
        , ambient(std::move(ambient))
        , direct(std::move(direct))
        , degree(harmonic_degree(score.radius, p.tolerance))
      {}

      std::vector<std::pair<std::string, double>> diagnostics() const override
      {
        return {{"harmonic_degree", double(degree)}, {"harmonic_fallback", last_fallback}};
      }

    protected:
      void evaluate_checked(const attention::Targets &targets, const attention::Sources &sources,
                            double *velocities) const override
      {
        const std::size_t n = targets.n;
        if (automatic && !harmonics_pay(n, sources.n_used, degree))
          {
            ambient->evaluate(n, targets.points, sources.n, sources.points, sources.weights, velocities);
            last_fallback = 1.;
            return;
          }
        std::vector<double> y, w;
        y.reserve(3 * sources.n_used);
        w.reserve(sources.n_used);
        for (std::size_t j = 0; j < sources.n; ++j)
          if (sources.weights[j] > 0)
            {
              y.insert(y.end(), sources.points + 3 * j, sources.points + 3 * j + 3);
              w.push_back(sources.weights[j]);
            }
        const HarmonicSums  sums(score.radius, tolerance, w.size(), y.data(), w.data());
        std::vector<double> x(3 * n), D(n), N(3 * n);
        const double       *R = score.rotation;
        for (std::size_t i = 0; i < n; ++i)
          for (unsigned int c = 0; c < 3; ++c)
            {
              const double *p = targets.points + 3 * i;
              x[3 * i + c]    = R[3 * c] * p[0] + R[3 * c + 1] * p[1] + R[3 * c + 2] * p[2];
            }
        sums.evaluate(n, x.data(), D.data(), N.data());

        // USA: the scaled sums times e^r / W (r <= ~200 below the degree cap).
        const double             scale        = std::exp(score.radius);
        const double             total_weight = static_cast<double>(sources.total_weight);
        std::vector<std::size_t> unresolved;
        for (std::size_t i = 0; i < n; ++i)
          {
            if (!(sums.error_bound() <= tolerance * D[i]))
              {
                unresolved.push_back(i);
                continue;
              }
            const double factor = normalized ? 1. / D[i] : scale / total_weight;
            for (unsigned int r = 0; r < 3; ++r)
              velocities[3 * i + r] =
                (V(r, 0) * N[3 * i] + V(r, 1) * N[3 * i + 1] + V(r, 2) * N[3 * i + 2]) * factor;
          }
        last_fallback = n == 0 ? 0. : double(unresolved.size()) / double(n);
        evaluate_listed_targets(*direct, unresolved, targets, sources, velocities);
      }

    private:
      SphereZonalScore                   score;
      bool                               normalized, automatic;
      double                             tolerance;
      Matrix                             V;
      std::unique_ptr<attention::Kernel> ambient, direct;
      unsigned int                       degree;
      mutable double                     last_fallback = std::numeric_limits<double>::quiet_NaN();
    };
  } // namespace

  bool uses_harmonic_sums(const std::string &type, const attention::Parameters &p)
  {
    if (!zonal_path_candidate(type, p, 3))
      return false;
    const auto score = sphere_zonal_score(p.beta, p.Q, p.K);
    return score && harmonic_degree(score->radius, p.tolerance) <= max_harmonic_degree;
  }

  std::unique_ptr<attention::Kernel> create_surface_kernel(const std::string &type, const attention::Parameters &p)
  {
    auto ambient = attention::create(type, p); // checks the parameters
    if (!uses_harmonic_sums(type, p))
      return surface_kernel(std::move(ambient));
    attention::Parameters exact = p;
    exact.evaluation            = attention::Parameters::Evaluation::direct;
    return surface_kernel(std::make_unique<HarmonicKernel>(type, p, *sphere_zonal_score(p.beta, p.Q, p.K),
                                                           std::move(ambient), attention::create(type, exact)));
  }
} // namespace tpde::sphere
