#include "output/statistics.h"

#include <deal.II/base/mpi.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace tpde
{
  template <int dim>
  Statistics<dim>::Statistics(const DGSpace<dim>                             &space,
                              std::unique_ptr<reference::GaussianReference> reference,
                              const attention::Kernel                      *kernel)
    : space(space)
    , reference(std::move(reference))
    , kernel(kernel)
  {}

  template <int dim>
  std::vector<std::string> Statistics<dim>::header() const
  {
    std::vector<std::string> h = {"step", "time", "dt", "mass", "outflow"};
    for (unsigned int i = 0; i < dim; ++i)
      h.push_back("mean_" + std::to_string(i));
    for (unsigned int i = 0; i < dim; ++i)
      for (unsigned int j = 0; j < dim; ++j)
        h.push_back("cov_" + std::to_string(i) + std::to_string(j));
    for (const char *name : {"min_density", "entropy", "max_speed", "cells", "dofs", "wall_seconds"})
      h.push_back(name);
    if (reference)
      {
        for (unsigned int i = 0; i < dim; ++i)
          h.push_back("ref_mean_" + std::to_string(i));
        for (unsigned int i = 0; i < dim; ++i)
          for (unsigned int j = 0; j < dim; ++j)
            h.push_back("ref_cov_" + std::to_string(i) + std::to_string(j));
        h.push_back("err_l1");
        h.push_back("err_l2");
      }
    h.push_back("min_level");
    h.push_back("max_level");
    if (kernel)
      for (const auto &[name, value] : kernel->diagnostics())
        h.push_back(name);
    return h;
  }

  template <int dim>
  std::vector<double> Statistics<dim>::compute(const StatisticsInput &in)
  {
    const unsigned int n   = space.n_nodes();
    const MPI_Comm     comm = space.communicator;
    const double      *u    = in.owned_values;

    // Raw moments by the nodal Gauss rule (the attention's own quadrature).
    // sums: mass, first moments, second moments, entropy, max speed^2
    std::vector<double> sums(1 + dim + dim * dim + 1, 0.);
    double              max_speed2 = 0;
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      for (unsigned int q = 0; q < n; ++q)
        {
          const std::size_t node = k * n + q;
          const double      rho  = u[space.cell_offset[k] + q];
          const double      m    = rho * space.node_JxW[node];
          const double     *x    = space.node_points.data() + node * dim;
          sums[0] += m;
          for (unsigned int i = 0; i < dim; ++i)
            {
              sums[1 + i] += m * x[i];
              for (unsigned int j = 0; j < dim; ++j)
                sums[1 + dim + i * dim + j] += m * x[i] * x[j];
            }
          if (rho > 0)
            sums[1 + dim + dim * dim] -= m * std::log(rho);
          double s2 = 0;
          for (unsigned int c = 0; c < dim; ++c)
            s2 += in.node_velocity[node * dim + c] * in.node_velocity[node * dim + c];
          max_speed2 = std::max(max_speed2, s2);
        }
    dealii::Utilities::MPI::sum(sums, comm, sums);
    max_speed2 = dealii::Utilities::MPI::max(max_speed2, comm);
    const double mass = sums[0];

    std::vector<double> row = {double(in.step), in.time, in.dt, mass, in.outflow};
    double              mean[dim];
    for (unsigned int i = 0; i < dim; ++i)
      {
        mean[i] = sums[1 + i] / mass;
        row.push_back(mean[i]);
      }
    for (unsigned int i = 0; i < dim; ++i)
      for (unsigned int j = 0; j < dim; ++j)
        row.push_back(sums[1 + dim + i * dim + j] / mass - mean[i] * mean[j]);
    row.push_back(in.min_density);
    row.push_back(sums[1 + dim + dim * dim]);
    row.push_back(std::sqrt(max_speed2));
    row.push_back(double(space.triangulation->n_global_active_cells()));
    row.push_back(double(space.dof_handler.n_dofs()));
    row.push_back(in.wall_seconds);

    if (reference)
      {
        // Past a finite-time blow-up the exact solution no longer exists: the
        // reference columns become NaN while the PDE run goes on.
        const reference::GaussianState *state = nullptr;
        if (!reference_failed)
          {
            try
              {
                state = &reference->advance_to(in.time);
              }
            catch (const std::runtime_error &)
              {
                reference_failed = true;
              }
          }
        const std::size_t n_reference_columns = dim + dim * dim + 2;
        if (state == nullptr)
          row.insert(row.end(), n_reference_columns, std::numeric_limits<double>::quiet_NaN());
        else
          {
            for (unsigned int i = 0; i < dim; ++i)
              row.push_back(state->mean[i]);
            for (unsigned int i = 0; i < dim; ++i)
              for (unsigned int j = 0; j < dim; ++j)
                row.push_back(state->covariance(i, j));
            const reference::GaussianDensity exact(*state);
            const unsigned int               nf = space.n_fine_points;
            std::vector<double>              errors(2, 0.);
            for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
              {
                const double *uk = u + space.cell_offset[k];
                for (unsigned int q = 0; q < nf; ++q)
                  {
                    double uh = 0;
                    for (unsigned int i = 0; i < n; ++i)
                      uh += space.fine_values[q * n + i] * uk[i];
                    const double e = uh - exact.evaluate(space.fine_points.data() + (k * nf + q) * dim);
                    const double w = space.fine_JxW[k * nf + q];
                    errors[0] += std::abs(e) * w;
                    errors[1] += e * e * w;
                  }
              }
            dealii::Utilities::MPI::sum(errors, comm, errors);
            row.push_back(errors[0]);
            row.push_back(std::sqrt(errors[1]));
          }
      }
    int min_level = std::numeric_limits<int>::max(), max_level = 0;
    for (const auto &cell : space.owned_cells)
      {
        min_level = std::min(min_level, cell->level());
        max_level = std::max(max_level, cell->level());
      }
    row.push_back(dealii::Utilities::MPI::min(min_level, comm));
    row.push_back(dealii::Utilities::MPI::max(max_level, comm));
    // The kernel runs the same computation on every rank: no reduction.
    if (kernel)
      for (const auto &[name, value] : kernel->diagnostics())
        row.push_back(value);
    return row;
  }

  CsvWriter::CsvWriter(const std::string &path, const std::vector<std::string> &header, bool active)
    : active(active)
  {
    if (!active)
      return;
    out.open(path);
    if (!out)
      throw std::runtime_error("cannot write " + path);
    for (std::size_t i = 0; i < header.size(); ++i)
      out << (i ? "," : "") << header[i];
    out << '\n' << std::flush;
  }

  void CsvWriter::write(const std::vector<double> &row)
  {
    if (!active)
      return;
    // Build the whole line first so a row is never half-written.
    std::string line;
    char        buffer[32];
    for (std::size_t i = 0; i < row.size(); ++i)
      {
        std::snprintf(buffer, sizeof buffer, "%.17g", row[i]);
        if (i)
          line += ',';
        line += buffer;
      }
    line += '\n';
    out << line << std::flush;
  }

  double column(const std::vector<std::string> &header, const std::vector<double> &row,
                const std::string &name)
  {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name)
        return row[i];
    throw std::out_of_range("no statistics column '" + name + "'");
  }

  template class Statistics<1>;
  template class Statistics<2>;
  template class Statistics<3>;
} // namespace tpde
