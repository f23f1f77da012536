#!/usr/bin/python3
"""TPDE from Python in one page: a grid run of T2 (the 1-D softmax blow-up of N(0, 0.25), physics.md §5),
its variance plotted against the exact Gaussian, a particle run of the same case and the W1 distance
between the two.

    PYTHONPATH=build/python /usr/bin/python3 postprocess/examples/quickstart.py [--end-time 1]
        [--tokens 2000] [--output output/quickstart] [--check]

Writes OUTPUT/grid (the grid run), OUTPUT/particles (the particle run) and OUTPUT/quickstart.png.
--check: exit 1 unless the plot exists and W1 stays below 0.1 (ctest runs it with a short end time).
About 8 s at the default end time (2 busy cores).
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.append(os.path.join(SOURCE, "build", "python"))  # when PYTHONPATH does not name the module

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tpde  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--end-time", type=float, default=1.0)
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--output", default="output/quickstart")
    parser.add_argument("--check", action="store_true", help="assert the plot exists and W1 < 0.1")
    args = parser.parse_args()

    prm = os.path.join(SOURCE, "parameters", "gaussian-1d-blowup.prm")
    case = {"Time stepping/end time": args.end_time, "Output/interval": args.end_time / 5,
            "Mesh/global refinements": 3, "Particles/number of tokens": args.tokens}
    grid = tpde.run(prm, set=case, output=os.path.join(args.output, "grid"))
    tokens = tpde.particles(prm, set=case, output=os.path.join(args.output, "particles"))
    table = tpde.compare(grid, tokens)

    s, p = grid.statistics, tokens.statistics
    error = np.max(np.abs(s["cov_00"] / s["ref_cov_00"] - 1))
    print(f"grid: {grid.summary['steps']} steps to t = {grid.summary['time']:g}; "
          f"max relative error of the variance {error:.2e}")
    print(f"particles: {len(tokens.positions)} tokens; W1(grid, tokens) at the outputs: "
          + ", ".join(f"{w:.2e}" for w in table["w1"]))

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot(s["time"], s["ref_cov_00"], "k-", label="exact Gaussian")
    left.plot(s["time"], s["cov_00"], "C0--", label="grid")
    left.plot(p["time"], p["cov_00"], "C1:", label=f"{len(tokens.positions)} tokens")
    left.set(xlabel="t", ylabel="variance", title="T2: softmax blow-up of N(0, 0.25)")
    left.legend()
    right.semilogy(table["time"][1:], table["w1"][1:], "o-", label="W1(grid, tokens)")
    right.semilogy(table["time"][1:], table["max_cov_diff"][1:], "s--", label="|variance difference|")
    right.set(xlabel="t", title="particles against the grid")
    right.legend()
    figure.tight_layout()
    plot = os.path.join(args.output, "quickstart.png")
    figure.savefig(plot, dpi=100)
    print(f"plot: {plot}")

    if args.check:
        problems = []
        if not os.path.getsize(plot) > 0:
            problems.append(f"{plot} was not written")
        if not np.all(table["w1"] < 0.1):
            problems.append(f"W1 {table['w1'].max():.3e} is not below 0.1")
        if not error < 1e-3:
            problems.append(f"the grid's variance is {error:.2e} off the exact one")
        for problem in problems:
            print("quickstart: " + problem, file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
