// Initial type `checkpoint`: the density of an earlier grid run (one of its
// checkpoints) on this run's mesh, optionally moved by an affine map
// x -> A x + b of the tokens (density rho_old(A^-1 (z - b)) / |det A|). A run
// can so continue on another box, mesh or degree, or in other coordinates
// (postprocess/paper_e7.py follows a thinning Gaussian through a chain of
// runs, each in coordinates where the density is round). The old density is
// evaluated exactly (its polynomial on the cell that holds the point); the
// new run projects it (Initial condition/projection) and scales it to mass 1
// like any initial density, so mass outside the new mesh is dropped. Dips
// below 0 between the old limiter's check points are cut to 0. The
// projection's quadrature is not exact across the old cells' faces, so the
// moments (known exactly: moments_in_box) are then restored, as the limiter
// restores them (Discretization/limiter keeps moments).
#include "checkpoint/checkpoint_file.h"
#include "checkpoint/grid_state.h"
#include "common/errors.h"
#include "common/matrix.h"
#include "dg/dg_space.h"
#include "initial/initial_density.h"
#include "initial/sphere_geometry.h"
#include "parameters/parameters.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace tpde
{
  namespace
  {
    namespace fs = std::filesystem;

    /// The checkpoint named by entry `checkpoint` (a file, or an output folder:
    /// its newest checkpoint), resolved against the parameter file's folder and
    /// recorded as an absolute file name in parameters.prm.
    Checkpoint read_checkpoint_entry(const EntryReader &r)
    {
      const std::string text = r.trimmed("checkpoint");
      if (text.empty())
        r.fail("checkpoint", "expected a checkpoint file (checkpoint_<step>.tpde) or the output folder of a grid run that "
                             "wrote checkpoints (Checkpoint/interval or at end), got nothing");
      fs::path path(text);
      if (path.is_relative())
        path = fs::path(r.file()).parent_path() / path;
      std::error_code error;
      if (fs::is_directory(path, error))
        {
          const auto files = CheckpointFolder(path).files();
          if (files.empty())
            r.fail("checkpoint", "expected a run's output folder with checkpoints, but '" + (path / "checkpoints").string() +
                                   "' holds none (set Checkpoint/at end = true in that run)");
          path = files.back();
        }
      if (!fs::is_regular_file(path, error))
        r.fail("checkpoint", "expected a checkpoint file or a run's output folder, but '" + text + "' does not exist (looked "
                             "for '" + path.string() + "')");
      std::ifstream      in(path, std::ios::binary);
      std::ostringstream bytes;
      bytes << in.rdbuf();
      try
        {
          if (!in)
            throw InputError("cannot read '" + path.string() + "'");
          Checkpoint checkpoint = Checkpoint::parse(bytes.str(), path.string());
          if (checkpoint.text("run kind") != "grid")
            throw InputError(path.string() + " is the checkpoint of a " + checkpoint.text("run kind") +
                             " run (tokens, not a density)");
          r.record("checkpoint", fs::absolute(path).string());
          return checkpoint;
        }
      catch (const InputError &e)
        {
          r.fail("checkpoint", std::string("expected the checkpoint of a grid run: ") + e.what());
        }
    }

    /// The old run's density as a function on R^dim: its DG space is rebuilt
    /// on this process alone, and what evaluation needs is copied out (cell
    /// boxes, nodes, weights, values, the element), so the space is not kept
    /// for the whole run; a bucket grid finds the cell of a point.
    template <int dim>
    class CheckpointDensity : public InitialDensity
    {
    public:
      CheckpointDensity(const GridEntries &grid, const Checkpoint &checkpoint, const Matrix &map,
                        const std::vector<double> &shift)
        : map(map)
        , inverse_map(inverse(map))
        , shift(shift)
        , inverse_determinant(1. / std::abs(determinant(map)))
      {
        DGSpace<dim> space(without_refinements(grid.mesh), grid.discretization, false, checkpoint.origin(),
                           MPI_COMM_SELF);
        refine_to_checkpoint(space, checkpoint);
        space.setup();
        VectorType restored;
        space.initialize_vector(restored);
        restore_density(space, checkpoint, restored);
        copy_cells(space, restored, checkpoint.origin());
        build_buckets();
      }

      unsigned int dimension() const override { return dim; }

      double value(const double *z) const override
      {
        double x[dim];
        for (unsigned int i = 0; i < dim; ++i)
          {
            x[i] = 0;
            for (unsigned int j = 0; j < dim; ++j)
              x[i] += inverse_map(i, j) * (z[j] - shift[j]);
          }
        // On a face (to round-off) the old density has two traces: their
        // average, so that a point and its mirror image get mirrored values.
        long               holding[max_holding];
        const unsigned int n_holding = cells_holding(x, holding);
        double             sum       = 0;
        for (unsigned int h = 0; h < n_holding; ++h)
          sum += polynomial(holding[h], x);
        // The limiter keeps the old density >= 0 at its check points; between
        // them the polynomial may dip below 0 by round-off: cut.
        return n_holding == 0 ? 0. : std::max(sum / n_holding, 0.) * inverse_determinant;
      }

      /// The old density's polynomial on cell k at x.
      double polynomial(long k, const double *x) const
      {
        // Tensor-product Lagrange basis: the 1D factors once per direction.
        double lagrange[dim][max_nodes_1d];
        for (unsigned int c = 0; c < dim; ++c)
          {
            const double xi = std::clamp((x[c] - lower_of(k)[c]) / extent_of(k)[c], 0., 1.);
            for (unsigned int j = 0; j < nodes_1d.size(); ++j)
              {
                double l = 1;
                for (unsigned int m = 0; m < nodes_1d.size(); ++m)
                  if (m != j)
                    l *= (xi - nodes_1d[m]) / (nodes_1d[j] - nodes_1d[m]);
                lagrange[c][j] = l;
              }
          }
        const double *u   = &values[k * n_nodes];
        double        sum = 0;
        for (unsigned int i = 0; i < n_nodes; ++i)
          {
            double phi = u[i];
            for (unsigned int c = 0; c < dim; ++c)
              phi *= lagrange[c][node_index_1d[i * dim + c]];
            sum += phi;
          }
        return sum;
      }

      /// The old density jumps across the old faces inside new cells.
      unsigned int projection_subdivisions() const override { return 3; }

      /// Exact: the old nodal (Gauss) quadrature integrates the old density
      /// times a quadratic in x, and z = A x + b is affine. A node belongs to
      /// the box when its image does.
      std::optional<std::vector<double>> moments_in_box(const double *box_lower,
                                                        const double *box_upper) const override
      {
        std::vector<double> sums(1 + dim + dim * dim, 0.);
        for (std::size_t k = 0; k < n_cells; ++k)
          for (unsigned int q = 0; q < n_nodes; ++q)
            {
              const double *x = &node_points[(k * n_nodes + q) * dim];
              double        z[dim];
              bool          inside = true;
              for (unsigned int i = 0; i < dim; ++i)
                {
                  z[i] = shift[i];
                  for (unsigned int j = 0; j < dim; ++j)
                    z[i] += map(i, j) * x[j];
                  inside = inside && z[i] >= box_lower[i] && z[i] <= box_upper[i];
                }
              if (!inside)
                continue;
              const double m = node_weights[k * n_nodes + q] * values[k * n_nodes + q];
              sums[0] += m;
              for (unsigned int i = 0; i < dim; ++i)
                {
                  sums[1 + i] += m * z[i];
                  for (unsigned int j = 0; j < dim; ++j)
                    sums[1 + dim + i * dim + j] += m * z[i] * z[j];
                }
            }
        if (!(sums[0] > 0))
          return std::nullopt;
        std::vector<double> moments(sums.size());
        moments[0] = sums[0];
        for (unsigned int i = 0; i < dim; ++i)
          moments[1 + i] = sums[1 + i] / sums[0];
        for (unsigned int i = 0; i < dim; ++i)
          for (unsigned int j = 0; j < dim; ++j)
            moments[1 + dim + i * dim + j] = sums[1 + dim + i * dim + j] / sums[0] - moments[1 + i] * moments[1 + j];
        return moments;
      }

    private:
      static MeshParameters without_refinements(MeshParameters mesh)
      {
        mesh.global_refinements = 0; // the checkpoint's cells are refined from the coarse mesh
        return mesh;
      }

      const double *lower_of(std::size_t k) const { return &lowers[k * dim]; }
      const double *extent_of(std::size_t k) const { return &extents[k * dim]; }

      /// The owned (here: all) cells' boxes, nodes, weights and values. Every
      /// cell must be an axis-parallel box whose reference axes are the
      /// coordinate axes (a mesh file's cells may be rotated or flipped):
      /// its nodes are then lower + unit support point * extent.
      void copy_cells(const DGSpace<dim> &space, const VectorType &restored, const std::string &origin)
      {
        n_cells = space.n_owned_cells();
        n_nodes = space.n_nodes();
        values.assign(restored.begin(), restored.end());
        // The element is a tensor product of 1D Lagrange polynomials on its
        // support points' coordinates: node i's index per direction.
        const auto &support = space.fe.get_unit_support_points();
        for (unsigned int i = 0; i < n_nodes; ++i)
          if (std::none_of(nodes_1d.begin(), nodes_1d.end(), [&](double t) { return std::abs(t - support[i][0]) < 1e-12; }))
            nodes_1d.push_back(support[i][0]);
        AssertThrow(nodes_1d.size() <= max_nodes_1d &&
                      dealii::Utilities::pow(nodes_1d.size(), dim) == n_nodes,
                    dealii::ExcMessage("unexpected element"));
        for (unsigned int i = 0; i < n_nodes; ++i)
          for (unsigned int c = 0; c < dim; ++c)
            node_index_1d.push_back(static_cast<unsigned int>(
              std::find_if(nodes_1d.begin(), nodes_1d.end(),
                           [&](double t) { return std::abs(t - support[i][c]) < 1e-12; }) -
              nodes_1d.begin()));
        for (std::size_t k = 0; k < n_cells; ++k)
          {
            const auto box    = space.cell_box(k);
            double     volume = 1, largest = 0;
            for (unsigned int c = 0; c < dim; ++c)
              {
                lowers.push_back(box.lower[c]);
                extents.push_back(box.extent[c]);
                volume *= box.extent[c];
                largest = std::max(largest, box.extent[c]);
              }
            bool aligned = std::abs(space.owned_cell(k)->measure() - volume) <= 1e-10 * volume;
            for (unsigned int q = 0; q < n_nodes; ++q)
              {
                node_weights.push_back(space.node_weight(k, q));
                for (unsigned int c = 0; c < dim; ++c)
                  {
                    const double x = space.node_point(k, q)[c];
                    node_points.push_back(x);
                    aligned = aligned && std::abs(box.lower[c] + support[q][c] * box.extent[c] - x) <= 1e-10 * largest;
                  }
              }
            if (!aligned)
              throw InputError(origin + ": Initial condition/type = checkpoint needs a mesh of axis-parallel boxes "
                                        "whose reference axes are the coordinate axes (Mesh/domain = box); the cell "
                                        "with lower corner (" + dealii::Utilities::to_string(box.lower[0]) +
                               (dim > 1 ? ", " + dealii::Utilities::to_string(box.lower[1]) : "") +
                               (dim > 2 ? ", " + dealii::Utilities::to_string(box.lower[2]) : "") + ") is not one");
          }
      }

      /// Buckets of (at least) the smallest cell's size, doubled until there
      /// are at most 8 per cell; each lists the cells that overlap it.
      void build_buckets()
      {
        double smallest[dim];
        for (unsigned int c = 0; c < dim; ++c)
          {
            lower[c] = smallest[c] = std::numeric_limits<double>::infinity();
            upper[c]               = -std::numeric_limits<double>::infinity();
          }
        for (std::size_t k = 0; k < n_cells; ++k)
          for (unsigned int c = 0; c < dim; ++c)
            {
              lower[c]    = std::min(lower[c], lower_of(k)[c]);
              upper[c]    = std::max(upper[c], lower_of(k)[c] + extent_of(k)[c]);
              smallest[c] = std::min(smallest[c], extent_of(k)[c]);
            }
        for (double factor = 1;; factor *= 2)
          {
            std::size_t total = 1;
            for (unsigned int c = 0; c < dim; ++c)
              {
                width[c] = smallest[c] * factor;
                count[c] = std::max(1l, static_cast<long>(std::ceil((upper[c] - lower[c]) / width[c] - 1e-9)));
                total *= count[c];
              }
            if (total <= 8 * n_cells + 64)
              {
                start.assign(total + 1, 0);
                break;
              }
          }
        // Two passes over the cells: count per bucket, then fill (CSR).
        for (int pass = 0; pass < 2; ++pass)
          {
            std::vector<std::size_t> filled;
            if (pass)
              {
                filled = start;
                cells.resize(start.back());
              }
            for (std::size_t k = 0; k < n_cells; ++k)
              for_buckets_of(k, [&](std::size_t b) {
                if (pass)
                  cells[filled[b]++] = k;
                else
                  ++start[b + 1];
              });
            if (!pass)
              for (std::size_t b = 0; b + 1 < start.size(); ++b)
                start[b + 1] += start[b];
          }
      }

      template <typename Visit>
      void for_buckets_of(std::size_t k, const Visit &visit) const
      {
        const double *low = lower_of(k), *extent = extent_of(k);
        long          first[dim], last[dim];
        for (unsigned int c = 0; c < dim; ++c)
          {
            // The buckets the open cell overlaps (a uniform mesh: one each). A
            // point on a face may fall in the bucket beyond it: the cell on the
            // other side holds it too (cells_holding tests closed cells).
            first[c] = std::clamp(static_cast<long>(std::floor((low[c] - lower[c]) / width[c] + 1e-9)), 0l,
                                  count[c] - 1);
            last[c]  = std::clamp(static_cast<long>(std::ceil((low[c] + extent[c] - lower[c]) / width[c] - 1e-9)) - 1,
                                  first[c], count[c] - 1);
          }
        for_bucket_range(first, last, visit);
      }

      /// Every bucket index b with first[c] <= (its index in c) <= last[c].
      template <typename Visit>
      void for_bucket_range(const long *first, const long *last, const Visit &visit) const
      {
        long at[dim];
        std::copy(first, first + dim, at);
        while (true)
          {
            std::size_t b = 0;
            for (int c = dim - 1; c >= 0; --c)
              b = b * count[c] + at[c];
            visit(b);
            unsigned int c = 0;
            while (c < dim && at[c] == last[c])
              at[c] = first[c], ++c;
            if (c == dim)
              return;
            ++at[c];
          }
      }

      /// The owned cells whose closed boxes (to 1e-12 of their size) hold x:
      /// one inside a cell, up to 2^dim on faces and corners; none outside
      /// the mesh. Near a bucket's side the neighbouring bucket is searched
      /// too: x - lower rounds a point just below a face to the face itself
      /// (at |x| ~ 1e-16 against lower = -6), so the bucket alone would
      /// always find the cell above and break the mirror symmetry.
      unsigned int cells_holding(const double *x, long *holding) const
      {
        long first[dim], last[dim];
        for (unsigned int c = 0; c < dim; ++c)
          {
            const double slack = 1e-12 * width[c];
            if (!(x[c] >= lower[c] - slack && x[c] <= upper[c] + slack))
              return 0;
            const double at = (x[c] - lower[c]) / width[c];
            const long   i  = std::clamp(static_cast<long>(std::floor(at)), 0l, count[c] - 1);
            first[c]        = at - static_cast<double>(i) <= 1e-9 ? std::max(i - 1, 0l) : i;
            last[c]         = static_cast<double>(i + 1) - at <= 1e-9 ? std::min(i + 1, count[c] - 1) : i;
          }
        unsigned int n = 0;
        for_bucket_range(first, last, [&](std::size_t b) {
          for (std::size_t j = start[b]; j < start[b + 1]; ++j)
            if (n < max_holding && holds(cells[j], x) &&
                std::find(holding, holding + n, static_cast<long>(cells[j])) == holding + n)
              holding[n++] = static_cast<long>(cells[j]);
        });
        return n;
      }

      bool holds(std::size_t k, const double *x) const
      {
        const double *low = lower_of(k), *extent = extent_of(k);
        for (unsigned int c = 0; c < dim; ++c)
          {
            const double slack = 1e-12 * extent[c];
            if (!(x[c] >= low[c] - slack && x[c] <= low[c] + extent[c] + slack))
              return false;
          }
        return true;
      }

      // At most 2^dim cells hold a point (one per orthant around it, also at
      // an adaptive mesh's hanging vertices); the list is capped for safety.
      static constexpr unsigned int max_holding = 16;

      std::size_t                                 n_cells = 0;
      unsigned int                                n_nodes = 0;
      static constexpr unsigned int               max_nodes_1d = 8; // degree <= 4 (Discretization/degree)
      std::vector<double>                         nodes_1d;      // the element's 1D support points
      std::vector<unsigned int>                   node_index_1d; // node i: its 1D index per direction
      std::vector<double> lowers, extents, node_points, node_weights, values; // per cell (and node)
      Matrix                   map, inverse_map;
      std::vector<double>      shift;
      double                   inverse_determinant;
      double                   lower[dim], upper[dim], width[dim];
      long                     count[dim];
      std::vector<std::size_t> start, cells;
    };

    template <int dim>
    std::shared_ptr<const InitialDensity> make_density(const EntryReader &r, const Checkpoint &checkpoint,
                                                       const Matrix &map, const std::vector<double> &shift)
    {
      const auto refuse = [&](const std::string &why) {
        r.fail("checkpoint", "expected a checkpoint of a d = " + std::to_string(dim) + " grid run on a box or mesh "
                             "file, but " + checkpoint.origin() + " " + why);
      };
      GridEntries grid;
      try
        {
          grid = read_grid_entries(checkpoint.text("parameters"), checkpoint.origin());
        }
      catch (const InputError &e)
        {
          r.fail("checkpoint", std::string("expected a checkpoint whose stored parameters this build reads: ") +
                                 e.what());
        }
      if (grid.dimension != dim)
        refuse("is of a d = " + std::to_string(grid.dimension) + " run");
      if (grid.mesh.on_sphere())
        refuse("is of a run on the sphere");
      bool masked = false;
      try
        {
          masked = attention::find_variant(grid.attention_type).capabilities.positions;
        }
      catch (const std::invalid_argument &e) // an attention type this build does not know
        {
          refuse(std::string("names an attention type this build does not know: ") + e.what());
        }
      if (masked)
        refuse("is of a masked-attention run (its mesh has the position s as a coordinate)");
      try
        {
          return std::make_shared<CheckpointDensity<dim>>(grid, checkpoint, map, shift);
        }
      catch (const InputError &e)
        {
          r.fail("checkpoint", std::string("expected a checkpoint whose mesh can be rebuilt: ") + e.what());
        }
    }
  } // namespace

  InitialType checkpoint_initial_type()
  {
    InitialType type;
    type.declare = [](EntryDeclarations &entries) {
      entries.declare("checkpoint", "", EntryPattern::anything(),
                      "type = checkpoint: a checkpoint file of an earlier grid run of the same dimension "
                      "(<its output folder>/checkpoints/checkpoint_<step>.tpde), or that run's output folder for "
                      "its newest checkpoint (relative names from this file's folder; parameters.prm records the "
                      "file used). Its mesh comes from the parameters stored in it (a mesh file must still exist).");
      entries.declare("checkpoint map", "", EntryPattern::anything(),
                      "type = checkpoint: the invertible d x d matrix A of the affine map x -> A x + b that moves "
                      "the checkpoint's tokens (density rho(A^-1 (z - b)) / |det A|); empty: the identity. With the "
                      "attention matrices changed to Q A^-1, K A^-1, A V A^-1 the run continues the old one in the "
                      "new coordinates.");
      entries.declare("checkpoint shift", "0", EntryPattern::anything(), "type = checkpoint: b, d numbers.");
    };
    type.read = [](const EntryReader &r, const InitialContext &context) -> std::shared_ptr<const InitialDensity> {
      sphere::refuse_sphere(r, context, "checkpoint");
      if (context.s_coordinate)
        r.fail("type", "expected an initial type for masked attention's (s, x) mesh; type = checkpoint is not one");
      const unsigned int dim = context.dim;
      const Matrix       map = r.matrix("checkpoint map", dim);
      if (map.rows != dim || map.cols != dim)
        r.fail("checkpoint map", "expected a " + std::to_string(dim) + " x " + std::to_string(dim) + " matrix, got " +
                                   matrix_shape(map));
      const double det = determinant(map);
      if (!(std::isfinite(det) && std::abs(det) > 1e-12 * std::pow(max_abs(map), dim)))
        r.fail("checkpoint map", "expected an invertible matrix, got determinant " + std::to_string(det));
      const auto       shift      = r.vector("checkpoint shift", dim);
      const Checkpoint checkpoint = read_checkpoint_entry(r);
      switch (dim)
        {
          case 1:
            return make_density<1>(r, checkpoint, map, shift);
          case 2:
            return make_density<2>(r, checkpoint, map, shift);
          default:
            return make_density<3>(r, checkpoint, map, shift);
        }
    };
    return type;
  }
} // namespace tpde
