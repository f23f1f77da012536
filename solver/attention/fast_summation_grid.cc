// Factorised node grids: e^{<a, y>} is a product of one factor per direction
// over a tensor grid, so a whole grid costs a small matrix product per source.
#include "attention/fast_summation_internal.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>

namespace tpde::attention::fast::detail
{
bool Interpolator::factorisable(const Box &box) const
{
  constexpr double max_gap = 300.; // e^-300: far from underflow and the exp clamp at -700
  if (box.sources.empty())
    return false;
  double half[max_dim] = {}, middle[max_dim];
  box_geometry(box, middle, half);
  // The largest |score at the middle| and the bounds of z per active direction.
  struct Range
  {
    double magnitude = 0.;
    Bounds z;
  };
  const Range range = reduce_chunks(
    box.sources.size(),
    Range{},
    [&](std::size_t begin, std::size_t end, Range &part) {
      for (std::size_t s = begin; s < end; ++s)
        {
          const std::size_t j     = box.sources[s];
          double            value = source_log_weight[j];
          for (unsigned int c = 0; c < dim; ++c)
            value += middle[c] * source_z[j * dim + c];
          part.magnitude = std::max(part.magnitude, std::abs(value));
          for (unsigned int m = 0; m < n_active; ++m)
            part.z.include(m, source_z[j * dim + active[m]]);
        }
    },
    [](Range &total, const Range &part) {
      total.magnitude = std::max(total.magnitude, part.magnitude);
      Bounds::combine(total.z, part.z);
    });
  double        magnitude = range.magnitude;
  const double *z_low = range.z.low, *z_high = range.z.high;
  double gap = 0.;
  for (unsigned int m = 0; m < n_active; ++m)
    {
      const double h = half[active[m]];
      magnitude += h * std::max(std::abs(z_low[m]), std::abs(z_high[m]));
      if (m >= 1)
        gap += h * (z_high[m] - z_low[m]);
    }
  return gap <= max_gap &&
         16. * std::numeric_limits<double>::epsilon() * magnitude <= 1e-2 * tolerance;
}

struct Interpolator::FactorGrid
{
  std::size_t         n_sources = 0, n_padded = 0;
  double              half[max_dim] = {}, middle[max_dim] = {};
  std::size_t         n_points[max_dim] = {1, 1, 1};
  std::vector<double> scale[max_dim], shift[max_dim], reference[max_dim];
  // Gathered sources: base_j, z_{j,m} (active directions), y_j.
  std::vector<double> base, z[max_dim], y[max_dim];
  // Sources in groups of group_size (summed separately, then added).
  std::size_t group_size = 0, n_groups = 0;
  // Rows padded to whole tiles (zero rows), columns (c, i_1) for c = 0
  // (the denominator) and c = 1..dim (numerator components).
  std::size_t n_rows = 0, n_used = 0, n_columns = 0, n_sums = 0;
};

void Interpolator::gather_grid(const Box &box, const Degrees &degrees, FactorGrid &grid) const
{
  const std::size_t n_sources = box.sources.size();
  const std::size_t n_padded  = (n_sources + lanes - 1) / lanes * lanes;
  const unsigned int n_factors = std::max(1u, n_active);
  grid.n_sources                = n_sources;
  grid.n_padded                 = n_padded;
  box_geometry(box, grid.middle, grid.half);
  for (unsigned int m = 0; m < max_dim; ++m)
    {
      const unsigned int n = m < n_active ? degrees[m] : 0;
      grid.n_points[m]     = n + 1;
      for (unsigned int i = 0; i <= n; ++i)
        {
          grid.reference[m].push_back(n == 0 ? 0. : std::cos(M_PI * i / n));
          grid.scale[m].push_back(m < n_active ? grid.half[active[m]] * grid.reference[m][i] : 0.);
        }
    }

  grid.base.assign(n_padded, -std::numeric_limits<double>::infinity());
  for (unsigned int m = 0; m < n_factors; ++m)
    grid.z[m].assign(n_padded, 0.);
  for (unsigned int i = 0; i < dim; ++i)
    grid.y[i].assign(n_padded, 0.);
  const Bounds range = reduce_chunks(
    n_sources,
    Bounds{},
    [&](std::size_t begin, std::size_t end, Bounds &part) {
      for (std::size_t k = begin; k < end; ++k)
        {
          const std::size_t j     = box.sources[k];
          double            value = source_log_weight[j];
          for (unsigned int c = 0; c < dim; ++c)
            value += grid.middle[c] * source_z[j * dim + c];
          grid.base[k] = value;
          for (unsigned int m = 0; m < n_active; ++m)
            {
              const double zm = source_z[j * dim + active[m]];
              grid.z[m][k]    = zm;
              part.include(m, zm);
            }
          for (unsigned int i = 0; i < dim; ++i)
            grid.y[i][k] = sum.coordinate[j * dim + i];
        }
    },
    Bounds::combine);
  // (No sources: zero bounds, as the shifts below need finite ones.)
  double z_low[max_dim] = {}, z_high[max_dim] = {};
  if (n_sources > 0)
    for (unsigned int m = 0; m < n_active; ++m)
      {
        z_low[m]  = range.low[m];
        z_high[m] = range.high[m];
      }

  // Shifts: the largest exponent of each factor row.
  for (unsigned int m = 1; m < max_dim; ++m)
    for (std::size_t i = 0; i < grid.n_points[m]; ++i)
      grid.shift[m].push_back(
        m < n_active ? std::max(grid.scale[m][i] * z_low[m], grid.scale[m][i] * z_high[m]) : 0.);
  const std::size_t group_step = max_grid_groups * grid_chunk;
  grid.group_size = std::max(grid_group, (n_padded + group_step - 1) / group_step * grid_chunk);
  grid.n_groups   = (n_padded + grid.group_size - 1) / grid.group_size;

  grid.n_rows    = (grid.n_points[0] + tile_rows - 1) / tile_rows * tile_rows;
  grid.n_used    = (dim + 1) * grid.n_points[1];
  grid.n_columns = (grid.n_used + tile_columns - 1) / tile_columns * tile_columns;
  grid.n_sums    = grid.n_points[2] * grid.n_rows * grid.n_columns;
}

void Interpolator::grid_row_shifts(FactorGrid &grid) const
{
  const std::size_t   n_points0 = grid.n_points[0];
  std::vector<double> group_maximum(grid.n_groups * n_points0, -std::numeric_limits<double>::infinity());
  tbb::parallel_for(std::size_t(0), grid.n_groups, [&](std::size_t g) {
    const std::size_t begin = g * grid.group_size, end = std::min(grid.n_padded, begin + grid.group_size);
    maximum_rows(n_points0,
                 end - begin,
                 grid.base.data() + begin,
                 grid.z[0].data() + begin,
                 grid.scale[0].data(),
                 &group_maximum[g * n_points0]);
  });
  grid.shift[0].assign(n_points0, -std::numeric_limits<double>::infinity());
  for (std::size_t g = 0; g < grid.n_groups; ++g)
    for (std::size_t i = 0; i < n_points0; ++i)
      grid.shift[0][i] = std::max(grid.shift[0][i], group_maximum[g * n_points0 + i]);
}

std::vector<double> Interpolator::grid_sums(const FactorGrid &grid) const
{
  const std::size_t *n_points = grid.n_points;
  const std::size_t  n_rows = grid.n_rows, n_columns = grid.n_columns, n_sums = grid.n_sums;
  std::vector<double> partial(grid.n_groups * n_sums, 0.);
  tbb::parallel_for(std::size_t(0), grid.n_groups, [&](std::size_t g) {
    std::vector<double> F(n_rows * grid_chunk, 0.), G(n_columns * grid_chunk, 0.),
      factor1(n_points[1] * grid_chunk, 1.), factor2(n_points[2] * grid_chunk, 1.),
      C(n_rows * n_columns);
    double *const     sums  = &partial[g * n_sums];
    const std::size_t begin = g * grid.group_size, end = std::min(grid.n_padded, begin + grid.group_size);
    for (std::size_t chunk = begin; chunk < end; chunk += grid_chunk)
      {
        const std::size_t length = std::min(grid_chunk, end - chunk);
        exponential_rows(n_points[0],
                         length,
                         grid.base.data() + chunk,
                         grid.z[0].data() + chunk,
                         grid.scale[0].data(),
                         grid.shift[0].data(),
                         F.data());
        if (n_rows > n_points[0]) // the zero rows of the last tile
          std::fill(F.begin() + n_points[0] * length, F.begin() + n_rows * length, 0.);
        if (n_active >= 2)
          exponential_rows(n_points[1], length, nullptr, grid.z[1].data() + chunk,
                           grid.scale[1].data(), grid.shift[1].data(), factor1.data());
        if (n_active >= 3)
          exponential_rows(n_points[2], length, nullptr, grid.z[2].data() + chunk,
                           grid.scale[2].data(), grid.shift[2].data(), factor2.data());
        for (std::size_t i2 = 0; i2 < n_points[2]; ++i2)
          {
            const double *f2 = &factor2[(n_active >= 3 ? i2 : 0) * length];
            for (std::size_t i1 = 0; i1 < n_points[1]; ++i1)
              {
                const double *f1 = &factor1[(n_active >= 2 ? i1 : 0) * length];
                double       *g0 = &G[i1 * length];
                for (std::size_t j = 0; j < length; ++j)
                  g0[j] = f1[j] * f2[j];
                for (unsigned int c = 1; c <= dim; ++c)
                  {
                    double       *gc = &G[(c * n_points[1] + i1) * length];
                    const double *yc = grid.y[c - 1].data() + chunk;
                    for (std::size_t j = 0; j < length; ++j)
                      gc[j] = g0[j] * yc[j];
                  }
              }
            std::fill(G.begin() + grid.n_used * length, G.begin() + n_columns * length, 0.);
            grid_products(n_rows, n_columns, length, F.data(), G.data(), C.data());
            double *slice = sums + i2 * n_rows * n_columns;
            for (std::size_t k = 0; k < n_rows * n_columns; ++k)
              slice[k] += C[k];
          }
      }
  });
  std::vector<double> total(n_sums, 0.);
  for (std::size_t g = 0; g < grid.n_groups; ++g)
    for (std::size_t k = 0; k < n_sums; ++k)
      total[k] += partial[g * n_sums + k];
  return total;
}

void Interpolator::grid_partials(const FactorGrid &grid, const std::vector<double> &total, double *partials) const
{
  // Per node: the tilted mean N / D and log sum_j e^{s_j} = score shift + log D,
  // the score shift including sum_k u_k (middle of z_k), which source_z leaves out.
  const std::size_t *n_points = grid.n_points;
  double             constant = 0.; // sum_k u_k middle_k at the box's middle
  for (unsigned int k = 0; k < dim; ++k)
    constant += grid.middle[k] * source_middle[k];
  for (std::size_t i2 = 0; i2 < n_points[2]; ++i2)
    for (std::size_t i1 = 0; i1 < n_points[1]; ++i1)
      for (std::size_t i0 = 0; i0 < n_points[0]; ++i0)
        {
          const double *row         = &total[(i2 * grid.n_rows + i0) * grid.n_columns];
          const double  denominator = row[i1];
          double       *out         = &partials[(i0 + n_points[0] * (i1 + n_points[1] * i2)) * (dim + 1)];
          for (unsigned int c = 0; c < dim; ++c)
            out[c] = row[(c + 1) * n_points[1] + i1] / denominator;
          const std::size_t index[max_dim] = {i0, i1, i2};
          double            score_shift    = constant;
          for (unsigned int m = 0; m < n_active; ++m)
            score_shift += grid.shift[m][index[m]] + grid.scale[m][index[m]] * source_middle[active[m]];
          if (n_active == 0)
            score_shift += grid.shift[0][0];
          out[dim] = score_shift + std::log(denominator);
        }
}

void Interpolator::outputs_from_partials(std::size_t n_points, const double *partials, double *values) const
{
  for (std::size_t p = 0; p < n_points; ++p)
    {
      const double *mean_and_log = partials + p * (dim + 1);
      double        mean[max_dim];
      for (unsigned int c = 0; c < dim; ++c)
        mean[c] = mean_and_log[c] + sum.offset[c];
      double *out = values + p * n_outputs;
      for (unsigned int r = 0; r < dim; ++r)
        {
          double value = 0.;
          for (unsigned int c = 0; c < dim; ++c)
            value += (sum.V != nullptr ? sum.V[r * dim + c] : (r == c ? 1. : 0.)) * mean[c];
          out[r] = value;
        }
      if (sum.log_scale)
        out[dim] = mean_and_log[dim] + sum.log_scale_offset;
    }
}

bool Interpolator::evaluate_grid(const Box &box, const Degrees &degrees, std::vector<double> &node_values) const
{
  if (!factorisable(box))
    return false;
  FactorGrid grid;
  gather_grid(box, degrees, grid);
  grid_row_shifts(grid);
  const std::size_t   n_nodes = node_count(degrees);
  std::vector<double> partials(n_nodes * (dim + 1));
  grid_partials(grid, grid_sums(grid), partials.data());
  node_values.resize(n_nodes * n_outputs);
  outputs_from_partials(n_nodes, partials.data(), node_values.data());
  return true;
}

bool Interpolator::partial_grid(const Box &box, const Degrees &degrees, double *partials) const
{
  if (!factorisable(box))
    return false;
  FactorGrid grid;
  gather_grid(box, degrees, grid);
  grid_row_shifts(grid);
  grid_partials(grid, grid_sums(grid), partials);
  // On this process's common scale, as ExponentialSum::partial's values.
  for (std::size_t node = 0; node < node_count(degrees); ++node)
    partials[node * (dim + 1) + dim] += sum.partial_log_offset;
  return true;
}
} // namespace tpde::attention::fast::detail
