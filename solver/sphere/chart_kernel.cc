#include "sphere/chart_kernel.h"

#include "sphere/circle_chart.h"

#include <stdexcept>
#include <vector>

namespace tpde::sphere
{
  namespace
  {
    class CircleKernel final : public attention::Kernel
    {
    public:
      explicit CircleKernel(std::unique_ptr<attention::Kernel> ambient)
        : ambient(std::move(ambient))
      {
        if (!this->ambient || this->ambient->dimension() != 2)
          throw std::invalid_argument("circle kernel: the ambient kernel must be two-dimensional");
      }

      unsigned int dimension() const override { return 1; }
      void         begin_step() const override { ambient->begin_step(); }

      void evaluate(std::size_t n_targets, const double *targets, std::size_t n_sources, const double *sources,
                    const double *weights, double *velocities) const override
      {
        // Buffers are reused between calls (one evaluation at a time per kernel).
        target_points.resize(2 * n_targets);
        source_points.resize(2 * n_sources);
        ambient_velocities.resize(2 * n_targets);
        circle_points(n_targets, targets, target_points.data());
        circle_points(n_sources, sources, source_points.data());
        ambient->evaluate(n_targets, target_points.data(), n_sources, source_points.data(), weights,
                          ambient_velocities.data());
        for (std::size_t i = 0; i < n_targets; ++i)
          velocities[i] = circle_speed(targets[i], &ambient_velocities[2 * i]);
      }

      std::vector<std::pair<std::string, double>> diagnostics() const override { return ambient->diagnostics(); }

    private:
      std::unique_ptr<attention::Kernel> ambient;
      mutable std::vector<double>        target_points, source_points, ambient_velocities;
    };
  } // namespace

  std::unique_ptr<attention::Kernel> circle_kernel(std::unique_ptr<attention::Kernel> ambient)
  {
    return std::make_unique<CircleKernel>(std::move(ambient));
  }
} // namespace tpde::sphere
