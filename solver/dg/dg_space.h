// The discontinuous Galerkin space and everything geometric the transport
// scheme needs, computed once per mesh.
//
// Nodes are the tensor Gauss points of each cell (FE_DGQArbitraryNodes on
// QGauss(p+1)), so the mass matrix is diagonal (M_i = JxW_i, exact on affine
// cells), the nodes double as the attention quadrature (sources with weights
// rho_i M_i) and as targets for the volume term. Faces are stored once per
// rank from a canonical side (in 2D/3D the finer cell, else the smaller
// CellId; in 1D always the smaller CellId), so
// both ranks of a partition face evaluate the same points and the flux that
// leaves one cell is exactly the flux that enters its neighbour.
//
// Values are handled in an "extended" local array: the locally owned DoFs
// (contiguous) followed by the DoFs of the ghost cells that share a face with
// an owned cell.
#pragma once

#include "dg/dg_parameters.h"
#include "mesh/mesh_parameters.h"

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/distributed/shared_tria.h>
#include <deal.II/distributed/tria.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/fe_dgq.h>
#include <deal.II/fe/mapping_q.h>
#include <deal.II/lac/trilinos_vector.h>

#include <memory>
#include <vector>

namespace tpde
{
  using VectorType = dealii::TrilinosWrappers::MPI::Vector;

  template <int dim>
  class DGSpace
  {
  public:
    /// `frozen_first_coordinate`: masked attention (see below);
    /// `parameter_file` names the input in messages about the mesh.
    DGSpace(const MeshParameters &mesh, const DiscretizationParameters &discretization,
            bool frozen_first_coordinate, const std::string &parameter_file, MPI_Comm communicator);

    /// Distributes DoFs and computes all geometric data for the current mesh.
    void setup();

    /// Owned vector and ghosted vector of the density DoFs.
    void initialize_vector(VectorType &owned) const;
    void initialize_ghosted_vector(VectorType &ghosted) const;

    /// owned values (and ghost values from `ghosted`) -> extended array.
    void extend(const VectorType &owned, const VectorType &ghosted, std::vector<double> &extended) const;

    // --- sizes
    unsigned int n_nodes() const { return nodes_per_cell; }
    unsigned int n_face_points() const { return points_per_face; }
    std::size_t  n_owned_cells() const { return owned_cells.size(); }
    std::size_t  n_owned_dofs() const { return owned_dofs.n_elements(); }
    std::size_t  n_faces() const { return faces.size(); }
    unsigned int degree() const { return fe.degree; }

    struct Face
    {
      /// Offsets of the two cells' values in the extended array (side 1 is -1
      /// on the boundary), whether each side is locally owned, which trace
      /// matrix maps its values to the face points, and the owned cell index
      /// used for the time step bound.
      long         offset[2];
      bool         owned[2];
      unsigned int trace[2];
      long         owned_cell[2];
      bool         at_boundary() const { return offset[1] < 0; }
    };

    // --- per owned cell k, node q (arrays of size n_owned_cells * n_nodes)
    std::vector<long>   cell_offset;       // start of cell k in the extended/owned array
    std::vector<double> node_points;       // (k*n + q)*dim + c
    std::vector<double> node_JxW;          // k*n + q: the diagonal of the mass matrix
    std::vector<double> node_inverse_jacobian; // ((k*n + q)*dim + i)*dim + j: d xhat_i / d x_j
    std::vector<double> cell_extent;       // k*dim + c: bounding-box extent of cell k
    std::vector<double> cell_lower;        // k*dim + c: bounding-box lower corner of cell k
    std::vector<typename dealii::DoFHandler<dim>::active_cell_iterator> owned_cells;

    // --- faces: points and normal * JxW of face f, point q at (f*nfq + q)*dim + c
    std::vector<Face>   faces;
    std::vector<double> face_points;
    std::vector<double> face_normal_JxW;

    // --- reference data (the same for every cell)
    std::vector<double> reference_gradients; // (q*n + i)*dim + c: d phi_i / d xhat_c at node q
    std::vector<std::vector<double>> traces; // [trace id][q*n + i]: phi_i at face point q
    std::vector<double> check_values;        // c*n + i: phi_i at check point c
    std::vector<int>    check_line;          // c: the s-node of check point c, or -1 (frozen_first_coordinate)
    /// Isotropic refinement on affine cells, per child c (n x n, row-major):
    /// prolongation[c][q*n + i] = phi_i at the child's node q (exact), and
    /// restriction[c][i*n + q] = w_q / (w_i 2^dim) prolongation[c][q*n + i],
    /// so that sum_c restriction[c] u_c is the L2 projection onto the parent.
    std::vector<std::vector<double>> prolongation, restriction;
    /// phi_i at the check points of all children, in parent coordinates
    /// ((c * n_check_points + point) * n + i): limiting a cell there before
    /// refinement keeps its children's means and check points non-negative.
    std::vector<double> children_check_values;
    unsigned int        n_check_points = 0;

    // --- a finer quadrature (p+3 points per direction) for projection and errors
    std::vector<double> fine_values;  // q*n + i
    std::vector<double> fine_points;  // (k*nf + q)*dim + c
    std::vector<double> fine_JxW;     // k*nf + q
    unsigned int        n_fine_points = 0;

    /// Masked attention: coordinate 0 (s) is a frozen label, so each line of
    /// nodes along it (fixed s-node) carries its own conserved mass; the
    /// positivity limiter then works line by line (check points on node lines).
    bool frozen_first_coordinate = false;

    MPI_Comm                                     communicator;
    std::unique_ptr<dealii::Triangulation<dim>>  triangulation;
    dealii::FE_DGQArbitraryNodes<dim>            fe;
    dealii::MappingQ<dim>                        mapping;
    dealii::DoFHandler<dim>                      dof_handler;
    dealii::IndexSet                             owned_dofs;
    dealii::IndexSet                             relevant_dofs;

  private:
    void compute_reference_data();
    void compute_cell_data();
    void compute_face_data();

    unsigned int nodes_per_cell  = 0;
    unsigned int points_per_face = 0;
    // ghost cells that appear in `faces`: their DoF indices, in extended order
    std::vector<dealii::types::global_dof_index> ghost_dof_indices;
  };
} // namespace tpde
