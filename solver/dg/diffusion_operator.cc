#include "dg/diffusion_operator.h"

#include <deal.II/base/mpi.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/full_matrix.h>
#include <deal.II/lac/solver_cg.h>
#include <deal.II/lac/solver_control.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace tpde
{
  namespace
  {
    template <int dim, int spacedim>
    using Cell = typename DGSpace<dim, spacedim>::CellIterator;

    /// One side of a face: its cell, face and subface (-1: the whole face).
    template <int dim, int spacedim>
    struct Side
    {
      Cell<dim, spacedim> cell;
      unsigned int        face    = 0;
      int                 subface = -1;
    };

    /// The neighbour sides across face f of `cell` (several on a face with
    /// finer neighbours, the matching end cell across the circle's periodic
    /// face, none on a zero-flux boundary).
    template <int dim, int spacedim>
    std::vector<std::pair<Side<dim, spacedim>, Side<dim, spacedim>>>
    face_pairs(const Cell<dim, spacedim> &cell, unsigned int f, const DGSpace<dim, spacedim> &space)
    {
      using S = Side<dim, spacedim>;
      std::vector<std::pair<S, S>> pairs;
      if (cell->at_boundary(f))
        {
          if (!space.periodic())
            return pairs; // homogeneous Neumann: nothing crosses
          // 1D chart: face 1 at 2 pi meets face 0 at 0 (dg_space.cc, add_periodic_face).
          auto end = space.dof_handler.begin(0);
          if (f == 1)
            while (end->has_children())
              end = end->child(0);
          else
            {
              for (auto c = space.dof_handler.begin(0); c != space.dof_handler.end(0); ++c)
                end = c; // the coarse cell at 2 pi
              while (end->has_children())
                end = end->child(1);
            }
          pairs.push_back({S{cell, f, -1}, S{end, 1 - f, -1}});
          return pairs;
        }
      if constexpr (dim == 1)
        {
          auto nb = cell->neighbor(f);
          while (nb->has_children())
            nb = nb->child(1 - f);
          pairs.push_back({S{cell, f, -1}, S{nb, 1 - f, -1}});
        }
      else if (cell->neighbor_is_coarser(f))
        {
          const auto nf = cell->neighbor_of_coarser_neighbor(f);
          pairs.push_back({S{cell, f, -1}, S{cell->neighbor(f), nf.first, int(nf.second)}});
        }
      else if (cell->face(f)->has_children())
        for (unsigned int sf = 0; sf < cell->face(f)->n_children(); ++sf)
          {
            const auto child = cell->neighbor_child_on_subface(f, sf);
            for (unsigned int cf = 0; cf < child->n_faces(); ++cf)
              if (!child->at_boundary(cf) && child->neighbor_is_coarser(cf) && child->neighbor(cf) == cell)
                pairs.push_back({S{cell, f, int(sf)}, S{child, cf, -1}});
          }
      else
        pairs.push_back({S{cell, f, -1}, S{cell->neighbor(f), cell->neighbor_of_neighbor(f), -1}});
      return pairs;
    }

    template <int dim, int spacedim>
    bool is_canonical(const Side<dim, spacedim> &a, const Side<dim, spacedim> &b)
    {
      // The finer side (whole face against a subface) owns a hanging face; else the smaller CellId.
      if (a.subface != b.subface)
        return a.subface < 0;
      if (a.cell->id() != b.cell->id())
        return a.cell->id() < b.cell->id();
      return a.face > b.face; // a single cell around the circle
    }

    /// Evaluation of a side's shape functions on a face (whole or subface).
    template <int dim, int spacedim>
    struct FaceEvaluator
    {
      FaceEvaluator(const DGSpace<dim, spacedim> &space, const dealii::Quadrature<dim - 1> &quadrature,
                    dealii::UpdateFlags flags)
        : whole(space.mapping, space.fe, quadrature, flags)
        , sub(space.mapping, space.fe, quadrature, flags)
      {}
      const dealii::FEValuesBase<dim, spacedim> &reinit(const Side<dim, spacedim> &s)
      {
        if (s.subface < 0 || dim == 1)
          {
            whole.reinit(s.cell, s.face);
            return whole;
          }
        sub.reinit(s.cell, s.face, s.subface);
        return sub;
      }
      dealii::FEFaceValues<dim, spacedim>    whole;
      dealii::FESubfaceValues<dim, spacedim> sub;
    };
  } // namespace

  template <int dim, int spacedim>
  DiffusionOperator<dim, spacedim>::DiffusionOperator(const DGSpace<dim, spacedim> &space, double diffusion)
    : space(space)
    , diffusion(diffusion)
  {}

  template <int dim, int spacedim>
  void DiffusionOperator<dim, spacedim>::setup()
  {
    const auto &dofs = space.dof_handler;
    dealii::DynamicSparsityPattern pattern(dofs.n_dofs(), dofs.n_dofs(), space.owned_dofs);
    const unsigned int n = space.n_nodes();
    std::vector<dealii::types::global_dof_index> own(n), other(n);
    for (const auto &cell : space.owned_cells())
      {
        cell->get_dof_indices(own);
        for (auto i : own)
          pattern.add_entries(i, own.begin(), own.end());
        for (unsigned int f = 0; f < cell->n_faces(); ++f)
          for (const auto &pair : face_pairs(cell, f, space))
            {
              pair.second.cell->get_dof_indices(other);
              for (auto i : own)
                pattern.add_entries(i, other.begin(), other.end());
            }
      }
    stiffness.reinit(space.owned_dofs, space.owned_dofs, pattern, space.communicator);
    space.initialize_vector(mass_diagonal);
    space.initialize_vector(rhs);
    space.initialize_vector(scratch);
    for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
      for (unsigned int q = 0; q < n; ++q)
        mass_diagonal[space.global_dof(k, q)] = space.node_weight(k, q);
    mass_diagonal.compress(dealii::VectorOperation::insert);
    for (const auto &cell : space.owned_cells())
      assemble_cell_rows(cell);
    stiffness.compress(dealii::VectorOperation::add);
    system_coefficient = -1;
    amg_coefficient    = -1;
  }

  template <int dim, int spacedim>
  void DiffusionOperator<dim, spacedim>::assemble_cell_rows(const typename DGSpace<dim, spacedim>::CellIterator &cell)
  {
    using namespace dealii;
    const unsigned int      n = space.n_nodes(), p = space.degree();
    const QGauss<dim>       quadrature(p + 1);
    const QGauss<dim - 1>   face_quadrature(p + 1);
    const UpdateFlags       flags = update_values | update_gradients | update_JxW_values | update_quadrature_points;
    FEValues<dim, spacedim> values(space.mapping, space.fe, quadrature, flags);
    FaceEvaluator<dim, spacedim> mine(space, face_quadrature, flags | update_normal_vectors);
    FaceEvaluator<dim, spacedim> theirs(space, face_quadrature, flags | update_normal_vectors);
    FaceEvaluator<dim, spacedim> whole_face(space, face_quadrature, update_JxW_values);
    FEValues<dim, spacedim>      cell_measure(space.mapping, space.fe, quadrature, update_JxW_values);
    // |whole face| / |cell| of a side: the inverse length of the penalty.
    auto inverse_length = [&](const Side<dim, spacedim> &s) {
      cell_measure.reinit(s.cell);
      const auto &fv     = whole_face.reinit(Side<dim, spacedim>{s.cell, s.face, -1});
      double      volume = 0, area = 0;
      for (unsigned int q = 0; q < quadrature.size(); ++q)
        volume += cell_measure.JxW(q);
      for (unsigned int q = 0; q < face_quadrature.size(); ++q)
        area += fv.JxW(q);
      return area / volume;
    };

    std::vector<types::global_dof_index> own(n), other(n);
    cell->get_dof_indices(own);
    FullMatrix<double> a(n, n), b(n, n);
    values.reinit(cell);
    for (unsigned int q = 0; q < quadrature.size(); ++q)
      for (unsigned int i = 0; i < n; ++i)
        for (unsigned int j = 0; j < n; ++j)
          a(i, j) += values.shape_grad(i, q) * values.shape_grad(j, q) * values.JxW(q);

    const unsigned int nq = face_quadrature.size();
    std::vector<unsigned int> match(nq);
    for (unsigned int f = 0; f < cell->n_faces(); ++f)
      for (const auto &[self, nb] : face_pairs(cell, f, space))
        {
          const bool canonical = is_canonical(self, nb);
          auto        self_side = self, nb_side = nb;
          const dealii::FEValuesBase<dim, spacedim> *sp = &mine.reinit(self_side), *op = &theirs.reinit(nb_side);
          // A surface mesh may number a hanging face's subfaces the other way
          // from one side: take the subface whose centre is the other side's.
          if constexpr (dim > 1)
            if (self.subface >= 0 || nb.subface >= 0)
            {
              auto &sub_side = self.subface >= 0 ? self_side : nb_side;
              auto &evaluator = self.subface >= 0 ? mine : theirs;
              const auto &fixed = self.subface >= 0 ? *op : *sp;
              auto centre = [nq = face_quadrature.size()](const dealii::FEValuesBase<dim, spacedim> &v) {
                dealii::Point<spacedim> c;
                for (unsigned int q = 0; q < nq; ++q)
                  c += v.quadrature_point(q) / double(nq);
                return c;
              };
              const auto target = centre(fixed);
              int        best = sub_side.subface;
              double     best_distance = std::numeric_limits<double>::max();
              for (unsigned int sf = 0; sf < sub_side.cell->face(sub_side.face)->n_children(); ++sf)
                {
                  sub_side.subface = int(sf);
                  const double d   = centre(evaluator.reinit(sub_side)).distance(target);
                  if (d < best_distance)
                    best_distance = d, best = int(sf);
                }
              sub_side.subface = best;
              (self.subface >= 0 ? sp : op) = &evaluator.reinit(sub_side);
            }
          const auto &s = *sp;
          const auto &o = *op;
          // The canonical side's points, weights and normal serve both sides'
          // rows, so the form is symmetric and 1^T K = 0 exactly.
          const auto &g = canonical ? s : o;
          for (unsigned int q = 0; q < nq; ++q)
            {
              // The other side's point nearest to point q (orientations may differ on surfaces).
              const auto &from = canonical ? o : s;
              const auto &to   = canonical ? s : o;
              unsigned int best = 0;
              for (unsigned int r = 1; r < nq; ++r)
                if (to.quadrature_point(q).distance(from.quadrature_point(r)) <
                    to.quadrature_point(q).distance(from.quadrature_point(best)))
                  best = r;
              match[q] = space.periodic() ? q : best; // 1D: one point
            }
          const double sigma =
            2. * (p + 1) * (p + 1) * std::max(inverse_length(self), inverse_length(nb));
          nb.cell->get_dof_indices(other);
          b = 0;
          for (unsigned int q = 0; q < nq; ++q)
            {
              // canonical point q; the self side at qs, the neighbour at qo
              const unsigned int qs = canonical ? q : match[q];
              const unsigned int qo = canonical ? match[q] : q;
              const auto normal = (canonical ? 1. : -1.) * g.normal_vector(q);
              const double w = g.JxW(q);
              for (unsigned int i = 0; i < n; ++i)
                {
                  const double vi = s.shape_value(i, qs), dvi = s.shape_grad(i, qs) * normal;
                  for (unsigned int j = 0; j < n; ++j)
                    {
                      const double uj = s.shape_value(j, qs), duj = s.shape_grad(j, qs) * normal;
                      const double oj = o.shape_value(j, qo), doj = o.shape_grad(j, qo) * normal;
                      a(i, j) += w * (-0.5 * duj * vi - 0.5 * dvi * uj + sigma * vi * uj);
                      b(i, j) += w * (-0.5 * doj * vi + 0.5 * dvi * oj - sigma * vi * oj);
                    }
                }
            }
          stiffness.add(own, other, b);
        }
    stiffness.add(own, own, a);
  }

  template <int dim, int spacedim>
  void DiffusionOperator<dim, spacedim>::prepare_system(double c)
  {
    if (c == system_coefficient)
      return;
    system.copy_from(stiffness);
    system *= c;
    for (const auto i : space.owned_dofs)
      system.add(i, i, mass_diagonal[i]);
    system.compress(dealii::VectorOperation::add);
    system_coefficient = c;
  }

  template <int dim, int spacedim>
  typename DiffusionOperator<dim, spacedim>::Result DiffusionOperator<dim, spacedim>::advance(VectorType &u, double h)
  {
    Result       result;
    const double gamma = 1. - 1. / std::sqrt(2.);
    const double c     = gamma * h * diffusion;
    prepare_system(c);
    // The AMG of a nearby step is as good a preconditioner: rebuilt only after
    // a mesh change or when the step moved by more than 25%.
    if (amg_coefficient < 0 || std::abs(c - amg_coefficient) > 0.25 * amg_coefficient)
      {
        dealii::TrilinosWrappers::PreconditionAMG::AdditionalData data;
        data.elliptic              = true;
        data.higher_order_elements = space.degree() > 1;
        data.smoother_sweeps       = 2;
        amg.initialize(system, data);
        amg_coefficient = c;
        result.rebuilt  = true;
      }
    const double mass0 = u * mass_diagonal;
    auto solve = [&](VectorType &x) {
      // 1e-14: runs on different rank counts (other AMG aggregates) agree to
      // ~1e-13; a solve that stalls above it but below 1e-12 is accepted.
      const double                 norm = rhs.l2_norm();
      dealii::SolverControl        control(200, 1e-14 * norm, false, false);
      dealii::SolverCG<VectorType> cg(control);
      try
        {
          cg.solve(system, x, rhs, amg);
        }
      catch (const dealii::SolverControl::NoConvergence &e)
        {
          if (!(e.last_residual <= 1e-12 * norm))
            throw std::runtime_error("the diffusion solve (CG + AMG) did not converge: relative residual " +
                                     std::to_string(e.last_residual / norm) + " after " +
                                     std::to_string(e.last_step) + " iterations");
        }
      result.iterations += control.last_step();
    };
    // Stage 1: (M + c K) U1 = M u0.
    VectorType u0 = u;
    rhs = u0;
    rhs.scale(mass_diagonal);
    solve(u);
    // Stage 2: (M + c K) U2 = M u0 - (1 - gamma) h D K U1; u1 = U2 (stiffly accurate).
    stiffness.vmult(scratch, u);
    rhs = u0;
    rhs.scale(mass_diagonal);
    rhs.add(-(1. - gamma) * h * diffusion, scratch);
    solve(u);
    // The exact scheme keeps mass (1^T K = 0); remove the solver's residual
    // share (~1e-13 relative) by a scaling, which keeps positivity.
    const double mass1 = u * mass_diagonal;
    if (mass1 != 0)
      u *= mass0 / mass1;
    return result;
  }

  template class DiffusionOperator<1>;
  template class DiffusionOperator<2>;
  template class DiffusionOperator<3>;
  template class DiffusionOperator<2, 3>;
} // namespace tpde
