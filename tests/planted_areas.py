"""Generated study areas with planted risk factors, for the recovery scorecard.

Each area (:func:`make_area`) is a square grid with attractor layers of every kind the
model meets: clustered and scattered points, lines (roads) and polygons (parks, estates),
layers with no effect (null), and a decoy that sits near a planted layer but has no effect
of its own. Counts are drawn from the planted log-linear model, Poisson or overdispersed
(gamma-Poisson, i.e. NB2). The truth is a set of variable names with their RRVs.
Used by tests/test_planted.py and docs/rtm.md's scorecard (``python tests/planted_areas.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from rtm.grid import Grid
from rtm.layers import Layer

CRS = pyproj.CRS("EPSG:27700")


@dataclass
class Area:
    seed: int
    grid: Grid
    layers: list
    block: float
    bands: int
    planted: dict  # variable name -> RRV
    overdispersed: bool
    y: np.ndarray | None = None


def _grid(n: int, cell: float) -> Grid:
    mask = np.ones((n, n), bool)
    return Grid(cell, 500_000.0, 200_000.0 + n * cell, n, n, CRS, mask, np.zeros((n, n), np.int32), ("area",))


def _points(name, x, y) -> Layer:
    return Layer(name, gpd.GeoDataFrame(geometry=shapely.points(x, y), crs=CRS), "point")


def make_area(seed: int) -> Area:
    """One study area; everything (sizes, distances, kinds, effects) varies with the seed."""
    rng = np.random.default_rng(1000 + seed)
    cell = float(rng.choice([50.0, 100.0]))
    n = int(rng.integers(70, 101))
    grid = _grid(n, cell)
    width = n * cell
    x0, y1 = grid.x0, grid.y0
    block = float(rng.choice([1, 2]) * cell)
    bands = 4

    def uniform(k):
        return x0 + rng.uniform(0, width, k), y1 - rng.uniform(0, width, k)

    def clustered(k, centres, sd):
        cx, cy = uniform(centres)
        which = rng.integers(0, centres, k)
        return cx[which] + rng.normal(0, sd, k), cy[which] + rng.normal(0, sd, k)

    layers, planted = [], {}
    dists = [block * (i + 1) for i in range(bands)]
    # 1. a point layer with a planted effect: clustered or scattered, proximity or density
    pts_kind = ["clustered", "scattered"][seed % 2]
    op = ["proximity", "density"][(seed // 2) % 2]
    if pts_kind == "clustered":
        ax, ay = clustered(int(rng.integers(60, 150)), int(rng.integers(3, 7)), block * rng.uniform(1.0, 2.0))
    else:
        ax, ay = uniform(int(rng.integers(15, 30)) if op == "proximity" else int(rng.integers(60, 120)))
    layers.append(_points("shops", ax, ay))
    d = dists[int(rng.integers(0, 2)) if op == "proximity" else int(rng.integers(1, 3))]
    planted[f"shops_{'prox' if op == 'proximity' else 'dens'}_{d:g}"] = float(rng.choice([2.0, 2.4, 2.8]))
    # 2. a line or polygon layer with a planted proximity effect
    if seed % 3 == 0:
        lines = []
        for _ in range(int(rng.integers(3, 6))):
            (xa, xb), (ya, yb) = uniform(2)
            lines.append(shapely.LineString([(xa, ya), (xb, yb)]))
        layers.append(Layer("roads", gpd.GeoDataFrame(geometry=lines, crs=CRS), "line"))
        name = "roads"
    else:
        cx, cy = uniform(int(rng.integers(4, 9)))
        polys = [shapely.box(a, b, a + rng.uniform(1, 3) * block, b + rng.uniform(1, 3) * block)
                 for a, b in zip(cx, cy)]
        layers.append(Layer("estates", gpd.GeoDataFrame(geometry=polys, crs=CRS), "polygon"))
        name = "estates"
    if seed % 5 != 4:  # every fifth area has a line/polygon layer with no effect
        planted[f"{name}_prox_{dists[int(rng.integers(0, 2))]:g}"] = float(rng.choice([2.0, 2.4]))
    # 3. null layers: scattered and clustered points with no effect
    layers.append(_points("schools", *uniform(int(rng.integers(10, 40)))))
    layers.append(_points("atms", *clustered(int(rng.integers(40, 120)), 4, block * 1.5)))
    # 4. a decoy near the planted points (jittered copies of a third of them), no effect
    k = max(5, len(ax) // 3)
    pick = rng.choice(len(ax), k, replace=False)
    jitter = 2.5 * block
    layers.append(_points("takeaways", ax[pick] + rng.normal(0, jitter, k), ay[pick] + rng.normal(0, jitter, k)))
    return Area(seed, grid, layers, block, bands, planted, overdispersed=bool(seed % 4 >= 2))


def simulate(area: Area, X) -> np.ndarray:
    """Counts from the planted model on the variables ``X`` (built with the area's settings)."""
    rng = np.random.default_rng(5000 + area.seed)
    names = list(area.planted)
    eta = np.log(0.4) + X.matrix[:, X.columns(names)].astype(float) @ np.log([area.planted[n] for n in names])
    mu = np.exp(eta)
    if area.overdispersed:
        alpha = 0.6
        mu = rng.gamma(1 / alpha, alpha * mu)
    return rng.poisson(mu)


def score(area: Area, model) -> dict:
    """Whether the model found exactly the planted variables with RRVs within 20%."""
    table = model.coef_table_[model.coef_table_["type"] == "rate"].set_index("variable")
    found = set(table.index)
    missed = sorted(set(area.planted) - found)
    false = sorted(found - set(area.planted))
    off = {v: round(float(table.at[v, "rrv"]), 2) for v in area.planted if v in found
           and abs(table.at[v, "rrv"] / area.planted[v] - 1) > 0.20}
    return {"seed": area.seed, "ok": not missed and not false and not off, "missed": missed, "false": false,
            "rrv_off": off, "family": model.family_}


def run(seeds, operationalisation: str = "both", family=None):
    """Fit every area with one treatment of every factor; returns the scores."""
    from rtm.model import RiskTerrainModel
    from rtm.pipeline import _auto_choices  # noqa: F401 (documented: auto uses the same rule)
    from rtm.variables import auto_operationalisation, build_variables

    out = []
    for seed in seeds:
        area = make_area(seed)
        truth = build_variables(area.grid, area.layers, area.block, area.bands, "whole",
                                {lay.name: "both" for lay in area.layers})
        area.y = simulate(area, truth)
        if operationalisation == "auto":
            size = float(area.grid.mask.sum()) * area.grid.cell_size**2
            ops = {lay.name: auto_operationalisation(lay, size, area.block * area.bands).operationalisation
                   for lay in area.layers}
            X = build_variables(area.grid, area.layers, area.block, area.bands, "whole", ops)
        else:
            X = truth
        kw = {} if family is None else {"families": family}
        model = RiskTerrainModel(random_state=0, **kw).fit(X, area.y)
        out.append(score(area, model))
    return out


if __name__ == "__main__":  # the scorecard of docs/rtm.md
    import sys

    for mode in sys.argv[1:] or ["both", "auto"]:
        res = run(range(20), mode)
        print(f"{mode}: {sum(r['ok'] for r in res)}/20 fully right")
        for r in res:
            a = make_area(r["seed"])
            print(f"  {r['seed']:2d} {'ok ' if r['ok'] else 'NO '} planted {a.planted} "
                  f"{'overdispersed' if a.overdispersed else 'Poisson'}; missed {r['missed']}, false {r['false']}, "
                  f"RRV off {r['rrv_off']}, {r['family']}")
