#!/usr/bin/python3
"""`Attention/evaluation = auto` against direct and fast on the cases of issue 17.

Each case runs with evaluation = direct, fast and auto (short end times, so the whole table takes
a few minutes on 2 cores) and the table gives the CPU time (user + sys of the process: the machine
is shared, so wall time is noisy) of each, the ratio auto / best, what auto chose (the
`fast_share` column of the last statistics row: the share of the last evaluation's targets
summed by interpolation; 0 = direct sums) and how far auto's final moments (mean_*, cov_*) are
from those of direct and of fast (relative to the largest): ~1e-16 for the path it took.

    /usr/bin/python3 tests/benchmarks/auto_choice.py --tpde build/tpde [--repeats 1]
        [--case default,T6,3D,particles1e3,particles1e4,particles1e5]

The time of a case is the minimum over the repeats (the least disturbed run).
"""
import argparse
import csv
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# name: (command, parameter file, --set overrides)
CASES = {
    'default': ('run', 'parameters/default.prm', {'Time stepping/end time': 0.2}),
    'T6': ('run', 'parameters/gaussian-2d-isotropize.prm', {'Time stepping/end time': 0.25}),
    '3D': ('run', 'parameters/isotropize-3d-adaptive.prm', {'Time stepping/end time': 0.04}),
    'particles1e3': ('particles', 'parameters/default.prm',
                     {'Particles/number of tokens': 1000, 'Time stepping/end time': 0.05}),
    'particles1e4': ('particles', 'parameters/default.prm',
                     {'Particles/number of tokens': 10000, 'Time stepping/end time': 0.02}),
    'particles1e5': ('particles', 'parameters/default.prm',
                     {'Particles/number of tokens': 100000, 'Time stepping/end time': 0.01}),
}


def machine():
    model = ''
    flags = ''
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name') and not model:
                model = line.split(':', 1)[1].strip()
            if line.startswith('flags') and not flags:
                flags = line
    simd = 'AVX-512' if 'avx512f' in flags else 'AVX2' if 'avx2' in flags else 'SSE'
    return f'{model or platform.processor()}, {os.cpu_count()} cores, {simd}'


def command(tpde, case, evaluation, folder):
    kind, prm, overrides = CASES[case]
    settings = dict(overrides)
    settings.update({'Attention/evaluation': evaluation, 'Output/interval': 0,
                     'Output/directory': folder})
    if kind == 'run':
        settings['Output/write vtu'] = 'false'
    else:
        settings['Particles/directory'] = folder
        settings['Particles/time step'] = 0.01
    args = [tpde, kind, os.path.join(ROOT, prm), '--quiet', '--overwrite']
    for key, value in settings.items():
        args += ['--set', f'{key}={value}']
    return args


def run(args, folder):
    """CPU seconds of the child, wall seconds and the last statistics row."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, cwd=folder)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(os.path.join(folder, 'statistics.csv')) as f:
        rows = list(csv.DictReader(f))
    return cpu, wall, rows[-1]


def difference(row, other):
    """Largest relative difference of the moments (mean_*, cov_*) of two last rows."""
    keys = [k for k in row if k.startswith(('mean_', 'cov_'))]
    scale = max(abs(float(row[k])) for k in keys)
    return max(abs(float(row[k]) - float(other[k])) for k in keys) / scale


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--tpde', default=os.path.join(ROOT, 'build', 'tpde'))
    parser.add_argument('--repeats', type=int, default=1)
    parser.add_argument('--case', default=','.join(CASES))
    options = parser.parse_args()
    tpde = os.path.abspath(options.tpde)
    print(f'# {machine()}, load average at start {os.getloadavg()[0]:.2f}')
    print(f'# e.g. {" ".join(command(tpde, "T6", "auto", "OUT"))}')
    print('case          cpu direct  cpu fast  cpu auto  auto/best  fast_share(auto)  vs direct  vs fast'
          '  wall d/f/a  load')
    for case in options.case.split(','):
        cpu, wall, rows = {}, {}, {}
        for evaluation in ('direct', 'fast', 'auto'):
            for _ in range(options.repeats):
                with tempfile.TemporaryDirectory() as folder:
                    c, w, rows[evaluation] = run(command(tpde, case, evaluation, folder), folder)
                if c < cpu.get(evaluation, float('inf')):
                    cpu[evaluation], wall[evaluation] = c, w
        ratio = cpu['auto'] / min(cpu['direct'], cpu['fast'])
        share = float(rows['auto'].get('fast_share', 'nan'))
        print(f'{case:13s} {cpu["direct"]:10.2f} {cpu["fast"]:9.2f} {cpu["auto"]:9.2f} {ratio:10.2f}'
              f'  {share:16.3f}  {difference(rows["auto"], rows["direct"]):9.1e}'
              f'  {difference(rows["auto"], rows["fast"]):7.1e}'
              f'  {wall["direct"]:.1f}/{wall["fast"]:.1f}/{wall["auto"]:.1f}'
              f'  {os.getloadavg()[0]:.2f}', flush=True)


if __name__ == '__main__':
    sys.exit(main())
