"""Rolling-origin back-test: how well would each ranking have done, period by period?

For every period (week, or month for month-only data) in a range, each method ranks the
cells of the harm-spot grid from data strictly before the period, and the ranking is
scored against what happened in it (:mod:`rtm.metrics`). Methods, on the same grid and
periods:

``naive``
    harm per cell in the 52 weeks (12 months) before the period, undecayed (the window of
    :func:`rtm.weekly._history`).
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
    the period's own best cells (by its harm): the upper bound.

Lists are made per district, as the weekly list is: at each share of the district's cells
(default 1%, 2.6% and 5%) and at the top ``top_n`` cells (20, the list's default spots of
one cell). The ``all`` rows pool the districts' lists. No list sees its period: histories
end where the period starts and the risk terrain is fitted on the year before its refit
date (:func:`rtm.publish.refit_date`), once per 13 weeks or 3 months.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from .errors import InputError, output_folder
from .grid import Grid
from .metrics import best_capture, capture_metrics, kept_share, rank_biased_overlap, ranked_cells
from .periods import Period
from .ranking import ScoreSettings, cell_scores
from .surfaces import fft_same
from .terrain import RiskTerrain, TerrainOnGrid
from .weekly import DEFAULT_SPOT_SIZE, _history

METHODS = ("naive", "kde", "rtm", "combined", "phs", "random", "oracle")
TERRAIN_METHODS = ("rtm", "combined")
DEFAULT_SHARES = (0.01, 0.026, 0.05)
METRICS = ("hit_rate", "harm_capture", "pai", "pai_harm", "pei", "pei_harm", "kept", "rbo")
PHS_WINDOW = {"week": 8, "month": 2}  # Bowers et al. used about two months
COLUMNS = ["period", "district", "method", "selection", "area_share", "n_spots", "metric", "value"]


@dataclass(frozen=True)
class BacktestSettings:
    """What is compared, and how.

    Attributes
    ----------
    methods : tuple of str
        Any of :data:`METHODS`.
    area_shares : tuple of float
        Shares (0-1) of each district's cells listed.
    top_n : int or None
        Also score the top ``top_n`` cells of each district (None: not).
    spot_size : float
        Cell size of the harm-spot grid, metres (as the weekly list).
    area_tolerance_m : float
        As the weekly list's: the grid's study area is widened to keep edge incidents.
    scoring : ScoreSettings
        Settings of ``combined`` (and of ``kde``'s harm surface); its ``method`` is ignored.
    phs_radius_m : float
        Reach of prospective hotspotting (400 m, after Bowers et al.).
    phs_window : int or None
        Periods of history prospective hotspotting uses (None: 8 weeks or 2 months).
    rbo_p : float
        Persistence of the rank-biased overlap (0.9: the top 10 ranks carry 65% of it).
    curve_points : int
        Points of the capture curve (area shares up to the largest of ``area_shares``).
    """

    methods: tuple = METHODS
    area_shares: tuple = DEFAULT_SHARES
    top_n: int | None = 20
    spot_size: float = DEFAULT_SPOT_SIZE
    area_tolerance_m: float = 0.0
    scoring: ScoreSettings = field(default_factory=ScoreSettings)
    phs_radius_m: float = 400.0
    phs_window: int | None = None
    rbo_p: float = 0.9
    curve_points: int = 20

    def __post_init__(self):
        bad = [m for m in self.methods if m not in METHODS]
        if bad or not self.methods:
            raise InputError("--methods", f"'{','.join(bad) or ''}' is not a back-test method",
                             f"choose from {', '.join(METHODS)}")
        if len(set(self.methods)) != len(self.methods):
            raise InputError("--methods", "a method is named twice", "name each method once")
        if not self.area_shares and self.top_n is None:
            raise InputError("--area-shares", "no list size is given", "give area shares or --top")
        for s in self.area_shares:
            if not (isinstance(s, (int, float)) and 0 < s < 1):
                raise InputError("--area-shares", f"{s!r} is not a share of the area between 0 and 1 "
                                 "(exclusive)", "give percentages such as 1,2.6,5")
        if self.top_n is not None and (int(self.top_n) != self.top_n or self.top_n < 1):
            raise InputError("--top", f"{self.top_n!r} is not a whole number of spots", "give e.g. --top 20")
        if not (self.spot_size > 0 and math.isfinite(self.spot_size)):
            raise InputError("--spot-size", f"{self.spot_size!r} is not a cell size", "give metres, e.g. 150")
        if not self.phs_radius_m >= self.spot_size / 2:
            raise InputError("--phs-radius", f"{self.phs_radius_m!r} m does not reach beyond a cell",
                             f"give at least half the spot size ({self.spot_size / 2:g} m)")
        if self.phs_window is not None and (int(self.phs_window) != self.phs_window or self.phs_window < 1):
            raise InputError("--phs-window", f"{self.phs_window!r} is not a whole number of periods",
                             "give e.g. 8 (weeks) or 2 (months)")
        if not 0 < self.rbo_p < 1:
            raise InputError("--rbo-p", f"{self.rbo_p!r} is not a persistence between 0 and 1", "give e.g. 0.9")
        if int(self.curve_points) != self.curve_points or self.curve_points < 1:
            raise InputError("curve_points", f"{self.curve_points!r} is not a whole number", "give e.g. 20")

    def selections(self) -> list[tuple[str, float | None, int | None]]:
        """``(label, share, top_n)`` of every list size scored."""
        out = [(f"area {100 * s:g}%", float(s), None) for s in self.area_shares]
        if self.top_n is not None:
            out.append((f"top {int(self.top_n)}", None, int(self.top_n)))
        return out


# -- the risk terrain, refitted by block -------------------------------------------------
class TerrainSchedule:
    """The risk terrain for each period: fitted once per refit block, then reused.

    ``schedule(period)`` returns the terrain fitted (:func:`rtm.publish.fit_terrain`) on
    the year before :func:`rtm.publish.refit_date` of the period: every 13 weeks or 3
    months by default (``every``), the same blocks as ``rtm weekly``. Fits are kept in
    memory; ``fits`` lists ``(fitted to, seconds)``.

    Parameters
    ----------
    incidents, areas, layers
        As :func:`rtm.publish.fit_terrain`.
    every : int, optional
        Periods per block.
    **fit_options
        ``cell_size``, ``block_length``, ``bands`` and the other keywords of
        :func:`~rtm.publish.fit_terrain`.
    """

    def __init__(self, incidents, areas, layers: Mapping, *, every: int | None = None, **fit_options):
        self.incidents, self.areas, self.layers = incidents, areas, layers
        self.every = every
        self.options = {"cell_size": 50.0, "block_length": 100.0, "bands": 3} | fit_options
        self._fitted: dict[pd.Timestamp, RiskTerrain] = {}
        self.fits: list[tuple[pd.Timestamp, float]] = []

    def __call__(self, period: Period) -> RiskTerrain:
        from .publish import fit_terrain, refit_date

        fit_to = refit_date(period, self.every)
        if fit_to not in self._fitted:
            t = time.perf_counter()
            self._fitted[fit_to] = fit_terrain(self.incidents, self.areas, self.layers, fit_to, period.kind,
                                               **self.options)
            self.fits.append((fit_to, time.perf_counter() - t))
        return self._fitted[fit_to]


# -- prospective hotspotting -------------------------------------------------------------
def phs_kernel(cell_size: float, radius_m: float) -> np.ndarray:
    """Spatial weights ``1 / (1 + d)`` of prospective hotspotting, ``d`` the distance between
    cell centres in cells, for cells within ``radius_m``; 0 beyond. Shape ``(2m+1, 2m+1)``
    with ``m = floor(radius_m / cell_size)``. Not normalised (the centre weighs 1)."""
    m = int(np.floor(radius_m / cell_size))
    off = np.arange(-m, m + 1)
    d = np.hypot(off[:, None], off[None, :])
    return np.where(d * cell_size <= radius_m, 1.0 / (1.0 + d), 0.0)


def period_lags(start, as_of, edges) -> np.ndarray:
    """Age in whole periods of incidents starting at ``start``: ``t`` when
    ``edges[t + 1] <= start < edges[t]`` (``edges`` descending from ``as_of``); -1 for
    incidents outside every period of ``edges``. O(n log len(edges))."""
    s = pd.to_datetime(pd.Series(np.asarray(start))).to_numpy("datetime64[ns]")
    e = np.asarray([np.datetime64(pd.Timestamp(t), "ns") for t in edges])[::-1]  # ascending
    pos = np.searchsorted(e, s, side="right")  # edges <= start
    lag = len(e) - 1 - pos
    lag[(pos == 0) | (pos == len(e))] = -1
    return lag


def phs_surface(grid: Grid, x, y, weights, lags, *, radius_m: float, cache: dict | None = None) -> np.ndarray:
    """The prospective hotspotting score of every cell of ``grid`` (0 outside the mask).

    Parameters
    ----------
    grid : Grid
    x, y, weights : arrays
        Incidents and their harm.
    lags : array of int
        Each incident's age in periods (:func:`period_lags`); negative ones are left out.
    radius_m : float
        Reach of the spatial weights (:func:`phs_kernel`).
    cache : dict, optional
        Keeps the kernel's Fourier transform between calls.

    Returns
    -------
    ndarray of float64, shape ``grid.shape``
        ``sum_i w_i / ((1 + d_i)(1 + t_i))`` over incidents within ``radius_m``.

    Notes
    -----
    Convolution is linear, so the per-lag convolutions of the method add up to one
    convolution of the incidents binned with weight ``w / (1 + t)``: one FFT convolution
    (:func:`rtm.variables.fft_same`) plus one more to set exact zeros beyond every
    incident's reach. About 0.2 s per million cells.
    """
    lags = np.asarray(lags)
    ok = lags >= 0
    w = np.asarray(weights, float)[ok] / (1.0 + lags[ok])
    counts = grid.counts(np.asarray(x, float)[ok], np.asarray(y, float)[ok], w)
    counts[~grid.mask] = 0.0
    out = np.zeros(grid.shape)
    if not (counts > 0).any():
        return out
    k = phs_kernel(grid.cell_size, radius_m)
    out = fft_same(counts, k, cache)
    reach = fft_same((counts > 0).astype(float), (k > 0).astype(float), cache) > 0.5
    out[~(reach & grid.mask)] = 0.0
    return np.maximum(out, 0.0)


# -- one step of the rolling origin ---------------------------------------------------------
@dataclass
class Step:
    """One origin: what a list made at ``as_of`` may see, and what it is scored against.

    Attributes
    ----------
    key : str
        The period's name in the outputs (e.g. ``2019-01-07`` or ``2019-01``).
    as_of : pandas.Timestamp
        First moment of the period.
    history : DataFrame
        Incidents before ``as_of`` the naive and harm-surface methods use.
    phs_history : DataFrame
        Incidents prospective hotspotting uses, with ``edges`` giving their periods.
    edges : list of Timestamp
        ``as_of`` and the starts of the ``phs_window`` periods before it, descending.
    target : DataFrame
        Incidents of the period.
    terrain : TerrainOnGrid or None
    previous_key : str or None
        The period just before, for the stability measures.
    """

    key: str
    as_of: pd.Timestamp
    history: pd.DataFrame
    phs_history: pd.DataFrame
    edges: list
    target: pd.DataFrame
    terrain: TerrainOnGrid | None
    previous_key: str | None = None


class _Scorer:
    """The grid, its districts and the caches shared by every step."""

    def __init__(self, grid: Grid, settings: BacktestSettings):
        self.grid, self.settings = grid, settings
        self.ids = grid.cell_ids().ravel()
        flat_d = np.where(grid.mask, grid.district, -1).ravel()
        self.cells = [np.flatnonzero(flat_d == d) for d in range(len(grid.district_names))]
        self.flat_district = flat_d
        self.cache: dict = {}
        self.previous: dict = {}  # (period, district, method, selection) -> ranked cells
        self.seconds: dict[str, float] = {}
        sel = settings.selections()
        self.sizes = [[self._size(len(c), share, top) for _, share, top in sel] for c in self.cells]
        top_share = max(settings.area_shares, default=0.0)
        self.curve_shares = np.linspace(top_share / settings.curve_points, top_share, settings.curve_points) \
            if top_share else np.zeros(0)
        self.kmax = [max(s + [int(round(top_share * len(c)))], default=0) for s, c in zip(self.sizes, self.cells)]

    @staticmethod
    def _size(n: int, share, top) -> int:
        if not n:
            return 0
        return min(n, top) if top is not None else min(n, max(1, int(round(share * n))))

    def _tick(self, name: str, t0: float) -> float:
        t = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + t - t0
        return t

    def scores(self, step: Step) -> dict[str, np.ndarray]:
        """Each ranked method's score of every cell (``random`` has none)."""
        methods, g, st = self.settings.methods, self.grid, self.settings
        out: dict[str, np.ndarray] = {}
        h = step.history
        x, y, w = h["x"].to_numpy(float), h["y"].to_numpy(float), h["weight"].to_numpy(float)
        t = time.perf_counter()
        if "naive" in methods:
            naive = g.counts(x, y, w)
            naive[~g.mask] = 0.0
            out["naive"] = naive
            t = self._tick("naive", t)
        if {"kde", "rtm", "combined"} & set(methods):
            scoring = replace(st.scoring, method="combined")
            cs = cell_scores(g, x, y, w, h, step.as_of, terrain=step.terrain, settings=scoring)
            out["kde"], out["combined"] = cs.harm, cs.score
            if "rtm" in methods:
                if scoring.weight > 0:
                    out["rtm"] = cs.risk_part
                else:
                    out["rtm"] = cell_scores(g, x, y, w, h, step.as_of, terrain=step.terrain,
                                             settings=replace(scoring, method="risk")).score
            t = self._tick("kde+rtm+combined (cell_scores)", t)
        if "phs" in methods:
            p = step.phs_history
            lags = period_lags(p["date_start"], step.as_of, step.edges)
            lags[(p["date_end"] > step.as_of).to_numpy()] = -1
            out["phs"] = phs_surface(g, p["x"].to_numpy(float), p["y"].to_numpy(float),
                                     p["weight"].to_numpy(float), lags, radius_m=st.phs_radius_m, cache=self.cache)
            t = self._tick("phs", t)
        return {m: out[m] for m in methods if m in out}

    def measure(self, step: Step, scores: dict[str, np.ndarray]) -> tuple[list[dict], list[dict]]:
        """Metric rows (:data:`COLUMNS`) and capture-curve rows of one step."""
        g, st = self.grid, self.settings
        t0 = time.perf_counter()
        tx, ty = step.target["x"].to_numpy(float), step.target["y"].to_numpy(float)
        n_cell = g.counts(tx, ty).ravel()
        h_cell = g.counts(tx, ty, step.target["weight"].to_numpy(float)).ravel()
        n_cell[~g.mask.ravel()] = 0.0
        h_cell[~g.mask.ravel()] = 0.0
        if "oracle" in st.methods:
            scores = scores | {"oracle": h_cell.reshape(g.shape)}
        sels = st.selections()
        names = list(g.district_names)
        rows, curve = [], []
        # pooled sums over districts: (method, selection) -> [caught, harm, listed, cells, best, harm best]
        pooled: dict = {}
        curve_pool: dict = {}
        stab_pool: dict = {}
        for d, cells in enumerate(self.cells):
            if not cells.size:
                continue
            kmax = self.kmax[d]
            n_d, h_d = n_cell[cells], h_cell[cells]
            tot_n, tot_h = float(n_d.sum()), float(h_d.sum())
            best_n, best_h = best_capture(n_d, kmax), best_capture(h_d, kmax)
            ks = self.sizes[d]
            curve_k = np.clip(np.rint(self.curve_shares * cells.size).astype(int), 0, kmax)
            for m in st.methods:
                if m == "random":
                    cum_n = np.arange(1, kmax + 1) * tot_n / cells.size
                    cum_h = np.arange(1, kmax + 1) * tot_h / cells.size
                    ranked = None
                else:
                    ranked = ranked_cells(scores[m].ravel(), cells, self.ids, kmax)
                    cum_n, cum_h = np.cumsum(n_cell[ranked]), np.cumsum(h_cell[ranked])
                cn = np.concatenate([[0.0], cum_n])
                ch = np.concatenate([[0.0], cum_h])
                acc = curve_pool.setdefault(m, np.zeros((2, curve_k.size)))
                acc[0] += cn[curve_k]
                acc[1] += ch[curve_k]
                for (label, _, _), k in zip(sels, ks):
                    vals = (cn[k], tot_n, ch[k], tot_h, k, cells.size, best_n[k - 1], best_h[k - 1])
                    p = pooled.setdefault((m, label), np.zeros(8))
                    p += np.asarray(vals, float)
                    rows += self._rows(step.key, names[d], m, label, k, cells.size, capture_metrics(*vals))
                    stab = self._stability(step, names[d], m, label, k, cells.size, ranked)
                    rows += self._rows(step.key, names[d], m, label, k, cells.size, stab)
                    s = stab_pool.setdefault((m, label), [0.0, 0.0, []])
                    if "kept" in stab:
                        s[0] += stab["kept"] * k
                        s[1] += k
                    if "rbo" in stab:
                        s[2].append(stab["rbo"])
        for (m, label), v in pooled.items():
            caught, tot_n, harm, tot_h, k, cells, bn, bh = v
            rows += self._rows(step.key, "all", m, label, int(k), int(cells),
                               capture_metrics(caught, tot_n, harm, tot_h, int(k), int(cells), bn, bh))
            kept_k, kept_n, rbos = stab_pool.get((m, label), (0, 0, []))
            stab = {}
            if kept_n:
                stab["kept"] = kept_k / kept_n
            if rbos:
                stab["rbo"] = float(np.mean(rbos))
            rows += self._rows(step.key, "all", m, label, int(k), int(cells), stab)
        tot_n, tot_h = float(n_cell.sum()), float(h_cell.sum())
        for m, acc in curve_pool.items():
            for j, s in enumerate(self.curve_shares):
                curve.append({"period": step.key, "method": m, "area_share": float(s),
                              "hit_rate": acc[0, j] / tot_n if tot_n else np.nan,
                              "harm_capture": acc[1, j] / tot_h if tot_h else np.nan})
        self._tick("selection and metrics", t0)
        return rows, curve

    def _stability(self, step: Step, district, method, label, k, cells, ranked) -> dict:
        if method == "random":
            return {"kept": k / cells} if step.previous_key is not None else {}
        cur = ranked[:k]
        self.previous[(step.key, district, method, label)] = cur
        prev = self.previous.pop((step.previous_key, district, method, label), None)
        if prev is None:
            return {}
        return {"kept": kept_share(prev, cur), "rbo": rank_biased_overlap(prev, cur, self.settings.rbo_p)}

    @staticmethod
    def _rows(key, district, method, label, k, cells, values: dict) -> list[dict]:
        share = k / cells if cells else np.nan
        return [{"period": key, "district": district, "method": method, "selection": label, "area_share": share,
                 "n_spots": int(k), "metric": name, "value": float(v)} for name, v in values.items()]


# -- results -------------------------------------------------------------------------------
@dataclass
class BacktestResult:
    """What a back-test measured.

    Attributes
    ----------
    metrics : DataFrame
        Tidy, columns :data:`COLUMNS`: one value per period, district (and ``all``),
        method, list size and metric.
    curves : DataFrame
        ``period``, ``method``, ``area_share``, ``hit_rate``, ``harm_capture`` of the
        pooled lists at ``curve_points`` area shares.
    settings : BacktestSettings
    notes : list of str
        Periods skipped and why, terrain refits, anything a reader should know.
    seconds : dict
        Time per part (``naive``, ``phs``, ``kde+rtm+combined (cell_scores)``,
        ``terrain fits``, ``selection and metrics``, ``total``).
    periods : list of str
        The periods scored.
    """

    metrics: pd.DataFrame
    curves: pd.DataFrame
    settings: BacktestSettings
    notes: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)
    periods: list = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """Spread across periods per district, method, list size and metric: ``mean``,
        ``sd``, ``median``, ``q25``, ``q75``, ``n_periods``. One groupby."""
        return summarise(self.metrics)

    def figures(self, focus: str | None = None) -> dict:
        """The plots as matplotlib figures (see :func:`figures`)."""
        return figures(self, focus=focus)

    def write(self, out_dir) -> dict:
        """Write ``backtest.csv``, ``summary.csv``, ``curves.csv`` and the plots (PNG) into
        ``out_dir``; returns the paths by name."""
        return write_outputs(self, out_dir)


def summarise(metrics: pd.DataFrame) -> pd.DataFrame:
    """See :meth:`BacktestResult.summary`."""
    keys = ["district", "method", "selection", "metric"]
    if not len(metrics):
        return pd.DataFrame(columns=keys + ["mean", "sd", "median", "q25", "q75", "n_periods"])
    g = metrics.groupby(keys, sort=False)["value"]
    out = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "median": g.median(),
                        "q25": g.quantile(0.25), "q75": g.quantile(0.75), "n_periods": g.count()})
    return out.reset_index()


# -- the driver ----------------------------------------------------------------------------
def check_inputs(incidents, periods: list[Period], methods, terrain_for) -> None:
    """Refuse a back-test that cannot run (InputError naming the option): no period, undated
    data, weeks of month-only data, or the ``rtm`` method without a terrain (``terrain_for``
    None). Cheap: front ends call it before loading layers."""
    if not periods:
        raise InputError("--from", "the range holds no period", "give --from on or before --to")
    kind = periods[0].kind
    res = incidents.resolution
    if res == "none":
        raise InputError("incidents", "the incidents have no dates, so no period can be back-tested",
                         "give a date column (--date-col)")
    if res == "month" and kind == "week":
        raise InputError("--period", "the incidents are dated by month only (police.uk), so weekly lists "
                         "cannot be scored without inventing days", "use --period month")
    need = [m for m in methods if m == "rtm"]
    if need and terrain_for is None:
        raise InputError("--methods", "the 'rtm' method needs a risk terrain",
                         "give attractor layers (--factors or --layer), or leave 'rtm' out of --methods")


def _terrain_on(terrain_for, period: Period, grid: Grid, cache: dict) -> TerrainOnGrid | None:
    if terrain_for is None:
        return None
    terrain = terrain_for(period) if callable(terrain_for) else terrain_for
    to = terrain.fitted.get("data_to")
    if to is not None and pd.Timestamp(to) > period.start:
        raise InputError("--model", f"the risk terrain was fitted on incidents up to {to}, after the "
                         f"{period.label} starts", "fit the model on data before the first period")
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
        The risk terrain, e.g. a :class:`TerrainSchedule`. It must be fitted on data from
        before each period. Without it ``rtm`` is refused and ``combined`` equals ``kde``.
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
    rows, curves, done, on_grid_cache = [], [], [], {}
    fit_seconds = 0.0
    last_key = None
    for i, p in enumerate(periods):
        step = _step(frame, p, window, None, previous_key=last_key if last_key == p.previous().key else None)
        target = step.target
        in_area = grid.mask.ravel()[_flat(grid, target)].sum() if len(target) else 0
        if not in_area:
            notes.append(f"The {p.label} is skipped: no incident of it lies in the study area.")
            last_key = None
            continue
        if not len(step.history):
            notes.append(f"The {p.label} is skipped: no incident is recorded in the year before it.")
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
    if isinstance(terrain_for, TerrainSchedule):
        for fit_to, s in terrain_for.fits:
            notes.append(f"Risk terrain fitted on the year before {fit_to:%Y-%m-%d} ({s:.1f} s).")
    seconds = dict(scorer.seconds)
    seconds["terrain fits (and resampling)"] = fit_seconds
    seconds["total"] = time.perf_counter() - t_all
    metrics = pd.DataFrame(rows, columns=COLUMNS)
    return BacktestResult(metrics, pd.DataFrame(curves, columns=["period", "method", "area_share", "hit_rate",
                                                                 "harm_capture"]),
                          settings, notes, seconds, done)


def _step(frame: pd.DataFrame, p: Period, window: int, on_grid, previous_key=None) -> Step:
    """The step of period ``p``: its history, PHS history and edges, and its target."""
    edges, q = [p.start], p
    for _ in range(window):
        q = q.previous()
        edges.append(q.start)
    target = frame[(frame["date_start"] >= p.start) & (frame["date_end"] <= p.end)]
    phs_hist = frame[(frame["date_start"] >= edges[-1]) & (frame["date_end"] <= p.start)]
    return Step(p.key, p.start, _history(frame, p), phs_hist, edges, target, on_grid, previous_key)


def period_scores(incidents, areas, period: Period, *, terrain_for=None,
                  settings: BacktestSettings = BacktestSettings()) -> dict[str, np.ndarray]:
    """Each method's score of every cell of the back-test's grid for one period: what
    :func:`run_backtest` ranks (``oracle``: the period's own harm; ``random`` has none).

    For checks and displays; the same code as :func:`run_backtest`. Cost: one period of it.
    """
    check_inputs(incidents, [period], settings.methods, terrain_for)
    grid = _grid(areas, settings)
    step = _step(incidents.frame, period, settings.phs_window or PHS_WINDOW[period.kind],
                 _terrain_on(terrain_for, period, grid, {}))
    out = _Scorer(grid, settings).scores(step)
    if "oracle" in settings.methods:
        t = step.target
        h = grid.counts(t["x"].to_numpy(float), t["y"].to_numpy(float), t["weight"].to_numpy(float))
        out["oracle"] = np.where(grid.mask, h, 0.0)
    return out


def _grid(areas, settings: BacktestSettings) -> Grid:
    """The harm-spot grid of the weekly list (same cell size and edge rule)."""
    edge = settings.area_tolerance_m + settings.spot_size * math.sqrt(2) / 2 if settings.area_tolerance_m > 0 else 0.0
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
    age 0, so it is its spatial kernel alone); there is no stability. Returns a
    :class:`BacktestResult` with one period named ``key``.
    """
    t_all = time.perf_counter()
    if terrain is None and "rtm" in settings.methods:
        raise InputError("--methods", "the 'rtm' method needs a risk terrain", "give a fitted terrain")
    grid = Grid.from_areas(areas, settings.spot_size)
    scorer = _Scorer(grid, settings)
    as_of = pd.Timestamp(as_of)
    hist = history[history["date_end"] <= as_of]
    start = hist["date_start"].min() if len(hist) else as_of
    on_grid = terrain.on_grid(grid) if terrain is not None else None
    if terrain is not None:
        to = terrain.fitted.get("data_to")
        if to is not None and pd.Timestamp(to) > as_of:
            raise InputError("terrain", f"the risk terrain was fitted on incidents up to {to}, after {as_of:%Y-%m-%d}",
                             "fit it on the history only")
    step = Step(key, as_of, hist, hist, [as_of, min(start, as_of - pd.Timedelta(days=1))], target, on_grid)
    rows, curves = scorer.measure(step, scorer.scores(step))
    seconds = dict(scorer.seconds) | {"total": time.perf_counter() - t_all}
    return BacktestResult(pd.DataFrame(rows, columns=COLUMNS),
                          pd.DataFrame(curves, columns=["period", "method", "area_share", "hit_rate", "harm_capture"]),
                          settings, [], seconds, [key])


# -- plots and files -----------------------------------------------------------------------
def _focus(result: BacktestResult, focus: str | None) -> str:
    labels = [s[0] for s in result.settings.selections()]
    if focus is None:
        shares = result.settings.area_shares
        if shares:
            mid = sorted(shares)[len(shares) // 2]
            return f"area {100 * mid:g}%"
        return labels[0]
    if focus not in labels:
        raise InputError("focus", f"'{focus}' is not one of the list sizes scored", f"choose {', '.join(labels)}")
    return focus


def figures(result: BacktestResult, focus: str | None = None) -> dict:
    """Matplotlib figures of a back-test (the Agg backend; nothing is shown).

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        ``capture_curve``: mean harm capture of the pooled lists against the share of the
        area listed, one line per method; ``capture_by_period``: harm capture per period
        at the ``focus`` list size (default the middle area share); ``pei_by_period``: PEI
        on harm per period at that size.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    focus = _focus(result, focus)
    out = {}
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    cur = result.curves
    if len(cur):
        mean = cur.groupby(["method", "area_share"], sort=False)["harm_capture"].mean().reset_index()
        for m in result.settings.methods:
            d = mean[mean["method"] == m]
            if len(d):
                ax.plot(100 * np.r_[0, d["area_share"]], 100 * np.r_[0, d["harm_capture"]], label=m,
                        linestyle="--" if m in ("random", "oracle") else "-")
    ax.set_xlabel("share of the area listed (%)")
    ax.set_ylabel("harm captured (%), mean over periods")
    ax.set_title(f"Harm capture against area ({len(result.periods)} periods, all districts)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    out["capture_curve"] = fig
    for metric, name, what in (("harm_capture", "capture_by_period", "harm captured (%)"),
                               ("pei_harm", "pei_by_period", "PEI on harm (%)")):
        fig = Figure(figsize=(9, 4.5))
        ax = fig.add_subplot()
        m_ = result.metrics
        d = m_[(m_["district"] == "all") & (m_["selection"] == focus) & (m_["metric"] == metric)]
        for m in result.settings.methods:
            dm = d[d["method"] == m]
            if len(dm):
                ax.plot(pd.to_datetime(dm["period"]), 100 * dm["value"], label=m, marker=".",
                        linestyle="--" if m in ("random", "oracle") else "-")
        ax.set_ylabel(what)
        ax.set_title(f"{what} per period, {focus} of each district, all districts")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, ncol=4)
        fig.autofmt_xdate()
        out[name] = fig
    return out


def write_outputs(result: BacktestResult, out_dir) -> dict:
    """See :meth:`BacktestResult.write`. Values are written with 6 significant digits."""
    out = output_folder(out_dir)
    paths = {"backtest": out / "backtest.csv", "summary": out / "summary.csv", "curves": out / "curves.csv"}
    result.metrics.to_csv(paths["backtest"], index=False, float_format="%.6g")
    result.summary().to_csv(paths["summary"], index=False, float_format="%.6g")
    result.curves.to_csv(paths["curves"], index=False, float_format="%.6g")
    for name, fig in result.figures().items():
        paths[name] = out / f"{name}.png"
        fig.savefig(paths[name], dpi=110, bbox_inches="tight")
    return paths


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
        sel = _focus(res, selection)
        m = res.metrics
        m = m[(m["district"] == "all") & (m["selection"] == sel)]
        means = m.groupby("metric")["value"].mean()
        rows.append(dict(zip(keys, values)) | {"selection": sel} |
                    {k: float(means.get(k, np.nan)) for k in ("harm_capture", "pei", "pei_harm", "pai", "kept")}
                    | {"periods": len(res.periods)})
    return pd.DataFrame(rows)
