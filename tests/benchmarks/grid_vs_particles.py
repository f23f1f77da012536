#!/usr/bin/python3
"""Grid versus particles: the wall time each needs to reach a given error at t = 1.

For T1 (1-D softmax collapse, parameters/gaussian-1d-collapse.prm) and T6 (2-D isotropization,
parameters/gaussian-2d-isotropize.prm) this runs

  * the grid (`tpde run`) on a sweep of meshes, and
  * the particle solver (`tpde particles`) on a sweep of token numbers N, with random and with
    quasi-random (Halton) tokens, several seeds each,

all with `Attention/evaluation = fast`, and measures the error of the moments at the end time
against the exact Gaussian (the ref_* columns of statistics.csv):

    error = max( |mean - mean_ref| / max(|mean_ref|, 1e-3), |cov - cov_ref|_F / |cov_ref|_F ).

For random tokens the error is a random variable; its median over the seeds is used (the time is
the median too). For every target error 1e-2 .. 1e-6 (NG: 1e-2 .. 1e-4) the table gives the least
time of a run of each kind that reaches it ("-": none of the sweep does), and the ratio
particles / grid. The last lines state the particles' error floor (the smallest error of the
largest N).

Time: the solver's own clock (the wall_seconds column of the last statistics row; it starts after
the parameters are read, so process start-up is not counted), with the process wall time next
to it in --verbose.

    /usr/bin/python3 tests/benchmarks/grid_vs_particles.py --tpde build/tpde [--case T1|T6|NG|all]
        [--seeds 3] [--quick] [--large] [--verbose]

--quick runs a smaller sweep (a minute or two) to check the script.

NG, the non-Gaussian 2-D case: parameters/default.prm (three Gaussian clusters, a mixture, under
softmax attention with the rotating, contracting V = [-0.3, -1; 1, -0.3], Q = K = I; its uniform
Q2 mesh on [-6, 6]^2, here 16^2 .. 48^2 cells), to t = 1 instead of the file's 2: by then the
clusters have turned by about a fifth of a turn and drawn in towards the origin, still three, and
the runs stay affordable. Tokens: N = 1e3, 1e4, 3e4 (1e5 would take most of the case's time).
There is no exact solution, so the error is the sliced W2 distance at t = 1 to a fine grid run, the
reference (80^2 cells, Q2; --quick: 24^2):

    sliced W2(mu, nu)^2 = mean over the 64 directions theta_k = (cos pi k/64, sin pi k/64) of
                          W2(theta_k # mu, theta_k # nu)^2,

the directions of tpde-compare, each 1-D W2 exact between two weighted point sets (the L2 distance
of the quantile functions). The measures are point sets, as in tpde-compare:

  * the reference: atoms at the (p + 2)^2 Gauss points of every cell, weights rho JxW (rho
    clipped at 0, mass normalised to 1), read by the module's VTU reader (postprocess/vtk_reader.h,
    that of tpde-compare and Run.density);
  * a grid run: its DG density evaluated at the SAME points (each cell's Q_p polynomial recovered
    from its own Gauss values), weights rho_run JxW, clipped and normalised the same way. On a
    common support the atoms' spacing largely cancels between the two measures: the distance is
    that of the two densities up to a relative error, without an absolute floor of the atoms'
    spacing (each run on its own atoms would have one: 32^2 against 48^2 gives 1.0e-2 that way,
    1.8e-3 on common points);
  * a particle run: its N tokens at t = 1, weights 1/N, against the reference's atoms on 4 x 4
    sub-cells of every cell (tpde-compare's atoms, with subdivisions = 4). Here the atoms' spacing
    does not cancel: it is a floor under the tokens' errors. The report estimates it by the sliced
    W2 between these atoms and those on 2 x 2 sub-cells (it falls like the sub-cell size, so that
    difference is about the 4 x 4 atoms' own distance to the density), and prints the value
    tpde.compare (tpde-compare) gives for the last token run, a check of this script's sliced W2.

So grid and tokens are measured against the same reference density by the same distance, each on
the points that suit it; the grid's distance is the more accurate one. tpde-compare has no
grid-versus-grid distance (its second run must be tokens), hence the NumPy code here (the module
only reads the files). The reference's own error is not known; the report prints the distance of
the finest sweep mesh to it, which bounds it if the error falls with the mesh: grid errors well
below that are not resolved. The tokens' sliced W2 has a sampling floor of about N^-1/2 (random),
less for Halton points; the report gives the error at the largest N. NG needs the Python module
(BUILD/python next to --tpde, found by postprocess/tpde_module.py); T1 and T6 do not. --large does
not add N = 1e6 to NG.
"""
import argparse
import csv
import math
import os
import platform
import statistics as stats
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGETS = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6]
DIRECTIONS = 64  # of the sliced W2, as tpde-compare's default

# Per case: the parameter file, the grid sweep (lists of --set overrides) and the token numbers.
CASES = {
    'T1': dict(prm='parameters/gaussian-1d-collapse.prm',
               grids=[{'Mesh/global refinements': r} for r in (2, 3, 4, 5, 6)],
               quick_grids=[{'Mesh/global refinements': r} for r in (2, 3)],
               tokens=[10**3, 10**4, 10**5], quick_tokens=[10**3, 10**4]),
    'T6': dict(prm='parameters/gaussian-2d-isotropize.prm',
               grids=[{'Mesh/subdivisions': n} for n in (12, 16, 24, 32, 48, 64)],
               quick_grids=[{'Mesh/subdivisions': n} for n in (8, 12)],
               tokens=[10**3, 10**4, 10**5], quick_tokens=[10**3, 10**4]),
    # Non-Gaussian: no ref_* columns; the error is the sliced W2 to a fine grid run (the reference).
    # 'fixed' goes to every run of the case, the reference included.
    'NG': dict(prm='parameters/default.prm',
               fixed={'Time stepping/end time': 1, 'Output/interval': 1},
               grids=[{'Mesh/subdivisions': n} for n in (16, 24, 32, 40, 48)],
               quick_grids=[{'Mesh/subdivisions': n} for n in (12, 16)],
               reference={'Mesh/subdivisions': 80}, quick_reference={'Mesh/subdivisions': 24},
               tokens=[10**3, 10**4, 3 * 10**4], quick_tokens=[10**3, 10**4],
               targets=[1e-2, 1e-3, 1e-4], measure='sliced W2 distance to the reference grid run'),
}


def machine():
    model = ''
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return f'{model or platform.processor()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}'


def final_error(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    last = rows[-1]
    dim = sum(1 for k in last if k.startswith('mean_'))
    mean = [float(last[f'mean_{i}']) for i in range(dim)]
    mean_ref = [float(last[f'ref_mean_{i}']) for i in range(dim)]
    cov = [float(last[f'cov_{i}{j}']) for i in range(dim) for j in range(dim)]
    cov_ref = [float(last[f'ref_cov_{i}{j}']) for i in range(dim) for j in range(dim)]
    norm = lambda v: math.sqrt(sum(x * x for x in v))
    mean_error = norm([a - b for a, b in zip(mean, mean_ref)]) / max(norm(mean_ref), 1e-3)
    cov_error = norm([a - b for a, b in zip(cov, cov_ref)]) / norm(cov_ref)
    return max(mean_error, cov_error), float(last['wall_seconds'])


def end_time_file(module, pvd):
    """The last (latest) file of a .pvd collection and its time."""
    time, file = max(module._tpde.read_pvd(pvd))
    return file, time


class GridDensity:
    """The DG density of a 2-D grid run at its end time, as piecewise Q_p polynomials on its uniform
    box mesh. Read from the Gauss points of the module's VTU reader (the (p + 2)^2 points of every
    cell in one fixed order), each cell's polynomial fitted to them: exact, as p + 2 points per
    direction determine a polynomial of degree p. Why: evaluating a run at another run's points is
    what the grid-versus-grid distance needs, and neither tpde-compare nor the module does it."""

    def __init__(self, module, folder):
        import numpy as np
        with open(os.path.join(folder, 'parameters.prm')) as f:
            entries = module._entries(f.read())  # the module's {"Subsection/entry": value} reader
        if entries.get('Mesh refinement/adaptive', 'false') != 'false' or entries.get('Mesh/domain', 'box') != 'box':
            sys.exit(f'grid_vs_particles: {folder}: the sliced W2 of grid runs needs a uniform box mesh')
        corner = lambda text: [float(x) for x in text.split(',')] * (2 if ',' not in text else 1)
        self.lower = np.array(corner(entries['Mesh/lower corner']))
        upper = np.array(corner(entries['Mesh/upper corner']))
        self.n = int(entries['Mesh/subdivisions']) * 2 ** int(entries['Mesh/global refinements'])
        self.h = (upper - self.lower) / self.n
        degree = int(entries['Discretization/degree'])
        self.file, self.time = end_time_file(module, os.path.join(folder, 'solution.pvd'))
        points, weights, values = module._tpde.grid_density(self.file, 'density', 1)
        per_cell = (degree + 2) ** 2
        if points.shape != (self.n * self.n * per_cell, 2):
            sys.exit(f'grid_vs_particles: {self.file}: {len(points)} Gauss points, expected {self.n}^2 x {per_cell}')
        self.points, self.weights, self.values = points, weights, values
        cells = points.reshape(-1, per_cell, 2)
        index = np.floor((cells.mean(axis=1) - self.lower) / self.h).astype(int)
        local = (cells - (self.lower + index * self.h)[:, None, :]) / self.h
        if not np.allclose(local, local[0], atol=1e-9):
            sys.exit(f'grid_vs_particles: {self.file}: the cells do not share one Gauss point layout')
        self.exponents = [(a, b) for b in range(degree + 1) for a in range(degree + 1)]
        vandermonde = self.monomials(local[0])
        coefficients = np.linalg.lstsq(vandermonde, values.reshape(-1, per_cell).T, rcond=None)[0].T
        misfit = np.abs(coefficients @ vandermonde.T - values.reshape(-1, per_cell)).max()
        if misfit > 1e-9 * max(np.abs(values).max(), 1e-300):
            sys.exit(f'grid_vs_particles: {self.file}: the density is not Q{degree} on its cells ({misfit:.1e})')
        self.coefficients = np.zeros((self.n, self.n, len(self.exponents)))
        self.coefficients[index[:, 0], index[:, 1]] = coefficients

    def monomials(self, local):
        import numpy as np
        return np.stack([local[:, 0] ** a * local[:, 1] ** b for a, b in self.exponents], axis=1)

    def __call__(self, x):
        """The density at the points x (n, 2) (points outside the mesh: its nearest cell's polynomial;
        not used: the sweep shares the reference's box)."""
        import numpy as np
        index = np.clip(np.floor((x - self.lower) / self.h).astype(int), 0, self.n - 1)
        local = (x - (self.lower + index * self.h)) / self.h
        return np.einsum('ij,ij->i', self.monomials(local), self.coefficients[index[:, 0], index[:, 1]])


def w2_1d(a, a_weights, b, b_weights):
    """Exact W2 between two weighted 1-D point sets: the L2 distance of their quantile functions,
    piecewise constant between the union of the two sets of cumulative weights."""
    import numpy as np
    measures = []
    for values, weights in ((a, a_weights), (b, b_weights)):
        order = np.argsort(values, kind='stable')
        cumulative = np.cumsum(weights[order])
        measures.append((values[order], cumulative / cumulative[-1]))
    levels = np.union1d(measures[0][1], measures[1][1])
    steps = np.diff(levels, prepend=0.0)
    middle = levels - steps / 2
    quantiles = [values[np.minimum(np.searchsorted(cumulative, middle), len(values) - 1)]
                 for values, cumulative in measures]
    return math.sqrt(float(np.sum(steps * (quantiles[0] - quantiles[1]) ** 2)))


def sliced_w2(a, a_weights, b, b_weights):
    """sqrt(mean over tpde-compare's 2-D directions pi k / 64 of W2(theta # a, theta # b)^2)."""
    import numpy as np
    total = 0.0
    for k in range(DIRECTIONS):
        theta = np.array([math.cos(math.pi * k / DIRECTIONS), math.sin(math.pi * k / DIRECTIONS)])
        total += w2_1d(a @ theta, a_weights, b @ theta, b_weights) ** 2
    return math.sqrt(total / DIRECTIONS)


class ReferenceDistance:
    """The error of a run of the NG case: the sliced W2 at the end time to the reference grid run,
    every measure on points (see the docstring): grid runs evaluated at the reference's Gauss
    points, tokens against the reference's atoms on 4 x 4 sub-cells."""

    SUBDIVISIONS = 4  # of the atoms the tokens are compared with (3: tpde-compare's default)

    def __init__(self, module, folder):
        self.module = module
        self.reference_folder = folder
        self.reference = GridDensity(module, folder)
        self.points = self.reference.points
        self.masses = self.normalised(self.reference.values, self.reference.weights)
        self.atoms = self.sub_cell_atoms(self.SUBDIVISIONS)

    @staticmethod
    def normalised(values, weights):
        """Atom weights for density values at Gauss points: rho JxW, rho clipped at 0, mass 1."""
        import numpy as np
        masses = np.maximum(values, 0.0) * weights
        return masses / masses.sum()

    def sub_cell_atoms(self, subdivisions):
        points, weights, values = self.module._tpde.grid_density(self.reference.file, 'density', subdivisions)
        return points, self.normalised(values, weights)

    def __call__(self, command, folder):
        import numpy as np
        if command == 'run':
            run = GridDensity(self.module, folder)
            self.check_time(run.file, run.time)
            return sliced_w2(self.points, self.masses, self.points, self.normalised(run(self.points),
                                                                                     self.reference.weights))
        file, time = end_time_file(self.module, os.path.join(folder, 'particles.pvd'))
        self.check_time(file, time)
        tokens = self.module._tpde.token_file(file)[0][:, :2]
        error = sliced_w2(*self.atoms, tokens, np.full(len(tokens), 1.0 / len(tokens)))
        self.last_tokens = (folder, error)
        return error

    def check_time(self, file, time):
        if abs(time - self.reference.time) > 1e-9 * max(1.0, abs(time)):
            sys.exit(f'grid_vs_particles: {file} is at t = {time:g}, the reference at t = {self.reference.time:g}')

    def resolution(self):
        """The sliced W2 between the tokens' reference atoms and those on half as many sub-cells per
        direction: about the atoms' own distance to the reference density (it falls like the
        sub-cell size, so d(s/2) - d(s) ~ d(s)), which the tokens' errors contain and a grid run's
        (on the reference's own points) cancel."""
        return sliced_w2(*self.atoms, *self.sub_cell_atoms(self.SUBDIVISIONS // 2))


def wall_seconds(path):
    with open(path) as f:
        return float(list(csv.DictReader(f))[-1]['wall_seconds'])


def run(tpde, command, prm, overrides, scratch, verbose, fixed=None, measure=None):
    """(error, solver seconds) of one run; error: the moment error (T1, T6) or measure(command,
    folder) (NG, which writes its ParaView files for it)."""
    out = tempfile.mkdtemp(dir=scratch)
    args = [tpde, command, os.path.join(ROOT, prm), '--quiet', '--overwrite',
            '--set', f'Output/directory={out}', '--set', f'Output/write vtu={"true" if measure else "false"}',
            '--set', 'Attention/evaluation=fast']
    for key, value in list((fixed or {}).items()) + list(overrides.items()):
        args += ['--set', f'{key}={value}']
    start = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f'grid_vs_particles: {" ".join(args)} failed:\n{result.stderr}')
    folder = os.path.join(out, 'particles') if command == 'particles' else out
    if measure is None:
        error, solver = final_error(os.path.join(folder, 'statistics.csv'))
    else:
        error, solver = measure(command, folder), wall_seconds(os.path.join(folder, 'statistics.csv'))
    if verbose:
        label = ', '.join(f'{k}={v}' for k, v in overrides.items())
        print(f'  {command:9s} {label:60s} error {error:.2e}  solver {solver:8.3f} s  process {wall:8.3f} s',
              flush=True)
    return error, solver


def reference_distance(tpde, case, quick, scratch, module):
    """Runs the NG case's reference grid and returns (ReferenceDistance, its label, solver seconds)."""
    built = {}

    def build(command, folder):  # the reference's own error: 0 by definition
        built['distance'] = ReferenceDistance(module, folder)
        return 0.0
    reference = case['quick_reference' if quick else 'reference']
    _, seconds = run(tpde, 'run', case['prm'], reference, scratch, False, case['fixed'], build)
    return built['distance'], ', '.join(f'{k.split("/")[-1]} {v}' for k, v in reference.items()), seconds


def sweep(tpde, name, case, seeds, quick, scratch, verbose, module=None):
    """({kind: [(label, error, seconds)]} for grid, random and quasi-random, [lines for after the
    table]); the lines are NG's reference and floors."""
    results = {'grid': [], 'random': [], 'quasi-random': []}
    measure, notes = None, []
    if 'reference' in case:
        measure, reference, seconds = reference_distance(tpde, case, quick, scratch, module)
        notes.append(f'  reference: grid {reference} ({seconds:.3f} s), at t = {measure.reference.time:g}')
    fixed = case.get('fixed')
    for grid in case['quick_grids' if quick else 'grids']:
        error, seconds = run(tpde, 'run', case['prm'], grid, scratch, verbose, fixed, measure)
        results['grid'].append((', '.join(f'{k.split("/")[-1]} {v}' for k, v in grid.items()), error, seconds))
    for sampling in ('random', 'quasi-random'):
        for n in case['quick_tokens' if quick else 'tokens']:
            errors, times = [], []
            for seed in range(1, seeds + 1):
                error, seconds = run(tpde, 'particles', case['prm'],
                                     {'Particles/number of tokens': n, 'Particles/sampling': sampling,
                                      'Particles/seed': seed}, scratch, verbose, fixed, measure)
                errors.append(error)
                times.append(seconds)
            results[sampling].append((f'N {n}', stats.median(errors), stats.median(times)))
    if measure is not None:
        notes += reference_notes(measure, results, module)
    return results, notes


def reference_notes(measure, results, module):
    """What bounds the NG errors from below: the reference's own error (estimated by its distance to
    the finest mesh of the sweep), the tokens' sampling floor at the largest N, and the resolution of
    the reference's atoms (under the tokens' errors only); and tpde-compare's value for the last
    token run, a check of this script's sliced W2."""
    label, error, _ = results['grid'][-1]
    lines = [f'  reference error: at most about {error:.2e}, the distance of the finest sweep mesh '
             f'({label}) to it; smaller errors of the grid runs are not resolved']
    for kind in ('random', 'quasi-random'):
        label, error, _ = results[kind][-1]
        lines.append(f'  sampling floor, {kind}: {error:.2e} at the largest {label} (median of the seeds)')
    s = measure.SUBDIVISIONS
    lines.append(f'  tokens\' reference atoms ({s} x {s} sub-cells): {measure.resolution():.2e} from those on '
                 f'{s // 2} x {s // 2}, about their resolution (a floor of the tokens\' errors only)')
    folder, error = measure.last_tokens
    table = module.compare(os.path.join(measure.reference_folder, 'solution.pvd'),
                           os.path.join(folder, 'particles.pvd'), directions=DIRECTIONS, subdivisions=s)
    lines.append(f'  check: tpde.compare sliced_w2 of the last token run {table["sliced_w2"][-1]:.6e}, '
                 f'this script {error:.6e}')
    return lines


def fastest(runs, target):
    reached = [(seconds, label) for label, error, seconds in runs if error <= target]
    return min(reached) if reached else None


def report(name, results, case, notes):
    error = case.get('measure', 'moment error')
    print(f'\n{name}: least solver time (s) to reach a {error} at t = 1 (fast sums)')
    print(f'{"error":>8s} | {"grid":>32s} | {"random tokens":>22s} | {"quasi-random":>22s} | '
          f'{"random/grid":>11s} | {"quasi/grid":>10s}')
    for target in case.get('targets', TARGETS):
        cells = []
        best = {kind: fastest(runs, target) for kind, runs in results.items()}
        for kind in ('grid', 'random', 'quasi-random'):
            cells.append(f'{best[kind][0]:8.3f} ({best[kind][1]})' if best[kind] else '-')
        ratios = []
        for kind in ('random', 'quasi-random'):
            if best['grid'] and best[kind]:
                ratios.append(f'{best[kind][0] / best["grid"][0]:.1f}x')
            elif best['grid']:
                ratios.append('grid only')
            else:
                ratios.append('-')
        print(f'{target:8.0e} | {cells[0]:>32s} | {cells[1]:>22s} | {cells[2]:>22s} | '
              f'{ratios[0]:>11s} | {ratios[1]:>10s}')
    for kind in ('grid', 'random', 'quasi-random'):
        label, error, seconds = min(results[kind], key=lambda r: r[1])
        print(f'  smallest error, {kind}: {error:.2e} ({label}, {seconds:.3f} s)')
    for line in notes:
        print(line)


def load_module(tpde):
    """The tpde module of the build that holds the binary (BUILD/python): NG reads its runs with it."""
    sys.path.insert(0, os.path.join(ROOT, 'postprocess'))
    import tpde_module
    try:
        return tpde_module.load(os.path.dirname(os.path.abspath(tpde)))
    except tpde_module.InputError as e:
        sys.exit(f'grid_vs_particles: NG: {e}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--tpde', default=os.path.join(ROOT, 'build', 'tpde'))
    parser.add_argument('--case', default='all', choices=['all'] + sorted(CASES))
    parser.add_argument('--seeds', type=int, default=3)
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--verbose', action='store_true')
    parser.add_argument('--large', action='store_true', help='add N = 1e6 tokens (minutes per run; not to NG)')
    options = parser.parse_args()
    if not os.access(options.tpde, os.X_OK):
        sys.exit(f'grid_vs_particles: no executable {options.tpde} (build first, or pass --tpde)')
    print('command: ' + ' '.join(sys.argv))
    print('machine: ' + machine())
    if options.large:
        for name, case in CASES.items():
            if name != 'NG':
                case['tokens'] = case['tokens'] + [10**6]
    names = list(CASES) if options.case == 'all' else [options.case]
    module = load_module(options.tpde) if 'NG' in names else None
    with tempfile.TemporaryDirectory() as scratch:
        for name in names:
            results, notes = sweep(options.tpde, name, CASES[name], options.seeds, options.quick, scratch,
                                   options.verbose, module)
            report(name, results, CASES[name], notes)


if __name__ == '__main__':
    main()
