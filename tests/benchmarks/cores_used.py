#!/usr/bin/env python3
"""Cores a grid run keeps busy: process CPU time / wall time of `tpde run`.

Runs a parameter file (default: T6, gaussian-2d-isotropize.prm, 32^2 Q2 cells,
t = 1) with fast sums (Attention/evaluation = fast) for each --tpde binary,
`--repeat` times, with DEAL_II_NUM_THREADS = each of --threads, and prints the
median wall time, CPU time (user + system of the process and its threads) and
their ratio. With --bench-limiter (build/bench_limiter) it also prints the
positivity limiter's DoF/s with 1 and 2 threads on the same mesh. The issue's
goal: >= 1.8 cores on 2 with fast sums.

  python3 tests/benchmarks/cores_used.py --tpde build/tpde --bench-limiter build/bench_limiter

Compare two builds (e.g. before and after threading the limiter, transport
and statistics) with --tpde OLD --tpde NEW. The machine may be shared: the
load average before each run is printed, medians are reported.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))


def timed_run(command, env):
    """Wall and CPU seconds (user + sys of the child) of one command."""
    start = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - start
    err = process.stderr.read().decode()
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"cores_used.py: {' '.join(command)} failed:\n{err}")
    return wall, usage.ru_utime + usage.ru_stime


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    return f"{os.cpu_count()} logical CPUs, {model}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tpde", action="append", required=True, help="tpde binary (repeatable)")
    parser.add_argument("--bench-limiter", help="bench_limiter binary (its DoF/s with 1 and 2 threads)")
    parser.add_argument("--file", default=os.path.join(SOURCE, "parameters", "gaussian-2d-isotropize.prm"))
    parser.add_argument("--set", action="append", default=[], help="extra Subsection/entry=value")
    parser.add_argument("--threads", type=int, nargs="+", default=[2])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    overrides = ["Attention/evaluation=fast", "Output/write vtu=false"] + args.set
    print("command:", " ".join(sys.argv))
    print("machine:", machine())
    print("file:", args.file, "| " + " | ".join(overrides))
    print(f"{'binary':40s} {'threads':>7s} {'wall s':>8s} {'cpu s':>8s} {'cores':>6s}   (median of {args.repeat}; loads)")
    for binary in args.tpde:
        for threads in args.threads:
            env = dict(os.environ, DEAL_II_NUM_THREADS=str(threads))
            walls, cpus, ratios, loads = [], [], [], []
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory() as out:
                    command = [binary, "run", args.file, "--quiet"]
                    for o in overrides + [f"Output/directory={out}/run"]:
                        command += ["--set", o]
                    loads.append(os.getloadavg()[0])
                    wall, cpu = timed_run(command, env)
                walls.append(wall)
                cpus.append(cpu)
                ratios.append(cpu / wall)
            print(f"{binary:40s} {threads:7d} {statistics.median(walls):8.2f} {statistics.median(cpus):8.2f} "
                  f"{statistics.median(ratios):6.2f}   ({', '.join(f'{l:.1f}' for l in loads)})")

    if args.bench_limiter:
        sets = []
        for o in args.set:
            sets += ["--set", o]
        for threads in (1, 2):
            env = dict(os.environ, DEAL_II_NUM_THREADS=str(threads))
            rates, line = [], ""
            for _ in range(args.repeat):
                line = subprocess.run([args.bench_limiter, args.file, "100"] + sets, env=env, check=True,
                                      capture_output=True, text=True).stdout.strip()
                rates.append(float(re.search(r"dof/s (\S+)", line).group(1)))
            print(f"limiter, {threads} thread(s): median {statistics.median(rates):.3e} DoF/s "
                  f"(runs: {', '.join(f'{r:.2e}' for r in rates)}; {line.split(' threads')[0]})")


if __name__ == "__main__":
    main()
