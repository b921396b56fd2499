"""The rolling-origin back-test: how well would each ranking have done, period by period?

For every period (week, or month for month-only data) in a range, each method ranks the
cells of the harm-spot grid from data strictly before the period, and the ranking is
scored against what happened in it (:mod:`rtm.metrics`). Methods, on the same grid and
periods:

``naive``
    harm per cell in the 52 weeks (12 months) before the period, undecayed (or
    ``history_months``, :meth:`BacktestSettings.history_window`).
``kde``
    the harm surface alone (``CellScores.harm`` of :func:`rtm.ranking.cell_scores`).
``rtm``
    the risk terrain alone (``CellScores.risk_part``: the relative risk score).
``combined``
    the list's default score (``CellScores.score`` with the given
    :class:`~rtm.ranking.ScoreSettings`); ``kde``, ``rtm`` and ``combined`` come from one
    :func:`~rtm.ranking.cell_scores` call.
``phs``
    prospective hotspotting (Bowers, Johnson & Pease 2004, *Brit. J. Criminol.* 44(5)):
    each earlier incident adds ``w / ((1 + d)(1 + t))`` to the cells within
    ``phs_radius_m``, ``d`` the distance in cells and ``t`` its age in whole periods
    (weeks or months) up to ``phs_window``.
``random``
    the expectation of a random list (hit rate = area share), computed, not simulated.
``oracle``
    the period's own best cells (by its harm): the upper bound. It sees the period.
``lopo``
    leave one period out: each period ranked by the harm of the other periods of the same
    calendar year (periods of its kind starting in that year), its own left out. A ceiling
    that sees the future (the rest of the year), not a forecast: it says how much a
    ranking that knew the year's steady pattern, but not the period's own chance, could
    catch, so the gap between it and ``naive`` is what there was to gain.

A method that has nothing to rank from in a period (e.g. ``phs`` with no incident in its
window, ``lopo`` with no other period in the year) is not scored there, and a note says
so and why: its cells would tie at 0 and be listed by cell id, which is no ranking.

Lists are made per district, as the weekly list is: at each share of the district's cells
(default 1%, 2.6% and 5%) and at the top ``top_n`` cells (20, the list's default spots of
one cell). The ``all`` rows pool the districts' lists. No list sees its period: histories
end where the period starts and the risk terrain is fitted on the year before its refit
date (:func:`rtm.terrain_store.refit_date`), once per 13 weeks or 3 months.
"""


from __future__ import annotations

import time
from typing import Callable

import numpy as np
import pandas as pd

from ..errors import InputError, setting_error
from ..grid import Grid
from ..periods import Period, during, inside
from ..ranking import score_history
from ..terrain import RiskTerrain, TerrainOnGrid
from .results import BacktestResult, Skipped
from .scoring import Step, _Scorer
from .settings import COLUMNS, PHS_WINDOW, BacktestSettings

def check_inputs(incidents, periods: list[Period], methods, terrain_for) -> None:
    """Refuse a back-test that cannot run (InputError naming the setting): no period, undated
    data, weeks of month-only data, or the ``rtm`` method without a terrain (``terrain_for``
    None). Cheap: front ends call it before loading layers."""
    if not periods:
        raise setting_error("periods", "the range holds no period", "give a first period on or before the last")
    kind = periods[0].kind
    res = incidents.resolution
    if res == "none":
        raise InputError("incidents", "the incidents have no dates, so no period can be back-tested",
                         "give the column holding each incident's date")
    if res == "month" and kind == "week":
        raise setting_error("period", "the incidents are dated by month only (police.uk), so weekly lists "
                            "cannot be scored without inventing days", "back-test months")
    need = [m for m in methods if m == "rtm"]
    if need and terrain_for is None:
        raise setting_error("methods", "the 'rtm' method needs a risk terrain",
                            "give attractor layers, or leave 'rtm' out of the methods")


def _terrain_on(terrain_for, period: Period, grid: Grid, cache: dict) -> TerrainOnGrid | None:
    if terrain_for is None:
        return None
    terrain = terrain_for(period) if callable(terrain_for) else terrain_for
    terrain.check_before(period)
    key = id(terrain)
    if key not in cache:
        cache.clear()  # one terrain at a time: blocks come in order
        cache[key] = terrain.on_grid(grid)
    return cache[key]


def run_backtest(incidents, areas, periods: list[Period], *,
                 terrain_for: RiskTerrain | Callable[[Period], RiskTerrain] | None = None,
                 settings: BacktestSettings = BacktestSettings(),
                 progress: Callable[[int, int, str], None] | None = None) -> BacktestResult:
    """Back-test every method over consecutive periods.

    Parameters
    ----------
    incidents : Incidents
        Loaded with harm weights (:func:`rtm.incidents.load_incidents`), in the areas' CRS.
    areas : Areas
    periods : list of Period
        Consecutive weeks or months (:func:`rtm.periods.periods_between`).
    terrain_for : RiskTerrain, or callable returning one for a period, optional
        The risk terrain, e.g. a :class:`rtm.terrain_store.TerrainStore`. It must be fitted
        on data from before each period (:meth:`~rtm.terrain.RiskTerrain.check_before`). Without it ``rtm`` is refused and ``combined`` equals ``kde``.
    settings : BacktestSettings
    progress : callable(done, total, period key), optional

    Returns
    -------
    BacktestResult

    Raises
    ------
    InputError
        Undated or month-only data with weekly periods, ``rtm`` without a terrain, a
        terrain fitted on data from a period it would score.

    Notes
    -----
    A period with no incident in the study area is skipped (noted): there is nothing to
    score. Cost per period: one :func:`~rtm.ranking.cell_scores` (one more for ``rtm``
    when the risk weight is 0), one FFT pair for ``phs``, two binnings, and per district
    and method one partial sort of its cells; about 1-2 s per million cells for all
    methods, plus one terrain fit per refit block.
    """
    t_all = time.perf_counter()
    periods = list(periods)
    check_inputs(incidents, periods, settings.methods, terrain_for)
    notes = []
    methods = tuple(settings.methods)
    if terrain_for is None and "combined" in methods:
        notes.append("No risk terrain was given, so 'combined' is the harm surface alone (the same ranking "
                     "as 'kde').")
    grid = _grid(areas, settings)
    scorer = _Scorer(grid, settings)
    frame = incidents.frame
    window = settings.phs_window or PHS_WINDOW[periods[0].kind]
    rows, curves, done, on_grid_cache, skipped = [], [], [], {}, []
    fit_seconds = 0.0
    last_key = None
    for i, p in enumerate(periods):
        step = _step(frame, p, window, None, previous_key=last_key if last_key == p.previous().key else None,
                     settings=settings)
        target = step.target
        in_area = grid.mask.ravel()[_flat(grid, target)].sum() if len(target) else 0
        if not in_area:
            why = (f"none of its {len(target):,} incidents lies in the study area" if len(target)
                   else "no incident is recorded in it")
            skipped.append(Skipped(p, "no target", why))
            notes.append(f"The {p.label} is skipped: {why}.")
            last_key = None
            continue
        if not len(step.history):
            text = settings.history_text(p.kind)
            before = frame.loc[inside(frame, None, p.start), ["date_start", "date_end"]]
            latest = before["date_end"].max()
            gap = "" if pd.isna(latest) else f" (the latest earlier incident ends {latest:%Y-%m-%d})"
            why = f"no incident is recorded in the {text} before it{gap}, so nothing ranks its cells"
            need = None
            if len(before):  # the shortest history that reaches the latest earlier incident
                first = before["date_start"].max()
                need = next((n for n in range(1, 121) if BacktestSettings(history_months=n).history_window(p)[0]
                             <= first), None)
            skipped.append(Skipped(p, "no history", why, len(target), None if pd.isna(latest) else latest, need))
            notes.append(f"The {p.label} is skipped: it has {len(target):,} incidents but {why}.")
            last_key = None
            continue
        t = time.perf_counter()
        step.terrain = _terrain_on(terrain_for, p, grid, on_grid_cache)
        fit_seconds += time.perf_counter() - t
        r, c = scorer.measure(step, scorer.scores(step))
        rows += r
        curves += c
        done.append(p.key)
        last_key = p.key
        if progress is not None:
            progress(i + 1, len(periods), p.key)
    notes += unscored_notes(scorer.unscored, len(done))
    for fit in getattr(terrain_for, "fits", ()):  # a TerrainStore says what it fitted or read
        notes.append(f"Risk terrain {fit.how} for the year before {fit.fit_to:%Y-%m-%d} ({fit.seconds:.1f} s).")
    seconds = dict(scorer.seconds)
    seconds["terrain fits (and resampling)"] = fit_seconds
    seconds["total"] = time.perf_counter() - t_all
    metrics = pd.DataFrame(rows, columns=COLUMNS)
    return BacktestResult(metrics, pd.DataFrame(curves, columns=["period", "method", "area_share", "hit_rate",
                                                                 "harm_capture"]),
                          settings, notes, seconds, done, skipped)


def unscored_notes(unscored: dict, n_periods: int) -> list[str]:
    """One note per method left out of some periods (``_Scorer.unscored``), with the reason."""
    out = []
    for m, missed in unscored.items():
        keys = [k for k, _ in missed]
        shown = ", ".join(keys[:6]) + (f" and {len(keys) - 6} more" if len(keys) > 6 else "")
        out.append(f"'{m}' is not scored in {len(keys)} of {n_periods} scored period(s) ({shown}): "
                   f"{missed[0][1]}. Its cells would tie at 0 and be listed by cell id; its means are "
                   "over the other periods.")
    return out


def year_span(p: Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[from, to)`` covering the periods of ``p``'s kind that start in ``p``'s calendar
    year (for weeks: the first week starting on or after 1 January to the end of the last
    one starting by 31 December)."""
    y0 = pd.Timestamp(year=p.start.year, month=1, day=1)
    y1 = pd.Timestamp(year=p.start.year + 1, month=1, day=1)
    if p.kind == "month":
        return y0, y1
    first = p.start - pd.Timedelta(weeks=(p.start - y0).days // 7)
    last = p.start + pd.Timedelta(weeks=(y1 - pd.Timedelta(days=1) - p.start).days // 7)
    return first, last + pd.Timedelta(days=7)


def _step(frame: pd.DataFrame, p: Period, window: int, on_grid, previous_key=None,
          settings: BacktestSettings = BacktestSettings()) -> Step:
    """The step of period ``p``: its history, PHS history and edges, its target and (for
    ``lopo``) the incidents of the other periods of its year."""
    edges, q = [p.start], p
    for _ in range(window):
        q = q.previous()
        edges.append(q.start)
    target = during(frame, p)
    phs_hist = frame[inside(frame, edges[-1], p.start)]
    hist = frame[inside(frame, *settings.history_window(p))]
    others = None
    if "lopo" in settings.methods:
        y0, y1 = year_span(p)
        others = frame[inside(frame, y0, y1) & ~inside(frame, p.start, p.end)]
    # The harm-surface methods score their own window (ScoreSettings.history_months) unless
    # the back-test's --history-months sets one window for every method.
    scoring = settings.scoring
    scored = (score_history(frame, p, scoring)
              if settings.history_months is None and scoring.history_months != 12 else None)
    return Step(p.key, p.start, hist, phs_hist, edges, target, on_grid, previous_key, others, scored)


def period_scores(incidents, areas, period: Period, *, terrain_for=None,
                  settings: BacktestSettings = BacktestSettings()) -> dict[str, np.ndarray]:
    """Each method's score of every cell of the back-test's grid for one period: what
    :func:`run_backtest` ranks (``oracle``: the period's own harm; ``random`` has none).

    For checks and displays; the same code as :func:`run_backtest`. Cost: one period of it.
    """
    check_inputs(incidents, [period], settings.methods, terrain_for)
    grid = _grid(areas, settings)
    step = _step(incidents.frame, period, settings.phs_window or PHS_WINDOW[period.kind],
                 _terrain_on(terrain_for, period, grid, {}), settings=settings)
    scorer = _Scorer(grid, settings)
    return scorer.scores(step) | scorer.ceilings(step)


def _grid(areas, settings: BacktestSettings) -> Grid:
    """The harm-spot grid of the weekly list (same cell size and edge rule, :attr:`ListSettings.edge_m`)."""
    from ..weekly import ListSettings

    edge = ListSettings(spot_size=settings.spot_size, area_tolerance_m=settings.area_tolerance_m).edge_m
    return Grid.from_areas(areas, settings.spot_size, edge_m=edge)


def _flat(grid: Grid, frame: pd.DataFrame) -> np.ndarray:
    r, c = grid.index(frame["x"].to_numpy(float), frame["y"].to_numpy(float))
    return np.where(r >= 0, r * grid.ncols + c, 0)[r >= 0]


def run_holdout(history: pd.DataFrame, target: pd.DataFrame, areas, *, as_of, terrain: RiskTerrain | None = None,
                settings: BacktestSettings = BacktestSettings(), key: str = "holdout") -> BacktestResult:
    """Score the methods once: rank from ``history``, score against ``target``.

    For data without usable dates, e.g. Chicago burglaries of 2017 (fit) against 2018
    (test): give each table ``x``, ``y``, ``weight``, ``date_start`` and ``date_end``
    (e.g. the year as ``[2017-01-01, 2018-01-01)``) and ``as_of`` the moment between them.
    ``naive`` uses all of ``history``; ``phs`` has one period (all of ``history`` at
    age 0, so it is its spatial kernel alone); there is no stability, and no ``lopo`` (one
    period: noted). Returns a
    :class:`BacktestResult` with one period named ``key``.
    """
    t_all = time.perf_counter()
    if terrain is None and "rtm" in settings.methods:
        raise setting_error("methods", "the 'rtm' method needs a risk terrain", "give a fitted terrain")
    grid = Grid.from_areas(areas, settings.spot_size)
    scorer = _Scorer(grid, settings)
    as_of = pd.Timestamp(as_of)
    hist = history[inside(history, None, as_of)]
    start = hist["date_start"].min() if len(hist) else as_of
    on_grid = terrain.on_grid(grid) if terrain is not None else None
    if terrain is not None:
        terrain.check_before(as_of)
    step = Step(key, as_of, hist, hist, [as_of, min(start, as_of - pd.Timedelta(days=1))], target, on_grid)
    rows, curves = scorer.measure(step, scorer.scores(step))
    seconds = dict(scorer.seconds) | {"total": time.perf_counter() - t_all}
    return BacktestResult(pd.DataFrame(rows, columns=COLUMNS),
                          pd.DataFrame(curves, columns=["period", "method", "area_share", "hit_rate", "harm_capture"]),
                          settings, unscored_notes(scorer.unscored, 1), seconds, [key])
