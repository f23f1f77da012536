#include "run/step_estimate.h"

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace tpde
{
  template <int dim, int spacedim>
  double estimate_step_seconds(const DGSpace<dim, spacedim> &space, const VectorType &density, const attention::Kernel &kernel,
                               std::size_t stages)
  {
    // Node masses rho_i JxW_i: iterative kernels (Sinkhorn) converge as fast as on the real data.
    std::vector<double> masses;
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      for (unsigned int q = 0; q < space.n_nodes(); ++q)
        masses.push_back(std::max(0., space.cell_values(density.begin(), k)[q]) * space.node_weight(k, q));
    const auto          all_points = dealii::Utilities::MPI::all_gather(space.communicator, space.all_node_points());
    const auto          all_masses = dealii::Utilities::MPI::all_gather(space.communicator, masses);
    std::vector<double> points, mass;
    for (std::size_t r = 0; r < all_points.size(); ++r)
      {
        points.insert(points.end(), all_points[r].begin(), all_points[r].end());
        mass.insert(mass.end(), all_masses[r].begin(), all_masses[r].end());
      }
    // An evenly spread sample as both targets and sources (Sinkhorn needs a
    // square problem); direct sums cost n_targets x n_sources.
    const std::size_t   n      = points.size() / spacedim;
    const std::size_t   stride = std::max<std::size_t>(1, n / 1024);
    std::vector<double> sample, weights;
    double              total = 0;
    for (std::size_t i = 0; i < n; i += stride)
      {
        sample.insert(sample.end(), points.begin() + i * spacedim, points.begin() + (i + 1) * spacedim);
        weights.push_back(mass[i]);
        total += mass[i];
      }
    const std::size_t   m = weights.size();
    std::vector<double> velocity(m * spacedim);
    if (m == 0 || !(total > 0))
      return 0;
    for (double &w : weights)
      w /= total;
    const auto start = std::chrono::steady_clock::now();
    try
      {
        kernel.evaluate(m, sample.data(), m, sample.data(), weights.data(), velocity.data());
      }
    catch (const std::invalid_argument &)
      {
        return 0; // no estimate
      }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double scale   = double(n) / double(m);
    // Every rank timed the same sample; in the run each evaluates its share of the targets.
    return dealii::Utilities::MPI::max(seconds, space.communicator) * scale * scale * double(stages) /
           double(dealii::Utilities::MPI::n_mpi_processes(space.communicator));
  }

  template double estimate_step_seconds<1>(const DGSpace<1> &, const VectorType &, const attention::Kernel &,
                                            std::size_t);
  template double estimate_step_seconds<2>(const DGSpace<2> &, const VectorType &, const attention::Kernel &,
                                            std::size_t);
  template double estimate_step_seconds<3>(const DGSpace<3> &, const VectorType &, const attention::Kernel &,
                                            std::size_t);
  template double estimate_step_seconds<2, 3>(const DGSpace<2, 3> &, const VectorType &, const attention::Kernel &,
                                            std::size_t);
} // namespace tpde
