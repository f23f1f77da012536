#include "run/run_size.h"

#include "mesh/mesh_builder.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace tpde
{
  namespace
  {
    double available_memory()
    {
      std::ifstream in("/proc/meminfo");
      std::string   line;
      while (std::getline(in, line))
        if (line.rfind("MemAvailable:", 0) == 0)
          {
            std::istringstream s(line.substr(13));
            double             kilobytes = 0;
            s >> kilobytes;
            return kilobytes * 1024.;
          }
      return 0.;
    }
  } // namespace

  RunSize run_size_of(unsigned long long cells, unsigned long long dofs)
  {
    RunSize size;
    size.known           = true;
    size.cells           = cells;
    size.dofs            = dofs;
    size.bytes           = bytes_base + bytes_per_dof * static_cast<double>(dofs);
    size.available_bytes = available_memory();
    return size;
  }

  RunSize estimate_run_size(const Parameters &p)
  {
    const unsigned int dim = p.mesh_dimension();
    double             cells = 1;
    if (p.mesh.domain == MeshParameters::Domain::file)
      // The coarse mesh must be read first: refining even a small file
      // 'global refinements' times must not happen before the check.
      cells = static_cast<double>(coarse_cell_count(p.mesh, dim, p.file));
    else
      for (unsigned int k = 0; k < dim; ++k)
        cells *= k < p.mesh.subdivisions.size() ? p.mesh.subdivisions[k] : 1;
    cells *= std::ldexp(1., static_cast<int>(dim * p.mesh.global_refinements));
    const double dofs = cells * std::pow(p.discretization.degree + 1., dim);
    // Doubles: a size beyond 2^64 must still be refused, not wrap around.
    RunSize size = run_size_of(0, 0);
    size.cells   = cells < 1e19 ? static_cast<unsigned long long>(cells) : ~0ULL;
    size.dofs    = dofs < 1e19 ? static_cast<unsigned long long>(dofs) : ~0ULL;
    size.bytes   = bytes_base + bytes_per_dof * dofs;
    return size;
  }

  void check_run_size(const Parameters &p, const RunSize &size)
  {
    if (!size.known)
      return;
    const std::string mesh_entries = std::string("subsection 'Mesh', entries '") +
                                     (p.mesh.domain == MeshParameters::Domain::file ? "file" : "subdivisions") +
                                     "' and 'global refinements' (and 'Discretization/degree')";
    const auto cap = p.refinement.maximum_cells;
    if (cap > 0 && size.cells > cap)
      throw InputError(p.file + ": " + mesh_entries + ": the mesh has " + std::to_string(size.cells) +
                       " cells, more than 'Mesh refinement/maximum cells' = " + std::to_string(cap));
    if (size.available_bytes > 0 && size.bytes > size.available_bytes)
      throw InputError(p.file + ": " + mesh_entries + ": expected a run that fits in memory: " +
                       std::to_string(size.cells) + " cells, " + std::to_string(size.dofs) + " DoFs need about " +
                       format_bytes(size.bytes) + ", but only " + format_bytes(size.available_bytes) +
                       " are available");
  }

  std::string format_bytes(double bytes)
  {
    const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    unsigned    u       = 0;
    while (bytes >= 1000. && u + 1 < sizeof units / sizeof *units)
      {
        bytes /= 1000.;
        ++u;
      }
    char text[64];
    std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.3g %s", bytes, units[u]);
    return text;
  }
} // namespace tpde
