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
the median too). For every target error 1e-2 .. 1e-6 the table gives the least time of a run of
each kind that reaches it ("-": none of the sweep does), and the ratio particles / grid. The
last lines state the particles' error floor (the smallest error of the largest N).

Time: the solver's own clock (the wall_seconds column of the last statistics row; it starts after
the parameters are read, so process start-up is not counted), with the process wall time next
to it in --verbose.

    /usr/bin/python3 tests/benchmarks/grid_vs_particles.py --tpde build/tpde [--case T1|T6|all]
        [--seeds 3] [--quick] [--large] [--verbose]

--quick runs a smaller sweep (a minute or two) to check the script.
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


def run(tpde, command, prm, overrides, scratch, verbose):
    out = tempfile.mkdtemp(dir=scratch)
    args = [tpde, command, os.path.join(ROOT, prm), '--quiet', '--overwrite',
            '--set', f'Output/directory={out}', '--set', 'Output/write vtu=false',
            '--set', 'Attention/evaluation=fast']
    for key, value in overrides.items():
        args += ['--set', f'{key}={value}']
    start = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f'grid_vs_particles: {" ".join(args)} failed:\n{result.stderr}')
    folder = os.path.join(out, 'particles') if command == 'particles' else out
    error, solver = final_error(os.path.join(folder, 'statistics.csv'))
    if verbose:
        label = ', '.join(f'{k}={v}' for k, v in overrides.items())
        print(f'  {command:9s} {label:60s} error {error:.2e}  solver {solver:8.3f} s  process {wall:8.3f} s',
              flush=True)
    return error, solver


def sweep(tpde, name, case, seeds, quick, scratch, verbose):
    """{kind: [(label, error, seconds)]} for grid, random and quasi-random."""
    results = {'grid': [], 'random': [], 'quasi-random': []}
    for grid in case['quick_grids' if quick else 'grids']:
        error, seconds = run(tpde, 'run', case['prm'], grid, scratch, verbose)
        results['grid'].append((', '.join(f'{k.split("/")[-1]} {v}' for k, v in grid.items()), error, seconds))
    for sampling in ('random', 'quasi-random'):
        for n in case['quick_tokens' if quick else 'tokens']:
            errors, times = [], []
            for seed in range(1, seeds + 1):
                error, seconds = run(tpde, 'particles', case['prm'],
                                     {'Particles/number of tokens': n, 'Particles/sampling': sampling,
                                      'Particles/seed': seed}, scratch, verbose)
                errors.append(error)
                times.append(seconds)
            results[sampling].append((f'N {n}', stats.median(errors), stats.median(times)))
    return results


def fastest(runs, target):
    reached = [(seconds, label) for label, error, seconds in runs if error <= target]
    return min(reached) if reached else None


def report(name, results):
    print(f'\n{name}: least solver time (s) to reach a moment error at t = 1 (fast sums)')
    print(f'{"error":>8s} | {"grid":>32s} | {"random tokens":>22s} | {"quasi-random":>22s} | '
          f'{"random/grid":>11s} | {"quasi/grid":>10s}')
    for target in TARGETS:
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--tpde', default=os.path.join(ROOT, 'build', 'tpde'))
    parser.add_argument('--case', default='all', choices=['all'] + sorted(CASES))
    parser.add_argument('--seeds', type=int, default=3)
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--verbose', action='store_true')
    parser.add_argument('--large', action='store_true', help='add N = 1e6 tokens (minutes per run)')
    options = parser.parse_args()
    if not os.access(options.tpde, os.X_OK):
        sys.exit(f'grid_vs_particles: no executable {options.tpde} (build first, or pass --tpde)')
    print('command: ' + ' '.join(sys.argv))
    print('machine: ' + machine())
    if options.large:
        for case in CASES.values():
            case['tokens'] = case['tokens'] + [10**6]
    names = sorted(CASES) if options.case == 'all' else [options.case]
    with tempfile.TemporaryDirectory() as scratch:
        for name in names:
            results = sweep(options.tpde, name, CASES[name], options.seeds, options.quick, scratch,
                            options.verbose)
            report(name, results)


if __name__ == '__main__':
    main()
