// A finite sum of weighted Gaussians: the density of the `gaussian` and
// `mixture` initial types and of the upper data of masked attention.
#pragma once

#include "initial/initial_density.h"

namespace tpde
{
  class GaussianMixture : public InitialDensity
  {
  public:
    struct Component
    {
      double                   weight;
      reference::GaussianState state;
    };

    explicit GaussianMixture(std::vector<Component> components);

    unsigned int dimension() const override;
    double       value(const double *x) const override;
    std::optional<reference::GaussianState> gaussian() const override;
    std::shared_ptr<const InitialDensity>   with_unit_mass() const override;
    std::vector<double> sample(std::size_t n, particles::Sampling sampling, std::uint64_t seed,
                               const std::vector<double> &lower, const std::vector<double> &upper) const override;

  private:
    std::vector<Component>                  components;
    std::vector<reference::GaussianDensity> densities;
  };
} // namespace tpde
