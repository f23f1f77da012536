// The per-step statistics table (statistics.csv): mass, outflow, moments,
// minimum density, entropy, speeds, mesh size, wall time and, when the initial
// data is one Gaussian, the exact Gaussian solution and the density errors,
// then the attention kernel's own diagnostics (attention::Kernel::diagnostics,
// e.g. the Sinkhorn iterations), if it has any.
//
// Column names are a public interface: extend, never rename.
#pragma once

#include "attention/attention.h"
#include "discretization/dg_space.h"
#include "reference/gaussian_reference.h"

#include <fstream>
#include <memory>
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

  template <int dim>
  class Statistics
  {
  public:
    /// `reference` may be null (no exact solution for this initial data);
    /// `kernel` may be null (no diagnostics columns).
    Statistics(const DGSpace<dim>                           &space,
               std::unique_ptr<reference::GaussianReference> reference,
               const attention::Kernel                      *kernel = nullptr);

    std::vector<std::string> header() const;
    /// One row, in header order (collective over MPI).
    std::vector<double> compute(const StatisticsInput &input);
    bool                has_reference() const { return reference != nullptr; }

  private:
    const DGSpace<dim>                             &space;
    std::unique_ptr<reference::GaussianReference> reference;
    bool                                          reference_failed = false;
    const attention::Kernel                      *kernel;
  };

  /// statistics.csv, written by rank 0: header first, one flushed line per row.
  class CsvWriter
  {
  public:
    CsvWriter(const std::string &path, const std::vector<std::string> &header, bool active);
    void write(const std::vector<double> &row);

  private:
    std::ofstream out;
    bool          active;
  };

  /// Column lookup in a row produced by Statistics::compute.
  double column(const std::vector<std::string> &header, const std::vector<double> &row,
                const std::string &name);
} // namespace tpde
