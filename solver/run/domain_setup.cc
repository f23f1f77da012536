#include "run/domain_setup.h"

#include "sphere/circle_chart.h"
#include "sphere/circle_fourier.h"

#include <cmath>

namespace tpde
{
  std::unique_ptr<attention::LayeredKernel> create_kernel(const Parameters &p)
  {
    // One kernel per layer; on the circle Fourier sums when A is zonal, else
    // the ambient kernel at the embedded points.
    std::vector<std::unique_ptr<attention::Kernel>> layers;
    for (const attention::Parameters &layer : p.layers.attention)
      layers.push_back(p.mesh.on_sphere() ? sphere::create_circle_kernel(p.attention_type, layer)
                                          : attention::create(p.attention_type, layer));
    return std::make_unique<attention::LayeredKernel>(std::move(layers), p.layers.feed_forward);
  }

  // The wrapped Cauchy reference applies at beta = 0 with V = I (physics.md
  // §4.4); r0 = |m(0)| of the exact initial data.
  SphereSetup sphere_setup(const Parameters &p)
  {
    SphereSetup setup;
    setup.attention_type    = p.attention_type;
    setup.beta              = p.attention.beta;
    setup.modes             = p.output.modes;
    setup.cluster_threshold = p.output.cluster_threshold;
    const Matrix &V         = p.attention.V;
    const bool    identity_v = V.rows == 2 && V.cols == 2 && V(0, 0) == 1 && V(1, 1) == 1 && V(0, 1) == 0 &&
                            V(1, 0) == 0;
    if (p.initial.type == "poisson kernel" && p.layers.count == 1 && p.attention.beta == 0 && identity_v &&
        (p.attention_type == "softmax" || p.attention_type == "unnormalized"))
      {
        // The trapezoidal rule is spectrally accurate for the smooth periodic density.
        constexpr int n = 1 << 14;
        double        m[2] = {0, 0}, mass = 0;
        for (int i = 0; i < n; ++i)
          {
            double x[2];
            sphere::circle_point(2 * M_PI * i / n, x);
            const double rho = p.initial.density->value(x);
            mass += rho;
            m[0] += rho * x[0];
            m[1] += rho * x[1];
          }
        setup.wrapped_cauchy_r0 = std::hypot(m[0], m[1]) / mass;
      }
    return setup;
  }
} // namespace tpde
