"""Harm-spot scores: recent harm and the risk terrain combined into one score per cell.

The score of a cell is a weighted sum of two ratios to the study area's average cell,

    score = (1 - w) * H / mean(H)  +  w * R / mean(R)

where ``H`` is the harm surface (kernel density of harm-weighted incidents from before the
list's period, decayed by age; :func:`rtm.surfaces.harm_surface`), ``R`` the relative risk
score of the risk terrain model averaged onto the cell, and ``w`` the risk weight (default
:data:`DEFAULT_RISK_WEIGHT`). A score of 1 is an average cell; 10 is ten times the average.
Both parts are reported, and the risk part is split further among the risk factors present
in the cell in proportion to their share of ``log R`` (the model is log-linear), the
remainder being the base risk every cell has. See ``docs/ranking.md``.

Methods: ``combined`` (the formula), ``harm`` (``w = 0``), ``risk`` (``w = 1``) and
``conjunctive``: only cells that are both high-risk (R at least one standard deviation
above its mean, RTM's "moderately high" class and above) and high-harm (H at least one
standard deviation above its mean) are listed, in order of the combined score.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .errors import setting_error
from .grid import Grid
from .periods import inside
from .surfaces import BINNINGS, KERNELS, default_bandwidth, harm_surface, recency_weights
from .terrain import TerrainOnGrid

METHODS = ("combined", "harm", "risk", "conjunctive")
# Defaults chosen by back-testing (docs/backtest.md, "What changed"): on Chicago assaults
# (weekly) and Essex police.uk (monthly) light smoothing and slow decay caught the most
# harm; heavier smoothing (300 m) or a 28-day half-life lost 3-6 points of harm capture.
DEFAULT_RISK_WEIGHT = 0.1
DEFAULT_HALF_LIFE_DAYS = 365.0
DEFAULT_BANDWIDTH_CELLS = 1.1  # quartic radius in cells: a cell keeps ~90% of its own harm
# The best fixed member of the tuning family (rtm.tuning) on average across Essex police.uk
# (monthly, 14 districts) and Chicago assaults (weekly, sample and whole city), and above
# naive on each (docs/backtest.md, "Self-tuning"; bench/choose_default.py): three years of
# history, half harm and half counts of every row (anti-social behaviour included).
DEFAULT_HISTORY_MONTHS = 36
DEFAULT_COUNT_SHARE = 0.5
DEFAULT_COUNT_ROWS = "all"
COUNT_ROWS = ("crimes", "all")


@dataclass(frozen=True)
class ScoreSettings:
    """How cells are scored.

    Attributes
    ----------
    method : {"combined", "harm", "risk", "conjunctive"}
    risk_weight : float
        ``w`` in the formula, 0 to 1 (``combined`` and ``conjunctive`` only).
    bandwidth_m : float, "silverman" or None
        Harm surface bandwidth in metres; None: :data:`DEFAULT_BANDWIDTH_CELLS` times the
        cell size (165 m for 150 m spots), so each cell keeps about 90% of its own harm and
        passes about 2.5% to each edge neighbour; ``"silverman"``: Silverman's rule on the
        incidents scored (:func:`rtm.surfaces.default_bandwidth`), an upper guide that
        oversmooths clustered crime.
    kernel : {"quartic", "gaussian"}
    half_life_days : float or None
        Age at which an incident's harm counts half; None: no decay.
    history_months : int
        Months of history scored (12, 24, 36; weeks: 52 per 12 months), ending where the
        list's period starts (:func:`score_history`).
    count_share : float
        0 to 1: the recent-harm signal is ``(1 - c) H / mean(H) + c N / mean(N)``, ``H``
        the harm surface and ``N`` the same surface of incident counts; 0 is harm alone,
        1 counts alone, 0.5 a half-and-half blend.
    count_rows : {"crimes", "all"}
        Which rows ``N`` counts: ``"crimes"`` those with a harm weight above 0, ``"all"``
        every row, anti-social behaviour (weight 0) included. ``H`` is always harm.
    binning : {"nearest", "linear"}
        How incidents reach the grid before smoothing (:func:`rtm.surfaces.harm_surface`).
        ``"nearest"`` (each incident in the cell it fell in) ranks better: on the fixed spans of
        ``tests/test_tuning_real.py`` linear binning, the more exact density, put the shipped
        default below naive on Essex, Chicago and the Chicago sample (docs/surfaces.md), so
        the list ranks by ``"nearest"``; ``"linear"`` stays a choice.
    """

    method: str = "combined"
    risk_weight: float = DEFAULT_RISK_WEIGHT
    bandwidth_m: float | str | None = None
    kernel: str = "quartic"
    half_life_days: float | None = DEFAULT_HALF_LIFE_DAYS
    history_months: int = DEFAULT_HISTORY_MONTHS
    count_share: float = DEFAULT_COUNT_SHARE
    count_rows: str = DEFAULT_COUNT_ROWS
    binning: str = "nearest"

    def __post_init__(self):
        if self.method not in METHODS:
            raise setting_error("method", f"must be one of {', '.join(METHODS)}, not {self.method!r}",
                                "choose one of them")
        if not 0.0 <= float(self.risk_weight) <= 1.0:
            raise setting_error("risk_weight", f"must be between 0 and 1, not {self.risk_weight!r}", "give e.g. 0.1")
        if self.kernel not in KERNELS:
            raise setting_error("kernel", f"must be one of {', '.join(KERNELS)}, not {self.kernel!r}",
                                "choose one of them")
        if isinstance(self.bandwidth_m, str) and self.bandwidth_m != "silverman":
            raise setting_error("bandwidth_m", f"must be metres, 'silverman' or None, not {self.bandwidth_m!r}",
                                "give metres, e.g. 165")
        if int(self.history_months) != self.history_months or not 1 <= self.history_months <= 120:
            raise setting_error("history_months", f"must be a whole number of months from 1 to 120, not "
                                f"{self.history_months!r}", "give e.g. 12, 24 or 36")
        if not 0.0 <= float(self.count_share) <= 1.0:
            raise setting_error("count_share", f"must be between 0 and 1, not {self.count_share!r}",
                                "give e.g. 0 (harm), 0.5 (blend) or 1 (counts)")
        if self.count_rows not in COUNT_ROWS:
            raise setting_error("count_rows", f"must be one of {', '.join(COUNT_ROWS)}, not {self.count_rows!r}",
                                "choose crimes or all")
        if self.binning not in BINNINGS:
            raise setting_error("binning", f"must be one of {', '.join(BINNINGS)}, not {self.binning!r}",
                                "choose nearest or linear")

    @classmethod
    def from_given(cls, **given) -> "ScoreSettings":
        """Settings with the given values, the defaults for those given as None (how a front
        end passes options the user left out)."""
        return cls(**{k: v for k, v in given.items() if v is not None})

    @property
    def weight(self) -> float:
        """The risk weight the method actually uses."""
        return {"harm": 0.0, "risk": 1.0}.get(self.method, float(self.risk_weight))

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """One line naming the settings, e.g. ``36 months of history, half harm / half counts
        of all rows, bandwidth 165 m, half-life 365 days, risk weight 0.1``."""
        c = float(self.count_share)
        rows = "all rows" if self.count_rows == "all" else "crimes"
        signal = ("harm" if c == 0 else f"counts of {rows}" if c == 1
                  else f"{100 * (1 - c):g}% harm / {100 * c:g}% counts of {rows}")
        bw = "default bandwidth" if self.bandwidth_m is None else (
            "Silverman bandwidth" if self.bandwidth_m == "silverman" else f"bandwidth {float(self.bandwidth_m):g} m")
        hl = "no decay" if self.half_life_days is None else f"half-life {float(self.half_life_days):g} days"
        return (f"{self.method}: {self.history_months} months of history, {signal}, {bw}, {hl}, "
                f"risk weight {float(self.risk_weight):g}")


def score_history(frame: pd.DataFrame, period, settings: ScoreSettings) -> pd.DataFrame:
    """The rows of ``frame`` a list for ``period`` scores: those wholly inside the
    ``settings.history_months`` before the period's start, half-open
    (:func:`rtm.periods.inside`). Weekly periods count 52
    weeks per 12 months (12 months: the 52 weeks of :func:`rtm.periods.history`). Cost: two
    comparisons over ``frame``."""
    return frame.loc[inside(frame, history_start(period, settings), period.start)]


def history_start(period, settings: ScoreSettings) -> pd.Timestamp:
    """The first moment of the history a list for ``period`` scores (:func:`score_history`)."""
    months = int(settings.history_months)
    if period.kind == "week":
        return period.start - pd.Timedelta(weeks=round(months * 52 / 12))
    return period.start - pd.DateOffset(months=months)


def count_weights(weights, settings: ScoreSettings) -> np.ndarray:
    """Each row's weight in the count surface ``N``: 1 for every row (``count_rows="all"``)
    or for rows with harm above 0 (``"crimes"``), else 0."""
    w = np.asarray(weights, float)
    return np.ones_like(w) if settings.count_rows == "all" else (w > 0).astype(float)


@dataclass
class CellScores:
    """Scores of every cell of a grid (arrays of ``grid.shape``, 0 outside the study area).

    Attributes
    ----------
    harm : ndarray
        The harm surface ``H`` (harm per cell, decayed); with ``count_share`` above 0 the
        blend of harm and counts, rescaled to the harm's mean.
    harm_part, risk_part : ndarray
        ``(1 - w) H / mean(H)`` and ``w R / mean(R)``; they add up to ``score``.
    factor_parts : ndarray, shape ``(k,) + grid.shape``
        The part of ``risk_part`` due to each selected variable; ``risk_part -
        factor_parts.sum(0)`` is the base risk.
    score : ndarray
    eligible : ndarray of bool
        Cells that may be listed (the study area; for ``conjunctive`` only the cells both
        high-risk and high-harm).
    conjunctive : ndarray of bool
        High-risk and high-harm cells.
    bandwidth_m : float
    """

    harm: np.ndarray
    harm_part: np.ndarray
    risk_part: np.ndarray
    factor_parts: np.ndarray
    score: np.ndarray
    eligible: np.ndarray
    conjunctive: np.ndarray
    bandwidth_m: float


def _relative(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = float(a[mask].mean()) if mask.any() else 0.0
    out = np.zeros_like(a, dtype=np.float64)
    if m > 0:
        out[mask] = a[mask] / m
    return out


def _high(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Cells at least one standard deviation above the mean (False when constant)."""
    v = a[mask]
    s = float(v.std()) if v.size else 0.0
    return mask & (a >= v.mean() + s) & (s > 0)


def cell_scores(grid: Grid, x, y, weights, dates, as_of, *, terrain: TerrainOnGrid | None = None,
                settings: ScoreSettings = ScoreSettings()) -> CellScores:
    """Score every cell of ``grid`` for a list made at ``as_of``.

    Parameters
    ----------
    grid : Grid
        The harm-spot grid.
    x, y, weights : arrays
        Incidents in the grid's CRS and their harm. Pass only the window of history to use
        (e.g. the 52 weeks before the period); :func:`rtm.surfaces.harm_surface` further
        drops every incident not wholly before ``as_of``.
    dates : DataFrame or (start, end) pair
        The incidents' periods (``Incidents.frame`` works).
    as_of : date-like
        The first moment of the list's period.
    terrain : TerrainOnGrid, optional
        The risk terrain on ``grid``. Without it the risk weight is 0 (harm only), and
        ``risk`` and ``conjunctive`` are refused.
    settings : ScoreSettings

    Returns
    -------
    CellScores

    Notes
    -----
    Cost: one harm surface (an FFT convolution, about 0.1 s per million cells) and a few
    passes over the grid.
    """
    if terrain is None and settings.method in ("risk", "conjunctive"):
        raise ValueError(f"the '{settings.method}' method needs a risk terrain model (give attractor layers)")
    mask = grid.mask
    if settings.bandwidth_m == "silverman":
        live = recency_weights(np.ones(len(np.asarray(x))), dates, as_of) > 0
        bw = default_bandwidth(grid, np.asarray(x)[live], np.asarray(y)[live], rule="silverman",
                               kernel=settings.kernel).metres
    else:
        bw = settings.bandwidth_m or DEFAULT_BANDWIDTH_CELLS * grid.cell_size
    harm = harm_surface(grid, x, y, weights, bandwidth_m=bw, kernel=settings.kernel, dates=dates, as_of=as_of,
                        half_life_days=settings.half_life_days, binning=settings.binning)
    c = float(settings.count_share)
    if c > 0:  # blend in the count surface, rescaled to harm units so that mean(harm) is kept
        n = harm_surface(grid, x, y, count_weights(weights, settings), bandwidth_m=bw, kernel=settings.kernel,
                         dates=dates, as_of=as_of, half_life_days=settings.half_life_days, binning=settings.binning)
        mh = float(harm[mask].mean()) if mask.any() else 0.0
        mn = float(n[mask].mean()) if mask.any() else 0.0
        if mn > 0:
            harm = (1.0 - c) * harm + c * n * (mh / mn if mh > 0 else 1.0)
    w = settings.weight if terrain is not None else 0.0
    harm_part = (1.0 - w) * _relative(harm, mask)
    k = 0 if terrain is None else len(terrain.factors)
    factor_parts = np.zeros((k,) + grid.shape)
    if terrain is not None and w > 0:
        rrs = np.where(mask, np.nan_to_num(terrain.rrs, nan=1.0), 0.0)
        risk_part = w * _relative(rrs, mask)
        # split the risk above the base (RRS 1) by each variable's share of log RRS
        log_total = terrain.parts.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            uplift = risk_part * (1.0 - 1.0 / np.where(rrs > 0, rrs, 1.0))
            share = np.where(log_total != 0, terrain.parts / log_total, 0.0)
        factor_parts = np.where(mask, share * uplift, 0.0)
    else:
        risk_part = np.zeros(grid.shape)
    score = harm_part + risk_part
    conj = _high(harm, mask) & (_high(np.nan_to_num(terrain.rrs), mask) if terrain is not None
                                else np.zeros_like(mask))
    eligible = conj if settings.method == "conjunctive" else mask.copy()
    return CellScores(harm, harm_part, risk_part, factor_parts, score, eligible, conj, float(bw))


# -- choosing the spots ------------------------------------------------------------------
@dataclass(frozen=True)
class SpotRule:
    """How many spots each district's list has.

    Exactly one of ``top_n``, ``area_share`` and ``harm_share`` decides; ``top_n`` is the
    default (20, the number of harm spots in the Southend Grip trial).

    Attributes
    ----------
    top_n : int or None
        The N best spots.
    area_share : float or None
        Spots until they cover this share (0-1) of the district's area.
    harm_share : float or None
        Spots until they hold this share (0-1) of the district's harm in the last period.
    max_cells : int
        Adjacent listed cells (sharing an edge or a corner) are merged into one spot of at
        most this many cells; 1 (default) keeps one cell per spot.
    """

    top_n: int | None = 20
    area_share: float | None = None
    harm_share: float | None = None
    max_cells: int = 1

    def __post_init__(self):
        given = [v is not None for v in (self.top_n, self.area_share, self.harm_share)]
        if sum(given) != 1:
            raise setting_error("area_share" if given[0] else "top_n", "give exactly one of a number of spots, "
                                "an area share and a harm share", "choose one way to size the list")
        if self.top_n is not None and (int(self.top_n) != self.top_n or self.top_n < 1):
            raise setting_error("top_n", f"must be a whole number of at least 1, not {self.top_n!r}", "give e.g. 20")
        for name in ("area_share", "harm_share"):
            v = getattr(self, name)
            if v is not None and not 0 < v <= 1:
                raise setting_error(name, f"must be a share between 0 and 1, not {v!r}", "give e.g. 0.026")
        if int(self.max_cells) != self.max_cells or self.max_cells < 1:
            raise setting_error("max_cells", f"must be a whole number of at least 1, not {self.max_cells!r}",
                                "give e.g. 1")

    def describe(self) -> str:
        if self.top_n is not None:
            what = f"the top {self.top_n} spots"
        elif self.area_share is not None:
            what = f"spots covering {100 * self.area_share:g}% of the district's area"
        else:
            what = f"spots holding {100 * self.harm_share:g}% of the district's harm in the last period"
        merge = f", adjacent cells merged up to {self.max_cells} cells a spot" if self.max_cells > 1 else ""
        return what + merge


_NEIGHBOURS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def select_spots(grid: Grid, scores: CellScores, rule: SpotRule, *, excluded: np.ndarray | None = None,
                 last_harm: np.ndarray | None = None, district_rules: dict | None = None) -> pd.DataFrame:
    """The listed spots of every district, best first.

    Parameters
    ----------
    grid : Grid
    scores : CellScores
    rule : SpotRule
    excluded : ndarray of bool, optional
        Cells that must never be listed (exclusion zones).
    last_harm : ndarray, optional
        Harm recorded per cell in the last period; needed for ``harm_share``.
    district_rules : dict of str to SpotRule, optional
        Another rule for some districts (by name, as ``grid.district_names``); the others
        follow ``rule``.

    Returns
    -------
    pandas.DataFrame
        One row per spot: ``district`` (index into ``grid.district_names``), ``rank``
        (1 = best in its district), ``cells`` (list of flat cell indices, the lead cell
        first) and ``lead`` (flat index of the best cell, which names the spot).

    Notes
    -----
    Cells with a positive score are taken in order of score (ties by cell id, so the order
    is the same on every run). A cell joins the best-ranked spot it touches that has room,
    or starts a new spot; the list stops when the rule is met. Cost: one sort of the
    district's cells.
    """
    district_rules = district_rules or {}
    if any(r.harm_share is not None for r in (rule, *district_rules.values())) and last_harm is None:
        raise ValueError("harm_share needs last_harm")
    ok = scores.eligible & (scores.score > 0)
    if excluded is not None:
        ok &= ~excluded
    ids = grid.cell_ids()
    rows = []
    default_rule = rule
    for d in range(len(grid.district_names)):
        rule = district_rules.get(str(grid.district_names[d]), default_rule)
        in_d = grid.district == d
        cand = np.flatnonzero((ok & in_d).ravel())
        if not cand.size:
            continue
        order = np.lexsort((ids.ravel()[cand], -scores.score.ravel()[cand]))
        cand = cand[order]
        cell_area_total = int(in_d.sum())
        harm_total = float(last_harm[in_d].sum()) if last_harm is not None else 0.0
        owner: dict[int, int] = {}
        spots: list[list[int]] = []
        covered_cells, captured = 0, 0.0
        for c in cand:
            if rule.top_n is not None and len(spots) >= rule.top_n:
                break
            if rule.area_share is not None and covered_cells >= rule.area_share * cell_area_total:
                break
            if rule.harm_share is not None and (harm_total <= 0 or captured >= rule.harm_share * harm_total):
                break
            joined = None
            if rule.max_cells > 1:
                r, q = divmod(int(c), grid.ncols)
                touching = sorted({owner[(r + dr) * grid.ncols + q + dq] for dr, dq in _NEIGHBOURS
                                   if 0 <= r + dr < grid.nrows and 0 <= q + dq < grid.ncols
                                   and (r + dr) * grid.ncols + q + dq in owner})
                joined = next((s for s in touching if len(spots[s]) < rule.max_cells), None)
            if joined is None:
                spots.append([int(c)])
                joined = len(spots) - 1
            else:
                spots[joined].append(int(c))
            owner[int(c)] = joined
            covered_cells += 1
            if last_harm is not None:
                captured += float(last_harm.flat[c])
        for rank, cells in enumerate(spots, start=1):
            rows.append({"district": d, "rank": rank, "cells": cells, "lead": cells[0]})
    return pd.DataFrame(rows, columns=["district", "rank", "cells", "lead"])
