"""Benchmark: the rolling-origin back-test (issue 5) on a million-cell grid.

A synthetic square study area of four districts in EPSG:27700 (``--side`` cells of
``--spot`` metres a side: 1000 x 50 m, so 1,000,000 harm-spot cells), five point attractor
layers drawn with a fixed seed (some clustered, some uniform), and three years of
timestamped incidents: a share drawn near the attractors, a share around persistent
hotspots, the rest uniform. Then :func:`rtm.backtest.run_backtest` over ``--weeks``
consecutive weeks (104 from Monday 1 Jan 2018) with all methods (eight since the lopo ceiling), the risk terrain
refitted every 13 weeks by :class:`rtm.terrain_store.TerrainStore` (the real fit, on a
modelling grid of ``--rtm-cell`` metres).

Target: 104 weeks x 1 million cells x all methods in under 5 minutes on 2 cores (set when there were 7).

Run: ``.venv/bin/python bench/bench_backtest.py`` (``--weeks 8`` for a quick check).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def make_case(side: int, spot: float, per_year: int, seed: int = 20261125):
    """Areas, layers and incidents (an Incidents-like namespace) of the synthetic case."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    from rtm.areas import Areas
    from rtm.layers import Layer

    rng = np.random.default_rng(seed)
    x0, y0, width = 500_000.0, 150_000.0, side * spot
    half = width / 2
    quads = [shapely.box(x0 + i * half, y0 + j * half, x0 + (i + 1) * half, y0 + (j + 1) * half)
             for j in range(2) for i in range(2)]
    areas = Areas(gpd.GeoDataFrame({"name": ["SW", "SE", "NW", "NE"]}, geometry=quads, crs="EPSG:27700"))

    def inside(x, y):
        return np.clip(x, x0 + 1, x0 + width - 1), np.clip(y, y0 + 1, y0 + width - 1)

    layers, pts = {}, []
    for i in range(5):
        n = int(rng.integers(500, 4000))
        if i % 2 == 0:  # clustered around a few centres
            k = int(rng.integers(5, 15))
            cx, cy = rng.uniform(x0, x0 + width, k), rng.uniform(y0, y0 + width, k)
            which = rng.integers(0, k, n)
            x, y = cx[which] + rng.normal(0, 1500, n), cy[which] + rng.normal(0, 1500, n)
        else:
            x, y = rng.uniform(x0, x0 + width, n), rng.uniform(y0, y0 + width, n)
        x, y = inside(x, y)
        layers[f"attractor{i}"] = Layer(f"attractor{i}", gpd.GeoDataFrame(
            {"source_row": np.arange(n)}, geometry=shapely.points(x, y), crs="EPSG:27700"), "point")
        pts.append((x, y))
    n = per_year * 3
    near = int(0.4 * n)  # near attractors 0 and 2 (within ~100 m)
    hot = int(0.35 * n)  # around 300 persistent hotspots
    ax = np.concatenate([pts[0][0], pts[2][0]])
    ay = np.concatenate([pts[0][1], pts[2][1]])
    j = rng.integers(0, ax.size, near)
    xs = [ax[j] + rng.normal(0, 80, near)]
    ys = [ay[j] + rng.normal(0, 80, near)]
    hx, hy = rng.uniform(x0, x0 + width, 300), rng.uniform(y0, y0 + width, 300)
    j = rng.integers(0, 300, hot)
    xs.append(hx[j] + rng.normal(0, 120, hot))
    ys.append(hy[j] + rng.normal(0, 120, hot))
    rest = n - near - hot
    xs.append(rng.uniform(x0, x0 + width, rest))
    ys.append(rng.uniform(y0, y0 + width, rest))
    x, y = inside(np.concatenate(xs), np.concatenate(ys))
    t0 = pd.Timestamp("2017-01-01").value
    t1 = pd.Timestamp("2020-01-01").value
    when = pd.to_datetime(rng.integers(t0, t1, n)).floor("min")
    frame = pd.DataFrame({"x": x, "y": y, "date_start": when, "date_end": when,
                          "weight": rng.choice([1.0, 1.0, 2.0, 10.0, 365.0], n), "offence_type": "synthetic"})
    frame = frame.sort_values("date_start", ignore_index=True)
    from rtm.incidents import Incidents

    return areas, layers, Incidents.from_frame(frame, areas.crs, "datetime")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weeks", type=int, default=104)
    ap.add_argument("--side", type=int, default=1000, help="cells per side of the spot grid")
    ap.add_argument("--spot", type=float, default=50.0, help="spot grid cell size, metres")
    ap.add_argument("--rtm-cell", type=float, default=100.0, help="risk terrain modelling cell size, metres")
    ap.add_argument("--per-year", type=int, default=60_000, help="incidents a year")
    args = ap.parse_args()

    from rtm.backtest import BacktestSettings, run_backtest
    from rtm.terrain_settings import RtmSettings
    from rtm.terrain_store import TerrainStore
    from rtm.grid import Grid
    from rtm.periods import periods_between, week_period

    t = time.perf_counter()
    areas, layers, inc = make_case(args.side, args.spot, args.per_year)
    grid = Grid.from_areas(areas, args.spot)
    print(f"case: {grid.mask.sum():,} spot cells of {args.spot:g} m ({grid.nrows} x {grid.ncols}), "
          f"{len(areas.names)} districts, {len(inc.frame):,} incidents 2017-2019, {len(layers)} layers "
          f"({sum(len(v.frame) for v in layers.values()):,} points); made in {time.perf_counter() - t:.1f} s")
    periods = periods_between(week_period("2018-01-01"), "2100-01-01")[:args.weeks]
    schedule = TerrainStore(inc, areas, layers, RtmSettings(args.rtm_cell, 100.0, 3))
    settings = BacktestSettings(spot_size=args.spot)

    def progress(done, total, key):
        if done % 13 == 0 or done == total:
            print(f"  {done}/{total} weeks ({key}) at {time.perf_counter() - t_run:.1f} s", flush=True)

    t_run = time.perf_counter()
    res = run_backtest(inc, areas, periods, terrain_for=schedule, settings=settings, progress=progress)
    total = time.perf_counter() - t_run
    n = len(res.periods)
    print(f"\n{n} weeks x {grid.mask.sum():,} cells x {len(settings.methods)} methods "
          f"({', '.join(settings.methods)}): total {total:.1f} s, {total / n:.2f} s per week; "
          f"{len(res.metrics):,} metric rows")
    print(f"terrain fits: {len(schedule.fits)} on a {args.rtm_cell:g} m modelling grid, "
          + ", ".join(f"{f.seconds:.1f}" for f in schedule.fits) + " s")
    for k, v in res.seconds.items():
        print(f"  {k:<34}{v:>8.1f} s{'':4}{v / n:>7.3f} s per week")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak memory (max RSS): {rss:.2f} GB")
    s = res.summary()
    s = s[(s["district"] == "all") & (s["selection"] == "area 2.6%") & (s["metric"] == "harm_capture")]
    print("mean harm capture at 2.6% of the area: "
          + ", ".join(f"{r.method} {100 * r.mean:.1f}%" for r in s.itertuples()))
    print("PASS" if total < 300 else "FAIL", "(target: under 300 s)")


if __name__ == "__main__":
    main()
