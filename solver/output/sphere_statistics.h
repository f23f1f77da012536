// The columns of a run on the circle (Mesh/domain = sphere, d = 2), after all
// others of statistics.csv (physics.md §4):
//   order_parameter       |m|, m = int x drho the ambient mean (mean_x, mean_y)
//   energy                E_beta = 1/(2 beta) iint e^{beta <x, x'>} drho drho (beta = 0: |m|^2 / 2), with the beta
//                         of the layer acting at the row's time (subsection Layers)
//   energy_rate           the right-hand side of dE/dt for Q = K = V = I: int |X|^2 drho
//                         (unnormalized, USA) or int |X|^2 Z drho (softmax, SA); NaN for other variants
//   mode_1 .. mode_L      |int e^{i k theta} rho dtheta| (L = Output/modes); on S^2 the amplitude of
//                         the degree-l harmonic component, sqrt(iint P_l(<x, y>) drho drho) (= |m| at l = 1)
//   clusters              local maxima of the cell averages above Output/cluster threshold of the largest;
//                         particles: of the tokens' smoothed histogram (particle_statistics.h); S^2: of the
//                         cell averages at the cell centres, particles: of a fixed density estimate on a
//                         Fibonacci lattice, each with neighbourhoods by distance; a density whose minimum
//                         exceeds the threshold fraction of its maximum (the uniform law) has 0
//                         (sphere/surface_clusters.h)
//   ref_order_parameter   the exact |m(t)| of the wrapped Cauchy family (initial type poisson kernel,
//                         beta = 0, V = I; physics.md §4.4, T12); on S^2 the Poisson kernel's
//                         |m(t)| = m3(r(t)) (T14); only then
// All sums use the nodes' Gauss rule, like the attention itself (particles:
// the tokens with weights 1/N).
#pragma once

#include "dg/attention_field.h"
#include "dg/dg_space.h"
#include "attention/layers.h"

#include <string>
#include <vector>

namespace tpde
{
  struct SphereSetup
  {
    std::string  attention_type;
    /// E_beta and its rate use the beta of the layer acting at the row's time
    /// (the energy jumps where a layer changes beta; the identity holds within a layer).
    attention::LayerTimes layer_times;
    std::vector<double>   layer_beta = {1.};
    double beta(double time) const { return layer_beta[layer_times.layer_at(time)]; }
    unsigned int modes             = 4;
    double       cluster_threshold = 0.25;
    /// The initial order parameter of a wrapped Cauchy law; negative: no reference column.
    double       wrapped_cauchy_r0 = -1;
    /// S^2: the initial |w| of a Poisson kernel (T14); negative: no reference column.
    double       poisson_r0 = -1;
    bool has_reference() const { return wrapped_cauchy_r0 >= 0 || poisson_r0 >= 0; }
  };

  /// The circle's column names, in header order.
  std::vector<std::string> circle_column_names(const SphereSetup &setup);

  /// Sums over weighted points of the circle (the targets, with their angular
  /// speed) against all sources, to be added over ranks: first moments (2),
  /// energy and its two rates (3), then the cos and sin sums of modes 1..L.
  std::vector<double> circle_sums(const SphereSetup &setup, double time, std::size_t n, const double *theta,
                                  const double *weights, const double *speed, std::size_t n_sources,
                                  const double *source_theta, const double *source_weights);

  /// The columns from the reduced sums and a density profile ordered by
  /// angle (whose local maxima are the clusters).
  void append_circle_columns(const SphereSetup &setup, double time, const std::vector<double> &sums,
                             const std::vector<double> &profile, std::vector<double> &row);

  /// S^2: sums over weighted unit points x (n x 3, the targets, with their
  /// squared speed |X|^2) against all sources, to be added over ranks: first
  /// moments (3), energy and its two rates (3), then the harmonic sums of
  /// degrees 1..L (surface_diagnostics.h). The grid's nodes and the particle
  /// run's tokens go through this one function, so the columns agree.
  std::vector<double> surface_sums(const SphereSetup &setup, double time, std::size_t n, const double *x, const double *weights,
                                   const double *speed2, std::size_t n_sources, const double *sources,
                                   const double *source_weights);

  /// S^2: the columns of circle_column_names() from the reduced surface_sums
  /// and the cluster count (sphere/surface_clusters.h).
  void append_surface_columns(const SphereSetup &setup, double time, const std::vector<double> &sums,
                              unsigned int clusters, std::vector<double> &row);

  template <int dim, int spacedim = dim>
  class SphereStatistics
  {
  public:
    SphereStatistics(const DGSpace<dim, spacedim> &space, const AttentionField<dim, spacedim> &field, const SphereSetup &setup);

    std::vector<std::string> header() const;
    /// The columns in header order (collective over MPI); `owned_values` the
    /// density, `node_speed` the angular speed at the nodes.
    void append(double time, const double *owned_values, const double *node_speed, std::vector<double> &row) const;

  private:
    /// The circle's columns (chart angles) and those of S^2 (ambient points).
    void append_circle(double time, const double *owned_values, const double *node_speed,
                       std::vector<double> &row) const;
    void append_surface(double time, const double *owned_values, const double *node_velocity,
                        std::vector<double> &row) const;
    /// S^2: the clusters of the cell averages (collective over MPI).
    unsigned int surface_cell_clusters(const double *owned_values) const;

    const DGSpace<dim, spacedim>        &space;
    const AttentionField<dim, spacedim> &field;
    SphereSetup                setup;
  };
} // namespace tpde
