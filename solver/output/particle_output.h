// ParaView output of a particle run: one .vtp (VTK poly data, one vertex per
// token, point arrays `velocity` and `token_id`, field data `TimeValue`) per
// output time and the .pvd series with the physical times. Every file is
// written under a temporary name and renamed, like the grid's output.
// On the circle (tokens are angles, velocities angular speeds) the points
// lie on the ring (cos theta, sin theta, 0) with a point array `theta`, and
// the velocity is the tangent vector, as in the grid's ring output.
#pragma once

#include "output/run_output.h"

#include <string>
#include <utility>
#include <vector>

namespace tpde
{
  class ParticleVtkOutput
  {
  public:
    /// `directory` must exist. Files: particles_NNNNN.vtp and particles.pvd.
    /// `circle`: positions are angles (dim is then 1).
    ParticleVtkOutput(std::string directory, unsigned int dim, bool circle = false);

    /// positions and velocity: N x dim, row-major (velocity may be null).
    void write(double time, const std::vector<double> &positions, const double *velocity);

    unsigned int n_written() const { return static_cast<unsigned int>(series.size()); }
    /// The .pvd series so far (a checkpoint records it), and its restore by a
    /// resumed run (particles.pvd rewritten).
    const PvdCollection::Entries &outputs() const { return series.entries(); }
    void                          resume(PvdCollection::Entries outputs)
    {
      series.restore(std::move(outputs));
      series.write();
    }

  private:
    std::string   directory;
    unsigned int  dim;
    bool          circle;
    PvdCollection series; // particles.pvd
  };
} // namespace tpde
