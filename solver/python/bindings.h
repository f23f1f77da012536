// The Python module tpde._tpde (pybind11): the parts bound in each file. The package
// solver/python/tpde/__init__.py builds the public API (tpde.run, tpde.particles, ...) on them.
#pragma once

#include "common/errors.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

namespace tpde::python
{
  namespace py = pybind11;

  /// NumPy arrays of doubles read in place when they are C-contiguous doubles (else converted once).
  using InputArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

  /// read_parameters, parse_parameters, the Parameters object, run_simulation, run_particles (runs.cc).
  void bind_runs(py::module_ &m);
  /// The attention kernels and the exact Gaussian references (kernels.cc).
  void bind_kernels(py::module_ &m);
  /// The .pvd/.vtu/.vtp readers and the distance table of tpde-compare (postprocess.cc).
  void bind_postprocess(py::module_ &m);

  /// A (rows, columns) array of doubles, with a one-line InputError naming `what` otherwise.
  void check_matrix(const InputArray &a, const std::string &what, py::ssize_t columns = -1);
} // namespace tpde::python
