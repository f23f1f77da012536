// The relative error of a discrete vector field against a reference, max
// |X_h - X| / max |X| over the target points, and the bulk of a Gaussian
// (Mahalanobis distance <= 3) where the attention tests compare fields.
#pragma once

#include "support/solver_runs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace tpde::testing
{
  /// Accumulates max |X_h - X| and max |X| over points of `dim` components.
  class FieldError
  {
  public:
    void add(const double *approximate, const double *exact, unsigned int dim)
    {
      double e2 = 0, n2 = 0;
      for (unsigned int c = 0; c < dim; ++c)
        {
          e2 += (approximate[c] - exact[c]) * (approximate[c] - exact[c]);
          n2 += exact[c] * exact[c];
        }
      worst   = std::max(worst, std::sqrt(e2));
      largest = std::max(largest, std::sqrt(n2));
      ++n_points;
    }
    double      relative() const { return worst / largest; }
    std::size_t points() const { return n_points; }

  private:
    double      worst = 0, largest = 0;
    std::size_t n_points = 0;
  };

  /// Whether x lies within Mahalanobis distance 3 of N(mean, covariance);
  /// `precision` is the inverse covariance.
  inline bool in_gaussian_bulk(const Matrix &precision, const std::vector<double> &mean, const double *x)
  {
    std::vector<double> d(mean.size());
    for (std::size_t c = 0; c < mean.size(); ++c)
      d[c] = x[c] - mean[c];
    const std::vector<double> Pd = precision * d;
    double                    mahalanobis2 = 0;
    for (std::size_t c = 0; c < d.size(); ++c)
      mahalanobis2 += d[c] * Pd[c];
    return mahalanobis2 <= 9.;
  }

  using ExactField = std::function<std::vector<double>(const std::vector<double> &)>;

  /// The attention velocity at the nodes of the initial state of p against
  /// `exact` in the bulk of the initial Gaussian: max |X_h - X| / max |X|.
  /// At least `minimum_bulk_nodes` nodes must be in the bulk.
  template <int dim>
  double bulk_node_field_error(const Parameters &p, const ExactField &exact, std::size_t minimum_bulk_nodes)
  {
    Simulation<dim> simulation(p, MPI_COMM_WORLD);
    simulation.initialize();
    const auto   &space     = simulation.space();
    const Matrix  precision = inverse(p.initial.gaussian()->covariance);
    const double *X         = simulation.field().node_velocity();
    FieldError    error;
    for (std::size_t node = 0; node < space.all_node_points().size() / dim; ++node)
      {
        const double *x = space.all_node_points().data() + node * dim;
        if (!in_gaussian_bulk(precision, p.initial.gaussian()->mean, x))
          continue;
        const std::vector<double> reference = exact(std::vector<double>(x, x + dim));
        error.add(X + node * dim, reference.data(), dim);
      }
    EXPECT_GT(error.points(), minimum_bulk_nodes) << "too few bulk nodes for a meaningful test";
    std::printf("%s: bulk nodes %zu, max |X_h - X| / max |X| = %.3e\n", p.attention_type.c_str(), error.points(),
                error.relative());
    return error.relative();
  }
} // namespace tpde::testing
