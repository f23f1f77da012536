// The per-step statistics table (statistics.csv): mass, outflow, moments,
// minimum density, entropy, speeds, mesh size, wall time and, when the initial
// data is one Gaussian, the exact Gaussian solution and the density errors,
// then the attention kernel's own diagnostics (attention::Kernel::diagnostics,
// e.g. the Sinkhorn iterations), if it has any, and with masked attention the
// statistics of chosen s-slices (slice<k>_*).
//
// Column names are a public interface: extend, never rename.
#pragma once

#include "attention/attention.h"
#include "dg/dg_space.h"
#include "output/slice_columns.h"
#include "output/sphere_statistics.h"
#include "output/statistics_schema.h"
#include "reference/gaussian_reference.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tpde
{
  struct StatisticsInput
  {
    unsigned long step     = 0;
    double        time     = 0;
    double        dt       = 0;
    double        outflow  = 0;
    double        min_density = 0; // over the limiter's check points
    double        wall_seconds = 0;
    const double *owned_values  = nullptr;
    const double *node_velocity = nullptr;
  };

  template <int dim, int spacedim = dim>
  class Statistics
  {
  public:
    /// `reference` may be null (no exact solution for this initial data);
    /// `kernel` may be null (no diagnostics columns).
    Statistics(const DGSpace<dim, spacedim>                           &space,
               std::unique_ptr<reference::GaussianReference> reference,
               const attention::Kernel                      *kernel = nullptr);

    std::vector<std::string> header() const;
    /// One row, in header order (collective over MPI).
    std::vector<double> compute(const StatisticsInput &input);
    bool                has_reference() const { return reference.active(); }

    /// Adds the columns slice<k>_* (after all others) for setup.positions.
    void add_slices(const SliceSetup &setup);
    /// Mesh/domain = sphere: moments of the ambient point and the columns of
    /// sphere_statistics.h (after the kernel's diagnostics).
    void add_sphere(const AttentionField<dim, spacedim> &field, const SphereSetup &setup);

    /// The state of the Gaussian references (checkpoints), and its restore.
    std::vector<double> reference_snapshot() const { return join_snapshots(reference, slices.tracker()); }
    void reference_restore(const std::vector<double> &snapshot) { split_snapshots(snapshot, reference, slices.tracker()); }

  private:
    /// The columns of the slices, appended to `row`.
    void compute_slices(double time, const double *owned_values, std::vector<double> &row);
    /// Per slice (summed over all ranks): mass, first and second moments, and
    /// with `exact` the L1 and squared L2 errors against it; on the circle
    /// then the cos and sin sums of modes 1..slice_modes.
    std::vector<double> slice_sums(const double *owned_values, const reference::GaussianDensity *exact) const;
    /// The density error columns err_l1, err_l2 against `state`.
    void append_density_errors(const reference::GaussianState &state, const double *owned_values,
                               std::vector<double> &row) const;

    SliceColumns                                  slices;

    const DGSpace<dim, spacedim>                             &space;
    ReferenceTracker                              reference;
    const attention::Kernel                      *kernel;
    std::unique_ptr<SphereStatistics<dim, spacedim>>        sphere;

    /// On the circle's chart (the last coordinate theta) the moments are of
    /// the ambient point: (cos, sin) after s.
    bool         on_circle() const { return spacedim == dim && space.periodic(); }
    unsigned int moment_dimension() const { return spacedim > dim ? spacedim : on_circle() ? dim + 1 : dim; }
    /// The moments of a slice: of x, or of (cos theta, sin theta).
    unsigned int slice_dimension() const { return on_circle() ? 2 : dim > 1 ? dim - 1 : 1; }
  };

} // namespace tpde
