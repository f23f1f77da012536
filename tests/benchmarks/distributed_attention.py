#!/usr/bin/env python3
"""Distributed fast summation: what a stage costs and exchanges, measured on
1 and 2 ranks, and a model of the time per stage for 64-1024 ranks.

For each mesh size it runs a parameter file (default T6,
gaussian-2d-isotropize.prm) with Attention/evaluation = fast three times:
one rank; two ranks with `fast summation across ranks = gathered` (every rank
gathers every source, today's path for direct sums); two ranks with
`distributed` (each rank keeps its own sources). With TPDE_FAST_PROFILE set,
tpde prints per evaluation (stage) and rank the collective calls and bytes
sent, the node evaluations of the shared tree and the seconds per phase; the
script prints their means per stage, the wall time, and how far the two-rank
moments are from the one-rank run's.

The model (per stage, p ranks, N sources = nodes, M targets):
  distributed: K (N/p) t_pair + T_rest (2/p) + calls * alpha * ceil(log2 p)
               + bytes * beta * ceil(log2 p)
  gathered:    K' N t_pair' + T_rest (2/p) + alpha * ceil(log2 p) + 8 N beta
K, K' node evaluations per stage of the distributed tree and of one rank's
own tree (they follow the smoothness of the sums, not N); t_pair the measured
seconds per node-source pair; T_rest the rest of the measured stage on two
ranks (scales with the targets per rank); calls and bytes as measured
(recursive doubling: ceil(log2 p) rounds); alpha = 2 us per message and beta
= 0.1 ns per byte (10 GB/s) are ASSUMED network figures, not measurements.

  /usr/bin/python3 tests/benchmarks/distributed_attention.py --tpde build/tpde
"""
import argparse
import csv
import math
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))

ALPHA = 2e-6  # s per message (assumed)
BETA = 1e-10  # s per byte (assumed, 10 GB/s)


def run(tpde, prm, ranks, mode, subdivisions, end_time, out):
    command = [tpde, "run", prm, "--quiet", "--set", "Attention/evaluation=fast",
               "--set", f"Attention/fast summation across ranks={mode}",
               "--set", f"Mesh/subdivisions={subdivisions}",
               "--set", f"Time stepping/end time={end_time}",
               "--set", f"Output/directory={out}"]
    if ranks > 1:
        command = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                   "-np", str(ranks)] + command
    env = dict(os.environ, TPDE_FAST_PROFILE="1", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    if ranks > 1:
        env["DEAL_II_NUM_THREADS"] = "1"  # one core per rank on this 2-core machine
    start = time.monotonic()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.monotonic() - start
    if result.returncode != 0:
        sys.exit(f"distributed_attention.py: {' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return wall, result.stderr


def parse(log):
    """Means per stage (rank 0's lines) of what tpde printed."""
    exchanged = [(int(c), float(b), int(s)) for c, b, s in re.findall(
        r"distributed attention, rank 0: (\d+) collective calls, (\d+) bytes sent, (\d+) sources here", log)]
    phases = [dict(zip(("setup", "nodes", "coefficients", "targets", "direct", "split"), map(float, m)))
              for m in re.findall(r"fast summation profile \[s\]: setup ([\d.]+) nodes ([\d.]+) coefficients "
                                  r"([\d.]+) targets ([\d.]+) direct ([\d.]+) split ([\d.]+)", log)]
    nodes = [int(n) for n in re.findall(r"(\d+) local node evaluations", log)]
    nodes += [int(n) for n in re.findall(r"split; (\d+) node evaluations", log)]
    mean = lambda xs: sum(xs) / len(xs) if xs else float("nan")
    return {
        "stages": len(exchanged),
        "calls": mean([e[0] for e in exchanged]),
        "bytes": mean([e[1] for e in exchanged]),
        "sources_here": mean([e[2] for e in exchanged]),
        "node_evaluations": mean(nodes),
        "node_seconds": mean([p["nodes"] for p in phases]),
        "rest_seconds": mean([sum(p.values()) - p["nodes"] for p in phases]),
        "profiles": len(phases),
    }


def final_moments(out):
    with open(os.path.join(out, "statistics.csv")) as f:
        rows = list(csv.DictReader(f))
    return {k: float(v) for k, v in rows[-1].items() if k.startswith(("mean_", "cov_"))}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tpde", required=True)
    parser.add_argument("--prm", default=os.path.join(SOURCE, "parameters", "gaussian-2d-isotropize.prm"))
    parser.add_argument("--subdivisions", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--end-time", type=float, default=0.05)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}; {args.prm}, end time {args.end_time}")
    print(f"{'cells':>7} {'ranks':>5} {'sources':>11} {'wall s':>7} {'stages':>6} {'calls/st':>8} "
          f"{'bytes/st':>9} {'nodes/st':>9} {'node s/st':>9} {'rest s/st':>9} {'|moments - np1|':>15}")
    with tempfile.TemporaryDirectory() as scratch:
        for n in args.subdivisions:
            runs = {}
            for ranks, mode in ((1, "distributed"), (2, "gathered"), (2, "distributed")):
                out = os.path.join(scratch, f"{n}-{ranks}-{mode}")
                wall, log = run(args.tpde, args.prm, ranks, mode, n, args.end_time, out)
                runs[(ranks, mode)] = (wall, parse(log), final_moments(out))
            reference = runs[(1, "distributed")][2]
            for (ranks, mode), (wall, figures, moments) in runs.items():
                difference = max(abs(moments[k] - reference[k]) for k in reference)
                label = "1" if ranks == 1 else f"2 {mode[:4]}"
                print(f"{n:>4}^2 {label:>8} {figures['sources_here']:>11.0f} {wall:>7.2f} {figures['stages']:>6} "
                      f"{figures['calls']:>8.1f} {figures['bytes']:>9.0f} {figures['node_evaluations']:>9.0f} "
                      f"{figures['node_seconds']:>9.4f} {figures['rest_seconds']:>9.4f} {difference:>15.2e}")
            model(n, runs)


def model(n, runs):
    """Time per stage for 64-1024 ranks from the two-rank figures (see the top)."""
    _, dist, _ = runs[(2, "distributed")]
    _, serial, _ = runs[(1, "distributed")]
    sources = 2 * dist["sources_here"]
    # Profile lines: one per rank and stage; nodes of the distributed tree per stage on each rank.
    t_pair = dist["node_seconds"] / (dist["node_evaluations"] * dist["sources_here"])
    t_pair_serial = serial["node_seconds"] / (serial["node_evaluations"] * sources)
    print(f"  model for {n}^2 cells' tree: K = {dist['node_evaluations']:.0f} nodes, t_pair = {t_pair * 1e9:.2f} ns "
          f"(each rank's node sums; factorised where its sources allow); one rank's own tree K' = {serial['node_evaluations']:.0f}, "
          f"t_pair' = {t_pair_serial * 1e9:.2f} ns (factorised grids)")
    print(f"  {'sources N':>10} {'ranks':>6} {'distributed s':>14} {'of it network':>14} {'gathered s':>11}")
    for N in (1e6, 1e7, 1e8):
        for p in (64, 256, 1024):
            rounds = math.ceil(math.log2(p))
            network = dist["calls"] * ALPHA * rounds + dist["bytes"] * BETA * rounds
            rest = dist["rest_seconds"] * 2 / p * N / sources
            distributed = dist["node_evaluations"] * N / p * t_pair + rest + network
            gathered = serial["node_evaluations"] * N * t_pair_serial + rest + ALPHA * rounds + 8 * N * BETA
            print(f"  {N:>10.0e} {p:>6} {distributed:>14.4f} {network:>14.4f} {gathered:>11.4f}")


if __name__ == "__main__":
    main()
