#include "limiter/positivity_limiter.h"

#include "dg/cell_chunks.h"

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace tpde
{
  namespace
  {
    /// Frozen coordinate 0 (masked attention): every line of nodes across it
    /// (fixed s-node a, nodes q = a + m b) is its own transport problem in x
    /// with its own mass, the slice's. Zhang-Shu per line: scale the line
    /// towards its mean so that the density is above the floor at the check
    /// points on the line (where densities are used: nodes and x-face
    /// points). Returns the lowest value there; `min_line_mean` gets the
    /// smallest line mean (a negative one means the step was too large).
    template <int dim, int spacedim>
    double limit_node_lines(const DGSpace<dim, spacedim> &space, double *u, const double *w, bool apply,
                            double &min_line_mean)
    {
      const unsigned int  n = space.n_nodes(), m = space.degree() + 1;
      const double       *P = space.check_matrix();
      std::vector<double> value(space.n_check_points());
      const auto          measure = [&]() {
        for (unsigned int c = 0; c < space.n_check_points(); ++c)
          {
            value[c] = 0;
            if (space.check_line(c) >= 0)
              for (unsigned int i = 0; i < n; ++i)
                value[c] += P[c * n + i] * u[i];
          }
      };
      measure();
      for (unsigned int a = 0; a < m; ++a)
        {
          double mass = 0, volume = 0, lowest = std::numeric_limits<double>::max();
          for (unsigned int q = a; q < n; q += m)
            {
              mass += w[q] * u[q];
              volume += w[q];
            }
          for (unsigned int c = 0; c < space.n_check_points(); ++c)
            if (space.check_line(c) == static_cast<int>(a))
              lowest = std::min(lowest, value[c]);
          const double mean  = mass / volume;
          const double floor = 1e-14 * std::max(mean, 0.);
          min_line_mean      = std::min(min_line_mean, mean);
          if (apply && lowest < floor)
            {
              const double theta = mean > 0 ? (mean - floor) / (mean - lowest) : 0.;
              for (unsigned int q = a; q < n; q += m)
                u[q] = mean + theta * (u[q] - mean);
            }
        }
      measure(); // again rather than trusting the algebra (round-off)
      double lowest = std::numeric_limits<double>::max();
      for (unsigned int c = 0; c < space.n_check_points(); ++c)
        if (space.check_line(c) >= 0)
          lowest = std::min(lowest, value[c]);
      return lowest;
    }

    /// Global moments up to order two: 1, x_c - centre_c, and the products
    /// (x_i - centre_i)(x_j - centre_j) for i <= j.
    template <int dim>
    constexpr unsigned int n_moments = 1 + dim + dim * (dim + 1) / 2;

    template <int dim>
    using Moments = std::array<double, n_moments<dim>>; // dim: of the points (spacedim)

    template <int dim>
    void moment_basis(const double *x, const double *centre, double *phi)
    {
      phi[0]         = 1;
      unsigned int k = 1 + dim;
      for (unsigned int i = 0; i < dim; ++i)
        {
          phi[1 + i] = x[i] - centre[i];
          for (unsigned int j = 0; j <= i; ++j)
            phi[k++] = (x[i] - centre[i]) * (x[j] - centre[j]);
        }
    }

    /// sum over the owned cells (all ranks) of int phi_a rho, by the nodal
    /// (Gauss) quadrature, which is exact for these polynomials times rho_h
    /// on affine cells.
    template <int dim, int spacedim>
    Moments<spacedim> global_moments(const DGSpace<dim, spacedim> &space, const double *owned_values, const double *centre)
    {
      const unsigned int n = space.n_nodes();
      Moments<spacedim>  sum{};
      // In the serial order: the restoration corrects the difference of
      // two such sums, where the last bits show (1e-12 in err_l1).
      const auto total = serial_order_sum(space.n_owned_cells(), n, sum.size(), [&](std::size_t k, double *terms) {
        for (unsigned int q = 0; q < n; ++q)
          {
            double *phi = terms + q * n_moments<spacedim>;
            moment_basis<spacedim>(space.node_point(k, q), centre, phi);
            const double m = space.node_weight(k, q) * space.cell_values(owned_values, k)[q];
            for (unsigned int a = 0; a < n_moments<spacedim>; ++a)
              phi[a] *= m;
          }
      });
      std::copy(total.begin(), total.end(), sum.begin());
      dealii::Utilities::MPI::sum(dealii::ArrayView<const double>(sum.data(), sum.size()), space.communicator,
                                  dealii::ArrayView<double>(sum.data(), sum.size()));
      return sum;
    }

    /// Solves A c = b (m x m, row-major) by elimination with partial
    /// pivoting. Returns false if A is numerically singular (relative to its
    /// largest diagonal entry; A is a Gram matrix here).
    bool solve_small(std::vector<double> A, std::vector<double> &b)
    {
      const std::size_t m = b.size();
      double            diagonal = 0;
      for (std::size_t c = 0; c < m; ++c)
        diagonal = std::max(diagonal, std::abs(A[c * m + c]));
      for (std::size_t c = 0; c < m; ++c)
        {
          std::size_t pivot = c;
          for (std::size_t r = c + 1; r < m; ++r)
            if (std::abs(A[r * m + c]) > std::abs(A[pivot * m + c]))
              pivot = r;
          // Relative: a rank-deficient Gram matrix (too few cells) leaves
          // round-off pivots whose solution is noise.
          if (!(std::abs(A[pivot * m + c]) > 1e-12 * diagonal))
            return false;
          for (std::size_t j = 0; j < m; ++j)
            std::swap(A[c * m + j], A[pivot * m + j]);
          std::swap(b[c], b[pivot]);
          for (std::size_t r = c + 1; r < m; ++r)
            {
              const double f = A[r * m + c] / A[c * m + c];
              for (std::size_t j = c; j < m; ++j)
                A[r * m + j] -= f * A[c * m + j];
              b[r] -= f * b[c];
            }
        }
      for (std::size_t c = m; c-- > 0;)
        {
          for (std::size_t j = c + 1; j < m; ++j)
            b[c] -= A[c * m + j] * b[j];
          b[c] /= A[c * m + c];
        }
      return true;
    }

    /// The moment basis at cell k's nodes minus its rho-weighted cell mean,
    /// [q * m + a] (a = 0, the mass, is left as is).
    template <int dim, int spacedim>
    class CentredBasis
    {
    public:
      static constexpr unsigned int m = n_moments<spacedim>;

      CentredBasis(const DGSpace<dim, spacedim> &space, const double *centre)
        : space(space)
        , centre(centre)
        , phi(space.n_nodes() * m)
      {}

      /// For cell k with values u; false if the cell has no positive mass.
      bool compute(std::size_t k, const double *u)
      {
        const unsigned int n    = space.n_nodes();
        const double      *w    = space.node_weights(k);
        double             mass = 0;
        Moments<spacedim>  mean{};
        for (unsigned int q = 0; q < n; ++q)
          {
            moment_basis<spacedim>(space.node_point(k, q), centre, phi.data() + q * m);
            mass += w[q] * u[q];
            for (unsigned int a = 1; a < m; ++a)
              mean[a] += w[q] * u[q] * phi[q * m + a];
          }
        if (!(mass > 0))
          return false;
        for (unsigned int q = 0; q < n; ++q)
          for (unsigned int a = 1; a < m; ++a)
            phi[q * m + a] -= mean[a] / mass;
        return true;
      }

      /// The correction p = sum_a coefficient[a] phi_{a+1} at node q.
      double correction(const std::vector<double> &coefficient, unsigned int q) const
      {
        double p = 0;
        for (unsigned int a = 0; a + 1 < m; ++a)
          p += coefficient[a] * phi[q * m + 1 + a];
        return p;
      }

      /// The non-constant basis functions at node q (m - 1 values).
      const double *at(unsigned int q) const { return phi.data() + q * m + 1; }

    private:
      const DGSpace<dim, spacedim> &space;
      const double       *centre;
      std::vector<double> phi;
    };

    /// Only cells that carry mass are adjusted: p is quadratic, and the least
    /// change (weighted by rho) would otherwise make it largest in the far
    /// tail, where targets tilted towards it read their velocity.
    template <int dim, int spacedim>
    void exclude_light_cells(const DGSpace<dim, spacedim> &space, const double *owned_values, std::vector<char> &adjustable)
    {
      const unsigned int  n            = space.n_nodes();
      double              largest_mean = 0;
      std::vector<double> cell_mean(space.n_owned_cells());
      for_cell_chunks(space.n_owned_cells(), [&](std::size_t, std::size_t begin, std::size_t end) {
        for (std::size_t k = begin; k < end; ++k)
          {
            const double *u    = space.cell_values(owned_values, k);
            double        mass = 0, volume = 0;
            for (unsigned int q = 0; q < n; ++q)
              {
                mass += space.node_weight(k, q) * u[q];
                volume += space.node_weight(k, q);
              }
            cell_mean[k] = mass / volume;
          }
      });
      for (const double mean : cell_mean)
        largest_mean = std::max(largest_mean, mean);
      largest_mean = dealii::Utilities::MPI::max(largest_mean, space.communicator);
      for (std::size_t k = 0; k < space.n_owned_cells(); ++k)
        if (cell_mean[k] < 1e-4 * largest_mean)
          adjustable[k] = 0;
    }

    /// Gram matrix of the centred basis weighted by rho over the adjustable
    /// cells of all ranks, (m - 1) x (m - 1).
    template <int dim, int spacedim>
    std::vector<double> centred_gram(const DGSpace<dim, spacedim> &space, const double *owned_values,
                                     const std::vector<char> &adjustable, const double *centre)
    {
      constexpr unsigned int m    = n_moments<spacedim>;
      const unsigned int     n    = space.n_nodes();
      std::vector<double>    gram = sum_over_cell_chunks(
        space.n_owned_cells(), (m - 1) * (m - 1), [&](std::size_t begin, std::size_t end, double *partial) {
          CentredBasis<dim, spacedim> basis(space, centre);
          for (std::size_t k = begin; k < end; ++k)
            {
              const double *u = space.cell_values(owned_values, k);
              if (!adjustable[k] || !basis.compute(k, u))
                continue;
              for (unsigned int q = 0; q < n; ++q)
                {
                  const double  wu = space.node_weight(k, q) * u[q];
                  const double *f  = basis.at(q);
                  for (unsigned int a = 0; a + 1 < m; ++a)
                    for (unsigned int b = 0; b + 1 < m; ++b)
                      partial[a * (m - 1) + b] += wu * f[a] * f[b];
                }
            }
        });
      dealii::Utilities::MPI::sum(dealii::ArrayView<const double>(gram.data(), gram.size()), space.communicator,
                                  dealii::ArrayView<double>(gram.data(), gram.size()));
      return gram;
    }

    /// The largest |p| at a node of an adjustable cell, on all ranks.
    template <int dim, int spacedim>
    double largest_relative_change(const DGSpace<dim, spacedim> &space, const double *owned_values,
                                   const std::vector<char> &adjustable, const std::vector<double> &coefficient,
                                   const double *centre)
    {
      const auto largest = [](double a, double b) { return std::max(a, b); };
      const double largest_change = reduce_over_cell_chunks(
        space.n_owned_cells(), 0.,
        [&](std::size_t begin, std::size_t end, double &partial) {
          CentredBasis<dim, spacedim> basis(space, centre);
          for (std::size_t k = begin; k < end; ++k)
            if (adjustable[k] && basis.compute(k, space.cell_values(owned_values, k)))
              for (unsigned int q = 0; q < space.n_nodes(); ++q)
                partial = std::max(partial, std::abs(basis.correction(coefficient, q)));
        },
        largest);
      return dealii::Utilities::MPI::max(largest_change, space.communicator);
    }

    /// rho -> rho (1 + p) in owned cell k if adjustable, keeping its mass;
    /// below its floor at a check point (rows of P) the cell keeps its values
    /// and leaves the set (`saved`: n values of scratch).
    template <int dim, int spacedim>
    void apply_correction_in_cell(const DGSpace<dim, spacedim> &space, double *owned_values,
                                  std::vector<char> &adjustable, const std::vector<double> &coefficient,
                                  CentredBasis<dim, spacedim> &basis, const double *P, unsigned int nc,
                                  std::vector<double> &saved, std::size_t k)
    {
      const unsigned int n = space.n_nodes();
        {
          double *u = space.cell_values(owned_values, k);
          if (!adjustable[k] || !basis.compute(k, u))
            return;
          const double *w        = space.node_weights(k);
          double        old_mass = 0, new_mass = 0, volume = 0;
          for (unsigned int q = 0; q < n; ++q)
            {
              saved[q]       = u[q];
              const double p = basis.correction(coefficient, q);
              old_mass += w[q] * u[q];
              u[q] *= 1 + p;
              new_mass += w[q] * u[q];
              volume += w[q];
            }
          // The cell's mass is kept exactly; this removes the round-off.
          for (unsigned int q = 0; q < n; ++q)
            u[q] *= old_mass / new_mass;
          const double floor = 1e-14 * old_mass / volume;
          for (unsigned int c = 0; c < nc; ++c)
            {
              double v = 0;
              for (unsigned int i = 0; i < n; ++i)
                v += P[c * n + i] * u[i];
              if (!(v >= floor))
                {
                  std::copy(saved.begin(), saved.end(), u);
                  adjustable[k] = 0;
                  break;
                }
            }
        }
    }

    /// apply_correction_in_cell on every owned cell.
    template <int dim, int spacedim>
    void apply_correction(const DGSpace<dim, spacedim> &space, double *owned_values, std::vector<char> &adjustable,
                          const std::vector<double> &coefficient, const double *centre, const double *P,
                          unsigned int nc)
    {
      for_cell_chunks(space.n_owned_cells(), [&](std::size_t, std::size_t begin, std::size_t end) {
        CentredBasis<dim, spacedim> basis(space, centre);
        std::vector<double>         saved(space.n_nodes());
        for (std::size_t k = begin; k < end; ++k)
          apply_correction_in_cell(space, owned_values, adjustable, coefficient, basis, P, nc, saved, k);
      });
    }

    /// Restores the global first and second moments `target` after the
    /// cell-wise limiter, keeping every cell's mass: the density of the cells
    /// in `adjustable` (not limited, positive at all check points) becomes
    /// rho (1 + p(x) - pbar_K), p in the span of the non-constant moment basis
    /// and pbar_K its rho-weighted mean over cell K, with p solved from the
    /// moment deficit (a least-change correction, as kinetic codes restore
    /// momentum and energy after a positivity fix). A cell that would drop
    /// below its floor keeps its values and leaves the set; a second pass
    /// absorbs that and the round-off.
    /// Why: the cell-wise step keeps each cell's mass but moves mass within
    /// it. For Gaussian data at h ~ sigma (T6 on 32^2 Q2 cells) that
    /// grew the covariance error by 6e-4 per unit time, against 1e-5 without
    /// the limiter: the DG moment equations are exact for an affine velocity.
    template <int dim, int spacedim>
    void restore_moments(const DGSpace<dim, spacedim> &space, double *owned_values, const Moments<spacedim> &target,
                         const double *centre, std::vector<char> &adjustable, const double *P,
                         unsigned int nc)
    {
      constexpr unsigned int m          = n_moments<spacedim>; // basis index 0 (mass) is not corrected
      constexpr double       max_change = 5e-2;
      exclude_light_cells(space, owned_values, adjustable);
      double scale = 0;
      for (const double t : target)
        scale = std::max(scale, std::abs(t));
      double applied_change = 0; // the largest relative change at a node so far
      for (unsigned int pass = 0; pass < 2; ++pass)
        {
          const Moments<spacedim> now = global_moments(space, owned_values, centre);
          std::vector<double> deficit(m - 1);
          double              largest = 0;
          for (unsigned int a = 1; a < m; ++a)
            {
              deficit[a - 1] = target[a] - now[a];
              largest        = std::max(largest, std::abs(deficit[a - 1]));
            }
          if (!(largest > 1e-15 * scale))
            return;
          if (!solve_small(centred_gram(space, owned_values, adjustable, centre), deficit))
            return; // too few adjustable cells to fix the moments: leave them
          // At most a relative change of max_change anywhere: a larger one
          // (heavily under-resolved data, e.g. Q1 at h ~ sigma: 0.3) would
          // trade the density's shape for its moments; restore partially.
          // (3D T6 at h ~ sigma needs 0.03 per stage, Q2 in 2D 0.003.)
          const double largest_change = largest_relative_change(space, owned_values, adjustable, deficit, centre);
          const double budget         = (1 + max_change) / (1 + applied_change) - 1;
          if (!(budget > 0))
            return;
          if (largest_change > budget)
            for (double &c : deficit)
              c *= budget / largest_change;
          applied_change = (1 + applied_change) * (1 + std::min(largest_change, budget)) - 1;
          apply_correction(space, owned_values, adjustable, deficit, centre, P, nc);
        }
    }

    /// What the cell-wise step found in some cells.
    struct CellLimit
    {
      double       min_value = std::numeric_limits<double>::max(); // at the check points
      double       min_mean  = std::numeric_limits<double>::max(); // of cells (frozen s: and lines)
      double       max_mean  = 0;
      unsigned int n_limited = 0;
    };

    /// The cell-wise step in owned cell k (see positivity_limiter), folded
    /// into `found`; with keep_moments (`adjustable` not empty) whether the
    /// restoration may change the cell.
    template <int dim, int spacedim>
    void limit_cell(const DGSpace<dim, spacedim> &space, double *owned_values, bool apply, bool at_children_points,
                    const double *P, unsigned int nc, std::vector<char> &adjustable, std::size_t k, CellLimit &found)
    {
      const unsigned int n    = space.n_nodes();
      double            *u    = space.cell_values(owned_values, k);
      const double      *w    = space.node_weights(k);
      double             mass = 0, volume = 0;
      for (unsigned int q = 0; q < n; ++q)
        {
          mass += w[q] * u[q];
          volume += w[q];
        }
      const double mean = mass / volume;
      found.min_mean    = std::min(found.min_mean, mean);
      found.max_mean    = std::max(found.max_mean, mean);
      if (space.frozen_first_coordinate() && !at_children_points)
        {
          found.min_value = std::min(found.min_value, limit_node_lines(space, u, w, apply, found.min_mean));
          return;
        }
      const auto lowest_check_value = [&]() {
        double lowest = std::numeric_limits<double>::max();
        for (unsigned int c = 0; c < nc; ++c)
          {
            double v = 0;
            for (unsigned int i = 0; i < n; ++i)
              v += P[c * n + i] * u[i];
            lowest = std::min(lowest, v);
          }
        return lowest;
      };
      double       lowest  = lowest_check_value();
      const double floor   = 1e-14 * std::max(mean, 0.);
      const bool   limited = apply && lowest < floor;
      found.n_limited += limited ? 1 : 0;
      if (limited)
        {
          // A non-positive mean leaves no room: the cell becomes constant.
          const double theta = mean > 0 ? (mean - floor) / (mean - lowest) : 0.;
          for (unsigned int q = 0; q < n; ++q)
            u[q] = mean + theta * (u[q] - mean);
          lowest = lowest_check_value(); // again rather than trusting the algebra (round-off)
        }
      if (!adjustable.empty())
        {
          // The nodes weight the Gram matrix: they must be positive too
          // (the children's check points do not include them).
          bool positive = lowest > floor && !limited;
          for (unsigned int q = 0; q < n && positive; ++q)
            positive = u[q] > 0;
          adjustable[k] = positive;
        }
      found.min_value = std::min(found.min_value, lowest);
    }
  } // namespace

  template <int dim, int spacedim>
  LimiterResult positivity_limiter(const DGSpace<dim, spacedim> &space, double *owned_values, Limiting how,
                                   bool at_children_points)
  {
    const bool apply = how != Limiting::measure;
    // Masked attention: every slice keeps its own mass line by line, and
    // global moments over (s, x) are not what is compared.
    // On a surface the second moments are dependent (|x|^2 = 1 on S^2): no moments to keep.
    const bool keep_moments = how == Limiting::keep_moments && !space.frozen_first_coordinate() && spacedim == dim;
    double       centre[spacedim] = {};
    Moments<spacedim> before{};
    if (keep_moments)
      {
        const double zero[spacedim] = {};
        const auto   raw       = global_moments(space, owned_values, zero);
        for (unsigned int c = 0; c < spacedim; ++c)
          centre[c] = raw[0] > 0 ? raw[1 + c] / raw[0] : 0.;
        before = global_moments(space, owned_values, centre);
      }
    std::vector<char>  adjustable(keep_moments ? space.n_owned_cells() : 0);
    const unsigned int nc = space.n_check_points() *
                            (at_children_points ? dealii::GeometryInfo<dim>::max_children_per_cell : 1);
    const double      *P  = at_children_points ? space.children_check_matrix() : space.check_matrix();
    const CellLimit    all = reduce_over_cell_chunks(
      space.n_owned_cells(), CellLimit{},
      [&](std::size_t begin, std::size_t end, CellLimit &partial) {
        for (std::size_t k = begin; k < end; ++k)
          limit_cell(space, owned_values, apply, at_children_points, P, nc, adjustable, k, partial);
      },
      [](const CellLimit &x, const CellLimit &y) {
        return CellLimit{std::min(x.min_value, y.min_value), std::min(x.min_mean, y.min_mean),
                         std::max(x.max_mean, y.max_mean), x.n_limited + y.n_limited};
      });
    double min_value = all.min_value;
    // Nothing limited on any rank: the moments are untouched (one collective,
    // taken by all ranks alike).
    if (keep_moments && dealii::Utilities::MPI::max(all.n_limited, space.communicator) > 0)
      {
        restore_moments(space, owned_values, before, centre, adjustable, P, nc);
        const unsigned int n = space.n_nodes();
        min_value            = reduce_over_cell_chunks(
          space.n_owned_cells(), std::numeric_limits<double>::max(),
          [&](std::size_t begin, std::size_t end, double &partial) {
            for (std::size_t k = begin; k < end; ++k)
              {
                const double *u = space.cell_values(owned_values, k);
                for (unsigned int c = 0; c < nc; ++c)
                  {
                    double v = 0;
                    for (unsigned int i = 0; i < n; ++i)
                      v += P[c * n + i] * u[i];
                    partial = std::min(partial, v);
                  }
              }
          },
          [](double x, double y) { return std::min(x, y); });
      }
    const double min_mean = all.min_mean, max_mean = all.max_mean;
    LimiterResult result;
    result.min_check_value = dealii::Utilities::MPI::min(min_value, space.communicator);
    const double global_max_mean = dealii::Utilities::MPI::max(max_mean, space.communicator);
    result.min_cell_mean =
      dealii::Utilities::MPI::min(min_mean, space.communicator) / std::max(global_max_mean, 1e-300);
    return result;
  }

  template <int dim>
  void impose_moments(const DGSpace<dim> &space, double *owned_values, const double *mean, const double *covariance)
  {
    const double zero[dim] = {};
    const auto   raw       = global_moments(space, owned_values, zero);
    if (!(raw[0] > 0))
      return;
    double centre[dim];
    for (unsigned int c = 0; c < dim; ++c)
      centre[c] = raw[1 + c] / raw[0];
    // The target in moment_basis's layout about the current mean, same mass.
    Moments<dim> target{};
    target[0]      = raw[0];
    unsigned int k = 1 + dim;
    for (unsigned int i = 0; i < dim; ++i)
      {
        target[1 + i] = raw[0] * (mean[i] - centre[i]);
        for (unsigned int j = 0; j <= i; ++j)
          target[k++] = raw[0] * (covariance[i * dim + j] + (mean[i] - centre[i]) * (mean[j] - centre[j]));
      }
    std::vector<char> adjustable(space.n_owned_cells(), 1);
    restore_moments(space, owned_values, target, centre, adjustable, space.check_matrix(), space.n_check_points());
  }

  template void impose_moments<1>(const DGSpace<1> &, double *, const double *, const double *);
  template void impose_moments<2>(const DGSpace<2> &, double *, const double *, const double *);
  template void impose_moments<3>(const DGSpace<3> &, double *, const double *, const double *);

  template LimiterResult positivity_limiter<1>(const DGSpace<1> &, double *, Limiting, bool);
  template LimiterResult positivity_limiter<2>(const DGSpace<2> &, double *, Limiting, bool);
  template LimiterResult positivity_limiter<3>(const DGSpace<3> &, double *, Limiting, bool);
  template LimiterResult positivity_limiter<2, 3>(const DGSpace<2, 3> &, double *, Limiting, bool);
} // namespace tpde
