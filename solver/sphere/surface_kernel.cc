#include "sphere/surface_kernel.h"

#include <cmath>
#include <stdexcept>
#include <vector>

namespace tpde::sphere
{
  void project_to_sphere(std::size_t n, const double *x, double *unit)
  {
    for (std::size_t i = 0; i < n; ++i)
      {
        const double *p     = x + 3 * i;
        const double  scale = 1. / std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
        for (unsigned int c = 0; c < 3; ++c)
          unit[3 * i + c] = p[c] * scale;
      }
  }

  void project_to_tangent(std::size_t n, const double *x, double *v)
  {
    for (std::size_t i = 0; i < n; ++i)
      {
        const double *p = x + 3 * i;
        double       *w = v + 3 * i;
        const double  s = p[0] * w[0] + p[1] * w[1] + p[2] * w[2];
        for (unsigned int c = 0; c < 3; ++c)
          w[c] -= s * p[c];
      }
  }

  namespace
  {
    class SurfaceKernel final : public attention::Kernel
    {
    public:
      explicit SurfaceKernel(std::unique_ptr<attention::Kernel> ambient)
        : ambient(std::move(ambient))
      {
        if (!this->ambient || this->ambient->dimension() != 3)
          throw std::invalid_argument("surface kernel: the ambient kernel must be three-dimensional");
      }

      unsigned int dimension() const override { return 3; }
      void         begin_step() const override { ambient->begin_step(); }

      void evaluate(std::size_t n_targets, const double *targets, std::size_t n_sources, const double *sources,
                    const double *weights, double *velocities) const override
      {
        // Buffers are reused between calls (one evaluation at a time per kernel).
        unit_targets.resize(3 * n_targets);
        unit_sources.resize(3 * n_sources);
        project_to_sphere(n_targets, targets, unit_targets.data());
        project_to_sphere(n_sources, sources, unit_sources.data());
        ambient->evaluate(n_targets, unit_targets.data(), n_sources, unit_sources.data(), weights, velocities);
        project_to_tangent(n_targets, unit_targets.data(), velocities);
      }

      std::vector<std::pair<std::string, double>> diagnostics() const override { return ambient->diagnostics(); }

    private:
      std::unique_ptr<attention::Kernel> ambient;
      mutable std::vector<double>        unit_targets, unit_sources;
    };
  } // namespace

  std::unique_ptr<attention::Kernel> surface_kernel(std::unique_ptr<attention::Kernel> ambient)
  {
    return std::make_unique<SurfaceKernel>(std::move(ambient));
  }
} // namespace tpde::sphere
