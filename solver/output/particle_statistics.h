// statistics.csv of a particle run (the schema of statistics_schema.h): the
// grid's columns where they mean the same (mass is 1, no outflow, no mesh),
// the reference columns for one initial Gaussian with err_mean, err_cov
// (largest absolute error of the mean and covariance entries), then tokens
// and the kernel's own diagnostics (e.g. Sinkhorn iterations) of its last
// evaluation.
#pragma once

#include "attention/attention.h"
#include "output/statistics_schema.h"
#include "parameters/parameters.h"

#include <string>
#include <vector>

namespace tpde
{
  class ParticleStatistics
  {
  public:
    ParticleStatistics(const Parameters &p, const attention::Kernel &kernel);

    std::vector<std::string> header() const;
    /// positions and velocity: N x dim, row-major.
    std::vector<double> row(unsigned long step, double time, double dt, const std::vector<double> &positions,
                            const std::vector<double> &velocity, double wall_seconds);

    /// The state of the Gaussian reference (checkpoints), and its restore.
    std::vector<double> reference_snapshot() const { return reference.snapshot(); }
    void                reference_restore(const std::vector<double> &snapshot) { reference.restore(snapshot); }

  private:
    unsigned int             dim;
    const attention::Kernel &kernel;
    ReferenceTracker         reference;
  };
} // namespace tpde
