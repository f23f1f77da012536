#!/usr/bin/python3
"""Exports the attention weights of a model to a TPDE weights file (`Layers/weights file`).

Input: a NumPy .npz archive, or a PyTorch state dict (.pt/.pth, only when torch is importable; that
path is not exercised by the tests, which run without torch). Each layer's tensors are found by a
key template with {layer} (0, 1, ...) and {key} (Q, K, V, beta, or any key of the weights file's
"attention" object, e.g. "head Q"); the layers are 0, 1, ... until the first missing one:

    export_weights.py model.npz -o weights.json --dimension 2 --tokens tokens.npy \
        --tokens-out tokens.csv

with the default template "layers.{layer}.attention.{key}" (e.g. layers.0.attention.Q, a k x D
array; beta a scalar). --in-proj TEMPLATE reads Q, K and V from one stacked (3 D) x D tensor as
PyTorch's nn.MultiheadAttention stores them (in_proj_weight), and --out-proj TEMPLATE multiplies V by
the output projection (V := W_O V; one head). Biases of the projections are not part of the model
(physics.md §1.2) and are ignored.

Projection (README.md, "Weights from a trained model"). For a model of width D larger than the
solver's dimension d, the file carries a d x D matrix P with orthonormal rows and the solver uses
Q P^T, K P^T and P V P^T; tokens are z = P x. P is --projection FILE.npy, or the top d principal
directions of the tokens given by --tokens (an N x D array, or L x N x D: one snapshot per layer
boundary, of which the first defines P). --tokens-out writes the projected tokens as the CSV that
`Particles/import file` reads (columns x, y[, z], time = the snapshot's index; set
`Particles/import time scale` to the layer duration).

--self-test checks the .npz path (export, projection, tokens, errors) on a random model and, with
--tpde, validates the exported file with `tpde --validate`.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

KEYS = ["Q", "K", "V", "beta", "bias", "sinkhorn epsilon", "heads", "head Q", "head K", "head C", "head beta"]


def load_arrays(path):
    """name -> numpy array of an .npz archive or a PyTorch state dict."""
    if path.endswith(".npz"):
        with np.load(path) as archive:
            return {name: np.asarray(archive[name], dtype=float) for name in archive.files}
    try:
        import torch  # noqa: F401 (optional)
    except ImportError:
        raise SystemExit(f"{path}: not an .npz file, and reading a PyTorch state dict needs torch (not importable)")
    state = torch.load(path, map_location="cpu")
    if hasattr(state, "state_dict"):
        state = state.state_dict()
    return {name: value.detach().cpu().double().numpy() for name, value in state.items() if hasattr(value, "detach")}


def model_layers(arrays, template, in_proj=None, out_proj=None):
    """The layers as lists of {key: array}, in layer order, until the first layer without a key."""
    layers = []
    while True:
        layer = {}
        for key in KEYS:
            name = template.format(layer=len(layers), key=key)
            if name in arrays:
                layer[key] = arrays[name]
        if in_proj and in_proj.format(layer=len(layers)) in arrays:
            stacked = arrays[in_proj.format(layer=len(layers))]
            D = stacked.shape[1]
            if stacked.shape != (3 * D, D):
                raise SystemExit(f"{in_proj.format(layer=len(layers))}: expected a (3 D) x D matrix, got {stacked.shape}")
            layer["Q"], layer["K"], layer["V"] = stacked[:D], stacked[D:2 * D], stacked[2 * D:]
            layer.setdefault("beta", np.array(1 / math.sqrt(D)))
        if out_proj and out_proj.format(layer=len(layers)) in arrays and "V" in layer:
            layer["V"] = arrays[out_proj.format(layer=len(layers))] @ layer["V"]
        if not layer:
            return layers
        layers.append(layer)


def principal_directions(tokens, d):
    """The top d principal directions (rows, orthonormal) of N x D tokens."""
    centered = tokens - tokens.mean(axis=0)
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    return vt[:d]


def orthonormalize(p):
    """Rows made orthonormal to round-off (QR); the span and orientation are kept."""
    q, r = np.linalg.qr(p.T)
    return (q * np.sign(np.diag(r))).T


def to_list(a, digits):
    """Nested lists of floats, rounded to `digits` significant digits (None: exact)."""
    a = np.asarray(a, dtype=float)
    if digits is not None:
        a = np.vectorize(lambda x: float(f"{x:.{digits}g}"))(a) if a.size else a
    return a.tolist()


def weights_document(layers, projection, model_dimension, digits=None, description=None):
    """The weights file's JSON object (README.md)."""
    doc = {"format": "tpde-weights", "version": 1, "model dimension": int(model_dimension)}
    if description:
        doc["description"] = description
    if projection is not None:
        doc["projection"] = to_list(projection, None)  # exact: P P^T = I is checked to 1e-10
    doc["layers"] = []
    for layer in layers:
        attention = {}
        for key, value in layer.items():
            value = np.asarray(value, dtype=float)
            if key in ("beta", "bias", "sinkhorn epsilon"):
                attention[key] = float(to_list(value.reshape(()), digits))
            elif key == "heads":
                attention[key] = int(value)
            else:
                attention[key] = to_list(value, digits)
        doc["layers"].append({"attention": attention})
    return doc


def write_weights(path, doc):
    """One row of a matrix per line: small diffs, readable by eye."""
    text = json.dumps(doc, indent=1, allow_nan=True)
    # json.dumps puts every number on its own line; join the innermost arrays back.
    lines, out, buffer = text.split("\n"), [], None
    for line in lines:
        stripped = line.strip()
        if buffer is not None:
            buffer += " " + stripped
            if stripped.startswith("]"):
                out.append(buffer.replace("[ ", "[").replace(" ]", "]"))
                buffer = None
            continue
        if stripped.endswith("[") and not stripped.startswith('"layers"'):
            buffer = line.rstrip()
            continue
        out.append(line)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def write_tokens(path, snapshots, projection):
    """Projected tokens z = P x as the token CSV (time = snapshot index)."""
    d = projection.shape[0]
    names = ["x", "y", "z"][:d]
    with open(path, "w") as f:
        f.write("# tokens z = P x of export_weights.py; time = layer boundary index\n")
        f.write(",".join(names + ["time"]) + "\n")
        for index, tokens in enumerate(snapshots):
            for z in tokens @ projection.T:
                f.write(",".join(f"{v:.9g}" for v in z) + f",{index}\n")


def export(args):
    arrays = load_arrays(args.model)
    layers = model_layers(arrays, args.template, args.in_proj, args.out_proj)
    if not layers:
        raise SystemExit(f"{args.model}: no layer found with the template '{args.template}' (keys: "
                         f"{', '.join(sorted(arrays)[:8])}...)")
    first = layers[0]
    D = (first["V"].shape[0] if "V" in first else first["Q"].shape[1] if "Q" in first else args.dimension)
    snapshots = None
    if args.tokens:
        tokens = np.load(args.tokens)
        snapshots = tokens if tokens.ndim == 3 else tokens[None]
        if snapshots.shape[2] != D:
            raise SystemExit(f"{args.tokens}: expected tokens of dimension {D}, got {snapshots.shape[2]}")
    if args.projection:
        projection = orthonormalize(np.load(args.projection))
    elif snapshots is not None and D != args.dimension:
        projection = principal_directions(snapshots[0], args.dimension)
    elif D == args.dimension:
        projection = np.eye(D)
    else:
        raise SystemExit(f"a model of dimension {D} needs --projection or --tokens to project onto d = {args.dimension}")
    doc = weights_document(layers, None if D == args.dimension and not args.projection else projection, D,
                           args.digits, args.description)
    write_weights(args.output, doc)
    if args.tokens_out:
        if snapshots is None:
            raise SystemExit("--tokens-out needs --tokens")
        write_tokens(args.tokens_out, snapshots, projection)
    return doc, projection


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", help="model weights: .npz, or a PyTorch state dict (needs torch)")
    parser.add_argument("-o", "--output", help="the weights file to write (JSON)")
    parser.add_argument("--dimension", type=int, default=2, help="the solver's token dimension d (1-3, default 2)")
    parser.add_argument("--template", default="layers.{layer}.attention.{key}",
                        help="name of a layer's array: {layer} from 0, {key} one of " + ", ".join(KEYS))
    parser.add_argument("--in-proj", help="template ({layer}) of a stacked (3 D) x D Q/K/V tensor")
    parser.add_argument("--out-proj", help="template ({layer}) of the output projection W_O (V := W_O V)")
    parser.add_argument("--projection", help=".npy d x D projection (rows made orthonormal)")
    parser.add_argument("--tokens", help=".npy tokens N x D or L x N x D: P from their principal directions")
    parser.add_argument("--tokens-out", help="CSV of the projected tokens for Particles/import file")
    parser.add_argument("--digits", type=int, help="significant digits of the weights (default: exact)")
    parser.add_argument("--description", help="free text stored in the file")
    parser.add_argument("--self-test", action="store_true", help="test the .npz path and exit")
    parser.add_argument("--tpde", help="with --self-test: validate the exported file with this tpde")
    args = parser.parse_args(argv)
    if not args.self_test and (not args.model or not args.output):
        parser.error("expected a model and -o OUTPUT (or --self-test)")
    if not 1 <= args.dimension <= 3:
        parser.error("--dimension must be 1, 2 or 3")
    return args


def self_test(tpde):
    rng = np.random.default_rng(3)
    D, d, L, k, N = 6, 2, 2, 3, 40
    failures = []

    def check(condition, what):
        print(("ok    " if condition else "FAIL  ") + what)
        if not condition:
            failures.append(what)

    with tempfile.TemporaryDirectory() as tmp:
        arrays = {}
        for l in range(L):
            arrays[f"layers.{l}.attention.Q"] = rng.normal(size=(k, D))
            arrays[f"layers.{l}.attention.K"] = rng.normal(size=(k, D))
            arrays[f"layers.{l}.attention.V"] = -np.eye(D) + 0.1 * rng.normal(size=(D, D))
            arrays[f"layers.{l}.attention.beta"] = np.array(0.5 + l)
        np.savez(os.path.join(tmp, "model.npz"), **arrays)
        scales = np.array([2.0, 1.0] + [0.1] * (D - 2))
        tokens = rng.normal(size=(L + 1, N, D)) * scales
        np.save(os.path.join(tmp, "tokens.npy"), tokens)
        out, csv = os.path.join(tmp, "w.json"), os.path.join(tmp, "tokens.csv")
        doc, P = export(parse_arguments([os.path.join(tmp, "model.npz"), "-o", out, "--tokens",
                                         os.path.join(tmp, "tokens.npy"), "--tokens-out", csv]))
        with open(out) as f:
            back = json.load(f)
        check(back == json.loads(json.dumps(doc)), "the written file reads back to the document")
        check(back["model dimension"] == D and len(back["layers"]) == L, "model dimension and layer count")
        P_file = np.array(back["projection"])
        check(np.abs(P_file @ P_file.T - np.eye(d)).max() < 1e-14, "projection rows orthonormal")
        top = np.linalg.eigh(np.cov(tokens[0].T))[1][:, ::-1][:, :d].T
        check(np.abs(np.abs(top @ P_file.T) - np.eye(d)).max() < 1e-10, "projection = top principal directions")
        V = np.array(back["layers"][1]["attention"]["V"])
        check(np.array_equal(V, arrays["layers.1.attention.V"]), "weights exact (not projected in the file)")
        rows = np.loadtxt(csv, delimiter=",", skiprows=2)
        check(rows.shape == ((L + 1) * N, d + 1), "tokens CSV: one row per token and snapshot")
        check(np.abs(rows[N:2 * N, :d] - tokens[1] @ P_file.T).max() < 1e-8, "tokens CSV holds z = P x")
        np.savez(os.path.join(tmp, "empty.npz"), other=np.zeros(2))
        result = subprocess.run([sys.executable, __file__, os.path.join(tmp, "empty.npz"), "-o", out],
                                capture_output=True, text=True)
        check(result.returncode != 0 and "no layer found" in result.stderr, "a model without layers is refused")
        if tpde:
            prm = os.path.join(tmp, "check.prm")
            with open(prm, "w") as f:
                f.write("set dimension = 2\nsubsection Layers\n  set weights file = w.json\n  set duration = 0.5\n"
                        "end\nsubsection Particles\n  set import file = tokens.csv\n  set import time scale = 0.5\n"
                        "end\nsubsection Output\n  set directory = " + os.path.join(tmp, "out") + "\nend\n")
            result = subprocess.run([tpde, "--validate", prm], capture_output=True, text=True)
            check(result.returncode == 0, "tpde --validate accepts the file: " + result.stdout.strip()[-200:] +
                  result.stderr.strip())
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


def main(argv):
    args = parse_arguments(argv)
    if args.self_test:
        return self_test(args.tpde)
    doc, _ = export(args)
    print(f"wrote {args.output}: {len(doc['layers'])} layers, model dimension {doc['model dimension']}"
          + (f", tokens {args.tokens_out}" if args.tokens_out else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
