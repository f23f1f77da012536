#include "output/particle_output.h"

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
  ParticleVtkOutput::ParticleVtkOutput(std::string directory, unsigned int dim)
    : directory(std::move(directory))
    , dim(dim)
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
    for (vtkIdType i = 0; i < n; ++i)
      {
        double x[3] = {0, 0, 0}, v[3] = {0, 0, 0};
        for (unsigned int c = 0; c < dim; ++c)
          {
            x[c] = positions[i * dim + c];
            if (velocity)
              v[c] = velocity[i * dim + c];
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
