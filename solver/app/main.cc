// tpde: the command-line front end.
//
//   tpde run FILE.prm [--set "Subsection/entry=value"]... [--quiet]
//   tpde particles FILE.prm [--set ...] [--quiet]   (finite-token run, one MPI rank)
//   tpde --validate FILE.prm [--set ...]
//   tpde --print-parameters [prm|json]
//   tpde --version
//
// Exit codes: 0 success, 1 internal error, 2 bad input (one line on stderr
// from rank 0, nothing written), 3 physical failure (NaN, CFL; the output
// written so far is kept).
#include "attention/attention.h"
#include "run/simulation.h"
#include "run/particle_run.h"
#include "parameters/parameters.h"

#include <deal.II/base/mpi.h>
#include <deal.II/base/multithread_info.h>
#include <deal.II/base/revision.h>

#include <iostream>
#include <string>
#include <vector>

namespace
{
  const char *usage =
    "usage: tpde run FILE.prm [--set \"Subsection/entry=value\"]... [--quiet]\n"
    "       tpde particles FILE.prm [--set ...] [--quiet]\n"
    "       tpde --validate FILE.prm [--set ...]\n"
    "       tpde --print-parameters [prm|json]\n"
    "       tpde --version\n";

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

  struct CommandLine
  {
    std::string              command; // run | particles | validate | print-parameters | version | help
    std::string              file;
    std::string              format = "prm";
    std::vector<std::string> overrides;
    bool                     quiet = false;
  };

  CommandLine parse_command_line(int argc, char **argv)
  {
    CommandLine              cl;
    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i)
      {
        const std::string &a = args[i];
        if (a == "run" || a == "--run")
          cl.command = "run";
        else if (a == "particles" || a == "--particles")
          cl.command = "particles";
        else if (a == "--validate" || a == "validate")
          cl.command = "validate";
        else if (a == "--print-parameters")
          {
            cl.command = "print-parameters";
            if (i + 1 < args.size() && (args[i + 1] == "prm" || args[i + 1] == "json"))
              cl.format = args[++i];
          }
        else if (a == "--version")
          cl.command = "version";
        else if (a == "--help" || a == "-h")
          cl.command = "help";
        else if (a == "--quiet" || a == "-q")
          cl.quiet = true;
        else if (a == "--set")
          {
            if (i + 1 >= args.size())
              throw tpde::InputError("command line: --set needs 'Subsection/entry=value'");
            cl.overrides.push_back(args[++i]);
          }
        else if (!a.empty() && a[0] == '-')
          throw tpde::InputError("command line: unknown option '" + a + "'");
        else if (cl.file.empty())
          cl.file = a;
        else
          throw tpde::InputError("command line: unexpected argument '" + a + "'");
      }
    if (cl.command.empty())
      cl.command = cl.file.empty() ? "help" : "run";
    if ((cl.command == "run" || cl.command == "particles" || cl.command == "validate") && cl.file.empty())
      throw tpde::InputError("command line: '" + cl.command + "' needs a parameter file");
    return cl;
  }
} // namespace

int main(int argc, char **argv)
{
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv);
  const MPI_Comm comm = MPI_COMM_WORLD;
  const bool     root = dealii::Utilities::MPI::this_mpi_process(comm) == 0;
  try
    {
      const CommandLine cl = parse_command_line(argc, argv);
      if (cl.command == "help")
        {
          if (root)
            std::cout << usage << "\ncomponents (chosen by name in the parameter file; every entry with its "
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
                      << "threads per rank " << dealii::MultithreadInfo::n_threads() << "\n"
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
          tpde::validate_run(parameters, comm);
          if (root)
            std::cout << cl.file << ": valid (" << parameters.dimension << "D"
                      << (parameters.masked() ? " tokens on a (s, x) mesh" : "") << ")\n";
          return 0;
        }
      tpde::RunOptions options;
      options.quiet = cl.quiet;
      if (cl.command == "particles")
        {
          if (dealii::Utilities::MPI::n_mpi_processes(comm) > 1)
            throw tpde::InputError("command line: 'particles' runs on one MPI rank (threads parallelise "
                                   "the attention); start it without mpirun");
          tpde::run_particles(parameters, options);
          return 0;
        }
      tpde::run_simulation(parameters, comm, options);
      return 0;
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
