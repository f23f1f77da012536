// tpde: the command-line front end.
//
//   tpde run FILE.prm [--set "Subsection/entry=value"]... [--quiet]
//   tpde particles FILE.prm [--set ...] [--quiet]   (finite-token run, one MPI rank)
//   tpde validate FILE.prm [--set ...]         (or --validate)
//   tpde --print-parameters [prm|json]
//   tpde --version
//
// Exit codes: 0 success, 1 internal error, 2 bad input (one line on stderr
// from rank 0, nothing written), 3 physical failure (NaN, CFL; the output
// written so far is kept).
#include "attention/attention.h"
#include "run/simulation.h"
#include "run/particle_run.h"
#include "run/plots.h"
#include "run/run_size.h"
#include "run/mpi_singleton.h"
#include "run/thread_binding.h"
#include "parameters/parameters.h"

#include <deal.II/base/mpi.h>
#include <deal.II/base/multithread_info.h>
#include <deal.II/base/revision.h>

#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

namespace
{
  const char *usage =
    "usage: tpde run FILE.prm [--set \"Subsection/entry=value\"]... [--quiet] [--overwrite | --resume]\n"
    "       tpde particles FILE.prm [--set ...] [--quiet] [--overwrite | --resume]\n"
    "       tpde validate FILE.prm [--set ...] [--overwrite]    (also: tpde --validate FILE.prm)\n"
    "       tpde --print-parameters [prm|json]\n"
    "       tpde --version\n"
    "       tpde --help\n";

  const char *help_text =
    "\ncommands:\n"
    "  run FILE.prm        the grid solver (under mpirun: one MPI rank per process)\n"
    "  particles FILE.prm  N tokens instead of the mesh (subsection Particles; one MPI rank)\n"
    "  validate FILE.prm   parse, build the mesh, check the initial data and the output folder; print\n"
    "                      cells, DoFs, the memory estimate, the time of one step and the output\n"
    "                      folder; write nothing\n"
    "options:\n"
    "  --set \"Subsection/entry=value\"  override an entry of FILE.prm (repeatable)\n"
    "  --quiet, -q                     no progress line\n"
    "  --overwrite                     the output folder may hold a previous run: its files (statistics.csv,\n"
    "                                  statistics.png, parameters.prm, solution.pvd, solution_*.vtu/.pvtu,\n"
    "                                  checkpoints/; for particles particles.pvd, particles_*.vtp) are\n"
    "                                  removed first, nothing else.\n"
    "                                  Without it such a folder is refused (exit code 2)\n"
    "  --resume                        continue the run in the output folder from its newest checkpoint\n"
    "                                  (subsection Checkpoint), on any number of MPI ranks; rows and\n"
    "                                  ParaView files written after that checkpoint are replaced. Only the\n"
    "                                  Output and Checkpoint entries, the end time and the step budget may\n"
    "                                  differ from the checkpointed run's parameters\n"
    "  --print-parameters [prm|json]   every entry with its default and documentation\n"
    "  --version                       version, deal.II, MPI ranks, threads, SIMD, attention types\n"
    "  --help, -h                      this text\n"
    "exit codes:\n"
    "  0  success\n"
    "  1  internal error\n"
    "  2  bad input: one line on stderr naming the file, the entry and what was expected; nothing written\n"
    "  3  physical failure (non-finite density, collapsed or shrinking time step, step budget, mass left\n"
    "     the domain); the output written so far is kept\n"
    "paths:\n"
    "  Mesh/file and Particles/import file are relative to the folder of the parameter file;\n"
    "  Output/directory (and Particles/directory) relative to the working folder.\n";

  /// The attention kernel picks its clone at run time; report what it picks.
  std::string simd_description()
  {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
      return "AVX-512 (8 doubles; attention kernel clone x86-64-v4)";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      return "AVX2 (4 doubles; attention kernel clone x86-64-v3)";
    return "SSE2 (2 doubles; attention kernel baseline x86-64)";
  }

  /// A mistake on the command line: the message and then the usage.
  class UsageError : public tpde::InputError
  {
  public:
    using tpde::InputError::InputError;
  };

  struct CommandLine
  {
    std::string              command; // run | particles | validate | print-parameters | version | help
    std::string              file;
    std::string              format = "prm";
    std::vector<std::string> overrides;
    bool                     quiet     = false;
    bool                     overwrite = false;
    bool                     resume    = false;
  };

  bool is_file_command(const std::string &command)
  {
    return command == "run" || command == "particles" || command == "validate";
  }

  /// A word that is not an option: the command (when none is given yet) or the file.
  void positional(CommandLine &cl, const std::string &a)
  {
    if (cl.command.empty() && is_file_command(a))
      cl.command = a;
    else if (cl.command.empty() && a.size() > 4 && a.compare(a.size() - 4, 4, ".prm") == 0)
      {
        cl.command = "run"; // `tpde FILE.prm` runs it
        cl.file    = a;
      }
    else if (cl.command.empty())
      throw UsageError("command line: unknown command '" + a + "' (expected run, particles or validate)");
    else if (cl.file.empty() && is_file_command(cl.command))
      cl.file = a;
    else
      throw UsageError("command line: unexpected argument '" + a + "'");
  }

  CommandLine parse_command_line(int argc, char **argv)
  {
    CommandLine              cl;
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty())
      throw UsageError("command line: no command given");
    for (std::size_t i = 0; i < args.size(); ++i)
      {
        const std::string &a = args[i];
        if (a == "--run" || a == "--particles" || a == "--validate")
          cl.command = a.substr(2);
        else if (a == "--print-parameters")
          {
            cl.command = "print-parameters";
            if (i + 1 < args.size() && args[i + 1].rfind("-", 0) != 0)
              {
                cl.format = args[++i];
                if (cl.format != "prm" && cl.format != "json")
                  throw UsageError("command line: --print-parameters '" + cl.format + "': expected prm or json");
              }
          }
        else if (a == "--version")
          cl.command = "version";
        else if (a == "--help" || a == "-h")
          cl.command = "help";
        else if (a == "--quiet" || a == "-q")
          cl.quiet = true;
        else if (a == "--overwrite")
          cl.overwrite = true;
        else if (a == "--resume")
          cl.resume = true;
        else if (a == "--set")
          {
            if (i + 1 >= args.size())
              throw UsageError("command line: --set needs 'Subsection/entry=value'");
            cl.overrides.push_back(args[++i]);
          }
        else if (!a.empty() && a[0] == '-')
          throw UsageError("command line: unknown option '" + a + "'");
        else
          positional(cl, a);
      }
    if (cl.command.empty())
      throw UsageError("command line: no command given");
    if (is_file_command(cl.command) && cl.file.empty())
      throw UsageError("command line: '" + cl.command + "' needs a parameter file");
    if (cl.resume && cl.overwrite)
      throw UsageError("command line: --resume continues the run in the output folder, --overwrite removes it: "
                       "expected one of them");
    if (cl.resume && cl.command != "run" && cl.command != "particles")
      throw UsageError("command line: --resume applies to 'run' and 'particles', not '" + cl.command + "'");
    return cl;
  }

  void print_validation(const tpde::Parameters &parameters, const tpde::RunSize &size)
  {
    std::cout << parameters.file << ": valid (" << parameters.dimension << "D"
              << (parameters.masked() && parameters.mesh.on_sphere() ? " tokens on the unit circle, a (s, theta) mesh"
                  : parameters.masked()                              ? " tokens on a (s, x) mesh"
                  : parameters.on_surface()   ? " tokens on the unit sphere S^2, a surface mesh"
                  : parameters.mesh.on_sphere() ? " tokens on the unit circle, meshed by the angle"
                                                : "")
              << ")\n";
    if (size.known)
      std::cout << "  cells " << size.cells << ", DoFs " << size.dofs << ", memory estimate "
                << tpde::format_bytes(size.bytes) << " (available " << tpde::format_bytes(size.available_bytes)
                << ")\n";
    else
      std::cout << "  cells and DoFs: known once the mesh file is read\n";
    if (size.step_seconds > 0)
      std::cout << "  one time step about " << std::setprecision(2) << size.step_seconds
                << " s (the attention by direct sums, timed on a sample of the nodes; fast summation is faster"
                << (parameters.refinement.adaptive ? "; on the mesh before adaptive refinement" : "") << ")\n";
    if (const auto &layers = parameters.layers; layers.count > 1 || layers.phases > 1)
      {
        const auto boundaries = layers.boundaries(parameters.time.end_time);
        std::cout << "  " << layers.count << " layers of duration " << layers.duration << ": the steps land on "
                  << boundaries.size() << (layers.phases > 1 ? " layer and half-layer (Feed-forward/composition = "
                                                               "split)" : " layer")
                  << " boundaries before the end time";
        if (parameters.time.end_time > layers.count * layers.duration * (1 + 1e-12))
          std::cout << "; the last layer holds after t = " << layers.count * layers.duration;
        std::cout << "\n";
      }
    std::cout << "  output folder " << parameters.output.directory << "\n";
  }
} // namespace

int main(int argc, char **argv)
{
  const unsigned isolated = tpde::prefer_isolated_mpi_singleton();
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv);
  tpde::forget_isolated_mpi_singleton(isolated);
  tpde::limit_threads_to_bound_cores();
  const MPI_Comm comm = MPI_COMM_WORLD;
  const bool     root = dealii::Utilities::MPI::this_mpi_process(comm) == 0;
  try
    {
      const CommandLine cl = parse_command_line(argc, argv);
      if (cl.command == "help")
        {
          if (root)
            std::cout << usage << help_text << "\ncomponents (chosen by name in the parameter file; every entry with its "
                      << "documentation: tpde --print-parameters):\n"
                      << tpde::component_overview();
          return 0;
        }
      if (cl.command == "version")
        {
          if (root)
            std::cout << "tpde " << TPDE_VERSION << "\n"
                      << "deal.II " << DEAL_II_PACKAGE_VERSION << "\n"
                      << "MPI ranks " << dealii::Utilities::MPI::n_mpi_processes(comm) << "\n"
                      << "threads per rank " << dealii::MultithreadInfo::n_threads() << " (cores this rank may run on: "
                      << tpde::bound_cores() << ")\n"
                      << "SIMD " << simd_description() << "\n"
                      << "attention types " << tpde::attention::variant_names() << "\n";
          return 0;
        }
      if (cl.command == "print-parameters")
        {
          dealii::ParameterHandler prm;
          tpde::declare_parameters(prm);
          if (root)
            prm.print_parameters(std::cout, cl.format == "json" ?
                                              dealii::ParameterHandler::JSON :
                                              dealii::ParameterHandler::PRM);
          return 0;
        }
      const tpde::Parameters parameters = tpde::read_parameters(cl.file, cl.overrides);
      if (cl.command == "validate")
        {
          const tpde::RunSize size = tpde::validate_run(parameters, comm, cl.overwrite);
          if (root)
            print_validation(parameters, size);
          return 0;
        }
      tpde::RunOptions options;
      options.quiet     = cl.quiet;
      options.overwrite = cl.overwrite;
      options.resume    = cl.resume;
      if (cl.command == "particles")
        {
          if (dealii::Utilities::MPI::n_mpi_processes(comm) > 1)
            throw tpde::InputError("command line: 'particles' runs on one MPI rank (threads parallelise "
                                   "the attention); start it without mpirun");
          tpde::run_particles(parameters, options);
          tpde::plot_statistics_if_asked(parameters, tpde::RunKind::particles, cl.quiet);
          return 0;
        }
      tpde::run_simulation(parameters, comm, options);
      if (root)
        tpde::plot_statistics_if_asked(parameters, tpde::RunKind::grid, cl.quiet);
      return 0;
    }
  catch (const UsageError &e)
    {
      if (root)
        std::cerr << "tpde: error: " << e.what() << "\n" << usage << std::flush;
      return 2;
    }
  catch (const tpde::InputError &e)
    {
      if (root)
        std::cerr << "tpde: error: " << e.what() << std::endl;
      return 2;
    }
  catch (const tpde::PhysicalFailure &e)
    {
      if (root)
        std::cerr << "tpde: run stopped: " << e.what()
                  << " (the output written so far is kept)" << std::endl;
      return 3;
    }
  catch (const std::exception &e)
    {
      if (root)
        std::cerr << "tpde: internal error: " << e.what() << std::endl;
      return 1;
    }
}
