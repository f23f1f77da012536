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
// an owned cell. cell_values(values, k) is where owned cell k's n_nodes()
// values start in an owned or extended array (or in a rate of the same
// layout); FaceView::cell_values does the same for the two sides of a face.
//
// Layout of everything else (the accessors hide it; it is stated once here):
// - per node: owned cell k (0 <= k < n_owned_cells(), the order of
//   owned_cells()), node q (0 <= q < n_nodes(), coordinate 0 fastest): the
//   node's index is node_index(k, q) = k * n_nodes() + q, and per-node arrays
//   of spacedim components (all_node_points(), AttentionField::node_velocity())
//   hold component c at node_index(k, q) * spacedim + c (spacedim = dim
//   except on the sphere S^2, a surface mesh in R^3);
// - per face point: face f (0 <= f < n_faces()), point q (< n_face_points()):
//   index face_point_index(f, q) = f * n_face_points() + q, components as above
//   (all_face_points(), AttentionField::face_velocity());
// - per fine point: the same with n_fine_points() per cell (not stored flat);
// - reference matrices (the same for every cell) are row-major, one row per
//   evaluation point and one column per basis function phi_i (n_nodes()
//   columns): trace_matrix, check_matrix, fine_shape_values, prolongation;
//   restriction is the transpose layout (one row per parent function).
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

  template <int dim, int spacedim = dim>
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
    std::size_t  n_owned_cells() const { return owned_cells_.size(); }
    std::size_t  n_owned_dofs() const { return owned_dofs.n_elements(); }
    std::size_t  n_faces() const { return faces.size(); }
    unsigned int degree() const { return fe.degree; }
    /// Masked attention: coordinate 0 (s) is a frozen label, so each line of
    /// nodes along it (fixed s-node) carries its own conserved mass; the
    /// positivity limiter then works line by line (check points on node lines).
    bool frozen_first_coordinate() const { return frozen_first_coordinate_; }
    /// The circle's chart (Mesh/domain = sphere, d = 2): the LAST coordinate
    /// is the angle theta in [0, 2 pi) (the mesh is theta, or (s, theta) with
    /// masked attention) and its two ends are one interior face (stored from
    /// the cell at 2 pi, normal +1 along theta, points at theta = 2 pi).
    bool periodic() const { return periodic_; }

    // --- owned cells
    using CellIterator = typename dealii::DoFHandler<dim, spacedim>::active_cell_iterator;
    const std::vector<CellIterator> &owned_cells() const { return owned_cells_; }
    const CellIterator              &owned_cell(std::size_t k) const { return owned_cells_[k]; }
    /// Values of owned cell k (n_nodes() of them) in an owned or extended array.
    double       *cell_values(double *values, std::size_t k) const { return values + cell_offset[k]; }
    const double *cell_values(const double *values, std::size_t k) const { return values + cell_offset[k]; }
    /// Global DoF index of value i of owned cell k (for deal.II vectors).
    dealii::types::global_dof_index global_dof(std::size_t k, unsigned int i) const
    {
      return first_owned_dof() + cell_offset[k] + i;
    }
    dealii::types::global_dof_index first_owned_dof() const
    {
      return owned_dofs.n_elements() > 0 ? owned_dofs.nth_index_in_set(0) : 0;
    }

    /// Axis-aligned bounding box of a cell: lower corner and extent, spacedim values each.
    struct CellBox
    {
      const double *lower;
      const double *extent;
    };
    CellBox cell_box(std::size_t k) const { return {&cell_lower[k * spacedim], &cell_extent[k * spacedim]}; }

    // --- nodes (the Gauss points of the owned cells)
    std::size_t   node_index(std::size_t k, unsigned int q) const { return k * nodes_per_cell + q; }
    const double *node_point(std::size_t k, unsigned int q) const { return &node_points[node_index(k, q) * spacedim]; }
    /// JxW at node q of cell k: the diagonal of the mass matrix.
    double        node_weight(std::size_t k, unsigned int q) const { return node_JxW[node_index(k, q)]; }
    /// The n_nodes() weights of cell k.
    const double *node_weights(std::size_t k) const { return &node_JxW[node_index(k, 0)]; }
    /// d xhat_i / d x_j at node q of cell k, at [i * spacedim + j] (on a
    /// surface the pseudo-inverse: it maps a tangent vector to the reference
    /// cell's velocity).
    const double *node_inverse_jacobian(std::size_t k, unsigned int q) const
    {
      return &node_inverse_jacobians[node_index(k, q) * dim * spacedim];
    }
    /// All owned node points, node_index * spacedim + c (kernels take the flat array).
    const std::vector<double> &all_node_points() const { return node_points; }
    /// d phi_i / d xhat_c at node q, at [c] (the same for every cell).
    const double *reference_gradient(unsigned int q, unsigned int i) const
    {
      return &reference_gradients[(q * nodes_per_cell + i) * dim];
    }

    // --- faces
    class FaceView;
    FaceView face(std::size_t f) const { return FaceView(*this, f); }
    std::size_t face_point_index(std::size_t f, unsigned int q) const { return f * points_per_face + q; }
    /// All face points, face_point_index * spacedim + c.
    const std::vector<double> &all_face_points() const { return face_points; }

    // --- check points of the positivity limiter (see compute_reference_data)
    unsigned int n_check_points() const { return n_check_points_; }
    /// phi_i at check point c: row c (n_check_points() x n_nodes()).
    const double *check_matrix() const { return check_values.data(); }
    /// phi_i at the check points of all children, in parent coordinates: row
    /// child * n_check_points() + c. Limiting a cell there before refinement
    /// keeps its children's means and check points non-negative.
    const double *children_check_matrix() const { return children_check_values.data(); }
    /// The s-node (line of nodes) check point c lies on, or -1 (masked attention).
    int check_line(unsigned int c) const { return check_lines[c]; }

    // --- isotropic refinement on affine cells, child c (lexicographic), n x n
    /// [q * n + i] = phi_i at the child's node q (exact).
    const double *prolongation(unsigned int child) const { return prolongations[child].data(); }
    /// [i * n + q] = w_q / (w_i 2^dim) prolongation[q * n + i], so that
    /// sum_c restriction(c) u_c is the L2 projection onto the parent.
    const double *restriction(unsigned int child) const { return restrictions[child].data(); }

    // --- a finer quadrature (p+3 points per direction) for projection and errors
    unsigned int  n_fine_points() const { return n_fine_points_; }
    /// phi_i at fine point q, n_nodes() values (the same for every cell).
    const double *fine_shape_values(unsigned int q) const { return &fine_values[q * nodes_per_cell]; }
    const double *fine_point(std::size_t k, unsigned int q) const
    {
      return &fine_points[(k * n_fine_points_ + q) * spacedim];
    }
    double fine_weight(std::size_t k, unsigned int q) const { return fine_JxW[k * n_fine_points_ + q]; }

    // --- deal.II objects, for code that works with the mesh directly
    MPI_Comm                                     communicator;
    std::unique_ptr<dealii::Triangulation<dim, spacedim>>  triangulation;
    dealii::FE_DGQArbitraryNodes<dim, spacedim>            fe;
    dealii::MappingQ<dim, spacedim>                        mapping;
    dealii::DoFHandler<dim, spacedim>                      dof_handler;
    dealii::IndexSet                             owned_dofs;
    dealii::IndexSet                             relevant_dofs;

  private:
    /// A face as stored: offsets of the two cells' values in the extended
    /// array (side 1 is -1 on the boundary), whether each side is locally
    /// owned, which trace matrix maps its values to the face points, and the
    /// owned cell index (or -1).
    struct Face
    {
      long         offset[2];
      bool         owned[2];
      unsigned int trace[2];
      long         owned_cell[2];
    };
    class FaceBuilder;

    void compute_reference_data();
    void compute_cell_data();
    void compute_face_data();
    void add_periodic_face(FaceBuilder &builder, const CellIterator &cell, unsigned int f);

    bool         frozen_first_coordinate_ = false;
    bool         periodic_                = false;
    unsigned int nodes_per_cell  = 0;
    unsigned int points_per_face = 0;
    // ghost cells that appear in `faces`: their DoF indices, in extended order
    std::vector<dealii::types::global_dof_index> ghost_dof_indices;

    // per owned cell k, node q: see the layout above
    std::vector<long>         cell_offset;
    std::vector<double>       node_points;
    std::vector<double>       node_JxW;
    std::vector<double>       node_inverse_jacobians;
    std::vector<double>       cell_extent; // k * spacedim + c
    std::vector<double>       cell_lower;  // k * spacedim + c
    std::vector<CellIterator> owned_cells_;

    std::vector<Face>   faces;
    std::vector<double> face_points;
    std::vector<double> face_normal_JxW; // normal * JxW, as face_points

    std::vector<double>              reference_gradients; // (q * n + i) * dim + c
    std::vector<std::vector<double>> traces;              // [trace id][q * n + i]
    std::vector<double>              check_values;
    std::vector<int>                 check_lines;
    std::vector<std::vector<double>> prolongations, restrictions;
    std::vector<double>              children_check_values;
    unsigned int                     n_check_points_ = 0;

    std::vector<double> fine_values; // q * n + i
    std::vector<double> fine_points; // (k * nf + q) * spacedim + c
    std::vector<double> fine_JxW;    // k * nf + q
    unsigned int        n_fine_points_ = 0;
  };

  /// One face f of DGSpace::face(f): its points, normals, and the two cells
  /// it separates (side 0 is the canonical cell, the normal points out of it;
  /// side 1 is absent on the boundary). Cheap to copy.
  template <int dim, int spacedim>
  class DGSpace<dim, spacedim>::FaceView
  {
  public:
    bool at_boundary() const { return data->offset[1] < 0; }
    /// Whether the side's cell is locally owned (false for side 1 on the boundary).
    bool is_owned(unsigned int side) const { return data->owned[side]; }
    /// The side's index among the owned cells, or -1 if it is not owned.
    long owned_cell(unsigned int side) const { return data->owned_cell[side]; }
    /// phi_i of the side's cell at face point q: [q * n_nodes() + i].
    const double *trace_matrix(unsigned int side) const { return space->traces[data->trace[side]].data(); }
    /// The side's cell values (n_nodes()) in an extended array (or a rate of that layout).
    double       *cell_values(double *extended, unsigned int side) const { return extended + data->offset[side]; }
    const double *cell_values(const double *extended, unsigned int side) const
    {
      return extended + data->offset[side];
    }
    /// Density at face point q from the side's cell: sum_i trace_matrix[q * n + i] u_i.
    double trace(const double *extended, unsigned int side, unsigned int q) const
    {
      const unsigned int n     = space->nodes_per_cell;
      const double      *T     = trace_matrix(side) + q * n;
      const double      *u     = cell_values(extended, side);
      double             value = 0;
      for (unsigned int i = 0; i < n; ++i)
        value += T[i] * u[i];
      return value;
    }
    /// Face point q (spacedim coordinates); points() is all n_face_points() of them.
    const double *point(unsigned int q) const
    {
      return &space->face_points[space->face_point_index(index, q) * spacedim];
    }
    const double *points() const { return point(0); }
    /// Outward normal of side 0 times JxW at point q (spacedim components; on
    /// a surface the conormal, tangent to side 0's cell).
    const double *normal_JxW(unsigned int q) const
    {
      return &space->face_normal_JxW[space->face_point_index(index, q) * spacedim];
    }

  private:
    friend class DGSpace<dim, spacedim>;
    FaceView(const DGSpace<dim, spacedim> &space, std::size_t f)
      : space(&space)
      , data(&space.faces[f])
      , index(f)
    {}
    const DGSpace<dim, spacedim> *space;
    const Face         *data;
    std::size_t         index;
  };
} // namespace tpde
