#include "particles/particle_parameters.h"

#include <filesystem>

namespace tpde
{
  const Choices<particles::Sampling> &ParticleParameters::samplings()
  {
    static const Choices<particles::Sampling> all({
      {"random", particles::Sampling::random, "i.i.d. tokens;"},
      {"quasi-random", particles::Sampling::quasi_random,
       "a Halton point set rotated by the seed. Gaussians and mixtures use the exact transform, box is affine, "
       "ball and expression use rejection (expression: within the Mesh box corners)."},
    });
    return all;
  }

  const Choices<particles::Integrator> &ParticleParameters::integrators()
  {
    static const Choices<particles::Integrator> all({
      {"rk4", particles::Integrator::rk4, "classical Runge-Kutta 4;"},
      {"ssp-rk3", particles::Integrator::ssp_rk3, "SSP-RK3."},
    });
    return all;
  }

  void ParticleParameters::declare(EntryDeclarations &entries)
  {
    entries.declare("number of tokens", "1000", EntryPattern::integer(1),
                    "tpde particles: number N of tokens, sampled from the initial condition; each carries the weight "
                    "1/N and moves with the same attention kernel as the grid.");
    entries.declare("seed", "1", EntryPattern::integer(0), "Seed of the token sampling (same seed, same tokens).");
    entries.declare_choice("sampling", "random", samplings(), "");
    entries.declare_choice("integrator", "rk4", integrators(), "Time integrator of the token ODE:");
    entries.declare("time step", "0.01", EntryPattern::real(0),
                    "Largest time step; each output interval is split into equal steps no longer than this.");
    entries.declare("directory", "", EntryPattern::anything(),
                    "Output folder of the particle run (particles_*.vtp, particles.pvd, statistics.csv, "
                    "parameters.prm). Empty: the folder 'particles' inside Output/directory.");
    entries.declare("import file", "", EntryPattern::anything(),
                    "CSV token positions from another code, written out instead of a run (relative to the parameter "
                    "file's folder): columns x, y, z (or x0, x1, x2) and optionally time; one file with a time "
                    "column, or one file per time with '*' standing for the number in the file names (layer_*.csv), "
                    "which is then the time.");
    entries.declare("import time scale", "1", EntryPattern::real(0),
                    "Imported times (time column or file number) are multiplied by this factor.");
  }

  ParticleParameters ParticleParameters::read(const EntryReader &r, const std::string &output_directory)
  {
    namespace fs = std::filesystem;
    ParticleParameters q;
    q.number_of_tokens  = r.integer("number of tokens");
    q.seed              = r.integer("seed");
    q.sampling          = r.choice("sampling", samplings());
    q.integrator        = r.choice("integrator", integrators());
    q.time_step         = r.real("time step");
    q.directory         = r.text("directory");
    q.import_file       = r.trimmed("import file");
    q.import_time_scale = r.real("import time scale");
    if (!(q.time_step > 0))
      r.fail("time step", "expected a positive time step");
    if (!(q.import_time_scale > 0))
      r.fail("import time scale", "expected a positive factor");
    if (q.directory.empty())
      q.directory = (fs::path(output_directory) / "particles").string();
    // Like the mesh file: relative to the parameter file's folder.
    if (!q.import_file.empty() && fs::path(q.import_file).is_relative())
      q.import_file = (fs::path(r.file()).parent_path() / q.import_file).string();
    return q;
  }
} // namespace tpde
