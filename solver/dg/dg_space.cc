#include "dg/dg_space.h"

#include "common/parallel_chunks.h"
#include "mesh/mesh_builder.h"

#include <deal.II/base/qprojector.h>
#include <deal.II/dofs/dof_renumbering.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/base/multithread_info.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/grid/grid_generator.h>

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>

namespace tpde
{
  namespace
  {
    template <int dim, int spacedim>
    std::unique_ptr<dealii::Triangulation<dim, spacedim>> make_triangulation(MPI_Comm communicator)
    {
      if constexpr (dim == 1)
        // p4est has no 1D; a shared triangulation partitions the (small) 1D mesh.
        return std::make_unique<dealii::parallel::shared::Triangulation<1>>(
          communicator, dealii::Triangulation<1>::none, false,
          dealii::parallel::shared::Triangulation<1>::partition_zorder);
      else
        return std::make_unique<dealii::parallel::distributed::Triangulation<dim, spacedim>>(communicator);
    }

    /// Tensor product of 1D point sets, one per direction.
    template <int dim>
    std::vector<dealii::Point<dim>> tensor_points(const std::vector<std::vector<double>> &axes)
    {
      std::vector<dealii::Point<dim>> points(1);
      for (unsigned int c = 0; c < dim; ++c)
        {
          std::vector<dealii::Point<dim>> next;
          for (double x : axes[c])
            for (auto p : points)
              {
                p[c] = x;
                next.push_back(p);
              }
          points.swap(next);
        }
      return points;
    }

    std::vector<double> points_of(const dealii::Quadrature<1> &q)
    {
      std::vector<double> x;
      for (const auto &p : q.get_points())
        x.push_back(p[0]);
      return x;
    }

    /// The shape values at the Gauss points of every face and subface of the
    /// reference cell, [trace id][k * n + i] (trace id = face * (subfaces + 1) + s: s = 0
    /// the whole face, s = 1.. its subfaces); on a surface mesh (S^2) also each of them with
    /// the points in reverse order, since a face's line may be seen in
    /// opposite directions from its two sides.
    template <int dim, int spacedim>
    std::vector<std::vector<double>> face_traces(const dealii::FiniteElement<dim, spacedim> &fe,
                                                 const dealii::Quadrature<dim - 1>          &face_quadrature)
    {
      const unsigned int n = fe.n_dofs_per_cell(), points_per_face = face_quadrature.size();
      const auto         reference_cell = dealii::ReferenceCells::get_hypercube<dim>();
      const auto         n_sub          = dealii::GeometryInfo<dim>::max_children_per_face;
      std::vector<std::vector<double>> traces;
      for (unsigned int f = 0; f < dealii::GeometryInfo<dim>::faces_per_cell; ++f)
        for (unsigned int s = 0; s <= n_sub; ++s)
          {
            const dealii::Quadrature<dim> q =
              (s == 0 || dim == 1) ?
                dealii::QProjector<dim>::project_to_face(reference_cell, face_quadrature, f) :
                dealii::QProjector<dim>::project_to_subface(reference_cell, face_quadrature, f, s - 1);
            std::vector<double> t(points_per_face * n);
            for (unsigned int k = 0; k < points_per_face; ++k)
              for (unsigned int i = 0; i < n; ++i)
                t[k * n + i] = fe.shape_value(i, q.point(k));
            traces.push_back(std::move(t));
          }
      if constexpr (dim == 2 && spacedim > dim)
        for (std::size_t id = 0, n_traces = traces.size(); id < n_traces; ++id)
          {
            std::vector<double> reversed(points_per_face * n);
            for (unsigned int k = 0; k < points_per_face; ++k)
              std::copy(&traces[id][(points_per_face - 1 - k) * n], &traces[id][(points_per_face - k) * n],
                        &reversed[k * n]);
            traces.push_back(std::move(reversed));
          }
      return traces;
    }

    /// The active cells that `select` keeps, ordered by cell id.
    template <int dim, int spacedim, typename Select>
    std::vector<typename dealii::DoFHandler<dim, spacedim>::active_cell_iterator>
    sorted_cells(const dealii::DoFHandler<dim, spacedim> &dof_handler, const Select &select)
    {
      std::vector<typename dealii::DoFHandler<dim, spacedim>::active_cell_iterator> cells;
      for (const auto &cell : dof_handler.active_cell_iterators())
        if (select(cell))
          cells.push_back(cell);
      std::sort(cells.begin(), cells.end(), [](const auto &a, const auto &b) { return a->id() < b->id(); });
      return cells;
    }

    /// The owned DoFs numbered cell after cell in the order of `cells` (the
    /// owned cells): what DoFRenumbering::cell_wise does for DG elements.
    template <int dim, int spacedim>
    void renumber_cell_wise(
      dealii::DoFHandler<dim, spacedim>                                                  &dof_handler,
      const std::vector<typename dealii::DoFHandler<dim, spacedim>::active_cell_iterator> &cells)
    {
      const dealii::IndexSet                       owned = dof_handler.locally_owned_dofs();
      std::vector<dealii::types::global_dof_index> new_numbers(owned.n_elements());
      std::vector<dealii::types::global_dof_index> dofs(dof_handler.get_fe().n_dofs_per_cell());
      dealii::types::global_dof_index              next = owned.n_elements() > 0 ? owned.nth_index_in_set(0) : 0;
      for (const auto &cell : cells)
        {
          cell->get_dof_indices(dofs);
          for (const auto dof : dofs)
            new_numbers[owned.index_within_set(dof)] = next++;
        }
      dof_handler.renumber_dofs(new_numbers);
    }
  } // namespace

  template <int dim, int spacedim>
  DGSpace<dim, spacedim>::DGSpace(const MeshParameters &mesh, const DiscretizationParameters &discretization,
                        bool frozen_first_coordinate, const std::string &parameter_file, MPI_Comm communicator)
    : communicator(communicator)
    , triangulation(make_triangulation<dim, spacedim>(communicator))
    , fe(dealii::QGauss<1>(discretization.degree + 1))
    // Cells of a box are affine; a surface bulges between its vertices, and a
    // high-order mapping keeps the geometric error below the scheme's.
    , mapping(spacedim > dim ? std::max(4u, discretization.degree + 2) : 1u)
    , dof_handler()
    , frozen_first_coordinate_(frozen_first_coordinate)
    , periodic_(spacedim == dim && mesh.on_sphere())
  {
    build_mesh(*triangulation, mesh, parameter_file);
    dof_handler.reinit(*triangulation);
  }

  template <int dim, int spacedim>
  void DGSpace<dim, spacedim>::setup()
  {
    dof_handler.distribute_dofs(fe);
    // Cells and their DoFs in a canonical order (by cell id: depth first
    // through the refinement tree), not deal.II's level-wise one, which
    // depends on the mesh's history: a run rebuilt from a checkpoint then
    // sums in the same order as the run that wrote it and repeats it bit for bit.
    owned_cells_ = sorted_cells(dof_handler, [](const CellIterator &cell) { return cell->is_locally_owned(); });
    if constexpr (spacedim == dim)
      dealii::DoFRenumbering::cell_wise(dof_handler, owned_cells_);
    else
      renumber_cell_wise(dof_handler, owned_cells_); // deal.II 9.4 has no cell_wise for surfaces
    owned_dofs = dof_handler.locally_owned_dofs();
    dealii::DoFTools::extract_locally_relevant_dofs(dof_handler, relevant_dofs);
    if (!owned_dofs.is_contiguous())
      throw std::logic_error("DGSpace: locally owned DoFs are not contiguous");
    compute_reference_data();
    compute_cell_data();
    compute_face_data();
  }

  template <int dim, int spacedim>
  void DGSpace<dim, spacedim>::compute_reference_data()
  {
    const unsigned int          p = fe.degree;
    const dealii::QGauss<dim>   nodes(p + 1);
    nodes_per_cell = fe.n_dofs_per_cell();
    const unsigned int n = nodes_per_cell;

    // The collocation (diagonal mass matrix, nodes = quadrature points) relies
    // on the DoF order matching the quadrature point order.
    for (unsigned int i = 0; i < n; ++i)
      if (fe.get_unit_support_points()[i].distance(nodes.point(i)) > 1e-14)
        throw std::logic_error("DGSpace: FE nodes do not match the Gauss points");

    reference_gradients.assign(n * n * dim, 0.);
    for (unsigned int q = 0; q < n; ++q)
      for (unsigned int i = 0; i < n; ++i)
        {
          const auto g = fe.shape_grad(i, nodes.point(q));
          for (unsigned int c = 0; c < dim; ++c)
            reference_gradients[(q * n + i) * dim + c] = g[c];
        }

    const dealii::QGauss<dim - 1> face_quadrature(p + 1);
    points_per_face = face_quadrature.size();
    traces          = face_traces(fe, face_quadrature);
    const auto reference_cell = dealii::ReferenceCells::get_hypercube<dim>();
    const auto n_sub          = dealii::GeometryInfo<dim>::max_children_per_face;

    // Check points of the positivity limiter: the Gauss nodes and, for every
    // direction c, Gauss points in the other directions times Gauss-Lobatto
    // points along c (Zhang-Shu; these include the face points), and the
    // subface points of hanging faces.
    std::vector<dealii::Point<dim>> checks(nodes.get_points());
    const unsigned int              n_lobatto = std::max(2u, (p + 4) / 2);
    const auto gauss   = points_of(dealii::QGauss<1>(p + 1));
    const auto lobatto = points_of(dealii::QGaussLobatto<1>(n_lobatto));
    for (unsigned int c = 0; c < dim; ++c)
      {
        std::vector<std::vector<double>> axes(dim, gauss);
        axes[c] = lobatto;
        for (const auto &pt : tensor_points<dim>(axes))
          checks.push_back(pt);
      }
    // On a hanging face the coarse side is evaluated at its subfaces' Gauss
    // points: those fluxes need a non-negative trace too.
    if constexpr (dim > 1)
      for (unsigned int f = 0; f < dealii::GeometryInfo<dim>::faces_per_cell; ++f)
        for (unsigned int s = 0; s < n_sub; ++s)
          {
            // A named object: get_points() of a temporary would dangle.
            const dealii::Quadrature<dim> subface =
              dealii::QProjector<dim>::project_to_subface(reference_cell, face_quadrature, f, s);
            checks.insert(checks.end(), subface.get_points().begin(), subface.get_points().end());
          }
    n_check_points_ = checks.size();
    check_lines.assign(n_check_points_, -1);
    for (unsigned int k = 0; k < n_check_points_; ++k)
      for (unsigned int a = 0; a < gauss.size(); ++a)
        if (std::abs(checks[k][0] - gauss[a]) < 1e-14)
          check_lines[k] = static_cast<int>(a);
    check_values.resize(n_check_points_ * n);
    for (unsigned int k = 0; k < n_check_points_; ++k)
      for (unsigned int i = 0; i < n; ++i)
        check_values[k * n + i] = fe.shape_value(i, checks[k]);
    const unsigned int n_children = dealii::GeometryInfo<dim>::max_children_per_cell;
    children_check_values.resize(n_children * n_check_points_ * n);
    for (unsigned int child = 0; child < n_children; ++child)
      for (unsigned int k = 0; k < n_check_points_; ++k)
        {
          dealii::Point<dim> x; // lexicographic child numbering: bit c = half along c
          for (unsigned int c = 0; c < dim; ++c)
            x[c] = 0.5 * (checks[k][c] + ((child >> c) & 1));
          for (unsigned int i = 0; i < n; ++i)
            children_check_values[(child * n_check_points_ + k) * n + i] = fe.shape_value(i, x);
        }

    prolongations.assign(n_children, std::vector<double>(n * n));
    restrictions.assign(n_children, std::vector<double>(n * n));
    for (unsigned int child = 0; child < n_children; ++child)
      for (unsigned int q = 0; q < n; ++q)
        {
          // deal.II numbers the children lexicographically: bit k of the
          // child number is its half along direction k.
          dealii::Point<dim> x;
          for (unsigned int k = 0; k < dim; ++k)
            x[k] = 0.5 * (nodes.point(q)[k] + ((child >> k) & 1));
          for (unsigned int i = 0; i < n; ++i)
            {
              const double phi                 = fe.shape_value(i, x);
              prolongations[child][q * n + i]   = phi;
              restrictions[child][i * n + q]    = nodes.weight(q) / (nodes.weight(i) * n_children) * phi;
            }
        }

    const dealii::QGauss<dim> fine(p + 3);
    n_fine_points_ = fine.size();
    fine_values.resize(n_fine_points_ * n);
    for (unsigned int q = 0; q < n_fine_points_; ++q)
      for (unsigned int i = 0; i < n; ++i)
        fine_values[q * n + i] = fe.shape_value(i, fine.point(q));
  }

  namespace
  {
    /// The box (lower corner, extent) of a mapped cell with nodes `points`:
    /// on a curved surface the vertices alone would miss the bulge between
    /// them.
    template <int dim, int spacedim, typename Cell>
    void mapped_cell_box(const Cell &cell, const double *points, unsigned int n, double *lower, double *extent)
    {
      for (unsigned int c = 0; c < spacedim; ++c)
        {
          double lo = cell->vertex(0)[c], hi = lo;
          for (unsigned int v = 1; v < cell->n_vertices(); ++v)
            {
              lo = std::min(lo, cell->vertex(v)[c]);
              hi = std::max(hi, cell->vertex(v)[c]);
            }
          if constexpr (spacedim > dim)
            for (unsigned int q = 0; q < n; ++q)
              {
                lo = std::min(lo, points[q * spacedim + c]);
                hi = std::max(hi, points[q * spacedim + c]);
              }
          extent[c] = hi - lo;
          lower[c]  = lo;
        }
    }
  } // namespace

  template <int dim, int spacedim>
  void DGSpace<dim, spacedim>::compute_cell_data()
  {
    const unsigned int        n = nodes_per_cell;
    const dealii::QGauss<dim> nodes(fe.degree + 1);
    const dealii::QGauss<dim> fine(fe.degree + 3);
    const std::size_t n_cells = owned_cells_.size();
    cell_offset.resize(n_cells);
    node_points.resize(n_cells * n * spacedim);
    node_JxW.resize(n_cells * n);
    node_inverse_jacobians.resize(n_cells * n * dim * spacedim);
    cell_extent.resize(n_cells * spacedim);
    cell_lower.resize(n_cells * spacedim);
    fine_points.resize(n_cells * n_fine_points_ * spacedim);
    fine_JxW.resize(n_cells * n_fine_points_);

    // deal.II's FEValues reuses the previous cell's Jacobians for a
    // translated cell, but only with one thread (check_cell_similarity): the
    // geometry, and so every result, would differ in the last bits between
    // DEAL_II_NUM_THREADS=1 and more. A cell of another triangulation in
    // between makes FEValues forget the previous cell.
    dealii::Triangulation<dim, spacedim> other_mesh;
    dealii::GridGenerator::hyper_cube(other_mesh);
    const bool forget_previous_cell = dealii::MultithreadInfo::n_threads() == 1;
    const auto first = owned_dofs.n_elements() > 0 ? owned_dofs.nth_index_in_set(0) : 0;

    // Chunks of cells on the threads, each with its own FEValues: the values
    // do not depend on the chunking (no cell similarity, see above).
    for_chunks(
      n_cells,
      [&](std::size_t begin, std::size_t end) {
        dealii::FEValues<dim, spacedim> fe_values(mapping, fe, nodes,
                                                  dealii::update_quadrature_points | dealii::update_JxW_values |
                                                    dealii::update_inverse_jacobians);
        dealii::FEValues<dim, spacedim> fine_fe_values(mapping, fe, fine,
                                                       dealii::update_quadrature_points | dealii::update_JxW_values);
        std::vector<dealii::types::global_dof_index> dofs(n);
        for (std::size_t k = begin; k < end; ++k)
          {
            const auto &cell = owned_cells_[k];
            cell->get_dof_indices(dofs);
            for (unsigned int i = 0; i < n; ++i)
              if (dofs[i] != dofs[0] + i)
                throw std::logic_error("DGSpace: cell DoFs are not consecutive");
            cell_offset[k] = static_cast<long>(dofs[0] - first);

            if (forget_previous_cell)
              fe_values.reinit(other_mesh.begin_active());
            fe_values.reinit(cell);
            for (unsigned int q = 0; q < n; ++q)
              {
                node_JxW[k * n + q] = fe_values.JxW(q);
                for (unsigned int c = 0; c < spacedim; ++c)
                  node_points[(k * n + q) * spacedim + c] = fe_values.quadrature_point(q)[c];
                const auto inv = fe_values.inverse_jacobian(q);
                for (unsigned int i = 0; i < dim; ++i)
                  for (unsigned int j = 0; j < spacedim; ++j)
                    node_inverse_jacobians[((k * n + q) * dim + i) * spacedim + j] = inv[i][j];
              }
            mapped_cell_box<dim, spacedim>(cell, node_points.data() + k * n * spacedim, n, cell_lower.data() + k * spacedim,
                                    cell_extent.data() + k * spacedim);
            if (forget_previous_cell)
              fine_fe_values.reinit(other_mesh.begin_active());
            fine_fe_values.reinit(cell);
            for (unsigned int q = 0; q < n_fine_points_; ++q)
              {
                fine_JxW[k * n_fine_points_ + q] = fine_fe_values.JxW(q);
                for (unsigned int c = 0; c < spacedim; ++c)
                  fine_points[(k * n_fine_points_ + q) * spacedim + c] = fine_fe_values.quadrature_point(q)[c];
              }
          }
      },
      256);
  }

  namespace
  {
    /// The cell across face f of `cell` and the matching face (and subface + 1
    /// on a hanging face seen from its finer side; 0 for a whole face).
    template <int dim, int spacedim>
    struct Neighbour
    {
      typename dealii::DoFHandler<dim, spacedim>::active_cell_iterator cell;
      unsigned int                                           face    = 0;
      unsigned int                                           subface = 0;
    };

    /// The neighbour across interior face f if `cell` is the face's canonical
    /// side (see dg_space.h), else nothing.
    template <int dim, int spacedim>
    std::optional<Neighbour<dim, spacedim>> canonical_neighbour(const typename dealii::DoFHandler<dim, spacedim>::active_cell_iterator &cell,
                                                      unsigned int f)
    {
      Neighbour<dim, spacedim> other;
      bool           canonical = false;
      if constexpr (dim == 1)
        {
          auto nb = cell->neighbor(f);
          while (nb->has_children())
            nb = nb->child(1 - f);
          other.cell = nb;
          other.face = 1 - f;
          canonical  = cell->id() < other.cell->id();
        }
      else
        {
          if (cell->neighbor_is_coarser(f))
            {
              // This (finer) cell owns the hanging face; the coarse side sees a subface.
              other.cell              = cell->neighbor(f);
              const auto face_and_sub = cell->neighbor_of_coarser_neighbor(f);
              other.face              = face_and_sub.first;
              other.subface           = face_and_sub.second + 1;
              canonical               = true;
            }
          else if (cell->face(f)->has_children())
            canonical = false; // handled by the finer neighbours
          else
            {
              other.cell = cell->neighbor(f);
              other.face = cell->neighbor_of_neighbor(f);
              canonical  = cell->id() < other.cell->id();
            }
        }
      if (!canonical)
        return std::nullopt;
      return other;
    }
  } // namespace

  /// Appends faces to a DGSpace: numbers the ghost cells' values in the
  /// extended array as they first appear, and evaluates the face points.
  template <int dim, int spacedim>
  class DGSpace<dim, spacedim>::FaceBuilder
  {
  public:
    explicit FaceBuilder(DGSpace<dim, spacedim> &space)
      : space(space)
      , face_quadrature(space.fe.degree + 1)
      , face_values(space.mapping, space.fe, face_quadrature,
                    dealii::update_quadrature_points | dealii::update_normal_vectors | dealii::update_JxW_values)
      , other_face_values(space.mapping, space.fe, face_quadrature, dealii::update_quadrature_points)
      , other_subface_values(space.mapping, space.fe, face_quadrature, dealii::update_quadrature_points)
      , dofs(space.nodes_per_cell)
    {
      for (std::size_t k = 0; k < space.owned_cells_.size(); ++k)
        owned_index[space.owned_cells_[k]] = static_cast<long>(k);
    }

    /// Face f of `cell` (side 0) and `other` (side 1; an invalid cell on the boundary).
    /// `across_period`: the face joining theta = 2 pi (side 0) to theta = 0.
    void add_face(const CellIterator &cell, unsigned int f, const Neighbour<dim, spacedim> &other,
                  bool across_period = false)
    {
      constexpr unsigned int n_sub = dealii::GeometryInfo<dim>::max_children_per_face;
      Face                   face;
      face.offset[0]     = offset_of(cell);
      face.owned[0]      = cell->is_locally_owned();
      face.trace[0]      = f * (n_sub + 1);
      face.owned_cell[0] = face.owned[0] ? owned_index.at(cell) : -1;
      face_values.reinit(cell, f);
      if (other.cell.state() == dealii::IteratorState::valid)
        {
          face.offset[1]     = offset_of(other.cell);
          face.owned[1]      = other.cell->is_locally_owned();
          face.trace[1]      = other.face * (n_sub + 1) + (dim == 1 ? 0 : other.subface);
          face.owned_cell[1] = face.owned[1] ? owned_index.at(other.cell) : -1;
          // Across the period the points differ by 2 pi in theta; in the box
          // mesh's standard orientation the face as numbered matches.
          if (!across_period)
            face.trace[1] = matching_trace(cell, other);
        }
      else
        {
          face.offset[1]     = -1;
          face.owned[1]      = false;
          face.trace[1]      = 0;
          face.owned_cell[1] = -1;
        }
      for (unsigned int q = 0; q < space.points_per_face; ++q)
        for (unsigned int c = 0; c < spacedim; ++c)
          {
            space.face_points.push_back(face_values.quadrature_point(q)[c]);
            space.face_normal_JxW.push_back(face_values.normal_vector(q)[c] * face_values.JxW(q));
          }
      space.faces.push_back(face);
    }

  private:
    /// Offset of a cell's values in the extended array; a ghost cell's DoFs
    /// are appended to the ghost list when it first appears.
    long offset_of(const CellIterator &cell)
    {
      if (cell->is_locally_owned())
        return space.cell_offset[owned_index.at(cell)];
      auto it = ghost_offset.find(cell);
      if (it != ghost_offset.end())
        return it->second;
      const long offset = static_cast<long>(space.owned_dofs.n_elements() + space.ghost_dof_indices.size());
      cell->get_dof_indices(dofs);
      space.ghost_dof_indices.insert(space.ghost_dof_indices.end(), dofs.begin(), dofs.end());
      ghost_offset[cell] = offset;
      return offset;
    }

    /// The trace of side 1 whose points are side 0's face points in the same
    /// order. On boxes and p4est meshes in R^d that is the face (or subface)
    /// as numbered, in standard orientation; a surface mesh may run a line the
    /// other way from one side (then subfaces swap and points reverse).
    /// Needs face_values on the cell's face.
    unsigned int matching_trace(const CellIterator &cell, const Neighbour<dim, spacedim> &other)
    {
      constexpr unsigned int n_sub   = dealii::GeometryInfo<dim>::max_children_per_face;
      const unsigned int     n_plain = dealii::GeometryInfo<dim>::faces_per_cell * (n_sub + 1);
      const bool             surface = dim == 2 && spacedim > dim;
      for (const unsigned int subface :
           {other.subface, (surface && other.subface > 0) ? n_sub + 1 - other.subface : other.subface})
        {
          const dealii::FEValuesBase<dim, spacedim> *o;
          if (subface == 0 || dim == 1)
            {
              other_face_values.reinit(other.cell, other.face);
              o = &other_face_values;
            }
          else
            {
              other_subface_values.reinit(other.cell, other.face, subface - 1);
              o = &other_subface_values;
            }
          const unsigned int nq = space.points_per_face;
          for (const bool reversed : {false, true})
            {
              if (reversed && !surface)
                continue;
              // On a curved surface a hanging face's two sides are two
              // polynomial approximations of the same arc: they agree to the
              // mapping's accuracy, not to round-off (the flux is one, so mass
              // is still exact).
              const double tolerance = (surface ? 1e-3 : 1e-10) * cell->diameter();
              bool         same      = true;
              for (unsigned int q = 0; q < nq && same; ++q)
                same = face_values.quadrature_point(q).distance(o->quadrature_point(reversed ? nq - 1 - q : q)) <=
                       tolerance;
              if (same)
                return other.face * (n_sub + 1) + (dim == 1 ? 0 : subface) + (reversed ? n_plain : 0);
            }
        }
      throw InputError("subsection 'Mesh': the mesh has a face with non-standard "
                       "orientation, which is not supported (orient the cells consistently)");
    }

    DGSpace<dim, spacedim>                                &space;
    const dealii::QGauss<dim - 1>                face_quadrature;
    dealii::FEFaceValues<dim, spacedim>                    face_values;
    dealii::FEFaceValues<dim, spacedim>                    other_face_values;
    dealii::FESubfaceValues<dim, spacedim>                 other_subface_values;
    std::map<CellIterator, long>                 owned_index;
    std::map<CellIterator, long>                 ghost_offset;
    std::vector<dealii::types::global_dof_index> dofs;
  };

  template <int dim, int spacedim>
  void DGSpace<dim, spacedim>::add_periodic_face(FaceBuilder &builder, const CellIterator &cell, unsigned int f)
  {
    // The angle theta is the last coordinate. The face at theta = 2 pi (the
    // upper face along it) joins a face at theta = 0. 1D: a shared mesh knows
    // every cell, so the first cell is found from the coarse cell at theta =
    // 0. (s, theta): deal.II's periodicity (mesh_builder.cc) names the
    // neighbour, a ghost if not owned. Added once, where a side is owned.
    if (f != 2 * dim - 1)
      return;
    Neighbour<dim, spacedim> other;
    if constexpr (dim == 1)
      {
        auto first = dof_handler.begin(0);
        while (first->has_children())
          first = first->child(0);
        other.cell = first;
        other.face = 0;
      }
    else
      {
        if (!cell->has_periodic_neighbor(f))
          throw std::logic_error("DGSpace: the face at theta = 2 pi has no periodic neighbour (boundary id " +
                                 std::to_string(cell->face(f)->boundary_id()) + ", " +
                                 std::to_string(triangulation->get_periodic_face_map().size()) + " periodic faces)");
        const auto neighbour = cell->periodic_neighbor(f);
        // A pair that no side of this rank owns is not this rank's face (and
        // its other side may be an artificial cell p4est kept coarser).
        if (!cell->is_locally_owned() && (neighbour->has_children() || !neighbour->is_locally_owned()))
          return;
        if (neighbour->has_children() || neighbour->level() != cell->level())
          throw std::logic_error("DGSpace: the mesh is not conforming across theta = 2 pi");
        other.cell = neighbour;
        other.face = cell->periodic_neighbor_face_no(f);
      }
    if (other.cell->is_artificial() || (!cell->is_locally_owned() && !other.cell->is_locally_owned()))
      return;
    builder.add_face(cell, f, other, true);
  }

  template <int dim, int spacedim>
  void DGSpace<dim, spacedim>::compute_face_data()
  {
    ghost_dof_indices.clear();
    faces.clear();
    face_points.clear();
    face_normal_JxW.clear();
    FaceBuilder builder(*this);
    for (const auto &cell :
         sorted_cells(dof_handler, [](const CellIterator &c) { return c->is_locally_owned() || c->is_ghost(); }))
      {
        for (unsigned int f = 0; f < cell->n_faces(); ++f)
          {
            if (cell->at_boundary(f))
              {
                if (periodic_ && f / 2 == dim - 1) // the angle's ends
                  add_periodic_face(builder, cell, f);
                else if (cell->is_locally_owned())
                  builder.add_face(cell, f, Neighbour<dim, spacedim>());
                continue;
              }
            const auto other = canonical_neighbour<dim, spacedim>(cell, f);
            if (!other || other->cell->is_artificial())
              continue;
            if (!cell->is_locally_owned() && !other->cell->is_locally_owned())
              continue;
            builder.add_face(cell, f, *other);
          }
      }
  }

  template <int dim, int spacedim>
  void DGSpace<dim, spacedim>::initialize_vector(VectorType &owned) const
  {
    owned.reinit(owned_dofs, communicator);
  }

  template <int dim, int spacedim>
  void DGSpace<dim, spacedim>::initialize_ghosted_vector(VectorType &ghosted) const
  {
    ghosted.reinit(owned_dofs, relevant_dofs, communicator);
  }

  template <int dim, int spacedim>
  void DGSpace<dim, spacedim>::extend(const VectorType &owned, const VectorType &ghosted,
                            std::vector<double> &extended) const
  {
    const std::size_t n_owned = owned_dofs.n_elements();
    extended.resize(n_owned + ghost_dof_indices.size());
    std::copy(owned.begin(), owned.begin() + n_owned, extended.begin());
    for (std::size_t i = 0; i < ghost_dof_indices.size(); ++i)
      extended[n_owned + i] = ghosted(ghost_dof_indices[i]);
  }

  template class DGSpace<1>;
  template class DGSpace<2>;
  template class DGSpace<3>;
  template class DGSpace<2, 3>;
} // namespace tpde
