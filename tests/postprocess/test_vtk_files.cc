// Reading VTK files back (postprocess/vtk_reader.h): .pvd collections, .pvtu
// pieces, .vtp point clouds, bad input; and the tpde-integrate tool, a build
// dependency of this test, on a time series and on bad input.
#include "postprocess/vtk_reader.h"
#include "support/test_support.h"
#include "support/vtk_grids.h"

#include <gtest/gtest.h>

#include <vtkPolyData.h>
#include <vtkXMLPolyDataWriter.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace
{
  namespace fs   = std::filesystem;
  namespace post = tpde::postprocess;
  using namespace tpde::testing::vtk_grids;

  std::string scratch(const std::string &name)
  {
    return tpde::testing::scratch_directory("postprocess_vtk_files/" + name);
  }

  /// The tool next to the tpde executable; CMake builds it before this test,
  /// so a missing tool is a failure, not a reason to skip.
  std::string integrate_tool()
  {
    return (fs::path(TPDE_EXECUTABLE).parent_path() / "tpde-integrate").string();
  }
} // namespace

// (d) + (e): a .pvd whose entries are .pvtu files with two pieces each.
TEST(VtkReader, ParallelPiecesInATimeSeries)
{
  const std::string dir = scratch("pieces");
  fs::create_directories(dir + "/run");

  // Piece 0: linear quad [0,1]^2 with 1 + x + y (integral 2);
  // piece 1: quadratic Lagrange quad [1,3]x[0,1] with x^2 y + 1 (integral 13/3 + 2).
  const auto write_step = [&](int step, double scale) {
    const Field linear    = [scale](const Point &x) { return scale * (1 + x[0] + x[1]); };
    const Field quadratic = [scale](const Point &x) { return scale * (x[0] * x[0] * x[1] + 1); };
    GridBuilder first, second;
    first.add_cell(VTK_QUAD, {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0}}, linear, 0.25 * scale);
    second.add_mapped_cell(VTK_LAGRANGE_QUADRILATERAL, lagrange_quadrilateral_nodes(2),
                           box_map({1, 0, 0}, {3, 1, 0}), quadratic, 0.75 * scale);
    const std::string stem = "solution_" + std::to_string(step);
    write_vtu(first.finish(), dir + "/run/" + stem + ".0.vtu");
    write_vtu(second.finish(), dir + "/run/" + stem + ".1.vtu");
    // Like deal.II's write_pvtu_record: pieces named relative to the .pvtu.
    tpde::testing::write_file(dir + "/run/" + stem + ".pvtu",
                              "<?xml version=\"1.0\"?>\n"
                              "<VTKFile type=\"PUnstructuredGrid\" version=\"0.1\" byte_order=\"LittleEndian\">\n"
                              "  <PUnstructuredGrid GhostLevel=\"0\">\n"
                              "    <PPointData Scalars=\"scalars\">\n"
                              "      <PDataArray type=\"Float64\" Name=\"density\"/>\n"
                              "    </PPointData>\n"
                              "    <PCellData>\n"
                              "      <PDataArray type=\"Float64\" Name=\"cell_mass\"/>\n"
                              "    </PCellData>\n"
                              "    <PPoints>\n"
                              "      <PDataArray type=\"Float64\" NumberOfComponents=\"3\"/>\n"
                              "    </PPoints>\n"
                              "    <Piece Source=\"" + stem + ".0.vtu\"/>\n"
                              "    <Piece Source=\"" + stem + ".1.vtu\"/>\n"
                              "  </PUnstructuredGrid>\n"
                              "</VTKFile>\n");
  };
  write_step(0, 1.0);
  write_step(1, 2.0);
  std::string collection;
  for (const auto &[time, file] : {std::pair{"0", "run/solution_0.pvtu"}, std::pair{"0.5", "run/solution_1.pvtu"}})
    collection += std::string("    <DataSet timestep=\"") + time + "\" group=\"\" part=\"0\" file=\"" + file + "\"/>\n";
  const std::string pvd = tpde::testing::write_file(
    dir + "/run.pvd", "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\" version=\"0.1\" ByteOrder=\"LittleEndian\">\n"
                      "  <Collection>\n" + collection + "  </Collection>\n</VTKFile>\n");

  const auto entries = post::read_pvd(pvd);
  ASSERT_EQ(entries.size(), 2u);
  const double expected[] = {25.0 / 3, 50.0 / 3};
  for (std::size_t i = 0; i < entries.size(); ++i)
    {
      const auto grid = post::read_grid(entries[i].file);
      EXPECT_EQ(grid->GetNumberOfCells(), 2);
      expect_close(post::integrate_point_field(grid, "density", 2), expected[i]);
      expect_close(post::sum_cell_field(grid, "cell_mass"), (i + 1) * 1.0);
      // The pieces separately add up to the whole.
      const std::string stem = dir + "/run/solution_" + std::to_string(i);
      expect_close(post::integrate_point_field(post::read_grid(stem + ".0.vtu"), "density", 2) +
                     post::integrate_point_field(post::read_grid(stem + ".1.vtu"), "density", 2),
                   expected[i]);
    }

  // The command-line tool on the same series.
  ASSERT_TRUE(fs::exists(integrate_tool())) << integrate_tool() << " is missing: it is a build dependency of this test";
  const auto result = tpde::testing::run_command(integrate_tool() + " " + pvd);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string csv = tpde::testing::write_file(dir + "/integrals.csv", result.output);
  const auto        table = tpde::testing::read_csv(csv);
  ASSERT_EQ(table.header, (std::vector<std::string>{"time", "integral", "cell_mass_sum"}));
  ASSERT_EQ(table.rows(), 2u);
  EXPECT_EQ(table.columns.at("time"), (std::vector<double>{0.0, 0.5}));
  for (std::size_t i = 0; i < 2; ++i)
    {
      expect_close(table.columns.at("integral")[i], expected[i]);
      expect_close(table.columns.at("cell_mass_sum")[i], (i + 1) * 1.0);
    }
}

TEST(VtkReader, IntegrateToolRejectsBadInput)
{
  ASSERT_TRUE(fs::exists(integrate_tool())) << integrate_tool() << " is missing: it is a build dependency of this test";
  const std::string dir = scratch("tool_errors");
  GridBuilder       builder;
  builder.add_cell(VTK_QUAD, {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0}},
                   [](const Point &) { return 1.0; });
  const std::string vtu = write_vtu(builder.finish(), dir + "/one.vtu");

  const auto single = tpde::testing::run_command(integrate_tool() + " " + vtu + " --dimension=2");
  ASSERT_EQ(single.exit_code, 0) << single.output;
  const auto table =
    tpde::testing::read_csv(tpde::testing::write_file(dir + "/single.csv", single.output));
  ASSERT_EQ(table.rows(), 1u);
  EXPECT_EQ(table.columns.at("time")[0], 0.0);
  expect_close(table.columns.at("integral")[0], 1.0);
  EXPECT_EQ(table.columns.at("cell_mass_sum")[0], 0.0);

  const auto no_cell_field =
    tpde::testing::run_command(integrate_tool() + " " + vtu + " --cell-field none");
  ASSERT_EQ(no_cell_field.exit_code, 0) << no_cell_field.output;
  EXPECT_EQ(no_cell_field.output.rfind("time,integral\n0,", 0), 0u) << no_cell_field.output;

  for (const std::string &arguments :
       {std::string(""), dir + "/missing.pvd", vtu + " --dimension 4", vtu + " --bogus",
        vtu + " --field nothing", vtu + " --dimension 3", vtu + " --field"})
    {
      SCOPED_TRACE(arguments);
      const auto result = tpde::testing::run_command(integrate_tool() + " " + arguments);
      EXPECT_EQ(result.exit_code, 2) << result.output;
      // One line, naming the tool.
      EXPECT_EQ(result.output.rfind("tpde-integrate: ", 0), 0u) << result.output;
      EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
    }
}

// (e) read_pvd on a hand-written collection.
TEST(VtkReader, ReadPvdResolvesPathsAndTimes)
{
  const std::string dir = scratch("pvd");
  const std::string pvd = tpde::testing::write_file(
    dir + "/series/run.pvd",
    "<?xml version=\"1.0\"?>\n"
    "<!-- written by hand -->\n"
    "<VTKFile type=\"Collection\" version=\"0.1\" ByteOrder=\"LittleEndian\">\n"
    "  <Collection>\n"
    "    <DataSet timestep=\"0\" group=\"\" part=\"0\" file=\"solution-00000.pvtu\"/>\n"
    "    <DataSet timestep=\"1.5e-3\" part=\"0\" file=\"sub/solution-00001.vtu\"/>\n"
    "    <DataSet timestep=\" 2.25 \" file=\"../elsewhere/solution-00002.vtu\"/>\n"
    "    <DataSet timestep=\"3\" file=\"/absolute/solution-00003.vtu\"/>\n"
    "  </Collection>\n"
    "</VTKFile>\n");
  const auto entries = post::read_pvd(pvd);
  ASSERT_EQ(entries.size(), 4u);
  const fs::path series = fs::absolute(dir + "/series");
  EXPECT_EQ(entries[0].time, 0.0);
  EXPECT_EQ(entries[1].time, 1.5e-3);
  EXPECT_EQ(entries[2].time, 2.25);
  EXPECT_EQ(entries[3].time, 3.0);
  EXPECT_EQ(entries[0].file, (series / "solution-00000.pvtu").lexically_normal().string());
  EXPECT_EQ(entries[1].file, (series / "sub/solution-00001.vtu").lexically_normal().string());
  EXPECT_EQ(entries[2].file, (series.parent_path() / "elsewhere/solution-00002.vtu").lexically_normal().string());
  EXPECT_EQ(entries[3].file, "/absolute/solution-00003.vtu");
  for (const auto &entry : entries)
    EXPECT_TRUE(fs::path(entry.file).is_absolute()) << entry.file;
}

// (f) Missing and malformed input throws std::runtime_error.
TEST(VtkReader, BadInputThrows)
{
  const std::string dir = scratch("bad_input");
  EXPECT_THROW(post::read_pvd(dir + "/missing.pvd"), std::runtime_error);
  EXPECT_THROW(post::read_grid(dir + "/missing.vtu"), std::runtime_error);
  EXPECT_THROW(post::read_grid(dir + "/missing.pvtu"), std::runtime_error);
  EXPECT_THROW(post::read_polydata(dir + "/missing.vtp"), std::runtime_error);

  const auto expect_pvd_error = [&](const std::string &name, const std::string &text) {
    SCOPED_TRACE(name);
    const std::string path = tpde::testing::write_file(dir + "/" + name + ".pvd", text);
    EXPECT_THROW(post::read_pvd(path), std::runtime_error);
  };
  expect_pvd_error("not_xml", "this is not XML <<<");
  expect_pvd_error("truncated", "<VTKFile type=\"Collection\"><Collection><DataSet file=\"a.vtu\"");
  expect_pvd_error("wrong_type", "<VTKFile type=\"UnstructuredGrid\"><Collection/></VTKFile>");
  expect_pvd_error("no_collection", "<VTKFile type=\"Collection\"></VTKFile>");
  expect_pvd_error("no_file", "<VTKFile type=\"Collection\"><Collection><DataSet timestep=\"1\"/></Collection></VTKFile>");
  expect_pvd_error("bad_time", "<VTKFile type=\"Collection\"><Collection><DataSet timestep=\"1x\" file=\"a.vtu\"/></Collection></VTKFile>");

  // A file with the right extension but garbage inside.
  const std::string garbage = tpde::testing::write_file(dir + "/garbage.vtu", "not a VTK file\n");
  EXPECT_THROW(post::read_grid(garbage), std::runtime_error);
  const std::string wrong_extension = tpde::testing::write_file(dir + "/grid.vtk", "x\n");
  EXPECT_THROW(post::read_grid(wrong_extension), std::runtime_error);

  // A .pvtu whose piece is missing.
  const std::string broken_pvtu = tpde::testing::write_file(
    dir + "/broken.pvtu",
    "<?xml version=\"1.0\"?>\n"
    "<VTKFile type=\"PUnstructuredGrid\" version=\"0.1\" byte_order=\"LittleEndian\">\n"
    "  <PUnstructuredGrid GhostLevel=\"0\">\n"
    "    <PPointData><PDataArray type=\"Float64\" Name=\"density\"/></PPointData>\n"
    "    <PPoints><PDataArray type=\"Float64\" NumberOfComponents=\"3\"/></PPoints>\n"
    "    <Piece Source=\"absent.0.vtu\"/>\n"
    "  </PUnstructuredGrid>\n"
    "</VTKFile>\n");
  EXPECT_THROW(post::read_grid(broken_pvtu), std::runtime_error);

  // Missing or non-scalar arrays.
  GridBuilder builder;
  builder.add_cell(VTK_QUAD, {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0}},
                   [](const Point &) { return 1.0; });
  auto           grid = builder.finish();
  vtkNew<vtkDoubleArray> velocity;
  velocity->SetName("velocity");
  velocity->SetNumberOfComponents(3);
  velocity->SetNumberOfTuples(4);
  velocity->Fill(0.0);
  grid->GetPointData()->AddArray(velocity);
  EXPECT_THROW(post::integrate_point_field(grid, "nothing", 2), std::runtime_error);
  EXPECT_THROW(post::integrate_point_field(grid, "velocity", 2), std::runtime_error);
  EXPECT_THROW(post::sum_cell_field(grid, "nothing"), std::runtime_error);
  EXPECT_THROW(post::integrate_point_field(grid, "density", 3), std::runtime_error);
  EXPECT_THROW(post::integrate_point_field(grid, "density", 0), std::invalid_argument);

  // A cell using a node twice (what deal.II 9.4 writes for 1D higher-order cells).
  vtkNew<vtkPoints> points;
  for (const double x : {0.0, 1.0, 2.0})
    points->InsertNextPoint(x, 0, 0);
  vtkNew<vtkUnstructuredGrid> broken;
  broken->SetPoints(points);
  const vtkIdType ids[] = {2, 0, 0, 0};
  broken->InsertNextCell(VTK_LAGRANGE_CURVE, 4, ids);
  EXPECT_THROW(post::mesh_measure(broken, 1), std::runtime_error);
}

TEST(VtkReader, ReadsPolyData)
{
  const std::string dir = scratch("polydata");
  vtkNew<vtkPoints> points;
  points->InsertNextPoint(0, 0, 0);
  points->InsertNextPoint(1, 2, 3);
  vtkNew<vtkPolyData> polydata;
  polydata->SetPoints(points);
  vtkNew<vtkXMLPolyDataWriter> writer;
  writer->SetInputData(polydata);
  const std::string path = dir + "/points.vtp";
  writer->SetFileName(path.c_str());
  ASSERT_EQ(writer->Write(), 1);
  const auto read = post::read_polydata(path);
  ASSERT_EQ(read->GetNumberOfPoints(), 2);
  for (int c = 0; c < 3; ++c)
    {
      EXPECT_EQ(read->GetPoint(0)[c], 0.0) << "coordinate " << c;
      EXPECT_EQ(read->GetPoint(1)[c], c + 1.0) << "coordinate " << c;
    }
}
