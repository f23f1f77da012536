// tpde._tpde: MPI for the interpreter's life, the exceptions, and the bound parts (bindings.h).
//
// deal.II and p4est need MPI: it is initialised once when the module is imported (one rank: the
// interpreter is one process) and finalised by an atexit hook, before the interpreter tears down
// the modules. Open MPI's plugins need libmpi's symbols global, which a module loaded by Python
// (RTLD_LOCAL) does not give them: libmpi is promoted to RTLD_GLOBAL first (as mpi4py does).
#include "python/bindings.h"
#include "run/thread_binding.h"

#include <deal.II/base/mpi.h>

#include <dlfcn.h>

#include <csignal>
#include <memory>

namespace tpde::python
{
  namespace
  {
    struct MpiSession
    {
      int                                                       argc    = 1;
      char                                                      name[5] = "tpde";
      char                                                     *args[2] = {name, nullptr};
      char                                                    **argv    = args;
      std::unique_ptr<dealii::Utilities::MPI::MPI_InitFinalize> mpi;
    };

    MpiSession *session = nullptr; // never deleted: MPI_Finalize happens once, in finalize_mpi

    void initialize_mpi()
    {
      for (const char *library : {"libmpi.so.40", "libmpi.so"})
        if (dlopen(library, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD))
          break;
      int initialized = 0;
      MPI_Initialized(&initialized);
      if (initialized)
        return; // another module (mpi4py) owns MPI
      // PETSc's initialisation (inside MPI_InitFinalize) installs signal handlers: Ctrl-C stays Python's.
      const auto interrupt_handler = std::signal(SIGINT, SIG_DFL);
      session                      = new MpiSession;
      session->mpi = std::make_unique<dealii::Utilities::MPI::MPI_InitFinalize>(session->argc, session->argv);
      std::signal(SIGINT, interrupt_handler);
      limit_threads_to_bound_cores();
    }

    void finalize_mpi()
    {
      if (session)
        session->mpi.reset();
    }
  } // namespace

  void check_matrix(const InputArray &a, const std::string &what, py::ssize_t columns)
  {
    if (a.ndim() != 2 || (columns >= 0 && a.shape(1) != columns))
      throw InputError(what + ": expected an array of shape (n, " +
                       (columns >= 0 ? std::to_string(columns) : std::string("d")) + "), got " +
                       std::to_string(a.ndim()) + " dimension(s)" +
                       (a.ndim() == 2 ? " of shape (" + std::to_string(a.shape(0)) + ", " +
                                          std::to_string(a.shape(1)) + ")" : std::string()));
  }
} // namespace tpde::python

PYBIND11_MODULE(_tpde, m)
{
  namespace py = pybind11;
  using namespace tpde::python;
  m.doc() = "The compiled part of the tpde package (import tpde instead).";
  initialize_mpi();
  py::module_::import("atexit").attr("register")(py::cpp_function(&finalize_mpi));

  auto &input_error = py::register_exception<tpde::InputError>(m, "InputError", PyExc_ValueError);
  auto &physical_failure = py::register_exception<tpde::PhysicalFailure>(m, "PhysicalFailure", PyExc_RuntimeError);
  input_error.attr("__doc__") =
    "Bad input: the one-line message of the command line (file, entry, what was expected).";
  physical_failure.attr("__doc__") =
    "The run stopped for a physical or numerical reason; the output written so far is kept.";
  bind_runs(m);
  bind_kernels(m);
  bind_postprocess(m);
}
