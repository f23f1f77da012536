"""TPDE from Python: the grid solver, the particle solver, the attention kernels, the exact Gaussian
references and the comparison of runs, on NumPy arrays.

The module wraps the same C++ components as the command line (``build/tpde`` and ``tpde-compare``):
a run from Python writes the same output folder and the same ``statistics.csv``.

    import tpde
    run = tpde.run("parameters/gaussian-1d-blowup.prm", set={"Time stepping/end time": 0.5})
    run.statistics["cov_00"], run.statistics["ref_cov_00"]

Functions: run, particles, attention, gaussian_reference, compare, read_parameters.
Exceptions: InputError (bad input, the command line's one-line message), PhysicalFailure (the run
stopped; the output written so far is kept, its folder in the exception's ``output_dir``).
Progress: the ``progress`` callback of run/particles, else the ``logging`` logger "tpde" (INFO).
MPI is initialised on import (one rank) and finalised at interpreter exit.
"""

import logging
import os

import numpy as np

from . import _tpde
from ._tpde import InputError, PhysicalFailure

__all__ = ["run", "particles", "attention", "gaussian_reference", "compare", "read_parameters",
           "Run", "InputError", "PhysicalFailure", "attention_variants"]

logger = logging.getLogger("tpde")


def attention_variants():
    """The registered attention variants (the names of ``Attention/type``), as a list."""
    return _tpde.attention_variants().split("|")


def _value_text(value):
    """A Python value as the text of a .prm entry: matrices as rows 'a, b; c, d', booleans true/false."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    array = np.asarray(value)
    if array.ndim == 0:
        return repr(float(array)) if array.dtype.kind == "f" else str(array.item())
    if array.ndim == 1:
        return ", ".join(repr(float(x)) for x in array)
    if array.ndim == 2:
        return "; ".join(", ".join(repr(float(x)) for x in row) for row in array)
    raise InputError(f"cannot write an array of {array.ndim} dimensions as a parameter value")


def _overrides(set):
    """{"Subsection/entry": value} as the command line's --set texts."""
    if set is None:
        return []
    if not isinstance(set, dict):
        raise InputError("set: expected a dict {'Subsection/entry': value}")
    return [f"{key}={_value_text(value)}" for key, value in set.items()]


def _entries(text):
    """The .prm text of every parsed entry as {"Subsection/entry": value text}."""
    entries, path = {}, []
    for line in text.splitlines():
        words = line.split("#", 1)[0].strip()
        if words.startswith("subsection "):
            path.append(words[len("subsection "):].strip())
        elif words == "end":
            path.pop()
        elif words.startswith("set ") and "=" in words:
            name, value = words[4:].split("=", 1)
            entries["/".join(path + [name.strip()])] = value.strip()
    return entries


def read_parameters(prm, set=None):
    """Parse a parameter file as ``tpde run`` does (tpde::read_parameters).

    prm: the path of a .prm file, or the text of one (a string with a newline).
    set: {"Subsection/entry": value} overrides (the command line's --set); values may be numbers,
         booleans, strings, vectors or matrices (NumPy arrays or nested lists).
    Returns the compiled Parameters object (file, text, dimension, attention_type, output_directory,
    particles_directory, end_time, number_of_tokens). Raises InputError with the command line's message.
    """
    overrides = _overrides(set)
    prm = os.fspath(prm)
    if "\n" in prm:
        return _tpde.parse_parameters(prm, "<parameter text>", overrides)
    return _tpde.read_parameters(prm, overrides)


def _progress_callback(progress, kind):
    if progress is not None:
        return progress

    def log(step, time, end_time, dt):
        logger.info("%s: step %d  t = %.6g / %g  dt = %.3e", kind, step, time, end_time, dt)
    return log if logger.isEnabledFor(logging.INFO) else None


def _read_statistics(path):
    """statistics.csv as {column: NumPy array}."""
    with open(path) as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {name: data[:, i].copy() for i, name in enumerate(header)}


class Run:
    """A finished grid or particle run: its output folder read back.

    statistics: {column of statistics.csv: NumPy array}, one value per step.
    parameters: {"Subsection/entry": value text} of every entry as parsed (defaults included).
    output_dir: the output folder.  kind: "grid" or "particles".  summary: steps, time, wall seconds.
    positions:  the final tokens (N, d) of a particle run (None for a grid run).
    """

    def __init__(self, parameters, output_dir, kind, summary):
        self.parameters = _entries(parameters.text)
        self.compiled_parameters = parameters
        self.output_dir = output_dir
        self.kind = kind
        self.summary = summary
        self.positions = summary.get("positions")
        self.statistics = _read_statistics(os.path.join(output_dir, "statistics.csv"))

    def __repr__(self):
        return (f"<tpde.Run {self.kind} {self.compiled_parameters.file!r}: {self.summary['steps']} steps to "
                f"t = {self.summary['time']:g} in {self.output_dir!r}>")

    @property
    def pvd(self):
        """The ParaView collection of the run (solution.pvd or particles.pvd)."""
        return os.path.join(self.output_dir, "solution.pvd" if self.kind == "grid" else "particles.pvd")

    def output_times(self):
        """The times of the stored ParaView outputs, as a NumPy array."""
        return np.array([t for t, _ in _tpde.read_pvd(self.pvd)])

    def _output_file(self, time):
        entries = _tpde.read_pvd(self.pvd)
        t, file = min(entries, key=lambda entry: abs(entry[0] - time))
        if abs(t - time) > 1e-9 * max(1.0, abs(time)):
            raise InputError(f"{self.pvd}: no output at t = {time:g} (outputs at "
                             f"{', '.join(f'{e[0]:g}' for e in entries)})")
        return file

    def density(self, time, subdivisions=1):
        """The stored output at ``time`` (one of output_times()) as NumPy arrays.

        time: the output time (matched to 1e-9 relative).
        subdivisions: sub-cells per cell direction of the Gauss rule (grid runs).
        Grid run: (points (n, d), weights (n,), values (n,)): the Gauss points of every cell with
        their weights JxW and the density there, so that sum(weights * values) is the mass exactly
        (read by postprocess/vtk_reader.h; on the circle the points are angles, on S^2 unit points).
        Particle run: (tokens (N, d), weights 1/N, None).
        """
        file = self._output_file(time)
        if self.kind == "grid":
            return _tpde.grid_density(file, "density", subdivisions)
        points, arrays = _tpde.token_file(file)
        tokens = arrays["theta"] if "theta" in arrays else points[:, :self.compiled_parameters.dimension]
        return tokens, np.full(len(tokens), 1.0 / len(tokens)), None

    def reference(self, times=None):
        """The exact Gaussian moments of the run (tpde::exact_gaussian_reference) at ``times``
        (default: the statistics' times): (means (T, d), covariances (T, d, d)), or None when the run
        has no Gaussian reference."""
        times = self.statistics["time"] if times is None else np.asarray(times, dtype=float)
        return _tpde.run_reference(self.compiled_parameters, times)


def _output(set, output, entry):
    if set is not None and not isinstance(set, dict):
        raise InputError("set: expected a dict {'Subsection/entry': value}")
    set = dict(set or {})
    if output is not None:
        set[entry] = os.fspath(output)
    return set


def run(prm, set=None, output=None, quiet=True, overwrite=True, progress=None):
    """Run the grid solver (``tpde run``) and return a Run.

    prm: the path of a .prm file, or its text (a string with a newline).
    set: {"Subsection/entry": value} overrides, as the command line's --set.
    output: the output folder (Output/directory); None: the one of the parameters.
    quiet: no progress line on standard output (the command line's --quiet).
    overwrite: the folder may hold a previous run's files, which are removed first (--overwrite);
               False: such a folder raises InputError, as the command line does.
    progress: a callable progress(step, time, end_time, dt) called every 2 s and at the end; None:
              INFO records on the logger "tpde" when it is enabled.
    The GIL is released while the solver runs. Raises InputError (bad input, nothing written) and
    PhysicalFailure (with .output_dir: the output written so far is kept).
    """
    parameters = read_parameters(prm, _output(set, output, "Output/directory"))
    try:
        summary = _tpde.run_simulation(parameters, quiet, overwrite, _progress_callback(progress, "grid"))
    except PhysicalFailure as failure:
        failure.output_dir = parameters.output_directory
        raise
    return Run(parameters, parameters.output_directory, "grid", summary)


def particles(prm, set=None, tokens=None, output=None, quiet=True, overwrite=True, progress=None):
    """Run the particle solver (``tpde particles``): N tokens under the same attention.

    prm: the path of a .prm file, or its text (a string with a newline).
    set: {"Subsection/entry": value} overrides, as the command line's --set.
    tokens: an (N, d) array of initial tokens (the circle: (N, 1) angles; S^2: (N, 3) unit points)
            instead of sampling them from the initial condition; sets Particles/number of tokens = N.
    output: the output folder (Particles/directory); None: the one of the parameters.
    quiet, overwrite, progress: as for run().
    Returns a Run (kind "particles", .positions the final tokens). Raises InputError, PhysicalFailure.
    """
    set = _output(set, output, "Particles/directory")
    if tokens is not None:
        tokens = np.asarray(tokens, dtype=float)
        if tokens.ndim == 1:
            tokens = tokens[:, None]
        if tokens.ndim != 2 or len(tokens) == 0:
            raise InputError("tokens: expected an (N, d) array of N > 0 tokens")
        set["Particles/number of tokens"] = len(tokens)
    parameters = read_parameters(prm, set)
    try:
        summary = _tpde.run_particles(parameters, quiet, overwrite, _progress_callback(progress, "particles"),
                                      tokens)
    except PhysicalFailure as failure:
        failure.output_dir = parameters.particles_directory
        raise
    return Run(parameters, parameters.particles_directory, "particles", summary)


def _attention_overrides(parameters):
    """Keyword arguments as 'Attention/entry=value' (underscores for spaces: masked_kernel)."""
    return [f"Attention/{key.replace('_', ' ')}={_value_text(value)}" for key, value in parameters.items()]


def attention(variant, targets, sources, weights, **parameters):
    """The attention velocity of the project's kernel at ``targets`` for the measure sum_j w_j delta_{y_j}.

    variant: an attention type (attention_variants(): softmax, l2, sigmoid, ...).
    targets: (n, d) array, d in 1..3.   sources: (m, d) array.   weights: (m,) array, >= 0, sum > 0.
    parameters: the entries of ``subsection Attention`` by name, spaces as underscores: beta, Q, K, V
                (matrices as arrays), bias, evaluation ("direct", "fast" or "automatic": fast summation
                to ``tolerance``), tolerance, exponential, heads, ... (tpde --print-parameters).
    Returns the velocities (n, d). C-contiguous float64 inputs are read in place (others converted once);
    the GIL is released during the evaluation. Raises InputError (shapes, entries).
    """
    return _tpde.attention(variant, targets, sources, weights, _attention_overrides(parameters))


def gaussian_reference(variant, mean, covariance, times, diffusion=0.0, **parameters):
    """The exact Gaussian solution N(mean(t), covariance(t)) of the PDE from N(mean, covariance) at t = 0.

    variant: an attention type with a moment model (softmax, l2, unnormalized, ...).
    mean: (d,) initial mean.  covariance: (d, d) initial covariance (symmetric positive definite).
    times: non-decreasing times >= 0.
    diffusion: D >= 0 of idiosyncratic noise sqrt(2 D) dW (the covariance gains 2 D I).
    parameters: the entries of ``subsection Attention`` (beta, Q, K, V, ...), as for attention().
    Returns (means (T, d), covariances (T, d, d)). Raises InputError, PhysicalFailure (finite-time blow-up).
    """
    return _tpde.gaussian_reference(variant, np.atleast_1d(np.asarray(mean, dtype=float)),
                                    np.atleast_2d(np.asarray(covariance, dtype=float)),
                                    np.atleast_1d(np.asarray(times, dtype=float)), float(diffusion),
                                    _attention_overrides(parameters))


def compare(grid_pvd, particles_pvd, dimension=None, directions=64, subdivisions=None):
    """The distance table of ``tpde-compare`` as {column: NumPy array}, one row per shared output time.

    grid_pvd: the reference run's .pvd (a grid run's solution.pvd, or a particle run's particles.pvd).
    particles_pvd: a particle run's particles.pvd.  Runs (tpde.Run) are accepted for both.
    dimension: needed for two particle runs.  directions: of the sliced W2 (2D/3D).
    subdivisions: sub-cells per cell direction of the grid's atoms (default 3 in 2D, 1 in 3D).
    Columns: time, tokens, reference_mass, mean_diff_i, cov_diff_ij, max_mean_diff, max_cov_diff, and
    w1 (1D), w1_circle (circle) or sliced_w2 (+ sw2_resolution), l1_histogram, l1_floor, outside.
    The table's "distances" and "description" entries name the distance columns and the distance.
    Raises InputError with tpde-compare's message.
    """
    paths = [x.pvd if isinstance(x, Run) else os.fspath(x) for x in (grid_pvd, particles_pvd)]
    header, rows, distances, description = _tpde.compare(paths[0], paths[1], dimension, directions, subdivisions)
    table = {name: rows[:, i].copy() for i, name in enumerate(header)}
    table["distances"] = distances
    table["description"] = description
    return table
