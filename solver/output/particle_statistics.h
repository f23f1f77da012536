// statistics.csv of a particle run (the schema of statistics_schema.h): the
// grid's columns where they mean the same (mass is 1, no outflow, no mesh),
// the reference columns for one initial Gaussian with err_mean, err_cov
// (largest absolute error of the mean and covariance entries), then tokens
// and the kernel's own diagnostics (e.g. Sinkhorn iterations) of its last
// evaluation.
//
// On the circle (Mesh/domain = sphere, d = 2) the tokens are angles and the
// velocity angular speeds: mean_*, cov_* are the moments of the ambient
// points (cos theta, sin theta), max_speed the largest |angular speed|, and
// the circle's columns of sphere_statistics.h follow the kernel diagnostics,
// summed over the tokens with weights 1/N (the energy and its rates over all
// pairs, as circle_diagnostics.h computes them). `clusters` counts the local
// maxima of a fixed density estimate: the histogram of the tokens on 256
// equal arcs smoothed by a wrapped Gaussian of standard deviation 2 pi / 64
// (about 5.6 degrees), above Output/cluster threshold of its largest value.
// Its sampling noise (a relative sqrt(18 / N) for a uniform law) creates
// spurious maxima when the density is nearly flat: the count is meaningful
// once clusters stand out of it.
//
// On S^2 (d = 3) the tokens are the ambient unit points and the velocity the
// tangent vectors: mean_*, cov_*, max_speed are theirs, and the S^2 columns
// come from the same sums as the grid's (surface_sums in sphere_statistics.h,
// weights 1/N, the energy over all pairs); `clusters` counts the maxima of a
// fixed density estimate on a Fibonacci lattice (sphere/surface_clusters.h).
//
// Masked attention (tokens (s, x), or (s, theta) on the circle): mean_*,
// cov_* include s as coordinate 0 (on the circle of (s, cos theta, sin
// theta)), as the grid's, and the grid's slice<k>_* columns follow the kernel
// diagnostics (slice_columns.h; not the grid-only density errors). The tokens
// are at fixed positions, so a slice rho(s_k, .) is estimated from the tokens
// in the window s_k - w/2 <= s < s_k + w/2 (closed at s = 1; w = Particles/slice window), clipped to
// [0, 1] and to the side of `upper data from` that s_k is on (the grid's slice
// there is the limit from that side too): every such token weighs
// 1 / (N |window|), so slice<k>_mass = (tokens in the window) / (N |window|)
// estimates the grid's slice mass (1 for the Lebesgue s-marginal). The
// moments are those of the window's tokens: their statistical error is
// ~ (N w)^{-1/2}, their bias from the s-dependence of the law inside the
// window O(w^2) (O(w) at s = 0, 1 and at upper data from, where the window
// is one-sided). A window without tokens gives NaN moments.
#pragma once

#include "attention/attention.h"
#include "output/slice_columns.h"
#include "output/sphere_statistics.h"
#include "output/statistics_schema.h"
#include "parameters/parameters.h"

#include <optional>
#include <string>
#include <vector>

namespace tpde
{
  class ParticleStatistics
  {
  public:
    /// `setup`: the setup of the sphere's columns (Mesh/domain = sphere; on
    /// the circle the tokens are angles, on S^2 ambient points), null in R^d.
    ParticleStatistics(const Parameters &p, const attention::Kernel &kernel, const SphereSetup *setup = nullptr);

    std::vector<std::string> header() const;
    /// positions and velocity: N x dim, row-major.
    std::vector<double> row(unsigned long step, double time, double dt, const std::vector<double> &positions,
                            const std::vector<double> &velocity, double wall_seconds);

    /// The state of the Gaussian reference (checkpoints), and its restore.
    std::vector<double> reference_snapshot() const { return reference.snapshot(); }
    void                reference_restore(const std::vector<double> &snapshot) { reference.restore(snapshot); }
    /// The same for the slices' Gaussian reference (masked attention).
    std::vector<double> slice_reference_snapshot() const { return slices.tracker().snapshot(); }
    void slice_reference_restore(const std::vector<double> &snapshot) { slices.tracker().restore(snapshot); }

  private:
    unsigned int               dim; // of the moments (ambient on the circle)
    const attention::Kernel   &kernel;
    ReferenceTracker           reference;
    std::optional<SphereSetup> sphere_columns;
    bool                       circle = false; // sphere and d = 2: angles
    bool                       masked = false; // tokens (s, x) or (s, theta)
    SliceColumns               slices;
    double                     window = 0, upper_from = 1; // Particles/slice window, upper data from

    /// The tokens' points for the moments: as they are, or on the circle with
    /// each angle as (cos theta, sin theta).
    std::vector<double> moment_points(const std::vector<double> &positions) const;
    /// The sums of SliceColumns for every slice from the tokens in its window.
    std::vector<double> slice_sums(const std::vector<double> &positions) const;

    /// The sphere's columns of the tokens (ambient points x, velocity in the chart or ambient).
    void append_sphere_columns(double time, const std::vector<double> &positions, const std::vector<double> &x,
                               const std::vector<double> &velocity, std::vector<double> &row) const;
  };
} // namespace tpde
