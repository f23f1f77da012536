"""paper_experiments.py --all: every grid run of the authors' set (E1-E6 subsets, E7 d = 3 draws), the
moment ODE on the paper's full grids of initial covariances, the E7 rank histograms (d = 3, 4, 5 by
the ODE; d = 3 also by grid runs), every figure (PNG) and OUT/report.md.

Finished runs and ODE results (OUT/ode/*.npz, OUT/e7/ode.json) are reused."""
import collections
import json
import os
import time

import numpy as np
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

import paper_authors as pa  # noqa: E402
import paper_e7  # noqa: E402

CLAIMS = {
    'E1': 'With K = -Q and V symmetric positive definite every covariance of the grid collapses to 0 '
          '(convergence to the apex of the cone).',
    'E2': 'With Q = q (1 x 2), K = -q, V = I every covariance converges to a rank-one matrix on the line '
          'q-perp (the black generatrix).',
    'E3': 'Multi-head with H = 2 and the same q: only the first head acts (C = e_1 e_1^T), so Sigma_22 '
          'stays constant and every trajectory moves in its plane (a + b) - (a - b) = 2 Sigma_22, towards a '
          'limit off the rank-one boundary ("convergence to a plane").',
    'E4': 'With A + A^T indefinite and V random the limits are rank one on two different lines, '
          'depending on Sigma_0.',
    'E5': 'With A + A^T positive definite and V = I softmax and multi-head blow up in finite time, l2 and '
          'Sinkhorn grow; Sigma / tr Sigma approaches the rank-one circle.',
    'E6': 'The same Q, K as E4 with another V: some Sigma_0 blow up, the others converge to rank one.',
    'E7': 'Over random (Q, K = -Q, V, Sigma_0) the limit covariance has rank at most ceil(d/2), mostly '
          'exactly d - rank Q for V = I.',
}
ODE_HORIZON = dict(E1=300.0, E2=1000.0, E3=1000.0, E4=1000.0, E5=30.0, E6=300.0)


# ----------------------------------------------------------------------------------------------
# The moment ODE on the full grids (2-D)


def full_grid_ode(e, v, out):
    """Trajectories of every Sigma_0 of the paper's grid (cached in OUT/ode/<e>-<v>.npz)."""
    path = os.path.join(out, 'ode', '%s-%s.npz' % (e.lower(), v))
    if os.path.exists(path):
        z = np.load(path)
        return z['times'], z['traj'], [tuple(x) for x in z['grid']]
    rec = pa.recipe(e)
    n, hw = pa.EULER[e]['grid']
    grid = pa.init_grid(n, hw)
    times = pa.geometric_times(ODE_HORIZON[e], 240)
    heads = rec['heads'] if v == 'multihead' else 1
    traj = pa.integrate(v, rec['Q'], rec['K'], rec['V'], np.array([pa.trace_one(*uw) for uw in grid]), times,
                        heads=heads, h_max=0.05 if e != 'E5' else 0.01)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.savez_compressed(path, times=times, traj=traj, grid=np.array(grid))
    return times, traj, grid


def outcomes(times, traj):
    """Counts: blow-up (trace > 1e3, with the time range), collapse (trace < 0.1 at the end, from 1:
    the decay is algebraic), rank one (smallest/largest eigenvalue < 1e-2; limit angles to 1 degree), other."""
    n = traj.shape[1]
    blow = [times[np.argmax(~np.isfinite(traj[:, i, 0, 0]))] for i in range(n) if not np.isfinite(traj[-1, i, 0, 0])]
    fin = traj[-1][np.isfinite(traj[-1, :, 0, 0])]
    ev = np.linalg.eigvalsh(fin) if len(fin) else np.zeros((0, 2))
    tr = ev.sum(axis=1)
    collapse = int(np.sum(tr < 0.1))
    r1 = (tr >= 0.1) & (ev[:, 0] < 1e-2 * ev[:, 1])
    angles = sorted(set(np.round(pa.line_angle(fin[r1]), 0).tolist())) if r1.any() else []
    parts = []
    if blow:
        parts.append('%d blow up (trace > 1e3) at t in [%.3g, %.3g]' % (len(blow), min(blow), max(blow)))
    if collapse:
        parts.append('%d collapse (trace < 0.1)' % collapse)
    if r1.any():
        parts.append('%d rank one (lines %s deg)' % (int(r1.sum()), ', '.join('%g' % a for a in angles[:6])))
    other = len(fin) - collapse - int(r1.sum())
    if other:
        parts.append('%d other (full rank at t = %g)' % (other, times[-1]))
    return '%d inits to t = %g: ' % (n, times[-1]) + '; '.join(parts)


def figure(e, v, kind, times, traj, runs, out):
    """The paper's view: all full-grid ODE trajectories (viridis, coloured by Sigma_0) and the grid runs'
    covariances (black dots). Cone (a - b, 2c, a + b) for convergence, Sigma / tr Sigma disk for blow-up."""
    path = os.path.join(out, 'ode-%s-%s.png' % (e.lower(), v))
    fig = plt.figure(figsize=(6.4, 5.6))
    cmap = plt.get_cmap('viridis')
    n = traj.shape[1]
    u = lambda s: s[..., 0, 0] - s[..., 1, 1]
    w = lambda s: s[..., 0, 1] + s[..., 1, 0]
    z = lambda s: s[..., 0, 0] + s[..., 1, 1]
    if kind == 'blowup':
        ax = fig.add_subplot(111)
        for i in range(n):
            s = traj[:, i][np.isfinite(traj[:, i, 0, 0])]
            ax.plot(u(s) / z(s), w(s) / z(s), color=cmap(i / max(1, n - 1)), lw=0.6, alpha=0.6)
        th = np.linspace(0, 2 * np.pi, 200)
        ax.plot(np.cos(th), np.sin(th), 'k', lw=0.8)
        for r in runs:
            g = np.array([x[1] for x in r.rows])
            ax.plot(u(g) / z(g), w(g) / z(g), 'k.', ms=2)
        ax.set_aspect('equal')
        ax.set_xlabel('(a - b)/(a + b)')
        ax.set_ylabel('2c/(a + b)')
    else:
        ax = fig.add_subplot(111, projection='3d')
        top = 0.0
        for i in range(n):
            s = traj[:, i][np.isfinite(traj[:, i, 0, 0])]
            ax.plot(u(s), w(s), z(s), color=cmap(i / max(1, n - 1)), lw=0.6, alpha=0.6)
            top = max(top, float(np.max(z(s))))
        for r in runs:
            g = np.array([x[1] for x in r.rows])
            ax.plot(u(g), w(g), z(g), 'k.', ms=2)
        a, b = np.meshgrid(np.linspace(0, 2 * np.pi, 60), np.linspace(0, top, 12))
        ax.plot_wireframe(b * np.cos(a), b * np.sin(a), b, color='0.8', lw=0.3)
        if kind in ('line', 'lines'):
            rec = pa.recipe(e)
            for ang in pa.isotropic_lines(rec['Q'], rec['K']):
                c, s_ = np.cos(np.radians(2 * ang)), np.sin(np.radians(2 * ang))
                ax.plot([0, top * c], [0, top * s_], [0, top], 'k', lw=1.5)
        ax.set_xlabel('a - b')
        ax.set_ylabel('2c')
        ax.set_zlabel('a + b')
    ax.set_title('%s %s: ODE on the paper\'s grid (%d inits, colour)\nblack dots: grid runs (%d)' % (
        e, v, n, len(runs)), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------------------------
# E7 by the moment ODE


def e7_ode_ranks(out):
    """Limit ranks (eigenvalues > 0.1 at t = 3000; -1: trace past 1e3) of the 100 draws per setting and
    dimension; draw i pairs matrices i with the i-th Sigma_0 (cached in OUT/e7/ode.json)."""
    path = os.path.join(out, 'e7', 'ode.json')
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    result, start, total, done = {}, time.monotonic(), len(pa.E7_SETTINGS) * len(pa.E7_DIMS), 0
    for variant, vk in sorted(pa.E7_SETTINGS):
        mats = pa.e7_matrices(variant, vk)
        for d in pa.E7_DIMS:
            inits = pa.e7_init_stream(d, pa.E7_PER_DIM)
            ranks = []
            for (q, k, v), s0 in zip(mats[d], inits):
                s = pa.e7_ode(variant, q, k, v, s0, np.array([0.0, pa.E7_T]))[-1]
                ranks.append(pa.rank(s) if np.all(np.isfinite(s)) else -1)
            result['%s %s %d' % (variant, vk, d)] = ranks
            done += 1
            el = time.monotonic() - start
            print('[E7 ODE %d/%d] %s V=%s d=%d: %s | elapsed %.0f s, remaining ~%.0f s' % (
                done, total, variant, vk, d, histogram_text(ranks, d), el, el / done * (total - done)), flush=True)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(result, f)
    return result


def histogram_text(ranks, d):
    counts = [ranks.count(r) for r in range(d + 1)]
    bad = ranks.count(-1)
    return '[%s]%s' % (', '.join(map(str, counts)), ' (%d diverged, dropped)' % bad if bad else '')


def e7_figures(ranks, grid_runs, out):
    """Per variant: the ODE's histograms of all 100 draws per d; in d = 3 also the grid runs' (their end
    covariance continued by the ODE) against the ODE's on the same draws."""
    paths = []
    for variant in ('softmax', 'l2'):
        fig, axes = plt.subplots(2, 3, figsize=(10, 6))
        for row, vk in enumerate(('identity', 'random')):
            for col, d in enumerate(pa.E7_DIMS):
                ax = axes[row, col]
                rr = [r for r in ranks['%s %s %d' % (variant, vk, d)] if r >= 0]
                bins = np.arange(0, d + 1.5) - 0.5
                ax.hist(rr, bins=bins, color='tab:blue', alpha=0.5, label='moment ODE, %d draws' % len(rr))
                grid = [g for g in grid_runs if g.variant == variant and g.v_kind == vk and d == 3]
                if grid:
                    ax.hist([ranks['%s %s 3' % (variant, vk)][g.i] for g in grid], bins=bins, histtype='step',
                            color='k', lw=1.5, label='ODE, the %d grid draws' % len(grid))
                    ax.hist([g.grid_rank for g in grid], bins=bins, histtype='step', color='r', ls='--', lw=1.5,
                            label='grid runs (%d)%s' % (len(grid), ', from their start: ODE before' if variant == 'softmax' else ''))
                ax.legend(fontsize=7, loc='upper left')
                ax.set_xticks(range(d + 1))
                ax.set_title('d = %d%s' % (d, ' (moment ODE only)' if d > 3 else ''), fontsize=10)
                if col == 0:
                    ax.set_ylabel('V %s' % vk)
                if row == 1:
                    ax.set_xlabel('rank (eigenvalues > 0.1 at t = 3000)')
        fig.suptitle('E7 %s: limit ranks of 100 draws per d (authors\' seeds)' % variant)
        fig.tight_layout()
        path = os.path.join(out, 'e7-histograms-%s.png' % variant)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths


# ----------------------------------------------------------------------------------------------
# --all


def matrices_md(e):
    rec = pa.recipe(e)
    f = lambda m: '[' + '; '.join(', '.join('%.6g' % x for x in row) for row in np.atleast_2d(m)) + ']'
    return 'Q = %s, K = %s, V = %s (authors\' form; %s)' % (f(rec['Q']), f(rec['K']), f(rec['V']), rec['provenance'])


def run_all(args, pe):
    """Returns the exit code (1 if a run failed)."""
    start = time.monotonic()
    os.makedirs(args.out, exist_ok=True)
    runs = pe.select_runs(args)
    keep = pe.kept(args)
    e7_variants = [v for v in ('softmax', 'l2') if keep('E7', v)]
    grid7, e7_skipped = paper_e7.grid_runs(args, args.e7_grid_draws, e7_variants)
    grid7.sort(key=lambda g: -g.case.work)
    # the longest first (Sinkhorn, then E7 in 3-D by cell count): the pool then ends with the short runs
    order = [r for r in runs if r.variant == 'sinkhorn'] + grid7 + [r for r in runs if r.variant != 'sinkhorn']
    failures = pe.execute_all(order, args)
    table, more = pe.grid_table(runs, args)
    failures += more
    e7_rows = []
    for g in grid7:
        if not g.error:
            try:
                g.load()
                e7_rows.append(g)
            except (OSError, KeyError, ValueError) as error:
                g.error = str(error)
                failures.append(g)
    print('[ODE] full grids of initial covariances (numpy RK4; cached in %s/ode)' % args.out, flush=True)
    ode = {}
    for e in pe.EXPERIMENTS:
        for v in pe.EXPERIMENTS[e]['variants']:
            if not keep(e, v):
                continue
            t0 = time.monotonic()
            times, traj, _ = full_grid_ode(e, v, args.out)
            group = [r for r in runs if r.experiment == e and r.variant == v and r.rows is not None]
            ode[(e, v)] = (outcomes(times, traj), figure(e, v, pe.EXPERIMENTS[e]['kind'], times, traj, group, args.out))
            print('[ODE] %s %s: %s (%.0f s)' % (e, v, ode[(e, v)][0], time.monotonic() - t0), flush=True)
    ranks = e7_ode_ranks(args.out) if e7_variants else {}
    e7_paths = e7_figures(ranks, e7_rows, args.out) if ranks else []
    text = pe.table_text(table)
    with open(os.path.join(args.out, 'table.md'), 'w') as f:
        f.write(text + '\n')
    write_report(args, pe, table, ode, ranks, (e7_rows, e7_skipped), e7_paths, time.monotonic() - start)
    print(text)
    print('wrote %s (%.0f s)' % (os.path.join(args.out, 'report.md'), time.monotonic() - start))
    for r in failures:
        print('paper_experiments.py: run failed: %s: %s' % (r.label(), r.error))
    return 1 if failures else 0


def builds_text(args):
    """Which builds of tpde made the runs in the folder (their binary.txt), against the current one: only
    its runs are reused (with --no-run: whatever build made them)."""
    current, ids = paper_e7.binary_id(args.tpde), collections.Counter()
    for name in sorted(os.listdir(os.path.join(args.out, 'runs'))):
        try:
            with open(os.path.join(args.out, 'runs', name, 'binary.txt')) as f:
                ids[f.read().strip()] += 1
        except OSError:
            ids['(not recorded: failed, unfinished or older runs)'] += 1
    mine = ids.pop(current, 0)
    text = 'Runs: made by the tpde build with sha256 %s... (`--tpde %s`): %d run folders.' % (
        current, args.tpde, mine)
    if ids:
        text += ' Other run folders: %s; %s.' % (', '.join('%s: %d' % kv for kv in ids.most_common()), (
            'read as found (`--no-run`)' if args.no_run else 'not used'))
    return text


def write_report(args, pe, table, ode, ranks, e7_grid, e7_paths, wall):
    rel = lambda p: os.path.relpath(p, args.out)
    lines = ['# The paper\'s experiments with the authors\' matrices', '',
             'Generated by `postprocess/paper_experiments.py --all --out %s` (%.0f s for this invocation, '
             'reused runs not counted; %s).' % (args.out, wall, time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())),
             'Grid runs: a documented subset of each experiment\'s grid of trace-1 initial covariances '
             '(paper_authors.SUBSETS); moment ODE: the full grid (numpy RK4, trajectories in colour). '
             '"max rel. deviation" is max over time and runs of |Sigma_grid - Sigma_ODE|_F / |Sigma_ODE|_F '
             'against the solver\'s own ODE columns.', '', builds_text(args), '']
    keep = pe.kept(args)
    for e in pe.EXPERIMENTS:
        lines += ['## %s: %s' % (e, pa.TITLES[e]), '', '**Paper\'s claim.** ' + CLAIMS[e], '',
                  '**Matrices.** ' + matrices_md(e), '',
                  '**Grid subset** (u, w): %s.' % ', '.join('(%.4g, %.4g)' % uw for uw in pe.EXPERIMENTS[e]['sigmas']), '',
                  '| variant | grid runs | end time | max rel. deviation | to half the end time | wall [s] | '
                  'limit lines, ODE [deg] | limit lines, authors\' matrices [deg] | full-grid ODE |',
                  '|---|---|---|---|---|---|---|---|---|']
        for v in pe.EXPERIMENTS[e]['variants']:
            t = next((t for t in table if t['e'] == e and t['v'] == v), None)
            summary = ode.get((e, v), ('-', None))[0]
            if t is None:
                lines.append('| %s | %s | | | | | | | %s |' % (
                    v, 'missing (failed or not run)' if keep(e, v) else 'not selected (--only/--exclude)', summary))
                continue
            lines.append('| %s | %d | %.3g | %.2e | %.2e | %.0f | %s | %s | %s |' % (
                v, t['n'], t['tend'], t['dev'], t['half'], t['wall'], t['lim'] or '-', t['exact'] or '-', summary))
        lines.append('')
        for v in pe.EXPERIMENTS[e]['variants']:
            grid_png = os.path.join(args.out, '%s-%s.png' % (e.lower(), v))
            if os.path.exists(grid_png):
                lines.append('![%s %s grid vs ODE](%s)' % (e, v, rel(grid_png)))
            if (e, v) in ode:
                lines.append('![%s %s full grid ODE](%s)' % (e, v, rel(ode[(e, v)][1])))
        lines.append('')
    lines += ['## E7: rank histograms', '', '**Paper\'s claim.** ' + CLAIMS['E7'], '',
              '**Matrices.** ' + pa.E7_PROVENANCE + '. Draw i pairs the i-th matrices with the i-th Sigma_0, '
              'as the authors\' loop does while every run converges.', '',
              'Limit rank = number of eigenvalues > 0.1 at t = %g (scipy LSODA, rtol 1e-9); d = 4, 5 by the '
              'moment ODE only. Counts by rank 0..d:' % pa.E7_T, '',
              '| variant | V | d = 3 | d = 4 (ODE only) | d = 5 (ODE only) |', '|---|---|---|---|---|']
    for variant, vk in sorted(pa.E7_SETTINGS) if ranks else []:
        lines.append('| %s | %s | %s |' % (variant, vk, ' | '.join(
            histogram_text(ranks['%s %s %d' % (variant, vk, d)], d) for d in pa.E7_DIMS)))
    lines += e7_grid_lines(ranks, *e7_grid) if ranks else []
    lines += [''] + ['![E7](%s)' % rel(p) for p in e7_paths] + ['']
    with open(os.path.join(args.out, 'report.md'), 'w') as f:
        f.write('\n'.join(lines))


def e7_grid_lines(ranks, rows, skipped):
    """The report's d = 3 grid section: histograms of the grid runs against the ODE on the same draws,
    the draws left to the ODE, and one line per run."""
    g = paper_e7.GRID
    lines = ['', '### d = 3 as grid runs (l2 and softmax)', '',
             'Coordinates x -> M x with M = H Sigma_0^{-1/2} (N(0, I) initial data; q on the last axis; the PDE '
             'is equivariant under linear maps). Mesh per draw from the ODE path in those coordinates: %g '
             'standard deviations of the widest extent per axis, Q2 cells of at most %g across and %g along '
             'e_3, smaller where a direction would get fewer than %g standard deviations per cell; draws '
             'needing more than %.2g cell-steps (cells x time steps predicted from the ODE\'s speeds) run as a '
             'chain of %s equal segments instead, each in coordinates that whiten the ODE\'s covariance at its start '
             'and diagonalise it at its end, starting from the previous segment\'s density (Initial condition/type = '
             'checkpoint, moments kept), the cheapest within %.2g cell-steps; beyond that the end time is bisected '
             'instead (a segment halved while it needs more than %.2g cell-steps, at most %d halvings), and chains '
             'needing more than %.2g cell-steps are left to the ODE. End time: when the ODE first reaches its limit rank, in [%g, %g], and at most %g / max '
             '|eig V| (the mean 0 is unstable; round-off must not grow past 1e-3). Grid rank: the grid\'s covariance at the end time, mapped back by M^-1 and '
             'continued by the moment ODE to t = %g. **Softmax starts late**: with K = -Q the velocity at x is the mean '
             'of the density tilted to y_3 = -c x_3 (whitened coordinates, c = beta q Sigma q^T), beyond any box '
             'while c is large. So a softmax draw runs on the grid from the first time after which c stays at most %g '
             '(to 2 digits, rounded up), from the moment ODE\'s N(0, Sigma(start)) in coordinates that whiten it, '
             'and the moment ODE alone before (column "start").' % (g['box_sd'], g['h_plane'], g['h_normal'], g['sd_per_h'],
                                                 g['max_work'], ', '.join(map(str, g['chain_segments'])),
                                                 g['max_chain_work'], g['segment_work'], g['max_halvings'],
                                                 g['max_bisected_work'], g['end_floor'], g['end_cap'],
                                                 g['mean_efolds'], pa.E7_T, g['softmax_score']), '',
             '| variant | V | grid draws | start: median, max | late starts (rank changed before: ODE only) | grid ranks 0..3 | ODE ranks, same draws | disagree | rank at end time, '
             'grid = ODE | max rel. deviation | left to the ODE (ODE ranks 0..3) | wall total [s] |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|']
    for variant, vk in g['settings']:
        mine = [r for r in rows if r.variant == variant and r.v_kind == vk]
        ode = ranks['%s %s 3' % (variant, vk)]
        left = [c for c in skipped if c.variant == variant and c.v_kind == vk]
        if not mine:
            continue
        disagree = [r.i for r in mine if r.grid_rank != ode[r.i]]
        same_end = sum(int(np.sum(r.grid_eigs > 0.1)) == int(np.sum(r.ode_eigs > 0.1)) for r in mine)
        starts = [r.case.start for r in mine]
        late = [r.case for r in mine if r.case.start]
        changed = ['draw %d' % c.i for c in late if pa.rank(c.s_start) != pa.rank(c.s0)]
        lines.append('| %s | %s | %d | %g, %g | %d (%d%s) | %s | %s | %s | %d of %d | %.2e | %d %s | %.0f |' % (
            variant, vk, len(mine), np.median(starts), max(starts), len(late), len(changed),
            ': ' + ', '.join(changed) if changed else '', histogram_text([r.grid_rank for r in mine], 3),
            histogram_text([ode[r.i] for r in mine], 3), ', '.join('draw %d' % i for i in disagree) or 'none',
            same_end, len(mine), max(r.deviation for r in mine), len(left),
            histogram_text([ode[c.i] for c in left], 3), sum(r.wall for r in mine)))
    lines += ['', '| variant | V | draw | cells | start | end time | grid eigenvalues (end) | ODE eigenvalues (end) | grid limit '
              'eigenvalues (t = %g) | grid rank | ODE rank | max rel. deviation | wall [s] |' % pa.E7_T,
              '|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        lines.append('| %s | %s | %d | %s | %g | %g | %s | %s | %s | %d | %d | %.2e | %.0f |' % (
            r.variant, r.v_kind, r.i, r.cells_text(), r.case.start, r.end_time, np.round(r.grid_eigs, 4).tolist(),
            np.round(r.ode_eigs, 4).tolist(), np.round(r.limit_eigs, 4).tolist() if r.limit_eigs is not None
            else 'diverged', r.grid_rank, ranks['%s %s 3' % (r.variant, r.v_kind)][r.i], r.deviation, r.wall))
    lines += ['', 'Left to the ODE: ' + '; '.join('%s V %s draw %d: %s' % (c.variant, c.v_kind, c.i, c.reason)
                                                  for c in skipped)]
    return lines
