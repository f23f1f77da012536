"""The Python module tpde (solver/python): every function against the command line, NumPy brute force
and closed forms. Run by ctest (label python) with PYTHONPATH=build/python, TPDE_EXECUTABLE and
TPDE_SOURCE_DIR set; 15-20 s in all on 2 busy cores."""

import os
import pydoc
import subprocess
import threading

import numpy as np
import pytest

import tpde

SOURCE = os.environ.get("TPDE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
EXECUTABLE = os.environ.get("TPDE_EXECUTABLE", os.path.join(SOURCE, "build", "tpde"))
BLOWUP = os.path.join(SOURCE, "parameters", "gaussian-1d-blowup.prm")
# T2 (physics.md §5) on a coarse mesh to t = 0.4: about 0.2 s.
SHORT = {"Time stepping/end time": 0.4, "Mesh/global refinements": 2, "Output/interval": 0.2}


def cli(*arguments):
    return subprocess.run([EXECUTABLE, *arguments], capture_output=True, text=True)


def cli_set(overrides):
    words = []
    for key, value in overrides.items():
        words += ["--set", f"{key}={value}"]
    return words


@pytest.fixture(scope="module")
def grid_run(tmp_path_factory):
    return tpde.run(BLOWUP, set=SHORT, output=tmp_path_factory.mktemp("grid") / "out")


def test_run_matches_the_command_line(grid_run, tmp_path):
    result = cli("run", BLOWUP, "--quiet", *cli_set(SHORT), "--set", f"Output/directory={tmp_path / 'cli'}")
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "cli" / "statistics.csv") as f:
        header = f.readline().strip().split(",")
    rows = np.loadtxt(tmp_path / "cli" / "statistics.csv", delimiter=",", skiprows=1, ndmin=2)
    assert list(grid_run.statistics) == header
    assert len(grid_run.statistics["time"]) == len(rows) > 5
    for i, name in enumerate(header):
        if name != "wall_seconds":
            np.testing.assert_allclose(grid_run.statistics[name], rows[:, i], rtol=1e-13, atol=1e-15,
                                       equal_nan=True, err_msg=name)


def test_run_follows_the_exact_gaussian(grid_run):
    s = grid_run.statistics
    exact = 0.25 / (1 - s["time"] / 2)  # T2: s(t) = 0.25 / (1 - t/2)
    np.testing.assert_allclose(s["ref_cov_00"], exact, rtol=1e-11)
    np.testing.assert_allclose(s["cov_00"], exact, rtol=2e-4)
    np.testing.assert_allclose(s["mass"] + s["outflow"], 1, atol=1e-12)
    means, covariances = grid_run.reference([0.0, 0.4])
    np.testing.assert_allclose(covariances[:, 0, 0], [0.25, 0.25 / 0.8], rtol=1e-12)
    assert grid_run.parameters["Attention/type"] == "softmax"
    assert float(grid_run.parameters["Time stepping/end time"]) == 0.4
    assert os.path.isfile(os.path.join(grid_run.output_dir, "solution.pvd"))


def test_density_integrates_to_the_mass(grid_run):
    np.testing.assert_allclose(grid_run.output_times(), [0, 0.2, 0.4], atol=1e-12)
    points, weights, values = grid_run.density(0.4)
    assert points.shape == (len(weights), 1) and values.shape == weights.shape
    row = np.argmin(abs(grid_run.statistics["time"] - 0.4))
    assert np.sum(weights * values) == pytest.approx(grid_run.statistics["mass"][row], abs=1e-12)
    mean = np.sum(weights * values * points[:, 0]) / np.sum(weights * values)
    assert mean == pytest.approx(grid_run.statistics["mean_0"][row], abs=1e-12)
    with pytest.raises(tpde.InputError, match="no output at t = 0.3"):
        grid_run.density(0.3)


def test_bad_input_has_the_command_line_message(tmp_path):
    bad = {"Attention/beta": "many"}
    result = cli("run", BLOWUP, "--quiet", *cli_set(bad), "--set", f"Output/directory={tmp_path}/cli")
    assert result.returncode == 2
    with pytest.raises(tpde.InputError) as error:
        tpde.run(BLOWUP, set=bad, output=tmp_path / "py")
    assert "tpde: error: " + str(error.value) == result.stderr.strip()
    assert not os.path.exists(tmp_path / "py"), "nothing written"
    with pytest.raises(tpde.InputError, match="no-such.prm"):
        tpde.run(os.path.join(SOURCE, "no-such.prm"))
    with pytest.raises(tpde.InputError, match="set: expected a dict"):
        tpde.run(BLOWUP, set=["Attention/beta=2"])
    assert issubclass(tpde.InputError, ValueError)


def test_prm_text_and_progress_callback(tmp_path):
    with open(BLOWUP) as f:
        text = f.read()
    calls = []
    run = tpde.run(text, set=SHORT, output=tmp_path, progress=lambda *report: calls.append(report))
    assert run.compiled_parameters.file == "<parameter text>"
    assert calls and calls[-1][1] == pytest.approx(0.4) and calls[-1][2] == pytest.approx(0.4)


def test_the_gil_is_released_during_a_run(tmp_path):
    overrides = dict(SHORT, **{"Mesh/global refinements": 4, "Time stepping/end time": 1})
    worker = threading.Thread(target=tpde.run, args=(BLOWUP,), kwargs={"set": overrides, "output": tmp_path})
    ticks = 0
    worker.start()
    while worker.is_alive():
        ticks += 1
        worker.join(0.001)
    assert ticks > 20, "the main thread ran while the solver did"


def test_physical_failure_keeps_the_output(tmp_path):
    with pytest.raises(tpde.PhysicalFailure, match=r"step budget \(Time stepping/maximum steps = 5\)") as failure:
        tpde.run(BLOWUP, set={"Time stepping/maximum steps": 5}, output=tmp_path / "out")
    assert failure.value.output_dir == str(tmp_path / "out")
    rows = np.loadtxt(tmp_path / "out" / "statistics.csv", delimiter=",", skiprows=1, ndmin=2)
    assert len(rows) == 6 and os.path.isfile(tmp_path / "out" / "solution_00000.vtu")
    assert issubclass(tpde.PhysicalFailure, RuntimeError)


@pytest.fixture(scope="module")
def token_run(tmp_path_factory):
    return tpde.particles(BLOWUP, set={"Time stepping/end time": 0.4, "Output/interval": 0.2,
                                       "Particles/number of tokens": 4000},
                          output=tmp_path_factory.mktemp("particles") / "out")


def test_particles_and_their_distance_to_the_grid(grid_run, token_run):
    assert token_run.positions.shape == (4000, 1)
    s = token_run.statistics
    np.testing.assert_allclose(s["cov_00"][-1], 0.25 / 0.8, rtol=0.1)
    tokens, weights, _ = token_run.density(0.4)
    np.testing.assert_array_equal(tokens, token_run.positions)
    table = tpde.compare(grid_run, token_run)
    np.testing.assert_allclose(table["time"], [0, 0.2, 0.4], atol=1e-12)
    assert table["distances"][0] == "w1" and "exact W1" in table["description"]
    assert np.all(table["w1"] < 0.05) and np.all(table["w1"] > 0)
    # The same table as tpde-compare's CSV.
    compare = os.path.join(os.path.dirname(EXECUTABLE), "tpde-compare")
    csv = os.path.join(token_run.output_dir, "compare.csv")
    result = subprocess.run([compare, grid_run.pvd, token_run.pvd, "--no-plot", "--output", csv],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = np.loadtxt(csv, delimiter=",", skiprows=1, ndmin=2)
    np.testing.assert_allclose(rows[:, -4], table["w1"], rtol=1e-15)
    with pytest.raises(tpde.InputError, match="expected a .pvd time series"):
        tpde.compare(grid_run.pvd, os.path.join(token_run.output_dir, "statistics.csv"))


def test_particles_from_given_tokens(tmp_path):
    tokens = np.linspace(-1, 1, 101)[:, None]
    run = tpde.particles(BLOWUP, set={"Time stepping/end time": 0.2, "Output/interval": 0.1}, tokens=tokens,
                         output=tmp_path)
    assert run.statistics["mean_0"][0] == pytest.approx(0, abs=1e-15)
    assert run.statistics["cov_00"][0] == pytest.approx(np.var(tokens), rel=1e-13)
    assert run.positions.shape == (101, 1)
    # V = 1: the tokens move apart, symmetrically (the mean stays 0).
    assert np.all(np.diff(run.positions[:, 0]) > np.diff(tokens[:, 0]))
    with pytest.raises(tpde.InputError, match="expected 101 .*number of tokens x 1"):
        tpde.particles(BLOWUP, tokens=np.zeros((101, 2)), output=tmp_path)


def brute_force_softmax(targets, sources, weights, beta, Q, K, V):
    scores = beta * (targets @ Q.T) @ (sources @ K.T).T  # (n, m): beta <Q x_i, K y_j>
    scores -= scores.max(axis=1, keepdims=True)
    w = weights * np.exp(scores)
    return (w @ (sources @ V.T)) / w.sum(axis=1, keepdims=True)


def test_attention_against_numpy():
    rng = np.random.default_rng(7)
    targets, sources = rng.normal(size=(50, 2)), rng.normal(size=(300, 2))
    weights = rng.uniform(0.1, 1, size=300)
    Q, K, V = rng.normal(size=(2, 2)), rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
    exact = brute_force_softmax(targets, sources, weights, 0.7, Q, K, V)
    direct = tpde.attention("softmax", targets, sources, weights, beta=0.7, Q=Q, K=K, V=V, evaluation="direct")
    np.testing.assert_allclose(direct, exact, rtol=0, atol=1e-13 * np.abs(exact).max())
    fast = tpde.attention("softmax", targets, sources, weights, beta=0.7, Q=Q, K=K, V=V, evaluation="fast",
                          tolerance=1e-9)
    assert np.abs(fast - exact).max() <= 1e-9 * np.abs(exact).max()
    # Other layouts and dtypes are converted once; the result does not depend on the layout.
    single = sources.astype(np.float32)
    np.testing.assert_array_equal(
        tpde.attention("softmax", np.asfortranarray(targets), single, weights, beta=0.7, Q=Q, K=K, V=V,
                       evaluation="direct"),
        tpde.attention("softmax", targets, single.astype(float), weights, beta=0.7, Q=Q, K=K, V=V,
                       evaluation="direct"))
    assert "softmax" in tpde.attention_variants() and "l2" in tpde.attention_variants()


def test_attention_bad_input():
    x = np.zeros((3, 2))
    with pytest.raises(tpde.InputError, match=r"sources: expected an array of shape \(n, 2\)"):
        tpde.attention("softmax", x, np.zeros((3, 3)), np.ones(3))
    with pytest.raises(tpde.InputError, match="weights"):
        tpde.attention("softmax", x, x, np.ones(4))
    with pytest.raises(tpde.InputError, match="Attention.*type"):
        tpde.attention("no-such-kernel", x, x, np.ones(3))
    with pytest.raises(tpde.InputError, match="V must be 2 x 2, got 3 x 3"):
        tpde.attention("softmax", x, x, np.ones(3), V=np.eye(3))


def test_gaussian_reference_closed_forms():
    times = np.array([0, 0.5, 1, 1.5])
    means, covariances = tpde.gaussian_reference("softmax", [0.0], [[0.25]], times, Q=1, K=1, V=1)
    np.testing.assert_allclose(covariances[:, 0, 0], 0.25 / (1 - times / 2), rtol=1e-11)  # T2
    np.testing.assert_allclose(means[:, 0], 0, atol=1e-15)
    # T1: N(1, 0.5), v = -1: s = 0.5 / (1 + t), alpha(1) = 0.2601300475.
    means, covariances = tpde.gaussian_reference("softmax", [1.0], [[0.5]], [1.0], V=-1)
    assert covariances[0, 0, 0] == pytest.approx(0.25, rel=1e-11)
    assert means[0, 0] == pytest.approx(0.2601300475, rel=1e-9)
    # Diffusion adds 2 D to the covariance's rate: with V = 0 the covariance grows like s0 + 2 D t.
    _, covariances = tpde.gaussian_reference("softmax", [0, 0], np.eye(2), [2.0], diffusion=0.1, V=np.zeros((2, 2)))
    np.testing.assert_allclose(covariances[0], 1.4 * np.eye(2), rtol=1e-12)
    with pytest.raises(tpde.PhysicalFailure, match="Gaussian reference"):
        tpde.gaussian_reference("softmax", [0.0], [[0.25]], [3.0], V=1)
    with pytest.raises(tpde.InputError, match="has no Gaussian reference"):
        tpde.gaussian_reference("sigmoid", [0.0], [[0.25]], [1.0])
    with pytest.raises(tpde.InputError, match="covariance"):
        tpde.gaussian_reference("softmax", [0.0, 0.0], [[0.25]], [1.0])


def test_docstrings_name_every_argument():
    for function, arguments in [(tpde.run, ["prm", "set", "output", "quiet", "overwrite", "progress"]),
                                (tpde.particles, ["prm", "set", "tokens", "output"]),
                                (tpde.attention, ["variant", "targets", "sources", "weights", "parameters"]),
                                (tpde.gaussian_reference, ["variant", "mean", "covariance", "times", "diffusion"]),
                                (tpde.compare, ["grid_pvd", "particles_pvd", "dimension", "directions"])]:
        text = pydoc.render_doc(function)
        for argument in arguments:
            assert f"{argument}:" in text, (function.__name__, argument)
