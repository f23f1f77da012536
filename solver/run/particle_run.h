// `tpde particles FILE.prm`: the finite-token counterpart of a grid run.
//
// Reads the same parameters (dimension, Attention, Initial condition, Time
// stepping/end time, Output/interval) plus `subsection Particles`, samples N
// tokens from the initial density, integrates them with RK4 or SSP-RK3 under
// the grid's attention kernel, and writes particles_*.vtp, particles.pvd,
// statistics.csv and parameters.prm to Particles/directory. With
// `Particles/import file` set, the token positions come from CSV files
// instead (no integration) and are written the same way.
//
// On the circle (Mesh/domain = sphere, dimension = 2) the tokens are sampled
// from the same initial laws and integrated in the angle chart (positions
// are angles in [0, 2 pi), wrapped after every step) under the grid's circle
// kernel; statistics and .vtp as described in particle_statistics.h and
// particle_output.h. Imported tokens are ambient points on the unit circle
// (|x| = 1 to 1e-6), read as their angles.
//
// On S^2 (Mesh/domain = sphere, dimension = 3) the tokens are the ambient
// points of the unit sphere, sampled from the same initial laws as the grid's
// (the samplers of the sphere's initial types: uniform proposals on S^2),
// moved by the grid's surface kernel (the ambient attention at x / |x|,
// projected onto the tangent plane) with the Runge-Kutta step in R^3 followed
// by the retraction x / |x| (ParticleSystem::set_sphere_retraction; order 4
// for RK4, 3 for SSP-RK3; |x_i| = 1 to round-off), and they write the grid's
// S^2 statistics columns and .vtp of the points in R^3. Imported tokens must
// lie within 1e-6 of the sphere (else an input error naming file and line)
// and are projected onto it.
#pragma once

#include "common/errors.h"
#include "parameters/parameters.h"
#include "run/run_options.h"

#include <string>
#include <vector>

namespace tpde
{
  struct ParticleRunSummary
  {
    unsigned long            steps        = 0;
    double                   time         = 0;
    double                   wall_seconds = 0;
    double                   step_seconds = 0; // wall time spent in steps (no output, no statistics)
    std::vector<std::string> header;           // of statistics.csv
    std::vector<double>      last_row;
    std::vector<double>      positions;        // final tokens, N x dim (the circle: N angles; S^2: N x 3)
  };

  /// The initial tokens (N x dim; the circle: N angles; S^2: N unit points) described by
  /// `Initial condition` and `Particles`.
  /// Throws InputError.
  std::vector<double> sample_initial_tokens(const Parameters &parameters);

  /// The whole run (or import). Throws InputError (nothing written) and
  /// PhysicalFailure (non-finite positions; the output so far is kept).
  /// `options.write_output = false` keeps everything in memory (tests).
  ParticleRunSummary run_particles(const Parameters &parameters, const RunOptions &options);
} // namespace tpde
