"""Benchmark: a harm surface of 1 million weighted incidents on a 2-million-cell grid.

Data (made here, fixed seed): a grid of 1414 x 1414 cells of 50 m (1,999,396 cells, 70.7 km
square) whose study area is the inscribed disc (1,570,048 cells), and 1,000,000 incidents
in 500 Gaussian clusters (sd 300 m) with exponential harm weights (mean 50). Ours:
``harm_surface`` with the quartic kernel, bandwidth 100 m, edge-corrected to the disc,
timed from the call to the returned array (first call in a fresh process, so FFT set-up
is included). Target (issue 4): under 1 s.

Peers, timed in the same run: ``scipy.stats.gaussian_kde`` and
``sklearn.neighbors.KernelDensity`` (ball tree, exact: ``atol = rtol = 0``), both with an
isotropic Gaussian of sigma 50 m (our ``kernel="gaussian"`` at bandwidth 100 m) and the
harm weights, fitted on the first 10,000 incidents and evaluated at 50,000 random cell
centres. The ratio is per incident-cell evaluation: ``peer seconds / (10,000 x 50,000)``
divided by ``our seconds / (1,000,000 x 1,999,396)``. Ours does not evaluate pairs (it
bins, then convolves), so the ratio says how much work a pairwise method would need for
our job, not that the methods do the same arithmetic.

Run: ``.venv/bin/python bench/bench_surface.py`` (``--repeat 5`` for five runs of ours).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

N_SIDE, CELL, N_INC = 1414, 50.0, 1_000_000
N_PEER_INC, N_PEER_CELLS = 10_000, 50_000
BANDWIDTH = 100.0


def make_data():
    import numpy as np
    import pyproj

    from rtm.grid import Grid

    r, c = np.mgrid[0:N_SIDE, 0:N_SIDE]
    half = N_SIDE / 2
    mask = (r + 0.5 - half) ** 2 + (c + 0.5 - half) ** 2 < half**2
    grid = Grid(CELL, 0.0, N_SIDE * CELL, N_SIDE, N_SIDE, pyproj.CRS("EPSG:27700"), mask,
                np.where(mask, 0, -1).astype(np.int32), ("disc",))
    rng = np.random.default_rng(20240)
    side = N_SIDE * CELL
    centres = rng.uniform(0, side, (500, 2))
    which = rng.integers(0, 500, N_INC)
    x = centres[which, 0] + rng.normal(0, 300, N_INC)
    y = centres[which, 1] + rng.normal(0, 300, N_INC)
    w = rng.exponential(50.0, N_INC)
    return grid, x, y, w


def run_ours() -> None:
    from rtm.surfaces import harm_surface

    grid, x, y, w = make_data()
    t = time.perf_counter()
    s = harm_surface(grid, x, y, w, bandwidth_m=BANDWIDTH)
    dt = time.perf_counter() - t
    inside = grid.counts(x, y, w)[grid.mask].sum()
    err = abs(s[grid.mask].sum() / inside - 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"rtm.harm_surface        incidents {N_INC:>9,}  cells {grid.nrows * grid.ncols:>9,}  {dt:6.3f} s  "
          f"{dt / (N_INC * grid.nrows * grid.ncols) * 1e9:.2e} ns/pair  peak {peak:5.2f} GB  "
          f"(sum error {err:.1e})", flush=True)


def run_peers() -> None:
    import numpy as np
    from scipy.stats import gaussian_kde
    from sklearn.neighbors import KernelDensity

    from rtm.surfaces import harm_surface

    grid, x, y, w = make_data()
    x, y, w = x[:N_PEER_INC], y[:N_PEER_INC], w[:N_PEER_INC]
    rng = np.random.default_rng(7)
    cells = rng.choice(grid.nrows * grid.ncols, N_PEER_CELLS, replace=False)
    cx, cy = (a.ravel()[cells] for a in grid.centres())
    sigma = BANDWIDTH / 2
    pairs = N_PEER_INC * N_PEER_CELLS

    # our Gaussian surface of the same 10,000 incidents, for the agreement check
    ours = harm_surface(grid, x, y, w, bandwidth_m=BANDWIDTH, kernel="gaussian", edge="none").ravel()[cells]
    scale = w.sum() * CELL**2  # density per m2 -> harm per cell

    kde = gaussian_kde(np.vstack([x, y]), weights=w)
    # gaussian_kde scales the data's covariance; set it to sigma^2 I for an isotropic kernel
    kde._data_covariance = np.eye(2) * sigma**2
    kde._data_cho_cov = np.eye(2) * sigma
    kde.set_bandwidth(1.0)
    t = time.perf_counter()
    a = kde(np.vstack([cx, cy])) * scale
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"scipy gaussian_kde      incidents {N_PEER_INC:>9,}  cells {N_PEER_CELLS:>9,}  {dt:6.3f} s  "
          f"{dt / pairs * 1e9:.2e} ns/pair  peak {peak:5.2f} GB  "
          f"(vs ours: {_agreement(a, ours)})", flush=True)

    kd = KernelDensity(bandwidth=sigma, kernel="gaussian").fit(np.column_stack([x, y]), sample_weight=w)
    t = time.perf_counter()
    b = np.exp(kd.score_samples(np.column_stack([cx, cy]))) * scale
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"sklearn KernelDensity   incidents {N_PEER_INC:>9,}  cells {N_PEER_CELLS:>9,}  {dt:6.3f} s  "
          f"{dt / pairs * 1e9:.2e} ns/pair  peak {peak:5.2f} GB  "
          f"(vs ours: {_agreement(b, ours)})", flush=True)


def _agreement(peer, ours) -> str:
    """Largest difference relative to the peer's largest value, and the correlation."""
    import numpy as np

    diff = np.abs(peer - ours).max() / peer.max()
    return f"max diff {diff:.1%} of peak, r = {np.corrcoef(peer, ours)[0, 1]:.4f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", choices=["ours", "peers"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.only == "ours":
        run_ours()
        return 0
    if a.only == "peers":
        run_peers()
        return 0
    # each run in a fresh process so its peak memory and FFT set-up are its own
    ours = [_run("ours")[0] for _ in range(a.repeat)]
    peers = _run("peers")
    med = sorted(ours, key=lambda r: r[0])[len(ours) // 2]
    best = min(ours, key=lambda r: r[0])
    ratios = ", ".join(f"{name} {p[1] / med[1]:.1e}x" for name, p in zip(("gaussian_kde", "KernelDensity"), peers))
    print(f"summary: median {med[0]:.3f} s, best {best[0]:.3f} s for {N_INC:,} incidents on "
          f"{N_SIDE * N_SIDE:,} cells; max peak {max(r[2] for r in ours):.2f} GB. Time per incident-cell "
          f"pair, peer / ours (median): {ratios}. Target: < 1 s.")
    return 0


def _run(which: str) -> list[tuple[float, float, float]]:
    """Run one measurement in a fresh interpreter; (seconds, ns/pair, peak GB) per line."""
    out = subprocess.run([sys.executable, __file__, "--only", which], check=True, capture_output=True,
                         text=True).stdout
    print(out, end="", flush=True)
    rows = []
    for line in out.splitlines():
        parts = line.split()
        rows.append((float(parts[parts.index("s") - 1]), float(parts[parts.index("ns/pair") - 1]),
                     float(parts[parts.index("GB") - 1])))
    return rows


if __name__ == "__main__":
    sys.exit(main())
