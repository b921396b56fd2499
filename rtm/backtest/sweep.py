"""Sweeps of the score settings: one back-test of ``combined`` per combination."""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping

import numpy as np
import pandas as pd

from ..periods import Period
from .plots import focus_selection
from .rolling import run_backtest
from .settings import BacktestSettings


def sweep_scoring(incidents, areas, periods: list[Period], grid: Mapping[str, list], *, terrain_for=None,
                  settings: BacktestSettings = BacktestSettings(), selection: str | None = None) -> pd.DataFrame:
    """Back-test ``combined`` under every combination of score settings.

    Parameters
    ----------
    grid : dict of str to list
        :class:`~rtm.ranking.ScoreSettings` fields and the values to try, e.g.
        ``{"risk_weight": [0, 0.25], "half_life_days": [28, None]}``.
    terrain_for, settings
        As :func:`run_backtest`; a :class:`TerrainSchedule` keeps its fits, so the terrain
        is fitted once per block for the whole sweep.
    selection : str, optional
        List size reported (default the middle area share, e.g. ``area 2.6%``).

    Returns
    -------
    DataFrame
        One row per combination: its settings, then the mean over periods (all districts)
        of ``harm_capture``, ``pei``, ``pei_harm``, ``pai`` and ``kept``, and ``periods``.
        Cost: one back-test of ``combined`` per combination.
    """
    import itertools

    keys = list(grid)
    rows = []
    for values in itertools.product(*(grid[k] for k in keys)):
        scoring = replace(settings.scoring, method="combined", **dict(zip(keys, values)))
        st = replace(settings, methods=("combined",), scoring=scoring)
        res = run_backtest(incidents, areas, periods, terrain_for=terrain_for, settings=st)
        sel = focus_selection(res, selection)
        m = res.metrics
        m = m[(m["district"] == "all") & (m["selection"] == sel)]
        means = m.groupby("metric")["value"].mean()
        rows.append(dict(zip(keys, values)) | {"selection": sel} |
                    {k: float(means.get(k, np.nan)) for k in ("harm_capture", "pei", "pei_harm", "pai", "kept")}
                    | {"periods": len(res.periods)})
    return pd.DataFrame(rows)
