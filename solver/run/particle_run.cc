#include "run/particle_run.h"

#include "initial/initial_condition.h"
#include "output/particle_output.h"
#include "output/particle_statistics.h"
#include "output/run_output.h"
#include "particles/particle_system.h"
#include "particles/sampling.h"
#include "particles/token_csv.h"
#include "run/output_folder.h"
#include "run/run_clock.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>

namespace tpde
{
  namespace
  {
    /// Output folder, parameters.prm, statistics.csv and the .vtp series.
    struct ParticleFiles
    {
      ParticleFiles(const Parameters &p, const std::vector<std::string> &header, const RunOptions &options)
      {
        const bool                  active = options.write_output;
        const std::filesystem::path directory(p.particles.directory);
        if (active && options.overwrite)
          remove_previous_run(previous_run_files(directory, RunKind::particles));
        const std::string where = p.file + ": subsection 'Particles', entry 'directory': ";
        try
          {
            if (active)
              {
                write_parameters_prm(directory, p.as_prm);
                if (p.output.write_vtu)
                  vtk = std::make_unique<ParticleVtkOutput>(directory.string(), p.dimension);
              }
            csv = std::make_unique<StatisticsFile>((directory / "statistics.csv").string(), header, active);
          }
        catch (const std::exception &e)
          {
            throw InputError(where + "cannot write to '" + directory.string() + "': " + e.what());
          }
      }
      std::unique_ptr<StatisticsFile>    csv;
      std::unique_ptr<ParticleVtkOutput> vtk;
    };

    void check_output_folder(const Parameters &p, bool overwrite)
    {
      // check_output_directory() checks Output/directory; point it at ours.
      Parameters particle_output = p;
      particle_output.output.directory = p.particles.directory;
      try
        {
          check_output_directory(particle_output);
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

    ParticleRunSummary import_tokens(const Parameters &p, const attention::Kernel &kernel, const RunOptions &options)
    {
      const RunClock                        clock;
      std::vector<particles::TokenSnapshot> snapshots;
      try
        {
          snapshots = particles::read_token_csv(p.particles.import_file, p.dimension, p.particles.import_time_scale);
        }
      catch (const std::invalid_argument &e)
        {
          throw InputError(p.file + ": subsection 'Particles', entry 'import file': " + e.what());
        }
      ParticleStatistics statistics(p, kernel);
      ParticleRunSummary summary;
      summary.header = statistics.header();
      ParticleFiles files(p, summary.header, options);
      double previous = snapshots.front().time;
      for (std::size_t k = 0; k < snapshots.size(); ++k)
        {
          const auto         &s = snapshots[k];
          std::vector<double> velocity(s.positions.size());
          std::vector<double> weights(s.positions.size() / p.dimension, 1. / double(s.positions.size() / p.dimension));
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
  } // namespace

  std::vector<double> sample_initial_tokens(const Parameters &p)
  {
    try
      {
        return p.initial.density->sample(static_cast<std::size_t>(p.particles.number_of_tokens), p.particles.sampling,
                                         static_cast<std::uint64_t>(p.particles.seed), p.mesh.lower_corner,
                                         p.mesh.upper_corner);
      }
    catch (const std::invalid_argument &e)
      {
        throw InputError(p.file + ": subsection 'Initial condition': cannot sample tokens: " + e.what());
      }
  }

  ParticleRunSummary run_particles(const Parameters &p, const RunOptions &options)
  {
    if (p.masked())
      throw InputError(p.file + ": subsection 'Attention', entry 'type': masked attention is not "
                                "available for tpde particles yet (tpde run solves it on the grid)");
    if (options.write_output)
      check_output_folder(p, options.overwrite);
    const auto kernel = attention::create(p.attention_type, p.attention);
    if (!p.particles.import_file.empty())
      return import_tokens(p, *kernel, options);

    particles::ParticleSystem system(*kernel, sample_initial_tokens(p));
    const auto                integrator = p.particles.integrator;
    ParticleStatistics        statistics(p, *kernel);
    ParticleRunSummary        summary;
    summary.header = statistics.header();
    ParticleFiles files(p, summary.header, options);

    RunClock   clock;
    const bool talk   = !options.quiet;
    double     time   = 0;
    const auto record = [&](unsigned long step, double dt) {
      summary.last_row = statistics.row(step, time, dt, system.positions(), system.velocity(), clock.seconds());
      files.csv->write(summary.last_row);
    };
    const auto write_vtk = [&]() {
      if (files.vtk)
        files.vtk->write(time, system.positions(), system.velocity().data());
    };
    if (talk)
      std::cout << "TPDE particles " << p.dimension << "D, " << p.attention_type << " attention, "
                << system.size() << " tokens (" << ParticleParameters::samplings().name_of(p.particles.sampling) << ", seed " << p.particles.seed << "), "
                << ParticleParameters::integrators().name_of(p.particles.integrator) << std::endl;
    record(0, 0.);
    write_vtk();

    const double   end_time = p.time.end_time;
    OutputSchedule schedule(p.output.interval, end_time);
    unsigned long  step_count = 0;
    while (!schedule.finished(time))
      {
        // Equal steps of at most `time step` that land exactly on the next output.
        const double        target  = schedule.target();
        const unsigned long n_steps = schedule.equal_steps(time, p.particles.time_step);
        const double        dt      = (target - time) / double(n_steps);
        for (unsigned long k = 1; k <= n_steps; ++k)
          {
            // A step's cost includes the velocity at its end (the next step's
            // first stage, also used by the statistics): 4 evaluations for RK4.
            const RunClock step_clock;
            system.step(dt, integrator);
            system.velocity();
            summary.step_seconds += step_clock.seconds();
            time = k == n_steps ? target : time + dt;
            ++step_count;
            for (const double x : system.positions())
              if (!std::isfinite(x))
                throw PhysicalFailure("a token position is not finite at t = " + std::to_string(time) +
                                      " (velocity too large: reduce the time step)");
            record(step_count, dt);
            if (const auto elapsed = clock.progress_due(schedule.finished(time)); talk && elapsed)
              {
                std::printf("step %7lu  t = %.6g / %g (%5.1f%%)  dt = %.3e  ETA %.0f s\n", step_count, time,
                            end_time, 100 * time / end_time, dt, *elapsed / time * (end_time - time));
                std::fflush(stdout);
              }
          }
        if (schedule.pass(time)) // always: the steps land on the target
          write_vtk();
      }
    summary.steps        = step_count;
    summary.time         = time;
    summary.wall_seconds = clock.seconds();
    summary.positions    = system.positions();
    if (talk)
      std::printf("done: %lu steps in %.2f s (%.3e s per step, %lu velocity evaluations)\n", summary.steps,
                  summary.wall_seconds, summary.step_seconds / double(std::max(1ul, summary.steps)),
                  system.evaluations());
    return summary;
  }
} // namespace tpde
