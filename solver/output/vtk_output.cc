#include "output/vtk_output.h"

#include "sphere/circle_chart.h"
#include "sphere/surface_kernel.h"

#include "common/collective.h"

#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/fe/fe_values.h>

#include <vtkCellArray.h>
#include <vtkCellData.h>
#include <vtkCellType.h>
#include <vtkDoubleArray.h>
#include <vtkFieldData.h>
#include <vtkHigherOrderHexahedron.h>
#include <vtkHigherOrderQuadrilateral.h>
#include <vtkIdTypeArray.h>
#include <vtkIntArray.h>
#include <vtkNew.h>
#include <vtkSmartPointer.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLUnstructuredGridWriter.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <sstream>
#include <stdexcept>

namespace tpde
{
  namespace
  {
    unsigned int power(unsigned int base, unsigned int exponent)
    {
      unsigned int result = 1;
      for (unsigned int e = 0; e < exponent; ++e)
        result *= base;
      return result;
    }

    // Position of the equispaced point (i, j, k) of an order-`order` cell in
    // VTK's node numbering of the Lagrange curve/quadrilateral/hexahedron.
    template <int dim>
    unsigned int vtk_point_index(unsigned int i, unsigned int j, unsigned int k, unsigned int order)
    {
      const int orders[3] = {int(order), int(order), int(order)};
      if constexpr (dim == 1)
        // Endpoints first, then the interior points left to right
        // (vtkHigherOrderCurve has no static PointIndexFromIJK in VTK 9.1).
        return i == 0 ? 0 : (i == order ? 1 : i + 1);
      else if constexpr (dim == 2)
        return vtkHigherOrderQuadrilateral::PointIndexFromIJK(int(i), int(j), orders);
      else
        return vtkHigherOrderHexahedron::PointIndexFromIJK(int(i), int(j), int(k), orders);
    }

    template <int dim>
    int vtk_cell_type(unsigned int order)
    {
      // Order 1 uses the linear cells (same node order as the Lagrange corners),
      // which every VTK reader and filter handles.
      if constexpr (dim == 1)
        return order == 1 ? VTK_LINE : VTK_LAGRANGE_CURVE;
      else if constexpr (dim == 2)
        return order == 1 ? VTK_QUAD : VTK_LAGRANGE_QUADRILATERAL;
      else
        return order == 1 ? VTK_HEXAHEDRON : VTK_LAGRANGE_HEXAHEDRON;
    }

    bool little_endian()
    {
      const std::uint16_t probe = 1;
      return *reinterpret_cast<const unsigned char *>(&probe) == 1;
    }

    // Writes the grid with VTK's XML writer to a temporary name and renames it.
    void write_vtu_atomically(vtkUnstructuredGrid *grid, const std::string &path)
    {
      vtkNew<vtkXMLUnstructuredGridWriter> writer;
      writer->SetInputData(grid);
      writer->SetIdTypeToInt64();
      write_vtk_xml_atomically(writer.Get(), path);
    }

    // The .pvtu record naming the pieces; its array list must match the pieces'.
    // `version` as VTK writes it for these cells: 2.2 marks the VTK 9 node
    // order of Lagrange hexahedra, 1.0 otherwise.
    std::string pvtu_record(const std::vector<std::string> &pieces, const char *version)
    {
      std::ostringstream out;
      out << "<?xml version=\"1.0\"?>\n"
          << "<VTKFile type=\"PUnstructuredGrid\" version=\"" << version << "\" byte_order=\""
          << (little_endian() ? "LittleEndian" : "BigEndian") << "\" header_type=\"UInt64\">\n"
          << "  <PUnstructuredGrid GhostLevel=\"0\">\n"
          << "    <PPointData Scalars=\"density\" Vectors=\"velocity\">\n"
          << "      <PDataArray type=\"Float64\" Name=\"density\"/>\n"
          << "      <PDataArray type=\"Float64\" Name=\"velocity\" NumberOfComponents=\"3\"/>\n"
          << "    </PPointData>\n"
          << "    <PCellData>\n"
          << "      <PDataArray type=\"Float64\" Name=\"cell_mass\"/>\n"
          << "      <PDataArray type=\"Int32\" Name=\"mpi_rank\"/>\n"
          << "      <PDataArray type=\"Int32\" Name=\"refinement_level\"/>\n"
          << "      <PDataArray type=\"Float64\" Name=\"refinement_indicator\"/>\n"
          << "    </PCellData>\n"
          << "    <PPoints>\n"
          << "      <PDataArray type=\"Float64\" NumberOfComponents=\"3\"/>\n"
          << "    </PPoints>\n";
      for (const auto &piece : pieces)
        out << "    <Piece Source=\"" << piece << "\"/>\n";
      out << "  </PUnstructuredGrid>\n"
          << "</VTKFile>\n";
      return out.str();
    }
  } // namespace

  template <int dim, int spacedim>
  VtkOutput<dim, spacedim>::VtkOutput(const DGSpace<dim, spacedim> &space, const std::string &directory,
                            std::vector<std::string> coordinate_names)
    : space(space)
    , directory(directory)
    , coordinate_names(std::move(coordinate_names))
    , series((std::filesystem::path(directory) / "solution.pvd").string())
  {}

  template <int dim, int spacedim>
  void VtkOutput<dim, spacedim>::setup()
  {
    const unsigned int p     = space.degree();
    const unsigned int n     = space.n_nodes();
    const unsigned int m_in  = p + 1;
    order                    = std::max(p, 1u);
    const unsigned int m_out = order + 1;
    points_per_cell          = power(m_out, dim);

    // Equispaced reference points in lexicographic order and their VTK numbering.
    std::vector<dealii::Point<dim>> reference_points(points_per_cell);
    vtk_index.assign(points_per_cell, 0);
    std::vector<bool> taken(points_per_cell, false);
    for (unsigned int l = 0; l < points_per_cell; ++l)
      {
        unsigned int ijk[3] = {0, 0, 0};
        for (unsigned int d = 0, rest = l; d < dim; ++d, rest /= m_out)
          {
            ijk[d]                 = rest % m_out;
            reference_points[l][d] = double(ijk[d]) / order;
          }
        vtk_index[l] = vtk_point_index<dim>(ijk[0], ijk[1], ijk[2], order);
        if (vtk_index[l] >= points_per_cell || taken[vtk_index[l]])
          throw std::logic_error("VtkOutput: VTK point numbering is not a permutation");
        taken[vtk_index[l]] = true;
      }

    // 1D interpolation factor; the check below confirms that the DG basis is
    // its tensor product in deal.II's lexicographic DoF order.
    const dealii::FE_DGQArbitraryNodes<1> fe_1d(dealii::QGauss<1>(p + 1));
    interpolation_1d.resize(m_out * m_in);
    for (unsigned int a = 0; a < m_out; ++a)
      for (unsigned int b = 0; b < m_in; ++b)
        interpolation_1d[a * m_in + b] = fe_1d.shape_value(b, dealii::Point<1>(double(a) / order));
    for (unsigned int l = 0; l < points_per_cell; ++l)
      for (unsigned int i = 0; i < n; ++i)
        {
          double product = 1;
          for (unsigned int d = 0, rest_l = l, rest_i = i; d < dim; ++d, rest_l /= m_out, rest_i /= m_in)
            product *= interpolation_1d[(rest_l % m_out) * m_in + rest_i % m_in];
          if (std::abs(product - space.fe.shape_value(i, reference_points[l])) > 1e-10)
            throw std::logic_error("VtkOutput: the DG basis is not the expected tensor product");
        }
    scratch[0].resize(points_per_cell);
    scratch[1].resize(points_per_cell);

    // Geometry: every cell gets its own points (the field is discontinuous).
    const std::size_t     n_cells  = space.n_owned_cells();
    const vtkIdType       n_points = static_cast<vtkIdType>(n_cells * points_per_cell);
    vtkNew<vtkPoints>     points;
    points->SetDataTypeToDouble();
    points->SetNumberOfPoints(n_points);
    double *coordinates = vtkDoubleArray::SafeDownCast(points->GetData())->GetPointer(0);
    std::fill(coordinates, coordinates + 3 * n_points, 0.);
    std::vector<double> angles; // the circle: theta of every point
    dealii::FEValues<dim, spacedim> fe_values(space.mapping, space.fe, dealii::Quadrature<dim>(reference_points),
                                    dealii::update_quadrature_points);
    vtkNew<vtkIntArray> mpi_rank, refinement_level;
    mpi_rank->SetName("mpi_rank");
    refinement_level->SetName("refinement_level");
    mpi_rank->SetNumberOfValues(static_cast<vtkIdType>(n_cells));
    refinement_level->SetNumberOfValues(static_cast<vtkIdType>(n_cells));
    const int rank = static_cast<int>(dealii::Utilities::MPI::this_mpi_process(space.communicator));
    for (std::size_t k = 0; k < n_cells; ++k)
      {
        fe_values.reinit(space.owned_cell(k));
        for (unsigned int l = 0; l < points_per_cell; ++l)
          for (unsigned int c = 0; c < spacedim; ++c)
            coordinates[(k * points_per_cell + vtk_index[l]) * 3 + c] = fe_values.quadrature_point(l)[c];
        if (dim == 1 && space.periodic()) // the circle's chart: draw the ring, keep theta as a point array
          for (unsigned int l = 0; l < points_per_cell; ++l)
            {
              double *x = &coordinates[(k * points_per_cell + l) * 3];
              angles.push_back(x[0]);
              sphere::circle_point(x[0], x);
            }
        mpi_rank->SetValue(static_cast<vtkIdType>(k), rank);
        refinement_level->SetValue(static_cast<vtkIdType>(k), space.owned_cell(k)->level());
      }

    vtkNew<vtkIdTypeArray> connectivity;
    connectivity->SetNumberOfValues(n_points);
    std::iota(connectivity->GetPointer(0), connectivity->GetPointer(0) + n_points, vtkIdType(0));
    vtkNew<vtkCellArray> cells;
    if (!cells->SetData(static_cast<vtkIdType>(points_per_cell), connectivity))
      throw std::logic_error("VtkOutput: cannot build the VTK cell array");

    grid = vtkSmartPointer<vtkUnstructuredGrid>::New();
    grid->SetPoints(points);
    grid->SetCells(vtk_cell_type<dim>(order), cells);
    grid->GetCellData()->AddArray(mpi_rank);
    grid->GetCellData()->AddArray(refinement_level);
    if (dim == 1 && space.periodic()) // (s, theta) is drawn as the plane
      {
        vtkNew<vtkDoubleArray> theta;
        theta->SetName("theta");
        theta->SetNumberOfValues(n_points);
        for (vtkIdType i = 0; i < n_points; ++i)
          theta->SetValue(i, angles[i]);
        grid->GetPointData()->AddArray(theta);
        return;
      }
    for (unsigned int c = 0; c < spacedim && c < coordinate_names.size(); ++c)
      {
        vtkNew<vtkDoubleArray> coordinate;
        coordinate->SetName(coordinate_names[c].c_str());
        coordinate->SetNumberOfValues(n_points);
        for (vtkIdType i = 0; i < n_points; ++i)
          coordinate->SetValue(i, coordinates[i * 3 + c]);
        grid->GetPointData()->AddArray(coordinate);
      }
  }

  namespace
  {
    /// The circle: the angular speed (component 0 of each velocity) as the
    /// tangent vector speed * (-sin, cos) at the ring's points x.
    void angular_to_tangent(const double *x, vtkIdType n_points, double *velocity)
    {
      for (vtkIdType i = 0; i < n_points; ++i)
        {
          const double speed  = velocity[3 * i];
          velocity[3 * i]     = -speed * x[3 * i + 1];
          velocity[3 * i + 1] = speed * x[3 * i];
        }
    }
  } // namespace

  template <int dim, int spacedim>
  void VtkOutput<dim, spacedim>::interpolate(const double *nodal, double *at_points, unsigned int stride)
  {
    // Sum factorisation: apply the 1D matrix along one direction at a time;
    // the layout is [after][points along d][before].
    const unsigned int m_in = space.degree() + 1, m_out = order + 1;
    const double      *in     = nodal;
    unsigned int       before = 1, after = power(m_in, dim - 1);
    for (unsigned int d = 0; d < dim; ++d)
      {
        double *out = scratch[d % 2].data();
        for (unsigned int a = 0; a < after; ++a)
          for (unsigned int r = 0; r < m_out; ++r)
            {
              double *target = out + (a * m_out + r) * before;
              std::fill(target, target + before, 0.);
              for (unsigned int b = 0; b < m_in; ++b)
                {
                  const double  weight = interpolation_1d[r * m_in + b];
                  const double *source = in + (a * m_in + b) * before;
                  for (unsigned int s = 0; s < before; ++s)
                    target[s] += weight * source[s];
                }
            }
        in = out;
        before *= m_out;
        after /= m_in;
      }
    for (unsigned int l = 0; l < points_per_cell; ++l)
      at_points[std::size_t(vtk_index[l]) * stride] = in[l];
  }

  namespace
  {
    /// "TIME" as deal.II and VisIt write it; "TimeValue" is what VTK's XML
    /// readers (and so ParaView) take as the time of a lone file.
    vtkSmartPointer<vtkFieldData> time_field_data(double time)
    {
      auto field_data = vtkSmartPointer<vtkFieldData>::New();
      for (const char *name : {"TIME", "TimeValue"})
        {
          vtkNew<vtkDoubleArray> time_array;
          time_array->SetName(name);
          time_array->InsertNextValue(time);
          field_data->AddArray(time_array);
        }
      return field_data;
    }
  } // namespace

  template <int dim, int spacedim>
  void VtkOutput<dim, spacedim>::write(double time, const VectorType &ghosted_density, const double *node_velocity,
                             const std::vector<double> &indicator)
  {
    const MPI_Comm     comm    = space.communicator;
    const unsigned int rank    = dealii::Utilities::MPI::this_mpi_process(comm);
    const unsigned int n_ranks = dealii::Utilities::MPI::n_mpi_processes(comm);
    const unsigned int n       = space.n_nodes();
    const std::size_t  n_cells = space.n_owned_cells();
    if (!grid || static_cast<std::size_t>(grid->GetNumberOfCells()) != n_cells)
      throw std::logic_error("VtkOutput::write: call setup() after every mesh change");

    const vtkIdType        n_points = grid->GetNumberOfPoints();
    vtkNew<vtkDoubleArray> density, velocity, cell_mass;
    density->SetName("density");
    density->SetNumberOfValues(n_points);
    velocity->SetName("velocity");
    velocity->SetNumberOfComponents(3);
    velocity->SetNumberOfTuples(n_points);
    for (unsigned int c = 0; c < spacedim && c < coordinate_names.size(); ++c)
      velocity->SetComponentName(c, coordinate_names[c].c_str());
    cell_mass->SetName("cell_mass");
    cell_mass->SetNumberOfValues(static_cast<vtkIdType>(n_cells));
    double *density_values  = density->GetPointer(0);
    double *velocity_values = velocity->GetPointer(0);
    if (spacedim < 3) // components beyond spacedim stay zero
      std::fill(velocity_values, velocity_values + 3 * n_points, 0.);

    std::vector<double> nodal(n);
    for (std::size_t k = 0; k < n_cells; ++k)
      {
        double mass = 0;
        for (unsigned int i = 0; i < n; ++i)
          {
            nodal[i] = ghosted_density(space.global_dof(k, i));
            mass += space.node_weight(k, i) * nodal[i];
          }
        cell_mass->SetValue(static_cast<vtkIdType>(k), mass);
        interpolate(nodal.data(), density_values + k * points_per_cell, 1);
        for (unsigned int c = 0; c < spacedim; ++c)
          {
            for (unsigned int i = 0; i < n; ++i)
              nodal[i] = node_velocity[(k * n + i) * spacedim + c];
            interpolate(nodal.data(), velocity_values + k * points_per_cell * 3 + c, 3);
          }
      }
    if (dim == 1 && space.periodic()) // (s, theta) is drawn as the plane
      angular_to_tangent(vtkDoubleArray::SafeDownCast(grid->GetPoints()->GetData())->GetPointer(0), n_points,
                         velocity_values);
    if constexpr (spacedim > dim) // S^2: interpolated between nodes, the field leaves the tangent plane by O(h^2)
      {
        const double       *points = vtkDoubleArray::SafeDownCast(grid->GetPoints()->GetData())->GetPointer(0);
        std::vector<double> unit(3 * n_points);
        sphere::project_to_sphere(n_points, points, unit.data());
        sphere::project_to_tangent(n_points, unit.data(), velocity_values);
      }

    grid->GetPointData()->AddArray(density);
    grid->GetPointData()->SetActiveScalars("density");
    grid->GetPointData()->AddArray(velocity);
    grid->GetPointData()->SetActiveVectors("velocity");
    grid->GetCellData()->AddArray(cell_mass);
    // Always present (zero without adaptivity) so every piece has the same arrays.
    vtkNew<vtkDoubleArray> indicator_array;
    indicator_array->SetName("refinement_indicator");
    indicator_array->SetNumberOfValues(static_cast<vtkIdType>(n_cells));
    for (std::size_t k = 0; k < n_cells; ++k)
      indicator_array->SetValue(static_cast<vtkIdType>(k), k < indicator.size() ? indicator[k] : 0.);
    grid->GetCellData()->AddArray(indicator_array);
    grid->SetFieldData(time_field_data(time));

    char stem[64];
    std::snprintf(stem, sizeof stem, "solution_%05u", n_written());
    const std::filesystem::path dir(directory);
    std::string                 entry;
    if (n_ranks == 1)
      {
        entry = std::string(stem) + ".vtu";
        write_vtu_atomically(grid, (dir / entry).string());
      }
    else
      {
        const auto piece_name = [&](unsigned int r) {
          char piece[96];
          std::snprintf(piece, sizeof piece, "%s.%04u.vtu", stem, r);
          return std::string(piece);
        };
        // Collective (also the barrier: the record may only name pieces that
        // exist); a failed write on one rank stops every rank.
        collectively<std::runtime_error>(comm, [&]() {
          write_vtu_atomically(grid, (dir / piece_name(rank)).string());
        });
        entry = std::string(stem) + ".pvtu";
        collectively<std::runtime_error>(comm, [&]() {
          if (rank != 0)
            return;
          std::vector<std::string> pieces;
          for (unsigned int r = 0; r < n_ranks; ++r)
            pieces.push_back(piece_name(r));
          const bool lagrange_hexahedra = dim == 3 && order > 1;
          write_file_atomically((dir / entry).string(), pvtu_record(pieces, lagrange_hexahedra ? "2.2" : "1.0"));
        });
      }
    // Only the geometry (and the coordinate arrays set up with it) stays between outputs.
    grid->GetPointData()->RemoveArray("density");
    grid->GetPointData()->RemoveArray("velocity");
    grid->GetCellData()->RemoveArray("cell_mass");
    grid->GetCellData()->RemoveArray("refinement_indicator");
    grid->SetFieldData(nullptr);

    series.add(time, entry);
    collectively<std::runtime_error>(comm, [&]() {
      if (rank == 0)
        series.write();
    });
  }

  template <int dim, int spacedim>
  void VtkOutput<dim, spacedim>::resume(PvdCollection::Entries outputs)
  {
    series.restore(std::move(outputs));
    collectively<std::runtime_error>(space.communicator, [&]() {
      if (dealii::Utilities::MPI::this_mpi_process(space.communicator) == 0)
        series.write();
    });
  }

  template class VtkOutput<1>;
  template class VtkOutput<2>;
  template class VtkOutput<3>;
  template class VtkOutput<2, 3>;
} // namespace tpde
