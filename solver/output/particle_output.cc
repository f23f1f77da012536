#include "output/particle_output.h"

#include "sphere/circle_chart.h"

#include <vtkCellArray.h>
#include <vtkDoubleArray.h>
#include <vtkFieldData.h>
#include <vtkIdTypeArray.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkXMLPolyDataWriter.h>

#include <cstdio>
#include <filesystem>
#include <numeric>
#include <stdexcept>

namespace tpde
{
  ParticleVtkOutput::ParticleVtkOutput(std::string directory, unsigned int dim, bool circle)
    : directory(std::move(directory))
    , dim(circle ? 1 : dim)
    , circle(circle)
    , series((std::filesystem::path(this->directory) / "particles.pvd").string())
  {}

  void ParticleVtkOutput::write(double time, const std::vector<double> &positions, const double *velocity)
  {
    const vtkIdType n = static_cast<vtkIdType>(positions.size() / dim);
    vtkNew<vtkPoints> points;
    points->SetDataTypeToDouble();
    points->SetNumberOfPoints(n);
    vtkNew<vtkDoubleArray> velocity_array;
    velocity_array->SetName("velocity");
    velocity_array->SetNumberOfComponents(3);
    velocity_array->SetNumberOfTuples(n);
    vtkNew<vtkIdTypeArray> token_id;
    token_id->SetName("token_id");
    token_id->SetNumberOfValues(n);
    vtkNew<vtkDoubleArray> theta;
    theta->SetName("theta");
    theta->SetNumberOfValues(circle ? n : 0);
    for (vtkIdType i = 0; i < n; ++i)
      {
        double x[3] = {0, 0, 0}, v[3] = {0, 0, 0};
        for (unsigned int c = 0; c < dim; ++c)
          {
            x[c] = positions[i * dim + c];
            if (velocity)
              v[c] = velocity[i * dim + c];
          }
        if (circle)
          {
            // x[0] is the angle: the point on the ring, the speed along (-sin, cos).
            theta->SetValue(i, x[0]);
            sphere::circle_point(x[0], x);
            const double speed = v[0];
            v[0]               = -speed * x[1];
            v[1]               = speed * x[0];
          }
        points->SetPoint(i, x);
        velocity_array->SetTuple(i, v);
        token_id->SetValue(i, i);
      }
    // One vertex cell per token, so ParaView shows them without a glyph filter.
    vtkNew<vtkIdTypeArray> connectivity;
    connectivity->SetNumberOfValues(n);
    std::iota(connectivity->GetPointer(0), connectivity->GetPointer(0) + n, vtkIdType(0));
    vtkNew<vtkCellArray> vertices;
    if (!vertices->SetData(1, connectivity))
      throw std::logic_error("ParticleVtkOutput: cannot build the vertex cells");

    vtkNew<vtkPolyData> cloud;
    cloud->SetPoints(points);
    cloud->SetVerts(vertices);
    cloud->GetPointData()->AddArray(velocity_array);
    cloud->GetPointData()->SetActiveVectors("velocity");
    cloud->GetPointData()->AddArray(token_id);
    if (circle)
      cloud->GetPointData()->AddArray(theta);
    vtkNew<vtkFieldData>   field_data;
    vtkNew<vtkDoubleArray> time_array;
    time_array->SetName("TimeValue"); // the time VTK's XML readers (and ParaView) pick up
    time_array->InsertNextValue(time);
    field_data->AddArray(time_array);
    cloud->SetFieldData(field_data);

    char name[64];
    std::snprintf(name, sizeof name, "particles_%05u.vtp", n_written());
    vtkNew<vtkXMLPolyDataWriter> writer;
    writer->SetInputData(cloud);
    write_vtk_xml_atomically(writer.Get(), (std::filesystem::path(directory) / name).string());
    series.add(time, name);
    series.write();
  }
} // namespace tpde
