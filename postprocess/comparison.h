// Distances between a grid run (DG density on VTK Lagrange cells) and a
// particle run (token clouds), or between two particle runs:
//  * moments (mean, covariance; the grid's normalised by its mass);
//  * W1 in 1D, exact: the integral of |F_grid - F_tokens| with the grid CDF
//    integrated from the cell polynomials;
//  * W1 on the circle (runs on Mesh/domain = sphere, d = 2, recognised by
//    their point array `theta`): min over c of the integral over [0, 2 pi) of
//    |F - G - c| with F, G the CDFs in theta, the minimum at the median of
//    F - G (exact for two token sets; against a grid c is found by golden
//    section to 1e-13, the distance then exact to round-off);
//  * sliced W2 in 2D/3D over fixed directions, each 1D W2 exact between the
//    token cloud and the grid measure represented by Gauss atoms on sub-cells;
//  * on S^2 (runs on Mesh/domain = sphere, d = 3: the grid is a surface of 2D
//    cells in R^3, the tokens unit points of R^3) the same sliced W2 of the
//    ambient points over the fixed 3D directions, with the grid's atoms and
//    moments read at x / |x| (MeshDensity::set_unit_sphere): a distance
//    between measures on the sphere (it metrizes weak convergence there), at
//    most W2 in R^3 (chordal), so at most the geodesic W2;
//  * the L1 distance between the cell histogram of the tokens (tokens per cell
//    / (N |K|)) and the grid density, and its floor for N -> infinity (the L1
//    distance between the grid density and its own cell means).
// Every function throws std::runtime_error with a one-line message on input
// it cannot handle.
#pragma once

#include <vtkPolyData.h>
#include <vtkSmartPointer.h>
#include <vtkUnstructuredGrid.h>

#include <array>
#include <string>
#include <vector>

namespace tpde::postprocess
{
  /// A probability measure as weighted atoms in R^dim (weights sum to 1).
  struct WeightedCloud
  {
    unsigned int        dim = 1;
    std::vector<double> points;  // size() x dim, row-major
    std::vector<double> weights; // size()
    std::size_t         size() const { return weights.size(); }
  };

  /// The runs on the circle write the point array `theta`: its values, or
  /// nothing if the data set has none.
  std::vector<double> circle_angles(vtkDataSet *data);

  /// A ring grid with `theta` as its one coordinate (the circle's chart, cells
  /// from theta to theta + h, the last ending at 2 pi), for MeshDensity(..., 1).
  vtkSmartPointer<vtkUnstructuredGrid> circle_chart_grid(vtkUnstructuredGrid *ring);

  /// Exact W1 on the circle (geodesic distance) between two weighted sets of
  /// angles in [0, 2 pi).
  double w1_circle(std::vector<double> a, std::vector<double> a_weights, std::vector<double> b,
                   std::vector<double> b_weights);

  /// Equal weights 1/N; `points` is N x dim.
  WeightedCloud uniform_cloud(unsigned int dim, std::vector<double> points);

  /// The first `dim` coordinates of the points of a .vtp, weights 1/N.
  WeightedCloud cloud_from_polydata(vtkPolyData *tokens, unsigned int dim);

  struct MomentSet
  {
    std::vector<double> mean;       // dim
    std::vector<double> covariance; // dim x dim
  };
  MomentSet moments(const WeightedCloud &cloud);

  /// Fixed unit directions: in 2D angles pi k / count, in 3D a Fibonacci spiral
  /// over the upper half sphere (W2 does not see the sign of a direction).
  std::vector<std::array<double, 3>> slicing_directions(unsigned int dim, unsigned int count);

  /// Exact W1 and W2 between two weighted 1D measures (values need not be sorted).
  double w1_1d(std::vector<double> a, std::vector<double> a_weights, std::vector<double> b,
               std::vector<double> b_weights);
  double w2_1d(std::vector<double> a, std::vector<double> a_weights, std::vector<double> b,
               std::vector<double> b_weights);

  /// sqrt(mean over the directions of W2(theta # a, theta # b)^2).
  double sliced_w2(const WeightedCloud &a, const WeightedCloud &b, const std::vector<std::array<double, 3>> &directions);

  /// The scalar point field `field` of a grid run, normalised to mass 1, on
  /// lines, quadrilaterals or hexahedra (linear or Lagrange) with straight
  /// sides (multilinear cell maps, as TPDE writes them: the Jacobians come
  /// from central differences of the cell map, exact for such cells).
  class MeshDensity
  {
  public:
    MeshDensity(vtkUnstructuredGrid *grid, unsigned int dim, const std::string &field = "density");

    unsigned int dimension() const { return dim; }

    /// S^2: the grid is a surface (2D cells) in R^3 and the measure lives on
    /// the unit sphere: moments() and atoms() give points of R^3, the
    /// quadrature points projected to x / |x| (mass and weights from the
    /// surface's own area element). Throws unless the cells are 2D.
    void set_unit_sphere();
    /// Coordinates of the points of moments() and atoms(): 3 on S^2, else dim.
    unsigned int point_dimension() const { return on_sphere ? 3 : dim; }
    /// Integral of the field before normalisation.
    double    mass() const { return total_mass; }
    MomentSet moments() const;

    /// Gauss atoms, (p + 1)^dim on each of subdivisions^dim sub-cells, weights
    /// rho JxW / mass (negative values of rho clipped to 0, then renormalised).
    WeightedCloud atoms(unsigned int subdivisions) const;
    /// The Gauss points of atoms() with their weights JxW (negative values kept, not normalised):
    /// sum of weights x values is mass(), exact for the cell polynomials.
    struct Quadrature
    {
      unsigned int        dim = 1;
      std::vector<double> points;  // size() x dim (point_dimension())
      std::vector<double> weights; // JxW
      std::vector<double> values;  // the field at the points
    };
    Quadrature quadrature_rule(unsigned int subdivisions = 1) const;
    /// Largest sub-cell diameter: an upper bound of W2(grid, atoms) for rho >= 0.
    double atom_cell_diameter(unsigned int subdivisions) const;

    /// 1D only: exact W1 to the tokens (weights 1/N).
    double w1_to_tokens(std::vector<double> tokens) const;

    /// The circle's chart (circle_chart_grid) only: W1 on the circle to the
    /// tokens' angles in [0, 2 pi) (weights 1/N).
    double w1_circle_to_tokens(std::vector<double> angles) const;

    /// The circle's chart only: moments of the ambient point (cos, sin).
    MomentSet circle_moments() const;

    struct HistogramL1
    {
      double distance;    // sum_K int_K |rho - n_K / (N |K|)| + share of tokens outside the mesh
      double floor;       // sum_K int_K |rho - mass_K / |K||
      double outside;     // share of tokens in no cell
    };
    HistogramL1 histogram_l1(const WeightedCloud &tokens) const;

  private:
    /// int |F_grid - F_tokens - shift| dx over the mesh and the sorted tokens.
    double cdf_distance(const std::vector<double> &sorted_tokens, double shift) const;

    struct QuadraturePoint
    {
      vtkIdType cell;
      double    x[3];
      double    density; // not normalised
      double    JxW;
    };
    /// Gauss points of every cell; `subdivisions` sub-cells per direction.
    std::vector<QuadraturePoint> quadrature(unsigned int subdivisions) const;

    /// q's point (dim coordinates; on S^2 the 3 of x / |x|) appended to points.
    void append_point(const QuadraturePoint &q, std::vector<double> &points) const;

    vtkUnstructuredGrid *grid;
    unsigned int         dim;
    bool                 on_sphere = false;
    std::string          field;
    int                  order = 1; // of the cells
    double               total_mass = 0;
  };
} // namespace tpde::postprocess
