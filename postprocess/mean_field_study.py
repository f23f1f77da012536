#!/usr/bin/python3
"""Mean-field study: how fast do N tokens approach the PDE?

    postprocess/mean_field_study.py [BUILD] [OUT] [PRM] [MAX_N] [MIN_SEEDS] [--levels N:seeds,...]
    (defaults: build output/mean-field parameters/gaussian-1d-collapse.prm 100000 1)
    postprocess/mean_field_study.py --self-test [BUILD]

Runs the grid solver once (PRM, written at the initial and the final time), then the particle solver with
i.i.d. tokens (Particles/sampling = random, time step 0.1) for N = 10^2, 10^2.5, ..., MAX_N and several
seeds (fewer for large N, whose runs cost N^2 and fluctuate less; at least MIN_SEEDS), compares each final
state with the grid run (tpde.compare, as tpde-compare: exact W1 in 1D, w1_circle on the circle, sliced W2
in 2D/3D), averages over the seeds, fits the slope of log(distance) against log(N) by least squares and
plots both. Writes OUT/mean_field.csv (N, seeds, distance, seconds_per_step) and OUT/mean_field.png, and
prints the slope. Everything runs in this process through the tpde Python module of BUILD
(BUILD/python), the same components as `tpde run`, `tpde particles` and `tpde-compare`.

The circle: PRM = parameters/circle-kuramoto.prm (T12 at t = 4); its attention goes through the 2D
kernel, whose fast summation (`evaluation = auto`) takes over at large N, so MIN_SEEDS = 8 is affordable there.

Exit codes: 0 written; 2 bad input (one line on stderr); 1 internal error.
"""
import csv
import math
import os
import shutil
import tempfile

import tpde_module
from tpde_module import ArgumentParser, InputError, exit_with

PROGRAM = "mean_field_study.py"
# N and the number of seeds at that N.
LEVELS = ((100, 32), (316, 16), (1000, 8), (3162, 4), (10000, 3), (31623, 2), (100000, 1))


def parse_arguments(argv):
    parser = ArgumentParser(PROGRAM, __doc__)
    parser.add_argument("build", nargs="?", help="build folder (default: $TPDE_BUILD or build/)")
    parser.add_argument("out", nargs="?", default="output/mean-field")
    parser.add_argument("prm", nargs="?", default=os.path.join(tpde_module.ROOT, "parameters",
                                                               "gaussian-1d-collapse.prm"))
    parser.add_argument("max_n", nargs="?", default="100000")
    parser.add_argument("min_seeds", nargs="?", default="1")
    parser.add_argument("--levels", help="N:seeds pairs instead of the default ladder, e.g. 100:4,400:2")
    parser.add_argument("--self-test", action="store_true")
    return parser.parse_args(argv)


def positive_int(text, what):
    try:
        value = int(float(text))
        if value < 1 or value != float(text):
            raise ValueError
        return value
    except (ValueError, OverflowError):
        raise InputError("%s: expected a positive integer, got '%s'" % (what, text))


def levels_of(args):
    if not args.levels:
        pairs = LEVELS
    else:
        try:
            pairs = [tuple(positive_int(x, "--levels") for x in item.split(":")) for item in args.levels.split(",")]
        except InputError:
            raise InputError("--levels: expected N:seeds pairs like 100:4,400:2, got '%s'" % args.levels)
        if any(len(p) != 2 for p in pairs):
            raise InputError("--levels: expected N:seeds pairs like 100:4,400:2, got '%s'" % args.levels)
    max_n, min_seeds = positive_int(args.max_n, "MAX_N"), positive_int(args.min_seeds, "MIN_SEEDS")
    chosen = [(n, max(seeds, min_seeds)) for n, seeds in pairs if n <= max_n]
    if len(chosen) < 2:
        raise InputError("MAX_N = %d leaves fewer than two token counts to fit a slope" % max_n)
    return chosen


def final_distance(tpde, grid, particles):
    """The distance of the last shared output time (w1, w1_circle or sliced_w2) and its name."""
    table = tpde.compare(grid, particles)
    name = [c for c in ("w1", "w1_circle", "sliced_w2") if c in table][0]
    return float(table[name][-1]), name


def fit_slope(ns, distances):
    """Least-squares slope and intercept of log(distance) against log(N)."""
    import numpy as np
    slope, intercept = np.polyfit(np.log(ns), np.log(distances), 1)
    return float(slope), float(intercept)


def plot(path, prm, ns, distances, slope, intercept):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    x = np.geomspace(min(ns), max(ns), 50)
    fig, ax = plt.subplots(figsize=(9, 6.4))
    ax.loglog(ns, distances, "o", ms=8, label="particles vs grid")
    ax.loglog(x, math.exp(intercept) * x ** slope, lw=2, label="fit: slope %.3f" % slope)
    ax.loglog(x, math.exp(intercept) * ns[0] ** (slope + 0.5) * x ** -0.5, "--", label="N^(-1/2)")
    ax.set_xlabel("tokens N")
    ax.set_ylabel("distance to the grid solution at the end time (mean over seeds)")
    ax.set_title("Mean-field convergence: " + os.path.basename(prm))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.savefig(path + ".tmp.png", dpi=100)
    plt.close(fig)
    os.replace(path + ".tmp.png", path)


def study(tpde, prm, out, levels, report=print):
    """Runs the study; returns the rows (N, seeds, distance, seconds per step) and the fitted slope."""
    grid = tpde.run(prm, set={"Output/interval": 0}, output=os.path.join(out, "grid"))
    rows = []
    for n, seeds in levels:
        distances, seconds = [], []
        for seed in range(1, seeds + 1):
            run = tpde.particles(prm, output=os.path.join(out, "runs", "N%d-seed%d" % (n, seed), "particles"),
                                 set={"Output/directory": os.path.join(out, "runs", "N%d-seed%d" % (n, seed)),
                                      "Output/interval": 0, "Particles/number of tokens": n,
                                      "Particles/seed": seed, "Particles/sampling": "random",
                                      "Particles/time step": 0.1})
            distance, name = final_distance(tpde, grid, run)
            distances.append(distance)
            seconds.append(run.summary["wall_seconds"] / max(1, run.summary["steps"]))
        rows.append((n, seeds, sum(distances) / seeds, sum(seconds) / seeds))
        report("N = %d  seeds = %d  mean %s = %.6e  (%.3g s per step)" % (n, seeds, name, rows[-1][2], rows[-1][3]))
    slope, intercept = fit_slope([r[0] for r in rows], [r[2] for r in rows])
    table = os.path.join(out, "mean_field.csv")
    with open(table + ".tmp", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["N", "seeds", "distance", "seconds_per_step"])
        writer.writerows([[n, s, "%.6e" % d, "%.6g" % t] for n, s, d, t in rows])
    os.replace(table + ".tmp", table)
    plot(os.path.join(out, "mean_field.png"), prm, [r[0] for r in rows], [r[2] for r in rows], slope, intercept)
    report("fitted slope of log(distance) against log(N): %.4f" % slope)
    report("wrote %s and %s" % (table, os.path.join(out, "mean_field.png")))
    return rows, slope


def main(argv):
    args = parse_arguments(argv)
    if args.self_test:
        return self_test(args.build)
    if not os.path.isfile(args.prm):
        raise InputError("parameter file '%s' not found" % args.prm)
    levels = levels_of(args)
    tpde = tpde_module.load(args.build)
    tpde_module.output_folder(args.out)
    print("== grid run and particle runs of %s (N = %s)" % (args.prm, ", ".join(str(n) for n, _ in levels)))
    tpde_module.solver_errors_as_input(tpde, study, tpde, args.prm, args.out, levels)
    return 0


def self_test(build):
    """T1 (1D Gaussian collapse) at N = 200..3200: the i.i.d. law gives a W1 slope near -1/2; bad input."""
    tpde = tpde_module.load(build)
    prm = os.path.join(tpde_module.ROOT, "parameters", "gaussian-1d-collapse.prm")
    folder = tempfile.mkdtemp(prefix="tpde-mean-field-")
    try:
        rows, slope = study(tpde, prm, folder, [(200, 12), (800, 6), (3200, 3)], report=lambda line: None)
        # W1 of N i.i.d. tokens decays like N^-1/2; three levels and a few seeds fit it to about +-0.15.
        assert -0.7 < slope < -0.3, slope
        assert all(0 < d < 0.2 for _, _, d, _ in rows), rows
        with open(os.path.join(folder, "mean_field.csv")) as f:
            table = list(csv.DictReader(f))
        assert [int(r["N"]) for r in table] == [200, 800, 3200] and float(table[0]["distance"]) == \
            float("%.6e" % rows[0][2]), table
        assert os.path.getsize(os.path.join(folder, "mean_field.png")) > 10000
        for bad, expected in ((["/", folder, "/nonexistent.prm"], "not found"),
                              (["/", folder, prm, "150"], "fewer than two"),
                              (["/", folder, prm, "1e5", "0"], "MIN_SEEDS"),
                              (["/", folder, prm, "inf"], "MAX_N"),
                              (["/", folder, prm, "--levels", "100-3"], "--levels")):
            try:
                main(bad)
                raise AssertionError("accepted %s" % bad)
            except InputError as e:
                assert expected in str(e), (str(e), expected)
        print("mean_field_study.py self-test passed: slope %.3f over N = 200, 800, 3200" % slope)
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    exit_with(main, PROGRAM)
