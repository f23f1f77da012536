// tpde._tpde: the parameters and the two runs, the same calls as solver/app/main.cc.
#include "python/bindings.h"

#include "parameters/parameters.h"
#include "run/particle_run.h"
#include "run/plots.h"
#include "run/simulation.h"

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <optional>

namespace tpde::python
{
  namespace
  {
    /// RunOptions as the command line sets them, and a progress callback called with the GIL held.
    RunOptions run_options(bool quiet, bool overwrite, const std::optional<py::function> &progress)
    {
      RunOptions options;
      options.quiet     = quiet;
      options.overwrite = overwrite;
      if (progress)
        options.progress = [callback = *progress](const RunProgressReport &report) {
          py::gil_scoped_acquire gil;
          callback(report.step, report.time, report.end_time, report.dt);
        };
      return options;
    }

    py::dict run_grid(const Parameters &parameters, bool quiet, bool overwrite,
                      const std::optional<py::function> &progress)
    {
      const RunOptions options = run_options(quiet, overwrite, progress);
      RunSummary       summary;
      {
        py::gil_scoped_release released;
        summary = run_simulation(parameters, MPI_COMM_WORLD, options);
        plot_statistics_if_asked(parameters, RunKind::grid, quiet);
      }
      py::dict result;
      result["steps"]          = summary.steps;
      result["rejected_steps"] = summary.rejected_steps;
      result["time"]           = summary.time;
      result["wall_seconds"]   = summary.wall_seconds;
      result["header"]         = summary.header;
      return result;
    }

    py::dict run_tokens(const Parameters &parameters, bool quiet, bool overwrite,
                        const std::optional<py::function> &progress, const std::optional<InputArray> &tokens)
    {
      RunOptions          options = run_options(quiet, overwrite, progress);
      std::vector<double> initial;
      if (tokens)
        {
          check_matrix(*tokens, "tokens");
          initial.assign(tokens->data(), tokens->data() + tokens->size());
          options.initial_tokens = &initial;
        }
      ParticleRunSummary summary;
      {
        py::gil_scoped_release released;
        summary = run_particles(parameters, options);
        plot_statistics_if_asked(parameters, RunKind::particles, quiet);
      }
      const std::size_t n = std::size_t(parameters.particles.number_of_tokens);
      py::array_t<double> positions({n, n ? summary.positions.size() / n : 0});
      std::copy(summary.positions.begin(), summary.positions.end(), positions.mutable_data());
      py::dict result;
      result["steps"]        = summary.steps;
      result["time"]         = summary.time;
      result["wall_seconds"] = summary.wall_seconds;
      result["header"]       = summary.header;
      result["positions"]    = positions;
      return result;
    }
  } // namespace

  void bind_runs(py::module_ &m)
  {
    py::class_<Parameters>(m, "Parameters", "A run's parsed parameters (tpde::Parameters).")
      .def_readonly("file", &Parameters::file, "where the parameters came from (for messages)")
      .def_readonly("text", &Parameters::as_prm, "every entry as parsed, defaults included, as a .prm text")
      .def_readonly("dimension", &Parameters::dimension)
      .def_readonly("attention_type", &Parameters::attention_type)
      .def_property_readonly("output_directory", [](const Parameters &p) { return p.output.directory; })
      .def_property_readonly("particles_directory", [](const Parameters &p) { return p.particles.directory; })
      .def_property_readonly("end_time", [](const Parameters &p) { return p.time.end_time; })
      .def_property_readonly("number_of_tokens", [](const Parameters &p) { return p.particles.number_of_tokens; })
      .def_property_readonly("on_sphere", [](const Parameters &p) { return p.mesh.on_sphere(); });

    m.def("read_parameters", &read_parameters, py::arg("file"), py::arg("overrides"),
          "tpde::read_parameters: the file with the overrides 'Subsection/entry=value'; raises InputError.");
    m.def("parse_parameters", &parse_parameters, py::arg("text"), py::arg("name"), py::arg("overrides"),
          "tpde::parse_parameters: the text of a .prm file, `name` in messages; raises InputError.");
    m.def("run_simulation", &run_grid, py::arg("parameters"), py::arg("quiet"), py::arg("overwrite"),
          py::arg("progress"),
          "tpde::run_simulation on MPI_COMM_WORLD without the GIL; progress(step, time, end_time, dt).");
    m.def("run_particles", &run_tokens, py::arg("parameters"), py::arg("quiet"), py::arg("overwrite"),
          py::arg("progress"), py::arg("tokens"),
          "tpde::run_particles without the GIL; tokens: (N, d) initial tokens or None (sampled).");
  }
} // namespace tpde::python
