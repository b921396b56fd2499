"""Benchmark: risk variables, variable selection and final fit of the risk terrain model.

A synthetic study area (a square of 50 m cells in EPSG:27700, built with
``rtm.areas.Areas`` and ``Grid.from_areas``), point attractor layers drawn with a fixed
seed (some uniform, some clustered around a few centres, a few hundred to a few thousand
points each) and incident counts simulated from a known negative binomial model with
three planted variables. Times, separately and in total, ``build_variables`` (every
factor as both proximity and density, 6 bands of 100 m), ``RiskTerrainModel().fit`` with
its defaults (score-test screening to 60 candidates, elastic net with cross-validation on
a case-control sample of at most 200,000 cells, stepwise search for both families and
final fit on every cell) and ``predict_rrs``; prints peak memory (max RSS of a fresh
process per run) and whether the planted variables were found.

Target (issue 3): 30 factors x both operationalisations x 6 bands (360 candidate
variables) on 1.5 million cells in under 60 s with peak memory under 4 GB; also reported:
10 factors on 100,000 cells. No peer runs here: RTMDx, the reference implementation, is
closed-source and Windows-only.

Run: ``.venv/bin/python bench/bench_rtm.py`` (add ``--repeat 3`` for the median of three,
``--case small`` or ``--case large`` for one case, ``--timeout 600`` to stop a run that
takes longer and report how far it got).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CELL = 50.0
BLOCK, BANDS = 100.0, 6
# name -> relative risk value; the simulation's truth (the variables are exact names)
PLANTED = {"f00_prox_200": 2.5, "f01_dens_300": 2.0, "f02_prox_100": 1.6}
BASE_RATE = 0.02  # incidents per cell where no planted variable is present
NB_ALPHA = 0.5  # overdispersion of the simulated counts
CASES = {"large": (30, 1225), "small": (10, 316)}  # factors, cells per side


def make_case(factors: int, side: int, seed: int = 20261124):
    """Grid, layers and simulated counts of one case (deterministic for a seed)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from rtm.areas import Areas
    from rtm.grid import Grid
    from rtm.layers import Layer

    rng = np.random.default_rng(seed)
    x0, y0, width = 520_000.0, 150_000.0, side * CELL
    square = shapely.box(x0, y0, x0 + width, y0 + width)
    areas = Areas(gpd.GeoDataFrame({"name": ["square"]}, geometry=[square], crs="EPSG:27700"))
    grid = Grid.from_areas(areas, CELL)
    scale = side**2 / 1225**2  # same density of attractors in both cases
    layers = []
    for i in range(factors):
        n = max(30, int(rng.integers(300, 3000) * scale))
        if i % 3 == 1:  # clustered: points around a handful of centres
            k = int(rng.integers(3, 12))
            cx, cy = rng.uniform(x0, x0 + width, k), rng.uniform(y0, y0 + width, k)
            which = rng.integers(0, k, n)
            sd = rng.uniform(200, 800)
            x, y = cx[which] + rng.normal(0, sd, n), cy[which] + rng.normal(0, sd, n)
        else:
            x, y = rng.uniform(x0, x0 + width, n), rng.uniform(y0, y0 + width, n)
        frame = gpd.GeoDataFrame({"source_row": np.arange(n)}, geometry=shapely.points(x, y), crs="EPSG:27700")
        layers.append(Layer(f"f{i:02d}", frame, "point"))
    return grid, layers, rng


def simulate(X, rng):
    import numpy as np

    planted = X.matrix[:, X.columns(list(PLANTED))].astype(float)
    mu = BASE_RATE * np.exp(planted @ np.log(list(PLANTED.values())))
    return rng.poisson(rng.gamma(1 / NB_ALPHA, NB_ALPHA * mu))


def run_case(name: str) -> None:
    """One measurement; prints a JSON line after the variables and one at the end."""
    from rtm.model import RiskTerrainModel
    from rtm.variables import build_variables

    factors, side = CASES[name]
    grid, layers, rng = make_case(factors, side)
    t0 = time.perf_counter()
    X = build_variables(grid, layers, BLOCK, BANDS, "whole", {lay.name: "both" for lay in layers})
    t1 = time.perf_counter()
    y = simulate(X, rng)
    out = {"case": name, "factors": factors, "cells": int(X.n_cells), "variables": len(X.names),
           "incidents": int(y.sum()), "variables_s": t1 - t0, "peak_gb": _peak()}
    print(json.dumps(out), flush=True)
    t2 = time.perf_counter()
    model = RiskTerrainModel(random_state=0).fit(X, y)
    t3 = time.perf_counter()
    rrs = model.predict_rrs(X)
    t4 = time.perf_counter()
    assert rrs.shape == (X.n_cells,)
    out.update({
        "candidates": len(model.candidates_), "screened": len(model.screened_), "rows": int(model.n_rows_),
        "preselect_cells": int(model.preselect_cells_),
        "fit_s": t3 - t2, "predict_s": t4 - t3, "total_s": (t1 - t0) + (t4 - t2), "peak_gb": _peak(),
        "preselected": len(model.preselected_), "selected": model.selected_, "family": model.family_,
        "found": sorted(model.selected_) == sorted(PLANTED),
        "rrv": {r.variable: r.rrv for r in model.coef_table_.itertuples() if r.type == "rate"},
    })
    print(json.dumps(out), flush=True)


def _peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _run(name: str, timeout: float | None) -> dict:
    """Run one measurement in a fresh interpreter (so the peak memory is its own)."""
    try:
        out = subprocess.run([sys.executable, __file__, "--only", name], check=True, capture_output=True,
                             text=True, timeout=timeout).stdout
        timed_out = False
    except subprocess.TimeoutExpired as e:  # the child is killed; keep what it printed
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        timed_out = True
    r = json.loads(out.strip().splitlines()[-1])
    if timed_out:
        # the largest resident size of any finished child so far (this one included)
        r.update(timed_out=True, peak_gb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2,
                 total_s=math.inf, found=False)
        print(f"{r['factors']:2d} factors {r['cells']:>9,} cells {r['variables']:3d} variables  "
              f"variables {r['variables_s']:6.2f} s  fit stopped unfinished at the --timeout of {timeout:g} s "
              f"for the whole run; peak at least {r['peak_gb']:5.2f} GB", flush=True)
        return r
    found = "yes" if r["found"] else f"NO (selected {', '.join(r['selected']) or 'nothing'})"
    print(f"{r['factors']:2d} factors {r['cells']:>9,} cells {r['candidates']:3d} candidates  "
          f"variables {r['variables_s']:6.2f} s  fit {r['fit_s']:6.2f} s  predict {r['predict_s']:5.2f} s  "
          f"total {r['total_s']:6.2f} s  peak {r['peak_gb']:5.2f} GB  planted found: {found}", flush=True)
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--case", choices=["both", *CASES], default="both")
    ap.add_argument("--timeout", type=float, help="seconds after which a run is stopped (default: none)")
    ap.add_argument("--only", choices=list(CASES), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.only:
        run_case(a.only)
        return 0
    print("no peer: RTMDx (the reference implementation) is closed-source and Windows-only, so nothing "
          "comparable runs in the same process or machine")
    print(f"planted (negative binomial, alpha {NB_ALPHA}, base rate {BASE_RATE} per cell): "
          + ", ".join(f"{k} RRV {v}" for k, v in PLANTED.items()))
    names = list(CASES) if a.case == "both" else [a.case]
    results = {n: [_run(n, a.timeout) for _ in range(a.repeat)] for n in names}
    for n, runs in results.items():
        r0 = runs[0]
        head = (f"summary {r0['factors']} factors x {r0['cells']:,} cells ({r0['variables']} variables, "
                f"{r0['incidents']:,} incidents)")
        target = ". Target: < 60 s, < 4 GB." if n == "large" else "."
        done = [r for r in runs if not r.get("timed_out")]
        if not done:
            v = sorted(r["variables_s"] for r in runs)[len(runs) // 2]
            print(f"{head}: no run finished within --timeout {a.timeout:g} s; median variables {v:.2f} s; "
                  f"max peak at least {max(r['peak_gb'] for r in runs):.2f} GB{target}")
            continue
        med = sorted(done, key=lambda r: r["total_s"])[len(done) // 2]
        best = min(done, key=lambda r: r["total_s"])
        rrv = ", ".join(f"{k} {v:.2f}" for k, v in sorted(med["rrv"].items()))
        print(f"{head[:-1]}, {med['candidates']} candidates, {med['screened']} screened, {med['rows']:,} distinct "
              f"rows, elastic net on {med['preselect_cells']:,} cells, {med['preselected']} pre-selected): median "
              f"total {med['total_s']:.2f} s (variables {med['variables_s']:.2f}, fit "
              f"{med['fit_s']:.2f}, predict {med['predict_s']:.2f}), best {best['total_s']:.2f} s"
              + (f" ({len(runs) - len(done)} of {len(runs)} runs timed out)" if len(done) < len(runs) else "")
              + f"; max peak {max(r['peak_gb'] for r in runs):.2f} GB; {sum(r['found'] for r in runs)}/{len(runs)} "
              f"runs found the planted variables; {FAMILY[med['family']]} chosen; RRVs {rrv}{target}")
    return 0


FAMILY = {"poisson": "Poisson", "nb1": "negative binomial NB1", "nb2": "negative binomial NB2"}

if __name__ == "__main__":
    sys.exit(main())
