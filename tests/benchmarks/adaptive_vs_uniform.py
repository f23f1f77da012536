#!/usr/bin/env python3
"""Adaptive versus uniform meshes on the Gaussian cases with exact solutions.

Runs an adaptive parameter file, then the same file on uniform meshes of
increasing size (adaptivity off, `Mesh/subdivisions = N`), and prints the
two side by side: relative moment errors at the end time, cells at the end
time and wall time. The uniform mesh "that reaches the same error" is the
smallest N of the sweep whose errors are all at or below the adaptive run's.

  python3 tests/benchmarks/adaptive_vs_uniform.py --tpde build/tpde \
      parameters/collapse-1d-adaptive.prm --uniform 140 150 160 165 170 180

Errors: 1D, the mean and the variance; 2D/3D, every covariance eigenvalue
(relative to the exact ones, the ref_* columns of statistics.csv).
"""
import argparse
import csv
import math
import os
import subprocess
import sys
import tempfile
import time


def eigenvalues(c):
    """Eigenvalues of a small symmetric matrix (Jacobi rotations)."""
    n = len(c)
    a = [row[:] for row in c]
    for _ in range(100):
        off = max((abs(a[i][j]), i, j) for i in range(n) for j in range(n) if i < j) if n > 1 else (0, 0, 0)
        if off[0] < 1e-300:
            break
        _, p, q = off
        theta = 0.5 * math.atan2(2 * a[p][q], a[q][q] - a[p][p])
        cs, sn = math.cos(theta), math.sin(theta)
        for k in range(n):
            akp, akq = a[k][p], a[k][q]
            a[k][p], a[k][q] = cs * akp - sn * akq, sn * akp + cs * akq
        for k in range(n):
            apk, aqk = a[p][k], a[q][k]
            a[p][k], a[q][k] = cs * apk - sn * aqk, sn * apk + cs * aqk
    return sorted(a[i][i] for i in range(n))


def final_errors(statistics):
    with open(statistics) as f:
        row = list(csv.DictReader(f))[-1]
    dim = sum(1 for k in row if k.startswith("mean_"))
    cov = [[float(row[f"cov_{i}{j}"]) for j in range(dim)] for i in range(dim)]
    ref = [[float(row[f"ref_cov_{i}{j}"]) for j in range(dim)] for i in range(dim)]
    errors = {}
    if dim == 1:
        errors["mean"] = abs(float(row["mean_0"]) / float(row["ref_mean_0"]) - 1)
        errors["variance"] = abs(cov[0][0] / ref[0][0] - 1)
    else:
        for i, (e, r) in enumerate(zip(eigenvalues(cov), eigenvalues(ref))):
            errors[f"eig{i}"] = abs(e / r - 1)
    mass_defect = abs(float(row["mass"]) + float(row["outflow"]) - 1)
    return errors, int(row["cells"]), float(row["time"]), mass_defect


def run(tpde, prm, overrides, folder):
    command = [tpde, "run", prm, "--quiet", "--overwrite", "--set", f"Output/directory={folder}",
               "--set", "Output/write vtu=false"]
    for o in overrides:
        command += ["--set", o]
    start = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    wall = time.monotonic() - start
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(command)}\n{result.stderr}")
    return final_errors(os.path.join(folder, "statistics.csv")) + (wall,)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prm", help="adaptive parameter file")
    parser.add_argument("--tpde", default="build/tpde")
    parser.add_argument("--uniform", type=int, nargs="+", required=True,
                        help="coarse subdivisions per direction of the uniform meshes, ascending")
    parser.add_argument("--set", action="append", default=[], help="extra overrides for every run")
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="tpde-adaptive-vs-uniform-")
    adaptive = run(args.tpde, args.prm, args.set, os.path.join(scratch, "adaptive"))
    names = list(adaptive[0])
    header = f"{'run':<16}{'cells':>8}" + "".join(f"{n:>12}" for n in names) + f"{'mass def.':>11}{'wall s':>9}"
    print(f"{args.prm} to t = {adaptive[2]:g}; relative errors at the end time")
    print(header)

    def line(label, r):
        errors, cells, _, defect, wall = r
        return f"{label:<16}{cells:>8}" + "".join(f"{errors[n]:>12.2e}" for n in names) + f"{defect:>11.1e}{wall:>9.1f}"

    print(line("adaptive", adaptive))
    matched = None
    for n in args.uniform:
        r = run(args.tpde, args.prm,
                args.set + ["Mesh refinement/adaptive=false", f"Mesh/subdivisions={n}", "Mesh/global refinements=0"],
                os.path.join(scratch, f"uniform-{n}"))
        print(line(f"uniform {n}", r))
        if matched is None and all(r[0][k] <= adaptive[0][k] for k in names):
            matched = r
            break
    if matched is None:
        print("no uniform mesh of the sweep reaches the adaptive errors")
    else:
        print(f"smallest uniform mesh with errors <= adaptive: {matched[1]} cells; "
              f"adaptive uses {adaptive[1]} cells: {matched[1] / adaptive[1]:.2f}x fewer")


if __name__ == "__main__":
    main()
