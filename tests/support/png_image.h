// PNG images read for the tests' assertions on pixels: the views of
// postprocess/paraview/view_runs.py (test_view_runs.cc, test_view_sphere.cc,
// test_particles_paraview.cc) and the plots of test_plot_statistics.cc.
#pragma once

#include "support/test_support.h"

#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGReader.h>

#include <string>
#include <vector>

namespace tpde::testing
{
  // Viridis at 0, 1/15, ..., 1 (matplotlib's table, which ParaView's
  // "Viridis (matplotlib)" preset reproduces).
  inline const int viridis[16][3] = {{68, 1, 84},    {72, 26, 108},  {71, 47, 125},   {65, 68, 135},
                                      {57, 86, 140},  {49, 104, 142}, {42, 120, 142},  {35, 136, 142},
                                      {31, 152, 139}, {34, 168, 132}, {53, 183, 121},  {84, 197, 104},
                                      {122, 209, 81}, {165, 219, 54}, {210, 226, 27},  {253, 231, 37}};

  struct Image
  {
    int                        width = 0, height = 0;
    std::vector<unsigned char> rgb;
    const unsigned char       *at(int x, int y) const { return &rgb[3 * (std::size_t(y) * width + x)]; }
  };

  /// RGB pixels, row 0 at the bottom (VTK's order).
  inline Image read_png(const std::string &path)
  {
    vtkNew<vtkPNGReader> reader;
    reader->SetFileName(path.c_str());
    reader->Update();
    vtkImageData *image = reader->GetOutput();
    int           size[3];
    image->GetDimensions(size);
    Image result;
    result.width  = size[0];
    result.height = size[1];
    const int components = image->GetNumberOfScalarComponents();
    for (int y = 0; y < size[1]; ++y)
      for (int x = 0; x < size[0]; ++x)
        {
          const auto *p = static_cast<unsigned char *>(image->GetScalarPointer(x, y, 0));
          for (int c = 0; c < 3; ++c)
            result.rgb.push_back(components >= 3 ? p[c] : p[0]);
        }
    return result;
  }

  /// The sixteenth of Viridis nearest to the pixel within `tolerance` RGB units, or -1.
  inline int viridis_bin(const unsigned char *p, int tolerance = 25)
  {
    int best = -1, best_distance = tolerance * tolerance;
    for (int k = 0; k < 16; ++k)
      {
        int d = 0;
        for (int c = 0; c < 3; ++c)
          d += (p[c] - viridis[k][c]) * (p[c] - viridis[k][c]);
        if (d < best_distance)
          best = k, best_distance = d;
      }
    return best;
  }

  /// The tokens' colour (view_runs.py's TOKEN_COLOUR); Viridis has no red.
  inline bool is_token_red(const unsigned char *p) { return p[0] > 180 && p[1] < 80 && p[2] < 80; }

  /// "<tpde-pvbatch> view_runs.py arguments".
  inline std::string view_command(const std::string &arguments)
  {
    return source_path("postprocess/paraview/tpde-pvbatch") + " " + source_path("postprocess/paraview/view_runs.py") +
           " " + arguments;
  }
} // namespace tpde::testing
