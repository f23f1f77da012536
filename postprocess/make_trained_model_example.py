#!/usr/bin/python3
"""Generates the shipped trained-model example (issue 15): a tiny random "model" and its tokens.

    postprocess/make_trained_model_example.py            # rewrites the three files below
    postprocess/make_trained_model_example.py --check    # regenerates them elsewhere, compares (a ctest)

Seeded NumPy only, so the files are reproducible byte for byte:
  * a model of width D = 8 with 3 attention layers (Q, K of 4 x 8, V of 8 x 8, beta = 1/2), its
    weights rounded to 6 digits; layer 1 contracts, layer 2 rotates, layer 3 contracts anisotropically;
  * 64 tokens in R^8, Gaussian with two dominant directions, moved through the model by the particle
    system of the PDE in R^8 (RK4, 50 steps per layer of duration 0.5): the model's "hidden states" at
    the layer boundaries t = 0, 0.5, 1, 1.5;
  * the projection P: the top 2 principal directions of the tokens at t = 0.
Written with postprocess/export_weights.py (same P for the weights and the tokens):
  parameters/data/trained-model-2d.json         the weights file (D = 8, with P)
  parameters/data/trained-model-2d-tokens.csv   the hidden states, projected: z = P x, time = layer index
  parameters/trained-model-2d.prm               the run: the Gaussian fit of the projected tokens at
                                                t = 0 pushed through the projected layers
"""
import filecmp
import os
import re
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_weights  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
D, LAYERS, HEAD_DIM, TOKENS, TAU, STEPS = 8, 3, 4, 64, 0.5, 50


def random_model(rng):
    """Per layer {Q, K, V, beta}, rounded to 6 significant digits (the file's values exactly)."""
    layers = []
    centres = [-0.8 * np.eye(D), 0.1 * np.eye(D), np.diag(np.linspace(-1.5, -0.3, D))]
    for l in range(LAYERS):
        skew = rng.normal(size=(D, D))
        skew = (skew - skew.T) / 2 * (0.6 if l == 1 else 0.1)
        layer = {"Q": rng.normal(size=(HEAD_DIM, D)) / np.sqrt(D),
                 "K": rng.normal(size=(HEAD_DIM, D)) / np.sqrt(D),
                 "V": centres[l] + skew + 0.05 * rng.normal(size=(D, D)),
                 "beta": np.array(1 / np.sqrt(HEAD_DIM))}
        layers.append({key: np.array(export_weights.to_list(value, 6)) for key, value in layer.items()})
    return layers


def velocity(x, layer):
    """The PDE's particle velocity in R^D: softmax_j(beta <Q x_i, K x_j>) V x_j."""
    scores = layer["beta"] * (x @ layer["Q"].T) @ (x @ layer["K"].T).T
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    return weights @ (x @ layer["V"].T)


def hidden_states(x, layers):
    """Snapshots at the layer boundaries (RK4, STEPS per layer)."""
    snapshots, h = [x.copy()], TAU / STEPS
    for layer in layers:
        for _ in range(STEPS):
            k1 = velocity(x, layer)
            k2 = velocity(x + h / 2 * k1, layer)
            k3 = velocity(x + h / 2 * k2, layer)
            k4 = velocity(x + h * k3, layer)
            x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        snapshots.append(x.copy())
    return np.array(snapshots)


PRM = """# Weights read from a trained model (issue 15): a tiny random model of width D = 8 with three
# attention layers, generated with its tokens by postprocess/make_trained_model_example.py (seeded;
# rerun it to rewrite this file and data/trained-model-2d.*). The weights file data/trained-model-2d.json
# holds Q, K (4 x 8), V (8 x 8) and beta per layer and the projection P (2 x 8, orthonormal rows: the
# top two principal directions of the tokens at t = 0); tpde uses Q P^T, K P^T and P V P^T (README.md,
# "Weights from a trained model"). Layers/count comes from the file (3).
#   layer 1, t in [0, 0.5):   contraction (V ~ -0.8 I)
#   layer 2, t in [0.5, 1):   rotation (V ~ 0.1 I + a skew part)
#   layer 3, t in [1, 1.5]:   anisotropic contraction (V ~ diag(-1.5 ... -0.3))
# Initial condition: the Gaussian with the mean and covariance of the 64 projected tokens at t = 0, so
# softmax keeps it Gaussian and the ref_* columns are exact (moment ODE layer by layer).
# The model's own hidden states (the tokens moved in R^8, then projected: data/trained-model-2d-tokens.csv)
# are written with their projected velocities by
#   tpde particles parameters/trained-model-2d.prm \\
#     --set "Particles/import file=data/trained-model-2d-tokens.csv" --set "Particles/import time scale=0.5"
# They follow the projected PDE only roughly: 64 tokens, and span(P^T) is not invariant under the
# model's V (the projected model is its Galerkin projection).
# Measured (20 x 20 Q2, 44 steps, about 8 s): |mean - ref| <= 7.2e-7, |Sigma - ref| <= 3.1e-6, outflow
# 1.5e-7. Against the projected hidden states at t = 0.5, 1, 1.5 the grid's mean and covariance differ
# by at most 0.025 (t = 1.5: mean (0.281, 0.210) against (0.264, 0.206), Sigma_00 1.068 against 1.091).
# tpde particles (4000 tokens, step 0.01): about 30 s; at t = 1.5 |mean - ref| = 5e-3, |Sigma - ref| = 0.04.
set dimension = 2

subsection Mesh
  set lower corner = {lower}
  set upper corner = {upper}
  set subdivisions = 20
  set global refinements = 0
end

subsection Discretization
  set degree = 2
end

subsection Layers
  set weights file = data/trained-model-2d.json
  set duration = {tau}
end

subsection Attention
  set type = softmax
end

subsection Initial condition
  set type = gaussian
  set mean = {mean}
  set covariance = {covariance}
end

subsection Time stepping
  set end time = {end}
  set cfl = 0.5
end

subsection Output
  set directory = output/trained-model-2d
  set interval = 0.25
end

subsection Particles
  set number of tokens = 4000
  set time step = 0.01
end
"""


def generate(root):
    """Writes the example below `root` (the repository, or a scratch copy of its layout)."""
    rng = np.random.default_rng(2026)
    layers = random_model(rng)
    basis = np.linalg.qr(rng.normal(size=(D, D)))[0]
    scales = np.array([1.0, 0.6] + [0.15] * (D - 2))
    x0 = (rng.normal(size=(TOKENS, D)) * scales) @ basis.T + basis[:, :2] @ np.array([0.6, -0.4])
    snapshots = hidden_states(x0, layers)

    data = os.path.join(root, "parameters", "data")
    os.makedirs(data, exist_ok=True)
    P = export_weights.principal_directions(snapshots[0], 2)
    P = export_weights.orthonormalize(P)
    doc = export_weights.weights_document(layers, P, D, 6, "random 3-layer model of width 8, "
                                          "postprocess/make_trained_model_example.py")
    export_weights.write_weights(os.path.join(data, "trained-model-2d.json"), doc)
    export_weights.write_tokens(os.path.join(data, "trained-model-2d-tokens.csv"), snapshots, P)

    z = snapshots[0] @ P.T
    mean, cov = z.mean(axis=0), np.cov(z.T, bias=True)
    reach = max(np.abs(snapshots @ P.T).max(), np.abs(mean).max() + 5 * np.sqrt(cov.diagonal().max()))
    half = float(np.ceil(reach))
    number = lambda v: f"{round(v, 6) + 0:.6g}"  # noqa: E731 (no -0, no 1e-17 from round-off)
    with open(os.path.join(root, "parameters", "trained-model-2d.prm"), "w") as f:
        f.write(PRM.format(lower=number(-half), upper=number(half), tau=TAU, end=LAYERS * TAU,
                           mean=", ".join(number(v) for v in mean),
                           covariance="; ".join(", ".join(number(v) for v in row) for row in cov)))
    for t, s in enumerate(snapshots):
        zt = s @ P.T
        print(f"t = {t * TAU}: projected tokens mean {np.round(zt.mean(axis=0), 4)}, "
              f"cov {np.round(np.cov(zt.T, bias=True), 4).tolist()}")
    print(f"wrote parameters/trained-model-2d.prm and parameters/data/trained-model-2d.* (box +-{half})")


FILES = ["parameters/trained-model-2d.prm", "parameters/data/trained-model-2d.json",
         "parameters/data/trained-model-2d-tokens.csv"]


def same_numbers(a, b):
    """Equal texts, or equal up to 1e-9 in every number (another LAPACK may round the SVD differently)."""
    if filecmp.cmp(a, b, shallow=False):
        return True
    number = re.compile(r"-?\d+\.?\d*(?:[eE][-+]?\d+)?")
    with open(a) as fa, open(b) as fb:
        ta, tb = fa.read(), fb.read()
    na, nb = number.findall(ta), number.findall(tb)
    return (number.sub("#", ta) == number.sub("#", tb) and len(na) == len(nb) and
            all(abs(float(x) - float(y)) <= 1e-9 * max(1, abs(float(y))) for x, y in zip(na, nb)))


def main(argv):
    if argv not in ([], ["--check"]):
        print(__doc__)
        return 0 if argv in (["-h"], ["--help"]) else 2
    if not argv:
        generate(ROOT)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp)
        stale = [f for f in FILES if not same_numbers(os.path.join(tmp, f), os.path.join(ROOT, f))]
    print("the committed example is " + ("stale: " + ", ".join(stale) if stale else "what the script writes"))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
