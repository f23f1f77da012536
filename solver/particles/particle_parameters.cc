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

  const EntryTable<ParticleParameters> &ParticleParameters::entry_table()
  {
    static const EntryTable<ParticleParameters> table = EntryTable<ParticleParameters>()
      .add("number of tokens", &ParticleParameters::number_of_tokens, "1000", EntryPattern::integer(1),
          "tpde particles: number N of tokens, sampled from the initial condition; each carries the weight "
          "1/N and moves with the same attention kernel as the grid.")
      .add("seed", &ParticleParameters::seed, "1", EntryPattern::integer(0), "Seed of the token sampling (same seed, same tokens).")
      .add_choice("sampling", &ParticleParameters::sampling, "random", ParticleParameters::samplings(), "")
      .add_choice("integrator", &ParticleParameters::integrator, "rk4", ParticleParameters::integrators(), "Time integrator of the token ODE:")
      .add("time step", &ParticleParameters::time_step, "0.01", EntryPattern::real(0),
          "Largest time step; each output interval is split into equal steps no longer than this.")
      .add("directory", &ParticleParameters::directory, "", EntryPattern::anything(),
          "Output folder of the particle run (particles_*.vtp, particles.pvd, statistics.csv, "
          "parameters.prm). Empty: the folder 'particles' inside Output/directory.")
      .add("import file", &ParticleParameters::import_file, "", EntryPattern::anything(),
          "CSV token positions from another code, written out instead of a run (relative to the parameter "
          "file's folder): columns x, y, z (or x0, x1, x2) and optionally time; one file with a time "
          "column, or one file per time with '*' standing for the number in the file names (layer_*.csv), "
          "which is then the time.")
      .add("import time scale", &ParticleParameters::import_time_scale, "1", EntryPattern::real(0),
          "Imported times (time column or file number) are multiplied by this factor.")
      .add("slice window", &ParticleParameters::slice_window, "0.1", EntryPattern::real(0),
          "Attention/type = masked: the columns slice<k>_* of a particle run are those of the tokens whose "
          "position s lies within half this width of s_k (clipped to [0, 1] and to s_k's side of 'upper data "
          "from'), in (0, 1]. Noise ~ (N width)^(-1/2), bias ~ width^2 where the law changes with s.");
    return table;
  }

  ParticleParameters ParticleParameters::read(const EntryReader &r, const std::string &output_directory)
  {
    namespace fs = std::filesystem;
    ParticleParameters q;
    entry_table().read(r, q);
    q.import_file = r.trimmed("import file");
    if (!(q.time_step > 0))
      r.fail("time step", "expected a positive time step");
    if (!(q.import_time_scale > 0))
      r.fail("import time scale", "expected a positive factor");
    if (!(q.slice_window > 0 && q.slice_window <= 1))
      r.fail("slice window", "expected a width in (0, 1], got " + r.text("slice window"));
    if (q.directory.empty())
      q.directory = (fs::path(output_directory) / "particles").string();
    // Like the mesh file: relative to the parameter file's folder.
    if (!q.import_file.empty() && fs::path(q.import_file).is_relative())
      q.import_file = (fs::path(r.file()).parent_path() / q.import_file).string();
    return q;
  }
} // namespace tpde
