#include "dg/attention_field.h"

#include "common/parallel_chunks.h"

#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature_lib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace tpde
{
  template <int dim, int spacedim>
  AttentionField<dim, spacedim>::AttentionField(const DGSpace<dim, spacedim>      &space,
                                      const attention::Kernel &kernel,
                                      const bool               interpolate_face_velocity)
    : space(space)
    , kernel(kernel)
    , interpolate_face_velocity(interpolate_face_velocity)
  {
    if (kernel.dimension() != spacedim)
      throw std::logic_error("AttentionField: kernel dimension mismatch");
    make_collective();
  }

  template <int dim, int spacedim>
  void AttentionField<dim, spacedim>::make_collective()
  {
    const MPI_Comm comm  = space.communicator;
    const auto     count = [this](std::size_t n) {
      ++collective_calls;
      bytes_sent += 8. * static_cast<double>(n);
    };
    const auto reduce = [comm, count](MPI_Op op) {
      return [comm, count, op](double *data, std::size_t n) {
        count(n);
        MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_DOUBLE, op, comm);
      };
    };
    collective.sum       = reduce(MPI_SUM);
    collective.max       = reduce(MPI_MAX);
    collective.broadcast = [comm, count](double *data, std::size_t n) {
      count(n);
      MPI_Bcast(data, static_cast<int>(n), MPI_DOUBLE, 0, comm);
    };
    collective.gather = [comm, count](const std::vector<double> &local, std::size_t &offset) {
      count(local.size());
      const int        n_ranks = dealii::Utilities::MPI::n_mpi_processes(comm);
      const int        rank    = dealii::Utilities::MPI::this_mpi_process(comm);
      const int        size    = static_cast<int>(local.size());
      std::vector<int> sizes(n_ranks), starts(n_ranks + 1, 0);
      MPI_Allgather(&size, 1, MPI_INT, sizes.data(), 1, MPI_INT, comm);
      for (int r = 0; r < n_ranks; ++r)
        starts[r + 1] = starts[r] + sizes[r];
      std::vector<double> all(starts[n_ranks]);
      MPI_Allgatherv(local.data(), size, MPI_DOUBLE, all.data(), sizes.data(), starts.data(), MPI_DOUBLE, comm);
      offset = starts[rank];
      return all;
    };
  }

  template <int dim, int spacedim>
  void AttentionField<dim, spacedim>::setup()
  {
    n_node_targets = space.all_node_points().size() / spacedim;
    targets        = space.all_node_points();
    evaluated_faces.clear();
    const std::size_t nfq = space.n_face_points();
    for (std::size_t f = 0; f < space.n_faces(); ++f)
      {
        const auto face = space.face(f);
        // Interpolate only from an owned canonical side, and only where no
        // other rank computes the same face's flux.
        const bool interpolated =
          interpolate_face_velocity && face.is_owned(0) && (face.at_boundary() || face.is_owned(1));
        if (interpolated)
          continue;
        evaluated_faces.push_back(f);
        targets.insert(targets.end(), face.points(), face.points() + nfq * spacedim);
      }
    velocities.assign(space.all_node_points().size() + space.all_face_points().size(), 0.);
    target_velocities.assign(targets.size(), 0.);

    const int  n_ranks = dealii::Utilities::MPI::n_mpi_processes(space.communicator);
    const int  n_local = static_cast<int>(n_node_targets);
    counts.resize(n_ranks);
    displacements.resize(n_ranks);
    MPI_Allgather(&n_local, 1, MPI_INT, counts.data(), 1, MPI_INT, space.communicator);
    int total = 0;
    for (int r = 0; r < n_ranks; ++r)
      {
        displacements[r] = total;
        total += counts[r];
      }
    n_all_sources = total;
    local_weights.resize(n_local);
    distributed = n_ranks > 1 && dim == spacedim && kernel.sums_distributed_sources() && !kernel.uses_source_lines();
    if (distributed)
      {
        source_points = space.all_node_points();
        source_weights.resize(n_local);
        return;
      }
    source_weights.resize(total);

    // Positions are fixed for a mesh: gather them once.
    std::vector<int> point_counts(n_ranks), point_displacements(n_ranks);
    for (int r = 0; r < n_ranks; ++r)
      {
        point_counts[r]        = counts[r] * spacedim;
        point_displacements[r] = displacements[r] * spacedim;
      }
    source_points.resize(static_cast<std::size_t>(total) * spacedim);
    MPI_Allgatherv(space.all_node_points().data(), n_local * spacedim, MPI_DOUBLE, source_points.data(),
                   point_counts.data(), point_displacements.data(), MPI_DOUBLE, space.communicator);

    line_lower.clear();
    line_upper.clear();
    line_nodes.clear();
    if (kernel.uses_source_lines() && dim > 1)
      {
        // Nodes are numbered with coordinate 0 fastest: every run of p + 1
        // nodes is one line along it (the tensor Gauss points of the cell).
        const unsigned int per_line = space.degree() + 1;
        const dealii::QGauss<1> nodes(per_line); // named: get_points() of a temporary dangles
        for (const auto &point : nodes.get_points())
          line_nodes.push_back(point[0]);
        std::vector<double> lower, upper;
        for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
          {
            const auto   box = space.cell_box(k);
            const double lo  = box.lower[0];
            lower.insert(lower.end(), space.n_nodes() / per_line, lo);
            upper.insert(upper.end(), space.n_nodes() / per_line, lo + box.extent[0]);
          }
        std::vector<int> line_counts(n_ranks), line_displacements(n_ranks);
        for (int r = 0; r < n_ranks; ++r)
          {
            line_counts[r]        = counts[r] / static_cast<int>(per_line);
            line_displacements[r] = displacements[r] / static_cast<int>(per_line);
          }
        line_lower.resize(total / per_line);
        line_upper.resize(total / per_line);
        MPI_Allgatherv(lower.data(), static_cast<int>(lower.size()), MPI_DOUBLE, line_lower.data(),
                       line_counts.data(), line_displacements.data(), MPI_DOUBLE, space.communicator);
        MPI_Allgatherv(upper.data(), static_cast<int>(upper.size()), MPI_DOUBLE, line_upper.data(),
                       line_counts.data(), line_displacements.data(), MPI_DOUBLE, space.communicator);
      }
  }

  template <int dim, int spacedim>
  void AttentionField<dim, spacedim>::gather_weights(const double *owned_values)
  {
    const unsigned int n = space.n_nodes();
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      for (unsigned int q = 0; q < n; ++q)
        // Limited densities are >= 0 at the nodes; tiny round-off negatives
        // must not become negative quadrature weights.
        local_weights[space.node_index(k, q)] =
          std::max(0., space.cell_values(owned_values, k)[q]) * space.node_weight(k, q);
    if (distributed)
      source_weights = local_weights;
    else
      MPI_Allgatherv(local_weights.data(), static_cast<int>(local_weights.size()), MPI_DOUBLE,
                     source_weights.data(), counts.data(), displacements.data(), MPI_DOUBLE,
                     space.communicator);
  }

  template <int dim, int spacedim>
  void AttentionField<dim, spacedim>::evaluate(const double *owned_values)
  {
    gather_weights(owned_values);
    attention::SourceLines lines;
    if (!line_nodes.empty())
      lines = {static_cast<unsigned int>(line_nodes.size()), line_nodes.data(), line_lower.data(),
               line_upper.data()};
    if (distributed)
      {
        collective_calls = 0;
        bytes_sent       = 0.;
        kernel.evaluate_distributed(targets.size() / spacedim, targets.data(), source_weights.size(),
                                    source_points.data(), source_weights.data(), collective,
                                    target_velocities.data());
        if (std::getenv("TPDE_FAST_PROFILE") != nullptr)
          std::fprintf(stderr, "distributed attention, rank %u: %zu collective calls, %.0f bytes sent, %zu sources here\n",
                       dealii::Utilities::MPI::this_mpi_process(space.communicator), collective_calls, bytes_sent,
                       source_weights.size());
      }
    else
      kernel.evaluate_on_lines(targets.size() / spacedim, targets.data(), source_weights.size(),
                               source_points.data(), source_weights.data(), lines, target_velocities.data());
    if (added)
      added(targets.size() / spacedim, targets.data(), target_velocities.data());
    const std::size_t node_values = n_node_targets * spacedim;
    const std::size_t face_values = space.n_face_points() * spacedim;
    std::copy(target_velocities.begin(), target_velocities.begin() + node_values, velocities.begin());
    for (std::size_t i = 0; i < evaluated_faces.size(); ++i)
      std::copy(target_velocities.begin() + node_values + i * face_values,
                target_velocities.begin() + node_values + (i + 1) * face_values,
                face_velocity() + evaluated_faces[i] * face_values);
    if (evaluated_faces.size() < space.n_faces())
      interpolate_faces();
  }

  template <int dim, int spacedim>
  void AttentionField<dim, spacedim>::interpolate_faces()
  {
    const unsigned int n   = space.n_nodes();
    const unsigned int nfq = space.n_face_points();
    // Faces in chunks, on the threads; evaluated_faces is sorted, so each
    // chunk finds the first evaluated face it must skip by bisection. A face
    // is about 100 multiply-adds: 1024 of them outweigh a task.
    constexpr std::size_t faces_per_chunk = 1024;
    for_chunks(space.n_faces(), [&](std::size_t begin, std::size_t end) {
      auto next_evaluated = std::lower_bound(evaluated_faces.begin(), evaluated_faces.end(), begin);
      for (std::size_t f = begin; f < end; ++f)
        {
          if (next_evaluated != evaluated_faces.end() && *next_evaluated == f)
            {
              ++next_evaluated;
              continue;
            }
          // The mean of both cells' traces (both are owned here): a trace
          // from one side only (the canonical one, the lower cell on a
          // uniform mesh) would break the mirror symmetry x -> -x by
          // O(h^(p+1)), which an unstable symmetric state (the zero mean of
          // E7, README) amplifies.
          const auto         face  = space.face(f);
          const unsigned int sides = face.at_boundary() ? 1 : 2;
          double            *Xf    = face_velocity() + space.face_point_index(f, 0) * spacedim;
          std::fill(Xf, Xf + nfq * spacedim, 0.);
          for (unsigned int side = 0; side < sides; ++side)
            {
              const double *T = face.trace_matrix(side);
              const double *X = node_velocity() + space.node_index(face.owned_cell(side), 0) * spacedim;
              for (unsigned int q = 0; q < nfq; ++q)
                for (unsigned int c = 0; c < spacedim; ++c)
                  {
                    double sum = 0;
                    for (unsigned int i = 0; i < n; ++i)
                      sum += T[q * n + i] * X[i * spacedim + c];
                    Xf[q * spacedim + c] += sum / sides;
                  }
            }
        }
    }, faces_per_chunk);
  }

  template class AttentionField<1>;
  template class AttentionField<2>;
  template class AttentionField<3>;
  template class AttentionField<2, 3>;
} // namespace tpde
