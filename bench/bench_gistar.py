"""Benchmark: harm-weighted Gi* by FFT against PySAL's sparse neighbours, and the cost on a
force grid.

Data (made here, fixed seed): harm per cell drawn as a gamma variable (shape 0.3, scale 30)
on square grids; the study area is the whole square. Band 300 m on 150 m cells (28 cells
within the band, the cell included).

1. Same grid for both (120 x 120 = 14,400 cells): ours is :func:`rtm.gistar.gistar` (two FFT
   convolutions); the peer is ``libpysal.weights.DistanceBand`` (KD-tree neighbours, binary)
   plus ``esda.G_Local(star=True, permutations=0)``, timed from the cell centres to the
   z-scores. The z-scores are checked to agree to 1e-9 and the ratio peer / ours printed.
2. A force grid: Essex at 150 m is about 430 x 390 cells; we time 500 x 500 (250,000 cells)
   for Gi* with Benjamini-Hochberg, and the emerging hot spot classes of 52 weeks (52 Gi*
   passes plus one Mann-Kendall over the 250,000 series).

Run: ``.venv/bin/python bench/bench_gistar.py``.
"""

from __future__ import annotations

import time

import numpy as np

CELL, BAND = 150.0, 300.0


def _timed(fn, repeat=3):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def peer_comparison(n_side=120):
    import esda
    import libpysal

    from rtm.gistar import gistar

    rng = np.random.default_rng(0)
    values = rng.gamma(0.3, 30.0, (n_side, n_side))
    mask = np.ones_like(values, bool)
    ours_s, (z, _) = _timed(lambda: gistar(values, mask, CELL, BAND))
    rows, cols = np.nonzero(mask)
    pts = np.column_stack([cols * CELL, -rows * CELL])

    def peer():
        w = libpysal.weights.DistanceBand(pts, threshold=BAND, binary=True, silence_warnings=True)
        return esda.G_Local(values[rows, cols], w, transform="B", star=True, permutations=0).Zs

    peer(); peer_s, zs = _timed(peer, repeat=1)  # the first call compiles esda's numba kernels
    assert np.abs(zs - z[rows, cols]).max() < 1e-9
    print(f"Gi* on {n_side} x {n_side} = {n_side * n_side:,} cells, band {BAND:g} m on {CELL:g} m cells:")
    print(f"  ours (FFT)                      {ours_s * 1000:8.1f} ms")
    print(f"  libpysal DistanceBand + esda    {peer_s * 1000:8.1f} ms")
    print(f"  ratio peer / ours               {peer_s / ours_s:8.1f} x   (z-scores agree to 1e-9)")


def force_grid(n_side=500, weeks=52):
    import pandas as pd
    from pyproj import CRS

    from rtm.emerging import EmergingSettings, emerging_hotspots
    from rtm.gistar import fdr_adjust, gistar
    from rtm.grid import Grid
    from rtm.periods import week_period

    rng = np.random.default_rng(1)
    values = rng.gamma(0.3, 30.0, (n_side, n_side))
    mask = np.ones_like(values, bool)
    gi_s, _ = _timed(lambda: fdr_adjust(gistar(values, mask, CELL, BAND)[1]))
    grid = Grid(CELL, 500000.0, 300000.0, n_side, n_side, CRS.from_epsg(27700), mask,
                np.zeros((n_side, n_side), np.int32), ("A",))
    period = week_period("2019-03-04")
    n = 60_000
    start = period.start - pd.Timedelta(weeks=weeks)
    when = start + pd.to_timedelta(rng.random(n) * weeks * 7, unit="D")
    frame = pd.DataFrame({"x": grid.x0 + rng.random(n) * n_side * CELL, "y": grid.y0 - rng.random(n) * n_side * CELL,
                          "date_start": when, "date_end": when, "weight": rng.exponential(50.0, n)})
    em_s, em = _timed(lambda: emerging_hotspots(grid, frame, period, EmergingSettings(distance_m=BAND)), repeat=1)
    print(f"Force grid {n_side} x {n_side} = {n_side * n_side:,} cells:")
    print(f"  Gi* + Benjamini-Hochberg        {gi_s * 1000:8.1f} ms")
    print(f"  emerging classes, {len(em.periods)} weeks      {em_s:8.2f} s   ({n:,} incidents)")


if __name__ == "__main__":
    peer_comparison()
    force_grid()
