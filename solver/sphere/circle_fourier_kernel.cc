// The circle's kernel choice (create_circle_kernel, circle_fourier.h) and the
// Fourier kernel: SA / USA with a zonal A through ZonalSums, the targets its
// rounding does not resolve through the chart kernel of the ambient variant.
// diagnostics() reports the last evaluation: one kernel object must not be
// evaluated from two threads at once.
#include "attention/kernel_base.h"
#include "sphere/chart_kernel.h"
#include "sphere/circle_chart.h"
#include "sphere/circle_fourier.h"
#include "sphere/fallback_targets.h"

#include <cmath>
#include <limits>

namespace tpde::sphere
{
  namespace
  {
    class CircleFourierKernel final : public attention::CheckedKernel
    {
    public:
      CircleFourierKernel(const std::string &type, const attention::Parameters &p, ZonalScore score,
                          std::unique_ptr<attention::Kernel> chart)
        : CheckedKernel(type, 1)
        , score(score)
        , normalized(type == "softmax")
        , tolerance(p.tolerance)
        , V{{p.V(0, 0), p.V(0, 1)}, {p.V(1, 0), p.V(1, 1)}}
        , chart(std::move(chart))
        , n_modes(fourier_modes(score.radius))
      {}

      std::vector<std::pair<std::string, double>> diagnostics() const override
      {
        return {{"fourier_modes", double(n_modes)}, {"fourier_fallback", last_fallback}};
      }

    protected:
      void evaluate_checked(const attention::Targets &targets, const attention::Sources &sources,
                            double *velocities) const override
      {
        const std::size_t n = targets.n;
        std::vector<double> phi, w;
        phi.reserve(sources.n_used);
        w.reserve(sources.n_used);
        for (std::size_t j = 0; j < sources.n; ++j)
          if (sources.weights[j] > 0)
            {
              phi.push_back(sources.points[j]);
              w.push_back(sources.weights[j]);
            }
        const ZonalSums     sums(score, phi.size(), phi.data(), w.data(), true);
        std::vector<double> D(n), N(2 * n);
        sums.evaluate(n, targets.points, D.data(), N.data());

        // USA: the scaled sums times e^r / W (two factors beyond 700 so that
        // a representable product survives).
        const double half_scale   = std::exp(0.5 * score.radius);
        const double scale        = score.radius <= 700 ? half_scale * half_scale : half_scale;
        const double total_weight = static_cast<double>(sources.total_weight);
        std::vector<std::size_t> unresolved;
        for (std::size_t i = 0; i < n; ++i)
          {
            if (!(sums.error_bound() <= tolerance * D[i]))
              {
                unresolved.push_back(i);
                continue;
              }
            const double divisor = normalized ? D[i] : total_weight;
            const double m[2]    = {N[2 * i] / divisor, N[2 * i + 1] / divisor};
            const double X[2]    = {V[0][0] * m[0] + V[0][1] * m[1], V[1][0] * m[0] + V[1][1] * m[1]};
            double       v       = circle_speed(targets.points[i], X);
            if (!normalized)
              v = score.radius <= 700 ? v * scale : v * scale * scale;
            velocities[i] = v;
          }
        last_fallback = n == 0 ? 0. : double(unresolved.size()) / double(n);
        evaluate_listed_targets(*chart, unresolved, targets, sources, velocities);
      }

    private:
      ZonalScore                         score;
      bool                               normalized;
      double                             tolerance;
      double                             V[2][2];
      std::unique_ptr<attention::Kernel> chart;
      unsigned int                       n_modes;
      mutable double                     last_fallback = std::numeric_limits<double>::quiet_NaN();
    };
  } // namespace

  bool uses_fourier_sums(const std::string &type, const attention::Parameters &p)
  {
    if (!zonal_path_candidate(type, p, 2))
      return false;
    const auto score = zonal_score(p.beta, p.Q, p.K);
    return score && fourier_modes(score->radius) <= max_fourier_modes;
  }

  std::unique_ptr<attention::Kernel> create_circle_kernel(const std::string &type, const attention::Parameters &p)
  {
    auto chart = circle_kernel(attention::create(type, p));
    if (!uses_fourier_sums(type, p))
      return chart;
    return std::make_unique<CircleFourierKernel>(type, p, *zonal_score(p.beta, p.Q, p.K), std::move(chart));
  }
} // namespace tpde::sphere
