// The size of a grid run before anything is allocated: cells, DoFs and a
// memory estimate, checked against the machine's available memory and
// `Mesh refinement/maximum cells`.
#pragma once

#include "parameters/parameters.h"

#include <string>

namespace tpde
{
  struct RunSize
  {
    bool               known = false; // true once estimated (domain = file: from the file's coarse cells)
    unsigned long long cells = 0;
    unsigned long long dofs  = 0;
    double             bytes = 0;           // estimated peak memory of the run (all ranks)
    double             available_bytes = 0; // MemAvailable of /proc/meminfo (0: unknown)
    double             step_seconds = 0;    // --validate: measured estimate of one time step (0: not measured)
  };

  /// Measured peak memory (resident set) of grid runs, 2D Q2 softmax with the
  /// default fast summation: about 1200 bytes per DoF (solution and stage
  /// vectors, node and face velocities, the attention sources and the fast
  /// summation's grids) on top of about 180 MB of libraries and mesh set-up.
  constexpr double bytes_per_dof   = 1300.;
  constexpr double bytes_base      = 200e6;

  /// From `Mesh` (box: subdivisions x 2^(dim x global refinements) cells,
  /// (degree + 1)^dim DoFs each; masked attention counts the s axis too;
  /// file: the cells of the file x 2^(dim x global refinements), so the mesh
  /// file is read, and an unreadable one is an InputError).
  RunSize estimate_run_size(const Parameters &parameters);

  /// The same estimate for a mesh whose cells and DoFs are known.
  RunSize run_size_of(unsigned long long cells, unsigned long long dofs);

  /// InputError naming the entries when the run needs more memory than is
  /// available, or more cells than `Mesh refinement/maximum cells` (if set).
  void check_run_size(const Parameters &parameters, const RunSize &size);

  /// "1.2 GB".
  std::string format_bytes(double bytes);
} // namespace tpde
