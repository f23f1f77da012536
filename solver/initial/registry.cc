// The list of initial types. Adding one = one new file defining
// `InitialType make_<name>_initial_type()` plus one declaration and one line below.
#include "initial/initial_density.h"

#include <algorithm>

namespace tpde
{
  InitialType gaussian_initial_type();
  InitialType mixture_initial_type();
  InitialType box_initial_type();
  InitialType ball_initial_type();
  InitialType expression_initial_type();
  InitialType sphere_uniform_initial_type();
  InitialType von_mises_initial_type();
  InitialType poisson_kernel_initial_type();
  InitialType checkpoint_initial_type();

  const Choices<InitialType> &initial_types()
  {
    static const Choices<InitialType> all({
      {"gaussian", gaussian_initial_type(), "N(mean, covariance)."},
      {"mixture", mixture_initial_type(), "a weighted sum of Gaussians."},
      {"box", box_initial_type(), "uniform density on a box."},
      {"ball", ball_initial_type(), "uniform density on a ball."},
      {"expression", expression_initial_type(), "any formula (also on the sphere: of the ambient x, y, z)."},
      {"sphere uniform", sphere_uniform_initial_type(),
       "on the sphere: uniform, optionally with a Fourier mode / spherical harmonic and seeded noise."},
      {"von mises", von_mises_initial_type(), "on the sphere: a mixture of von Mises-Fisher laws."},
      {"poisson kernel", poisson_kernel_initial_type(),
       "on the sphere: the Poisson kernel at w (circle: wrapped Cauchy), invariant at beta = 0."},
      {"checkpoint", checkpoint_initial_type(),
       "the density of an earlier grid run's checkpoint, on this mesh, optionally moved by an affine map."},
    });
    return all;
  }

  std::vector<double> InitialDensity::sample(std::size_t n, particles::Sampling sampling, std::uint64_t seed,
                                             const std::vector<double> &lower,
                                             const std::vector<double> &upper) const
  {
    // Rejection against the non-negative part of the density.
    return particles::sample_by_rejection([this](const double *x) { return std::max(value(x), 0.); }, lower,
                                          upper, n, sampling, seed);
  }
} // namespace tpde
