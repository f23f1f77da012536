#include "run/domain_setup.h"

#include "attention/masked.h"

#include "sphere/circle_chart.h"
#include "sphere/circle_fourier.h"
#include "sphere/surface_diagnostics.h"
#include "sphere/sphere_harmonics.h"
#include "sphere/surface_kernel.h"

#include <deal.II/base/quadrature_lib.h>

#include <cmath>

namespace tpde
{
  std::unique_ptr<attention::LayeredKernel> create_kernel(const Parameters &p)
  {
    // One kernel per layer: on S^2 harmonic sums when A is zonal, else the
    // ambient kernel at the points of the sphere, projected; on the circle
    // Fourier sums when A is zonal, else the ambient kernel at the embedded
    // points.
    std::vector<std::unique_ptr<attention::Kernel>> layers;
    // Masked on the circle: the mask around the circle's kernel of 'masked
    // kernel', at the points (s, theta).
    for (const attention::Parameters &layer : p.layers.attention)
      layers.push_back(p.on_surface() ? sphere::create_surface_kernel(p.attention_type, layer)
                       : p.mesh.on_sphere() && p.masked()
                         ? attention::make_masked_kernel(sphere::create_circle_kernel(layer.masked_kernel, layer),
                                                         layer.positional_decay)
                       : p.mesh.on_sphere() ? sphere::create_circle_kernel(p.attention_type, layer)
                                            : attention::create(p.attention_type, layer));
    return std::make_unique<attention::LayeredKernel>(std::move(layers), p.layers.feed_forward);
  }

  namespace
  {
    /// |int x rho dA| / int rho dA on S^2 by a product rule: Gauss-Legendre in
    /// z = cos(theta) times the trapezoidal rule in phi (exact for the smooth
    /// Poisson kernel far below 1e-12 at these sizes for |w| <= 0.9).
    double surface_order_parameter(const InitialDensity &density)
    {
      constexpr int n_z = 400, n_phi = 800;
      double        m[3] = {0, 0, 0}, mass = 0;
      const dealii::QGauss<1> gauss(n_z); // on [0, 1]
      for (int a = 0; a < n_z; ++a)
        for (int b = 0; b < n_phi; ++b)
          {
            const double z = 2 * gauss.point(a)[0] - 1, s = std::sqrt(1 - z * z), phi = 2 * M_PI * b / n_phi;
            const double x[3] = {s * std::cos(phi), s * std::sin(phi), z};
            const double w    = gauss.weight(a) * density.value(x);
            mass += w;
            for (unsigned int c = 0; c < 3; ++c)
              m[c] += w * x[c];
          }
      return std::sqrt(m[0] * m[0] + m[1] * m[1] + m[2] * m[2]) / mass;
    }
  } // namespace

  // The wrapped Cauchy reference applies at beta = 0 with V = I (physics.md
  // §4.4); r0 = |m(0)| of the exact initial data.
  SphereSetup sphere_setup(const Parameters &p)
  {
    SphereSetup setup;
    setup.attention_type    = p.attention_type;
    setup.layer_times = p.layers;
    setup.layer_beta.clear();
    for (const attention::Parameters &layer : p.layers.attention)
      setup.layer_beta.push_back(layer.beta);
    setup.modes             = p.output.modes;
    setup.cluster_threshold = p.output.cluster_threshold;
    const Matrix &V          = p.attention.V;
    bool          identity_v = V.rows == p.dimension && V.cols == p.dimension;
    for (unsigned int i = 0; i < V.rows && identity_v; ++i)
      for (unsigned int j = 0; j < V.cols; ++j)
        identity_v = identity_v && V(i, j) == (i == j ? 1. : 0.);
    const bool reference = p.initial.type == "poisson kernel" && p.layers.count == 1 && p.attention.beta == 0 &&
                           identity_v &&
                           (p.attention_type == "softmax" || p.attention_type == "unnormalized");
    if (reference && p.on_surface())
      setup.poisson_r0 = sphere::poisson_radius(surface_order_parameter(*p.initial.density));
    else if (reference)
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
