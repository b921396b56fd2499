"""Harm capture of many rankings over rolling origins, on the list's grid and at its size.

One pass over the periods: for each period every setting ranks the cells of each district
from the incidents before the period (its own history window, :func:`rtm.ranking.score_history`),
the top ``top_n`` cells of each district are taken (the back-test's ``top 20`` list), and
the share of the period's harm they hold, pooled over districts, is recorded. The scores
are the list's own (:func:`rtm.ranking.cell_scores`), the grid the back-test's (the weekly
list's cell size and edge rule), the ranking and tie rule :func:`rtm.metrics.ranked_cells`.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable

import numpy as np
import pandas as pd

from ..backtest.rolling import _grid, _terrain_on
from ..backtest.settings import BacktestSettings
from ..metrics import best_capture, ranked_cells
from ..periods import Period, during, history
from ..ranking import ScoreSettings, cell_scores, score_history
from .members import effective

NAIVE, LOPO, ORACLE = "naive", "lopo ceiling", "oracle"


def capture_table(incidents, areas, periods: list[Period], settings: dict[str, ScoreSettings], *,
                  spot_size: float = 150.0, area_tolerance_m: float = 0.0, top_n: int = 20, terrain_for=None,
                  bounds: bool = False, progress: Callable[[int, int, str], None] | None = None) -> pd.DataFrame:
    """Harm caught by each setting's list in each period.

    Parameters
    ----------
    incidents : Incidents
        With harm weights, in the areas' CRS.
    areas : Areas
    periods : list of Period
        The origins; a period without harm in the study area, or without any incident
        before it, is left out.
    settings : dict of name to ScoreSettings
        The rankings (``combined``; the risk weight counts only with ``terrain_for``).
    spot_size, area_tolerance_m : float
        The list's grid (as :class:`rtm.weekly.ListSettings`).
    top_n : int
        Cells listed per district.
    terrain_for : RiskTerrain or callable(Period), optional
        The risk terrain serving each period (e.g. a :class:`rtm.terrain_store.TerrainStore`).
    bounds : bool
        Also give ``naive`` (harm in the 12 months before, undecayed), ``oracle`` (the
        period's own best cells) and ``lopo ceiling`` (ranked by the harm of the other
        periods given: it sees the future, an upper bound for any fixed ranking).

    Returns
    -------
    DataFrame
        ``period``, ``name``, ``caught`` (harm in the listed cells, pooled over
        districts), ``total`` (the period's harm in the study area) and ``capture``
        (their ratio). ``DataFrame.attrs["seconds"]`` is the wall time.

    Notes
    -----
    Cost: one :func:`~rtm.ranking.cell_scores` per period and distinct setting (settings
    that cannot differ on the data, :func:`.members.effective`, share one), and one
    partial sort per district, setting and period.
    """
    t0 = time.perf_counter()
    grid = _grid(areas, BacktestSettings(spot_size=spot_size, area_tolerance_m=area_tolerance_m,
                                         methods=("naive",)))
    ids = grid.cell_ids().ravel()
    flat_d = np.where(grid.mask, grid.district, -1).ravel()
    cells = [np.flatnonzero(flat_d == d) for d in range(len(grid.district_names))]
    cells = [c for c in cells if c.size]
    frame = incidents.frame
    all_w = frame["weight"].to_numpy(float)
    rows, targets, on_grid_cache = [], {}, {}
    for i, p in enumerate(periods):
        target = during(frame, p)
        h_cell = grid.counts(target["x"].to_numpy(float), target["y"].to_numpy(float),
                             target["weight"].to_numpy(float)).ravel()
        h_cell[~grid.mask.ravel()] = 0.0
        total = float(h_cell.sum())
        if total <= 0 or not (frame["date_end"] <= p.start).any():
            continue
        targets[p.key] = h_cell
        terrain = _terrain_on(terrain_for, p, grid, on_grid_cache)
        scores: dict[str, np.ndarray] = {}
        done: dict = {}
        windows: dict = {}
        for name, s in settings.items():
            key = effective(s, all_w)
            if terrain is None:
                key = replace(key, risk_weight=0.0)
            if key not in done:
                if key.history_months not in windows:
                    windows[key.history_months] = score_history(frame, p, key)
                hist = windows[key.history_months]
                x, y, w = hist["x"].to_numpy(float), hist["y"].to_numpy(float), hist["weight"].to_numpy(float)
                done[key] = cell_scores(grid, x, y, w, hist, p.start, terrain=terrain,
                                        settings=replace(key, method="combined")).score.ravel()
            scores[name] = done[key]
        if bounds:
            yr = history(frame, p)
            naive = grid.counts(yr["x"].to_numpy(float), yr["y"].to_numpy(float), yr["weight"].to_numpy(float))
            scores[NAIVE] = np.where(grid.mask, naive, 0.0).ravel()
        for name, sc in scores.items():
            caught = sum(float(h_cell[ranked_cells(sc, c, ids, top_n)].sum()) for c in cells)
            rows.append((p.key, name, caught, total))
        if bounds:
            best = sum(float(best_capture(h_cell[c], min(top_n, c.size))[-1]) for c in cells)
            rows.append((p.key, ORACLE, best, total))
        if progress is not None:
            progress(i + 1, len(periods), p.key)
    if bounds and len(targets) > 1:
        everything = sum(targets.values())
        for key, h_cell in targets.items():
            others = everything - h_cell
            caught = sum(float(h_cell[ranked_cells(others, c, ids, top_n)].sum()) for c in cells)
            rows.append((key, LOPO, caught, float(h_cell.sum())))
    out = pd.DataFrame(rows, columns=["period", "name", "caught", "total"])
    out["capture"] = out["caught"] / out["total"]
    out.attrs["seconds"] = time.perf_counter() - t0
    return out


def mean_capture(table: pd.DataFrame) -> pd.Series:
    """Mean over periods of each name's harm capture, best first."""
    return table.groupby("name")["capture"].mean().sort_values(ascending=False)
