#include "dg/transport_operator.h"

#include "dg/cell_chunks.h"

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace tpde
{
  namespace
  {
    /// The owned sides of the faces of every owned cell, in face order:
    /// face_side[first[k] .. first[k + 1]) = 2 f + side.
    struct CellFaces
    {
      std::vector<std::size_t> first, face_side;
    };

    template <int dim, int spacedim>
    CellFaces faces_of_owned_cells(const DGSpace<dim, spacedim> &space)
    {
      CellFaces   result;
      const auto  owned_side = [&](std::size_t f, unsigned int side) -> long {
        const auto face = space.face(f);
        return (side == 0 || !face.at_boundary()) && face.is_owned(side) ? face.owned_cell(side) : -1;
      };
      result.first.assign(space.n_owned_cells() + 1, 0);
      for (std::size_t f = 0; f < space.n_faces(); ++f)
        for (unsigned int side = 0; side < 2; ++side)
          if (const long k = owned_side(f, side); k >= 0)
            ++result.first[k + 1];
      for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
        result.first[k + 1] += result.first[k];
      result.face_side.resize(result.first.back());
      std::vector<std::size_t> next(result.first.begin(), result.first.end() - 1);
      for (std::size_t f = 0; f < space.n_faces(); ++f)
        for (unsigned int side = 0; side < 2; ++side)
          if (const long k = owned_side(f, side); k >= 0)
            result.face_side[next[k]++] = 2 * f + side;
      return result;
    }

    /// r = the volume term of owned cell k: sum_q rho_q JxW_q (J^{-1} X_q) .
    /// grad_hat phi_i(x_q); `flux_coefficient`: n * dim values of scratch.
    template <int dim, int spacedim>
    void volume_term(const DGSpace<dim, spacedim> &space, const double *extended, const double *node_velocity,
                     std::size_t k, double *flux_coefficient, double *r)
    {
      const unsigned int n = space.n_nodes();
      const double      *u = space.cell_values(extended, k);
      for (unsigned int q = 0; q < n; ++q)
        {
          const double *X   = node_velocity + space.node_index(k, q) * spacedim;
          const double *inv = space.node_inverse_jacobian(k, q);
          const double  s   = u[q] * space.node_weight(k, q);
          for (unsigned int i = 0; i < dim; ++i)
            {
              double v = 0;
              for (unsigned int j = 0; j < spacedim; ++j)
                v += inv[i * spacedim + j] * X[j];
              flux_coefficient[q * dim + i] = s * v;
            }
        }
      for (unsigned int i = 0; i < n; ++i)
        {
          double sum = 0;
          for (unsigned int q = 0; q < n; ++q)
            {
              const double *D = space.reference_gradient(q, i);
              for (unsigned int c = 0; c < dim; ++c)
                sum += flux_coefficient[q * dim + c] * D[c];
            }
          r[i] = sum;
        }
    }
  } // namespace

  template <int dim, int spacedim>
  TransportOperator<dim, spacedim>::TransportOperator(const DGSpace<dim, spacedim> &space)
    : space(space)
  {}

  template <int dim, int spacedim>
  double TransportOperator<dim, spacedim>::apply(const std::vector<double> &extended,
                                       const double              *node_velocity,
                                       const double              *face_velocity,
                                       double                    *rate) const
  {
    const unsigned int n   = space.n_nodes();
    const unsigned int nfq = space.n_face_points();

    // Upwind flux F = (X.n)^+ rho_0 + (X.n)^- rho_1 at every face point, n
    // pointing out of side 0; faces are independent.
    std::vector<double> flux(space.n_faces() * nfq);
    for_cell_chunks(space.n_faces(), [&](std::size_t, std::size_t begin, std::size_t end) {
      for (std::size_t f = begin; f < end; ++f)
        {
          const auto    face = space.face(f);
          const double *T0   = face.trace_matrix(0);
          const double *u0   = face.cell_values(extended.data(), 0);
          for (unsigned int q = 0; q < nfq; ++q)
            {
              const double *X  = face_velocity + space.face_point_index(f, q) * spacedim;
              const double *nw = face.normal_JxW(q);
              double        vn = 0;
              for (unsigned int c = 0; c < spacedim; ++c)
                vn += X[c] * nw[c];
              double rho0 = 0;
              for (unsigned int i = 0; i < n; ++i)
                rho0 += T0[q * n + i] * u0[i];
              double rho1 = 0; // zero inflow on the boundary
              if (!face.at_boundary())
                {
                  const double *T1 = face.trace_matrix(1);
                  const double *u1 = face.cell_values(extended.data(), 1);
                  for (unsigned int i = 0; i < n; ++i)
                    rho1 += T1[q * n + i] * u1[i];
                }
              flux[f * nfq + q] = std::max(vn, 0.) * rho0 + std::min(vn, 0.) * rho1;
            }
        }
    });

    // Every owned cell on its own: the volume term, then its faces' fluxes in
    // face order (the order of the former face loop, so the same rounding),
    // then M^{-1}.
    const CellFaces cell_faces = faces_of_owned_cells(space);
    for_cell_chunks(space.n_owned_cells(), [&](std::size_t, std::size_t begin, std::size_t end) {
      std::vector<double> flux_coefficient(n * dim);
      for (std::size_t k = begin; k < end; ++k)
        {
          double *r = space.cell_values(rate, k);
          volume_term(space, extended.data(), node_velocity, k, flux_coefficient.data(), r);
          for (std::size_t e = cell_faces.first[k]; e < cell_faces.first[k + 1]; ++e)
            {
              const std::size_t  f    = cell_faces.face_side[e] / 2;
              const unsigned int side = cell_faces.face_side[e] % 2;
              const double      *T    = space.face(f).trace_matrix(side);
              const double      *F    = flux.data() + f * nfq;
              if (side == 0)
                for (unsigned int q = 0; q < nfq; ++q)
                  for (unsigned int i = 0; i < n; ++i)
                    r[i] -= F[q] * T[q * n + i];
              else
                for (unsigned int q = 0; q < nfq; ++q)
                  for (unsigned int i = 0; i < n; ++i)
                    r[i] += F[q] * T[q * n + i];
            }
          for (unsigned int q = 0; q < n; ++q)
            r[q] /= space.node_weight(k, q);
        }
    });

    double outflow = 0;
    for (std::size_t f = 0; f < space.n_faces(); ++f)
      if (space.face(f).at_boundary())
        for (unsigned int q = 0; q < nfq; ++q)
          outflow += flux[f * nfq + q];
    return outflow;
  }

  template <int dim, int spacedim>
  std::vector<double> TransportOperator<dim, spacedim>::cell_time_scales(const double *node_velocity,
                                                               const double *face_velocity) const
  {
    const unsigned int  n   = space.n_nodes();
    const unsigned int  nfq = space.n_face_points();
    // Per cell and ambient component the largest |X_c|; on a surface also the
    // largest |X| (a tangent vector has no fixed relation to the box's axes).
    std::vector<double> max_speed(space.n_owned_cells() * spacedim, 0.), max_norm(space.n_owned_cells(), 0.);
    const auto          account = [&](std::size_t k, const double *X) {
      double norm2 = 0;
      for (unsigned int c = 0; c < spacedim; ++c)
        {
          max_speed[k * spacedim + c] = std::max(max_speed[k * spacedim + c], std::abs(X[c]));
          norm2 += X[c] * X[c];
        }
      max_norm[k] = std::max(max_norm[k], std::sqrt(norm2));
    };
    // Per cell on the threads: its nodes, then its faces' points (maxima: the
    // order does not matter).
    const CellFaces cell_faces = faces_of_owned_cells(space);
    for_cell_chunks(space.n_owned_cells(), [&](std::size_t, std::size_t begin, std::size_t end) {
      for (std::size_t k = begin; k < end; ++k)
        {
          for (unsigned int q = 0; q < n; ++q)
            account(k, node_velocity + space.node_index(k, q) * spacedim);
          for (std::size_t e = cell_faces.first[k]; e < cell_faces.first[k + 1]; ++e)
            for (unsigned int q = 0; q < nfq; ++q)
              account(k, face_velocity + space.face_point_index(cell_faces.face_side[e] / 2, q) * spacedim);
        }
    });
    std::vector<double> scale(space.n_owned_cells(), 0.);
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      if constexpr (spacedim == dim)
        for (unsigned int c = 0; c < dim; ++c)
          scale[k] += max_speed[k * dim + c] / space.cell_box(k).extent[c];
      else // dim reference directions, each at least the cell's shortest edge long
        scale[k] = dim * max_norm[k] / space.owned_cell(k)->minimum_vertex_distance();
    return scale;
  }

  template <int dim, int spacedim>
  double TransportOperator<dim, spacedim>::inverse_time_scale(const double *node_velocity,
                                                    const double *face_velocity) const
  {
    const unsigned int n   = space.n_nodes();
    const unsigned int nfq = space.n_face_points();
    // std::max ignores NaN, so non-finite velocities are detected separately.
    bool finite = true;
    for (std::size_t i = 0; i < space.n_owned_cells() * n * spacedim; ++i)
      finite = finite && std::isfinite(node_velocity[i]);
    for (std::size_t i = 0; i < space.n_faces() * nfq * spacedim; ++i)
      finite = finite && std::isfinite(face_velocity[i]);
    if (dealii::Utilities::MPI::min(finite ? 1 : 0, space.communicator) == 0)
      return std::numeric_limits<double>::quiet_NaN();
    double local = 0;
    for (const double s : cell_time_scales(node_velocity, face_velocity))
      local = std::max(local, s);
    return dealii::Utilities::MPI::max(local, space.communicator);
  }

  template <int dim, int spacedim>
  unsigned long TransportOperator<dim, spacedim>::cap_speed_where_empty(const std::vector<double> &extended,
                                                              double                     relative_density,
                                                              double                    *node_velocity,
                                                              double                    *face_velocity) const
  {
    if (!(relative_density > 0) || spacedim > dim) // a Euclidean tail effect; clipping would leave the tangent plane
      return 0;
    const unsigned int n     = space.n_nodes();
    const unsigned int nfq   = space.n_face_points();
    const std::size_t  cells = space.n_owned_cells();
    using Extremes           = std::pair<double, double>; // largest density, smallest cell extent
    const Extremes extremes  = reduce_over_cell_chunks(
      cells,
      Extremes{0., std::numeric_limits<double>::max()},
      [&](std::size_t begin, std::size_t end, Extremes &part) {
        for (std::size_t k = begin; k < end; ++k)
          {
            const double *u = space.cell_values(extended.data(), k);
            for (unsigned int q = 0; q < n; ++q)
              part.first = std::max(part.first, u[q]);
            for (unsigned int c = 0; c < dim; ++c)
              part.second = std::min(part.second, space.cell_box(k).extent[c]);
          }
      },
      [](Extremes total, const Extremes &part) {
        return Extremes{std::max(total.first, part.first), std::min(total.second, part.second)};
      });
    const double floor = relative_density * dealii::Utilities::MPI::max(extremes.first, space.communicator);
    const double h_min = dealii::Utilities::MPI::min(extremes.second, space.communicator);
    const auto   larger = [](double a, double b) { return std::max(a, b); };
    const auto   add    = [](unsigned long a, unsigned long b) { return a + b; };

    const auto   scales = cell_time_scales(node_velocity, face_velocity);
    const double rate   = reduce_over_cell_chunks(
      cells,
      0.,
      [&](std::size_t begin, std::size_t end, double &part) {
        for (std::size_t k = begin; k < end; ++k)
          for (unsigned int q = 0; q < n; ++q)
            if (space.cell_values(extended.data(), k)[q] >= floor)
              {
                part = std::max(part, scales[k]);
                break;
              }
      },
      larger);
    const double cap  = dealii::Utilities::MPI::max(rate, space.communicator) * h_min / dim;
    const auto   clip = [&](double *v) {
      bool changed = false;
      for (unsigned int c = 0; c < dim; ++c)
        if (std::abs(v[c]) > cap)
          {
            v[c]    = std::copysign(cap, v[c]);
            changed = true;
          }
      return changed ? 1ul : 0ul;
    };
    // Every node and face point belongs to one cell or face: the chunks write disjoint velocities.
    unsigned long capped = reduce_over_cell_chunks(
      cells,
      0ul,
      [&](std::size_t begin, std::size_t end, unsigned long &part) {
        for (std::size_t k = begin; k < end; ++k)
          for (unsigned int q = 0; q < n; ++q)
            if (space.cell_values(extended.data(), k)[q] < floor)
              part += clip(node_velocity + space.node_index(k, q) * spacedim);
      },
      add);
    capped += reduce_over_cell_chunks(
      space.n_faces(),
      0ul,
      [&](std::size_t begin, std::size_t end, unsigned long &part) {
        for (std::size_t f = begin; f < end; ++f)
          {
            const auto face = space.face(f);
            for (unsigned int q = 0; q < nfq; ++q)
              if (face.trace(extended.data(), 0, q) < floor &&
                  (face.at_boundary() || face.trace(extended.data(), 1, q) < floor))
                part += clip(face_velocity + space.face_point_index(f, q) * spacedim);
          }
      },
      add);
    return dealii::Utilities::MPI::sum(capped, space.communicator);
  }

  template class TransportOperator<1>;
  template class TransportOperator<2>;
  template class TransportOperator<3>;
  template class TransportOperator<2, 3>;
} // namespace tpde
