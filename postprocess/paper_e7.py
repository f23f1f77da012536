"""E7 (the rank histograms, physics.md §3) in d = 3 as grid runs: l2 attention, V = I and V random, every
draw of the authors' seeds whose trajectory a uniform mesh resolves within GRID['max_work'].

Each run uses its own coordinates x -> M x with M = H Sigma_0^{-1/2} (`frame`): the initial density is
N(0, I) however nearly singular the Wishart draw Sigma_0 is, and the authors' single query row q becomes
a multiple of e_3, the axis along which the covariance collapses. The mesh is sized from the moment ODE's
trajectory in those coordinates (`case`). The grid's covariance at the end time, mapped back, is continued
by the moment ODE to t = 3000 for its limit rank: the rank histogram of the grid runs.

Where one frame would need too many cells (an ill-conditioned Sigma_0 with V random tilts and thins the
density), the draw runs as a chain of segments (`Segment`, `Chain`): segment k covers [t_k, t_k+1] in
coordinates that whiten the ODE's Sigma(t_k), put q on e_3 and diagonalise the plane block of Sigma(t_k+1),
and starts from the previous segment's density at its end (Initial condition/type = checkpoint, mapped by
M_k M_k-1^-1).

Softmax (K = -Q) starts late: in the frame that whitens Sigma(t), the velocity at x is -c V x_3 e_3 with
c = beta q Sigma(t) q^T, the mean of the density tilted by exp(-c x_3 y_3), centred at y_3 = -c x_3. Where
c x_3 lies beyond the box, the velocity comes from tails that no box holds, and no grid can resolve them
(for c = 31 the tilted mass sits at 100 standard deviations, where the density underflows). c falls as the
covariance collapses along q. So a softmax draw runs on the grid from the time `start` after which c stays
at most GRID['softmax_score'], from the moment ODE's N(0, Sigma(start)); before it, only the ODE
(flagged as such in the report)."""
import functools
import hashlib
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
# chain_segments: the numbers of equal segments tried for a draw one frame cannot afford (the cheapest
# is taken); max_chain_work: the budget of a chain, summed over its segments. A draw no equal chain
# affords is bisected instead: a segment is halved while its work exceeds segment_work (the thinning and
# the speeds concentrate in a short part of the end time, which equal segments cannot follow), down to
# end / 2^max_halvings, within max_bisected_work in all (every remap costs about 1e-4 of the covariance).
# softmax_score: the largest c = beta q Sigma q^T at which a softmax run may start (module docstring).
GRID = dict(settings=(('l2', 'identity'), ('l2', 'random'), ('softmax', 'identity'), ('softmax', 'random')),
            softmax_score=1.0, box_sd=5.0, h_plane=1.67, h_normal=0.5,
            sd_per_h=0.8, mean_efolds=11.5, max_work=6e5, end_cap=2.0, end_floor=0.5, examples=1,
            chain_segments=(1, 2, 4, 8, 16), max_chain_work=2e6, segment_work=1e5, max_halvings=10,
            max_bisected_work=1.2e7)
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


def frame_between(q, s_start, s_end):
    """(M, M^-1): M s_start M^T = I, Q M^-1 on e_3 (frame(q, s_start)), and then a rotation about e_3 that
    diagonalises the plane block of M s_end M^T. q stays exactly on an axis, where the fast summation's
    score space is one line in its own frame (an oblique q leaves round-off extents across the line that
    count as directions to interpolate: 20-100x the node sums)."""
    m, minv = frame(q, s_start)
    _, r = np.linalg.eigh((m @ s_end @ m.T)[:2, :2])
    rotation = np.eye(3)
    rotation[:2, :2] = r.T
    return rotation @ m, minv @ rotation.T


def tilt_score(q, s):
    """c = beta q Sigma q^T (beta = 1/sqrt(3)): the tilt of softmax with K = -Q (module docstring)."""
    return q[0] @ s @ q[0] / np.sqrt(3)


def mesh_for(variant, path, qf, kf, vf, duration):
    """(box, cells, steps, thinnest) for covariances `path` in the run's coordinates: the box holds box_sd
    standard deviations of the widest extent per axis; cells of at most h_plane, and h_normal along the
    axis of q (where the density thins), smaller where a direction would get fewer than sd_per_h standard
    deviations per cell; steps from the speed where there is mass: X(x) = B x over the box, with l2's
    B = 2 V Sigma (I + 2 K^T K Sigma)^-1 K^T Q (physics.md §2.4, beta = 1, the solver's Q = q / sqrt(3)) and
    softmax's B = V Sigma K^T Q / sqrt(3) (the tilted mean, beta = 1 / sqrt(3))."""
    sd = np.sqrt(np.einsum('tii->ti', path))
    box = np.ceil(GRID['box_sd'] * sd.max(axis=0) - 1e-9)
    axis = int(np.argmax(np.abs(qf[0])))
    h = np.full(3, GRID['h_plane'])
    h[axis] = min(GRID['h_normal'], sd[:, axis].min() / GRID['sd_per_h'])
    # the thinnest direction along the path, in standard deviations per (directional) cell size
    resolved = min(np.sqrt(w[0]) / np.sqrt(np.sum(u[:, 0] ** 2 * h ** 2)) for w, u in (np.linalg.eigh(s) for s in path))
    if resolved < GRID['sd_per_h']:
        h *= resolved / GRID['sd_per_h']
    cells = np.ceil(2 * box / h - 1e-9).astype(int)
    kq = kf.T @ (qf / np.sqrt(3))
    gain = (lambda s: vf @ s @ kq) if variant == 'softmax' else \
        (lambda s: 2 * vf @ s @ np.linalg.inv(np.eye(3) + 2 * kf.T @ kf @ s) @ kq)
    speed = [np.linalg.norm(gain(s) @ np.diag(box), 2) for s in path]
    steps = CFL_STEPS * float(np.mean(speed)) * duration / np.min(2 * box / cells) + 10
    thinnest = np.sqrt(min(np.linalg.eigvalsh(s)[0] for s in path))
    return box, cells, steps, thinnest


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
        self.reason, self.segments, self.bisected, self.start = None, None, False, 0.0
        if variant == 'softmax':
            self.start = self.softmax_start(times, traj)
            if self.start is None:
                self.reason = 'c = beta q Sigma q^T stays above %g (or the trace passes 1e3) until t = %g' % (
                    GRID['softmax_score'], pa.E7_T)
                return
        growth = np.abs(np.linalg.eigvals(v)).max()
        self.duration = float('%.2g' % min(GRID['end_cap'], max(GRID['end_floor'], first - self.start),
                                           GRID['mean_efolds'] / growth))
        self.end = self.start + self.duration
        self.s_start = ode_path(self, np.array([self.start]))[0] if self.start else s0
        self.m, self.minv = frame(q, self.s_start)
        norm = np.linalg.norm(q @ self.minv)
        self.qf, self.kf = np.array([[0.0, 0.0, norm]]), np.array([[0.0, 0.0, -norm]])  # exactly on the axis
        self.vf = self.m @ v @ self.minv
        path = ode_path(self, np.linspace(self.start, self.end, 41))
        if not np.all(np.isfinite(path)):
            self.reason = 'trace passes 1e3 before the end time'
            return
        self.box, self.cells, self.steps, thinnest = mesh_for(variant, self.m @ path @ self.m.T, self.qf, self.kf,
                                                              self.vf, self.duration)
        self.work = float(np.prod(self.cells) * self.steps)
        if self.work <= GRID['max_work']:
            return
        self.reason = self.reason_single = '%s cells x %.0f steps (thinnest width %.3g, widest %.3g, in ' \
            'standard deviations of %s)' % ('x'.join(map(str, self.cells)), self.steps, thinnest,
                                            np.sqrt(np.einsum('tii->ti', self.m @ path @ self.m.T)).max(),
                                            'Sigma(%g)' % self.start if self.start else 'Sigma_0')
        chains = [[Segment(self, *self.part(j, n)) for j in range(n)] for n in GRID['chain_segments']]
        work, best = min(((sum(g.work for g in c), c) for c in chains), key=lambda x: x[0])
        self.bisected = work > GRID['max_chain_work']
        if self.bisected:
            best = bisected(self, self.start, self.end, 0)
            work = sum(g.work for g in best)
        if work <= (GRID['max_bisected_work'] if self.bisected else GRID['max_chain_work']):
            self.segments, self.work, self.reason = best, work, None
            for j, g in enumerate(best):
                g.j, g.n = j, len(best)
        else:
            self.reason += '; as a chain of %d segments %.2g cell-steps' % (len(best), work)

    def softmax_start(self, times, traj):
        """The first time, to 2 digits rounded up, after which c = beta q Sigma q^T stays at most
        GRID['softmax_score'] (module docstring); None if it never does before the trace passes 1e3."""
        score = functools.partial(tilt_score, self.q)
        above = [j for j, s in enumerate(traj) if not score(s) <= GRID['softmax_score']]
        if not above:
            return 0.0
        if above[-1] + 1 == len(times):
            return None
        fine = np.linspace(times[above[-1]], times[above[-1] + 1], 101)
        first = next((t for t, s in zip(fine, ode_path(self, fine)) if score(s) <= GRID['softmax_score']), fine[-1])
        unit = 10.0 ** (np.floor(np.log10(first)) - 1)
        return float('%.2g' % (np.ceil(first / unit * (1 - 1e-12)) * unit))

    def part(self, j, n):
        """[t_j, t_j+1] of n equal segments of [start, end]."""
        return self.start + self.duration * j / n, self.start + self.duration * (j + 1) / n

    def name(self):
        return 'e7-%s-%s-%d' % (self.variant, self.v_kind, self.i)

    def to_authors(self, s):
        """Covariances (..., 3, 3) in the run's coordinates -> the authors' coordinates."""
        return self.minv @ s @ self.minv.T

    def prm_text(self, directory):
        head = ['# Paper experiment E7 (rank histograms, physics.md §3), d = 3, %s attention, V %s, draw %d.' % (
            self.variant, self.v_kind, self.i), '# GENERATED by postprocess/paper_e7.py; do not edit.']
        sigma = 'Sigma(%g)' % self.start if self.start else 'Sigma_0'
        head += pa._wrap(
            'Provenance: ' + pa.E7_PROVENANCE + '. Draw %d of d = 3: Q_%d, V_%d and the %d-th Sigma_0 after seed '
            '41 (as the authors pair them while every run converges). Coordinates: x -> M x with M = H '
            '%s^{-1/2} and the Householder reflection H that maps %s^{1/2} q^T to the last axis, so '
            'the initial covariance is I and Q = |%s^{1/2} q^T| e_3^T (K = -Q, V -> M V M^-1; the PDE is '
            'equivariant under linear maps; ranks are taken after mapping back with M^-1 = %s). %s: the '
            'time the ODE first reaches its limit rank (%d), in [%g, %g], and at most %g / max |eig V| (the unstable '
            'mean). Mesh: %g standard deviations of the '
            'widest extent along the ODE path per axis; cells of at most %g across and %g along e_3, smaller '
            'where a direction would get fewer than %g standard deviations per cell.' % (
                self.i, self.i, self.i, self.i + 1, sigma, sigma, sigma, pa._text(self.minv),
                'Run length, counted from the start' if self.start else 'End time', self.limit_rank, GRID['end_floor'],
                GRID['end_cap'], GRID['mean_efolds'], GRID['box_sd'], GRID['h_plane'], GRID['h_normal'], GRID['sd_per_h']))
        if self.start:
            head += pa._wrap(
                'Softmax starts late: the run begins at t = %g of the ODE (its time 0), from N(0, Sigma(%g)) of the '
                'moment ODE, Sigma(%g) = %s in the authors\' coordinates. Before, c = beta q Sigma q^T exceeds %g '
                '(t = %g is the time it falls to %g for good, rounded up to 2 digits): in whitened coordinates the '
                'velocity at x is V times the mean of the density tilted to y_3 = -c x_3, which lies beyond a box of '
                '%g standard deviations wherever c |x_3| > %g, and the grid cannot resolve it (postprocess/paper_e7.py).'
                % (self.start, self.start, self.start, pa._text(self.s_start), GRID['softmax_score'], self.start,
                   GRID['softmax_score'], GRID['box_sd'], GRID['box_sd']))
        head += pa._wrap(pa.CONVENTIONS)
        initial = ['  set type = gaussian', '  set mean = 0, 0, 0', '  set covariance = 1, 0, 0; 0, 1, 0; 0, 0, 1']
        return prm_text(head, self, initial, self.duration, directory)


def prm_text(head, run, initial, end, directory, checkpoint_at_end=False):
    """A run's parameter file: `run` has the mesh (box, cells) and the matrices in its coordinates (qf, kf,
    vf); `initial`: the lines of its subsection Initial condition."""
    body = ['set dimension = 3', '', 'subsection Mesh',
            '  set lower corner = %s' % ', '.join('-%g' % b for b in run.box),
            '  set upper corner = %s' % ', '.join('%g' % b for b in run.box),
            '  set subdivisions = %s' % ', '.join(map(str, run.cells)),
            '  set global refinements = 0', 'end', '', 'subsection Discretization', '  set degree = 2',
            '  set face velocity = interpolated', 'end', '', 'subsection Attention']
    body += ['  ' + line for line in pa.solver_attention(run.variant, run.qf, run.kf, run.vf)]
    body += ['end', '', 'subsection Initial condition'] + initial + ['end', '', 'subsection Time stepping',
             '  set end time = %s' % ('%g' % end if float('%g' % end) == end else '%.17g' % end),
             '  # far-field speed cap (as isotropize-3d-adaptive.prm): a larger step',
             '  set negligible density = 1e-8', 'end', '', 'subsection Output',
             '  set directory = %s' % directory, '  set interval = %g' % (end / 20),
             '  set write vtu = false', 'end']
    if checkpoint_at_end:
        body += ['', 'subsection Checkpoint', '  set at end = true', 'end']
    return '\n'.join(head + body) + '\n'


def ode_path(case, times):
    """The moment ODE's covariances of a Case at increasing `times` >= 0."""
    start = [] if times[0] == 0 else [0.0]
    return pa.e7_ode(case.variant, case.q, case.k, case.v, case.s0, np.concatenate([start, times]))[len(start):]


def bisected(case, start, stop, halvings):
    """The Segments of [start, stop], halved while one exceeds GRID['segment_work'] cell-steps."""
    whole = Segment(case, start, stop)
    if whole.work <= GRID['segment_work'] or halvings == GRID['max_halvings']:
        return [whole]
    middle = 0.5 * (start + stop)
    return bisected(case, start, middle, halvings + 1) + bisected(case, middle, stop, halvings + 1)


class Segment:
    """Segment j of n of a Case's chain: [t_j, t_j+1] (n equal parts of the end time, or a bisection of
    it) in coordinates that whiten the ODE's Sigma(t_j), put q on e_3 and diagonalise the plane block of
    Sigma(t_j+1) (frame_between); looks like a Case to Run. The Case numbers its chain's segments (j, n)."""

    def __init__(self, case, start, stop):
        self.case, self.j, self.n = case, 0, 1
        self.variant, self.v_kind, self.i = case.variant, case.v_kind, case.i
        self.start, self.stop = start, stop
        path = ode_path(case, np.linspace(self.start, self.stop, 21))
        self.m, self.minv = frame_between(case.q, path[0], path[-1])
        norm = np.linalg.norm(case.q @ self.minv)
        self.qf, self.kf = np.array([[0.0, 0.0, norm]]), np.array([[0.0, 0.0, -norm]])  # exactly on the axis
        self.vf = self.m @ case.v @ self.minv
        self.box, self.cells, self.steps, _ = mesh_for(case.variant, self.m @ path @ self.m.T, self.qf, self.kf, self.vf,
                                                       self.stop - self.start)
        self.work = float(np.prod(self.cells) * self.steps)

    def name(self):
        return '%s-s%d' % (self.case.name(), self.j)

    def to_authors(self, s):
        return self.minv @ s @ self.minv.T

    def prm_text(self, directory):
        c = self.case
        head = ['# Paper experiment E7 (rank histograms, physics.md §3), d = 3, %s attention, V %s, draw %d: '
                'segment %d of %d.' % (c.variant, c.v_kind, c.i, self.j + 1, self.n),
                '# GENERATED by postprocess/paper_e7.py; do not edit.']
        head += pa._wrap(
            'Provenance: ' + pa.E7_PROVENANCE + '. Draw %d of d = 3 (see e7-l2-identity-0.prm). One frame would '
            'need %s. So the run is a chain of %d segments of %s%s; this one covers t in [%.6g, %.6g] '
            'in coordinates x -> M x where M whitens the moment ODE\'s covariance at its start, maps q to the last '
            'axis and diagonalises the plane block of the covariance at its end (M = %s; Q M^-1, K M^-1, M V M^-1; ranks are taken after mapping back with M^-1 = %s).'
            % (c.i, c.reason_single, self.n, ('t in [%g, %g] (softmax starts late: postprocess/paper_e7.py)' % (
                c.start, c.end) if c.start else 'the end time %g' % c.end), bisection_text(c), self.start, self.stop, pa._text(self.m),
               pa._text(self.minv)))
        head += pa._wrap(pa.CONVENTIONS)
        if self.j == 0:
            initial = ['  set type = gaussian', '  set mean = 0, 0, 0',
                       '  set covariance = 1, 0, 0; 0, 1, 0; 0, 0, 1']
        else:
            before = c.segments[self.j - 1]
            initial = ['  # the previous segment\'s density at its end, in this segment\'s coordinates',
                       '  set type = checkpoint',
                       '  set checkpoint = %s' % os.path.join(os.path.dirname(directory), before.name()),
                       '  set checkpoint map = %s' % pa._text(self.m @ before.minv)]
        return prm_text(head, self, initial, self.stop - self.start, directory, self.j + 1 < self.n)


def bisection_text(case):
    """How a bisected chain's segments were cut (empty for equal segments)."""
    return (' (no chain of at most %d equal segments fits %.2g cell-steps: the end time is halved where a segment '
            'would take more than %.2g cell-steps)' % (max(GRID['chain_segments']), GRID['max_chain_work'],
                                                       GRID['segment_work'])) if case.bisected else ''


def cases(variant, v_kind, count=pa.E7_PER_DIM):
    mats, s0s = pa.e7_matrices(variant, v_kind)[3], pa.e7_init_stream(3, count)
    return [Case(variant, v_kind, i, *mats[i], s0s[i]) for i in range(count)]


def example_cases():
    """The checked-in examples (parameters/paper/authors/e7-*.prm): the first grid draws per setting."""
    out = []
    for variant, vk in GRID['settings']:
        out += [c for c in cases(variant, vk, 10) if c.reason is None and c.segments is None][:GRID['examples']]
    return out


def binary_id(tpde):
    """The first 16 hex digits of the executable's sha256, which each run records (binary.txt): a run is
    reused only by the same build (a rebuilt tpde reruns everything, as validation_tables.py does; with
    --no-run any build's runs are read). Cached per file identity, so a rebuild is seen."""
    status = os.stat(tpde)
    return _binary_id(os.path.realpath(tpde), status.st_mtime_ns, status.st_size, status.st_ino)


@functools.lru_cache(maxsize=None)
def _binary_id(path, *identity):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def made_by(directory, tpde, no_run=False):
    """Whether the run in `directory` was made by this tpde executable (its binary.txt); with no_run
    (read finished runs only) any recorded or unrecorded build will do."""
    if no_run:
        return True
    try:
        with open(os.path.join(directory, 'binary.txt')) as f:
            return f.read().strip() == binary_id(tpde)
    except OSError:
        return False


def run_checked(command):
    """subprocess.run of a tpde command, and the build that ran it (None if the executable changed during
    the run, e.g. rebuilt: then which build made the run is not known)."""
    before = binary_id(command[0])
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, (before if binary_id(command[0]) == before else None)


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
        return 'E7 d=3 %s V=%s draw %d (%s)' % (self.variant, self.v_kind, self.i, self.cells_text())

    def cells_text(self):
        return '%s cells' % 'x'.join(map(str, self.case.cells))

    def execute(self, force, no_run=False):
        try:
            with open(os.path.join(self.directory, 'command.txt')) as f:
                same = shlex.split(f.read())[1:] == self.command[1:]
            with open(os.path.join(self.directory, 'case.prm')) as f:
                same = same and f.read() == self.text
            same = same and made_by(self.directory, self.command[0], no_run)
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
        proc, build = run_checked(self.command)
        self.wall = time.monotonic() - start
        if proc.returncode != 0 or build is None:
            self.error = 'exit code %d: %s' % (proc.returncode, (proc.stderr or proc.stdout).strip()[-1500:]) \
                if proc.returncode != 0 else 'the tpde executable changed during the run'
            return self
        # written last: a run killed before this point is not reused
        write_atomically(os.path.join(self.directory, 'case.prm'), self.text)
        write_atomically(os.path.join(self.directory, 'command.txt'), shlex.join(self.command))
        write_atomically(os.path.join(self.directory, 'binary.txt'), build + '\n')
        write_atomically(os.path.join(self.directory, 'wall.txt'), '%.3f\n' % self.wall)
        return self

    def load(self):
        """Deviation from the solver's ODE columns, eigenvalues at the end time and the limit rank (all in the
        authors' coordinates)."""
        rows, to_authors = read_statistics(self.directory), self.case.to_authors
        mat = lambda r, p: to_authors(covariance(r, p))
        deviation = max(np.linalg.norm(mat(r, '') - mat(r, 'ref_')) / np.linalg.norm(mat(r, 'ref_')) for r in rows)
        return finish_load(self, deviation, self.case.start + float(rows[-1]['time']), mat(rows[-1], ''),
                           mat(rows[-1], 'ref_'))


class Chain:
    """The grid runs of a Case's segments, one after the other (a segment whose predecessor ran again runs
    again); loads like a Run, with the deviation from the moment ODE over every segment's rows."""

    def __init__(self, case, args):
        self.case, self.variant, self.v_kind, self.i = case, case.variant, case.v_kind, case.i
        self.runs = [Run(g, args) for g in case.segments]
        self.wall, self.reused, self.error = None, False, None

    def label(self):
        return 'E7 d=3 %s V=%s draw %d (%s)' % (self.variant, self.v_kind, self.i, self.cells_text())

    def cells_text(self):
        if self.case.bisected:  # up to hundreds of segments: their range only
            counts = [int(np.prod(g.cells)) for g in self.case.segments]
            return '%d bisected segments, %d to %d cells each' % (len(counts), min(counts), max(counts))
        return '%d segments, %s cells' % (len(self.runs), ' + '.join('x'.join(map(str, g.cells)) for g in self.case.segments))

    def execute(self, force, no_run=False):
        again = force
        for before, r in zip([None] + self.runs[:-1], self.runs):
            # a segment finished before its predecessor's last run read an older checkpoint
            again = again or (before is not None and newer(before.directory, r.directory))
            r.execute(again, no_run)
            again = again or not r.reused
            if r.error:
                self.error = 'segment %d: %s' % (r.case.j + 1, r.error)
                break
        self.wall = sum(r.wall or 0.0 for r in self.runs)
        self.reused = all(r.reused for r in self.runs)
        return self

    def load(self):
        c, dev = self.case, 0.0
        for r in self.runs:
            g, rows = r.case, read_statistics(r.directory)
            times = g.start + np.array([float(row['time']) for row in rows])
            ode = ode_path(c, times)
            grid = np.array([g.to_authors(covariance(row)) for row in rows])
            dev = max(dev, float(np.max(np.linalg.norm(grid - ode, axis=(1, 2)) / np.linalg.norm(ode, axis=(1, 2)))))
        return finish_load(self, dev, times[-1], grid[-1], ode[-1])


def newer(first, second):
    """Whether run folder `first` finished after `second` (wall.txt is written last)."""
    try:
        return os.path.getmtime(os.path.join(first, 'wall.txt')) > os.path.getmtime(os.path.join(second, 'wall.txt'))
    except OSError:
        return False


def read_statistics(directory):
    import csv
    with open(os.path.join(directory, 'statistics.csv')) as f:
        return list(csv.DictReader(f))


def covariance(row, prefix=''):
    return np.array([[float(row['%scov_%d%d' % (prefix, a, b)]) for b in range(3)] for a in range(3)])


def finish_load(run, deviation, end_time, grid_end, ode_end):
    """Sets the loaded results of a Run or Chain (authors' coordinates); the grid rank is that of the
    grid's end covariance continued by the moment ODE to t = E7_T."""
    c = run.case
    run.deviation, run.end_time = deviation, end_time
    run.grid_eigs, run.ode_eigs = np.linalg.eigvalsh(grid_end), np.linalg.eigvalsh(ode_end)
    limit = pa.e7_ode(c.variant, c.q, c.k, c.v, 0.5 * (grid_end + grid_end.T), np.array([end_time, pa.E7_T]))
    run.limit_eigs = np.linalg.eigvalsh(limit[-1]) if np.isfinite(limit[-1, 0, 0]) else None
    run.grid_rank = int(np.sum(run.limit_eigs > 0.1)) if run.limit_eigs is not None else -1
    return run


def grid_runs(args, draws=None, variants=('softmax', 'l2')):
    """(runs, left_to_the_ode): the grid runs (one frame, or a chain) of the settings of `variants` and the
    Cases that neither can afford."""
    runs, skipped = [], []
    for variant, vk in (s for s in GRID['settings'] if s[0] in variants):
        for c in cases(variant, vk, draws or pa.E7_PER_DIM):
            if c.reason:
                skipped.append(c)
            else:
                runs.append(Chain(c, args) if c.segments else Run(c, args))
    return runs, skipped


def self_test(check, prm_dir):
    """The checked-in examples against their regeneration; the frame of the first 10 draws per setting:
    M Sigma_0 M^T = I, Q M^-1 on e_3, and the moment ODE's rate transforms as M rate M^T; the frames of
    their chain segments."""
    for c in example_cases():
        path = os.path.join(prm_dir, c.name() + '.prm')
        with open(path) as f:
            if f.read() != c.prm_text('output/paper/authors/' + c.name()):
                raise SystemExit('paper_experiments.py --self-test: %s is not its regeneration '
                                 '(run paper_experiments.py --write-prm)' % path)
    for variant, vk in GRID['settings']:
        for c in cases(variant, vk, 10):
            if c.start is None:  # softmax never within reach of a box: no frame
                continue
            if variant == 'softmax':
                # the run starts where c = beta q Sigma q^T has fallen to softmax_score for good (2 digits)
                score = lambda t: np.array([tilt_score(c.q, s) for s in ode_path(c, np.atleast_1d(t))])
                check('E7 softmax runs where c <= softmax_score',
                      max(0.0, score(np.linspace(c.start, c.end, 41)).max() / GRID['softmax_score'] - 1), 1e-12)
                if c.start:
                    unit = 10.0 ** (np.floor(np.log10(c.start)) - 1)
                    check('E7 softmax starts at the first such time', 0.0 if score(c.start - unit)[0] >
                          GRID['softmax_score'] else 1.0, 0.0)
            scale = np.linalg.cond(c.m)
            check('E7 frame whitens Sigma(start)', np.abs(c.m @ c.s_start @ c.m.T - np.eye(3)).max() / scale, 1e-14)
            check('E7 frame inverse', np.abs(c.m @ c.minv - np.eye(3)).max() / scale, 1e-14)
            check('E7 frame puts q on e_3', np.abs(c.q @ c.minv - c.qf).max() / np.abs(c.qf).max(), 1e-13)
            for s in (c.s0, c.s0 + np.eye(3)):
                mine = pa.rate(variant, c.qf, c.kf, c.vf, c.m @ s @ c.m.T)
                theirs = c.m @ pa.rate(variant, c.q, c.k, c.v, s) @ c.m.T
                check('E7 rate in the frame', np.abs(mine - theirs).max() / np.abs(theirs).max() / scale, 1e-14)
            for j, g in enumerate(c.segments or []):
                # segments tile [0, end]; each frame whitens the ODE's covariance at its start and
                # diagonalises it at its end
                ends = ode_path(c, np.array([g.start, g.stop]))
                scale = np.linalg.cond(g.m)
                check('E7 chain segments numbered in order', abs(g.j - j) + abs(g.n - len(c.segments)), 0)
                check('E7 chain segments tile the end time', abs(g.start - (c.segments[j - 1].stop if j else c.start)) +
                      abs(g.stop - (c.end if j + 1 == len(c.segments) else c.segments[j + 1].start)) +
                      (0.0 if c.bisected else abs(g.start - c.part(j, len(c.segments))[0])), 1e-15)
                check('E7 chain frame whitens Sigma(t_j)', np.abs(g.m @ ends[0] @ g.m.T - np.eye(3)).max() / scale, 1e-12)
                end = g.m @ ends[1] @ g.m.T
                check('E7 chain frame diagonalises the plane of Sigma(t_j+1)', abs(end[0, 1]) / np.abs(end).max() / scale,
                      1e-12)
                check('E7 chain frame puts q on e_3', np.abs(c.q @ g.minv - g.qf).max() / np.abs(g.qf).max(), 1e-13)
                check('E7 chain frame inverse', np.abs(g.m @ g.minv - np.eye(3)).max() / scale, 1e-14)
