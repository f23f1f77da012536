#include "postprocess/vtk_reader.h"

#include <vtkCellData.h>
#include <vtkCellType.h>
#include <vtkCommand.h>
#include <vtkDataArray.h>
#include <vtkDataSetAttributes.h>
#include <vtkExecutive.h>
#include <vtkGenericCell.h>
#include <vtkIdList.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkUnsignedCharArray.h>
#include <vtkXMLDataElement.h>
#include <vtkXMLDataParser.h>
#include <vtkXMLPPolyDataReader.h>
#include <vtkXMLPUnstructuredGridReader.h>
#include <vtkXMLPolyDataReader.h>
#include <vtkXMLReader.h>
#include <vtkXMLUnstructuredGridReader.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>

namespace tpde::postprocess
{
  namespace
  {
    namespace fs = std::filesystem;

    // Collects VTK error messages of the objects it observes, so that they end
    // up in our exception instead of VTK's output window (stderr).
    class ErrorCollector : public vtkCommand
    {
    public:
      static ErrorCollector *New() { return new ErrorCollector; }

      void Execute(vtkObject *, unsigned long, void *call_data) override
      {
        std::string text = call_data != nullptr ? static_cast<const char *>(call_data) : "";
        // VTK messages are multi-line ("ERROR: In file, line N\nclass (ptr): text\n");
        // keep the last non-empty line, which carries the actual text.
        while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
          text.pop_back();
        const auto newline = text.find_last_of('\n');
        if (newline != std::string::npos)
          text = text.substr(newline + 1);
        // ... and drop its "vtkSomeClass (0x1234): " prefix.
        const auto prefix_end = text.find("): ");
        if (text.rfind("vtk", 0) == 0 && prefix_end != std::string::npos)
          text = text.substr(prefix_end + 3);
        if (message.empty())
          message = text;
      }

      std::string message;
    };

    std::string lowercase_extension(const std::string &path)
    {
      std::string extension = fs::path(path).extension().string();
      std::transform(extension.begin(), extension.end(), extension.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return extension;
    }

    void require_readable_file(const std::string &path)
    {
      std::error_code error;
      if (!fs::is_regular_file(path, error))
        throw std::runtime_error("cannot read " + path + ": no such file");
    }

    // Runs an XML reader with its errors captured; returns its output or throws.
    template <typename Reader>
    vtkDataObject *update_reader(Reader *reader, const std::string &path)
    {
      vtkNew<ErrorCollector> errors;
      reader->SetReaderErrorObserver(errors);
      reader->SetParserErrorObserver(errors);
      reader->AddObserver(vtkCommand::ErrorEvent, errors);
      reader->GetExecutive()->AddObserver(vtkCommand::ErrorEvent, errors); // pipeline failures
      reader->SetFileName(path.c_str());
      reader->Update();
      if (!errors->message.empty())
        throw std::runtime_error("cannot read " + path + ": " + errors->message);
      vtkDataObject *output = reader->GetOutputDataObject(0);
      if (output == nullptr)
        throw std::runtime_error("cannot read " + path + ": reader produced no data");
      return output;
    }

    double parse_double(const char *text, const std::string &what)
    {
      if (text == nullptr)
        throw std::runtime_error(what + " is missing");
      errno = 0;
      char        *end   = nullptr;
      const double value = std::strtod(text, &end);
      while (end != nullptr && *end != '\0' && std::isspace(static_cast<unsigned char>(*end)))
        ++end;
      if (end == text || *end != '\0' || errno == ERANGE || !std::isfinite(value))
        throw std::runtime_error(what + " is not a number: \"" + std::string(text) + "\"");
      return value;
    }

    // ---- quadrature ---------------------------------------------------------

    // Gauss-Legendre points are exact for polynomials of degree 2n-1; five per
    // direction cover degree-8 integrands (degree-4 fields times degree-4
    // geometry or moment factors on the usual cells).
    constexpr int tensor_points_per_direction = 5;
    // Collapsed (Duffy) simplex rules raise the degree by up to two.
    constexpr int simplex_points_per_direction = 6;

    struct QuadratureRule
    {
      std::vector<std::array<double, 3>> points;
      std::vector<double>                weights;
    };

    // n-point Gauss-Legendre rule on [0,1], by Newton iteration on P_n.
    std::vector<std::pair<double, double>> gauss_legendre_unit(int n)
    {
      std::vector<std::pair<double, double>> rule(n);
      const double                           pi = std::acos(-1.0);
      for (int i = 0; i < n; ++i)
        {
          double x = std::cos(pi * (i + 0.75) / (n + 0.5));
          double derivative = 1.0;
          for (int iteration = 0; iteration < 100; ++iteration)
            {
              double p_previous = 1.0, p = x; // P_0, P_1
              for (int k = 2; k <= n; ++k)
                {
                  const double p_next = ((2 * k - 1) * x * p - (k - 1) * p_previous) / k;
                  p_previous          = p;
                  p                   = p_next;
                }
              derivative       = n * (x * p - p_previous) / (x * x - 1.0);
              const double step = p / derivative;
              x -= step;
              if (std::abs(step) < 1e-16)
                break;
            }
          const double weight = 2.0 / ((1.0 - x * x) * derivative * derivative);
          rule[i]             = {0.5 * (1.0 - x), 0.5 * weight}; // map [-1,1] -> [0,1]
        }
      return rule;
    }

    // Tensor rule on the box [lower, upper] (first `dimension` directions).
    QuadratureRule tensor_rule(int dimension, const double lower[3], const double upper[3])
    {
      const auto     line = gauss_legendre_unit(tensor_points_per_direction);
      const int      n    = static_cast<int>(line.size());
      QuadratureRule rule;
      const int      count_y = dimension > 1 ? n : 1;
      const int      count_z = dimension > 2 ? n : 1;
      for (int k = 0; k < count_z; ++k)
        for (int j = 0; j < count_y; ++j)
          for (int i = 0; i < n; ++i)
            {
              const std::array<int, 3>    index = {i, j, k};
              std::array<double, 3> point = {0.0, 0.0, 0.0};
              double                weight = 1.0;
              for (int d = 0; d < dimension; ++d)
                {
                  const double length = upper[d] - lower[d];
                  point[d]            = lower[d] + length * line[index[d]].first;
                  weight *= length * line[index[d]].second;
                }
              rule.points.push_back(point);
              rule.weights.push_back(weight);
            }
      return rule;
    }

    // Rule on VTK's unit simplex (vertices 0, e_1, ..., e_dim) through the
    // collapsed-coordinate map of the unit cube.
    QuadratureRule simplex_rule(int dimension)
    {
      const auto     line = gauss_legendre_unit(simplex_points_per_direction);
      QuadratureRule rule;
      if (dimension == 2)
        {
          for (const auto &[u, wu] : line)
            for (const auto &[v, wv] : line)
              {
                rule.points.push_back({u, (1.0 - u) * v, 0.0});
                rule.weights.push_back(wu * wv * (1.0 - u));
              }
        }
      else if (dimension == 3)
        {
          for (const auto &[u, wu] : line)
            for (const auto &[v, wv] : line)
              for (const auto &[w, ww] : line)
                {
                  rule.points.push_back({u, (1.0 - u) * v, (1.0 - u) * (1.0 - v) * w});
                  rule.weights.push_back(wu * wv * ww * (1.0 - u) * (1.0 - u) * (1.0 - v));
                }
        }
      else
        throw std::logic_error("simplex rule needs dimension 2 or 3");
      return rule;
    }

    enum class Shape
    {
      tensor,
      simplex,
      unsupported
    };

    Shape shape_of(int cell_type)
    {
      switch (cell_type)
        {
          case VTK_LINE:
          case VTK_QUADRATIC_EDGE:
          case VTK_CUBIC_LINE:
          case VTK_LAGRANGE_CURVE:
          case VTK_BEZIER_CURVE:
          case VTK_QUAD:
          case VTK_QUADRATIC_QUAD:
          case VTK_BIQUADRATIC_QUAD:
          case VTK_LAGRANGE_QUADRILATERAL:
          case VTK_BEZIER_QUADRILATERAL:
          case VTK_HEXAHEDRON:
          case VTK_QUADRATIC_HEXAHEDRON:
          case VTK_TRIQUADRATIC_HEXAHEDRON:
          case VTK_LAGRANGE_HEXAHEDRON:
          case VTK_BEZIER_HEXAHEDRON:
            return Shape::tensor;
          case VTK_TRIANGLE:
          case VTK_QUADRATIC_TRIANGLE:
          case VTK_LAGRANGE_TRIANGLE:
          case VTK_BEZIER_TRIANGLE:
          case VTK_TETRA:
          case VTK_QUADRATIC_TETRA:
          case VTK_LAGRANGE_TETRAHEDRON:
          case VTK_BEZIER_TETRAHEDRON:
            return Shape::simplex;
          default:
            return Shape::unsupported;
        }
    }

    // The rule for a cell's parametric domain. Tensor cells take the bounding
    // box of their nodes' parametric coordinates ([0,1]^d for all but
    // VTK_CUBIC_LINE, whose domain is [-1,1]).
    QuadratureRule rule_for(vtkGenericCell *cell, int dimension)
    {
      const int type = cell->GetCellType();
      if (shape_of(type) == Shape::simplex)
        return simplex_rule(dimension);
      if (shape_of(type) != Shape::tensor)
        throw std::runtime_error("cannot integrate over VTK cell type " + std::to_string(type));
      double       lower[3] = {0.0, 0.0, 0.0};
      double       upper[3] = {1.0, 1.0, 1.0};
      const double *pcoords = cell->GetParametricCoords();
      if (pcoords != nullptr && cell->GetNumberOfPoints() > 0)
        for (int d = 0; d < 3; ++d)
          {
            lower[d] = upper[d] = pcoords[d];
            for (vtkIdType i = 1; i < cell->GetNumberOfPoints(); ++i)
              {
                lower[d] = std::min(lower[d], pcoords[3 * i + d]);
                upper[d] = std::max(upper[d], pcoords[3 * i + d]);
              }
          }
      return tensor_rule(dimension, lower, upper);
    }

    // Where InterpolateDerivs puts dN_i/dr_j: entry [j * n + i] of the result
    // is the index of that derivative in VTK's output array.
    //
    // VTK 9.1 is inconsistent here: linear and quadratic cells store it at
    // j * n + i, the Lagrange quadrilateral and hexahedron at i * dim + j, and
    // vtkLagrangeCurve returns the derivatives with its nodes sorted by
    // position instead of in VTK's node order (InterpolateFunctions is in node
    // order everywhere). Instead of hard-coding this per type and VTK version,
    // try the candidate layouts against central differences of
    // InterpolateFunctions at an interior point and keep the one that agrees.
    std::vector<vtkIdType> derivative_layout(vtkGenericCell        *cell,
                                             int                    dimension,
                                             const std::array<double, 3> &point)
    {
      const vtkIdType n       = cell->GetNumberOfPoints();
      const double   *pcoords = cell->GetParametricCoords();

      std::vector<double> derivatives(3 * n), plus(n), minus(n), differences(dimension * n);
      cell->InterpolateDerivs(point.data(), derivatives.data());
      const double step = 1e-6;
      for (int j = 0; j < dimension; ++j)
        {
          std::array<double, 3> shifted = point;
          shifted[j]                    = point[j] + step;
          cell->InterpolateFunctions(shifted.data(), plus.data());
          shifted[j] = point[j] - step;
          cell->InterpolateFunctions(shifted.data(), minus.data());
          for (vtkIdType i = 0; i < n; ++i)
            differences[j * n + i] = (plus[i] - minus[i]) / (2 * step);
        }

      // Node orders: VTK's, and sorted lexicographically by (t, s, r).
      std::vector<vtkIdType> vtk_order(n), sorted_order(n);
      for (vtkIdType i = 0; i < n; ++i)
        vtk_order[i] = i;
      if (pcoords != nullptr)
        {
          std::vector<vtkIdType> by_position(vtk_order);
          const auto             key = [pcoords](vtkIdType i) {
            // Round so that equal coordinates computed differently compare equal.
            return std::array<long long, 3>{std::llround(pcoords[3 * i + 2] * 1e9),
                                            std::llround(pcoords[3 * i + 1] * 1e9),
                                            std::llround(pcoords[3 * i] * 1e9)};
          };
          std::stable_sort(by_position.begin(), by_position.end(),
                           [&](vtkIdType a, vtkIdType b) { return key(a) < key(b); });
          for (vtkIdType rank = 0; rank < n; ++rank)
            sorted_order[by_position[rank]] = rank;
        }
      else
        sorted_order = vtk_order;

      double                 scale = 1.0;
      for (const double d : differences)
        scale = std::max(scale, std::abs(d));
      std::vector<vtkIdType> layout(dimension * n);
      for (const auto *order : {&vtk_order, &sorted_order})
        for (const bool point_major : {false, true})
          {
            double deviation = 0.0;
            for (int j = 0; j < dimension; ++j)
              for (vtkIdType i = 0; i < n; ++i)
                {
                  const vtkIdType position = (*order)[i];
                  layout[j * n + i] = point_major ? position * dimension + j : j * n + position;
                  deviation = std::max(deviation, std::abs(derivatives[layout[j * n + i]] -
                                                           differences[j * n + i]));
                }
            if (deviation < 1e-6 * scale)
              return layout;
          }
      throw std::runtime_error("cannot interpret the shape function derivatives of VTK cell type " +
                               std::to_string(cell->GetCellType()));
    }

    // Shape function values and derivatives at the quadrature points, shared
    // by all cells of one kind: values[q * n + i] = N_i(r_q),
    // derivatives[(q * dimension + j) * n + i] = dN_i/dr_j(r_q).
    struct ShapeTable
    {
      QuadratureRule      rule;
      std::vector<double> values;
      std::vector<double> derivatives;
    };

    ShapeTable tabulate(vtkGenericCell *cell, int dimension)
    {
      ShapeTable      table;
      table.rule         = rule_for(cell, dimension);
      const vtkIdType n  = cell->GetNumberOfPoints();
      const auto      nq = table.rule.points.size();
      // A quadrature point away from the middle: off all symmetry planes.
      const auto layout = derivative_layout(cell, dimension, table.rule.points[nq / 3]);
      table.values.resize(nq * n);
      table.derivatives.resize(nq * dimension * n);
      std::vector<double> derivatives(3 * n);
      for (std::size_t q = 0; q < nq; ++q)
        {
          cell->InterpolateFunctions(table.rule.points[q].data(), &table.values[q * n]);
          cell->InterpolateDerivs(table.rule.points[q].data(), derivatives.data());
          for (int j = 0; j < dimension; ++j)
            for (vtkIdType i = 0; i < n; ++i)
              table.derivatives[(q * dimension + j) * n + i] = derivatives[layout[j * n + i]];
        }
      return table;
    }

    // Cells whose shape functions depend on more than type and node count:
    // Bezier cells may carry per-cell rational weights.
    bool has_per_cell_shape_functions(int cell_type)
    {
      return cell_type == VTK_BEZIER_CURVE || cell_type == VTK_BEZIER_QUADRILATERAL ||
             cell_type == VTK_BEZIER_HEXAHEDRON || cell_type == VTK_BEZIER_TRIANGLE ||
             cell_type == VTK_BEZIER_TETRAHEDRON;
    }

    // `other` is the grid's other attribute set (cell data for point data and
    // vice versa), only used to explain a miss.
    vtkDataArray *scalar_array(vtkDataSetAttributes *attributes,
                               vtkDataSetAttributes *other,
                               const std::string    &name,
                               const std::string    &kind)
    {
      vtkDataArray *array = attributes->GetArray(name.c_str());
      if (array == nullptr)
        {
          std::string available;
          for (int i = 0; i < attributes->GetNumberOfArrays(); ++i)
            if (const char *array_name = attributes->GetArrayName(i))
              available += std::string(available.empty() ? "" : ", ") + array_name;
          std::string hint;
          if (other != nullptr && other->GetAbstractArray(name.c_str()) != nullptr)
            hint = kind == "cell" ? "; it is point data here (deal.II's DataOut writes cell vectors as point data)"
                                  : "; it is cell data here";
          throw std::runtime_error("no " + kind + " array \"" + name + "\" (available: " +
                                   (available.empty() ? "none" : available) + ")" + hint);
        }
      if (array->GetNumberOfComponents() != 1)
        throw std::runtime_error(kind + " array \"" + name + "\" has " +
                                 std::to_string(array->GetNumberOfComponents()) +
                                 " components, expected a scalar");
      return array;
    }

    bool is_duplicate_cell(vtkUnsignedCharArray *ghosts, vtkIdType cell)
    {
      return ghosts != nullptr &&
             (ghosts->GetValue(cell) & vtkDataSetAttributes::DUPLICATECELL) != 0;
    }

    // Integral of field * (x_component if component >= 0); field == nullptr means 1.
    double integrate(vtkUnstructuredGrid *grid, vtkDataArray *field, int dimension, int component)
    {
      if (grid == nullptr)
        throw std::invalid_argument("integrate: null grid");
      if (dimension < 1 || dimension > 3)
        throw std::invalid_argument("dimension must be 1, 2 or 3, not " + std::to_string(dimension));
      if (component < -1 || component > 2)
        throw std::invalid_argument("moment component must be 0, 1 or 2");

      vtkNew<vtkGenericCell> cell;
      // Keyed by cell type, node count and (if present) the cell's
      // HigherOrderDegrees, which fix a Lagrange cell's shape functions.
      std::map<std::array<vtkIdType, 5>, ShapeTable> tables;
      vtkDataArray *degrees = grid->GetCellData()->GetHigherOrderDegrees();
      std::vector<double>                values;
      std::vector<std::array<double, 3>> nodes;
      std::vector<vtkIdType>             sorted_ids;
      vtkUnsignedCharArray              *ghosts = grid->GetCellGhostArray();
      double                             total  = 0.0;

      for (vtkIdType id = 0; id < grid->GetNumberOfCells(); ++id)
        {
          if (is_duplicate_cell(ghosts, id))
            continue;
          grid->GetCell(id, cell);
          if (cell->GetCellDimension() != dimension)
            throw std::runtime_error("cell " + std::to_string(id) + " (VTK type " +
                                     std::to_string(cell->GetCellType()) + ") has dimension " +
                                     std::to_string(cell->GetCellDimension()) + ", expected " +
                                     std::to_string(dimension));
          const vtkIdType n = cell->GetNumberOfPoints();
          // deal.II 9.4 writes 1D higher-order cells with repeated node ids;
          // integrating those would silently give garbage.
          sorted_ids.assign(cell->GetPointIds()->GetPointer(0), cell->GetPointIds()->GetPointer(0) + n);
          std::sort(sorted_ids.begin(), sorted_ids.end());
          if (std::adjacent_find(sorted_ids.begin(), sorted_ids.end()) != sorted_ids.end())
            throw std::runtime_error("cell " + std::to_string(id) + " (VTK type " +
                                     std::to_string(cell->GetCellType()) +
                                     ") uses a node twice: malformed connectivity");

          ShapeTable        per_cell_table;
          const ShapeTable *table = &per_cell_table;
          if (has_per_cell_shape_functions(cell->GetCellType()))
            per_cell_table = tabulate(cell, dimension);
          else
            {
              std::array<vtkIdType, 5> key = {cell->GetCellType(), n, -1, -1, -1};
              if (degrees != nullptr)
                for (int d = 0; d < std::min(3, degrees->GetNumberOfComponents()); ++d)
                  key[2 + d] = static_cast<vtkIdType>(degrees->GetComponent(id, d));
              auto found = tables.find(key);
              if (found == tables.end())
                found = tables.emplace(key, tabulate(cell, dimension)).first;
              table = &found->second;
            }

          values.resize(n);
          nodes.resize(n);
          for (vtkIdType i = 0; i < n; ++i)
            {
              cell->GetPoints()->GetPoint(i, nodes[i].data());
              values[i] = field != nullptr ? field->GetComponent(cell->GetPointId(i), 0) : 1.0;
            }

          for (std::size_t q = 0; q < table->rule.points.size(); ++q)
            {
              const double *shape       = &table->values[q * n];
              const double *derivatives = &table->derivatives[q * dimension * n];

              // Columns of the 3 x dimension Jacobian dx/dr_j.
              std::array<std::array<double, 3>, 3> jacobian{};
              double                               value = 0.0, position = 0.0;
              for (vtkIdType i = 0; i < n; ++i)
                {
                  for (int j = 0; j < dimension; ++j)
                    for (int k = 0; k < 3; ++k)
                      jacobian[j][k] += nodes[i][k] * derivatives[j * n + i];
                  value += shape[i] * values[i];
                  if (component >= 0)
                    position += shape[i] * nodes[i][component];
                }

              const auto &a = jacobian[0], &b = jacobian[1], &c = jacobian[2];
              const std::array<double, 3> a_cross_b = {a[1] * b[2] - a[2] * b[1],
                                                       a[2] * b[0] - a[0] * b[2],
                                                       a[0] * b[1] - a[1] * b[0]};
              double measure;
              if (dimension == 1)
                measure = std::sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
              else if (dimension == 2) // area element of a surface in 3D (any plane)
                measure = std::sqrt(a_cross_b[0] * a_cross_b[0] + a_cross_b[1] * a_cross_b[1] +
                                    a_cross_b[2] * a_cross_b[2]);
              else
                measure = std::abs(a_cross_b[0] * c[0] + a_cross_b[1] * c[1] + a_cross_b[2] * c[2]);

              total += table->rule.weights[q] * measure * value * (component >= 0 ? position : 1.0);
            }
        }
      return total;
    }
  } // namespace

  std::vector<TimeSeriesEntry> read_pvd(const std::string &pvd_path)
  {
    require_readable_file(pvd_path);
    vtkNew<vtkXMLDataParser> parser;
    vtkNew<ErrorCollector>   errors;
    parser->AddObserver(vtkCommand::ErrorEvent, errors);
    parser->SetFileName(pvd_path.c_str());
    if (parser->Parse() == 0 || !errors->message.empty() || parser->GetRootElement() == nullptr)
      throw std::runtime_error("cannot parse " + pvd_path + ": " +
                               (errors->message.empty() ? "invalid XML" : errors->message));

    vtkXMLDataElement *root = parser->GetRootElement();
    const char        *type = root->GetAttribute("type");
    if (std::string(root->GetName()) != "VTKFile" || type == nullptr ||
        std::string(type) != "Collection")
      throw std::runtime_error(pvd_path + " is not a ParaView collection (VTKFile type=\"Collection\")");
    vtkXMLDataElement *collection = root->FindNestedElementWithName("Collection");
    if (collection == nullptr)
      throw std::runtime_error(pvd_path + " has no <Collection> element");

    const fs::path               folder = fs::absolute(fs::path(pvd_path)).parent_path();
    std::vector<TimeSeriesEntry> entries;
    for (int i = 0; i < collection->GetNumberOfNestedElements(); ++i)
      {
        vtkXMLDataElement *dataset = collection->GetNestedElement(i);
        if (std::string(dataset->GetName()) != "DataSet")
          continue;
        const std::string where = pvd_path + ": DataSet " + std::to_string(entries.size());
        const char       *file  = dataset->GetAttribute("file");
        if (file == nullptr || *file == '\0')
          throw std::runtime_error(where + " has no file attribute");
        // deal.II always writes timestep=; a collection without it is a single snapshot.
        const char *timestep = dataset->GetAttribute("timestep");
        const double time = timestep != nullptr ? parse_double(timestep, where + " timestep") : 0.0;
        fs::path path(file);
        if (path.is_relative())
          path = folder / path;
        entries.push_back({time, path.lexically_normal().string()});
      }
    return entries;
  }

  vtkSmartPointer<vtkUnstructuredGrid> read_grid(const std::string &path)
  {
    require_readable_file(path);
    const std::string extension = lowercase_extension(path);
    vtkDataObject    *output    = nullptr;
    vtkNew<vtkXMLUnstructuredGridReader>  serial_reader;
    vtkNew<vtkXMLPUnstructuredGridReader> parallel_reader;
    if (extension == ".vtu")
      output = update_reader(serial_reader.Get(), path);
    else if (extension == ".pvtu")
      output = update_reader(parallel_reader.Get(), path);
    else
      throw std::runtime_error("cannot read " + path + ": expected a .vtu or .pvtu file");

    auto *grid = vtkUnstructuredGrid::SafeDownCast(output);
    if (grid == nullptr)
      throw std::runtime_error("cannot read " + path + ": not an unstructured grid");
    auto result = vtkSmartPointer<vtkUnstructuredGrid>::New();
    result->ShallowCopy(grid); // independent of the reader's lifetime
    return result;
  }

  vtkSmartPointer<vtkPolyData> read_polydata(const std::string &path)
  {
    require_readable_file(path);
    const std::string extension = lowercase_extension(path);
    vtkDataObject    *output    = nullptr;
    vtkNew<vtkXMLPolyDataReader>  serial_reader;
    vtkNew<vtkXMLPPolyDataReader> parallel_reader;
    if (extension == ".vtp")
      output = update_reader(serial_reader.Get(), path);
    else if (extension == ".pvtp")
      output = update_reader(parallel_reader.Get(), path);
    else
      throw std::runtime_error("cannot read " + path + ": expected a .vtp or .pvtp file");

    auto *polydata = vtkPolyData::SafeDownCast(output);
    if (polydata == nullptr)
      throw std::runtime_error("cannot read " + path + ": not poly data");
    auto result = vtkSmartPointer<vtkPolyData>::New();
    result->ShallowCopy(polydata);
    return result;
  }

  int cell_dimension(vtkUnstructuredGrid *grid)
  {
    if (grid == nullptr)
      throw std::invalid_argument("cell_dimension: null grid");
    int                    dimension = 0;
    vtkNew<vtkGenericCell> cell;
    for (vtkIdType id = 0; id < grid->GetNumberOfCells(); ++id)
      {
        grid->GetCell(id, cell);
        dimension = std::max(dimension, cell->GetCellDimension());
      }
    return dimension;
  }

  double integrate_point_field(vtkUnstructuredGrid *grid, const std::string &array_name, int dimension)
  {
    if (grid == nullptr)
      throw std::invalid_argument("integrate_point_field: null grid");
    return integrate(grid, scalar_array(grid->GetPointData(), grid->GetCellData(), array_name, "point"), dimension, -1);
  }

  double integrate_first_moment(vtkUnstructuredGrid *grid,
                                const std::string   &array_name,
                                int                  dimension,
                                int                  component)
  {
    if (grid == nullptr)
      throw std::invalid_argument("integrate_first_moment: null grid");
    if (component < 0 || component > 2)
      throw std::invalid_argument("moment component must be 0, 1 or 2, not " +
                                  std::to_string(component));
    return integrate(grid, scalar_array(grid->GetPointData(), grid->GetCellData(), array_name, "point"), dimension,
                     component);
  }

  double mesh_measure(vtkUnstructuredGrid *grid, int dimension)
  {
    return integrate(grid, nullptr, dimension, -1);
  }

  double sum_cell_field(vtkUnstructuredGrid *grid, const std::string &name)
  {
    if (grid == nullptr)
      throw std::invalid_argument("sum_cell_field: null grid");
    vtkDataArray         *array  = scalar_array(grid->GetCellData(), grid->GetPointData(), name, "cell");
    vtkUnsignedCharArray *ghosts = grid->GetCellGhostArray();
    double                sum    = 0.0;
    for (vtkIdType id = 0; id < array->GetNumberOfTuples(); ++id)
      if (!is_duplicate_cell(ghosts, id))
        sum += array->GetComponent(id, 0);
    return sum;
  }
} // namespace tpde::postprocess
