#include "postprocess/comparison.h"

#include <vtkCellType.h>
#include <vtkDataArray.h>
#include <vtkGenericCell.h>
#include <vtkIdList.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkStaticCellLocator.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace tpde::postprocess
{
  namespace
  {
    /// n-point Gauss-Legendre rule on [0, 1] (Newton on the Legendre recurrence).
    std::vector<std::pair<double, double>> gauss_rule_unit(int n)
    {
      std::vector<std::pair<double, double>> rule(n);
      for (int i = 0; i < n; ++i)
        {
          double x = std::cos(M_PI * (i + 0.75) / (n + 0.5)), slope = 1;
          for (int iteration = 0; iteration < 100; ++iteration)
            {
              double p0 = 1, p1 = x;
              for (int k = 2; k <= n; ++k)
                {
                  const double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
                  p0              = p1;
                  p1              = p2;
                }
              slope          = n * (x * p1 - p0) / (x * x - 1);
              const double dx = p1 / slope;
              x -= dx;
              if (std::abs(dx) < 1e-16)
                break;
            }
          rule[i] = {0.5 * (1 - x), 1. / ((1 - x * x) * slope * slope)};
        }
      return rule;
    }

    bool supported_cell(int type, unsigned int dim)
    {
      switch (dim)
        {
          case 1:
            return type == VTK_LINE || type == VTK_LAGRANGE_CURVE;
          case 2:
            return type == VTK_QUAD || type == VTK_LAGRANGE_QUADRILATERAL;
          default:
            return type == VTK_HEXAHEDRON || type == VTK_LAGRANGE_HEXAHEDRON;
        }
    }

    /// Sorted (value, weight) pairs with weights normalised to 1.
    std::vector<std::pair<double, double>> sorted_measure(const std::vector<double> &values,
                                                          const std::vector<double> &weights)
    {
      if (values.size() != weights.size() || values.empty())
        throw std::runtime_error("a 1D measure needs as many weights as values, and at least one");
      double total = 0;
      for (const double w : weights)
        {
          if (!(w >= 0) || !std::isfinite(w))
            throw std::runtime_error("measure weights must be finite and non-negative");
          total += w;
        }
      if (!(total > 0))
        throw std::runtime_error("a measure has no mass");
      std::vector<std::pair<double, double>> measure(values.size());
      for (std::size_t i = 0; i < values.size(); ++i)
        measure[i] = {values[i], weights[i] / total};
      std::sort(measure.begin(), measure.end());
      return measure;
    }

    /// Coefficients c_k of sum_k c_k s^k through (s_i, v_i) (small Vandermonde,
    /// partial pivoting; at most 5 nodes for Lagrange cells of order <= 4).
    std::vector<double> monomial_coefficients(const std::vector<double> &s, const std::vector<double> &v)
    {
      const std::size_t   n = s.size();
      std::vector<double> a(n * (n + 1));
      for (std::size_t i = 0; i < n; ++i)
        {
          double power = 1;
          for (std::size_t k = 0; k < n; ++k, power *= s[i])
            a[i * (n + 1) + k] = power;
          a[i * (n + 1) + n] = v[i];
        }
      for (std::size_t col = 0; col < n; ++col)
        {
          std::size_t pivot = col;
          for (std::size_t r = col + 1; r < n; ++r)
            if (std::abs(a[r * (n + 1) + col]) > std::abs(a[pivot * (n + 1) + col]))
              pivot = r;
          for (std::size_t k = 0; k <= n; ++k)
            std::swap(a[col * (n + 1) + k], a[pivot * (n + 1) + k]);
          for (std::size_t r = 0; r < n; ++r)
            if (r != col)
              {
                const double factor = a[r * (n + 1) + col] / a[col * (n + 1) + col];
                for (std::size_t k = col; k <= n; ++k)
                  a[r * (n + 1) + k] -= factor * a[col * (n + 1) + k];
              }
        }
      std::vector<double> c(n);
      for (std::size_t k = 0; k < n; ++k)
        c[k] = a[k * (n + 1) + n] / a[k * (n + 1) + k];
      return c;
    }
  } // namespace

  WeightedCloud uniform_cloud(unsigned int dim, std::vector<double> points)
  {
    WeightedCloud cloud;
    cloud.dim    = dim;
    cloud.points = std::move(points);
    const std::size_t n = cloud.points.size() / dim;
    if (n == 0 || cloud.points.size() != n * dim)
      throw std::runtime_error("a token cloud needs N x " + std::to_string(dim) + " coordinates with N >= 1");
    cloud.weights.assign(n, 1. / double(n));
    return cloud;
  }

  WeightedCloud cloud_from_polydata(vtkPolyData *tokens, unsigned int dim)
  {
    if (tokens == nullptr || tokens->GetNumberOfPoints() == 0)
      throw std::runtime_error("the particle file has no points");
    std::vector<double> points;
    for (vtkIdType i = 0; i < tokens->GetNumberOfPoints(); ++i)
      {
        double x[3];
        tokens->GetPoint(i, x);
        points.insert(points.end(), x, x + dim);
      }
    return uniform_cloud(dim, std::move(points));
  }

  MomentSet moments(const WeightedCloud &cloud)
  {
    const unsigned int dim = cloud.dim;
    MomentSet          m{std::vector<double>(dim, 0.), std::vector<double>(dim * dim, 0.)};
    double             total = 0;
    for (std::size_t i = 0; i < cloud.size(); ++i)
      {
        total += cloud.weights[i];
        for (unsigned int a = 0; a < dim; ++a)
          m.mean[a] += cloud.weights[i] * cloud.points[i * dim + a];
      }
    for (double &value : m.mean)
      value /= total;
    for (std::size_t i = 0; i < cloud.size(); ++i)
      for (unsigned int a = 0; a < dim; ++a)
        for (unsigned int b = 0; b < dim; ++b)
          m.covariance[a * dim + b] += cloud.weights[i] * (cloud.points[i * dim + a] - m.mean[a]) *
                                       (cloud.points[i * dim + b] - m.mean[b]);
    for (double &value : m.covariance)
      value /= total;
    return m;
  }

  std::vector<std::array<double, 3>> slicing_directions(unsigned int dim, unsigned int count)
  {
    std::vector<std::array<double, 3>> directions;
    if (dim == 1)
      return {{1., 0., 0.}};
    const double golden_angle = M_PI * (3. - std::sqrt(5.));
    for (unsigned int k = 0; k < count; ++k)
      if (dim == 2)
        directions.push_back({std::cos(M_PI * k / count), std::sin(M_PI * k / count), 0.});
      else
        {
          const double z = 1. - (k + 0.5) / count, r = std::sqrt(1. - z * z);
          directions.push_back({r * std::cos(golden_angle * k), r * std::sin(golden_angle * k), z});
        }
    return directions;
  }

  double w1_1d(std::vector<double> a, std::vector<double> a_weights, std::vector<double> b,
               std::vector<double> b_weights)
  {
    // Integral of |F_a - F_b| over the merged atoms.
    const auto ma = sorted_measure(a, a_weights), mb = sorted_measure(b, b_weights);
    std::size_t i = 0, j = 0;
    double      fa = 0, fb = 0, x = std::min(ma[0].first, mb[0].first), w1 = 0;
    while (i < ma.size() || j < mb.size())
      {
        const double next = std::min(i < ma.size() ? ma[i].first : INFINITY, j < mb.size() ? mb[j].first : INFINITY);
        w1 += std::abs(fa - fb) * (next - x);
        x = next;
        for (; i < ma.size() && ma[i].first == x; ++i)
          fa += ma[i].second;
        for (; j < mb.size() && mb[j].first == x; ++j)
          fb += mb[j].second;
      }
    return w1;
  }

  double w2_1d(std::vector<double> a, std::vector<double> a_weights, std::vector<double> b,
               std::vector<double> b_weights)
  {
    // Monotone (quantile) coupling: optimal in 1D.
    const auto  ma = sorted_measure(a, a_weights), mb = sorted_measure(b, b_weights);
    std::size_t i = 0, j = 0;
    double      left_a = ma[0].second, left_b = mb[0].second, sum = 0;
    while (i < ma.size() && j < mb.size())
      {
        const double moved = std::min(left_a, left_b);
        const double gap   = ma[i].first - mb[j].first;
        sum += moved * gap * gap;
        left_a -= moved;
        left_b -= moved;
        if (left_a <= 0 && ++i < ma.size())
          left_a = ma[i].second;
        if (left_b <= 0 && ++j < mb.size())
          left_b = mb[j].second;
        if (left_a <= 0 && left_b <= 0 && (i >= ma.size() || j >= mb.size()))
          break;
      }
    return std::sqrt(sum);
  }

  double w1_circle(std::vector<double> a, std::vector<double> a_weights, std::vector<double> b,
                   std::vector<double> b_weights)
  {
    const auto ma = sorted_measure(a, a_weights), mb = sorted_measure(b, b_weights);
    for (const auto *m : {&ma, &mb})
      if (!(m->front().first >= 0 && m->back().first < 2 * M_PI))
        throw std::runtime_error("W1 on the circle: an angle lies outside [0, 2 pi)");
    // D = F_a - F_b is constant between atoms (0 before the first and after
    // the last): pieces (value, length), then the length-weighted median.
    std::vector<std::pair<double, double>> pieces;
    std::size_t                            i = 0, j = 0;
    double                                 fa = 0, fb = 0, x = 0;
    while (i < ma.size() || j < mb.size())
      {
        const double next = std::min(i < ma.size() ? ma[i].first : INFINITY, j < mb.size() ? mb[j].first : INFINITY);
        pieces.emplace_back(fa - fb, next - x);
        x = next;
        for (; i < ma.size() && ma[i].first == x; ++i)
          fa += ma[i].second;
        for (; j < mb.size() && mb[j].first == x; ++j)
          fb += mb[j].second;
      }
    pieces.emplace_back(fa - fb, 2 * M_PI - x);
    std::vector<std::pair<double, double>> by_value = pieces;
    std::sort(by_value.begin(), by_value.end());
    double median = by_value.back().first, length = 0;
    for (const auto &[value, piece] : by_value)
      if ((length += piece) >= M_PI)
        {
          median = value;
          break;
        }
    double w1 = 0;
    for (const auto &[value, piece] : pieces)
      w1 += std::abs(value - median) * piece;
    return w1;
  }

  double sliced_w2(const WeightedCloud &a, const WeightedCloud &b, const std::vector<std::array<double, 3>> &directions)
  {
    if (a.dim != b.dim)
      throw std::runtime_error("sliced W2: the two measures have different dimensions");
    const unsigned int dim = a.dim;
    const auto project = [dim](const WeightedCloud &cloud, const std::array<double, 3> &theta) {
      std::vector<double> values(cloud.size());
      for (std::size_t i = 0; i < cloud.size(); ++i)
        {
          double s = 0;
          for (unsigned int c = 0; c < dim; ++c)
            s += theta[c] * cloud.points[i * dim + c];
          values[i] = s;
        }
      return values;
    };
    double sum = 0;
    for (const auto &theta : directions)
      {
        const double w2 = w2_1d(project(a, theta), a.weights, project(b, theta), b.weights);
        sum += w2 * w2;
      }
    return std::sqrt(sum / double(directions.size()));
  }

  MeshDensity::MeshDensity(vtkUnstructuredGrid *grid, unsigned int dim, const std::string &field)
    : grid(grid)
    , dim(dim)
    , field(field)
  {
    if (grid == nullptr || grid->GetNumberOfCells() == 0)
      throw std::runtime_error("the grid has no cells");
    vtkDataArray *values = grid->GetPointData()->GetArray(field.c_str());
    if (values == nullptr || values->GetNumberOfComponents() != 1)
      throw std::runtime_error("the grid has no scalar point array '" + field + "'");
    const vtkIdType n = grid->GetCell(0)->GetNumberOfPoints();
    order             = static_cast<int>(std::lround(std::pow(double(n), 1. / dim))) - 1;
    for (const QuadraturePoint &q : quadrature(1))
      total_mass += q.density * q.JxW;
    if (!(total_mass > 0))
      throw std::runtime_error("the grid density '" + field + "' has no positive mass");
  }

  std::vector<MeshDensity::QuadraturePoint> MeshDensity::quadrature(unsigned int subdivisions) const
  {
    const auto         rule1d   = gauss_rule_unit(order + 2);
    const unsigned int q1       = static_cast<unsigned int>(rule1d.size()) * subdivisions;
    unsigned int       per_cell = 1;
    for (unsigned int c = 0; c < dim; ++c)
      per_cell *= q1;
    // Reference points and weights of the composite tensor rule on [0, 1]^dim.
    std::vector<std::array<double, 3>> reference(per_cell, {0., 0., 0.});
    std::vector<double>                weights(per_cell, 1.);
    for (unsigned int l = 0; l < per_cell; ++l)
      for (unsigned int c = 0, rest = l; c < dim; ++c, rest /= q1)
        {
          const unsigned int k = rest % q1;
          reference[l][c]      = (k / rule1d.size() + rule1d[k % rule1d.size()].first) / subdivisions;
          weights[l] *= rule1d[k % rule1d.size()].second / subdivisions;
        }
    // Five-point central differences of the cell map along each parametric
    // direction, f'(r) = (f(r - 2h) - 8 f(r - h) + 8 f(r + h) - f(r + 2h)) / (12 h):
    // exact for polynomials of degree <= 4 in that direction, so for the
    // straight-sided cells and for the curved Lagrange cells (order <= 4) of
    // an S^2 surface that TPDE writes; a large h keeps the rounding at ~1e-15.
    const double step = 0.125;
    // Shape functions depend only on the cell type and its number of points:
    // tabulate them once (values, and the difference quotients for the
    // Jacobian) from the first cell of each kind.
    struct ShapeTable
    {
      int                 type = -1;
      vtkIdType           n    = 0;
      std::vector<double> value;      // [l * n + i]
      std::vector<double> derivative; // [(l * dim + c) * n + i]
    };
    std::vector<ShapeTable> tables;
    const auto table_for = [&](vtkCell *cell) -> const ShapeTable & {
      for (const auto &t : tables)
        if (t.type == cell->GetCellType() && t.n == cell->GetNumberOfPoints())
          return t;
      ShapeTable t{cell->GetCellType(), cell->GetNumberOfPoints(), {}, {}};
      t.value.resize(per_cell * t.n);
      t.derivative.resize(std::size_t(per_cell) * dim * t.n);
      std::vector<double> shifted(t.n);
      const double        offsets[4] = {-2, -1, 1, 2}, factors[4] = {1, -8, 8, -1};
      for (unsigned int l = 0; l < per_cell; ++l)
        {
          double r[3] = {reference[l][0], reference[l][1], reference[l][2]};
          cell->InterpolateFunctions(r, &t.value[std::size_t(l) * t.n]);
          for (unsigned int c = 0; c < dim; ++c)
            for (int k = 0; k < 4; ++k)
              {
                double rs[3] = {r[0], r[1], r[2]};
                rs[c] += offsets[k] * step;
                cell->InterpolateFunctions(rs, shifted.data());
                for (vtkIdType i = 0; i < t.n; ++i)
                  t.derivative[(std::size_t(l) * dim + c) * t.n + i] += factors[k] * shifted[i] / (12 * step);
              }
        }
      tables.push_back(std::move(t));
      return tables.back();
    };

    vtkDataArray                *values = grid->GetPointData()->GetArray(field.c_str());
    vtkNew<vtkGenericCell>       cell;
    std::vector<double>          nodes, nodal_density;
    std::vector<QuadraturePoint> points;
    points.reserve(std::size_t(grid->GetNumberOfCells()) * per_cell);
    for (vtkIdType id = 0; id < grid->GetNumberOfCells(); ++id)
      {
        grid->GetCell(id, cell);
        if (!supported_cell(cell->GetCellType(), dim))
          throw std::runtime_error("cell " + std::to_string(id) + " has VTK type " +
                                   std::to_string(cell->GetCellType()) + ", expected a line, quadrilateral or " +
                                   "hexahedron (linear or Lagrange) of dimension " + std::to_string(dim));
        const ShapeTable &table = table_for(cell);
        const vtkIdType   n     = table.n;
        nodes.resize(3 * n);
        nodal_density.resize(n);
        for (vtkIdType i = 0; i < n; ++i)
          {
            cell->GetPoints()->GetPoint(i, &nodes[3 * i]);
            nodal_density[i] = values->GetComponent(cell->GetPointId(i), 0);
          }
        for (unsigned int l = 0; l < per_cell; ++l)
          {
            const double   *shape = &table.value[std::size_t(l) * n];
            QuadraturePoint q{id, {0., 0., 0.}, 0., 0.};
            for (vtkIdType i = 0; i < n; ++i)
              {
                for (int k = 0; k < 3; ++k)
                  q.x[k] += shape[i] * nodes[3 * i + k];
                q.density += shape[i] * nodal_density[i];
              }
            // Jacobian columns dx/dr_c; the measure is sqrt(det(J^T J)).
            double jacobian[3][3] = {};
            for (unsigned int c = 0; c < dim; ++c)
              {
                const double *d = &table.derivative[(std::size_t(l) * dim + c) * n];
                for (vtkIdType i = 0; i < n; ++i)
                  for (int k = 0; k < 3; ++k)
                    jacobian[c][k] += d[i] * nodes[3 * i + k];
              }
            double gram[3][3];
            for (unsigned int a = 0; a < dim; ++a)
              for (unsigned int b = 0; b < dim; ++b)
                gram[a][b] = jacobian[a][0] * jacobian[b][0] + jacobian[a][1] * jacobian[b][1] +
                             jacobian[a][2] * jacobian[b][2];
            double determinant = gram[0][0];
            if (dim == 2)
              determinant = gram[0][0] * gram[1][1] - gram[0][1] * gram[1][0];
            else if (dim == 3)
              determinant = gram[0][0] * (gram[1][1] * gram[2][2] - gram[1][2] * gram[2][1]) -
                            gram[0][1] * (gram[1][0] * gram[2][2] - gram[1][2] * gram[2][0]) +
                            gram[0][2] * (gram[1][0] * gram[2][1] - gram[1][1] * gram[2][0]);
            q.JxW = std::sqrt(std::max(determinant, 0.)) * weights[l];
            points.push_back(q);
          }
      }
    return points;
  }

  void MeshDensity::append_point(const QuadraturePoint &q, std::vector<double> &points) const
  {
    if (!on_sphere)
      {
        points.insert(points.end(), q.x, q.x + dim);
        return;
      }
    // The surface's points lie within the mapping's error of the sphere: read
    // them at x / |x|, as the solver's kernel and statistics do.
    const double norm = std::sqrt(q.x[0] * q.x[0] + q.x[1] * q.x[1] + q.x[2] * q.x[2]);
    for (int c = 0; c < 3; ++c)
      points.push_back(q.x[c] / norm);
  }

  void MeshDensity::set_unit_sphere()
  {
    if (dim != 2)
      throw std::runtime_error("a grid on S^2 has 2D (surface) cells");
    on_sphere = true;
  }

  MomentSet MeshDensity::moments() const
  {
    WeightedCloud cloud;
    cloud.dim = point_dimension();
    for (const QuadraturePoint &q : quadrature(1))
      {
        append_point(q, cloud.points);
        cloud.weights.push_back(q.density * q.JxW); // signed: exact moments of the DG density
      }
    return postprocess::moments(cloud);
  }

  WeightedCloud MeshDensity::atoms(unsigned int subdivisions) const
  {
    WeightedCloud cloud;
    cloud.dim = point_dimension();
    double total = 0;
    for (const QuadraturePoint &q : quadrature(subdivisions))
      {
        const double w = std::max(q.density, 0.) * q.JxW;
        if (w == 0)
          continue;
        append_point(q, cloud.points);
        cloud.weights.push_back(w);
        total += w;
      }
    for (double &w : cloud.weights)
      w /= total;
    return cloud;
  }

  MeshDensity::Quadrature MeshDensity::quadrature_rule(unsigned int subdivisions) const
  {
    Quadrature rule;
    rule.dim = point_dimension();
    for (const QuadraturePoint &q : quadrature(subdivisions))
      {
        append_point(q, rule.points);
        rule.weights.push_back(q.JxW);
        rule.values.push_back(q.density);
      }
    return rule;
  }

  double MeshDensity::atom_cell_diameter(unsigned int subdivisions) const
  {
    double largest = 0;
    for (vtkIdType id = 0; id < grid->GetNumberOfCells(); ++id)
      {
        double bounds[6];
        grid->GetCell(id)->GetBounds(bounds);
        double d2 = 0;
        for (int c = 0; c < 3; ++c)
          d2 += (bounds[2 * c + 1] - bounds[2 * c]) * (bounds[2 * c + 1] - bounds[2 * c]);
        largest = std::max(largest, std::sqrt(d2));
      }
    return largest / subdivisions;
  }

  double MeshDensity::w1_to_tokens(std::vector<double> tokens) const
  {
    if (dim != 1)
      throw std::runtime_error("the exact W1 is only available in 1D");
    if (tokens.empty())
      throw std::runtime_error("no tokens");
    std::sort(tokens.begin(), tokens.end());
    return cdf_distance(tokens, 0.);
  }

  double MeshDensity::cdf_distance(const std::vector<double> &tokens, double shift) const
  {
    // Every cell as a polynomial in s = (x - left) / h and its CDF at the left end.
    struct Cell
    {
      double              left, right, cdf_left;
      std::vector<double> c; // density / mass = sum_k c_k s^k
      double cdf(double s) const // CDF at left + s h
      {
        double value = 0, power = s;
        for (std::size_t k = 0; k < c.size(); ++k, power *= s)
          value += c[k] * power / double(k + 1);
        return cdf_left + (right - left) * value;
      }
    };
    std::vector<Cell> cells;
    vtkDataArray     *values = grid->GetPointData()->GetArray(field.c_str());
    for (vtkIdType id = 0; id < grid->GetNumberOfCells(); ++id)
      {
        vtkCell *cell = grid->GetCell(id);
        std::vector<std::pair<double, double>> nodes; // (x, density / mass)
        for (vtkIdType i = 0; i < cell->GetNumberOfPoints(); ++i)
          nodes.emplace_back(cell->GetPoints()->GetPoint(i)[0],
                             values->GetComponent(cell->GetPointId(i), 0) / total_mass);
        std::sort(nodes.begin(), nodes.end());
        Cell k{nodes.front().first, nodes.back().first, 0, {}};
        std::vector<double> s, v;
        for (const auto &[x, value] : nodes)
          {
            s.push_back((x - k.left) / (k.right - k.left));
            v.push_back(value);
          }
        k.c = monomial_coefficients(s, v);
        cells.push_back(std::move(k));
      }
    std::sort(cells.begin(), cells.end(), [](const Cell &a, const Cell &b) { return a.left < b.left; });
    double cumulative = 0;
    for (Cell &k : cells)
      {
        k.cdf_left = cumulative;
        cumulative = k.cdf(1.);
      }
    const auto   gauss = gauss_rule_unit(6); // exact for |CDF - c| pieces of degree <= 11
    const double n     = double(tokens.size());
    // Integral of |G(s) - level| over s in [s0, s1] of cell k, in x units.
    const auto integrate_cell = [&](const Cell &k, double s0, double s1, double level) {
      constexpr int samples = 8;
      std::vector<double> breaks = {s0};
      double              previous_s = s0, previous_g = k.cdf(s0) - level;
      for (int i = 1; i <= samples; ++i)
        {
          const double s = s0 + (s1 - s0) * i / samples, g = k.cdf(s) - level;
          if ((previous_g < 0) != (g < 0))
            {
              double lo = previous_s, hi = s; // bisection to the sign change
              for (int it = 0; it < 60; ++it)
                {
                  const double mid = 0.5 * (lo + hi);
                  ((k.cdf(mid) - level < 0) == (previous_g < 0) ? lo : hi) = mid;
                }
              breaks.push_back(0.5 * (lo + hi));
            }
          previous_s = s;
          previous_g = g;
        }
      breaks.push_back(s1);
      double sum = 0;
      for (std::size_t b = 0; b + 1 < breaks.size(); ++b)
        for (const auto &[r, w] : gauss)
          {
            const double s = breaks[b] + r * (breaks[b + 1] - breaks[b]);
            sum += w * (breaks[b + 1] - breaks[b]) * std::abs(k.cdf(s) - level);
          }
      return sum * (k.right - k.left);
    };
    double       x   = std::min(cells.front().left, tokens.front());
    const double end = std::max(cells.back().right, tokens.back());
    std::size_t  j = 0, k = 0; // tokens <= x; first cell ending after x
    double       w1 = 0;
    while (x < end)
      {
        while (j < tokens.size() && tokens[j] <= x)
          ++j;
        while (k < cells.size() && cells[k].right <= x)
          ++k;
        const double level      = double(j) / n + shift;
        const bool   inside     = k < cells.size() && cells[k].left <= x;
        const double next_token = j < tokens.size() ? tokens[j] : INFINITY;
        const double next_edge  = k < cells.size() ? (inside ? cells[k].right : cells[k].left) : INFINITY;
        const double v          = std::min({next_token, next_edge, end});
        if (inside)
          {
            const Cell &c = cells[k];
            w1 += integrate_cell(c, (x - c.left) / (c.right - c.left), (v - c.left) / (c.right - c.left), level);
          }
        else
          w1 += std::abs((k < cells.size() ? cells[k].cdf_left : cumulative) - level) * (v - x);
        x = v;
      }
    return w1;
  }

  MeshDensity::HistogramL1 MeshDensity::histogram_l1(const WeightedCloud &tokens) const
  {
    if (tokens.dim != dim)
      throw std::runtime_error("histogram L1: the tokens have a different dimension");
    vtkNew<vtkStaticCellLocator> locator;
    locator->SetDataSet(grid);
    locator->BuildLocator();
    std::vector<double>    token_mass(grid->GetNumberOfCells(), 0.);
    double                 outside = 0;
    vtkNew<vtkGenericCell> cell;
    std::vector<double>    shape(grid->GetMaxCellSize());
    for (std::size_t i = 0; i < tokens.size(); ++i)
      {
        double x[3] = {0, 0, 0}, pcoords[3];
        for (unsigned int c = 0; c < dim; ++c)
          x[c] = tokens.points[i * dim + c];
        const vtkIdType id = locator->FindCell(x, 1e-12, cell, pcoords, shape.data());
        if (id < 0)
          outside += tokens.weights[i];
        else
          token_mass[id] += tokens.weights[i];
      }
    const auto          points = quadrature(4);
    std::vector<double> measure(grid->GetNumberOfCells(), 0.), cell_mass(grid->GetNumberOfCells(), 0.);
    for (const auto &q : points)
      {
        measure[q.cell] += q.JxW;
        cell_mass[q.cell] += q.density / total_mass * q.JxW;
      }
    HistogramL1 result{outside, 0., outside};
    for (const auto &q : points)
      {
        const double rho = q.density / total_mass;
        result.distance += std::abs(rho - token_mass[q.cell] / measure[q.cell]) * q.JxW;
        result.floor += std::abs(rho - cell_mass[q.cell] / measure[q.cell]) * q.JxW;
      }
    return result;
  }
} // namespace tpde::postprocess
