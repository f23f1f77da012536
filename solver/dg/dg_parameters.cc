#include "dg/dg_parameters.h"

namespace tpde
{
  const Choices<bool> &DiscretizationParameters::face_velocities()
  {
    static const Choices<bool> all({
      {"evaluated", false,
       "the attention sum at every face point (about as many targets as there are nodes, so half the cost of a "
       "stage)."},
      {"interpolated", true,
       "the mean of the two cells' traces of their nodal velocities (degree p; one trace on the boundary), exact for affine fields (Gaussian data) and "
       "within O(h^(p+1)) otherwise; faces between MPI ranks are still evaluated by both ranks (identical with "
       "direct summation; within the tolerance with fast summation, whose trees differ per rank)."},
    });
    return all;
  }

  const EntryTable<DiscretizationParameters> &DiscretizationParameters::entry_table()
  {
    static const EntryTable<DiscretizationParameters> table = EntryTable<DiscretizationParameters>()
      .add("degree", &DiscretizationParameters::degree, "2", EntryPattern::integer(1, 4),
          "Polynomial degree p of the discontinuous Galerkin space (FE_DGQ, nodes at the Gauss points, so "
          "the mass matrix is diagonal).")
      .add("positivity limiter", &DiscretizationParameters::positivity_limiter, "true", EntryPattern::boolean(),
          "Zhang-Shu limiter: after every stage, scale each cell's polynomial towards its mean so that the "
          "density is non-negative at all check points (Gauss nodes, the Gauss x Gauss-Lobatto point sets "
          "and the subface points of hanging faces). Keeps cell means, hence mass.")
      .add("limiter keeps moments", &DiscretizationParameters::limiter_keeps_moments, "true", EntryPattern::boolean(),
          "After the cell-wise limiter, restore the global mean and covariance it changed: the density of the cells it "
          "did not touch becomes rho (1 + p - pbar_K), p quadratic, solved from the moment deficit, pbar_K its "
          "rho-weighted mean over the cell (every cell keeps its mass), and stays non-negative at their check points. "
          "Scaling a cell towards its mean moves mass within it at every stage: at two cells per standard deviation (T6 "
          "on 32 x 32 Q2 cells) the covariance error grew by 6e-4 per unit time with the cell-wise limiter alone and by "
          "about 1e-5 without any limiter (the DG moment equations are exact for an affine velocity). Only cells with a "
          "mean of at least 1e-4 of the largest take part, and the correction changes the density by at most 5 % at "
          "any node per call (more would trade its shape for its moments: Q1 at h ~ sigma would need 30 %); larger "
          "deficits are restored in part. Not with masked attention (slices keep their own masses).")
      .add_choice("face velocity", &DiscretizationParameters::interpolate_face_velocity, "evaluated", DiscretizationParameters::face_velocities(),
          "Velocity at the face quadrature points of the upwind flux.");
    return table;
  }

} // namespace tpde
