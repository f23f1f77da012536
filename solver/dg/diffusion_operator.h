// The implicit part of d_t rho + div(rho X) = D Lap rho: the symmetric
// interior penalty (SIPG) discretisation of -Lap in the DG space, and its
// time integration with an L-stable second-order SDIRK scheme.
//
// The density is nodal at the Gauss points, so the mass matrix is the
// diagonal M_i = JxW_i (DGSpace::node_weight); the stiffness matrix K is
// assembled with the same Gauss rule, so M + c K is the exact operator of the
// method on affine cells. On a Euclidean box the boundary is zero-flux (no
// boundary terms: homogeneous Neumann), so sum_i (K u)_i = 0 and mass is kept
// to the solver's tolerance; the circle's chart joins 2 pi to 0 through its
// periodic face; on S^2 the gradients are the surface gradients of the mapping
// (Laplace-Beltrami). Hanging faces: the penalty uses the larger of the two
// sides' |face| / |cell|, and each owned cell assembles its own rows.
#pragma once

#include "dg/dg_space.h"

#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>

namespace tpde
{
  template <int dim, int spacedim = dim>
  class DiffusionOperator
  {
  public:
    DiffusionOperator(const DGSpace<dim, spacedim> &space, double diffusion);

    /// Assembles K and M for the current mesh (call after every mesh change).
    void setup();

    struct Result
    {
      unsigned int iterations = 0; // CG iterations of both stages
      bool         rebuilt    = false; // the preconditioner was rebuilt
    };

    /// Advances M u' = -D K u over h in place: SDIRK2 (Alexander's, gamma = 1 -
    /// 1/sqrt 2: L-stable, stiffly accurate, order 2), both stages with the one
    /// matrix M + gamma h D K, solved by CG with an algebraic multigrid
    /// preconditioner to a relative residual 1e-14 (std::runtime_error if it
    /// stalls above 1e-12).
    Result advance(VectorType &u, double h);

    /// (K u) for tests: the SIPG form applied to u (owned values).
    void apply_stiffness(const VectorType &u, VectorType &Ku) const { stiffness.vmult(Ku, u); }
    const VectorType &mass() const { return mass_diagonal; }

  private:
    void assemble_cell_rows(const typename DGSpace<dim, spacedim>::CellIterator &cell);
    void prepare_system(double c);

    const DGSpace<dim, spacedim>             &space;
    const double                              diffusion;
    dealii::TrilinosWrappers::SparseMatrix    stiffness, system;
    VectorType                                mass_diagonal, rhs, scratch;
    dealii::TrilinosWrappers::PreconditionAMG amg;
    double                                    system_coefficient = -1; // c of system = M + c K
    double                                    amg_coefficient    = -1; // c the AMG was built for
  };
} // namespace tpde
