// tpde._tpde: TPDE's ParaView output read back (postprocess/vtk_reader.h, comparison.h) and the
// distance table of tpde-compare (postprocess/compare_runs.h), as NumPy arrays.
#include "python/bindings.h"

#include "postprocess/compare_runs.h"
#include "postprocess/comparison.h"
#include "postprocess/vtk_reader.h"

#include <pybind11/stl.h>

#include <vtkPointData.h>

namespace tpde::python
{
  namespace
  {
    namespace pp = tpde::postprocess;

    /// The readers throw std::runtime_error with a one-line message on bad files: an input error here.
    template <typename Function>
    auto reading(const Function &read)
    {
      try
        {
          return read();
        }
      catch (const std::runtime_error &e)
        {
          throw InputError(e.what());
        }
    }

    py::array_t<double> rows_of(const std::vector<double> &values, std::size_t columns)
    {
      const std::size_t   rows = columns ? values.size() / columns : 0;
      py::array_t<double> array({rows, columns});
      std::copy(values.begin(), values.end(), array.mutable_data());
      return array;
    }

    /// The density of a grid run's .vtu/.pvtu on Gauss points: (points, weights, values, dimension).
    /// The circle's runs in their angle chart (points are angles), S^2 at x / |x|.
    py::tuple grid_density(const std::string &file, const std::string &field, unsigned int subdivisions)
    {
      return reading([&] {
        auto grid = pp::read_grid(file);
        if (!grid->GetPointData()->GetArray(field.c_str()))
          throw std::runtime_error(file + ": no point array '" + field + "'");
        const bool   circle = !pp::circle_angles(grid).empty();
        unsigned int dim    = circle ? 1 : static_cast<unsigned int>(pp::cell_dimension(grid));
        double       bounds[6];
        grid->GetBounds(bounds);
        const bool surface = !circle && dim == 2 && bounds[5] > bounds[4];
        if (circle)
          grid = pp::circle_chart_grid(grid);
        pp::MeshDensity density(grid, dim, field);
        if (surface)
          density.set_unit_sphere();
        const auto rule = density.quadrature_rule(subdivisions);
        py::array_t<double> weights(rule.weights.size()), values(rule.values.size());
        std::copy(rule.weights.begin(), rule.weights.end(), weights.mutable_data());
        std::copy(rule.values.begin(), rule.values.end(), values.mutable_data());
        return py::make_tuple(rows_of(rule.points, rule.dim), weights, values);
      });
    }

    /// The points (N, 3) of a particle run's .vtp and its point arrays by name.
    py::tuple token_file(const std::string &file)
    {
      return reading([&] {
        const auto          data = pp::read_polydata(file);
        std::vector<double> points(3 * data->GetNumberOfPoints());
        for (vtkIdType i = 0; i < data->GetNumberOfPoints(); ++i)
          data->GetPoint(i, &points[3 * i]);
        py::dict arrays;
        for (int a = 0; a < data->GetPointData()->GetNumberOfArrays(); ++a)
          {
            vtkDataArray *array = data->GetPointData()->GetArray(a);
            if (!array || !array->GetName())
              continue;
            const int           components = array->GetNumberOfComponents();
            std::vector<double> values(std::size_t(components) * array->GetNumberOfTuples());
            for (vtkIdType i = 0; i < array->GetNumberOfTuples(); ++i)
              for (int c = 0; c < components; ++c)
                values[i * components + c] = array->GetComponent(i, c);
            arrays[array->GetName()] = rows_of(values, components);
          }
        return py::make_tuple(rows_of(points, 3), arrays);
      });
    }

    py::tuple compare(const std::string &reference, const std::string &particles, std::optional<unsigned int> dimension,
                      unsigned int directions, std::optional<unsigned int> subdivisions)
    {
      pp::CompareOptions options;
      options.dimension    = dimension;
      options.directions   = directions;
      options.subdivisions = subdivisions;
      pp::DistanceTable table;
      try
        {
          py::gil_scoped_release released;
          table = pp::compare_runs(reference, particles, options);
        }
      catch (const std::exception &e) // CompareOptionError or a file it cannot read: tpde-compare's exit 2
        {
          throw InputError(e.what());
        }
      std::vector<double> values;
      for (const auto &row : table.rows)
        values.insert(values.end(), row.begin(), row.end());
      return py::make_tuple(table.header, rows_of(values, table.header.size()), table.distances, table.description);
    }
  } // namespace

  void bind_postprocess(py::module_ &m)
  {
    m.def(
      "read_pvd",
      [](const std::string &file) {
        return reading([&] {
          std::vector<std::pair<double, std::string>> entries;
          for (const auto &entry : pp::read_pvd(file))
            entries.emplace_back(entry.time, entry.file);
          return entries;
        });
      },
      py::arg("file"), "The (time, absolute file) entries of a ParaView .pvd collection.");
    m.def("grid_density", &grid_density, py::arg("file"), py::arg("field") = "density", py::arg("subdivisions") = 1,
          "(points, weights, values) of a grid run's field on the Gauss points of its cells.");
    m.def("token_file", &token_file, py::arg("file"), "(points (N, 3), {array name: (N, components)}) of a .vtp.");
    m.def("compare", &compare, py::arg("reference"), py::arg("particles"), py::arg("dimension") = py::none(),
          py::arg("directions") = 64, py::arg("subdivisions") = py::none(),
          "(header, rows, distance columns, description): tpde-compare's table.");
  }
} // namespace tpde::python
