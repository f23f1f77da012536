"""The TPDE Python module for the postprocess scripts, found without the user setting PYTHONPATH.

The scripts run the solver in-process through the module (the same C++ components as `tpde`): no
subprocess, no parsing of printed lines, statistics as NumPy arrays. The module is built by the same
CMake build as `tpde`, into BUILD/python.
"""
import argparse
import importlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class InputError(Exception):
    """Bad input: one line on stderr, exit code 2 (exit_with)."""


class ModuleMissing(InputError):
    """The module is not built (or not importable): the message says where it was looked for."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose errors are InputError (one line, exit 2) instead of a usage text."""

    def __init__(self, program, doc):
        super().__init__(prog=program, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)

    def error(self, message):
        raise InputError(message)


def exit_with(main, program):
    """Runs main(sys.argv[1:]) as a script's entry: its return code; InputError: one line, exit 2; any
    other exception: one line, exit 1 (no stack trace)."""
    try:
        sys.exit(main(sys.argv[1:]))
    except InputError as e:
        print("%s: error: %s" % (program, e), file=sys.stderr)
        sys.exit(2)
    except Exception as e:  # internal error: one line
        print("%s: internal error: %s: %s" % (program, type(e).__name__, e), file=sys.stderr)
        sys.exit(1)


def default_build():
    """$TPDE_BUILD, else the source tree's build/."""
    return os.environ.get("TPDE_BUILD", os.path.join(ROOT, "build"))


def load(build=None):
    """Imports and returns `tpde` from BUILD/python (first on sys.path), else from PYTHONPATH. A module
    imported before from another folder than an explicitly given BUILD is refused (one per process)."""
    folder = os.path.join(os.path.abspath(build or default_build()), "python")
    if "tpde" in sys.modules:
        module = sys.modules["tpde"]
        where = os.path.dirname(os.path.dirname(os.path.abspath(module.__file__)))
        if build is not None and os.path.isdir(os.path.join(folder, "tpde")) and where != folder:
            raise ModuleMissing("the tpde module of %s is already imported; %s needs another process" % (where, folder))
        return module
    if os.path.isdir(os.path.join(folder, "tpde")) and folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        return importlib.import_module("tpde")
    except ImportError as e:
        raise ModuleMissing("the tpde Python module is not importable from %s (build it: cmake --build %s; "
                            "needs Debian's pybind11-dev and python3-dev): %s"
                            % (folder, build or default_build(), e))


def output_folder(path):
    """Creates the output folder (and its parents) or raises InputError naming it."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise InputError("output folder '%s': %s" % (path, e.strerror))
    return path


def solver_errors_as_input(tpde, work, *args, **kwargs):
    """work(*args, **kwargs) with the module's InputError, and a PhysicalFailure (a run that stopped,
    its output kept), raised as this module's InputError: one line, exit 2 under exit_with."""
    try:
        return work(*args, **kwargs)
    except tpde.InputError as e:
        raise InputError(str(e))
    except tpde.PhysicalFailure as e:
        raise InputError("a run stopped (its output is kept in %s): %s" % (getattr(e, "output_dir", "?"), e))


def overrides(entries):
    """Command-line style 'Subsection/entry=value' texts as the module's {entry: value} dict."""
    result = {}
    for text in entries:
        if "=" not in text:
            raise ValueError("--set '%s': expected Subsection/entry=value" % text)
        name, value = text.split("=", 1)
        result[name.strip()] = value.strip()
    return result
