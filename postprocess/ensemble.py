#!/usr/bin/python3
"""Runs one parameter file over noise seeds and writes the mean and spread of every statistics column.

    postprocess/ensemble.py FILE.prm [--seeds 8 | --seeds 1,5,9] [--set Subsection/entry=value ...]
                            [--build build] [--out DIR] [--particles] [--columns a,b,...]

Each seed s is one run of FILE with Noise/seed = s (with --particles: of the particle solver) into
DIR/seed_<s> (Output/write vtu = false; --set entries are passed on), in this process through the tpde
Python module of the build folder (BUILD/python; postprocess/tpde_module.py finds it). Over the seeds,
at the times that every run's statistics.csv holds (the output times and, with common noise, the path nodes at which the
grid cuts its steps: the steps between them differ from path to path), the script writes DIR/ensemble.csv with the column `time` and, for every other column c,
c_mean, c_std (population standard deviation over the seeds), c_min and c_max; and DIR/ensemble.png:
for each chosen column (--columns; default mean_0 and, when present, order_parameter) the mean, the band
mean +- std, min and max, and every seed's run thinly.

Exit codes: 0 written; 2 bad input (missing file, bad option, a run that fails, no common times): one
line on stderr; 1 internal error. Needs numpy, matplotlib (Agg, headless) and the built module.
    postprocess/ensemble.py --self-test [--build build]   # checks itself on a short circle run
"""
import csv
import os
import shutil
import tempfile

import tpde_module
from tpde_module import ArgumentParser, InputError, exit_with

PROGRAM = "ensemble.py"


def parse_arguments(argv):
    parser = ArgumentParser(PROGRAM, __doc__)
    parser.add_argument("prm", nargs="?", metavar="FILE.prm")
    parser.add_argument("--seeds", default="8", help="a count n (seeds 1..n) or a list 1,5,9")
    parser.add_argument("--set", action="append", default=[], metavar="ENTRY=VALUE", help="passed to tpde")
    parser.add_argument("--build", help="the build folder whose python/ holds the tpde module "
                        "(default: $TPDE_BUILD or the source tree's build/)")
    parser.add_argument("--tpde", help="the tpde executable: its folder is the build folder (as --build)")
    parser.add_argument("--out", default="output/ensemble", help="output folder")
    parser.add_argument("--particles", action="store_true", help="run `tpde particles` instead of the grid")
    parser.add_argument("--columns", default="", help="columns to plot, separated by ','")
    parser.add_argument("--self-test", action="store_true")
    return parser.parse_args(argv)


def seeds_of(text):
    try:
        if "," not in text:
            n = int(text)
            if n < 1:
                raise ValueError
            return list(range(1, n + 1))
        seeds = [int(s) for s in text.split(",")]
        if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
            raise ValueError
        return seeds
    except ValueError:
        raise InputError("--seeds: expected a positive count or a list of distinct seeds >= 0 like 1,5,9, got '%s'"
                         % text)


def run_seed(tpde, args, seed, folder):
    """Runs one seed through the module; returns its statistics {column: array}."""
    entries = {"Noise/seed": seed, "Output/write vtu": False, "Output/directory": folder}
    try:
        entries.update(tpde_module.overrides(args.set))  # the user's entries last, as on the command line
    except ValueError as e:
        raise InputError(str(e))
    try:
        if args.particles:
            run = tpde.particles(args.prm, set=entries, output=os.path.join(folder, "particles"))
        else:
            run = tpde.run(args.prm, set=entries, output=folder)
    except tpde.InputError as e:
        raise InputError("seed %d: %s" % (seed, e))
    except tpde.PhysicalFailure as e:
        raise InputError("seed %d: the run stopped: %s" % (seed, e))
    return run.statistics


def read_table(statistics):
    """(header, {time key: row of floats}) of a run's statistics; the time key is the time rounded to 1e-9."""
    header = list(statistics)
    columns = [statistics[name] for name in header]
    return header, {round(float(t), 9): [float(c[i]) for c in columns]
                    for i, t in enumerate(statistics["time"])}


def ensemble(tables):
    """Header and rows of the ensemble CSV from the per-seed tables (same header)."""
    import numpy as np
    header = tables[0][0]
    for h, _ in tables[1:]:
        if h != header:
            raise InputError("the runs' statistics.csv have different columns")
    times = sorted(set.intersection(*[set(rows) for _, rows in tables]))
    if not times:
        raise InputError("the runs share no time (expected output times common to all seeds)")
    data = np.array([[rows[t] for t in times] for _, rows in tables])  # seeds x times x columns
    at = header.index("time")
    out_header, columns = ["time"], [np.array(times)]
    for c, name in enumerate(header):
        if c == at:
            continue
        values = data[:, :, c]
        for suffix, statistic in (("mean", values.mean(axis=0)), ("std", values.std(axis=0)),
                                  ("min", values.min(axis=0)), ("max", values.max(axis=0))):
            out_header.append("%s_%s" % (name, suffix))
            columns.append(statistic)
    return out_header, np.array(columns).T, times, data, header


def plot(path, chosen, times, data, header):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    fig, axes = plt.subplots(len(chosen), 1, figsize=(9, 3.2 * len(chosen)), squeeze=False)
    for ax, name in zip(axes[:, 0], chosen):
        values = data[:, :, header.index(name)]
        mean, std = values.mean(axis=0), values.std(axis=0)
        for run in values:
            ax.plot(times, run, color="0.75", lw=0.6)
        ax.fill_between(times, mean - std, mean + std, color="C0", alpha=0.25, label="mean +- std")
        ax.plot(times, mean, color="C0", label="mean over %d seeds" % len(values))
        ax.plot(times, values.min(axis=0), "C1--", lw=0.8, label="min, max")
        ax.plot(times, values.max(axis=0), "C1--", lw=0.8)
        ax.set_ylabel(name)
        ax.legend(fontsize=8)
    axes[-1, 0].set_xlabel("time")
    fig.tight_layout()
    fig.savefig(path + ".tmp.png", dpi=100)
    plt.close(fig)
    os.replace(path + ".tmp.png", path)


def main(argv):
    args = parse_arguments(argv)
    build = args.build or (os.path.dirname(os.path.abspath(args.tpde)) if args.tpde else None)
    if args.self_test:
        return self_test(build)
    if not args.prm or not os.path.isfile(args.prm):
        raise InputError("'%s': no such parameter file" % args.prm)
    seeds = seeds_of(args.seeds)
    tpde = tpde_module.load(build)
    tpde_module.output_folder(args.out)
    tables = [read_table(run_seed(tpde, args, s, os.path.join(args.out, "seed_%d" % s))) for s in seeds]
    out_header, rows, times, data, header = ensemble(tables)
    chosen = [c for c in args.columns.split(",") if c] or \
        [c for c in ("mean_0", "order_parameter") if c in header]
    for c in chosen:
        if c not in header or c == "time":
            raise InputError("--columns: no column '%s' in statistics.csv" % c)
    target = os.path.join(args.out, "ensemble.csv")
    with open(target + ".tmp", "w", newline="") as f:  # written whole, then renamed: never half a file
        writer = csv.writer(f)
        writer.writerow(out_header)
        writer.writerows([[repr(float(x)) for x in row] for row in rows])
    os.replace(target + ".tmp", target)
    plot(os.path.join(args.out, "ensemble.png"), chosen, times, data, header)
    print("%d seeds, %d common times: %s" % (len(seeds), len(times), os.path.join(args.out, "ensemble.csv")))
    return 0


def self_test(build):
    """A short circle run over 3 seeds: the CSV against the per-seed files, the physics, bad input."""
    import math
    here = os.path.dirname(os.path.abspath(__file__))
    prm = os.path.join(here, "..", "parameters", "common-noise-circle.prm")
    folder = tempfile.mkdtemp(prefix="tpde-ensemble-")
    try:
        build_option = ["--build", build] if build else []
        status = main([prm, "--seeds", "3,4,7", "--out", folder, *build_option,
                       "--set", "Time stepping/end time=0.5", "--set", "Output/interval=0.25"])
        assert status == 0
        with open(os.path.join(folder, "ensemble.csv")) as f:
            table = list(csv.DictReader(f))
        # The grid's steps end on the path nodes (2^-8 apart), the same for every seed, and on the outputs.
        times = [float(r["time"]) for r in table]
        assert times == [j / 256 for j in range(129)], times[:5]
        per_seed = []
        for s in (3, 4, 7):
            with open(os.path.join(folder, "seed_%d" % s, "statistics.csv")) as f:
                per_seed.append({round(float(r["time"]), 9): r for r in csv.DictReader(f)})
        for row in table:
            t = round(float(row["time"]), 9)
            for name in ("mean_0", "mean_1", "order_parameter", "mass"):
                values = [float(p[t][name]) for p in per_seed]
                mean = sum(values) / 3
                std = math.sqrt(sum((v - mean) ** 2 for v in values) / 3)
                for suffix, expected in (("mean", mean), ("std", std), ("min", min(values)), ("max", max(values))):
                    got = float(row["%s_%s" % (name, suffix)])
                    assert abs(got - expected) <= 1e-14 * max(1, abs(expected)), (name, suffix, got, expected)
        last = table[-1]
        # Different paths rotate the phase differently, but never the order parameter (rigid rotation).
        assert float(last["mean_0_std"]) > 1e-3, last["mean_0_std"]
        assert float(last["order_parameter_std"]) < 1e-6, last["order_parameter_std"]
        assert os.path.getsize(os.path.join(folder, "ensemble.png")) > 10000
        for bad, expected in ((["/nonexistent.prm"], "no such parameter file"),
                              ([prm, "--seeds", "0", *build_option], "--seeds"),
                              ([prm, *build_option, "--seeds", "1", "--out", folder, "--set", "Noise/seed=x"],
                               "seed 1: "),
                              ([prm, *build_option, "--seeds", "1", "--out", folder, "--set", "Noise/seed"],
                               "expected Subsection/entry=value")):
            try:
                main(bad)
                raise AssertionError("accepted %s" % bad)
            except InputError as e:
                assert expected in str(e), (str(e), expected)
        print("ensemble.py self-test passed")
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    exit_with(main, PROGRAM)
