// The circle's side of comparison.h: runs on Mesh/domain = sphere, d = 2,
// carry the point array `theta`; the grid is read in its angle chart.
#include "postprocess/comparison.h"

#include <vtkDataArray.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tpde::postprocess
{
  std::vector<double> circle_angles(vtkDataSet *data)
  {
    vtkDataArray *theta = data ? data->GetPointData()->GetArray("theta") : nullptr;
    if (theta == nullptr || theta->GetNumberOfComponents() != 1)
      return {};
    std::vector<double> values(theta->GetNumberOfTuples());
    for (vtkIdType i = 0; i < theta->GetNumberOfTuples(); ++i)
      values[i] = theta->GetComponent(i, 0);
    return values;
  }

  vtkSmartPointer<vtkUnstructuredGrid> circle_chart_grid(vtkUnstructuredGrid *ring)
  {
    const std::vector<double> theta = circle_angles(ring);
    if (theta.empty() || theta.size() != std::size_t(ring->GetNumberOfPoints()))
      throw std::runtime_error("the grid has no point array 'theta' (not a run on the circle)");
    auto chart = vtkSmartPointer<vtkUnstructuredGrid>::New();
    chart->DeepCopy(ring);
    vtkNew<vtkPoints> points;
    points->SetDataTypeToDouble();
    points->SetNumberOfPoints(ring->GetNumberOfPoints());
    for (vtkIdType i = 0; i < ring->GetNumberOfPoints(); ++i)
      points->SetPoint(i, theta[i], 0., 0.);
    chart->SetPoints(points);
    return chart;
  }

  double MeshDensity::w1_circle_to_tokens(std::vector<double> angles) const
  {
    if (dim != 1)
      throw std::runtime_error("W1 on the circle needs the circle's chart (1D cells in theta)");
    if (angles.empty())
      throw std::runtime_error("no tokens");
    for (const double theta : angles)
      if (!(theta >= 0 && theta <= 2 * M_PI))
        throw std::runtime_error("a token angle lies outside [0, 2 pi]");
    std::sort(angles.begin(), angles.end());
    // h(c) = int |F - G - c| is convex in c, F - G in [-1, 1]: golden section.
    const double ratio = 0.5 * (std::sqrt(5.) - 1);
    double       lo = -1, hi = 1;
    double       a = hi - ratio * (hi - lo), b = lo + ratio * (hi - lo);
    double       ha = cdf_distance(angles, a), hb = cdf_distance(angles, b);
    while (hi - lo > 1e-13)
      if (ha <= hb)
        {
          hi = b, b = a, hb = ha;
          a  = hi - ratio * (hi - lo);
          ha = cdf_distance(angles, a);
        }
      else
        {
          lo = a, a = b, ha = hb;
          b  = lo + ratio * (hi - lo);
          hb = cdf_distance(angles, b);
        }
    return std::min(ha, hb);
  }

  MomentSet MeshDensity::circle_moments() const
  {
    WeightedCloud cloud;
    cloud.dim = 2;
    for (const QuadraturePoint &q : quadrature(1))
      {
        cloud.points.push_back(std::cos(q.x[0]));
        cloud.points.push_back(std::sin(q.x[0]));
        cloud.weights.push_back(q.density * q.JxW); // signed, as moments()
      }
    return postprocess::moments(cloud);
  }
} // namespace tpde::postprocess
