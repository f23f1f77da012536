#include "run/particle_run.h"

#include "initial/initial_condition.h"
#include "output/statistics.h"
#include "output/vtk_output.h"
#include "particles/particle_system.h"
#include "output/particle_output.h"
#include "particles/sampling.h"
#include "particles/token_csv.h"
#include "reference/gaussian_reference.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <stdexcept>

namespace tpde
{
  namespace
  {
    double seconds_since(std::chrono::steady_clock::time_point start)
    {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }

    /// statistics.csv of a particle run: the grid's columns where they mean
    /// the same (mass is 1, no outflow, no mesh), the reference columns for
    /// one initial Gaussian, then err_mean, err_cov, tokens and the kernel's
    /// own diagnostics (e.g. Sinkhorn iterations) of its last evaluation.
    class ParticleStatistics
    {
    public:
      ParticleStatistics(const Parameters &p, const attention::Kernel &kernel)
        : dim(p.dimension)
        , kernel(kernel)
      {
        const auto gaussian = p.initial.gaussian();
        if (gaussian && reference::has_gaussian_reference(p.attention_type))
          reference = std::make_unique<reference::GaussianReference>(p.attention_type, p.attention, *gaussian);
      }

      std::vector<std::string> header() const
      {
        std::vector<std::string> h = {"step", "time", "dt", "mass"};
        for (unsigned int i = 0; i < dim; ++i)
          h.push_back("mean_" + std::to_string(i));
        for (unsigned int i = 0; i < dim; ++i)
          for (unsigned int j = 0; j < dim; ++j)
            h.push_back("cov_" + std::to_string(i) + std::to_string(j));
        h.push_back("max_speed");
        h.push_back("wall_seconds");
        if (reference)
          {
            for (unsigned int i = 0; i < dim; ++i)
              h.push_back("ref_mean_" + std::to_string(i));
            for (unsigned int i = 0; i < dim; ++i)
              for (unsigned int j = 0; j < dim; ++j)
                h.push_back("ref_cov_" + std::to_string(i) + std::to_string(j));
            h.push_back("err_mean");
            h.push_back("err_cov");
          }
        h.push_back("tokens");
        for (const auto &[name, value] : kernel.diagnostics())
          h.push_back(name);
        return h;
      }

      std::vector<double> row(unsigned long step, double time, double dt, const std::vector<double> &positions,
                              const std::vector<double> &velocity, double wall_seconds)
      {
        const std::size_t n = positions.size() / dim;
        const auto        m = particles::empirical_moments(positions.data(), n, dim);
        std::vector<double> r = {double(step), time, dt, 1.};
        r.insert(r.end(), m.mean.begin(), m.mean.end());
        r.insert(r.end(), m.covariance.begin(), m.covariance.end());
        r.push_back(particles::max_speed(velocity.data(), n, dim));
        r.push_back(wall_seconds);
        if (reference)
          {
            const reference::GaussianState *state = nullptr;
            if (!reference_failed)
              try
                {
                  state = &reference->advance_to(time);
                }
              catch (const std::runtime_error &)
                {
                  reference_failed = true; // past a finite-time blow-up
                }
            if (state == nullptr)
              r.insert(r.end(), dim + dim * dim + 2, std::numeric_limits<double>::quiet_NaN());
            else
              {
                double err_mean = 0, err_cov = 0;
                for (unsigned int i = 0; i < dim; ++i)
                  {
                    r.push_back(state->mean[i]);
                    err_mean = std::max(err_mean, std::abs(m.mean[i] - state->mean[i]));
                  }
                for (unsigned int i = 0; i < dim; ++i)
                  for (unsigned int j = 0; j < dim; ++j)
                    {
                      r.push_back(state->covariance(i, j));
                      err_cov = std::max(err_cov, std::abs(m.covariance[i * dim + j] - state->covariance(i, j)));
                    }
                r.push_back(err_mean);
                r.push_back(err_cov);
              }
          }
        r.push_back(double(n));
        for (const auto &[name, value] : kernel.diagnostics())
          r.push_back(value);
        return r;
      }

    private:
      unsigned int                                  dim;
      const attention::Kernel                      &kernel;
      std::unique_ptr<reference::GaussianReference> reference;
      bool                                          reference_failed = false;
    };

    /// Output folder, parameters.prm, statistics.csv and the .vtp series.
    struct ParticleFiles
    {
      ParticleFiles(const Parameters &p, const std::vector<std::string> &header, bool active)
      {
        const std::filesystem::path directory(p.particles.directory);
        const std::string where = p.file + ": subsection 'Particles', entry 'directory': ";
        try
          {
            if (active)
              {
                std::filesystem::create_directories(directory);
                write_file_atomically((directory / "parameters.prm").string(), p.as_prm);
                if (p.output.write_vtu)
                  vtk = std::make_unique<ParticleVtkOutput>(directory.string(), p.dimension);
              }
            csv = std::make_unique<CsvWriter>((directory / "statistics.csv").string(), header, active);
          }
        catch (const std::exception &e)
          {
            throw InputError(where + "cannot write to '" + directory.string() + "': " + e.what());
          }
      }
      std::unique_ptr<CsvWriter>         csv;
      std::unique_ptr<ParticleVtkOutput> vtk;
    };

    void check_output_folder(const Parameters &p)
    {
      // check_output_directory() checks Output/directory; point it at ours.
      Parameters particle_output = p;
      particle_output.output.directory = p.particles.directory;
      try
        {
          check_output_directory(particle_output);
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
      const auto                 start = std::chrono::steady_clock::now();
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
      ParticleFiles files(p, summary.header, options.write_output);
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
          summary.last_row = statistics.row(k, s.time, s.time - previous, s.positions, velocity, seconds_since(start));
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
      summary.wall_seconds = seconds_since(start);
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
      check_output_folder(p);
    const auto kernel = attention::create(p.attention_type, p.attention);
    if (!p.particles.import_file.empty())
      return import_tokens(p, *kernel, options);

    particles::ParticleSystem system(*kernel, sample_initial_tokens(p));
    const auto                integrator = p.particles.integrator;
    ParticleStatistics        statistics(p, *kernel);
    ParticleRunSummary        summary;
    summary.header = statistics.header();
    ParticleFiles files(p, summary.header, options.write_output);

    const auto start    = std::chrono::steady_clock::now();
    const bool talk     = !options.quiet;
    double     time     = 0;
    const auto record   = [&](unsigned long step, double dt) {
      summary.last_row = statistics.row(step, time, dt, system.positions(), system.velocity(), seconds_since(start));
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

    const double  end_time    = p.time.end_time;
    const double  interval    = p.output.interval > 0 ? p.output.interval : end_time;
    double        next_output = interval;
    unsigned long step_count  = 0;
    double        last_report = 0;
    while (time < end_time * (1 - 1e-14))
      {
        // Equal steps of at most `time step` that land exactly on the next output.
        const double target  = std::min(next_output, end_time);
        const auto   n_steps = static_cast<unsigned long>(
          std::max(1., std::ceil((target - time) / p.particles.time_step * (1 - 1e-12))));
        const double dt      = (target - time) / double(n_steps);
        for (unsigned long k = 1; k <= n_steps; ++k)
          {
            // A step's cost includes the velocity at its end (the next step's
            // first stage, also used by the statistics): 4 evaluations for RK4.
            const auto step_start = std::chrono::steady_clock::now();
            system.step(dt, integrator);
            system.velocity();
            summary.step_seconds += seconds_since(step_start);
            time = k == n_steps ? target : time + dt;
            ++step_count;
            for (const double x : system.positions())
              if (!std::isfinite(x))
                throw PhysicalFailure("a token position is not finite at t = " + std::to_string(time) +
                                      " (velocity too large: reduce the time step)");
            record(step_count, dt);
            const double elapsed = seconds_since(start);
            if (talk && (elapsed - last_report > 2. || time >= end_time * (1 - 1e-14)))
              {
                last_report = elapsed;
                std::printf("step %7lu  t = %.6g / %g (%5.1f%%)  dt = %.3e  ETA %.0f s\n", step_count, time,
                            end_time, 100 * time / end_time, dt, elapsed / time * (end_time - time));
                std::fflush(stdout);
              }
          }
        write_vtk();
        while (next_output <= time * (1 + 1e-12))
          next_output += interval;
      }
    summary.steps        = step_count;
    summary.time         = time;
    summary.wall_seconds = seconds_since(start);
    summary.positions    = system.positions();
    if (talk)
      std::printf("done: %lu steps in %.2f s (%.3e s per step, %lu velocity evaluations)\n", summary.steps,
                  summary.wall_seconds, summary.step_seconds / double(std::max(1ul, summary.steps)),
                  system.evaluations());
    return summary;
  }
} // namespace tpde
