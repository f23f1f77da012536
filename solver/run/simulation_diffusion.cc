// The step of a run with idiosyncratic noise: Strang splitting of
// d_t rho + div(rho X) = D Lap rho into a diffusion half step (SDIRK2,
// L-stable, order 2), the SSP-RK transport step, and a second diffusion half
// step; second order in time overall, with the step still set by the
// transport's CFL bound (the implicit half steps are stable for any h).
#include "run/simulation.h"

#include <deal.II/base/mpi.h>

#include <algorithm>

namespace tpde
{
  namespace
  {
    /// Sets the cells with a negative mean to 0 and scales the density back
    /// to its mass; returns the mass removed (all ranks).
    template <int dim, int spacedim>
    double clip_negative_cell_means(const DGSpace<dim, spacedim> &space, VectorType &density)
    {
      double clipped = 0, total = 0;
      for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
        {
          double       *u    = space.cell_values(density.begin(), k);
          const double *w    = space.node_weights(k);
          double        mass = 0;
          for (unsigned int q = 0; q < space.n_nodes(); ++q)
            mass += w[q] * u[q];
          total += mass;
          if (mass < 0)
            {
              clipped -= mass;
              std::fill(u, u + space.n_nodes(), 0.);
            }
        }
      clipped = dealii::Utilities::MPI::sum(clipped, space.communicator);
      total   = dealii::Utilities::MPI::sum(total, space.communicator);
      if (clipped > 0 && total > 0)
        density *= total / (total + clipped);
      return clipped;
    }
  } // namespace

  template <int dim, int spacedim>
  bool Simulation<dim, spacedim>::diffuse(double h)
  {
    diffusion->advance(density, h);
    // SIPG with an implicit step is not monotone: the far tails (cell means
    // ~ 1e-30 next to ~ 1e-10) can come out slightly negative. Those cells are
    // set to 0 and the density scaled back to its mass (the removed mass is
    // reported: RunSummary::diffusion_clipped_mass); then the Zhang-Shu
    // limiter at the check points keeps the cell means.
    if (parameters.discretization.positivity_limiter)
      diffusion_clipped_mass += clip_negative_cell_means(*dg_space, density);
    const LimiterResult limited = positivity_limiter(*dg_space, density.begin(), limiting(parameters.discretization));
    lowest_check_value          = std::min(lowest_check_value, limited.min_check_value);
    return !(parameters.discretization.positivity_limiter && limited.min_cell_mean < -1e-10);
  }

  template <int dim, int spacedim>
  bool Simulation<dim, spacedim>::step(double dt)
  {
    if (!diffusion)
      return transport_step(dt, true);
    const VectorType start         = density;
    const double     start_outflow = outflow_mass;
    const double     start_lowest  = lowest_check_value;
    auto             reject        = [&]() {
      density             = start;
      outflow_mass        = start_outflow;
      lowest_check_value  = start_lowest;
      velocity_is_current = false;
      return false;
    };
    if (!diffuse(0.5 * dt))
      return reject();
    velocity_is_current = false; // the transport starts from the diffused density
    if (!transport_step(dt, false))
      return reject();
    const double transported_lowest = lowest_check_value;
    if (!diffuse(0.5 * dt))
      {
        current_time -= dt;
        return reject();
      }
    lowest_check_value = std::min(transported_lowest, lowest_check_value);
    update_velocity();
    return true;
  }

  template bool Simulation<1, 1>::step(double);
  template bool Simulation<2, 2>::step(double);
  template bool Simulation<3, 3>::step(double);
  template bool Simulation<2, 3>::step(double);
} // namespace tpde
