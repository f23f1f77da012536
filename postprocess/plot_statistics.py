#!/usr/bin/python3
"""Draws a run's statistics.csv against its references, to a PNG.

    postprocess/plot_statistics.py RUN_FOLDER [--out FILE.png]

RUN_FOLDER is the folder of a grid run (`tpde run`, Output/directory) or of a particle run
(`tpde particles`, Particles/directory), or its statistics.csv itself. Without --out the plot is
RUN_FOLDER/statistics.png. Panels, all over time:
  - mass balance: mass + outflow - 1 (grid; stays 0 to round-off), mass - 1 (tokens);
    masked attention: each slice's mass relative to its initial mass, minus 1;
  - time step dt (log scale) and, when the mesh adapts, the number of cells;
  - means and covariance entries (solid) against the exact Gaussian solution ref_* (dashed);
    masked attention: those of the slices slice<k>_* (the whole mesh's include s);
  - errors (log scale): max |mean - ref_mean|, max |cov - ref_cov| and the run's own error columns
    (err_l1, err_l2 of a grid run, err_mean, err_cov of a particle run, slice<k>_err_*);
  - the largest speed max_speed and, for sinkhorn, the marginal error of the last evaluation.
Without reference columns (initial data not one Gaussian, or a variant without moment ODEs) the
moments are drawn alone and the error panel says so. 1D, 2D and 3D.

Exit codes: 0 written; 2 bad input (missing folder or file, not a statistics.csv, no rows, an
unwritable --out): one line on stderr; 1 internal error (e.g. matplotlib missing), one line.
Needs numpy and matplotlib (Debian: python3-numpy, python3-matplotlib); runs headless (Agg).
"""
import argparse
import os
import warnings
import re
import sys
import tempfile

PROGRAM = "plot_statistics.py"
MAX_POINTS = 20000  # longer runs are drawn with every k-th row (and the last)


class InputError(Exception):
    """Bad input: one line on stderr, exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise InputError(message)


def parse_arguments(argv):
    parser = Parser(prog=PROGRAM, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", metavar="RUN_FOLDER", help="folder holding statistics.csv (or the file itself)")
    parser.add_argument("--out", help="PNG to write (default: RUN_FOLDER/statistics.png)")
    parser.add_argument("--size", type=float, nargs=2, default=[13.0, 11.0], metavar=("WIDTH", "HEIGHT"),
                        help="figure size in inches (at 100 dpi)")
    return parser.parse_args(argv)


def locate(run):
    """(folder, statistics.csv) of the argument."""
    if not os.path.exists(run):
        raise InputError("'%s': no such folder" % run)
    if os.path.isdir(run):
        path = os.path.join(run, "statistics.csv")
        if not os.path.isfile(path):
            raise InputError("'%s': no statistics.csv in this folder (expected the output folder of a tpde run)" % run)
        return run, path
    return os.path.dirname(run) or ".", run


def read_statistics(path, np):
    """The header and the rows (a 2D float array) of statistics.csv."""
    try:
        with open(path, "r", encoding="utf-8") as stream:
            header_line = stream.readline()
            header = header_line.strip().split(",")
            if not header_line or not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) for name in header):
                raise InputError("'%s': line 1 is not a statistics.csv header (column names separated by ',')" % path)
            for required in ("step", "time", "dt", "mass"):
                if required not in header:
                    raise InputError("'%s': no column '%s' (not a tpde statistics.csv)" % (path, required))
            try:
                rows = np.loadtxt(stream, delimiter=",", ndmin=2, dtype=float)
            except ValueError:
                raise InputError("'%s': %s" % (path, first_bad_line(path, len(header))))
    except OSError as e:
        raise InputError("'%s': cannot be read (%s)" % (path, e.strerror))
    except UnicodeDecodeError:
        raise InputError("'%s': not a text file" % path)
    if rows.shape[0] == 0:
        raise InputError("'%s': holds no rows (the run wrote only its header)" % path)
    if rows.shape[1] != len(header):
        raise InputError("'%s': %d columns in the header, %d in the rows" % (path, len(header), rows.shape[1]))
    return header, rows


def first_bad_line(path, n_columns):
    """Where loadtxt stopped, told with the file's line number."""
    with open(path, "r", encoding="utf-8") as stream:
        stream.readline()
        for number, line in enumerate(stream, start=2):
            fields = line.strip().split(",")
            if len(fields) != n_columns:
                return "line %d: %d fields, expected %d as in the header" % (number, len(fields), n_columns)
            for column, field in enumerate(fields):
                try:
                    float(field)
                except ValueError:
                    return "line %d, column %d: '%s' is not a number" % (number, column + 1, field[:20])
    return "cannot be read as numbers"


def legend(ax, **options):
    """A legend of the labelled lines, if there are any."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**options)


def attention_type(folder):
    """`set type` of `subsection Attention` in the run's parameters.prm, if there is one."""
    try:
        with open(os.path.join(folder, "parameters.prm"), encoding="utf-8") as stream:
            section = []
            for line in stream:
                words = line.split("#")[0].split()
                if len(words) >= 2 and words[0] == "subsection":
                    section.append(" ".join(words[1:]))
                elif words[:1] == ["end"] and section:
                    section.pop()
                elif section == ["Attention"] and words[:3] == ["set", "type", "="] and len(words) > 3:
                    return words[3]
    except (OSError, UnicodeDecodeError):
        pass
    return None


class Table:
    def __init__(self, header, rows):
        self.header = header
        self.rows = rows
        self.index = {name: i for i, name in enumerate(header)}

    def has(self, name):
        return name in self.index

    def __getitem__(self, name):
        return self.rows[:, self.index[name]]

    def dimension(self, prefix=""):
        d = 0
        while self.has("%smean_%d" % (prefix, d)):
            d += 1
        return d


def moment_groups(table):
    """[(prefix, label, dimension)]: the whole run, or the slices of a masked run."""
    slices = []
    k = 0
    while table.has("slice%d_s" % k):
        prefix = "slice%d_" % k
        s = table[prefix + "s"][0]
        slices.append((prefix, "slice %d (s = %g)" % (k, s), table.dimension(prefix)))
        k += 1
    return slices if slices else [("", "", table.dimension())]


def covariance_entries(d):
    return [(i, j) for i in range(d) for j in range(i, d)]


def widen_log_axis(ax, values, np):
    """A log axis spans at least a factor of 4: a (nearly) constant dt would get a range of round-off."""
    finite = values[np.isfinite(values) & (values > 0)]
    if finite.size and finite.max() < 4 * finite.min():
        middle = np.sqrt(finite.max() * finite.min())
        ax.set_ylim(middle / 2, middle * 2)


def draw(table, title, out, size, plt, np):
    time = table["time"]
    figure, axes = plt.subplots(3, 2, figsize=size, dpi=100, sharex=True)
    figure.suptitle(title, fontsize=12)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    groups = moment_groups(table)
    particles = table.has("tokens")

    # Mass balance.
    ax = axes[0, 0]
    if groups[0][0]:  # masked: every slice keeps its mass
        for n, (prefix, label, _) in enumerate(groups):
            mass = table[prefix + "mass"]
            ax.plot(time, mass / mass[0] - 1 if mass[0] != 0 else mass, color=colours[n % len(colours)],
                    label=label)
        ax.set_title("slice mass / initial slice mass - 1")
    elif table.has("outflow"):
        balance = table["mass"] + table["outflow"] - 1
        ax.plot(time, balance, color="k", label="mass + outflow - 1")
        ax.set_title("mass balance: mass + outflow - 1 (max |.| = %.2e)" % np.nanmax(np.abs(balance)))
    else:
        ax.plot(time, table["mass"] - 1, color="k", label="mass - 1")
        ax.set_title("mass - 1" + (" (tokens: 1 by construction)" if particles else ""))
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3), useOffset=False)
    legend(ax, fontsize=8, loc="best")

    # Time step (and cells).
    ax = axes[0, 1]
    dt = np.where(table["dt"] > 0, table["dt"], np.nan)
    ax.plot(time, dt, color="k", label="dt")
    ax.set_yscale("log")
    widen_log_axis(ax, dt, np)
    ax.set_title("time step dt")
    if table.has("cells") and np.nanmin(table["cells"]) != np.nanmax(table["cells"]):
        twin = ax.twinx()
        twin.plot(time, table["cells"], color=colours[1], label="cells")
        twin.set_ylabel("cells", color=colours[1])
        ax.set_title("time step dt and cells (adaptive mesh)")
    legend(ax, fontsize=8, loc="best")

    # Means and covariance entries against the reference.
    has_reference = any(table.has(prefix + "ref_mean_0") for prefix, _, _ in groups)
    for ax, kind in ((axes[1, 0], "mean"), (axes[1, 1], "cov")):
        n = 0
        for prefix, label, d in groups:
            entries = [(i,) for i in range(d)] if kind == "mean" else covariance_entries(d)
            for entry in entries:
                name = "%s_%s" % (kind, "".join(str(i) for i in entry))
                colour = colours[n % len(colours)]
                n += 1
                ax.plot(time, table[prefix + name], color=colour, label=(label + ": " if label else "") + name)
                if table.has(prefix + "ref_" + name):  # same colour, dashed, not in the legend
                    ax.plot(time, table[prefix + "ref_" + name], color=colour, linestyle="--", linewidth=2.4,
                            alpha=0.65)
        what = "means" if kind == "mean" else "covariance entries"
        ax.set_title(what + (" (solid) and exact Gaussian ref_* (dashed)" if has_reference else
                             " (no reference columns)"))
        legend(ax, fontsize=7, loc="best", ncol=2 if n > 4 else 1, framealpha=0.8)

    # Errors: colour = slice (masked), line style = kind of error.
    ax = axes[2, 0]
    styles = {"mean": "-", "cov": "--", "err_l1": ":", "err_l2": "-."}
    kinds_drawn, groups_drawn = {}, []
    for n, (prefix, label, d) in enumerate(groups):
        if not table.has(prefix + "ref_mean_0"):
            continue
        colour = colours[n % len(colours)] if len(groups) > 1 else None
        drawn = []
        for kind, column, text, names in (
                ("mean", "err_mean", "max |mean - ref_mean|", ["mean_%d" % i for i in range(d)]),
                ("cov", "err_cov", "max |cov - ref_cov|", ["cov_%d%d" % e for e in covariance_entries(d)])):
            if table.has(prefix + column):  # the run's own column (particles, slices)
                error, text = table[prefix + column], "%s (%s)" % (text, column)
            else:
                error = np.max(np.abs(np.stack([table[prefix + n] - table[prefix + "ref_" + n] for n in names])),
                               axis=0)
            drawn.append(ax.plot(time, error, linestyle=styles[kind], color=colour)[0])
            kinds_drawn.setdefault(kind, text)
        for name in ("err_l1", "err_l2"):
            if table.has(prefix + name):
                drawn.append(ax.plot(time, table[prefix + name], linestyle=styles[name], color=colour)[0])
                kinds_drawn.setdefault(name, name + " (of the density)")
        groups_drawn.append((drawn[0], label))
    if kinds_drawn:
        ax.set_yscale("log")
        widen_log_axis(ax, np.concatenate([line.get_ydata() for line in ax.get_lines()]), np)
        ax.set_title("errors against the exact Gaussian solution")
        handles = [plt.Line2D([], [], color="k" if len(groups) > 1 else colours[i], linestyle=styles[kind])
                   for i, kind in enumerate(kinds_drawn)]
        kinds_legend = ax.legend(handles, list(kinds_drawn.values()), fontsize=7, loc="lower right", framealpha=0.8)
        if len(groups) > 1:  # a second legend: which colour is which slice
            ax.add_artist(kinds_legend)
            ax.legend([plt.Line2D([], [], color=line.get_color()) for line, _ in groups_drawn],
                      [label for _, label in groups_drawn], fontsize=7, loc="upper left", framealpha=0.8)
        else:  # one group: colours by kind, as in the legend
            for i, line in enumerate(ax.get_lines()):
                line.set_color(colours[i])
    else:
        ax.set_title("errors")
        ax.text(0.5, 0.5, "no reference columns:\nthe initial data is not one Gaussian,\n"
                "or the attention has no Gaussian moment ODEs", ha="center", va="center",
                transform=ax.transAxes, fontsize=10)
    ax.set_xlabel("time")

    # Speed and kernel diagnostics.
    ax = axes[2, 1]
    if table.has("max_speed"):
        ax.plot(time, table["max_speed"], color="k", label="max_speed")
    ax.set_title("largest speed max_speed")
    if table.has("sinkhorn_marginal_error"):
        twin = ax.twinx()
        error = np.where(table["sinkhorn_marginal_error"] > 0, table["sinkhorn_marginal_error"], np.nan)
        twin.plot(time, error, color=colours[3], label="sinkhorn_marginal_error")
        twin.set_yscale("log")
        twin.set_ylabel("sinkhorn marginal error", color=colours[3])
        ax.set_title("max_speed and Sinkhorn marginal error")
    legend(ax, fontsize=8, loc="best")
    ax.set_xlabel("time")

    for ax in axes.flat:
        ax.grid(True, alpha=0.3)
    figure.tight_layout(rect=(0, 0, 1, 0.96))
    folder = os.path.dirname(os.path.abspath(out))
    handle, scratch = tempfile.mkstemp(prefix=".statistics-", suffix=".png", dir=folder)
    os.close(handle)
    try:
        figure.savefig(scratch, format="png")
        os.replace(scratch, out)  # atomic: a viewer never sees half a PNG
    finally:
        if os.path.exists(scratch):
            os.remove(scratch)
    plt.close(figure)


def main(argv):
    warnings.simplefilter("ignore")  # e.g. numpy on NaN rows: the plot shows them as gaps
    arguments = parse_arguments(argv)
    folder, path = locate(arguments.run)
    out = arguments.out or os.path.join(folder, "statistics.png")
    if not out.endswith(".png"):
        raise InputError("--out '%s': expected a file name ending in .png" % out)
    out_folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(out_folder) or not os.access(out_folder, os.W_OK):
        raise InputError("--out '%s': the folder does not exist or is not writable" % out)
    if min(arguments.size) < 3 or max(arguments.size) > 60:
        raise InputError("--size: expected a width and a height between 3 and 60 inches")
    try:
        import numpy as np
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise RuntimeError("needs numpy and matplotlib (Debian: python3-numpy python3-matplotlib): %s" % e)

    header, rows = read_statistics(path, np)
    table = Table(header, rows)
    n_rows = rows.shape[0]
    if n_rows > MAX_POINTS:
        stride = -(-n_rows // MAX_POINTS)
        keep = np.unique(np.append(np.arange(0, n_rows, stride), n_rows - 1))
        table = Table(header, rows[keep])
    kind = "particle run (%d tokens)" % table["tokens"][0] if table.has("tokens") else "grid run"
    variant = attention_type(folder)
    d = table.dimension()
    dimension = "%dD" % d
    if table.has("slice0_s"):
        dimension = "%dD tokens on a (s, x) mesh" % (d - 1)
    title = "%s: %s, %s%s, %d steps to t = %.6g" % (path, kind, dimension, ", " + variant if variant else "",
                                                     int(rows[-1, table.index["step"]]), rows[-1, table.index["time"]])
    if n_rows > MAX_POINTS:
        title += " (every %d-th of %d rows drawn)" % (stride, n_rows)
    draw(table, title, out, arguments.size, plt, np)
    print("wrote %s" % out)
    return 0


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
    except InputError as e:
        sys.stderr.write("%s: error: %s\n" % (PROGRAM, e))
        status = 2
    except SystemExit as e:  # --help
        status = e.code if isinstance(e.code, int) else 0
    except Exception as e:  # one line, not a traceback
        sys.stderr.write("%s: internal error: %s: %s\n" % (PROGRAM, type(e).__name__,
                                                          str(e).splitlines()[0] if str(e) else ""))
        status = 1
    sys.exit(status)
