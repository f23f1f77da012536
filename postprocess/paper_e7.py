"""E7 (the rank histograms, physics.md §3) in d = 3 as grid runs: l2 attention, V = I and V random, every
draw of the authors' seeds whose trajectory a uniform mesh resolves within GRID['max_work'].

Each run uses its own coordinates x -> M x with M = H Sigma_0^{-1/2} (`frame`): the initial density is
N(0, I) however nearly singular the Wishart draw Sigma_0 is, and the authors' single query row q becomes
a multiple of e_3, the axis along which the covariance collapses. The mesh is sized from the moment ODE's
trajectory in those coordinates (`case`). The grid's covariance at the end time, mapped back, is continued
by the moment ODE to t = 3000 for its limit rank: the rank histogram of the grid runs.

Softmax runs are not made: with K = -Q the Gaussian solution is driven by tails no box holds (README)."""
import os
import shlex
import shutil
import subprocess
import time

import numpy as np

import paper_authors as pa

# box_sd: box half-width in standard deviations (largest along the trajectory, per axis; at 4 the cut
# tails alone cost 1e-3 of the variance, at 5 1.5e-5); h_plane and h_normal: cell sizes across and along
# e_3 (N(0, I) coordinates); sd_per_h: standard deviations per cell that every direction keeps along the
# trajectory (smaller cells where it would not); mean_efolds: the mean 0 is unstable (alpha' ~ V alpha,
# V positive definite), and the run's round-off (1e-9 from the fast sums) must not grow past 1e-3 before
# the end time; max_work: cells x predicted time steps (about 50 us each on 2 threads), above which the
# draw is left to the ODE (an ill-conditioned Sigma_0 with V random stretches the plane 10-100x while
# another direction thins, and the speeds grow with |V|).
GRID = dict(settings=(('l2', 'identity'), ('l2', 'random')), box_sd=5.0, h_plane=1.67, h_normal=0.5,
            sd_per_h=0.8, mean_efolds=11.5, max_work=6e5, end_cap=2.0, end_floor=0.5, examples=1)
CFL_STEPS = 5.7  # time steps per unit of (speed x time / smallest cell), measured on 11 runs (4.2-6.9)


def householder_to_last_axis(u):
    """The symmetric orthogonal H with H u / |u| = e_last."""
    u = u / np.linalg.norm(u)
    w = u - np.eye(len(u))[-1]
    return np.eye(len(u)) if np.linalg.norm(w) < 1e-12 else np.eye(len(u)) - 2 * np.outer(w, w) / (w @ w)


def frame(q, s0):
    """(M, M^-1) with M = H Sigma_0^{-1/2}. The PDE and its moment ODE are equivariant under any invertible
    x -> M x (Q -> Q M^-1, K -> K M^-1, V -> M V M^-1, Sigma -> M Sigma M^T), since the attention sees x
    only through Q x and K y. Here M Sigma_0 M^T = I and Q M^-1 = |Sigma_0^{1/2} q^T| e_3^T."""
    w, u = np.linalg.eigh(s0)
    root, inv_root = (u * np.sqrt(w)) @ u.T, (u / np.sqrt(w)) @ u.T
    h = householder_to_last_axis(root @ q[0])
    return h @ inv_root, root @ h


class Case:
    """One d = 3 draw: the authors' matrices, the frame, end time, box and cells (or why it is not run)."""

    def __init__(self, variant, v_kind, i, q, k, v, s0):
        self.variant, self.v_kind, self.i = variant, v_kind, i
        self.q, self.k, self.v, self.s0 = q, k, v, s0
        times = np.concatenate([[0.0], np.geomspace(1e-2, pa.E7_T, 300)])
        traj = pa.e7_ode(variant, q, k, v, s0, times)
        self.limit_rank = pa.rank(traj[-1]) if np.isfinite(traj[-1, 0, 0]) else -1
        first = next((t for t, s in zip(times, traj) if np.isfinite(s[0, 0]) and pa.rank(s) == self.limit_rank),
                     GRID['end_cap'])
        growth = np.abs(np.linalg.eigvals(v)).max()
        self.end = float('%.2g' % min(GRID['end_cap'], max(GRID['end_floor'], first), GRID['mean_efolds'] / growth))
        self.m, self.minv = frame(q, s0)
        norm = np.linalg.norm(q @ self.minv)
        self.qf, self.kf = np.array([[0.0, 0.0, norm]]), np.array([[0.0, 0.0, -norm]])  # exactly on the axis
        self.vf = self.m @ v @ self.minv
        path = pa.e7_ode(variant, q, k, v, s0, np.linspace(0.0, self.end, 41))
        self.reason = None
        if not np.all(np.isfinite(path)):
            self.reason = 'trace passes 1e3 before the end time'
            return
        path = self.m @ path @ self.m.T
        sd = np.sqrt(np.einsum('tii->ti', path))
        self.box = np.ceil(GRID['box_sd'] * sd.max(axis=0) - 1e-9)
        h = np.array([GRID['h_plane'], GRID['h_plane'], min(GRID['h_normal'], sd[:, 2].min() / GRID['sd_per_h'])])
        # the thinnest direction along the path, in standard deviations per (directional) cell size
        resolved = min(np.sqrt(w[0]) / np.sqrt(np.sum(u[:, 0] ** 2 * h ** 2))
                       for w, u in (np.linalg.eigh(s) for s in path))
        if resolved < GRID['sd_per_h']:
            h *= resolved / GRID['sd_per_h']
        self.cells = np.ceil(2 * self.box / h - 1e-9).astype(int)
        # the speed where there is mass: X(x) = B x with B = 2 V Sigma (I + 2 K^T K Sigma)^-1 K^T Q (physics.md
        # §2.4, beta = 1, the solver's Q = q / sqrt(3)), which sees x_3 only; the box bounds x_3
        kq = self.kf.T @ (self.qf / np.sqrt(3))
        speed = [np.linalg.norm((2 * self.vf @ s @ np.linalg.inv(np.eye(3) + 2 * self.kf.T @ self.kf @ s) @ kq)[:, 2])
                 * self.box[2] for s in path]
        self.steps = CFL_STEPS * float(np.mean(speed)) * self.end / np.min(2 * self.box / self.cells) + 10
        self.work = float(np.prod(self.cells) * self.steps)
        if self.work > GRID['max_work']:
            self.reason = '%s cells x %.0f steps (thinnest width %.3g, widest %.3g, in standard deviations of ' \
                'Sigma_0)' % ('x'.join(map(str, self.cells)), self.steps,
                              np.sqrt(min(np.linalg.eigvalsh(s)[0] for s in path)), sd.max())

    def name(self):
        return 'e7-%s-%s-%d' % (self.variant, self.v_kind, self.i)

    def to_authors(self, s):
        """Covariances (..., 3, 3) in the run's coordinates -> the authors' coordinates."""
        return self.minv @ s @ self.minv.T

    def prm_text(self, directory):
        head = ['# Paper experiment E7 (rank histograms, physics.md §3), d = 3, %s attention, V %s, draw %d.' % (
            self.variant, self.v_kind, self.i), '# GENERATED by postprocess/paper_e7.py; do not edit.']
        head += pa._wrap(
            'Provenance: ' + pa.E7_PROVENANCE + '. Draw %d of d = 3: Q_%d, V_%d and the %d-th Sigma_0 after seed '
            '41 (as the authors pair them while every run converges). Coordinates: x -> M x with M = H '
            'Sigma_0^{-1/2} and the Householder reflection H that maps Sigma_0^{1/2} q^T to the last axis, so '
            'the initial covariance is I and Q = |Sigma_0^{1/2} q^T| e_3^T (K = -Q, V -> M V M^-1; the PDE is '
            'equivariant under linear maps; ranks are taken after mapping back with M^-1 = %s). End time: the '
            'time the ODE first reaches its limit rank (%d), in [%g, %g], and at most %g / max |eig V| (the unstable '
            'mean). Mesh: %g standard deviations of the '
            'widest extent along the ODE path per axis; cells of at most %g across and %g along e_3, smaller '
            'where a direction would get fewer than %g standard deviations per cell.' % (
                self.i, self.i, self.i, self.i + 1, pa._text(self.minv), self.limit_rank, GRID['end_floor'],
                GRID['end_cap'], GRID['mean_efolds'], GRID['box_sd'], GRID['h_plane'], GRID['h_normal'], GRID['sd_per_h']))
        head += pa._wrap(pa.CONVENTIONS)
        body = ['set dimension = 3', '', 'subsection Mesh',
                '  set lower corner = %s' % ', '.join('-%g' % b for b in self.box),
                '  set upper corner = %s' % ', '.join('%g' % b for b in self.box),
                '  set subdivisions = %s' % ', '.join(map(str, self.cells)),
                '  set global refinements = 0', 'end', '', 'subsection Discretization', '  set degree = 2',
                '  set face velocity = interpolated', 'end', '', 'subsection Attention']
        body += ['  ' + line for line in pa.solver_attention(self.variant, self.qf, self.kf, self.vf)]
        body += ['end', '', 'subsection Initial condition', '  set type = gaussian', '  set mean = 0, 0, 0',
                 '  set covariance = 1, 0, 0; 0, 1, 0; 0, 0, 1', 'end', '', 'subsection Time stepping',
                 '  set end time = %g' % self.end,
                 '  # far-field speed cap (as isotropize-3d-adaptive.prm): a larger step',
                 '  set negligible density = 1e-8', 'end', '', 'subsection Output',
                 '  set directory = %s' % directory, '  set interval = %g' % (self.end / 20),
                 '  set write vtu = false', 'end']
        return '\n'.join(head + body) + '\n'


def cases(variant, v_kind, count=pa.E7_PER_DIM):
    mats, s0s = pa.e7_matrices(variant, v_kind)[3], pa.e7_init_stream(3, count)
    return [Case(variant, v_kind, i, *mats[i], s0s[i]) for i in range(count)]


def example_cases():
    """The checked-in examples (parameters/paper/authors/e7-*.prm): the first grid draws per setting."""
    out = []
    for variant, vk in GRID['settings']:
        out += [c for c in cases(variant, vk, 10) if c.reason is None][:GRID['examples']]
    return out


def write_atomically(path, text):
    with open(path + '.tmp', 'w') as f:
        f.write(text)
    os.replace(path + '.tmp', path)


class Run:
    """One grid run of a Case (reused when its command and parameter file are unchanged)."""

    def __init__(self, case, args):
        self.case, self.variant, self.v_kind, self.i = case, case.variant, case.v_kind, case.i
        self.directory = os.path.join(args.out, 'runs', case.name())
        self.prm = os.path.join(args.out, 'e7', 'prm', case.name() + '.prm')
        self.text = case.prm_text(self.directory)
        self.command = [args.tpde, 'run', self.prm, '--quiet', '--overwrite']
        self.wall, self.reused, self.error = None, False, None

    def label(self):
        return 'E7 d=3 %s V=%s draw %d (%s cells)' % (self.variant, self.v_kind, self.i,
                                                      'x'.join(map(str, self.case.cells)))

    def execute(self, force, no_run=False):
        try:
            with open(os.path.join(self.directory, 'command.txt')) as f:
                same = shlex.split(f.read())[1:] == self.command[1:]
            with open(os.path.join(self.directory, 'case.prm')) as f:
                same = same and f.read() == self.text
            with open(os.path.join(self.directory, 'wall.txt')) as f:
                wall = float(f.read())
            if same and not force and os.path.exists(os.path.join(self.directory, 'statistics.csv')):
                self.wall, self.reused = wall, True
                return self
        except (OSError, ValueError):
            pass
        if no_run:
            self.error = 'not run (--no-run)'
            return self
        shutil.rmtree(self.directory, ignore_errors=True)
        os.makedirs(self.directory)
        os.makedirs(os.path.dirname(self.prm), exist_ok=True)
        write_atomically(self.prm, self.text)
        start = time.monotonic()
        proc = subprocess.run(self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.wall = time.monotonic() - start
        if proc.returncode != 0:
            self.error = 'exit code %d: %s' % (proc.returncode, (proc.stderr or proc.stdout).strip()[-1500:])
            return self
        # written last: a run killed before this point is not reused
        write_atomically(os.path.join(self.directory, 'case.prm'), self.text)
        write_atomically(os.path.join(self.directory, 'command.txt'), shlex.join(self.command))
        write_atomically(os.path.join(self.directory, 'wall.txt'), '%.3f\n' % self.wall)
        return self

    def load(self):
        """Deviation from the solver's ODE columns, eigenvalues at the end time and the limit rank of the
        grid's end covariance continued by the moment ODE to t = 3000 (all in the authors' coordinates)."""
        import csv
        with open(os.path.join(self.directory, 'statistics.csv')) as f:
            rows = list(csv.DictReader(f))
        c = self.case
        mat = lambda r, p: c.to_authors(np.array([[float(r['%scov_%d%d' % (p, a, b)]) for b in range(3)]
                                                  for a in range(3)]))
        self.deviation = max(np.linalg.norm(mat(r, '') - mat(r, 'ref_')) / np.linalg.norm(mat(r, 'ref_'))
                             for r in rows)
        last = rows[-1]
        self.end_time = float(last['time'])
        grid_end, ode_end = mat(last, ''), mat(last, 'ref_')
        self.grid_eigs, self.ode_eigs = np.linalg.eigvalsh(grid_end), np.linalg.eigvalsh(ode_end)
        self.outflow = float(last.get('outflow', 'nan') or 'nan')
        limit = pa.e7_ode(c.variant, c.q, c.k, c.v, 0.5 * (grid_end + grid_end.T), np.array([self.end_time, pa.E7_T]))
        self.limit_eigs = np.linalg.eigvalsh(limit[-1]) if np.isfinite(limit[-1, 0, 0]) else None
        self.grid_rank = int(np.sum(self.limit_eigs > 0.1)) if self.limit_eigs is not None else -1
        return self


def grid_runs(args, draws=None):
    """(runs, left_to_the_ode): the grid runs of both settings and the Cases a mesh cannot afford."""
    runs, skipped = [], []
    for variant, vk in GRID['settings']:
        for c in cases(variant, vk, draws or pa.E7_PER_DIM):
            (skipped if c.reason else runs).append(c if c.reason else Run(c, args))
    return runs, skipped


def self_test(check, prm_dir):
    """The checked-in examples against their regeneration; the frame of the first 10 draws per setting:
    M Sigma_0 M^T = I, Q M^-1 on e_3, and the moment ODE's rate transforms as M rate M^T."""
    for c in example_cases():
        path = os.path.join(prm_dir, c.name() + '.prm')
        with open(path) as f:
            if f.read() != c.prm_text('output/paper/authors/' + c.name()):
                raise SystemExit('paper_experiments.py --self-test: %s is not its regeneration '
                                 '(run paper_experiments.py --write-prm)' % path)
    for variant, vk in GRID['settings']:
        for c in cases(variant, vk, 10):
            scale = np.linalg.cond(c.m)
            check('E7 frame whitens Sigma_0', np.abs(c.m @ c.s0 @ c.m.T - np.eye(3)).max() / scale, 1e-14)
            check('E7 frame inverse', np.abs(c.m @ c.minv - np.eye(3)).max() / scale, 1e-14)
            check('E7 frame puts q on e_3', np.abs(c.q @ c.minv - c.qf).max() / np.abs(c.qf).max(), 1e-13)
            for s in (c.s0, c.s0 + np.eye(3)):
                mine = pa.rate(variant, c.qf, c.kf, c.vf, c.m @ s @ c.m.T)
                theirs = c.m @ pa.rate(variant, c.q, c.k, c.v, s) @ c.m.T
                check('E7 rate in the frame', np.abs(mine - theirs).max() / np.abs(theirs).max() / scale, 1e-14)
