#include "run/particle_run.h"

#include "checkpoint/checkpoint_file.h"
#include "checkpoint/checkpoint_schedule.h"
#include "checkpoint/run_state.h"
#include "initial/initial_condition.h"
#include "initial/masked_tokens.h"
#include "noise/attach_noise.h"
#include "output/particle_output.h"
#include "output/particle_statistics.h"
#include "output/run_output.h"
#include "particles/particle_system.h"
#include "particles/sampling.h"
#include "particles/token_csv.h"
#include "run/domain_setup.h"
#include "run/output_folder.h"
#include "run/run_clock.h"
#include "sphere/circle_chart.h"
#include "sphere/surface_kernel.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>

namespace tpde
{
  namespace
  {
    /// Coordinates per token: the mesh's (the circle's angle, the point of
    /// R^d; masked attention's position s first), on S^2 the ambient point
    /// of the unit sphere.
    unsigned int token_dimension(const Parameters &p)
    {
      return p.on_surface() ? 3 : p.mesh_dimension();
    }

    /// Output folder, parameters.prm, statistics.csv and the .vtp series.
    struct ParticleFiles
    {
      /// `resumed`: continue the files as they were at that checkpoint.
      ParticleFiles(const Parameters &p, const std::vector<std::string> &header, const RunOptions &options,
                    const RunProgress *resumed = nullptr)
      {
        const bool                  active = options.write_output;
        const std::filesystem::path directory(p.particles.directory);
        if (active && options.overwrite)
          remove_previous_run(previous_run_files(directory, RunKind::particles));
        if (active && resumed) // files written after the checkpoint by the stopped run
          remove_outputs_not_in(directory, RunKind::particles, resumed->outputs);
        const std::string where = p.file + ": subsection 'Particles', entry 'directory': ";
        try
          {
            if (active)
              {
                write_parameters_prm(directory, p.as_prm);
                // Angles to the ring; masked attention's (s, theta) stay on the flat chart, as the grid's mesh.
                const bool circle = token_dimension(p) == 1 && p.mesh.on_sphere();
                if (p.output.write_vtu)
                  vtk = std::make_unique<ParticleVtkOutput>(directory.string(), token_dimension(p), circle);
                if (vtk && resumed)
                  vtk->resume(resumed->outputs);
              }
            csv = std::make_unique<StatisticsFile>(
              (directory / "statistics.csv").string(), header, active,
              resumed ? std::optional<std::uint64_t>(resumed->statistics_bytes) : std::nullopt);
          }
        catch (const std::exception &e)
          {
            throw InputError(where + "cannot write to '" + directory.string() + "': " + e.what());
          }
      }
      std::unique_ptr<StatisticsFile>    csv;
      std::unique_ptr<ParticleVtkOutput> vtk;
    };

    void check_output_folder(const Parameters &p, bool overwrite, bool resume)
    {
      // check_output_directory() checks Output/directory; point it at ours.
      Parameters particle_output = p;
      particle_output.output.directory = p.particles.directory;
      try
        {
          check_output_directory(particle_output);
          if (!resume) // a resumed run continues the folder's run
            refuse_previous_run(previous_run_files(p.particles.directory, RunKind::particles),
                                p.file + ": subsection 'Particles', entry 'directory': ", p.particles.directory,
                                overwrite);
        }
      catch (const InputError &e)
        {
          const std::string grid_entry = "subsection 'Output', entry 'directory'";
          std::string       message    = e.what();
          if (const auto at = message.find(grid_entry); at != std::string::npos)
            message.replace(at, grid_entry.size(), "subsection 'Particles', entry 'directory'");
          throw InputError(message);
        }
    }

    /// Where a particle run is: the progress, the tokens and the output
    /// interval being stepped through (equal steps of size dt to target).
    struct ParticleRunState
    {
      RunProgress         progress;
      std::vector<double> positions;
      double              target = 0, dt = 0;
      unsigned long       steps_left = 0;
      double              step_seconds = 0;
      Checkpoint          checkpoint; // when resumed: the one read
      std::unique_ptr<noise::CommonNoise> common_noise; // its rates: the path's chord over each step
    };

    /// Particle entries that may change on resume; the grid's do not matter.
    const std::vector<std::string> free_sections = {"Output", "Checkpoint", "Mesh refinement", "Discretization"};
    const std::vector<std::string> free_entries  = {"Time stepping/end time", "Time stepping/maximum steps",
                                                    "Time stepping/cfl", "Time stepping/scheme"};

    ParticleRunState read_particle_checkpoint(const Parameters &p)
    {
      ParticleRunState state;
      state.checkpoint = CheckpointFolder(p.particles.directory)
                           .read_newest(p.file + ": subsection 'Particles', entry 'directory': --resume: ");
      const Checkpoint &c = state.checkpoint;
      check_same_parameters(c, "particles", p.as_prm, p.file, free_sections, free_entries);
      state.progress = RunProgress::load(c);
      if (state.progress.time >= p.time.end_time * (1 - 1e-14))
        throw InputError(p.file + ": subsection 'Time stepping', entry 'end time': --resume: the checkpoint " +
                         c.origin() + " is at t = " + std::to_string(state.progress.time) +
                         ", expected an end time after it");
      state.positions  = c.numbers("positions");
      const auto &step = c.numbers("interval");
      const unsigned int token_dim = token_dimension(p);
      if (step.size() != 3 || state.positions.size() != std::size_t(p.particles.number_of_tokens) * token_dim)
        throw InputError(c.origin() + ": damaged checkpoint (token count or interval state)");
      state.target       = step[0];
      state.dt           = step[1];
      state.steps_left   = static_cast<unsigned long>(step[2]);
      state.step_seconds = c.number("step seconds");
      return state;
    }

    /// A failure to write it is a warning: the run goes on.
    void write_particle_checkpoint(const Parameters &p, const RunProgress &progress, const ParticleRunState &state,
                                   const std::vector<double> &positions, double step_seconds,
                                   const ParticleStatistics &statistics)
    {
      Checkpoint c;
      store_parameters(c, "particles", p.as_prm);
      progress.store(c);
      c.put("positions", positions);
      c.put("interval", {state.target, state.dt, double(state.steps_left)});
      c.put("step seconds", step_seconds);
      c.put("references", statistics.reference_snapshot());
      if (p.masked())
        c.put("slice references", statistics.slice_reference_snapshot());
      try
        {
          CheckpointFolder(p.particles.directory).write(progress.step, c, p.checkpoint.keep);
        }
      catch (const std::exception &e)
        {
          std::fprintf(stderr, "warning: no checkpoint at t = %.6g (step %lu): %s\n", progress.time, progress.step,
                       e.what());
        }
    }

    /// Imported tokens on the sphere are ambient points with |x| = 1 to 1e-6
    /// (LayerNorm'ed tokens as other codes write them): a token off it is
    /// refused with the file and line (read_token_csv adds them).
    particles::TokenCheck unit_norm_check(const Parameters &p)
    {
      if (!p.mesh.on_sphere())
        return {};
      return [dim = p.dimension](const double *x) -> std::string {
        double norm2 = 0;
        for (unsigned int c = 0; c < dim; ++c)
          norm2 += x[c] * x[c];
        if (std::abs(std::sqrt(norm2) - 1) <= 1e-6)
          return "";
        return "the token lies off the unit " + std::string(dim == 2 ? "circle" : "sphere") +
               " (|x| = " + std::to_string(std::sqrt(norm2)) + "; Mesh/domain = sphere expects |x| = 1 to 1e-6)";
      };
    }

    ParticleRunSummary import_tokens(const Parameters &p, attention::LayeredKernel &kernel, const RunOptions &options,
                                     const SphereSetup *sphere_columns)
    {
      const RunClock                        clock;
      std::vector<particles::TokenSnapshot> snapshots;
      try
        {
          snapshots = particles::read_token_csv(p.particles.import_file, p.dimension, p.particles.import_time_scale,
                                                unit_norm_check(p));
        }
      catch (const std::invalid_argument &e)
        {
          throw InputError(p.file + ": subsection 'Particles', entry 'import file': " + e.what());
        }
      const unsigned int dim = token_dimension(p);
      for (auto &s : snapshots)
        if (dim == 1 && p.mesh.on_sphere())
          s.positions = sphere::circle_angles(s.positions);
        else if (p.on_surface()) // within 1e-6 of the sphere: onto it, as the run's tokens are
          sphere::project_to_sphere(s.positions.size() / 3, s.positions.data(), s.positions.data());
      ParticleStatistics statistics(p, kernel, sphere_columns);
      ParticleRunSummary summary;
      summary.header = statistics.header();
      ParticleFiles files(p, summary.header, options);
      double previous = snapshots.front().time;
      for (std::size_t k = 0; k < snapshots.size(); ++k)
        {
          const auto         &s = snapshots[k];
          std::vector<double> velocity(s.positions.size());
          std::vector<double> weights(s.positions.size() / dim, 1. / double(s.positions.size() / dim));
          kernel.select_at(p.layers, s.time); // a snapshot is moved by the weights of its time's layer (and phase)
          try
            {
              kernel.evaluate(weights.size(), s.positions.data(), weights.size(), s.positions.data(),
                              weights.data(), velocity.data());
            }
          catch (const std::invalid_argument &e)
            {
              // e.g. Sinkhorn not converging: a physical failure, as in a grid run.
              throw PhysicalFailure("the attention velocity of the imported tokens at t = " +
                                    std::to_string(s.time) + " cannot be evaluated: " + e.what());
            }
          summary.last_row = statistics.row(k, s.time, s.time - previous, s.positions, velocity, clock.seconds());
          files.csv->write(summary.last_row);
          if (files.vtk)
            files.vtk->write(s.time, s.positions, velocity.data());
          previous = s.time;
        }
      if (!options.quiet)
        std::printf("imported %zu times of tokens from %s into %s\n", snapshots.size(), p.particles.import_file.c_str(),
                    p.particles.directory.c_str());
      summary.steps     = snapshots.size() - 1;
      summary.time      = snapshots.back().time;
      summary.positions = snapshots.back().positions;
      summary.wall_seconds = clock.seconds();
      return summary;
    }

    /// Noise and feed-forward blocks with masked attention are refused when the parameters are read.
    void refuse_unsupported(const Parameters &p)
    {
      if (p.masked() && !p.particles.import_file.empty())
        throw InputError(p.file + ": subsection 'Particles', entry 'import file': expected none with "
                                  "Attention/type = masked (imported tokens carry no position s)");
    }

    void announce(const Parameters &p, std::size_t tokens)
    {
      std::cout << "TPDE particles " << p.dimension << "D"
                << (p.on_surface() ? " on S^2" : p.mesh.on_sphere() ? " on the circle" : "") << ", "
                << p.attention_type << " attention, " << tokens << " tokens" << (p.masked() ? " at s_j = j/N" : "")
                << " ("
                << ParticleParameters::samplings().name_of(p.particles.sampling) << ", seed " << p.particles.seed
                << "), " << ParticleParameters::integrators().name_of(p.particles.integrator) << std::endl;
    }

    /// One of the equal steps of `state` from `time` and the velocity at its end, in the layer of the time
    /// reached (at a layer boundary: the next layer's); returns that time.
    double step_tokens(particles::ParticleSystem &system, attention::LayeredKernel &kernel, const Parameters &p,
                       ParticleRunState &state, double time)
    {
      if (state.common_noise && state.common_noise->set_chord(time, time + state.dt))
        system.kernel_changed(); // the velocity at the step's start gets the new rates
      system.step(state.dt, p.particles.integrator);
      time = --state.steps_left == 0 ? state.target : time + state.dt;
      if (kernel.select_at(p.layers, time))
        system.kernel_changed();
      system.velocity();
      return time;
    }
  } // namespace

  std::vector<double> sample_initial_tokens(const Parameters &p)
  {
    try
      {
        if (p.masked()) // the Mesh box of x after the s axis [0, 1] (unused on the circle)
          return sample_masked_tokens(p.initial, static_cast<std::size_t>(p.particles.number_of_tokens),
                                      p.particles.sampling, static_cast<std::uint64_t>(p.particles.seed),
                                      {p.mesh.lower_corner.begin() + 1, p.mesh.lower_corner.end()},
                                      {p.mesh.upper_corner.begin() + 1, p.mesh.upper_corner.end()});
        auto tokens = p.initial.density->sample(static_cast<std::size_t>(p.particles.number_of_tokens),
                                                p.particles.sampling, static_cast<std::uint64_t>(p.particles.seed),
                                                p.mesh.lower_corner, p.mesh.upper_corner);
        if (token_dimension(p) == p.dimension) // R^d, or S^2: the ambient points
          return tokens;
        return sphere::circle_angles(tokens);
      }
    catch (const std::invalid_argument &e)
      {
        throw InputError(p.file + ": subsection 'Initial condition': cannot sample tokens: " + e.what());
      }
  }

  namespace
  {
    /// Particles/time step; with common noise at most the path's resolution, so that the steps resolve
    /// the path (and land on its nodes when 2^-L / time step is an integer: the grid's path exactly).
    double token_step(const Parameters &p, const noise::CommonNoise *noise)
    {
      return noise ? std::min(p.particles.time_step, noise->resolution()) : p.particles.time_step;
    }

    /// RunOptions::initial_tokens, checked against the run's token count and dimension.
    const std::vector<double> &given_tokens(const Parameters &p, const std::vector<double> &tokens)
    {
      const std::size_t expected = std::size_t(p.particles.number_of_tokens) * token_dimension(p);
      if (tokens.size() != expected)
        throw InputError(p.file + ": subsection 'Particles': " + std::to_string(tokens.size()) +
                         " initial token coordinates given, expected " + std::to_string(expected) +
                         " (number of tokens x " + std::to_string(token_dimension(p)) + ")");
      for (const double x : tokens)
        if (!std::isfinite(x))
          throw InputError(p.file + ": subsection 'Particles': the initial tokens must be finite numbers");
      return tokens;
    }

    /// The tokens at the start: a resumed run's, the caller's (RunOptions::initial_tokens) or sampled.
    std::vector<double> starting_tokens(const Parameters &p, const RunOptions &options, const ParticleRunState &state)
    {
      if (options.resume)
        return state.positions;
      return options.initial_tokens ? given_tokens(p, *options.initial_tokens) : sample_initial_tokens(p);
    }

    /// An import writes the tokens of its files: no resume, no initial tokens.
    void refuse_with_import(const Parameters &p, const RunOptions &options)
    {
      if (options.initial_tokens)
        throw InputError(p.file + ": subsection 'Particles', entry 'import file': the tokens are imported, "
                                  "expected no initial tokens besides");
      if (options.resume)
        throw InputError(p.file + ": subsection 'Particles', entry 'import file': --resume applies to particle runs "
                                  "that integrate tokens, not to an import");
    }

    /// The tokens' geometry (S^2 retraction, the circle's chart) and their noises.
    void configure_tokens(particles::ParticleSystem &system, const Parameters &p, ParticleRunState &state)
    {
      if (p.on_surface())
        system.set_sphere_retraction();
      else if (p.mesh.on_sphere())
        system.set_circle_chart();
      state.common_noise = noise::attach_common_noise(system, p.noise);
      system.set_diffusion(p.noise.diffusion, p.noise.seed, state.progress.step); // D = 0: no noise
    }
  } // namespace

  ParticleRunSummary run_particles(const Parameters &p, const RunOptions &options)
  {
    refuse_unsupported(p);
    if (options.write_output)
      check_output_folder(p, options.overwrite, options.resume);
    // On the circle the tokens are angles and the kernel speaks the chart; on S^2 they are ambient
    // points and the kernel is the grid's surface kernel (ambient attention, tangent projection).
    const auto kernel         = create_kernel(p);
    // Masked on the circle: per-slice modes instead of the circle's columns, as on the grid.
    const auto sphere_columns =
      p.mesh.on_sphere() && !p.masked() ? std::optional<SphereSetup>(sphere_setup(p)) : std::nullopt;
    if (!p.particles.import_file.empty())
      {
        refuse_with_import(p, options);
        return import_tokens(p, *kernel, options, sphere_columns ? &*sphere_columns : nullptr);
      }

    ParticleRunState state;
    if (options.resume)
      state = read_particle_checkpoint(p);
    kernel->select_at(p.layers, state.progress.time);
    particles::ParticleSystem system(*kernel, starting_tokens(p, options, state));
    configure_tokens(system, p, state);
    ParticleStatistics        statistics(p, *kernel, sphere_columns ? &*sphere_columns : nullptr);
    ParticleRunSummary        summary;
    summary.header = statistics.header();
    if (options.resume)
      try
        {
          statistics.reference_restore(state.checkpoint.numbers("references"));
          if (p.masked())
            statistics.slice_reference_restore(state.checkpoint.numbers("slice references"));
        }
      catch (const std::invalid_argument &e)
        {
          throw InputError(state.checkpoint.origin() + ": incompatible checkpoint (" + e.what() + ")");
        }
    ParticleFiles files(p, summary.header, options, options.resume ? &state.progress : nullptr);

    RunClock   clock(state.progress.wall_seconds);
    const bool talk   = !options.quiet;
    double     time   = state.progress.time;
    const auto record = [&](unsigned long step, double dt) {
      summary.last_row = statistics.row(step, time, dt, system.positions(), system.velocity(), clock.seconds());
      files.csv->write(summary.last_row);
    };
    const auto write_vtk = [&]() {
      if (files.vtk)
        files.vtk->write(time, system.positions(), system.velocity().data());
    };
    if (talk)
      announce(p, system.size());
    if (talk && options.resume)
      std::cout << "resumed from " << state.checkpoint.origin() << " at t = " << time << ", step "
                << state.progress.step << std::endl;

    const double   end_time = p.time.end_time;
    OutputSchedule schedule(p.output.interval, end_time, p.layers.boundaries(end_time));
    unsigned long  step_count = state.progress.step;
    if (options.resume)
      {
        schedule.resume(state.progress.next_output);
        summary.step_seconds = state.step_seconds;
      }
    else
      {
        record(0, 0.);
        write_vtk();
      }
    CheckpointSchedule checkpoints(p.checkpoint, time, clock.seconds());
    while (!schedule.finished(time))
      {
        // Equal steps of at most `time step` that land exactly on the next output or layer boundary.
        if (state.steps_left == 0)
          {
            state.target     = schedule.target(time);
            state.steps_left = schedule.equal_steps(time, token_step(p, state.common_noise.get()));
            state.dt         = (state.target - time) / double(state.steps_left);
          }
        // A step's cost includes the velocity at its end (the next step's
        // first stage, also used by the statistics): 4 evaluations for RK4.
        const auto step_start = std::chrono::steady_clock::now();
        time = step_tokens(system, *kernel, p, state, time);
        summary.step_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count();
        ++step_count;
        for (const double x : system.positions())
          if (!std::isfinite(x))
            throw PhysicalFailure("a token position is not finite at t = " + std::to_string(time) +
                                  " (velocity too large: reduce the time step)");
        record(step_count, state.dt);
        const auto elapsed = (talk || options.progress) ? clock.progress_due(schedule.finished(time)) : std::nullopt;
        if (elapsed && options.progress)
          options.progress({step_count, time, end_time, state.dt});
        if (elapsed && talk)
          {
            std::printf("step %7lu  t = %.6g / %g (%5.1f%%)  dt = %.3e  ETA %.0f s\n", step_count, time, end_time,
                        100 * time / end_time, state.dt, *elapsed / time * (end_time - time));
            std::fflush(stdout);
          }
        if (state.steps_left == 0 && schedule.pass(time)) // the steps land on the target
          write_vtk();
        if (options.write_output &&
            (schedule.finished(time) ? p.checkpoint.at_end : checkpoints.due(time, clock.seconds(), MPI_COMM_SELF)))
          {
            RunProgress now{step_count, time, schedule.next_output_time(), clock.seconds(), files.csv->size(), {}};
            if (files.vtk)
              now.outputs = files.vtk->outputs();
            write_particle_checkpoint(p, now, state, system.positions(), summary.step_seconds, statistics);
          }
      }
    summary.steps        = step_count;
    summary.time         = time;
    summary.wall_seconds = clock.seconds();
    summary.positions    = system.positions();
    if (talk)
      std::printf("done: %lu steps in %.2f s on %.2f cores%s (%.3e s per step, %lu velocity evaluations)\n",
                  summary.steps, summary.wall_seconds, clock.cores(), options.resume ? " since the resume" : "",
                  summary.step_seconds / double(std::max(1ul, summary.steps)), system.evaluations());
    return summary;
  }
} // namespace tpde
