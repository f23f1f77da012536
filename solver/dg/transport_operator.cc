#include "dg/transport_operator.h"

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace tpde
{
  template <int dim>
  TransportOperator<dim>::TransportOperator(const DGSpace<dim> &space)
    : space(space)
  {}

  template <int dim>
  double TransportOperator<dim>::apply(const std::vector<double> &extended,
                                       const double              *node_velocity,
                                       const double              *face_velocity,
                                       double                    *rate) const
  {
    const unsigned int n   = space.n_nodes();
    const unsigned int nfq = space.n_face_points();
    const double      *D   = space.reference_gradients.data();

    // Volume term: sum_q rho_q JxW_q (J^{-1} X_q) . grad_hat phi_i(x_q).
    std::vector<double> flux_coefficient(n * dim);
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      {
        const double *u   = extended.data() + space.cell_offset[k];
        double       *r   = rate + space.cell_offset[k];
        for (unsigned int q = 0; q < n; ++q)
          {
            const std::size_t node = k * n + q;
            const double     *X    = node_velocity + node * dim;
            const double     *inv  = space.node_inverse_jacobian.data() + node * dim * dim;
            const double      s    = u[q] * space.node_JxW[node];
            for (unsigned int i = 0; i < dim; ++i)
              {
                double v = 0;
                for (unsigned int j = 0; j < dim; ++j)
                  v += inv[i * dim + j] * X[j];
                flux_coefficient[q * dim + i] = s * v;
              }
          }
        for (unsigned int i = 0; i < n; ++i)
          {
            double sum = 0;
            for (unsigned int q = 0; q < n; ++q)
              for (unsigned int c = 0; c < dim; ++c)
                sum += flux_coefficient[q * dim + c] * D[(q * n + i) * dim + c];
            r[i] = sum;
          }
      }

    // Faces: upwind flux F = (X.n)^+ rho_0 + (X.n)^- rho_1, n pointing out of side 0.
    double              outflow = 0;
    std::vector<double> flux(nfq);
    for (std::size_t f = 0; f < space.faces.size(); ++f)
      {
        const auto   &face = space.faces[f];
        const double *T0   = space.traces[face.trace[0]].data();
        const double *u0   = extended.data() + face.offset[0];
        for (unsigned int q = 0; q < nfq; ++q)
          {
            const std::size_t point = f * nfq + q;
            double            vn    = 0;
            for (unsigned int c = 0; c < dim; ++c)
              vn += face_velocity[point * dim + c] * space.face_normal_JxW[point * dim + c];
            double rho0 = 0;
            for (unsigned int i = 0; i < n; ++i)
              rho0 += T0[q * n + i] * u0[i];
            double rho1 = 0; // zero inflow on the boundary
            if (!face.at_boundary())
              {
                const double *T1 = space.traces[face.trace[1]].data();
                const double *u1 = extended.data() + face.offset[1];
                for (unsigned int i = 0; i < n; ++i)
                  rho1 += T1[q * n + i] * u1[i];
              }
            flux[q] = std::max(vn, 0.) * rho0 + std::min(vn, 0.) * rho1;
          }
        if (face.owned[0])
          {
            double *r0 = rate + face.offset[0];
            for (unsigned int q = 0; q < nfq; ++q)
              for (unsigned int i = 0; i < n; ++i)
                r0[i] -= flux[q] * T0[q * n + i];
          }
        if (face.at_boundary())
          for (unsigned int q = 0; q < nfq; ++q)
            outflow += flux[q];
        else if (face.owned[1])
          {
            const double *T1 = space.traces[face.trace[1]].data();
            double       *r1 = rate + face.offset[1];
            for (unsigned int q = 0; q < nfq; ++q)
              for (unsigned int i = 0; i < n; ++i)
                r1[i] += flux[q] * T1[q * n + i];
          }
      }

    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      for (unsigned int q = 0; q < n; ++q)
        rate[space.cell_offset[k] + q] /= space.node_JxW[k * n + q];
    return outflow;
  }

  template <int dim>
  std::vector<double> TransportOperator<dim>::cell_time_scales(const double *node_velocity,
                                                               const double *face_velocity) const
  {
    const unsigned int  n   = space.n_nodes();
    const unsigned int  nfq = space.n_face_points();
    std::vector<double> max_speed(space.n_owned_cells() * dim, 0.);
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      for (unsigned int q = 0; q < n; ++q)
        for (unsigned int c = 0; c < dim; ++c)
          max_speed[k * dim + c] =
            std::max(max_speed[k * dim + c], std::abs(node_velocity[(k * n + q) * dim + c]));
    for (std::size_t f = 0; f < space.faces.size(); ++f)
      for (unsigned int side = 0; side < 2; ++side)
        if (const long k = space.faces[f].owned_cell[side]; k >= 0)
          for (unsigned int q = 0; q < nfq; ++q)
            for (unsigned int c = 0; c < dim; ++c)
              max_speed[k * dim + c] = std::max(max_speed[k * dim + c],
                                                std::abs(face_velocity[(f * nfq + q) * dim + c]));
    std::vector<double> scale(space.n_owned_cells(), 0.);
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      for (unsigned int c = 0; c < dim; ++c)
        scale[k] += max_speed[k * dim + c] / space.cell_extent[k * dim + c];
    return scale;
  }

  template <int dim>
  double TransportOperator<dim>::inverse_time_scale(const double *node_velocity,
                                                    const double *face_velocity) const
  {
    const unsigned int n   = space.n_nodes();
    const unsigned int nfq = space.n_face_points();
    // std::max ignores NaN, so non-finite velocities are detected separately.
    bool finite = true;
    for (std::size_t i = 0; i < space.n_owned_cells() * n * dim; ++i)
      finite = finite && std::isfinite(node_velocity[i]);
    for (std::size_t i = 0; i < space.faces.size() * nfq * dim; ++i)
      finite = finite && std::isfinite(face_velocity[i]);
    if (dealii::Utilities::MPI::min(finite ? 1 : 0, space.communicator) == 0)
      return std::numeric_limits<double>::quiet_NaN();
    double local = 0;
    for (const double s : cell_time_scales(node_velocity, face_velocity))
      local = std::max(local, s);
    return dealii::Utilities::MPI::max(local, space.communicator);
  }

  template <int dim>
  unsigned long TransportOperator<dim>::cap_speed_where_empty(const std::vector<double> &extended,
                                                              double                     relative_density,
                                                              double                    *node_velocity,
                                                              double                    *face_velocity) const
  {
    if (!(relative_density > 0))
      return 0;
    const unsigned int n     = space.n_nodes();
    const unsigned int nfq   = space.n_face_points();
    const std::size_t  cells = space.n_owned_cells();
    double             largest = 0, h_min = std::numeric_limits<double>::max();
    for (std::size_t k = 0; k < cells; ++k)
      {
        for (unsigned int q = 0; q < n; ++q)
          largest = std::max(largest, extended[space.cell_offset[k] + q]);
        for (unsigned int c = 0; c < dim; ++c)
          h_min = std::min(h_min, space.cell_extent[k * dim + c]);
      }
    const double floor = relative_density * dealii::Utilities::MPI::max(largest, space.communicator);
    h_min              = dealii::Utilities::MPI::min(h_min, space.communicator);

    const auto   scales = cell_time_scales(node_velocity, face_velocity);
    double       rate   = 0;
    for (std::size_t k = 0; k < cells; ++k)
      for (unsigned int q = 0; q < n; ++q)
        if (extended[space.cell_offset[k] + q] >= floor)
          {
            rate = std::max(rate, scales[k]);
            break;
          }
    const double  cap    = dealii::Utilities::MPI::max(rate, space.communicator) * h_min / dim;
    unsigned long capped = 0;
    const auto    clip   = [&](double *v) {
      bool changed = false;
      for (unsigned int c = 0; c < dim; ++c)
        if (std::abs(v[c]) > cap)
          {
            v[c]    = std::copysign(cap, v[c]);
            changed = true;
          }
      capped += changed;
    };
    for (std::size_t k = 0; k < cells; ++k)
      for (unsigned int q = 0; q < n; ++q)
        if (extended[space.cell_offset[k] + q] < floor)
          clip(node_velocity + (k * n + q) * dim);
    for (std::size_t f = 0; f < space.faces.size(); ++f)
      {
        const auto &face = space.faces[f];
        for (unsigned int q = 0; q < nfq; ++q)
          if (face_trace(space, extended, face, 0, q) < floor &&
              (face.at_boundary() || face_trace(space, extended, face, 1, q) < floor))
            clip(face_velocity + (f * nfq + q) * dim);
      }
    return dealii::Utilities::MPI::sum(capped, space.communicator);
  }

  template class TransportOperator<1>;
  template class TransportOperator<2>;
  template class TransportOperator<3>;
} // namespace tpde
