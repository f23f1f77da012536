#!/usr/bin/env python3
"""Sinkhorn attention on the grid: time per step with direct versus fast sums.

Runs the paper's E1 Sinkhorn file (parameters/paper/e1-sinkhorn.prm, or another one) on meshes of
N x N cells (`Mesh/subdivisions = N`), once with `Attention/evaluation = direct` (the Sinkhorn
iterations and the velocity summed over all pairs) and once with `fast` (both through the fast
summation, solver/attention/fast_summation.h; the potentials to an absolute error of a quarter
of the Sinkhorn tolerance, see solver/attention/sinkhorn.cc), to a short end time, and prints per
run: nodes, steps, seconds per step (wall time after the first step, which includes the cold
start of the Sinkhorn iterations, over the steps after it), mean Sinkhorn iterations per
evaluation, the largest reported marginal error, the largest Frobenius-relative deviation of the
covariance from the moment ODE (the ref_cov_* columns), and the speed-up of fast over direct.
Also prints the command lines and the machine.

  /usr/bin/python3 tests/benchmarks/sinkhorn_fast_sums.py --tpde build/tpde --meshes 20 32 \\
      --end-time 0.05 [--skip-direct-above 32] [--evaluations direct fast]

Measured 2026-12-04 (--meshes 20 32 48 --end-time 0.05 --skip-direct-above 32; AMD EPYC, 2 cores,
AVX-512, load average 13, so wall times are ~2-4x the CPU times): seconds per step direct / fast
20^2 (3600 dofs) 1.50 / 1.61 wall, 0.71 / 0.66 CPU (no gain: the fast sums' fixed costs);
32^2 (9216) 8.2 / 1.5 wall (5.5x), 3.7 / 0.83 CPU (4.5x); 48^2 (20736) fast 2.8 wall, 1.2 CPU.
~10 iterations per evaluation either way, marginal errors <= 1e-12.
"""
import argparse
import csv
import math
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def machine():
    model, flags = '?', set()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name') and model == '?':
                    model = line.split(':', 1)[1].strip()
                if line.startswith('flags'):
                    flags = set(line.split(':', 1)[1].split())
    except OSError:
        pass
    simd = 'AVX-512' if 'avx512f' in flags else 'AVX2' if 'avx2' in flags else 'SSE2'
    return '%s, %d cores (os.cpu_count), best SIMD %s, load average %.1f' % (
        model, os.cpu_count() or 0, simd, os.getloadavg()[0])


def frobenius_deviation(row):
    g = [float(row['cov_%d%d' % (i, j)]) for i in range(2) for j in range(2)]
    e = [float(row['ref_cov_%d%d' % (i, j)]) for i in range(2) for j in range(2)]
    if not all(math.isfinite(x) for x in e):
        return 0.0
    return math.sqrt(sum((a - b) ** 2 for a, b in zip(g, e))) / math.sqrt(sum(b * b for b in e))


def run(tpde, prm, mesh, evaluation, end_time, extra, directory):
    command = [tpde, 'run', prm, '--quiet', '--overwrite',
               '--set', 'Mesh/subdivisions=%d' % mesh,
               '--set', 'Attention/evaluation=%s' % evaluation,
               '--set', 'Time stepping/end time=%g' % end_time,
               '--set', 'Output/directory=%s' % directory,
               '--set', 'Output/write vtu=false'] + sum((['--set', s] for s in extra), [])
    print('$ ' + ' '.join(shlex.quote(c) for c in command), flush=True)
    start = time.time()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True)
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = time.time() - start
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    with open(os.path.join(directory, 'statistics.csv')) as f:
        rows = list(csv.DictReader(f))
    later = [r for r in rows if int(r['step']) >= 1]
    steps = int(rows[-1]['step'])
    per_step = ((float(later[-1]['wall_seconds']) - float(later[0]['wall_seconds'])) /
                max(1, int(later[-1]['step']) - int(later[0]['step']))) if len(later) > 1 else float('nan')
    iterations = [float(r['sinkhorn_iterations']) for r in rows if r.get('sinkhorn_iterations')]
    return dict(nodes=int(rows[-1]['dofs']), steps=steps, per_step=per_step, total=total, cpu_per_step=cpu / steps,
                iterations=sum(iterations) / max(1, len(iterations)),
                marginal=max(float(r['sinkhorn_max_marginal_error']) for r in rows),
                deviation=max(frobenius_deviation(r) for r in rows))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--tpde', default=os.path.join(ROOT, 'build', 'tpde'))
    parser.add_argument('--prm', default=os.path.join(ROOT, 'parameters', 'paper', 'e1-sinkhorn.prm'))
    parser.add_argument('--meshes', type=int, nargs='+', default=[20, 32])
    parser.add_argument('--end-time', type=float, default=0.05)
    parser.add_argument('--evaluations', nargs='+', default=['direct', 'fast'])
    parser.add_argument('--skip-direct-above', type=int, default=10 ** 9,
                        help='no direct run on meshes finer than this (too slow)')
    parser.add_argument('--set', action='append', default=[], help='more overrides, "Subsection/entry=value"')
    args = parser.parse_args()
    print('machine: ' + machine())
    print('threads: DEAL_II_NUM_THREADS=%s' % os.environ.get('DEAL_II_NUM_THREADS', '(unset)'))
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for mesh in args.meshes:
            for evaluation in args.evaluations:
                if evaluation == 'direct' and mesh > args.skip_direct_above:
                    continue
                directory = os.path.join(scratch, '%s-%d' % (evaluation, mesh))
                results[mesh, evaluation] = run(args.tpde, args.prm, mesh, evaluation, args.end_time, args.set,
                                                directory)
    print()
    print('s/step: wall seconds per step after the first; CPU s/step: CPU seconds of the whole run (all threads,')
    print('start-up and first step included) over the steps; speed-ups: direct over fast, wall (CPU).')
    print('| mesh | dofs | evaluation | steps | s/step | CPU s/step | iterations/evaluation | max marginal error | '
          'max cov. deviation from ODE | speed-up |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for (mesh, evaluation), r in sorted(results.items()):
        direct = results.get((mesh, 'direct'))
        speedup = '-'
        if direct and evaluation != 'direct':
            speedup = '%.1fx (%.1fx)' % (direct['per_step'] / r['per_step'], direct['cpu_per_step'] / r['cpu_per_step'])
        print('| %d^2 | %d | %s | %d | %.4g | %.4g | %.1f | %.2g | %.3g | %s |' % (
            mesh, r['nodes'], evaluation, r['steps'], r['per_step'], r['cpu_per_step'], r['iterations'],
            r['marginal'], r['deviation'], speedup))
    return 0


if __name__ == '__main__':
    sys.exit(main())
