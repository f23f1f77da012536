#!/usr/bin/python3
"""The paper's Gaussian experiments (physics.md §3: E1-E7) as grid PDE runs.

Two sets of matrices: "authors" (default; parameters/paper/authors/, regenerated from the authors'
seeds by paper_authors.py, E1-E6 with the variants each paper figure shows, Sigma_0 a documented
subset of the paper's grid) and "hand" (parameters/paper/, explicit stand-ins, E1, E2, E4, E5).
--all (paper_report.py) adds the moment ODE on the full grids, E7 and OUT/report.md. For every experiment and attention variant (softmax, l2, multihead, sinkhorn) this script runs
`tpde run parameters/paper/<e>-<variant>.prm` once per initial covariance Sigma_0 of the
experiment (the first is the file's own; the others are set with --set), reads each
statistics.csv, and
  * draws <out>/<e>-<variant>.png: the PSD cone {v >= sqrt(u^2 + w^2)} in the coordinates
    (u, w, v) = (a - b, 2c, a + b) of Sigma = [a, c; c, b] (wireframe), the ODE trajectory of the
    moment equation (solid line: the solver's ref_cov_* columns at the grid's time steps; dashed:
    the same ODE integrated further by this script) and the grid covariance (points); for blow-up
    runs also Sigma / tr Sigma as (a - b, 2c)/(a + b) in the unit disk (the circle = rank one);
  * prints a table: experiment, variant, number of runs, the largest Frobenius-relative deviation
    max_{t, runs} |Sigma_grid - Sigma_ODE|_F / |Sigma_ODE|_F (also up to half the end time only), the
    wall time (sum, largest run), and the deviation of this script's own ODE from the ref columns.

Runs whose output directory already holds a finished run of the same command and parameters are
reused (--force reruns them); a run is reused only by the same tpde binary (SHA-256 in binary.txt;
--no-run reads finished runs of any build). Needs the system python (numpy, matplotlib) and gnuplot.

    postprocess/paper_experiments.py --all --out output/paper [--tpde build/tpde] [--jobs 2]
    postprocess/paper_experiments.py --tpde build/tpde --out output/paper [--matrices hand] [--only E1,E5]
"""
import argparse
import concurrent.futures
import csv
import math
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import paper_authors  # noqa: E402  (numpy)
import paper_e7  # noqa: E402

PRM_DIRS = dict(hand=os.path.join(ROOT, 'parameters', 'paper'),
                authors=os.path.join(ROOT, 'parameters', 'paper', 'authors'))
PRM_DIR = PRM_DIRS['hand']
VARIANTS = ['softmax', 'l2', 'multihead', 'sinkhorn']


def trace_one(u, w):
    """The paper's trace-1 family Sigma_0 = [(1+u)/2, w/2; w/2, (1-u)/2] (PD for u^2 + w^2 < 1)."""
    return ((0.5 * (1 + u), 0.5 * w), (0.5 * w, 0.5 * (1 - u)))


# kind: 'collapse' (E1), 'line' (E2), 'lines' (E4), 'blowup' (E5). The first Sigma_0 of each list
# is the one written in the parameter files.
EXPERIMENTS = {
    'E1': dict(title='E1: convergence to zero', kind='collapse',
               sigmas=[(0.0, 0.0), (0.4, 0.3), (-0.4, 0.3)], ode_end=30.0),
    'E2': dict(title='E2: convergence to a line', kind='line',
               sigmas=[(0.4, 0.3), (-0.5, 0.2), (0.3, -0.4)], ode_end=1000.0),
    'E4': dict(title='E4: convergence to two lines', kind='lines',
               sigmas=[(0.0, 0.0), (0.35, -0.35), (0.5, 0.0), (0.0, 0.5)], ode_end=1000.0),
    'E5': dict(title='E5: blow-up / divergence', kind='blowup',
               sigmas=[(0.0, 0.0), (0.4, 0.3), (-0.4, 0.3)], ode_end=None),
}
for _e in EXPERIMENTS.values():
    _e['variants'] = VARIANTS

AUTHORS_KINDS = dict(E1=('collapse', 30.0), E2=('line', 1000.0), E3=('collapse', 1000.0),
                     E4=('lines', 1000.0), E5=('blowup', None), E6=('blowup', None))


def use_matrices(which):
    """Switch EXPERIMENTS and PRM_DIR to the 'hand' or the 'authors' set."""
    global PRM_DIR
    PRM_DIR = PRM_DIRS[which]
    if which == 'authors':
        EXPERIMENTS.clear()
        for e, (kind, ode_end) in AUTHORS_KINDS.items():
            EXPERIMENTS[e] = dict(title='%s: %s' % (e, paper_authors.TITLES[e]), kind=kind, ode_end=ode_end,
                                  sigmas=paper_authors.subset_sigmas(e),
                                  variants=list(paper_authors.GRID[e]['variants']))


# ----------------------------------------------------------------------------------------------
# 2 x 2 matrix algebra (tuples of rows); Q, K may be k x 2 (lists of rows).


def mul(x, y):
    return tuple(tuple(sum(x[i][k] * y[k][j] for k in range(len(y))) for j in range(len(y[0])))
                 for i in range(len(x)))


def transpose(x):
    return tuple(tuple(x[i][j] for i in range(len(x))) for j in range(len(x[0])))


def add(x, y):
    return tuple(tuple(a + b for a, b in zip(rx, ry)) for rx, ry in zip(x, y))


def scale(s, x):
    return tuple(tuple(s * a for a in r) for r in x)


IDENTITY = ((1.0, 0.0), (0.0, 1.0))


def inverse(x):
    det = x[0][0] * x[1][1] - x[0][1] * x[1][0]
    return ((x[1][1] / det, -x[0][1] / det), (-x[1][0] / det, x[0][0] / det))


def sqrt_spd(x):
    """Square root of a symmetric positive semi-definite 2 x 2 matrix (closed form)."""
    s = math.sqrt(max(x[0][0] * x[1][1] - x[0][1] * x[1][0], 0.0))
    t = math.sqrt(x[0][0] + x[1][1] + 2 * s)
    return scale(1 / t, add(x, scale(s, IDENTITY)))


def eigenvalues(x):
    m = 0.5 * (x[0][0] + x[1][1])
    r = math.hypot(0.5 * (x[0][0] - x[1][1]), 0.5 * (x[0][1] + x[1][0]))
    return m - r, m + r


def frobenius(x):
    return math.sqrt(sum(a * a for r in x for a in r))


# ----------------------------------------------------------------------------------------------
# Parameter files (deal.II format: subsection / set / end; no nested subsections needed here)


def read_prm(path):
    entries, stack = {}, []
    with open(path) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            if line.startswith('subsection '):
                stack.append(line[len('subsection '):].strip())
            elif line == 'end':
                stack.pop()
            elif line.startswith('set '):
                key, _, value = line[4:].partition('=')
                entries['/'.join(stack + [key.strip()])] = value.strip()
    return entries


def parse_matrix(text, default=IDENTITY):
    text = text.strip()
    if not text:
        return default
    return tuple(tuple(float(a) for a in row.split(',')) for row in text.split(';'))


def attention_model(prm):
    """The variant and its matrices from a parsed parameter file (the same conventions as the solver)."""
    a = lambda key, default='': prm.get('Attention/' + key, default)
    variant = a('type', 'softmax')
    model = dict(variant=variant, beta=float(a('beta', '1')))
    if variant == 'multihead':
        h = int(a('heads', '1'))
        split = lambda key: [s for s in a(key).split('|')] if a(key).strip() else [''] * h
        qs, ks, cs = split('head Q'), split('head K'), split('head C')
        betas = [float(s) for s in a('head beta', '1').split('|')]
        pick = lambda lst, i: lst[i] if len(lst) > 1 else lst[0]
        model['heads'] = [dict(Q=parse_matrix(pick(qs, i)), K=parse_matrix(pick(ks, i)),
                               C=parse_matrix(pick(cs, i)), beta=pick(betas, i)) for i in range(h)]
    else:
        model.update(Q=parse_matrix(a('Q')), K=parse_matrix(a('K')), V=parse_matrix(a('V')))
        model['epsilon'] = float(a('sinkhorn epsilon', '1'))
    return model


# ----------------------------------------------------------------------------------------------
# Gaussian covariance ODEs of physics.md §2.2-2.5 (mean 0 is not needed: Sigma' does not depend on it)


def covariance_rate(model, s):
    v = model['variant']
    if v == 'softmax':
        a = scale(model['beta'], mul(transpose(model['K']), model['Q']))
        m = mul(mul(mul(model['V'], s), a), s)
    elif v == 'multihead':
        m = ((0.0, 0.0), (0.0, 0.0))
        for h in model['heads']:
            a = scale(h['beta'], mul(transpose(h['K']), h['Q']))
            m = add(m, mul(mul(mul(h['C'], s), a), s))
    elif v == 'l2':
        ktk = scale(2 * model['beta'], mul(transpose(model['K']), model['K']))
        ktq = scale(2 * model['beta'], mul(transpose(model['K']), model['Q']))
        b = mul(mul(mul(model['V'], inverse(add(IDENTITY, mul(s, ktk)))), s), ktq)
        m = mul(b, s)
    elif v == 'sinkhorn':
        # Gamma = R F R M^T, M = (beta/eps) Q^T K, R = Sigma^1/2, N = R M R,
        # F = 2 (I + (I + 4 N^T N)^1/2)^-1 (physics.md §2.5, solver/reference).
        mm = scale(model['beta'] / model['epsilon'], mul(transpose(model['Q']), model['K']))
        r = sqrt_spd(s)
        n = mul(mul(r, mm), r)
        f = scale(2.0, inverse(add(IDENTITY, sqrt_spd(add(IDENTITY, scale(4.0, mul(transpose(n), n)))))))
        m = mul(mul(model['V'], mul(mul(mul(r, f), r), transpose(mm))), s)
    else:
        raise ValueError('no covariance ODE for variant ' + v)
    return add(m, transpose(m))


def integrate(model, s0, times, substeps=40):
    """Classical RK4 from t = times[0] through the given increasing times; returns Sigma at each."""
    out, s, t = [s0], s0, times[0]
    for t_next in times[1:]:
        n = max(1, substeps)
        h = (t_next - t) / n
        for _ in range(n):
            k1 = covariance_rate(model, s)
            k2 = covariance_rate(model, add(s, scale(h / 2, k1)))
            k3 = covariance_rate(model, add(s, scale(h / 2, k2)))
            k4 = covariance_rate(model, add(s, scale(h, k3)))
            s = add(s, scale(h / 6, add(add(k1, scale(2, k2)), add(scale(2, k3), k4))))
            s = ((s[0][0], 0.5 * (s[0][1] + s[1][0])), (0.5 * (s[0][1] + s[1][0]), s[1][1]))
        out.append(s)
        t = t_next
    return out


def blowup_time(model, s0):
    """t* = 1/lambda_max(Sigma_0^1/2 S Sigma_0^1/2) for softmax with V = vI, multi-head with every
    C_h = c_h I (S = sum_h c_h beta_h (A_h + A_h^T)); None otherwise or if there is no blow-up."""
    def scalar(m):
        return m[0][0] if abs(m[0][1]) + abs(m[1][0]) + abs(m[0][0] - m[1][1]) == 0 else None
    terms = []
    if model['variant'] == 'softmax':
        terms = [(scalar(model['V']), model['beta'], model['Q'], model['K'])]
    elif model['variant'] == 'multihead':
        terms = [(scalar(h['C']), h['beta'], h['Q'], h['K']) for h in model['heads']]
    else:
        return None
    s = ((0.0, 0.0), (0.0, 0.0))
    for c, beta, q, k in terms:
        if c is None:
            return None
        a = mul(transpose(k), q)
        s = add(s, scale(c * beta, add(a, transpose(a))))
    r = sqrt_spd(s0)
    lam = eigenvalues(mul(mul(r, s), r))[1]
    return 1.0 / lam if lam > 0 else None


def cone_point(s):
    return (s[0][0] - s[1][1], s[0][1] + s[1][0], s[0][0] + s[1][1])


def line_angle(s):
    """Direction of the top eigenvector of Sigma in degrees, in [0, 180)."""
    return math.degrees(0.5 * math.atan2(s[0][1] + s[1][0], s[0][0] - s[1][1])) % 180.0


# ----------------------------------------------------------------------------------------------
# Runs


def matrix_text(s):
    return '; '.join(', '.join('%.15g' % a for a in row) for row in s)


class Run:
    def __init__(self, experiment, variant, index, uw, args):
        self.experiment, self.variant, self.index, self.uw = experiment, variant, index, uw
        self.prm = os.path.join(PRM_DIR, '%s-%s.prm' % (experiment.lower(), variant))
        self.model = attention_model(read_prm(self.prm))
        self.sigma0 = trace_one(*uw)
        self.directory = os.path.join(args.out, 'runs', '%s-%s-%d' % (experiment.lower(), variant, index))
        self.tstar = blowup_time(self.model, self.sigma0) if EXPERIMENTS[experiment]['kind'] == 'blowup' else None
        self.command = [args.tpde, 'run', self.prm, '--quiet', '--overwrite',
                        '--set', 'Output/directory=' + self.directory,
                        '--set', 'Initial condition/covariance=' + matrix_text(self.sigma0)]
        if self.tstar is not None:  # softmax-type blow-up: run to t*/2
            self.end_time = 0.5 * self.tstar
            self.command += ['--set', 'Time stepping/end time=%.12g' % self.end_time]
        else:
            self.end_time = float(read_prm(self.prm)['Time stepping/end time'])
        self.wall = None
        self.rows = None
        self.reused = False
        self.error = None

    def label(self):
        return '%s %s Sigma_0(u=%g, w=%g)' % (self.experiment, self.variant, *self.uw)

    def finished_before(self, no_run=False):
        try:
            with open(os.path.join(self.directory, 'command.txt')) as f:
                # the same arguments (the executable may have moved, e.g. another build folder)
                same = shlex.split(f.read())[1:] == self.command[1:]
            with open(os.path.join(self.directory, 'wall.txt')) as f:
                wall = float(f.read())
        except (OSError, ValueError):
            return False
        if not same or not paper_e7.made_by(self.directory, self.command[0], no_run) or \
                not os.path.exists(os.path.join(self.directory, 'statistics.csv')):
            return False
        # The run's own parameters.prm must agree with the parameter file and the --set values
        # (an edited parameter file is run again).
        expected = read_prm(self.prm)
        for i, word in enumerate(self.command[:-1]):
            if word == '--set':
                key, _, value = self.command[i + 1].partition('=')
                expected[key.strip()] = value.strip()
        try:
            used = read_prm(os.path.join(self.directory, 'parameters.prm'))
        except OSError:
            return False
        if all(used.get(k) == v for k, v in expected.items()):
            self.wall, self.reused = wall, True
            return True
        return False

    def execute(self, force, no_run=False):
        if not force and self.finished_before(no_run):
            return self
        if no_run:
            self.error = 'not run (--no-run)'
            return self
        if os.path.isdir(self.directory):
            shutil.rmtree(self.directory)
        os.makedirs(self.directory)
        start = time.monotonic()
        proc, build = paper_e7.run_checked(self.command)
        self.wall = time.monotonic() - start
        if build is None:
            self.error = 'the tpde executable changed during the run: %s' % shlex.join(self.command)
            return self
        if proc.returncode != 0:
            self.error = 'exit code %d: %s\n  command: %s' % (
                proc.returncode, (proc.stderr.strip() or proc.stdout.strip())[-2000:], shlex.join(self.command))
            return self
        with open(os.path.join(self.directory, 'command.txt'), 'w') as f:
            f.write(shlex.join(self.command))
        with open(os.path.join(self.directory, 'binary.txt'), 'w') as f:
            f.write(build + '\n')
        with open(os.path.join(self.directory, 'wall.txt'), 'w') as f:
            f.write('%.3f\n' % self.wall)
        return self

    def load(self):
        path = os.path.join(self.directory, 'statistics.csv')
        with open(path) as f:
            rows = list(csv.DictReader(f))
        if not rows or 'ref_cov_00' not in rows[0]:
            raise RuntimeError('%s: no ref_cov_* columns (initial data not one Gaussian?)' % path)
        if abs(float(rows[-1]['time']) - self.end_time) > 1e-8 * max(1.0, self.end_time):
            raise RuntimeError('%s: ends at t = %s, not at the end time %g' % (path, rows[-1]['time'], self.end_time))
        m = lambda r, p: ((float(r[p + 'cov_00']), float(r[p + 'cov_01'])), (float(r[p + 'cov_10']), float(r[p + 'cov_11'])))
        self.rows = [(float(r['time']), m(r, ''), m(r, 'ref_')) for r in rows]
        self.deviation, self.worst_time, self.deviation_half = 0.0, 0.0, 0.0
        for t, g, e in self.rows:
            if not all(math.isfinite(a) for row in e for a in row):
                continue
            d = frobenius(add(g, scale(-1, e))) / frobenius(e)
            if d > self.deviation:
                self.deviation, self.worst_time = d, t
            if t <= 0.5 * self.end_time * (1 + 1e-12):  # up to half the end time
                self.deviation_half = max(self.deviation_half, d)
        # Check of this script's own ODE against the solver's reference at ~20 of the rows.
        picks = self.rows[::max(1, len(self.rows) // 20)] + [self.rows[-1]]
        times = [0.0] + [t for t, _, _ in picks if t > 0]
        mine = integrate(self.model, self.sigma0, times, substeps=20)
        ref = {t: e for t, _, e in picks}
        self.ode_check = max(frobenius(add(s, scale(-1, ref[t]))) / frobenius(ref[t])
                             for t, s in zip(times, mine) if t in ref)
        # The ODE beyond the grid's end time (dashed in the plot).
        kind = EXPERIMENTS[self.experiment]['kind']
        if kind == 'blowup':
            if self.tstar is not None:
                t_end, n = 0.995 * self.tstar, 400
                times = [t_end * (1 - (1 - k / n) ** 3) for k in range(n + 1)]  # dense near t*
            else:
                t_end = 3.0 * self.end_time
                times = [t_end * k / 300 for k in range(301)]
                # stop where the trace passes 1e3 (the paper's tol_high)
        else:
            t_end = EXPERIMENTS[self.experiment]['ode_end']
            times = [t_end * (k / 300) ** 2 for k in range(301)]  # slow algebraic approach
        traj = integrate(self.model, self.sigma0, times, substeps=10)
        self.continuation = []
        for t, s in zip(times, traj):
            if not all(math.isfinite(a) for row in s for a in row) or s[0][0] + s[1][1] > 1e3:
                break
            self.continuation.append((t, s))
        return self


# ----------------------------------------------------------------------------------------------
# Plots (gnuplot)


def plot(experiment, variant, runs, out):
    info = EXPERIMENTS[experiment]
    kind = info['kind']
    base = os.path.join(out, '%s-%s' % (experiment.lower(), variant))
    data = base + '.dat'
    grid_traces = [s[0][0] + s[1][1] for r in runs for _, s, _ in r.rows]
    vmax = max(grid_traces) * (1.15 if kind != 'blowup' else 1.3)
    with open(data, 'w') as f:
        for r in runs:  # blocks: 3 per run (ODE at the grid's steps, continuation, grid points)
            f.write('# %s: ODE (ref columns)\n' % r.label())
            for t, _, e in r.rows:
                f.write('%.10g %.10g %.10g %.10g\n' % (cone_point(e) + (t,)))
            f.write('\n\n# continuation of the ODE (this script, RK4)\n')
            wrote = False
            for t, s in r.continuation:
                if t >= r.rows[-1][0] and s[0][0] + s[1][1] <= vmax:
                    f.write('%.10g %.10g %.10g %.10g\n' % (cone_point(s) + (t,)))
                    wrote = True
            if not wrote:
                f.write('nan nan nan nan\n')
            f.write('\n\n# grid\n')
            step = max(1, len(r.rows) // 25)
            for t, g, _ in r.rows[::step] + [r.rows[-1]]:
                f.write('%.10g %.10g %.10g %.10g\n' % (cone_point(g) + (t,)))
            f.write('\n\n')
        # limit lines (E2, E4): the generatrix through the end of each continuation
        limits = []
        if kind in ('line', 'lines'):
            for r in runs:
                a = line_angle(r.continuation[-1][1])
                if all(min(abs(a - b), 180 - abs(a - b)) > 2 for b in limits):
                    limits.append(a)
            for a in limits:
                c, s = math.cos(math.radians(2 * a)), math.sin(math.radians(2 * a))
                f.write('0 0 0\n%.10g %.10g %.10g\n\n\n' % (vmax * c, vmax * s, vmax))
    colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b']
    g = ['set terminal pngcairo size %d,700 font "Sans,10"' % (1400 if kind == 'blowup' else 800),
         'set output "%s.png"' % base, 'set encoding utf8']
    if kind == 'blowup':
        g.append('set multiplot layout 1,2 title "%s, %s (grid run to %s)"' % (
            info['title'], variant, 't*/2' if runs[0].tstar is not None else 't = %g' % runs[0].end_time))
    else:
        g.append('set title "%s, %s: grid (points) vs moment ODE (lines; dashed: ODE continued to t = %g)"' % (
            info['title'], variant, info['ode_end']))
    g += ['set parametric', 'set urange [0:%g]' % vmax, 'set vrange [0:2*pi]', 'set isosamples 9,25',
          'set view 62, 35', 'set xlabel "a - b"', 'set ylabel "2c"', 'set zlabel "a + b" rotate',
          'set xrange [%g:%g]' % (-vmax, vmax), 'set yrange [%g:%g]' % (-vmax, vmax), 'set zrange [0:%g]' % vmax,
          'set key bottom right font ",8"', 'set ticslevel 0']
    plots = ['u*cos(v), u*sin(v), u with lines lc rgb "#c8c8c8" lw 0.5 notitle']
    for i, r in enumerate(runs):
        col = colours[i % len(colours)]
        title = 'u=%g, w=%g' % r.uw
        plots.append('"%s" index %d using 1:2:3 with lines lw 2 lc rgb "%s" title "%s"' % (data, 3 * i, col, title))
        plots.append('"%s" index %d using 1:2:3 with lines dt 2 lw 1.5 lc rgb "%s" notitle' % (data, 3 * i + 1, col))
        plots.append('"%s" index %d using 1:2:3 with points pt 7 ps 0.6 lc rgb "%s" notitle' % (data, 3 * i + 2, col))
    for j, a in enumerate(limits):
        plots.append('"%s" index %d using 1:2:3 with lines lw 3 lc rgb "black" title "limit line %.1f°"' % (
            data, 3 * len(runs) + j, a))
    g.append('splot ' + ', \\\n  '.join(plots))
    if kind == 'blowup':
        g += ['unset parametric', 'set size ratio -1', 'unset zlabel',
              'set xrange [-1.05:1.05]', 'set yrange [-1.05:1.05]', 'set xlabel "(a - b)/(a + b)"',
              'set ylabel "2c/(a + b)"', 'set title "Σ/tr Σ (circle: rank one); dashed: ODE continued to 0.995 t*"'
              if runs[0].tstar is not None else 'set title "Σ/tr Σ (circle: rank one); dashed: ODE continued (tr Σ ≤ 1e3)"',
              'set object 1 circle at 0,0 size 1 fc rgb "black" lw 1 front',
              'set angles radians']
        disk = []
        with open(base + '-disk.dat', 'w') as f:
            for r in runs:
                for block in ([(t, e) for t, _, e in r.rows], [(t, s) for t, s in r.continuation if t >= r.rows[-1][0]],
                              [(t, gg) for t, gg, _ in r.rows[::max(1, len(r.rows) // 25)] + [r.rows[-1]]]):
                    for t, s in block:
                        p = cone_point(s)
                        f.write('%.10g %.10g %.10g\n' % (p[0] / p[2], p[1] / p[2], t))
                    if not block:
                        f.write('nan nan nan\n')
                    f.write('\n\n')
        for i, r in enumerate(runs):
            col = colours[i % len(colours)]
            disk.append('"%s-disk.dat" index %d using 1:2 with lines lw 2 lc rgb "%s" title "u=%g, w=%g"' % (
                base, 3 * i, col, *r.uw))
            disk.append('"%s-disk.dat" index %d using 1:2 with lines dt 2 lc rgb "%s" notitle' % (base, 3 * i + 1, col))
            disk.append('"%s-disk.dat" index %d using 1:2 with points pt 7 ps 0.6 lc rgb "%s" notitle' % (base, 3 * i + 2, col))
        g.append('plot ' + ', \\\n  '.join(disk))
        g.append('unset multiplot')
    with open(base + '.gp', 'w') as f:
        f.write('\n'.join(g) + '\n')
    proc = subprocess.run(['gnuplot', base + '.gp'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError('gnuplot failed on %s.gp: %s' % (base, proc.stderr.strip()))
    return base + '.png', limits


# ----------------------------------------------------------------------------------------------


def self_test():
    """Checks of this script's ODE and cone code against closed forms (physics.md §2.2-2.5); no tpde."""
    worst = {}

    def check(name, value, tolerance):
        worst[name] = max(worst.get(name, 0.0), value)
        if not value <= tolerance:
            sys.exit('paper_experiments.py --self-test: %s: %.3e > %.1e' % (name, value, tolerance))

    times = [0.0, 0.25, 0.5, 1.0, 2.0]
    beta = 1 / math.sqrt(2)
    s0 = trace_one(0.4, 0.3)
    # E2 structure: Sigma^-1 = Sigma_0^-1 + 2 beta t q^T q.
    q = ((5 / 13, 12 / 13),)
    model = dict(variant='softmax', beta=beta, Q=q, K=scale(-1, q), V=IDENTITY)
    for t, s in zip(times, integrate(model, s0, times, substeps=400)):
        exact = inverse(add(inverse(s0), scale(2 * beta * t, mul(transpose(q), q))))
        check('softmax line', frobenius(add(s, scale(-1, exact))) / frobenius(exact), 1e-10)
    # V = I, S = A + A^T > 0: Sigma = (Sigma_0^-1 - t S)^-1, t* = 1/lambda_max(Sigma_0^1/2 S Sigma_0^1/2);
    # multi-head with C_h = I: S = sum_h (A_h + A_h^T).
    qq, kk = ((1.0, 0.5), (0.0, 1.0)), ((0.8, 0.0), (0.3, 0.6))
    for model, b in ((dict(variant='softmax', beta=beta, Q=qq, K=kk, V=IDENTITY), beta),
                     (dict(variant='multihead', heads=[dict(Q=(qq[i],), K=(kk[i],), C=IDENTITY, beta=1.0)
                                                       for i in range(2)]), 1.0)):
        a = scale(b, mul(transpose(kk), qq))
        ss = add(a, transpose(a))
        tstar = blowup_time(model, s0)
        r = sqrt_spd(s0)
        check('t*', abs(tstar * eigenvalues(mul(mul(r, ss), r))[1] - 1), 1e-14)
        ts = [0.0, 0.1 * tstar, 0.3 * tstar, 0.5 * tstar]
        for t, s in zip(ts, integrate(model, s0, ts, substeps=200)):
            exact = inverse(add(inverse(s0), scale(-t, ss)))
            check('blow-up ' + model['variant'], frobenius(add(s, scale(-1, exact))) / frobenius(exact), 1e-10)
    # Diagonal l2 and Sinkhorn decouple into 1-D problems with implicit exact solutions:
    # l2: -1/s + 2 beta k^2 ln s - 4 beta v k q t is constant; Sinkhorn (eps = 1, a = qk):
    # G(2|a|s) - 2 v sgn(a) t is constant, G(u) = asinh u - (1 + sqrt(1 + u^2))/u.
    qd, kd, vd = ((0.7, 0.0), (0.0, -0.4)), ((-0.9, 0.0), (0.0, 0.8)), ((1.0, 0.0), (0.0, -0.6))
    diag0 = ((0.6, 0.0), (0.0, 0.4))
    l2 = dict(variant='l2', beta=0.8, Q=qd, K=kd, V=vd)
    for t, s in zip(times, integrate(l2, diag0, times, substeps=400)):
        for i in range(2):
            c = lambda x, t: -1 / x + 2 * 0.8 * kd[i][i] ** 2 * math.log(x) - 4 * 0.8 * vd[i][i] * kd[i][i] * qd[i][i] * t
            check('l2 diagonal', abs(c(s[i][i], t) - c(diag0[i][i], 0.0)), 1e-10)
        check('l2 diagonal', abs(s[0][1]), 1e-14)
    sk = dict(variant='sinkhorn', beta=1.0, epsilon=1.0, Q=qd, K=kd, V=vd)
    g = lambda u: math.asinh(u) - (1 + math.sqrt(1 + u * u)) / u
    for t, s in zip(times, integrate(sk, diag0, times, substeps=400)):
        for i in range(2):
            a = qd[i][i] * kd[i][i]
            c = lambda x, t: g(2 * abs(a) * x) - 2 * vd[i][i] * math.copysign(1, a) * t
            check('sinkhorn diagonal', abs(c(s[i][i], t) - c(diag0[i][i], 0.0)), 1e-10)
    # Cone coordinates: rank one lambda u u^T lies on v = sqrt(u^2 + w^2), at angle 2 theta.
    for deg in (0.0, 18.66, 95.0, 157.38):
        th = math.radians(deg)
        u = ((math.cos(th),), (math.sin(th),))
        p = cone_point(scale(0.7, mul(u, transpose(u))))
        check('cone', abs(math.hypot(p[0], p[1]) - p[2]) + abs(line_angle(scale(0.7, mul(u, transpose(u)))) - deg), 1e-12)
    paper_authors.self_test(ROOT, check, read_prm, attention_model, covariance_rate)
    # Bad input: one line on stderr and exit code 2, before anything is run or written.
    with tempfile.TemporaryDirectory() as folder:
        blocked = os.path.join(folder, 'file')
        open(blocked, 'w').close()
        for options, words in ((['--only', 'E9'], 'unknown experiment'), (['--only', 'E7-sinkhorn'], 'E7 has'),
                               (['--exclude', 'E1-relu'], 'unknown variant'), (['--jobs', '0'], '--jobs'),
                               (['--e7-grid-draws', '101'], '--e7-grid-draws'),
                               (['--tpde', os.path.join(folder, 'none')], '--tpde'),
                               (['--out', os.path.join(blocked, 'out')], 'not a writable folder')):
            done = subprocess.run([sys.executable, os.path.abspath(__file__), '--no-plot', '--tpde', sys.executable,
                                   '--out', os.path.join(folder, 'out')] + options, capture_output=True, text=True)
            lines = done.stderr.strip().splitlines()
            check('bad input exits 2 with one line', abs(done.returncode - 2) + abs(len(lines) - 1) +
                  (0 if lines and words in lines[0] else 1), 0)
        check('bad input writes nothing', len(os.listdir(folder)) - 1, 0)
    # Reuse needs the same build: binary.txt of a run against the sha256 of two different executables.
    with tempfile.TemporaryDirectory() as folder:
        builds = [os.path.join(folder, name) for name in ('tpde-a', 'tpde-b')]
        for path, content in zip(builds, (b'build a', b'build b')):
            with open(path, 'wb') as f:
                f.write(content)
        with open(os.path.join(folder, 'binary.txt'), 'w') as f:
            f.write(paper_e7.binary_id(builds[0]) + '\n')
        reused = [paper_e7.made_by(folder, b) for b in builds] + [paper_e7.made_by(builds[0], builds[0]),
                                                                    paper_e7.made_by(folder, builds[1], no_run=True)]
        check('reuse by build', 0.0 if reused == [True, False, False, True] else 1.0, 0.0)
        before = paper_e7.binary_id(builds[0])
        with open(builds[0], 'wb') as f:  # rebuilt in place: seen although the hash is cached
            f.write(b'build a, rebuilt')
        check('rebuild seen', 0.0 if paper_e7.binary_id(builds[0]) != before else 1.0, 0.0)
    # Remaining time: a Sinkhorn run priced by its group, E7 by the prior per cell-step, 2-D by the prior.
    sinkhorn, softmax = [argparse.Namespace(experiment=e, variant=v) for e, v in (('E5', 'sinkhorn'), ('E1', 'softmax'))]
    e7 = [argparse.Namespace(case=argparse.Namespace(work=w)) for w in (1e7, 2e6)]
    left = remaining_seconds([sinkhorn] + e7 + [softmax] * 40, [(('E5', 'sinkhorn'), 1.0, 1550.0)], 2)
    check('remaining time', abs(left - (1550 + 1e7 * 1e-4 + 2e6 * 1e-4 + 40 * 23.0) / 2) / left, 1e-12)
    left = remaining_seconds(e7 + [softmax] * 40, [('E7', 1e7, 900.0), (('E1', 'softmax'), 1.0, 12.0)], 2)
    check('remaining time', abs(left - (1.2e7 * 9e-5 + 40 * 12.0) / 2) / left, 1e-12)
    for name, value in worst.items():
        print('%-20s %.2e' % (name, value))
    print('self-test passed')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--tpde', default=os.environ.get('TPDE', os.path.join(ROOT, 'build', 'tpde')),
                        help='the tpde executable (default: $TPDE or <repo>/build/tpde)')
    parser.add_argument('--out', default='output/paper', help='output folder (runs/, PNGs, table.md)')
    parser.add_argument('--matrices', choices=['authors', 'hand'], default='authors',
                        help="the authors' regenerated matrices (default) or the hand-chosen stand-ins")
    parser.add_argument('--only', default='', help='comma-separated filters: E1, l2, E5-softmax, E7-softmax, ... (a run is kept if it matches one)')
    parser.add_argument('--exclude', default='', help='comma-separated filters as --only: runs to leave out')
    parser.add_argument('--jobs', type=int, default=1, help='runs at the same time')
    parser.add_argument('--force', action='store_true', help='rerun even if a finished run is there')
    parser.add_argument('--no-run', action='store_true', help='use finished runs only; report the others as missing')
    parser.add_argument('--no-plot', action='store_true', help='table only')
    parser.add_argument('--all', action='store_true',
                        help="authors' set: every grid run, the ODE on the full grids, E7, figures, OUT/report.md")
    parser.add_argument('--e7-grid-draws', type=int, default=None, help='E7: only the first N draws per setting as d = 3 grid runs (--all; default: all 100)')
    parser.add_argument('--write-prm', action='store_true', help="rewrite parameters/paper/authors/*.prm")
    parser.add_argument('--self-test', action='store_true',
                        help="check this script's ODEs, cone coordinates and the regenerated matrices (no tpde)")
    return parser.parse_args()


def bad_input(message):
    """Bad command-line input: one line on stderr, exit code 2 (README: bad input), before any run."""
    print('paper_experiments.py: ' + message, file=sys.stderr)
    sys.exit(2)


def run_filter(spec):
    """Tokens E1, softmax or E1-softmax (comma-separated) -> predicate (experiment, variant) -> bool, or None."""
    wanted = []
    for token in (t.strip() for t in spec.split(',') if t.strip()):
        e, _, v = token.partition('-')
        if e.upper() in EXPERIMENTS or e.upper() == 'E7':  # E7: its d = 3 grid runs and histograms (--all)
            wanted.append((e.upper(), v.lower() or None))
        elif token.lower() in VARIANTS:
            wanted.append((None, token.lower()))
        else:
            bad_input('--only/--exclude: unknown experiment or variant %r (expected E1..E7, a variant or E<n>-<variant>)' % token)
        if wanted[-1][1] is not None and wanted[-1][1] not in VARIANTS:
            bad_input('--only/--exclude: unknown variant in %r (expected one of %s)' % (token, ', '.join(VARIANTS)))
        if wanted[-1][0] == 'E7' and wanted[-1][1] not in (None, 'softmax', 'l2'):
            bad_input('--only/--exclude: E7 has the variants softmax and l2, not %r' % token)
    if not wanted:
        return None
    return lambda e, v: any((we in (None, e)) and (wv in (None, v)) for we, wv in wanted)


def kept(args):
    """(experiment, variant) -> whether --only and --exclude keep it."""
    only, exclude = run_filter(args.only), run_filter(args.exclude)
    return lambda e, v: (only is None or only(e, v)) and (exclude is None or not exclude(e, v))


def select_runs(args):
    keep = kept(args)
    return [Run(e, v, i, uw, args) for e in EXPERIMENTS for v in EXPERIMENTS[e]['variants'] if keep(e, v)
            for i, uw in enumerate(EXPERIMENTS[e]['sigmas'])]


def run_group(r):
    """Runs priced alike by the remaining-time estimate: E7 (by its cells x steps), else experiment and variant."""
    return 'E7' if hasattr(r, 'case') else (r.experiment, r.variant)


def run_work(r):
    return r.case.work if hasattr(r, 'case') else 1.0


def remaining_seconds(pending, fresh, jobs):
    """Wall time left for `pending` runs: each group's seconds per unit of work from its finished runs
    (`fresh`: (group, work, seconds)). A group none of whose runs has finished is priced by a prior: E7 by
    the cost model's 50 us per cell-step on two threads (paper_e7.GRID), the others by the mean of the
    finished 2-D runs that are not Sinkhorn (E5 Sinkhorn takes 20-30 min), else 23 s, the mean of those
    runs in session 15's --all. The runs share the cores `jobs` at a time, so their seconds are already
    those of a shared machine."""
    rate, others = {}, [seconds for group, _, seconds in fresh if group != 'E7' and group[1] != 'sinkhorn']
    for group, work, seconds in fresh:
        total = rate.setdefault(group, [0.0, 0.0])
        total[0] += seconds
        total[1] += work
    left = 0.0
    for r in pending:
        group = run_group(r)
        if group in rate:
            left += run_work(r) * rate[group][0] / rate[group][1]
        elif group == 'E7':
            left += run_work(r) * 50e-6 * max(1, jobs)
        else:
            left += sum(others) / len(others) if others else 23.0
    return left / max(1, jobs)


def execute_all(runs, args, label='grid runs'):
    """Runs (or reuses) every run; progress with an estimate of the remaining time."""
    failures, start, fresh, done = [], time.monotonic(), [], 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for r in pool.map(lambda r: r.execute(args.force, args.no_run), runs):
            done += 1
            state = 'failed' if r.error else ('reused' if r.reused else 'done')
            if not r.reused and not r.error:
                fresh.append((run_group(r), run_work(r), r.wall))
            elapsed = time.monotonic() - start
            eta = '~%.0f s' % remaining_seconds(runs[done:], fresh, args.jobs) if fresh else '?'
            print('[%s %d/%d] %-44s %-6s %7.1f s | elapsed %5.0f s, remaining %s' % (
                label, done, len(runs), r.label(), state, r.wall or 0.0, elapsed, eta), flush=True)
            if r.error:
                failures.append(r)
    return failures


def grid_table(runs, args):
    """Loads the finished runs, draws the gnuplot figures; returns (rows, failures)."""
    table, failures = [], []
    for e in EXPERIMENTS:
        for v in VARIANTS:
            group = [r for r in runs if r.experiment == e and r.variant == v]
            if not group or any(r.error for r in group):
                continue
            try:
                for r in group:
                    r.load()
            except (RuntimeError, OSError, ValueError, KeyError) as error:
                # A run that finished but cannot be compared fails its group only.
                for r in group:
                    r.error = r.error or str(error)
                failures.append(group[0])
                continue
            worst = max(group, key=lambda r: r.deviation)
            limits = []
            if not args.no_plot:
                _, limits = plot(e, v, group, args.out)
            exact = ''
            if args.matrices == 'authors' and EXPERIMENTS[e]['kind'] in ('line', 'lines'):
                rec = paper_authors.recipe(e)
                exact = ', '.join('%.1f' % a for a in paper_authors.isotropic_lines(rec['Q'], rec['K']))
            table.append(dict(e=e, v=v, n=len(group), dev=worst.deviation,
                              where='u=%.4g w=%.4g t=%.3g' % (*worst.uw, worst.worst_time),
                              half=max(r.deviation_half for r in group), chk=max(r.ode_check for r in group),
                              wall=sum(r.wall for r in group), wmax=max(r.wall for r in group),
                              lim=', '.join('%.1f' % a for a in limits), exact=exact,
                              tend=max(r.rows[-1][0] for r in group), runs=group))
    return table, failures


def table_text(table):
    head = ('| experiment | variant | runs | end time | max rel. deviation (grid vs ODE) | where | '
            'same, to half the end time | script ODE vs ref | wall total [s] | wall max [s] | '
            'limit lines, ODE continued [deg] | limit lines, authors\' matrices [deg] |')
    lines = [head, '|' + '---|' * 12]
    for t in table:
        lines.append('| %s | %s | %d | %.3g | %.2e | %s | %.2e | %.1e | %.1f | %.1f | %s | %s |' % (
            t['e'], t['v'], t['n'], t['tend'], t['dev'], t['where'], t['half'], t['chk'], t['wall'], t['wmax'],
            t['lim'] or '-', t['exact'] or '-'))
    return '\n'.join(lines)


def main():
    args = parse_args()
    if args.self_test:
        self_test()
        return
    if args.write_prm:
        use_matrices('authors')
        paper_authors.write_prm_files(PRM_DIRS['authors'], ROOT)
        return
    use_matrices('authors' if args.all else args.matrices)
    if args.all:
        args.matrices = 'authors'
    args.out = os.path.abspath(args.out)
    if args.jobs < 1:
        bad_input('--jobs %d: expected at least 1' % args.jobs)
    if args.e7_grid_draws is not None and not 1 <= args.e7_grid_draws <= paper_authors.E7_PER_DIM:
        bad_input('--e7-grid-draws %d: expected 1..%d' % (args.e7_grid_draws, paper_authors.E7_PER_DIM))
    kept(args)  # bad --only/--exclude tokens end here, before any run
    if not (os.path.isfile(args.tpde) and os.access(args.tpde, os.X_OK)):
        bad_input('--tpde: executable not found: %s (expected the path of a built tpde)' % args.tpde)
    if not args.no_plot and shutil.which('gnuplot') is None:
        bad_input('gnuplot not found (use --no-plot for the table only)')
    try:
        os.makedirs(args.out, exist_ok=True)
        tempfile.NamedTemporaryFile(dir=args.out).close()
    except OSError as error:
        bad_input('--out %s: not a writable folder (%s)' % (args.out, error.strerror or error))
    if args.all:
        import paper_report
        sys.exit(paper_report.run_all(args, sys.modules[__name__]))
    runs = select_runs(args)
    if not runs:
        bad_input('--only %s selects nothing%s' % (args.only, ' (E7 runs with --all)' * ('7' in args.only)))
    failures = execute_all(runs, args)
    table, more = grid_table(runs, args)
    failures += more
    text = table_text(table)
    print(text)
    with open(os.path.join(args.out, 'table.md'), 'w') as f:
        f.write(text + '\n')
    if failures:
        for r in failures:
            print('paper_experiments.py: run failed: %s: %s' % (r.label(), r.error), file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
