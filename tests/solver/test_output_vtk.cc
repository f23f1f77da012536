// The ParaView output read back with the VTK reader: the density integrated
// over the written Lagrange cells and the summed cell masses equal the mass
// of statistics.csv at every output time (1D, 2D, 3D, one and two ranks), the
// pvd times are the statistics times, the cells are single Lagrange cells
// whose points sit where VTK's node numbering expects them, and at t = 0 the
// written density and velocity match the Gaussian and its affine velocity.
#include "postprocess/vtk_reader.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <vtkCellData.h>
#include <vtkCellType.h>
#include <vtkDataArray.h>
#include <vtkFieldData.h>
#include <vtkGenericCell.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkUnstructuredGrid.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

using namespace tpde::testing;
namespace post = tpde::postprocess;
namespace fs   = std::filesystem;

namespace
{
  constexpr double tolerance = 1e-10;

  struct Case
  {
    std::string  name;
    int          dimension;
    unsigned int degree;
    std::string  overrides; // extra --set arguments
    unsigned int ranks = 1;
  };

  struct Summary
  {
    double        max_integral_deviation = 0; // relative, |integral - mass| / mass
    double        max_cell_sum_deviation = 0;
    std::set<int> ranks_seen;
    std::size_t   n_outputs = 0;
  };

  std::string set(const std::string &assignment)
  {
    return " --set \"" + assignment + "\"";
  }

  // Runs tpde on tests/data/small-2d.prm with the case's overrides; returns the output folder.
  std::string run(const Case &c)
  {
    const std::string     directory = scratch_directory("solver_output_vtk/" + c.name);
    const auto            result =
      run_tpde("run " + source_path("tests/data/small-2d.prm") + " --quiet" + set("Output/directory=" + directory) +
                 c.overrides,
               c.ranks);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return directory;
  }

  Case make_case(std::string name, int dimension, unsigned int degree, std::string overrides,
                 unsigned int ranks = 1)
  {
    return {std::move(name), dimension, degree,
            set("dimension=" + std::to_string(dimension)) +
              set("Discretization/degree=" + std::to_string(degree)) + overrides,
            ranks};
  }

  int lagrange_type(int dimension, unsigned int degree)
  {
    if (degree <= 1)
      return dimension == 1 ? VTK_LINE : dimension == 2 ? VTK_QUAD : VTK_HEXAHEDRON;
    return dimension == 1 ? VTK_LAGRANGE_CURVE :
           dimension == 2 ? VTK_LAGRANGE_QUADRILATERAL :
                            VTK_LAGRANGE_HEXAHEDRON;
  }

  // The meshes are affine/multilinear, so every point of a cell is the
  // multilinear map of its parametric coordinates through the corners (VTK's
  // first 2^dim points). This pins the point order to VTK's numbering.
  void expect_points_at_parametric_coordinates(vtkUnstructuredGrid *grid, int dimension)
  {
    vtkNew<vtkGenericCell> cell;
    const int              n_corners = 1 << dimension;
    // VTK corner order: (0,0,0) (1,0,0) (1,1,0) (0,1,0), then the same at r_2 = 1.
    const int corner[8][3] = {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0},
                              {0, 0, 1}, {1, 0, 1}, {1, 1, 1}, {0, 1, 1}};
    double worst = 0, size = 0;
    for (vtkIdType id = 0; id < grid->GetNumberOfCells(); ++id)
      {
        grid->GetCell(id, cell);
        const double *pcoords = cell->GetParametricCoords();
        ASSERT_NE(pcoords, nullptr);
        for (vtkIdType i = 0; i < cell->GetNumberOfPoints(); ++i)
          {
            double mapped[3] = {0, 0, 0};
            for (int v = 0; v < n_corners; ++v)
              {
                double weight = 1;
                for (int d = 0; d < dimension; ++d)
                  weight *= corner[v][d] ? pcoords[3 * i + d] : 1 - pcoords[3 * i + d];
                double x[3];
                cell->GetPoints()->GetPoint(v, x);
                for (int c = 0; c < 3; ++c)
                  mapped[c] += weight * x[c];
              }
            double x[3];
            cell->GetPoints()->GetPoint(i, x);
            for (int c = 0; c < 3; ++c)
              {
                worst = std::max(worst, std::abs(mapped[c] - x[c]));
                size  = std::max(size, std::abs(x[c]));
              }
          }
      }
    EXPECT_LE(worst, 1e-12 * std::max(1.0, size)) << "points are not where VTK's node numbering puts them";
  }

  vtkDataArray *cell_array(vtkUnstructuredGrid *grid, const char *name)
  {
    return vtkDataArray::SafeDownCast(grid->GetCellData()->GetAbstractArray(name));
  }

  // Fills `summary` (an out-parameter, so that ASSERTs may return early).
  void check_output(const std::string &directory, const Case &c, Summary &summary)
  {
    const Table statistics = read_csv((fs::path(directory) / "statistics.csv").string());
    const auto &times      = statistics.columns.at("time");
    const auto &masses     = statistics.columns.at("mass");
    const auto  series     = post::read_pvd((fs::path(directory) / "solution.pvd").string());
    EXPECT_GE(series.size(), 2u);
    if (series.empty())
      return;
    EXPECT_EQ(series.front().time, 0.0);
    EXPECT_EQ(series.back().time, times.back()) << "the last output is at the end time";

    const unsigned int points_per_cell = static_cast<unsigned int>(std::pow(std::max(c.degree, 1u) + 1, c.dimension));
    for (const auto &entry : series)
      {
        SCOPED_TRACE(entry.file);
        EXPECT_EQ(fs::path(entry.file).extension(), c.ranks > 1 ? ".pvtu" : ".vtu");
        // The pvd time is one of the statistics times, to the last digit.
        const auto row = std::find(times.begin(), times.end(), entry.time);
        EXPECT_NE(row, times.end()) << "pvd time " << entry.time << " is not a statistics time";
        if (row == times.end())
          continue;
        const double mass = masses[row - times.begin()];

        const auto grid = post::read_grid(entry.file);
        ASSERT_GT(grid->GetNumberOfCells(), 0);
        const double integral = post::integrate_point_field(grid, "density", c.dimension);
        const double cell_sum = post::sum_cell_field(grid, "cell_mass");
        summary.max_integral_deviation =
          std::max(summary.max_integral_deviation, std::abs(integral - mass) / std::abs(mass));
        summary.max_cell_sum_deviation =
          std::max(summary.max_cell_sum_deviation, std::abs(cell_sum - mass) / std::abs(mass));
        EXPECT_NEAR(integral, mass, tolerance * std::abs(mass));
        EXPECT_NEAR(cell_sum, mass, tolerance * std::abs(mass));

        vtkDataArray *density  = grid->GetPointData()->GetArray("density");
        vtkDataArray *velocity = grid->GetPointData()->GetArray("velocity");
        ASSERT_NE(density, nullptr);
        ASSERT_NE(velocity, nullptr);
        EXPECT_EQ(density->GetDataType(), VTK_DOUBLE);
        EXPECT_EQ(velocity->GetDataType(), VTK_DOUBLE);
        EXPECT_EQ(velocity->GetNumberOfComponents(), 3);
        double      largest_speed = 0, beyond_dimension = 0;
        std::size_t not_finite = 0;
        for (vtkIdType i = 0; i < velocity->GetNumberOfTuples(); ++i)
          for (int k = 0; k < 3; ++k)
            {
              const double v = velocity->GetComponent(i, k);
              not_finite += !std::isfinite(v);
              if (k < c.dimension)
                largest_speed = std::max(largest_speed, std::abs(v));
              else
                beyond_dimension = std::max(beyond_dimension, std::abs(v));
            }
        EXPECT_EQ(not_finite, 0u);
        EXPECT_GT(largest_speed, 0.0) << "the attention velocity is not all zero";
        EXPECT_EQ(beyond_dimension, 0.0) << "components beyond the dimension are zero";

        vtkDataArray *cell_mass = cell_array(grid, "cell_mass");
        vtkDataArray *rank      = cell_array(grid, "mpi_rank");
        vtkDataArray *level     = cell_array(grid, "refinement_level");
        ASSERT_NE(cell_mass, nullptr);
        ASSERT_NE(rank, nullptr);
        ASSERT_NE(level, nullptr);
        EXPECT_EQ(cell_mass->GetDataType(), VTK_DOUBLE);
        EXPECT_EQ(grid->GetPointData()->GetAbstractArray("cell_mass"), nullptr) << "cell data, not point data";
        for (vtkIdType id = 0; id < rank->GetNumberOfTuples(); ++id)
          {
            summary.ranks_seen.insert(static_cast<int>(rank->GetComponent(id, 0)));
            // Uniform meshes of coarse cells (no global refinements in small-2d.prm).
            EXPECT_EQ(level->GetComponent(id, 0), 0.0) << "cell " << id;
          }

        // ParaView smoothness: one Lagrange cell of the DG degree per mesh cell.
        for (vtkIdType id = 0; id < grid->GetNumberOfCells(); ++id)
          {
            ASSERT_EQ(grid->GetCellType(id), lagrange_type(c.dimension, c.degree)) << "cell " << id;
            ASSERT_EQ(grid->GetCell(id)->GetNumberOfPoints(), points_per_cell) << "cell " << id;
          }
        EXPECT_EQ(grid->GetNumberOfPoints(), grid->GetNumberOfCells() * points_per_cell)
          << "DG: no points shared between cells";
        expect_points_at_parametric_coordinates(grid, c.dimension);

        // The time rides along in the file itself (pvtu: read from the pieces).
        for (const char *name : {"TIME", "TimeValue"})
          {
            vtkDataArray *time = grid->GetFieldData()->GetArray(name);
            ASSERT_NE(time, nullptr) << name;
            EXPECT_EQ(time->GetComponent(0, 0), entry.time) << name;
          }
        ++summary.n_outputs;
      }

    EXPECT_EQ(summary.n_outputs, series.size()) << "every output was checked";
    EXPECT_EQ(summary.ranks_seen.size(), c.ranks) << "every rank wrote cells";
    for (const auto &file : fs::directory_iterator(directory))
      EXPECT_NE(file.path().extension(), ".tmp") << "left behind: " << file.path();
    std::printf("[ %s ] %zu outputs, max |integral - mass| / mass = %.3e, max |sum cell_mass - mass| / mass = %.3e\n",
                c.name.c_str(), summary.n_outputs, summary.max_integral_deviation, summary.max_cell_sum_deviation);
  }

  Summary run_and_check(const Case &c)
  {
    Summary summary;
    check_output(run(c), c, summary);
    return summary;
  }

  // At t = 0 the density is the Gaussian N(m, S) and the softmax attention
  // velocity is affine, X(x) = V (m + beta S K^T Q x) with beta = 1 (the
  // tilted Gaussian's mean). Both are compared at every written point away
  // from the domain boundary, so that a point order that is right for the
  // geometry but wrong for a field is caught. Returns the largest relative
  // deviations (density, velocity).
  std::pair<double, double> compare_initial_fields(vtkUnstructuredGrid                   *grid,
                                                   int                                    dimension,
                                                   const std::vector<double>              &mean,
                                                   const std::vector<std::vector<double>> &covariance,
                                                   double                                  key_query,
                                                   double                                  value)
  {
    // Inverse and determinant of S (1x1 or 2x2).
    double determinant = covariance[0][0];
    std::vector<std::vector<double>> inverse = {{1 / covariance[0][0]}};
    if (dimension == 2)
      {
        determinant = covariance[0][0] * covariance[1][1] - covariance[0][1] * covariance[1][0];
        inverse     = {{covariance[1][1] / determinant, -covariance[0][1] / determinant},
                       {-covariance[1][0] / determinant, covariance[0][0] / determinant}};
      }
    const double pi   = std::acos(-1.0);
    const double peak = 1 / std::sqrt(std::pow(2 * pi, dimension) * determinant);

    vtkDataArray *density  = grid->GetPointData()->GetArray("density");
    vtkDataArray *velocity = grid->GetPointData()->GetArray("velocity");
    if (density == nullptr || velocity == nullptr)
      throw std::runtime_error("no density or velocity point array");
    double density_deviation = 0, velocity_deviation = 0, velocity_scale = 0;
    for (vtkIdType i = 0; i < grid->GetNumberOfPoints(); ++i)
      {
        double x[3];
        grid->GetPoint(i, x);
        bool inside = true;
        for (int d = 0; d < dimension; ++d)
          inside = inside && std::abs(x[d] - mean[d]) <= 2;
        if (!inside)
          continue;
        double exponent = 0;
        for (int a = 0; a < dimension; ++a)
          for (int b = 0; b < dimension; ++b)
            exponent += (x[a] - mean[a]) * inverse[a][b] * (x[b] - mean[b]);
        density_deviation =
          std::max(density_deviation, std::abs(density->GetComponent(i, 0) - peak * std::exp(-0.5 * exponent)) / peak);
        for (int a = 0; a < dimension; ++a)
          {
            double expected = mean[a];
            for (int b = 0; b < dimension; ++b)
              expected += covariance[a][b] * key_query * x[b];
            expected *= value;
            velocity_scale     = std::max(velocity_scale, std::abs(expected));
            velocity_deviation = std::max(velocity_deviation, std::abs(velocity->GetComponent(i, a) - expected));
          }
      }
    return {density_deviation, velocity_deviation / velocity_scale};
  }

  vtkSmartPointer<vtkUnstructuredGrid> first_output(const std::string &directory)
  {
    const auto series = post::read_pvd((fs::path(directory) / "solution.pvd").string());
    if (series.empty() || series.front().time != 0.0)
      throw std::runtime_error("no output at t = 0 in " + directory);
    return post::read_grid(series.front().file);
  }

  const std::string one_dimensional = set("Mesh/lower corner=-6") + set("Mesh/upper corner=6") +
                                      set("Attention/Q=1") + set("Attention/K=0.5") + set("Attention/V=-1") +
                                      set("Initial condition/mean=0.5") +
                                      set("Initial condition/covariance=0.5");
  const std::string three_dimensional =
    set("Attention/Q=1,0,0;0,1,0;0,0,1") +
    set("Attention/K=0.5,0,0;0,0.5,0;0,0,0.5") + set("Attention/V=-1,0,0;0,-1,0;0,0,-1") +
    set("Initial condition/mean=0.5,-0.25,0") + set("Initial condition/covariance=1,0.2,0;0.2,0.8,0;0,0,0.6") +
    set("Time stepping/end time=0.05") + set("Output/interval=0.025");
} // namespace

TEST(OutputVtk, TwoDimensionalQ2MatchesMass)
{
  const auto info = run_and_check(make_case("2d_q2", 2, 2, ""));
  EXPECT_GE(info.n_outputs, 3u);
  EXPECT_EQ(info.ranks_seen, (std::set<int>{0}));
}

// small-2d.prm: m = (1, -0.5), S = (1, 0.3; 0.3, 0.5), K^T Q = 0.5 I, V = -I.
TEST(OutputVtk, TwoDimensionalInitialFieldsAtTheirPoints)
{
  const Case c = make_case("2d_q2_fields", 2, 2, set("Mesh/subdivisions=24") + set("Time stepping/end time=0.01"));
  const auto [density, velocity] =
    compare_initial_fields(first_output(run(c)), 2, {1, -0.5}, {{1, 0.3}, {0.3, 0.5}}, 0.5, -1);
  std::printf("[ %s ] t = 0: max density error / peak = %.3e, max velocity error / scale = %.3e\n",
              c.name.c_str(), density, velocity);
  EXPECT_LE(density, 0.02);
  EXPECT_LE(velocity, 0.005);
}

TEST(OutputVtk, OneDimensionalInitialFieldsAtTheirPoints)
{
  const Case c = make_case("1d_q3_fields", 1, 3, one_dimensional + set("Mesh/subdivisions=24") +
                                                       set("Time stepping/end time=0.01"));
  const auto [density, velocity] = compare_initial_fields(first_output(run(c)), 1, {0.5}, {{0.5}}, 0.5, -1);
  std::printf("[ %s ] t = 0: max density error / peak = %.3e, max velocity error / scale = %.3e\n",
              c.name.c_str(), density, velocity);
  EXPECT_LE(density, 0.005);
  EXPECT_LE(velocity, 1e-4);
}

TEST(OutputVtk, TwoDimensionalQ1UsesLinearCells)
{
  run_and_check(make_case("2d_q1", 2, 1, set("Time stepping/end time=0.1")));
}

TEST(OutputVtk, OneDimensionalQ3MatchesMass)
{
  run_and_check(make_case("1d_q3", 1, 3, one_dimensional));
}

TEST(OutputVtk, ThreeDimensionalQ2MatchesMass)
{
  run_and_check(make_case("3d_q2", 3, 2, three_dimensional + set("Mesh/subdivisions=4")));
}

// Order 4 exercises VTK's face and interior numbering of Lagrange hexahedra.
TEST(OutputVtk, ThreeDimensionalQ4MatchesMass)
{
  run_and_check(make_case("3d_q4", 3, 4, three_dimensional + set("Mesh/subdivisions=3")));
}

TEST(OutputVtk, TwoRanksWritePvtuThatMatchesMass)
{
  const Case c = make_case("2d_q2_np2", 2, 2, "", 2);
  Summary    info;
  const auto dir = run(c);
  check_output(dir, c, info);
  EXPECT_EQ(info.ranks_seen, (std::set<int>{0, 1}));
  EXPECT_TRUE(fs::exists(fs::path(dir) / "solution_00000.0000.vtu"));
  EXPECT_TRUE(fs::exists(fs::path(dir) / "solution_00000.0001.vtu"));
}

TEST(OutputVtk, TwoRanksOneDimensional)
{
  const auto info = run_and_check(make_case("1d_q3_np2", 1, 3, one_dimensional, 2));
  EXPECT_EQ(info.ranks_seen, (std::set<int>{0, 1}));
}

TEST(OutputVtk, TwoRanksThreeDimensional)
{
  const auto info = run_and_check(make_case("3d_q2_np2", 3, 2, three_dimensional + set("Mesh/subdivisions=4"), 2));
  EXPECT_EQ(info.ranks_seen, (std::set<int>{0, 1}));
}
