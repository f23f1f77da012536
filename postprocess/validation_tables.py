#!/usr/bin/python3
"""Regenerates the README's validation tables from runs, so the figures cannot go stale.

For every case (a shipped parameter file) the script runs, from the repository root,

    build/tpde run parameters/<case>.prm --quiet --set "Output/directory=<out>/<case>" \
        --set "Output/write vtu=false" --overwrite

measures the wall and CPU time of the run, reads its statistics.csv and prints one markdown table
row per case, with the command beside it. The columns (the README's definitions):

  mesh               cells at the end time and the degree: "32² Q2" for a uniform mesh, "N cells Q2
                     (levels a–b; M at t = 0)" for an adaptive one
  t, steps           time and step of the last row
  wall, CPU          wall-clock time of the process (start-up included) and its CPU time (user +
                     system, all threads); runs are sequential
  mean error         last row: max_i |mean_i - ref_mean_i| / max_i |ref_mean_i| ("rel."), or
                     max_i |mean_i - ref_mean_i| ("abs.") when the exact mean is 0
  covariance error   last row: max_ij |cov_ij - ref_cov_ij| / max_ij |ref_cov_ij|
  L2 density error   last row: err_l2 = ||rho_h - rho||_L2 against the exact Gaussian density
  |mass+outflow-1|   the largest over all rows
  (— where the run has no Gaussian reference.)

Groups of cases: `examples` (default.prm, T1, T2, T6, T8: about 2 minutes on 2 quiet cores),
`adaptive` (the four adaptive examples; the 3D one alone takes about 6 minutes) and `convergence`
(runs build/solver_test_convergence, which prints the convergence tables and asserts the orders, and
the test's T6 runs at Q1 32², Q2 32² and Q2 48² again with `limiter keeps moments = false`).

Load. The machine may be shared. For every run the script records the 1-minute load average
(/proc/loadavg) at the start, its largest value sampled every second during the run and at the end,
and from /proc/stat the share of the machine's CPU time that other processes used during the run.
The end and largest values include the run's own threads (a 2-thread run alone drives the load
towards 2), so a wall time is marked "measured under load" when the load average at the start exceeded
--load-threshold (1.5) or other processes used more than 10 % of the CPU time; a footnote gives the
figures. Errors do not depend on the load; the thread count (DEAL_II_NUM_THREADS) can change their
last digits, so it is stated.

Reuse. Each run folder gets validation_run.json (command, thread count, SHA-256 of the tpde binary
and of the parameter file, times, loads, date). A finished run whose record matches all of these is
reused; --rerun repeats it. --no-run builds the tables from finished runs only (whatever binary made
them) and a missing one is an input error.

Usage (from anywhere; the defaults lie in the repository, paths given are relative to the working
folder; the runs themselves start in the repository root):

    postprocess/validation_tables.py [--tpde build/tpde] [--out output/validation] [--cases LIST]
        [--adaptive] [--convergence] [--rerun] [--no-run] [--threads N] [--markdown FILE]
        [--readme [README.md]] [--load-threshold 1.5]
    postprocess/validation_tables.py --self-test [--tpde build/tpde]

--cases takes case names (file stems) and group names, separated by commas. --readme rewrites, for
every group in the selection, the block between `<!-- validation-table:<group>:begin -->` and
`<!-- validation-table:<group>:end -->` (whole groups only). Exit codes: 0 success, 2 bad input
(one line on stderr), 1 a failed run (its command and stderr).
"""
import argparse
import csv
import datetime
import hashlib
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = "postprocess/validation_tables.py"
RECORD = "validation_run.json"
OTHERS_SHARE_LIMIT = 0.10

# (case = file stem, label, group), in table order.
CASES = [
    ("default", "", "examples"),
    ("gaussian-1d-collapse", "T1", "examples"),
    ("gaussian-1d-blowup", "T2", "examples"),
    ("gaussian-2d-isotropize", "T6", "examples"),
    ("gaussian-2d-line", "T8", "examples"),
    ("collapse-1d-adaptive", "T1", "adaptive"),
    ("line-2d-adaptive", "T8", "adaptive"),
    ("clusters-2d-adaptive", "", "adaptive"),
    ("isotropize-3d-adaptive", "T6, 3D", "adaptive"),
]
GROUPS = ["examples", "adaptive", "convergence"]
# The cell-wise limiter alone (`limiter keeps moments = false`) on the convergence test's T6 setup,
# next to the test's own (default) figures: (degree, cells per direction).
T6_CONVERGENCE_PRM = "parameters/gaussian-2d-isotropize.prm"
T6_CONVERGENCE_SETUP = ["Mesh/lower corner=-8", "Mesh/upper corner=8", "Time stepping/end time=0.25"]
LIMITER_RUNS = [(1, 32), (2, 32), (2, 48)]
CONVERGENCE_HEADINGS = {
    "parameters/gaussian-1d-collapse.prm": "T1 (1D, t = 1, [-10, 10])",
    "parameters/gaussian-2d-isotropize.prm": "T6 (2D, t = 0.25, [-8, 8]²)",
}


class InputError(Exception):
    """Bad input: one line on stderr, exit code 2."""


class RunError(Exception):
    """A run failed: exit code 1."""


# ----------------------------------------------------------------------------------------------
# Reading a run


def read_statistics(path):
    """(header, rows as lists of floats) of a statistics.csv."""
    try:
        with open(path, newline="") as f:
            lines = [r for r in csv.reader(f) if r]
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})")
    if len(lines) < 2:
        raise InputError(f"{path}: no data rows")
    header = lines[0]
    rows = []
    for number, r in enumerate(lines[1:], start=2):
        if len(r) != len(header):
            raise InputError(f"{path}: line {number} has {len(r)} fields, the header {len(header)}")
        try:
            rows.append([float(v) for v in r])
        except ValueError:
            raise InputError(f"{path}: line {number} holds a value that is not a number")
    return header, rows


def read_degree(path):
    """`Discretization/degree` of a parameters.prm written by tpde."""
    section = []
    try:
        with open(path) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line.startswith("subsection "):
                    section.append(line[len("subsection "):].strip())
                elif line == "end" and section:
                    section.pop()
                elif section == ["Discretization"] and re.match(r"set\s+degree\s*=", line):
                    return int(line.split("=", 1)[1])
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})")
    except ValueError:
        raise InputError(f"{path}: Discretization/degree is not an integer")
    raise InputError(f"{path}: no Discretization/degree")


def columns(header, rows, degree):
    """The table's numbers from a run's statistics (see the module documentation)."""
    index = {name: i for i, name in enumerate(header)}
    for name in ("step", "time", "mass", "outflow", "cells", "mean_0", "cov_00"):
        if name not in index:
            raise InputError(f"statistics.csv: no column {name}")
    last, first = rows[-1], rows[0]
    dim = sum(1 for name in header if re.fullmatch(r"mean_\d", name))
    value = lambda row, name: row[index[name]]
    result = {
        "dim": dim,
        "degree": degree,
        "time": value(last, "time"),
        "steps": int(value(last, "step")),
        "cells": int(value(last, "cells")),
        "cells_start": int(value(first, "cells")),
        "min_level": int(value(last, "min_level")) if "min_level" in index else None,
        "max_level": int(value(last, "max_level")) if "max_level" in index else None,
        "mass_defect": max(abs(value(r, "mass") + value(r, "outflow") - 1) for r in rows),
        "mean_error": None,
        "mean_kind": None,
        "cov_error": None,
        "l2_error": None,
    }
    if "ref_mean_0" in index:
        means = [(value(last, f"mean_{i}"), value(last, f"ref_mean_{i}")) for i in range(dim)]
        pairs = [(value(last, f"cov_{i}{j}"), value(last, f"ref_cov_{i}{j}"))
                 for i in range(dim) for j in range(dim)]
        deviation = max(abs(m - r) for m, r in means)
        scale = max(abs(r) for _, r in means)
        # The exact mean is 0 (T2, T8): only an absolute error is meaningful.
        if scale > 1e-14:
            result["mean_error"], result["mean_kind"] = deviation / scale, "rel."
        else:
            result["mean_error"], result["mean_kind"] = deviation, "abs."
        result["cov_error"] = max(abs(c - r) for c, r in pairs) / max(abs(r) for _, r in pairs)
        result["l2_error"] = value(last, "err_l2") if "err_l2" in index else None
    return result


def moment_error(header, rows):
    """solver_test_convergence's "moment error" of the last row: the worst of |mean_i - ref_i| /
    max(|ref_i|, s) and |cov_ij - ref_cov_ij| / s, s = max_ij |ref_cov_ij|."""
    index = {name: i for i, name in enumerate(header)}
    last = rows[-1]
    dim = sum(1 for name in header if re.fullmatch(r"mean_\d", name))
    value = lambda name: last[index[name]]
    scale = max(abs(value(f"ref_cov_{i}{j}")) for i in range(dim) for j in range(dim))
    worst = 0.0
    for i in range(dim):
        ref = value(f"ref_mean_{i}")
        worst = max(worst, abs(value(f"mean_{i}") - ref) / max(abs(ref), scale))
        for j in range(dim):
            worst = max(worst, abs(value(f"cov_{i}{j}") - value(f"ref_cov_{i}{j}")) / scale)
    return worst


# ----------------------------------------------------------------------------------------------
# Formatting


def fmt(x):
    """Two significant digits, exponent without padding: 5.7e-9; '0' for 0; '—' for None."""
    if x is None:
        return "—"
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return str(x)
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def fmt_seconds(s):
    return f"{s:.1f} s" if s < 10 else f"{s:.0f} s"


def fmt_time(t):
    return f"{t:.6g}"


def fmt_mesh(c):
    p = f"Q{c['degree']}"
    uniform = c["min_level"] is None or c["min_level"] == c["max_level"]
    if uniform and c["cells"] == c["cells_start"]:
        if c["dim"] == 1:
            return f"{c['cells']} {p}"
        n = round(c["cells"] ** (1.0 / c["dim"]))
        if n ** c["dim"] == c["cells"]:
            return f"{n}{'²' if c['dim'] == 2 else '³'} {p}"
        return f"{c['cells']} cells {p}"
    levels = f"levels {c['min_level']}–{c['max_level']}; " if c["min_level"] is not None else ""
    return f"{c['cells']} cells {p} ({levels}{c['cells_start']} at t = 0)"


def fmt_mean(c):
    if c["mean_error"] is None:
        return "—"
    if c["mean_kind"] == "abs.":
        return f"{fmt(c['mean_error'])} (abs., exact mean 0)"
    return f"{fmt(c['mean_error'])} (rel.)"


def show_arg(a):
    """An argument as a user types it into a POSIX shell (double quotes where needed)."""
    if re.fullmatch(r"[\w@%+=:,./-]+", a):
        return a
    if re.search(r'["$`\\]', a):
        raise InputError(f"cannot quote argument {a!r}")
    return f'"{a}"'


def show_path(path):
    """A path relative to the repository root when it lies inside it."""
    full = os.path.abspath(path)
    rel = os.path.relpath(full, ROOT)
    return full if rel.startswith("..") else rel


def show_command(argv, threads_env):
    prefix = f"DEAL_II_NUM_THREADS={threads_env} " if threads_env else ""
    return prefix + " ".join(show_arg(a) for a in argv)


def under_load(record, threshold):
    return record["load_start"] > threshold or record["others_cpu_share"] > OTHERS_SHARE_LIMIT


def examples_table(results, threshold):
    """Markdown lines of one group's table and its load footnote."""
    lines = [
        "| file | mesh | t | steps | wall | CPU | mean error | covariance error | L2 density error "
        "| \\|mass + outflow − 1\\| | command |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for case, label, c, record in results:
        loaded = under_load(record, threshold)
        wall = fmt_seconds(record["wall_seconds"]) + (" (measured under load†)" if loaded else "")
        if loaded:
            notes.append(f"`{case}.prm` {load_figures(record)}")
        name = f"`{case}.prm`" + (f" ({label})" if label else "")
        lines.append(
            f"| {name} | {fmt_mesh(c)} | {fmt_time(c['time'])} | {c['steps']} | {wall} | "
            f"{fmt_seconds(record['cpu_seconds'])} | {fmt_mean(c)} | {fmt(c['cov_error'])} | "
            f"{fmt(c['l2_error'])} | {fmt(c['mass_defect'])} | "
            f"`{show_command(record['command'], record['threads_env'])}` |")
    if notes:
        lines += ["", load_note(threshold) + " " + "; ".join(notes) + "."]
    return lines


def load_figures(record):
    return (f"{record['load_start']:.1f} → {record['load_end']:.1f} (up to {record['load_max']:.1f}), "
            f"{100 * record['others_cpu_share']:.0f} %")


def load_note(threshold):
    return (f"† Measured under load: the load average exceeded {threshold} at the start, or other "
            f"processes used more than {100 * OTHERS_SHARE_LIMIT:.0f} % of the machine's CPU time during "
            "the run, so the wall time is an upper bound (the CPU time is less affected). Per run: the "
            "1-minute load average at the start → at the end (the largest sampled during the run; both "
            "include the run's own threads), and the share of the CPU time that other processes used:")


# ----------------------------------------------------------------------------------------------
# Machine, load and runs


def cpu_model():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, val = line.partition(":")
                if key.strip() == "model name":
                    model = val.strip()
                    break
    except OSError:
        pass
    return model


def memory_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2 ** 20
    except OSError:
        pass
    return float("nan")


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


def busy_seconds():
    """CPU seconds all processors spent busy since boot (/proc/stat)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return float("nan")
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tpde_version(tpde, env):
    """tpde --version as a dict of its lines (first word(s) -> rest)."""
    out = subprocess.run([tpde, "--version"], capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise InputError(f"{tpde} --version failed with exit code {out.returncode}")
    if not out.stdout.startswith("tpde "):
        raise InputError(f"{tpde}: not a tpde binary (--version printed {out.stdout[:40]!r})")
    info = {}
    for line in out.stdout.splitlines():
        for key in ("tpde", "deal.II", "threads per rank", "SIMD"):
            if line.startswith(key + " "):
                info[key] = line[len(key) + 1:].strip()
    return info


def solver_commit():
    """Short hash of the last commit that changed solver/, and whether solver/ has local changes."""
    try:
        commit = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%h", "--", "solver"],
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "solver"],
                               capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"
    return (commit or "unknown") + (" with local changes" if dirty else "")


def timed_run(argv, env):
    """Runs argv from the repository root; returns (completed process, measurements)."""
    samples = [loadavg()]
    stop = threading.Event()

    def sample():
        while not stop.wait(1.0):
            samples.append(loadavg())

    sampler = threading.Thread(target=sample, daemon=True)
    busy0, cpu0, wall0 = busy_seconds(), children_cpu(), time.monotonic()
    sampler.start()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT)
    finally:
        stop.set()
        sampler.join()
    wall, cpu = time.monotonic() - wall0, children_cpu() - cpu0
    busy = busy_seconds() - busy0
    samples.append(loadavg())
    cores = os.cpu_count() or 1
    return done, {
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "load_start": samples[0],
        "load_max": max(samples),
        "load_end": samples[-1],
        "others_cpu_share": max(0.0, busy - cpu) / (cores * wall) if wall > 0 else 0.0,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def read_record(folder):
    try:
        with open(os.path.join(folder, RECORD)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_record(folder, record):
    tmp = os.path.join(folder, RECORD + ".tmp")
    with open(tmp, "w") as f:
        json.dump(record, f, indent=1)
    os.replace(tmp, os.path.join(folder, RECORD))


class Runner:
    def __init__(self, args):
        self.tpde = args.tpde
        self.out = args.out
        self.rerun = args.rerun
        self.no_run = args.no_run
        self.env = dict(os.environ)
        self.threads_env = args.threads or os.environ.get("DEAL_II_NUM_THREADS")
        if args.threads:
            self.env["DEAL_II_NUM_THREADS"] = args.threads
        self.tpde_hash = None
        self.version = {}
        if not self.no_run:
            if not (os.path.isfile(self.tpde) and os.access(self.tpde, os.X_OK)):
                raise InputError(f"--tpde {self.tpde}: not an executable file")
            self.tpde_hash = sha256(self.tpde)
            self.version = tpde_version(os.path.abspath(self.tpde), self.env)
        if os.path.exists(self.out) and not os.path.isdir(self.out):
            raise InputError(f"--out {self.out}: exists and is not a folder")

    def finished(self, folder, argv, hashes, outputs):
        """The record of a finished run of exactly this command, binary and input, else None."""
        record = read_record(folder)
        if record is None or not all(os.path.isfile(os.path.join(folder, o)) for o in outputs):
            return None
        if self.no_run:
            return record
        same = (record.get("command") == argv and record.get("threads_env") == self.threads_env
                and record.get("hashes") == hashes)
        return record if same else None

    def run(self, name, argv, hashes, outputs, folder):
        """Runs argv (display form) unless a finished run is there; returns (record, stdout)."""
        record = None if self.rerun and not self.no_run else self.finished(folder, argv, hashes, outputs)
        if record is None:
            if self.no_run:
                raise InputError(f"{show_path(folder)}: no finished run of {name} (drop --no-run to run it)")
            os.makedirs(folder, exist_ok=True)
            for stale in [RECORD] + outputs:  # a run that writes nothing must not pass for finished
                if os.path.isfile(os.path.join(folder, stale)):
                    os.remove(os.path.join(folder, stale))
            real = [os.path.join(ROOT, argv[0])] + argv[1:]  # argv is shown relative to the root
            print(f"running {name}: {show_command(argv, self.threads_env)}", file=sys.stderr, flush=True)
            done, measured = timed_run(real, self.env)
            with open(os.path.join(folder, "run.log"), "w") as f:
                f.write(done.stdout + done.stderr)
            if done.returncode != 0:
                tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-20:])
                raise RunError(f"run failed with exit code {done.returncode}: "
                               f"{show_command(argv, self.threads_env)}\n{tail}")
            missing = [o for o in outputs if not os.path.isfile(os.path.join(folder, o))]
            if missing:
                raise RunError(f"run wrote no {missing[0]}: {show_command(argv, self.threads_env)}")
            record = dict(measured, command=argv, threads_env=self.threads_env, hashes=hashes,
                          version=self.version, machine=machine(), stdout=done.stdout[-20000:])
            write_record(folder, record)
        return record

    def case(self, case, extra_sets=(), folder_name=None):
        """(columns, record) of one example case; extra_sets are added --set values (then give
        the run its own folder_name)."""
        prm = os.path.join(ROOT, "parameters", case + ".prm")
        folder = os.path.join(self.out, folder_name or case)
        argv = [show_path(self.tpde), "run", f"parameters/{case}.prm", "--quiet",
                "--set", f"Output/directory={show_path(folder)}", "--set", "Output/write vtu=false"]
        for s in extra_sets:
            argv += ["--set", s]
        argv.append("--overwrite")
        hashes = {"tpde": self.tpde_hash, "prm": sha256(prm)}
        record = self.run(folder_name or case, argv, hashes, ["statistics.csv", "parameters.prm"], folder)
        header, rows = read_statistics(os.path.join(folder, "statistics.csv"))
        return columns(header, rows, read_degree(os.path.join(folder, "parameters.prm"))), record

    def convergence(self, test):
        """(parsed tables, record) of build/solver_test_convergence."""
        if not self.no_run and not (os.path.isfile(test) and os.access(test, os.X_OK)):
            raise InputError(f"--convergence-test {test}: not an executable file "
                             "(build it: cmake --build build --target solver_test_convergence)")
        folder = os.path.join(self.out, "convergence")
        hashes = {"test": sha256(test) if not self.no_run else None, "tpde": self.tpde_hash,
                  "prm": {p: sha256(os.path.join(ROOT, p)) for p in CONVERGENCE_HEADINGS}}
        record = self.run("convergence", [show_path(test)], hashes, [], folder)
        return parse_convergence(record["stdout"]), record


def parse_convergence(text):
    """{(prm, p): [(cells, l2, order, moment error, seconds), ...]} from the test's output."""
    tables, key = {}, None
    for line in text.splitlines():
        m = re.fullmatch(r"(\S+\.prm), p = (\d+)", line.strip())
        if m:
            key = (m.group(1), int(m.group(2)))
            tables[key] = []
            continue
        fields = line.split()
        if key and len(fields) == 5 and fields[0].isdigit():
            tables[key].append((int(fields[0]), float(fields[1]), float(fields[2]), float(fields[3]),
                                float(fields[4])))
    if not tables:
        raise InputError("solver_test_convergence printed no tables")
    return tables


def convergence_tables(tables, record, threshold):
    lines = []
    for prm in dict.fromkeys(k[0] for k in tables):
        dim2 = "2d" in prm
        lines += ["", f"{CONVERGENCE_HEADINGS.get(prm, prm)}:", "",
                  f"| p | {'cells per direction' if dim2 else 'cells'} | L2 error | order | moment error | seconds |",
                  "|---|---|---|---|---|---|"]
        for (name, p), rows in tables.items():
            if name != prm:
                continue
            order = ["–" if math.isnan(r[2]) else f"{r[2]:.2f}" for r in rows]
            lines.append(
                f"| {p} | {' / '.join(str(r[0]) for r in rows)} | "
                f"{' / '.join(f'{r[1]:.2e}' for r in rows)} | {' / '.join(order)} | "
                f"{' / '.join(fmt(r[3]) for r in rows)} | {' / '.join(f'{r[4]:.2f}' for r in rows)} |")
    passed = re.search(r"\[  PASSED  \] (\d+) test", record["stdout"])
    lines += ["", f"The test {'passed' if passed else 'did not report PASSED'} (it asserts the orders); "
              f"wall time {fmt_seconds(record['wall_seconds'])}, CPU {fmt_seconds(record['cpu_seconds'])}"
              + (f" (measured under load: load average {load_figures(record)} of the CPU time used by other "
                 "processes)" if under_load(record, threshold) else "")
              + "; \"seconds\" is the wall time of each run inside the test."]
    return lines[1:]


def limiter_table(runner, tables):
    """The cell-wise limiter alone against the default on the T6 convergence setup."""
    lines = ["", "The same T6 runs with the cell-wise limiter alone (`limiter keeps moments = false`), "
             "against the default above:", "",
             "| p | cells per direction | L2 error: default / cell-wise | moment error: default / cell-wise "
             "| command of the cell-wise run |", "|---|---|---|---|---|"]
    records = []
    for p, n in LIMITER_RUNS:
        default = next((r for r in tables.get((T6_CONVERGENCE_PRM, p), []) if r[0] == n), None)
        if default is None:
            raise InputError(f"solver_test_convergence printed no T6 row for p = {p}, {n} cells")
        name = f"t6-cellwise-limiter-q{p}-{n}"
        sets = T6_CONVERGENCE_SETUP + [f"Mesh/subdivisions={n}", "Mesh/global refinements=0",
                                       f"Discretization/degree={p}", "Discretization/limiter keeps moments=false"]
        c, record = runner.case("gaussian-2d-isotropize", sets, name)
        header, rows = read_statistics(os.path.join(runner.out, name, "statistics.csv"))
        lines.append(f"| {p} | {n} | {default[1]:.2e} / {c['l2_error']:.2e} | "
                     f"{fmt(default[3])} / {fmt(moment_error(header, rows))} | "
                     f"`{show_command(record['command'], record['threads_env'])}` |")
        records.append(record)
    return lines, records


# ----------------------------------------------------------------------------------------------
# Tables, markdown file, README


def machine():
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "memory_gib": round(memory_gib())}


def machine_line(runner, records):
    """The machine, binary, threads and dates of the runs (from their records)."""
    dates = sorted(r["date"][:10] for r in records)
    when = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
    version = next((r["version"] for r in records if r.get("version")), runner.version)
    where = next((r["machine"] for r in records if r.get("machine")), machine())
    threads = version.get("threads per rank", "?")
    envs = {r.get("threads_env") for r in records}
    env = envs.pop() if len(envs) == 1 else "differs between runs"
    how = f"DEAL_II_NUM_THREADS={env}" if env else "DEAL_II_NUM_THREADS unset: all cores"
    return (f"Machine: {where['cpu']}, {where['cores']} cores, {where['memory_gib']} GiB; "
            f"tpde {version.get('tpde', '?')}, deal.II {version.get('deal.II', '?')}, "
            f"SIMD {version.get('SIMD', '?')}; {threads} threads per rank ({how}), 1 MPI rank; "
            f"solver at commit {solver_commit()}; measured {when}.")


def regenerate_command(group, args):
    parts = ["nice -n 10", SCRIPT]
    if os.path.abspath(args.tpde) != os.path.join(ROOT, "build", "tpde"):
        parts += ["--tpde", show_path(args.tpde)]
    if os.path.abspath(args.out) != os.path.join(ROOT, "output", "validation"):
        parts += ["--out", show_path(args.out)]
    if args.threads:
        parts += ["--threads", args.threads]
    parts += ["--cases", group, "--readme"]
    return " ".join(show_arg(p) if p != "nice -n 10" else p for p in parts)


def block(group, body, machine, args):
    return [f"<!-- generated by {SCRIPT}: edit the script, not this block -->",
            f"Regenerate (from the repository root; finished runs in `{show_path(args.out)}` of the same "
            f"binary are reused, `--rerun` repeats them): `{regenerate_command(group, args)}`",
            "", machine, ""] + body


def replace_blocks(text, blocks, path):
    """text with the content between each group's markers replaced."""
    for group, lines in blocks.items():
        begin, end = f"<!-- validation-table:{group}:begin -->", f"<!-- validation-table:{group}:end -->"
        if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
            raise InputError(f"{path}: needs exactly one '{begin}' followed by one '{end}'")
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + begin + "\n" + "\n".join(lines) + "\n" + end + tail
    return text


def select(cases_option, adaptive, convergence):
    names = [c[0] for c in CASES]
    wanted = [w.strip() for w in cases_option.split(",") if w.strip()] if cases_option else ["examples"]
    if adaptive:
        wanted.append("adaptive")
    if convergence:
        wanted.append("convergence")
    chosen, whole = [], set()
    for w in wanted:
        if w in GROUPS:
            whole.add(w)
            chosen += [c for c in CASES if c[2] == w]
        elif w in names:
            chosen.append(next(c for c in CASES if c[0] == w))
        else:
            raise InputError(f"--cases: unknown case '{w}' (cases: {', '.join(names)}; groups: "
                             f"{', '.join(GROUPS)})")
    chosen = [c for c in CASES if c in chosen]  # table order, no duplicates
    groups = [g for g in GROUPS if g in whole or any(c[2] == g for c in chosen)]
    return chosen, groups, whole


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit code 2, like every other bad input
        raise InputError(message)


def main(argv=None):
    parser = Parser(description=__doc__.split("\n")[0])
    parser.add_argument("--tpde", help="the tpde binary (default: build/tpde)")
    parser.add_argument("--out", default=os.path.join(ROOT, "output", "validation"))
    parser.add_argument("--cases", help="case names and groups (examples, adaptive, convergence)")
    parser.add_argument("--adaptive", action="store_true", help="add the adaptive group")
    parser.add_argument("--convergence", action="store_true", help="add the convergence tables")
    parser.add_argument("--convergence-test", help="default: solver_test_convergence beside --tpde")
    parser.add_argument("--rerun", action="store_true", help="repeat finished runs")
    parser.add_argument("--no-run", action="store_true", help="tables from finished runs only")
    parser.add_argument("--threads", help="DEAL_II_NUM_THREADS for the runs")
    parser.add_argument("--markdown", help="also write the tables to this file")
    parser.add_argument("--readme", nargs="?", const=os.path.join(ROOT, "README.md"),
                        help="rewrite the marked blocks of this README (default: the repository's)")
    parser.add_argument("--load-threshold", type=float, default=1.5)
    parser.add_argument("--self-test", action="store_true")
    try:
        args = parser.parse_args(argv)
    except InputError as e:
        print(f"validation_tables.py: {e}", file=sys.stderr)
        return 2
    explicit_tpde = args.tpde is not None
    args.tpde = args.tpde or os.path.join(ROOT, "build", "tpde")
    try:
        if args.self_test:
            return self_test(args, explicit_tpde)
        return generate(args)
    except InputError as e:
        print(f"validation_tables.py: {e}", file=sys.stderr)
        return 2
    except RunError as e:
        print(f"validation_tables.py: {e}", file=sys.stderr)
        return 1


def generate(args):
    if args.threads is not None and not (args.threads.isdigit() and int(args.threads) > 0):
        raise InputError(f"--threads {args.threads}: expected a positive integer")
    chosen, groups, whole = select(args.cases, args.adaptive, args.convergence)
    if args.readme:
        partial = [g for g in groups if g not in whole]
        if partial:
            raise InputError(f"--readme rewrites whole tables: give the group '{partial[0]}' in --cases, "
                             "not single cases")
        if not os.path.isfile(args.readme):
            raise InputError(f"--readme {args.readme}: no such file")
        with open(args.readme) as f:
            readme_text = f.read()
        replace_blocks(readme_text, {g: [] for g in groups}, args.readme)  # markers present?
    runner = Runner(args)
    blocks = {}
    for group in groups:
        if group == "convergence":
            test = args.convergence_test or os.path.join(os.path.dirname(args.tpde), "solver_test_convergence")
            tables, record = runner.convergence(test)
            body = [f"`{show_command(record['command'], record['threads_env'])}`", ""] + \
                convergence_tables(tables, record, args.load_threshold)
            extra, records = limiter_table(runner, tables)
            body += extra
            records.append(record)
        else:
            results = []
            for case, label, g in chosen:
                if g == group:
                    c, record = runner.case(case)
                    results.append((case, label, c, record))
            body = examples_table(results, args.load_threshold)
            records = [r[3] for r in results]
        blocks[group] = block(group, body, machine_line(runner, records), args)
    text = "\n\n".join("\n".join(lines) for lines in blocks.values()) + "\n"
    print(text, end="")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    if args.readme:
        with open(args.readme) as f:
            updated = replace_blocks(f.read(), blocks, args.readme)
        tmp = args.readme + ".tmp"
        with open(tmp, "w") as f:
            f.write(updated)
        os.replace(tmp, args.readme)
        print(f"rewrote {', '.join(blocks)} in {args.readme}", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------------------------
# Self-test: known numbers in, known numbers out; bad input is one line and exit code 2


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


SYNTHETIC_HEADER = ("step,time,dt,mass,outflow,mean_0,mean_1,cov_00,cov_01,cov_10,cov_11,cells,ref_mean_0,"
                    "ref_mean_1,ref_cov_00,ref_cov_01,ref_cov_10,ref_cov_11,err_l1,err_l2,min_level,max_level").split(",")
# A 2D Gaussian run on 32² Q2: mean (2 + 4e-6, -1) against (2, -1), relative error 2e-6; the
# covariance off by 5e-7 in the off-diagonal, largest exact entry 1: 5e-7; the mass defect is
# largest (3e-14) in the middle row.
SYNTHETIC_ROWS = [
    [0, 0, .1, 1, 0, 2, -1, 1, .3, .3, .25, 1024, 2, -1, 1, .3, .3, .25, 0, 0, 0, 0],
    [1, .5, .1, .9, .1 + 3e-14, 2, -1, 1, .3, .3, .25, 1024, 2, -1, 1, .3, .3, .25, 0, 0, 0, 0],
    [2, 1, .1, .8, .2, 2 + 4e-6, -1, 1, .3 + 5e-7, .3 + 5e-7, .25, 1024, 2, -1, 1, .3, .3, .25, 1e-3, 7.8e-3, 0, 0]]


def self_test(args, explicit_tpde):
    """Known numbers in, known numbers out; bad input is one line and exit code 2; with a tpde
    binary, one short run."""
    failures = []

    def check(what, got, expected, tol=None):
        ok = abs(got - expected) <= tol * abs(expected) if tol is not None else got == expected
        if not ok:
            failures.append(f"{what}: got {got!r}, expected {expected!r}")

    with tempfile.TemporaryDirectory() as tmp:
        self_test_columns(check, tmp)
        self_test_pieces(check, failures, tmp)
        self_test_readme(check, failures, tmp)
        self_test_command_line(failures, tmp)
        if explicit_tpde or os.path.isfile(args.tpde):
            self_test_run(args.tpde, check, failures, tmp)
        else:
            print(f"no tpde binary at {args.tpde}: the short run is skipped")
    return report(failures)


def self_test_columns(check, tmp):
    path = os.path.join(tmp, "statistics.csv")
    write_csv(path, SYNTHETIC_HEADER, SYNTHETIC_ROWS)
    c = columns(*read_statistics(path), 2)
    check("mean error", c["mean_error"], 2e-6, 1e-9)
    check("mean kind", c["mean_kind"], "rel.")
    check("covariance error", c["cov_error"], 5e-7, 1e-9)
    check("L2 error", c["l2_error"], 7.8e-3, 1e-15)
    check("mass defect", c["mass_defect"], 3e-14, 2e-2)
    check("mesh", fmt_mesh(c), "32² Q2")
    check("time", fmt_time(c["time"]), "1")
    check("steps", c["steps"], 2)
    check("moment error", moment_error(*read_statistics(path)), 2e-6, 1e-9)

    # Exact mean 0: absolute error. 1D adaptive mesh.
    header = "step,time,mass,outflow,mean_0,cov_00,cells,ref_mean_0,ref_cov_00,err_l2,min_level,max_level"
    write_csv(path, header.split(","), [[0, 0, 1, 0, 0, .25, 5, 0, .25, 0, 0, 0],
                                        [9, .99999999999999989, 1, 0, -3e-17, .5 + 2e-9, 30, 0, .5, 2e-6, 2, 5]])
    c = columns(*read_statistics(path), 3)
    check("absolute mean error", c["mean_error"], 3e-17, 1e-12)
    check("absolute mean cell", fmt_mean(c), "3.0e-17 (abs., exact mean 0)")
    check("variance error", c["cov_error"], 4e-9, 1e-6)
    check("adaptive mesh", fmt_mesh(c), "30 cells Q3 (levels 2–5; 5 at t = 0)")
    check("rounded time", fmt_time(c["time"]), "1")

    # No reference columns (mixture): dashes.
    write_csv(path, "step,time,mass,outflow,mean_0,cov_00,cells".split(","),
              [[0, 0, 1, 0, 0, 1, 160], [1, 1, 1 - 1e-14, 0, 0, 1, 160]])
    c = columns(*read_statistics(path), 1)
    check("no reference", (fmt_mean(c), fmt(c["cov_error"]), fmt(c["l2_error"])), ("—", "—", "—"))
    check("1D mesh", fmt_mesh(c), "160 Q1")


def self_test_pieces(check, failures, tmp):
    check("formatting", [fmt(5.7e-9), fmt(2.26e-14), fmt(0.0), fmt(1.0)], ["5.7e-9", "2.3e-14", "0", "1.0e0"])
    check("quoting", show_command(["a", "Output/write vtu=false"], "1"),
          'DEAL_II_NUM_THREADS=1 a "Output/write vtu=false"')
    prm = os.path.join(tmp, "parameters.prm")
    with open(prm, "w") as f:
        f.write("set dimension = 1\nsubsection Mesh\n  set degree = 7\nend\n"
                "subsection Discretization\n  set degree                = 3 # doc\nend\n")
    check("degree", read_degree(prm), 3)
    parsed = parse_convergence("x.prm, p = 2\n  cells/dir L2 order moment seconds\n"
                               "        40   4.251517e-03      nan      5.847e-05       0.03\n"
                               "        80   5.806450e-04     2.87      2.350e-06       0.07\n")
    check("convergence rows", [r[0] for r in parsed[("x.prm", 2)]], [40, 80])
    check("convergence order", parsed[("x.prm", 2)][1][2], 2.87)
    text = "a\n<!-- validation-table:examples:begin -->\nold\n<!-- validation-table:examples:end -->\nb\n"
    check("README block", replace_blocks(text, {"examples": ["new", "rows"]}, "R"),
          "a\n<!-- validation-table:examples:begin -->\nnew\nrows\n<!-- validation-table:examples:end -->\nb\n")
    try:
        replace_blocks("no markers", {"examples": []}, "R")
        failures.append("README without markers: no error")
    except InputError:
        pass
    record = {"load_start": 0.3, "others_cpu_share": 0.02}
    check("quiet run", under_load(record, 1.5), False)
    check("loaded at start", under_load(dict(record, load_start=2.0), 1.5), True)
    check("others busy", under_load(dict(record, others_cpu_share=0.4), 1.5), True)


def self_test_readme(check, failures, tmp):
    """--no-run --readme on synthetic finished runs of the examples group: the block between the
    markers is rewritten with one row per file, each with its command, and the load footnote."""
    out = os.path.join(tmp, "finished")
    for i, (case, _, group) in enumerate(c for c in CASES if c[2] == "examples"):
        folder = os.path.join(out, case)
        os.makedirs(folder)
        write_csv(os.path.join(folder, "statistics.csv"), SYNTHETIC_HEADER, SYNTHETIC_ROWS)
        with open(os.path.join(folder, "parameters.prm"), "w") as f:
            f.write("subsection Discretization\n  set degree = 2\nend\n")
        write_record(folder, {"command": ["build/tpde", "run", f"parameters/{case}.prm"], "threads_env": None,
                              "wall_seconds": 12.0, "cpu_seconds": 20.0, "load_start": 3.0 if i == 0 else 0.2,
                              "load_max": 3.5, "load_end": 3.1, "others_cpu_share": 0.0,
                              "date": "2026-01-02 03:04 UTC", "version": {"threads per rank": "2"}})
    readme = os.path.join(tmp, "README.md")
    with open(readme, "w") as f:
        f.write("x\n<!-- validation-table:examples:begin -->\nold\n<!-- validation-table:examples:end -->\ny\n")
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--no-run", "--out", out, "--readme", readme],
                          capture_output=True, text=True)
    with open(readme) as f:
        text = f.read()
    rows = [l for l in text.splitlines() if l.startswith("| `")]
    check("README rewrite exit code", done.returncode, 0)
    check("README rows", len(rows), 5)
    check("README commands", all("`build/tpde run parameters/" in r for r in rows), True)
    check("README row", rows[1].split(" | ")[1:5], ["32² Q2", "1", "2", "12 s"])
    check("README footnote", text.count("measured under load†") == 1 and "`default.prm` 3.0 → 3.1" in text, True)
    check("README outside the markers", (text.startswith("x\n<!--"), text.endswith("-->\ny\n"), "old" in text),
          (True, True, False))
    check("README date", "measured 2026-01-02." in text, True)


def self_test_command_line(failures, tmp):
    """Bad input through the command line: exit code 2 and exactly one line on stderr."""
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    prm = os.path.join(tmp, "parameters.prm")
    for what, extra in [("missing run", ["--no-run", "--out", empty, "--cases", "gaussian-1d-collapse"]),
                        ("missing tpde", ["--tpde", os.path.join(tmp, "no-tpde"), "--out", empty]),
                        ("unknown case", ["--no-run", "--out", empty, "--cases", "T99"]),
                        ("bad thread count", ["--no-run", "--out", empty, "--threads", "two"]),
                        ("unknown option", ["--no-run", "--out", empty, "--bogus"]),
                        ("not a tpde binary", ["--tpde", "/bin/true", "--out", empty]),
                        ("partial README group", ["--no-run", "--out", empty, "--cases",
                                                  "gaussian-1d-collapse", "--readme", prm]),
                        ("README without markers", ["--no-run", "--out", empty, "--readme", prm])]:
        done = subprocess.run([sys.executable, os.path.abspath(__file__)] + extra, capture_output=True, text=True)
        lines = done.stderr.strip().splitlines()
        if done.returncode != 2 or len(lines) != 1 or done.stdout:
            failures.append(f"{what}: exit code {done.returncode}, stderr {done.stderr!r}, "
                            f"stdout {done.stdout[:200]!r}")


def self_test_run(tpde, check, failures, tmp):
    """A short real run (T1 to t = 0.05): its table row, and the reuse of the finished run."""
    ns = argparse.Namespace(tpde=tpde, out=os.path.join(tmp, "runs"), rerun=False, no_run=False, threads=None)
    sets = ["Time stepping/end time=0.05"]
    try:
        runner = Runner(ns)
        c, record = runner.case("gaussian-1d-collapse", sets)
        again = runner.case("gaussian-1d-collapse", sets)[1]
    except (InputError, RunError) as e:
        failures.append(f"short run: {e}")
        return
    check("short run mesh", fmt_mesh(c), "160 Q3")
    check("short run time", fmt_time(c["time"]), "0.05")
    if not (c["mass_defect"] < 1e-12 and 0 < c["mean_error"] < 1e-6 and 0 < c["cov_error"] < 1e-6
            and 0 < c["l2_error"] < 1e-4 and record["wall_seconds"] > 0):
        failures.append(f"short run: implausible columns {c}")
    check("finished run reused", (again["date"], again["wall_seconds"]), (record["date"], record["wall_seconds"]))
    row = examples_table([("gaussian-1d-collapse", "T1", c, record)], 1e9)[2]
    if "Output/directory=" not in row or "--set \"Time stepping/end time=0.05\"" not in row:
        failures.append(f"short run: table row without its command: {row}")
    print(row)


def report(failures):
    for f in failures:
        print("FAIL " + f)
    print("self-test " + ("failed" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
