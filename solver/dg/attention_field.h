// The nonlocal velocity on the mesh: the attention kernel evaluated at every
// node (volume terms) and face point (fluxes) of the locally owned cells, with
// the nodes of all cells of all ranks as sources (weights rho_i * JxW_i).
// Optionally the face velocity is the mean of the two cells' traces of their
// nodal velocities instead (one trace on the boundary): the velocity is
// smooth, the traces are exact for affine fields, the mean keeps a mirror-
// symmetric field mirror-symmetric, and it halves the number of targets (the
// dominant cost). Faces
// between ranks are always evaluated, as before, so that both ranks agree on
// the flux (exactly with direct sums; within the tolerance with fast ones).
// Masked attention also gets where each node's cell lies along s
// (attention::SourceLines), to integrate exactly up to a target's s.
// With several ranks and a kernel that sums distributed sources
// (Kernel::sums_distributed_sources: evaluation = fast, `fast summation
// across ranks = distributed`), nothing is gathered: each rank passes its own
// nodes as sources and the kernel combines the ranks' sums through the
// collective operations below, whose payload TPDE_FAST_PROFILE prints per
// evaluation. Flat domains only: on surfaces (the sphere) the statistics
// need every source (all_source_points), so they are gathered there.
#pragma once

#include "attention/attention.h"
#include "attention/fast_summation.h"
#include "dg/dg_space.h"

#include <functional>
#include <vector>

namespace tpde
{
  template <int dim, int spacedim = dim>
  class AttentionField
  {
  public:
    AttentionField(const DGSpace<dim, spacedim> &space, const attention::Kernel &kernel,
                   bool interpolate_face_velocity = false);
    AttentionField(const AttentionField &) = delete; // the collective's operations point to this one
    AttentionField &operator=(const AttentionField &) = delete;

    /// Collects targets and the global source positions for the current mesh.
    void setup();

    /// Evaluates the velocity for the density given by owned nodal values.
    void evaluate(const double *owned_values);

    /// Velocity at node q of owned cell k: node_velocity()[space.node_index(k, q) * spacedim + c].
    const double *node_velocity() const { return velocities.data(); }
    /// Velocity at point q of face f: face_velocity()[space.face_point_index(f, q) * spacedim + c].
    const double *face_velocity() const { return velocities.data() + n_node_targets * spacedim; }
    double       *node_velocity() { return velocities.data(); }
    double       *face_velocity() { return velocities.data() + n_node_targets * spacedim; }
    /// Sources of all ranks.
    std::size_t   n_sources() const { return n_all_sources; }
    /// Whether each rank sums only its own sources (see the top of this file).
    bool          distributes_sources() const { return distributed; }
    /// The sources of the last evaluate(): all nodes of all ranks (rank-major,
    /// spacedim values each) and their weights rho_i JxW_i; with distributed
    /// sources only this rank's.
    const std::vector<double> &all_source_points() const { return source_points; }
    const std::vector<double> &all_source_weights() const { return source_weights; }
    /// f(n, points, velocities) adds to the kernel's velocities at its targets (the common noise).
    void add_velocity_with(std::function<void(std::size_t, const double *, double *)> f) { added = std::move(f); }
    /// Points where the kernel is evaluated (nodes and the evaluated faces).
    std::size_t   n_targets() const { return targets.size() / spacedim; }

  private:
    void gather_weights(const double *owned_values);
    void interpolate_faces();
    /// The collective operations on the communicator, counting what this rank sends.
    void make_collective();

    const DGSpace<dim, spacedim>      &space;
    const attention::Kernel &kernel;
    const bool               interpolate_face_velocity;
    std::size_t              n_node_targets = 0;
    std::vector<std::size_t> evaluated_faces;  // faces whose points are targets
    std::vector<double>      target_velocities; // kernel output, n_targets x spacedim
    std::vector<double>      targets;
    std::vector<double>      velocities;
    std::vector<double>      source_points;  // all ranks, rank-major
    std::vector<double>      source_weights; // all ranks
    std::vector<double>      local_weights;
    std::vector<int>         counts, displacements;
    std::size_t              n_all_sources = 0;
    bool                     distributed   = false;
    attention::fast::Collective collective;
    // Of the current evaluation: collective calls and bytes sent by this rank.
    std::size_t collective_calls = 0;
    double      bytes_sent       = 0.;
    // Kernels that integrate along coordinate 0 inside cells (masked): the
    // cells' extents in it per line of nodes (all ranks), and the 1D nodes.
    std::vector<double>      line_lower, line_upper, line_nodes;
    std::function<void(std::size_t, const double *, double *)> added;
  };
} // namespace tpde
