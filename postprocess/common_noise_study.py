#!/usr/bin/python3
"""Grid against particles on the same common-noise paths: does the gap follow the N^-1/2 law?

    postprocess/common_noise_study.py [PRM] [--build build] [--out DIR] [--seeds 8] [--tokens 1e4,1e5]
                                      [--end-time T]
    postprocess/common_noise_study.py --self-test [--build build]

For every seed s (1..S) the grid runs PRM on the common-noise path of Noise/seed = s, and the particle
solver runs the same path with N i.i.d. tokens (Particles/seed = s, sampling random) for every N. With the
same path the particles differ from the grid only by sampling, so the gap of the means,
e = |mean_grid - mean_particles| at the end time (on the circle: the order-parameter vector), should
scale like N^-1/2: z = sqrt(N) e has the same spread at every N, and the same as without common noise
(the control: the same runs with `Noise/common noise` empty). The script prints and writes DIR/study.csv:
N, the RMS of z over the seeds with the common noise, without it, and for a mismatched path (particles on
the path of seed s + 1000: this must not follow the law, which shows that the check can fail).
Runs in this process through the tpde Python module of BUILD.

Exit codes: 0 written; 2 bad input (one line on stderr); 1 internal error.
"""
import csv
import math
import os
import shutil
import tempfile

import tpde_module
from tpde_module import ArgumentParser, InputError, exit_with

PROGRAM = "common_noise_study.py"
DEFAULT_PRM = os.path.join(tpde_module.ROOT, "parameters", "common-noise-circle.prm")


def parse_arguments(argv):
    parser = ArgumentParser(PROGRAM, __doc__)
    parser.add_argument("prm", nargs="?", default=DEFAULT_PRM)
    parser.add_argument("--build", help="build folder (default: $TPDE_BUILD or build/)")
    parser.add_argument("--out", default="output/common-noise-study")
    parser.add_argument("--seeds", default="8", help="number of paths S (seeds 1..S)")
    parser.add_argument("--tokens", default="1e4,1e5", help="token counts N, separated by ','")
    parser.add_argument("--end-time", default="1", help="end time of every run")
    parser.add_argument("--set", action="append", default=[], metavar="ENTRY=VALUE", help="passed to every run")
    parser.add_argument("--self-test", action="store_true")
    return parser.parse_args(argv)


def numbers(text, what, kind):
    try:
        values = [float(x) for x in text.split(",")]
        if not values or not all(math.isfinite(x) and x > 0 for x in values):
            raise ValueError
        return [kind(x) for x in values]
    except ValueError:
        raise InputError("%s: expected positive numbers separated by ',', got '%s'" % (what, text))


def final_mean(run):
    s = run.statistics
    return [s[name][-1] for name in s if name.startswith("mean_")]


def gap(a, b):
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))


def study(tpde, prm, out, seeds, tokens, end_time, entries=None, report=print):
    """Returns rows (N, rms z with noise, without noise, mismatched path)."""
    common = dict(entries or {}, **{"Time stepping/end time": end_time, "Output/write vtu": False,
                                    "Output/interval": end_time})
    quiet = dict(common, **{"Noise/common noise": ""})
    grid_quiet = final_mean(tpde.run(prm, set=quiet, output=os.path.join(out, "grid-no-noise")))
    sums = {n: [0.0, 0.0, 0.0] for n in tokens}
    for s in seeds:
        grid = final_mean(tpde.run(prm, set=dict(common, **{"Noise/seed": s}),
                                   output=os.path.join(out, "grid-%d" % s)))
        for n in tokens:
            def particles(entries, name):
                folder = os.path.join(out, "N%d-%s-%d" % (n, name, s))
                entries = dict(entries, **{"Particles/seed": s, "Particles/number of tokens": n,
                                           "Particles/sampling": "random", "Output/directory": folder})
                return final_mean(tpde.particles(prm, set=entries, output=os.path.join(folder, "particles")))
            z = [gap(grid, particles(dict(common, **{"Noise/seed": s}), "noise")),
                 gap(grid_quiet, particles(quiet, "no-noise")),
                 gap(grid, particles(dict(common, **{"Noise/seed": s + 1000}), "other-path"))]
            for k in range(3):
                sums[n][k] += n * z[k] ** 2
        report("seed %d done" % s)
    rows = [(n,) + tuple(math.sqrt(x / len(seeds)) for x in sums[n]) for n in tokens]
    with open(os.path.join(out, "study.csv.tmp"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["N", "rms_z_common_noise", "rms_z_no_noise", "rms_z_other_path"])
        writer.writerows([[r[0]] + ["%.6e" % x for x in r[1:]] for r in rows])
    os.replace(os.path.join(out, "study.csv.tmp"), os.path.join(out, "study.csv"))
    report("z = sqrt(N) |mean_grid - mean_particles| at t = %g, RMS over %d paths:" % (end_time, len(seeds)))
    report("%10s %18s %18s %18s" % ("N", "common noise", "no noise", "other path"))
    for r in rows:
        report("%10d %18.4f %18.4f %18.4f" % r)
    return rows


def main(argv):
    args = parse_arguments(argv)
    if args.self_test:
        return self_test(args.build)
    if not os.path.isfile(args.prm):
        raise InputError("parameter file '%s' not found" % args.prm)
    seeds = list(range(1, numbers(args.seeds, "--seeds", int)[0] + 1))
    tokens = numbers(args.tokens, "--tokens", int)
    end_time = numbers(args.end_time, "--end-time", float)[0]
    tpde = tpde_module.load(args.build)
    tpde_module.output_folder(args.out)
    try:
        entries = tpde_module.overrides(args.set)
    except ValueError as e:
        raise InputError(str(e))
    tpde_module.solver_errors_as_input(tpde, study, tpde, args.prm, args.out, seeds, tokens, end_time, entries)
    return 0


def self_test(build):
    """common-noise-circle.prm to t = 0.5 over 8 paths at N = 1000 and 4000, with beta = 2 and an
    anisotropic V, so that the rotations of the noise do not commute with the attention (with the file's
    beta = 0 they do, and the gap with noise equals the gap without it)."""
    tpde = tpde_module.load(build)
    folder = tempfile.mkdtemp(prefix="tpde-common-noise-")
    try:
        rows = study(tpde, DEFAULT_PRM, folder, list(range(1, 9)), [1000, 4000], 0.5,
                     {"Attention/beta": 2, "Attention/V": "1, 0; 0, 0.3"}, report=lambda line: None)
        (_, noise1, quiet1, other1), (_, noise2, quiet2, other2) = rows
        # The law: the same spread of z at both N (8 paths: about +-25%), and as without common noise. The
        # control starts from the same tokens (a paired comparison): it differs only if the particles do
        # not follow the grid's path, which the mismatched path below shows is then a large difference.
        assert 0.6 < noise2 / noise1 < 1.6, rows
        assert 0.6 < noise1 / quiet1 < 1.6 and 0.6 < noise2 / quiet2 < 1.6, rows
        # A different path is a different solution: its gap does not shrink, so z grows like sqrt(N).
        assert other1 > 5 * noise1 and other2 / other1 > 1.6, rows
        for bad, expected in ((["/nonexistent.prm"], "not found"), ([DEFAULT_PRM, "--tokens", "10,-1"], "--tokens"),
                              ([DEFAULT_PRM, "--tokens", "inf"], "--tokens"),
                              ([DEFAULT_PRM, "--end-time", "nan"], "--end-time")):
            try:
                main(bad)
                raise AssertionError("accepted %s" % bad)
            except InputError as e:
                assert expected in str(e), (str(e), expected)
        print("common_noise_study.py self-test passed: " + "; ".join(
            "N = %d: rms z %.4f (no noise %.4f, other path %.2f)" % r for r in rows))
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    exit_with(main, PROGRAM)
