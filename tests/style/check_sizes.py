#!/usr/bin/env python3
"""Size limits for the C++ sources: no file over 700 lines, no function over 120.

Usage:
  check_sizes.py [ROOT] [--allow FILE] [--no-allowlist] [--list-functions]
  check_sizes.py --self-test

Scans the .h and .cc files below ROOT/solver, ROOT/postprocess and ROOT/tests
(ROOT defaults to the repository this script sits in; tests/style/fixtures is
left out: it holds the self-test's deliberate offenders). Exit code 1 and one
line per offender (file:line, name, length) if a file has more than 700 lines
or a function more than 120; 0 otherwise; 2 for bad usage.

A function's length counts from the first line of its signature (after any
`template <...>` clause) to the line of its closing brace, blank and comment
lines included. Functions are found with a heuristic for this code base's
style (deal.II/GNU layout, braces usually on their own lines):

  * comments, string and character literals and preprocessor lines
    (with their continuations) are blanked first, keeping the line numbers;
  * every `{` gets a head: the code since the previous `;`, `{` or `}` at
    the same level;
  * at namespace or class scope a head starting with namespace, class,
    struct, union, enum or extern opens a scope whose blocks are examined in
    turn; a head ending in a parameter list `)` (optionally followed by
    const, noexcept, override, final, a trailing return type or a
    constructor's initializer list) and holding no top-level `=` opens a
    function (TEST(...) bodies included); a head ending in a lambda
    introducer and parameter list (`auto f = [..](..) {`) is a function
    too; any other block (an initializer `= {...}`) is opaque;
  * everything inside a function, lambdas and local classes included, is
    part of that function.

The allowlist (default ROOT/tests/style/allowlist.txt, or --allow FILE) names
files, one path relative to ROOT per line, `#` starts a comment; offences in a
listed file are reported as allowed and do not fail the check. Entries that no
longer offend (or no longer exist) are reported as stale, also without failing.
"""

import argparse
import os
import re
import sys

MAX_FILE_LINES = 700
MAX_FUNCTION_LINES = 120
SCANNED_FOLDERS = ("solver", "postprocess", "tests")
EXCLUDED_FOLDERS = (os.path.join("tests", "style", "fixtures"),)
EXTENSIONS = (".h", ".cc")
SCOPE_KEYWORDS = ("namespace", "class", "struct", "union", "enum", "extern")
CONTROL_KEYWORDS = ("if", "for", "while", "switch", "catch", "do", "else", "try", "return")


def blank_non_code(text):
    """Comments, literals and preprocessor lines replaced by spaces; newlines kept."""
    out = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c in " \t":
            out.append(c)
            i += 1
            continue
        if line_start and c == "#":
            # A preprocessor line, with backslash continuations.
            while i < n:
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append(" \n")
                    i += 2
                    continue
                if text[i] == "\n":
                    break
                out.append(" ")
                i += 1
            continue
        line_start = False
        if c == "\n":
            out.append(c)
            line_start = True
            i += 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                out.append(" ")
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            match = re.match(r'R"([^(\s]*)\(', text[i:])
            if match:
                close = ")" + match.group(1) + '"'
                end = text.find(close, i + match.end())
                end = n if end < 0 else end + len(close)
                out.append('""' + re.sub(r"[^\n]", " ", text[i + 2:end]))
                i = end
            else:
                out.append(c)
                i += 1
        elif c == '"' or (c == "'" and not (i > 0 and text[i - 1].isalnum())):
            # A string or character literal (a quote after a digit or letter
            # is a digit separator or part of a prefix, e.g. 1'000).
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * (j - i - 2) + c if j - i >= 2 else c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def strip_leading(head):
    """Drops template clauses, access labels, attributes and bare macro lines
    from the front of a head; returns (offset into head, rest)."""
    offset = 0
    while True:
        rest = head[offset:]
        stripped = rest.lstrip()
        skip = len(rest) - len(stripped)
        match = re.match(r"template\s*<", stripped)
        if match:
            depth, k = 1, match.end()
            while k < len(stripped) and depth:
                depth += {"<": 1, ">": -1}.get(stripped[k], 0)
                k += 1
            offset += skip + k
            continue
        match = re.match(r"(public|private|protected)\s*:(?!:)", stripped)
        if match:
            offset += skip + match.end()
            continue
        match = re.match(r"\[\[.*?\]\]", stripped, re.S)
        if match:
            offset += skip + match.end()
            continue
        match = re.match(r"[A-Z_][A-Z0-9_]*[ \t]*\n", stripped)  # a macro invocation without semicolon
        if match:
            offset += skip + match.end()
            continue
        return offset + skip, stripped


def top_level(text):
    """The text with everything inside (), [] and {} replaced by spaces."""
    depth, out = 0, []
    for c in text:
        if c in "([{":
            depth += 1
            out.append(c if depth == 1 else " ")
        elif c in ")]}":
            out.append(c if depth == 1 else " ")
            depth = max(depth - 1, 0)
        else:
            out.append(c if depth == 0 else " ")
    return "".join(out)


FUNCTION_TAIL = re.compile(
    r"\)\s*((const|volatile|noexcept|override|final|mutable|constexpr|&&|&)\s*)*"
    r"(->\s*[^{;]*)?\s*(:[^:][^{;]*)?$",
    re.S)
LAMBDA_TAIL = re.compile(r"\]\s*(\([^()]*\))?\s*((mutable|constexpr|noexcept)\s*)*(->\s*[\w:<>,\s*&]+)?\s*$", re.S)


def has_assignment(level):
    level = re.sub(r"\boperator\s*(\(\s*\)|[^\s(]+)", "operator", level)
    return re.search(r"(?<![=!<>+\-*/%&|^])=(?!=)", level) is not None


def function_name(head):
    """A readable name: TEST(A, B) for upper-case macros, else the declarator's qualified id."""
    level = top_level(head)
    if LAMBDA_TAIL.search(head.rstrip()) and has_assignment(level):
        before = re.findall(r"\w+", re.split(r"(?<![=!<>])=(?!=)", level)[0])
        return (before[-1] if before else "lambda") + " (lambda)"
    # The parameter list: the last top-level (...) before any initializer list or trailing return type.
    cut = re.search(r"\)\s*((const|volatile|noexcept|override|final|mutable|constexpr|&&|&)\s*)*(:(?!:)|->)", level)
    if cut:
        level = level[: cut.start() + 1]
    for match in reversed(list(re.finditer(r"\(", level))):
        prefix = head[: match.start()].rstrip()
        if re.search(r"\boperator\s*$", prefix):
            continue
        name = re.search(r"(~?[\w]+(\s*<[^<>()]*>)?(\s*::\s*~?[\w]+(\s*<[^<>()]*>)?)*|operator\s*\(\s*\)|operator\s*\S+)\s*$",
                         prefix)
        if name is None:
            continue
        text = re.sub(r"\s+", " ", name.group(1))
        if re.fullmatch(r"[A-Z_][A-Z0-9_]*", text):
            close = level.find(")", match.start())
            return text + re.sub(r"\s+", " ", head[match.start(): close + 1])
        if text in CONTROL_KEYWORDS:
            return None
        return text
    return "?"


def classify(head):
    """'scope', 'function' or 'block' for the head of a `{` at namespace/class scope."""
    offset, rest = strip_leading(head)
    body = rest.strip()
    first = re.match(r"\w+", body)
    if first and first.group(0) in SCOPE_KEYWORDS:
        if first.group(0) == "enum" or re.match(r"(class|struct|union)\b[^=()]*$", body) or \
                first.group(0) in ("namespace", "extern"):
            return "scope", offset
        return "block", offset
    if not body:
        return "block", offset
    if first and first.group(0) in CONTROL_KEYWORDS:
        return "block", offset
    level = top_level(body)
    if LAMBDA_TAIL.search(body) and "[" in level:
        return "function", offset
    if has_assignment(level.split("(")[0]) or body.endswith(","):
        return "block", offset
    if FUNCTION_TAIL.search(level) and "(" in level:
        return "function", offset
    return "block", offset


def find_functions(text):
    """[(name, first line, last line)] of the functions in C++ source text."""
    code = blank_non_code(text)
    line_of = []  # line number of every character
    line = 1
    for c in code:
        line_of.append(line)
        if c == "\n":
            line += 1
    functions = []
    # Stack of open blocks: (kind, start offset of its content); kinds 'scope', 'function', 'block'.
    stack = [("scope", 0)]
    head_start = 0
    function_stack = []  # (name, first line) parallel to the 'function' entries
    for i, c in enumerate(code):
        if c == "{":
            kind_above = stack[-1][0]
            if kind_above == "scope":
                head = code[head_start:i]
                kind, offset = classify(head)
                if kind == "function":
                    k = head_start + offset
                    while k < i and code[k].isspace():
                        k += 1
                    function_stack.append((function_name(code[k:i]) or "?", line_of[k]))
            else:
                kind = "inner"
            stack.append((kind, i + 1))
            head_start = i + 1
        elif c == "}":
            if len(stack) > 1:
                kind, _ = stack.pop()
                if kind == "function":
                    name, first = function_stack.pop()
                    functions.append((name, first, line_of[i]))
            head_start = i + 1
        elif c == ";":
            head_start = i + 1
    return functions


def scan_file(path, display):
    """Offences of one file: [(display path, line, name, length, limit)]."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    offences = []
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if lines > MAX_FILE_LINES:
        offences.append((display, 1, "(file)", lines, MAX_FILE_LINES))
    for name, first, last in find_functions(text):
        length = last - first + 1
        if length > MAX_FUNCTION_LINES:
            offences.append((display, first, name, length, MAX_FUNCTION_LINES))
    return offences


def source_files(root):
    for folder in SCANNED_FOLDERS:
        base = os.path.join(root, folder)
        for directory, subdirectories, files in os.walk(base):
            relative = os.path.relpath(directory, root)
            subdirectories[:] = sorted(d for d in subdirectories
                                       if os.path.join(relative, d) not in EXCLUDED_FOLDERS)
            for name in sorted(files):
                if name.endswith(EXTENSIONS):
                    yield os.path.join(directory, name), os.path.normpath(os.path.join(relative, name))


def read_allowlist(path):
    allowed = set()
    with open(path, encoding="utf-8") as f:
        for raw in f:
            entry = raw.split("#", 1)[0].strip()
            if entry:
                allowed.add(os.path.normpath(entry))
    return allowed


def format_offence(offence):
    path, line, name, length, limit = offence
    what = "file has" if name == "(file)" else "function " + name + " has"
    return "%s:%d: %s %d lines (limit %d)" % (path, line, what, length, limit)


def check(root, allowlist_path):
    allowed = read_allowlist(allowlist_path) if allowlist_path else set()
    failing, tolerated, offending_files, scanned = [], [], set(), 0
    for path, display in source_files(root):
        scanned += 1
        for offence in scan_file(path, display):
            offending_files.add(display)
            (tolerated if display in allowed else failing).append(offence)
    for offence in tolerated:
        print("allowed: " + format_offence(offence))
    for entry in sorted(allowed - offending_files):
        print("stale allowlist entry (no offence found, remove it): " + entry)
    for offence in failing:
        print(format_offence(offence))
    print("%d files scanned, %d offences (%d allowed by %s)" %
          (scanned, len(failing) + len(tolerated), len(tolerated), allowlist_path or "no allowlist"))
    return 1 if failing else 0


def self_test():
    """The fixtures hold exactly one 701-line file and one 121-line function;
    the other functions there must be found with their exact lengths."""
    here = os.path.dirname(os.path.abspath(__file__))
    fixtures = os.path.join(here, "fixtures")
    expected_offences = {
        ("file_701_lines.cc", "(file)", 701),
        ("function_121_lines.cc", "function_of_121_lines", 121),
    }
    # Functions the heuristic must find, with their lengths (signature to closing brace).
    expected_functions = {
        "function_121_lines.cc": {("function_of_121_lines", 121), ("short_helper", 4)},
        "function_120_lines.cc": {("Accumulator", 3), ("add", 4), ("total", 1), ("Accumulator::doubled", 4),
                                  ("twice (lambda)", 3), ("spread_over", 6), ("operator()", 1),
                                  ("function_of_120_lines", 120), ("TEST(Fixture, ShortTest)", 4)},
        "file_701_lines.cc": {("first_short_function", 4), ("last_short_function", 4)},
    }
    problems = []
    found_offences = set()
    for name in sorted(os.listdir(fixtures)):
        if not name.endswith(EXTENSIONS):
            continue
        path = os.path.join(fixtures, name)
        for _, _, what, length, _ in scan_file(path, name):
            found_offences.add((name, what, length))
        with open(path, encoding="utf-8") as f:
            functions = {(what, last - first + 1) for what, first, last in find_functions(f.read())}
        if name in expected_functions and functions != expected_functions[name]:
            problems.append("%s: functions found %s, expected %s" %
                            (name, sorted(functions), sorted(expected_functions[name])))
    if found_offences != expected_offences:
        problems.append("offences found %s, expected exactly %s" % (sorted(found_offences), sorted(expected_offences)))
    if sorted(expected_functions) != sorted(n for n in os.listdir(fixtures) if n.endswith(EXTENSIONS)):
        problems.append("fixture files changed: expected exactly " + ", ".join(sorted(expected_functions)))
    for problem in problems:
        print("self-test: " + problem)
    print("self-test: " + ("FAILED" if problems else "passed (%d offences, %d fixture files)" %
                           (len(found_offences), len(expected_functions))))
    return 1 if problems else 0


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", nargs="?", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    parser.add_argument("--allow", metavar="FILE", help="allowlist (default ROOT/tests/style/allowlist.txt if present)")
    parser.add_argument("--no-allowlist", action="store_true", help="report every offence as failing")
    parser.add_argument("--self-test", action="store_true", help="check the checker on tests/style/fixtures")
    parser.add_argument("--list-functions", metavar="FILE", help="print the functions found in FILE with their lengths")
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test()
    if args.list_functions:
        with open(args.list_functions, encoding="utf-8") as f:
            for name, first, last in find_functions(f.read()):
                print("%5d %5d  %s" % (first, last - first + 1, name))
        return 0
    root = os.path.abspath(args.root)
    if not all(os.path.isdir(os.path.join(root, folder)) for folder in SCANNED_FOLDERS):
        print("check_sizes.py: %s does not hold %s" % (root, ", ".join(SCANNED_FOLDERS)))
        return 2
    allowlist = None
    if not args.no_allowlist:
        allowlist = args.allow or os.path.join(root, "tests", "style", "allowlist.txt")
        if not os.path.isfile(allowlist):
            if args.allow:
                print("check_sizes.py: no allowlist " + allowlist)
                return 2
            allowlist = None
    return check(root, allowlist)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
