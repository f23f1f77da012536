"""The authors' own matrices for the paper's experiments E1-E7 (physics.md §3), regenerated from their
seeds with numpy's legacy generator (np.random.seed / rand / randn), and their covariance ODEs in numpy.

Recipes follow the public scripts of vcastin/2025-transformers-PDEs (read, not copied): 2d_plots.py
for E1-E6, histograms.py and utils.py (create_histograms, init_grid) for E7. Every function returns
the matrices in the authors' form (Q, K, V with A = K^T Q / sqrt(d) folded in by the caller's variant
conventions, see solver_attention()).

Needs the system python's numpy (/usr/bin/python3).
"""
import numpy as np

SRC = 'vcastin/2025-transformers-PDEs'


def _pick_qk(seed, accept):
    """The rejection loop of 2d_plots.py: draw Q, K ~ N(0, 1)^{2x2} until accept(eig(A + A^T))."""
    np.random.seed(seed)
    for attempt in range(1000):
        q = np.random.randn(2, 2)
        k = np.random.randn(2, 2)
        a = k.T @ q
        ev = np.linalg.eigh(a + a.T)[0]
        if accept(ev):
            return q, k, attempt + 1
    raise RuntimeError('rejection loop did not accept (seed %d)' % seed)


def recipe(experiment):
    """dict(Q, K, V, heads, provenance) of one 2-D experiment E1-E6 (authors' form)."""
    if experiment == 'E1':
        np.random.seed(35)
        q = np.random.rand(2, 2)
        g = np.random.randn(2, 2)
        return dict(Q=q, K=-q, V=g @ g.T, heads=2, provenance=(
            'np.random.seed(35); Q = rand(2,2); K = -Q; G = randn(2,2); V = G G^T '
            '(%s 2d_plots.py, block "Convergence to zero", lines 10-15)' % SRC))
    if experiment in ('E2', 'E3'):
        np.random.seed(36)
        q = np.random.randn(1, 2)
        q = q / np.linalg.norm(q)
        line = 'lines 55-62' if experiment == 'E2' else 'lines 94-106 (multi-head, H = 2)'
        return dict(Q=q, K=-q, V=np.eye(2), heads=2, provenance=(
            'np.random.seed(36); q = randn(1,2)/|q|; Q = q; K = -q; V = I (the randn(2,2) drawn '
            'after q is not used) (%s 2d_plots.py, block "Convergence to a %s", %s)' % (
                SRC, 'line' if experiment == 'E2' else 'plane', line)))
    if experiment == 'E4':
        q, k, n = _pick_qk(36, lambda ev: ev[0] * ev[1] < 0)
        np.random.seed(32)
        v = np.random.randn(2, 2)
        return dict(Q=q, K=k, V=v, heads=2, provenance=(
            'np.random.seed(36); Q, K = randn(2,2), randn(2,2) until A + A^T (A = K^T Q) is indefinite '
            '(accepted at draw %d); np.random.seed(32); V = randn(2,2) '
            '(%s 2d_plots.py, block "Convergence to two lines", lines 122-132)' % (n, SRC)))
    if experiment == 'E5':
        q, k, n = _pick_qk(33, lambda ev: ev[0] > 0)
        return dict(Q=q, K=k, V=np.eye(2), heads=2, provenance=(
            'np.random.seed(33); Q, K = randn(2,2), randn(2,2) until A + A^T is positive definite '
            '(accepted at draw %d); V = I (%s 2d_plots.py, block "Blow-up or divergence", lines 149-157, 165)'
            % (n, SRC)))
    if experiment == 'E6':
        q, k, n = _pick_qk(36, lambda ev: ev[0] * ev[1] < 0)
        np.random.seed(35)
        np.random.randn(8, 7)
        v = np.random.randn(2, 2)
        return dict(Q=q, K=k, V=v, heads=1, provenance=(
            'np.random.seed(36); Q, K as E4 (accepted at draw %d); np.random.seed(35); a randn(8,7) '
            'discarded; V = randn(2,2); the multi-head call passes no H, so H = 1 '
            '(%s 2d_plots.py, block "Convergence and blow-up depending on initial data", lines 229-240)'
            % (n, SRC)))
    raise KeyError(experiment)


# The authors' Euler steps, tolerances and initial grids (2d_plots.py), per experiment and variant.
EULER = {
    'E1': dict(grid=(10, 0.5), tol=1e-5, step=dict(softmax=0.3, l2=0.3, multihead=0.3, sinkhorn=0.5)),
    'E2': dict(grid=(10, 0.5), tol=1e-4, step=dict(softmax=0.5, l2=0.5)),
    'E3': dict(grid=(10, 0.5), tol=1e-4, step=dict(multihead=0.5)),
    'E4': dict(grid=(20, 1.0), tol=1e-7, step=dict(softmax=0.01, l2=0.01)),
    'E5': dict(grid=(40, 1.0), tol=1e-4, step=dict(softmax=0.01, multihead=0.002, l2=0.001, sinkhorn=0.01)),
    'E6': dict(grid=(30, 1.0), tol=1e-4, step=dict(softmax=0.003, l2=0.002, multihead=0.002)),
}


def init_grid(n, half_width):
    """The paper's trace-1 initial covariances: (u, w) on an n x n grid of [-h, h]^2, kept if PD,
    in the authors' order (u outer, w inner). Returns a list of (u, w)."""
    axis = np.linspace(-half_width, half_width, n)
    return [(float(u), float(w)) for u in axis for w in axis if 1.0 - u * u > w * w]


# ----------------------------------------------------------------------------------------------
# E7: rank histograms (histograms.py)

E7_DIMS = (3, 4, 5)
E7_PER_DIM = 100
E7_SETTINGS = {  # (variant, V kind): V seed, Euler steps for d = 3, 4, 5, tolerance, max_iter, n_max
    ('softmax', 'identity'): dict(v_seed=None, steps=(0.09, 0.05, 0.02), tol=1e-4, max_iter=60000, n_max=1000),
    ('softmax', 'random'): dict(v_seed=26, steps=(0.09, 0.06, 0.02), tol=5e-5, max_iter=90000, n_max=10000),
    ('l2', 'identity'): dict(v_seed=None, steps=(0.09, 0.06, 0.02), tol=1e-4, max_iter=60000, n_max=1000),
    ('l2', 'random'): dict(v_seed=27, steps=(0.15, 0.15, 0.15), tol=5e-5, max_iter=50000, n_max=1000),
}
E7_INIT_SEED = 41  # create_histograms' default, reset at the start of every dimension


def e7_matrices(variant, v_kind):
    """Per dimension d: lists (Q_i, K_i, V_i), i < 100, as histograms.py draws them."""
    np.random.seed(40)
    dims = np.repeat(E7_DIMS, E7_PER_DIM)
    qs = [np.random.randn(d // 2, d) for d in dims]
    seed = E7_SETTINGS[(variant, v_kind)]['v_seed']
    if seed is None:
        vs = [np.eye(d) for d in dims]
    else:
        np.random.seed(seed)
        vs = [np.random.randn(d, d) for d in dims]
        vs = [v.T @ v for v in vs]
    out = {}
    for j, d in enumerate(E7_DIMS):
        sl = slice(j * E7_PER_DIM, (j + 1) * E7_PER_DIM)
        out[d] = [(q, -q, v) for q, v in zip(qs[sl], vs[sl])]
    return out


def e7_init_stream(d, count):
    """The first `count` initial covariances H H^T (H ~ N(0,1)^{dxd}) of dimension d after
    np.random.seed(41). Draw i belongs to matrix index i as long as every earlier draw converged
    (a non-converged draw is discarded and the same matrices get the next draw)."""
    np.random.seed(E7_INIT_SEED)
    out = []
    for _ in range(count):
        h = np.random.randn(d, d)
        out.append(h @ h.T)
    return out


E7_PROVENANCE = ('np.random.seed(40); Q_i = randn(d//2, d) for d in repeat([3,4,5], 100); K_i = -Q_i; '
                 'V = I or (np.random.seed(26) softmax / 27 l2) G_i = randn(d,d), V_i = G_i^T G_i; '
                 'Sigma_0 = H H^T with H = randn(d,d) after np.random.seed(41) per dimension '
                 '(%s histograms.py lines 9-17, 39-43 (softmax), 84-92, 114-118 (l2); utils.py create_histograms)' % SRC)


# ----------------------------------------------------------------------------------------------
# Covariance ODEs in numpy (the authors' form: A = K^T Q / sqrt(k); d x d)


def _sym(m):
    return m + np.swapaxes(m, -1, -2)


def rate(variant, q, k, v, s, heads=1):
    """Sigma' for covariances s (..., d, d); q, k: r x d, v: d x d (authors' conventions)."""
    d = s.shape[-1]
    if variant == 'softmax':
        a = k.T @ q / np.sqrt(d)
        return _sym(v @ s @ a @ s)
    if variant == 'l2':
        a = k.T @ q / np.sqrt(d)
        inv = np.linalg.inv(np.eye(d) + 2 * (k.T @ k) @ s)
        return _sym(2 * v @ s @ inv @ a @ s)
    if variant == 'multihead':
        rows = d // heads
        out = 0.0
        for h in range(heads):
            qh, kh = q[rows * h: rows * (h + 1)], k[rows * h: rows * (h + 1)]
            ch = np.zeros((d, d))
            ch[rows * h: rows * (h + 1)] = v[rows * h: rows * (h + 1)]
            ah = kh.T @ qh / np.sqrt(rows) if len(qh) else np.zeros((d, d))
            out = out + ch @ s @ ah @ s
        return _sym(out)
    if variant == 'sinkhorn':
        # physics.md §2.5 with beta = eps = 1: M = Q^T K, R = Sigma^1/2, N = R M R,
        # F = 2 (I + (I + 4 N^T N)^1/2)^-1, Gamma = R F R M^T; Sigma' = sym(V Gamma Sigma).
        m = q.T @ k
        r = _sqrt_psd(s)
        n = r @ m @ r
        f = 2 * np.linalg.inv(np.eye(d) + _sqrt_psd(np.eye(d) + 4 * np.swapaxes(n, -1, -2) @ n))
        return _sym(v @ (r @ f @ r @ m.T) @ s)
    raise ValueError(variant)


def _sqrt_psd(s):
    w, u = np.linalg.eigh(s)
    return (u * np.sqrt(np.clip(w, 0, None))[..., None, :]) @ np.swapaxes(u, -1, -2)


def integrate(variant, q, k, v, s0, times, heads=1, h_max=0.02, trace_cap=1e3):
    """RK4 (steps <= h_max) through the increasing `times` for a batch s0 (..., d, d); covariances
    whose trace passes trace_cap (the authors' tol_high) are NaN from then on."""
    with np.errstate(all='ignore'):
        return _rk4(variant, q, k, v, s0, times, heads, h_max, trace_cap)


def _rk4(variant, q, k, v, s0, times, heads, h_max, trace_cap):
    s = np.array(s0, dtype=float)
    out = [s.copy()]
    for t0, t1 in zip(times[:-1], times[1:]):
        substeps = max(1, int(np.ceil((t1 - t0) / h_max - 1e-9)))
        h = (t1 - t0) / substeps
        for _ in range(substeps):
            k1 = rate(variant, q, k, v, s, heads)
            k2 = rate(variant, q, k, v, s + 0.5 * h * k1, heads)
            k3 = rate(variant, q, k, v, s + 0.5 * h * k2, heads)
            k4 = rate(variant, q, k, v, s + h * k3, heads)
            s = s + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            s = 0.5 * (s + np.swapaxes(s, -1, -2))
            big = ~(np.trace(s, axis1=-2, axis2=-1) < trace_cap)
            if np.any(big & np.isfinite(s[..., 0, 0])):
                s[big] = np.nan
        out.append(s.copy())
    return np.array(out)


def geometric_times(t_end, n=400, t_first=1e-3):
    return np.concatenate([[0.0], np.geomspace(t_first, t_end, n)])


def rank(s, threshold=0.1):
    return int(np.sum(np.linalg.eigvalsh(s) > threshold))


# ----------------------------------------------------------------------------------------------
# Fingerprint (the self-test's reference): every regenerated matrix to 12 significant digits


def _mat(name, m):
    m = np.atleast_2d(m)
    return '%s = %s' % (name, '; '.join(', '.join('%.12e' % x for x in row) for row in m))


def fingerprint(e7_draws=3):
    lines = []
    for e in ('E1', 'E2', 'E3', 'E4', 'E5', 'E6'):
        r = recipe(e)
        lines += ['[%s]' % e, _mat('Q', r['Q']), _mat('K', r['K']), _mat('V', r['V'])]
    for (variant, vk) in sorted(E7_SETTINGS):
        mats = e7_matrices(variant, vk)
        for d in E7_DIMS:
            lines.append('[E7 %s V=%s d=%d]' % (variant, vk, d))
            for i in list(range(e7_draws)) + [E7_PER_DIM - 1]:
                q, _, v = mats[d][i]
                lines += [_mat('Q[%d]' % i, q), _mat('V[%d]' % i, v)]
    for d in E7_DIMS:
        lines.append('[E7 Sigma_0 d=%d]' % d)
        for i, s in enumerate(e7_init_stream(d, e7_draws)):
            lines.append(_mat('Sigma_0[%d]' % i, s))
    return '\n'.join(lines) + '\n'


# ----------------------------------------------------------------------------------------------
# Parameter files of the authors' set (parameters/paper/authors/<e>-<variant>.prm)

# The variants each paper figure shows (2d_plots.py) and the grid runs' meshes (Q2, uniform) and end
# times. E5 softmax / multi-head runs stop at t*/2 of their Sigma_0 (set by paper_experiments.py).
GRID = {
    'E1': dict(variants=('softmax', 'l2', 'multihead', 'sinkhorn'), box=5, cells=32, end=3.0),
    'E2': dict(variants=('softmax', 'l2'), box=5, cells=32, end=4.0),
    'E3': dict(variants=('multihead',), box=5, cells=32, end=4.0),
    'E4': dict(variants=('softmax', 'l2'), box=5, cells=36, end=3.0),
    'E5': dict(variants=('softmax', 'multihead', 'l2', 'sinkhorn'), box=6, cells=36, end=0.6,
               l2=dict(cells=24, end=2.0), sinkhorn=dict(end=1.0), multihead=dict(end=0.22)),
    'E6': dict(variants=('softmax', 'l2', 'multihead'), box=6, cells=36, end=5.0),
}

NOTES = {
    'E3': 'H = 2 with Q of shape 1 x 2: the second head\'s row block is empty and adds nothing, so one head '
          '(C = e_1 e_1^T V) is written.',
    ('E5', 'softmax'): 'Runs stop at t*/2 of their Sigma_0 (--set by the script).',
    ('E5', 'multihead'): 'C_h = e_h e_h^T is not scalar, so no closed-form t*: runs stop at t = 0.22, about '
                         'half the earliest ODE blow-up time of the grid subset (0.455).',
    'E6': 'Grid runs to t = 5, before the earliest blow-up (t = 11 on the full grid).',
    ('E6', 'multihead'): 'The authors\' multi-head call passes no H, so H = 1: the same ODE as softmax.',
    ('E1', 'sinkhorn'): 'Sinkhorn on the mesh of the other variants (iterations through the fast summation).',
    ('E5', 'sinkhorn'): 'Sinkhorn on the 36^2 mesh of softmax (iterations through the fast summation), to t = 1.',
}

CONVENTIONS = ('Conventions of the authors\' code (physics.md §0-1.4): softmax beta = 1/sqrt(d); l2 beta = 1 '
               'with Q -> Q/sqrt(d); multi-head: head h takes row block h of Q, K, V (W = I), '
               'C_h = e_h V_h, beta_h = 1/sqrt(d/H); Sinkhorn beta = epsilon = 1.')


def _text(m):
    return '; '.join(', '.join('%.17g' % x for x in row) for row in np.atleast_2d(m))


def solver_attention(variant, q, k, v, heads=1):
    """The `subsection Attention` lines for the authors' (Q, K, V) of one variant."""
    d = v.shape[0]
    if variant == 'softmax':
        return ['set type = softmax', 'set evaluation = fast', 'set beta = %.16g' % (1 / np.sqrt(d)),
                'set Q = ' + _text(q), 'set K = ' + _text(k), 'set V = ' + _text(v)]
    if variant == 'l2':
        return ['set type = l2', 'set evaluation = fast', 'set beta = 1',
                'set Q = ' + _text(q / np.sqrt(d)), 'set K = ' + _text(k), 'set V = ' + _text(v)]
    if variant == 'sinkhorn':
        return ['set type = sinkhorn', 'set evaluation = fast', 'set beta = 1', 'set Q = ' + _text(q),
                'set K = ' + _text(k), 'set V = ' + _text(v), 'set sinkhorn epsilon = 1']
    rows = d // heads
    blocks = [h for h in range(heads) if len(q[rows * h: rows * (h + 1)])]  # an empty head adds nothing
    cs = []
    for h in blocks:
        c = np.zeros((d, d))
        c[rows * h: rows * (h + 1)] = v[rows * h: rows * (h + 1)]
        cs.append(c)
    return ['set type = multihead', 'set evaluation = fast', 'set heads = %d' % len(blocks),
            'set head Q = ' + ' | '.join(_text(q[rows * h: rows * (h + 1)]) for h in blocks),
            'set head K = ' + ' | '.join(_text(k[rows * h: rows * (h + 1)]) for h in blocks),
            'set head C = ' + ' | '.join(_text(c) for c in cs),
            'set head beta = ' + ' | '.join('%.16g' % (1 / np.sqrt(rows)) for _ in blocks)]


def _wrap(text, width=100):
    words, lines, line = text.split(), [], '#'
    for w in words:
        if len(line) + 1 + len(w) > width:
            lines.append(line)
            line = '#'
        line += ' ' + w
    return lines + [line]


def prm_text(experiment, variant, sigma0, title):
    """A 2-D parameter file of the authors' set (the first Sigma_0 of the grid subset as its own)."""
    r = recipe(experiment)
    g = dict(GRID[experiment])
    g.update(g.get(variant, {}))
    heads = r['heads'] if variant == 'multihead' else 1
    head = ['# Paper experiment %s, "%s" (physics.md §3), %s attention, with the authors\' matrices.' % (
        experiment, title, variant), '# GENERATED by postprocess/paper_experiments.py --write-prm; do not edit.']
    head += _wrap('Provenance: ' + r['provenance'] + '.')
    head += ['# Authors\' form: Q = %s; K = %s; V = %s%s.' % (
        _text(r['Q']), _text(r['K']), _text(r['V']), '; H = %d' % heads if variant == 'multihead' else '')]
    head += _wrap(CONVENTIONS + ' ' + NOTES.get(experiment, '') + ' ' + NOTES.get((experiment, variant), ''))
    head += ['# Run every Sigma_0 of the grid subset and draw the figure: postprocess/paper_experiments.py --all']
    body = ['set dimension = 2', '', 'subsection Mesh',
            '  set lower corner = -%g, -%g' % (g['box'], g['box']), '  set upper corner = %g, %g' % (g['box'], g['box']),
            '  set subdivisions = %d' % g['cells'], '  set global refinements = 0', 'end', '',
            'subsection Discretization', '  set degree = 2', 'end', '', 'subsection Attention']
    body += ['  ' + line for line in solver_attention(variant, r['Q'], r['K'], r['V'], heads)]
    body += ['end', '', 'subsection Initial condition', '  set type = gaussian', '  set mean = 0, 0',
             '  set covariance = ' + _text(sigma0), 'end', '', 'subsection Time stepping',
             '  set end time = %g' % g['end'], 'end', '', 'subsection Output',
             '  set directory = output/paper/authors/%s-%s' % (experiment.lower(), variant),
             '  set interval = %g' % (g['end'] / 30), '  set write vtu = false', 'end']
    return '\n'.join(head + body) + '\n'


# ----------------------------------------------------------------------------------------------
# The grid subset of each experiment's initial covariances (indices into init_grid, authors' order).
# Rule: classify every Sigma_0 of the paper's grid by its softmax ODE outcome at t = 300 (blow-up, or
# the limit line to 10 degrees; one class for E1-E3, E5). With one class: the member nearest the
# centre and the first and last with |(u, w)| <= 0.6 (smallest eigenvalue >= 0.2, resolved on the
# meshes). With several: per class the first and last with |(u, w)| <= 0.6, or, if fewer, the two of
# smallest |(u, w)|. grid_subset_rule() recomputes it (checked by --write-prm).
SUBSETS = {'E1': [44, 2, 97], 'E2': [44, 2, 97], 'E3': [44, 2, 97], 'E4': [41, 124, 111, 234],
           'E5': [611, 172, 1011], 'E6': [94, 553, 37, 58]}
TITLES = {'E1': 'convergence to zero', 'E2': 'convergence to a line', 'E3': 'convergence to a plane',
          'E4': 'convergence to two lines', 'E5': 'blow-up or divergence',
          'E6': 'convergence and blow-up depending on initial data'}


def trace_one(u, w):
    return np.array([[0.5 * (1 + u), 0.5 * w], [0.5 * w, 0.5 * (1 - u)]])


def line_angle(s):
    """Direction of the top eigenvector in degrees, [0, 180)."""
    return np.degrees(0.5 * np.arctan2(s[..., 0, 1] + s[..., 1, 0], s[..., 0, 0] - s[..., 1, 1])) % 180.0


def ode_classes(experiment, t_end=300.0):
    r = recipe(experiment)
    n, hw = EULER[experiment]['grid']
    grid = init_grid(n, hw)
    if experiment not in ('E4', 'E6'):
        return grid, ['one'] * len(grid)
    s = integrate('softmax', r['Q'], r['K'], r['V'], np.array([trace_one(*uw) for uw in grid]),
                  np.array([0.0, t_end]), h_max=0.05)[-1]
    return grid, ['blow-up' if not np.isfinite(x[0, 0]) else '%d' % (10 * round(line_angle(x) / 10)) for x in s]


def grid_subset_rule(experiment):
    grid, classes = ode_classes(experiment)
    radius = [float(np.hypot(*uw)) for uw in grid]
    picks = []
    for c in sorted(set(classes)):
        members = [i for i in range(len(grid)) if classes[i] == c]
        inner = [i for i in members if radius[i] <= 0.6]
        if len(set(classes)) == 1:
            picks += [min(inner, key=lambda i: radius[i]), inner[0], inner[-1]]
        elif len(inner) >= 2:
            picks += [inner[0], inner[-1]]
        else:
            picks += sorted(members, key=lambda i: (round(radius[i], 9), i))[:2]
    return picks


def subset_sigmas(experiment):
    n, hw = EULER[experiment]['grid']
    grid = init_grid(n, hw)
    return [grid[i] for i in SUBSETS[experiment]]


def isotropic_lines(q, k):
    """Directions u (degrees, [0, 180)) with u^T (A + A^T) u = 0, A = K^T Q: the only rank-one
    stationary points u u^T of the softmax covariance ODE (physics.md §2.2)."""
    a = k.T @ q
    s = a + a.T
    if s.shape != (2, 2):
        return []
    # u = (cos t, sin t): s00 cos^2 + 2 s01 cos sin + s11 sin^2 = 0
    out = []
    for root in np.roots([s[1, 1], 2 * s[0, 1], s[0, 0]]):  # in tan t
        if abs(root.imag) < 1e-12:
            out.append(float(np.degrees(np.arctan(root.real)) % 180.0))
    if abs(s[1, 1]) < 1e-14:
        out.append(90.0)
    return sorted(set(round(a, 12) for a in out))


def write_prm_files(prm_dir, root):
    """(Re)write parameters/paper/authors/*.prm from the regenerated matrices (each file atomically), and
    remove the .prm files there that the recipes no longer produce (e.g. an E7 draw no longer selected)."""
    import glob
    import os
    os.makedirs(prm_dir, exist_ok=True)
    written = set()

    def write(name, text):
        path = os.path.join(prm_dir, name)
        with open(path + '.tmp', 'w') as f:
            f.write(text)
        os.replace(path + '.tmp', path)
        written.add(os.path.abspath(path))
        print('wrote', os.path.relpath(path, root))

    for e in GRID:
        for v in GRID[e]['variants']:
            sigma0 = trace_one(*subset_sigmas(e)[0])
            write('%s-%s.prm' % (e.lower(), v), prm_text(e, v, sigma0, TITLES[e]))
    import paper_e7
    for c in paper_e7.example_cases():
        write(c.name() + '.prm', c.prm_text('output/paper/authors/' + c.name()))
    for path in sorted(glob.glob(os.path.join(prm_dir, '*.prm'))):
        if os.path.abspath(path) not in written:
            os.remove(path)
            print('removed', os.path.relpath(path, root), '(no longer generated)')
    for e, picks in SUBSETS.items():
        if grid_subset_rule(e) != picks:
            print('warning: SUBSETS[%r] is not what its rule gives: %s' % (e, grid_subset_rule(e)))


# ----------------------------------------------------------------------------------------------
# Self-test (called by paper_experiments.py --self-test)

FINGERPRINT = 'tests/postprocess/paper_matrices.txt'


def self_test(root, check, read_prm, attention_model, covariance_rate):
    """The regenerated matrices against the checked-in fingerprint; the checked-in parameter files
    against their regeneration; the solver's conventions (the parsed files through the script's
    pure-python ODE) against the authors' ODE formulas here."""
    import os
    with open(os.path.join(root, FINGERPRINT)) as f:
        expected = f.read()
    got = fingerprint()
    bad = [(a, b) for a, b in zip(expected.splitlines(), got.splitlines()) if a != b]
    if bad or len(expected.splitlines()) != len(got.splitlines()):
        raise SystemExit('paper_experiments.py --self-test: regenerated matrices differ from %s%s' % (
            FINGERPRINT, ': expected %r, got %r' % bad[0] if bad else ' (line count)'))
    check('fingerprint lines', 0.0, 0.0)
    prm_dir = os.path.join(root, 'parameters', 'paper', 'authors')
    for e in GRID:
        rec = recipe(e)
        for v in GRID[e]['variants']:
            path = os.path.join(prm_dir, '%s-%s.prm' % (e.lower(), v))
            with open(path) as f:
                if f.read() != prm_text(e, v, trace_one(*subset_sigmas(e)[0]), TITLES[e]):
                    raise SystemExit('paper_experiments.py --self-test: %s is not its regeneration '
                                     '(run paper_experiments.py --write-prm)' % path)
            model = attention_model(read_prm(path))
            heads = rec['heads'] if v == 'multihead' else 1
            for uw in ((0.3, -0.2), (-0.5, 0.4)):
                s = trace_one(*uw)
                mine = np.array(covariance_rate(model, tuple(map(tuple, s))))
                theirs = rate(v, rec['Q'], rec['K'], rec['V'], s, heads)
                check('solver conventions', np.abs(mine - theirs).max() / np.abs(theirs).max(), 1e-13)
    import paper_e7
    paper_e7.self_test(check, prm_dir)
    # E7: Q of shape (d//2) x d, Sigma_0 symmetric positive definite, V symmetric.
    for (variant, vk) in E7_SETTINGS:
        for d, mats in e7_matrices(variant, vk).items():
            assert len(mats) == E7_PER_DIM and mats[0][0].shape == (d // 2, d)
            check('E7 V symmetric', max(np.abs(v - v.T).max() for _, _, v in mats), 0.0)
    for d in E7_DIMS:
        check('E7 Sigma_0 PD', float(-min(np.linalg.eigvalsh(s).min() for s in e7_init_stream(d, 10))), 0.0)


# ----------------------------------------------------------------------------------------------
# E7: limit ranks by the moment ODE (LSODA); the d = 3 grid runs are in paper_e7.py

E7_T = 3000.0


def e7_ode(variant, q, k, v, s0, times):
    """Covariances at `times` by scipy's LSODA (rtol 1e-9); NaN after the trace passes 1e3."""
    from scipy.integrate import solve_ivp
    d = s0.shape[0]

    def f(_, x):
        return rate(variant, q, k, v, x.reshape(d, d)).ravel()

    def big(_, x):
        return 1e3 - np.trace(x.reshape(d, d))
    big.terminal = True
    sol = solve_ivp(f, (times[0], times[-1]), s0.ravel(), method='LSODA', t_eval=times, rtol=1e-9,
                    atol=1e-12, events=big)
    out = np.full((len(times), d, d), np.nan)
    out[:sol.y.shape[1]] = sol.y.T.reshape(-1, d, d)
    return out
