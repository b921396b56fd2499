"""Emerging hot spot classes of harm: how each cell's Gi* hot or cold status has changed
over the weeks (or months) before a list.

For every period of the series the harm of each cell is tested with Gi*
(:func:`rtm.gistar.gistar`, distance band in metres, Benjamini-Hochberg false discovery
rate within each period). Each cell then has a series of z-scores and of hot/cold/neither
states, and gets two classes:

``ehsa`` - the trend classes of ArcGIS Pro's Emerging Hot Spot Analysis (Esri, "How
    Emerging Hot Spot Analysis works"), in our words, for ``n`` periods and a share of 90%:

    - *new*: hot in the last period and in no period before it;
    - *consecutive*: the last periods form one unbroken run of at least two hot periods,
      there is no hot period before that run, and under 90% of periods are hot;
    - *intensifying* / *persistent* / *diminishing*: hot in at least 90% of periods, the
      last included, with the Mann-Kendall trend of the cell's z-scores significantly
      upward / not significant / significantly downward (:func:`rtm.trend.mann_kendall`,
      two-sided, ``trend_alpha``);
    - *sporadic*: hot in the last period, hot on and off before it, under 90% hot, never cold;
    - *oscillating*: hot in the last period, cold in some earlier period, under 90% hot;
    - *historical*: not hot in the last period but hot in at least 90% of periods;
    - the cold classes mirror these with hot and cold swapped (a cold spot "intensifies"
      when its z-scores fall); every other cell has *no pattern*.

    Where two rules fit, the first in this order wins (new before oscillating, as ArcGIS
    lists them). ArcGIS tests each bin against its space-time neighbours; here each period
    is tested on its own (a spatial Gi* per period, as sfhotspot does), which is simpler to
    explain and keeps a period's result independent of the next one.

``simple`` - the classes of sfhotspot's ``hotspot_classify`` (Hoppe et al.; documented
    in its reference manual), with its default proportions: *persistent* when significant
    in at least ``persistent_prop`` (80%) of periods; *emerging* when significant in at
    least ``hotspot_prop`` (10%) of the recent periods (the last ``recent_prop``, 20%) but
    not in that share of the earlier ones; *former* the reverse; *intermittent* when
    significant in at least ``hotspot_prop`` of all periods otherwise; hot or cold by the
    more frequent of the two.

Periods in which the whole area recorded no incident at all (e.g. months missing from a
police.uk download) are treated as missing and left out of the series, not as zero harm.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import setting_error
from .gistar import cell_frame, default_distance, fdr_adjust, gistar
from .grid import Grid
from .periods import Period
from .trend import MannKendall, mann_kendall

#: EHSA class codes (GeoTIFF values): positive hot, negative cold, 0 no pattern.
EHSA_CLASSES = {0: "no pattern", 1: "new hot spot", 2: "consecutive hot spot", 3: "intensifying hot spot",
                4: "persistent hot spot", 5: "diminishing hot spot", 6: "sporadic hot spot",
                7: "oscillating hot spot", 8: "historical hot spot"}
EHSA_CLASSES.update({-k: v.replace("hot spot", "cold spot") for k, v in EHSA_CLASSES.items() if k})
#: sfhotspot-style class codes.
SIMPLE_CLASSES = {0: "no pattern", 1: "persistent hot spot", 2: "emerging hot spot", 3: "former hot spot",
                  4: "intermittent hot spot"}
SIMPLE_CLASSES.update({-k: v.replace("hot spot", "cold spot") for k, v in SIMPLE_CLASSES.items() if k})
MIN_PERIODS = 4


@dataclass(frozen=True)
class EmergingSettings:
    """Settings of the emerging hot spot classes.

    Attributes
    ----------
    periods : int or None
        Periods in the series ending just before the list's period (default 52 weeks or
        12 months). ArcGIS asks for at least 10; fewer than 4 cannot be classed.
    distance_m : float or None
        Gi* distance band in metres (default: the eight neighbouring cells).
    alpha : float
        False discovery rate of each period's Gi* (0.05).
    fdr : bool
        Adjust each period's p-values (Benjamini-Hochberg); False uses raw p < alpha.
    trend_alpha : float
        Significance of the Mann-Kendall trend (0.05).
    share : float
        ArcGIS's "90% of the time-step intervals".
    hotspot_prop, persistent_prop, recent_prop : float
        sfhotspot's proportions (0.1, 0.8, 0.2).
    """

    periods: int | None = None
    distance_m: float | None = None
    alpha: float = 0.05
    fdr: bool = True
    trend_alpha: float = 0.05
    share: float = 0.9
    hotspot_prop: float = 0.1
    persistent_prop: float = 0.8
    recent_prop: float = 0.2

    def __post_init__(self):
        if self.periods is not None and self.periods < MIN_PERIODS:
            raise setting_error("periods", f"{self.periods} periods are too few to see a trend",
                                f"give at least {MIN_PERIODS} (ArcGIS advises 10 or more)")
        for name in ("alpha", "trend_alpha", "share", "hotspot_prop", "persistent_prop", "recent_prop"):
            v = getattr(self, name)
            if not 0 < v <= 1:
                raise setting_error(name, f"{v!r} is not a proportion", "give a number above 0 and up to 1")


@dataclass(eq=False)
class Emerging:
    """Emerging hot spot classes of one grid.

    Attributes
    ----------
    grid : Grid
    periods : list of Period
        The periods of the series, oldest first (missing periods left out).
    skipped : list of Period
        Periods with no incident anywhere, left out as missing.
    z : ndarray, shape (T, nrows, ncols)
        Gi* z-score of each period.
    hot, cold : ndarray of bool, shape (T, nrows, ncols)
    trend : MannKendall
        Of each cell's z-scores, for cells hot or cold in at least ``share`` of the periods
        (NaN elsewhere: their class does not depend on a trend).
    ehsa, simple : ndarray of int8, shape (nrows, ncols)
        Class codes (:data:`EHSA_CLASSES`, :data:`SIMPLE_CLASSES`).
    settings : EmergingSettings
    """

    grid: Grid
    periods: list
    skipped: list
    z: np.ndarray
    hot: np.ndarray
    cold: np.ndarray
    trend: MannKendall
    ehsa: np.ndarray
    simple: np.ndarray
    settings: EmergingSettings = field(default_factory=EmergingSettings)

    def names(self, which: str = "ehsa") -> np.ndarray:
        """Class names per cell (object array of the grid's shape)."""
        table = EHSA_CLASSES if which == "ehsa" else SIMPLE_CLASSES
        codes = self.ehsa if which == "ehsa" else self.simple
        lookup = np.array([table[k] for k in sorted(table)], dtype=object)
        return lookup[codes.astype(int) - min(table)]

    def frame(self, only_patterns: bool = True):
        """Cells as polygons with ``ehsa_code``, ``ehsa_class``, ``simple_class``, ``periods_hot``,
        ``periods_cold``, ``trend_tau``, ``trend_p`` (GeoDataFrame, grid CRS); only cells with a
        pattern unless ``only_patterns`` is False."""
        keep = ((self.ehsa != 0) | (self.simple != 0)) if only_patterns else None
        return cell_frame(self.grid, {
            "ehsa_code": self.ehsa.astype(np.int16), "ehsa_class": self.names("ehsa"),
            "simple_class": self.names("simple"), "periods_hot": self.hot.sum(0).astype(np.int16),
            "periods_cold": self.cold.sum(0).astype(np.int16), "periods": np.full(self.grid.shape, len(self.periods),
                                                                                  np.int16),
            "trend_tau": np.round(self.trend.tau, 4), "trend_p": np.round(self.trend.p, 5)}, only=keep)


def series_periods(period: Period, n: int | None = None) -> list[Period]:
    """The ``n`` periods just before ``period``, oldest first (default 52 weeks / 12 months)."""
    n = n or (12 if period.kind == "month" else 52)
    out, p = [], period
    for _ in range(n):
        p = p.previous()
        out.append(p)
    return out[::-1]


def harm_cube(grid: Grid, frame: pd.DataFrame, periods: list[Period]) -> np.ndarray:
    """Harm per cell and period, shape ``(T, nrows, ncols)``: incidents whose whole recorded
    period lies inside each period, summed by their ``weight``. Cost: one pass per period."""
    cube = np.zeros((len(periods),) + grid.shape)
    start, end = frame["date_start"], frame["date_end"]
    x, y, w = frame["x"].to_numpy(float), frame["y"].to_numpy(float), frame["weight"].to_numpy(float)
    for t, p in enumerate(periods):
        keep = ((start >= p.start) & (start < p.end) & (end <= p.end)).to_numpy()
        cube[t] = grid.counts(x[keep], y[keep], w[keep])
    return cube


def _runs_at_end(flags: np.ndarray) -> np.ndarray:
    """Length of the run of True that ends at the last step, per cell."""
    run = np.zeros(flags.shape[1:], int)
    alive = np.ones(flags.shape[1:], bool)
    for t in range(flags.shape[0] - 1, -1, -1):
        alive &= flags[t]
        run += alive
    return run


def classify_ehsa(hot: np.ndarray, cold: np.ndarray, trend: MannKendall, *, share: float = 0.9,
                  trend_alpha: float = 0.05) -> np.ndarray:
    """ArcGIS-style class codes (:data:`EHSA_CLASSES`) from per-period hot/cold flags
    ``(T, ...)`` and the Mann-Kendall trend of the z-scores; rules in the module notes.
    Cost: a few passes over the flags."""
    codes = np.zeros(hot.shape[1:], np.int8)
    for sign, mine, other in ((1, hot, cold), (-1, cold, hot)):
        n = mine.shape[0]
        count = mine.sum(0)
        last = mine[-1]
        most = count >= share * n - 1e-9
        run = _runs_at_end(mine)
        before_run = count - run
        up = (trend.p < trend_alpha) & (trend.tau * sign > 0)
        down = (trend.p < trend_alpha) & (trend.tau * sign < 0)
        other_before = other[:-1].any(0)
        rules = [  # (code, condition) in ArcGIS's order; the first that fits wins
            (1, last & (count == 1)),
            (2, last & (run >= 2) & (before_run == 0) & ~most),
            (3, last & most & up),
            (4, last & most & ~up & ~down),
            (5, last & most & down),
            (6, last & ~most & ~other_before & (before_run > 0)),
            (7, last & ~most & other_before),
            (8, ~last & most),
        ]
        free = codes == 0
        for code, cond in rules:
            hit = free & cond
            codes[hit] = sign * code
            free &= ~hit
    return codes


def classify_simple(hot: np.ndarray, cold: np.ndarray, *, hotspot_prop: float = 0.1, persistent_prop: float = 0.8,
                    recent_prop: float = 0.2) -> np.ndarray:
    """sfhotspot-style class codes (:data:`SIMPLE_CLASSES`); rules in the module notes."""
    n = hot.shape[0]
    n_recent = max(1, math.ceil(recent_prop * n))
    codes = np.zeros(hot.shape[1:], np.int8)
    hot_more = hot.sum(0) >= cold.sum(0)
    for sign, mine, which in ((1, hot, hot_more), (-1, cold, ~hot_more)):
        all_share = mine.mean(0)
        recent = mine[n - n_recent:].mean(0) >= hotspot_prop
        earlier = mine[:n - n_recent].mean(0) >= hotspot_prop if n > n_recent else np.zeros_like(recent)
        out = np.select([all_share >= persistent_prop, recent & ~earlier, earlier & ~recent,
                         all_share >= hotspot_prop], [1, 2, 3, 4], 0)
        codes = np.where(which & (out > 0), sign * out, codes).astype(np.int8)
    return codes


def _trend_where(z: np.ndarray, need: np.ndarray) -> MannKendall:
    """Mann-Kendall of the series where ``need`` (cells hot or cold in at least ``share`` of
    the periods: the only ones whose class a trend decides); NaN elsewhere."""
    full = [np.full(need.shape, np.nan) for _ in range(5)]
    if need.any():
        part = mann_kendall(z[:, need])
        for arr, got in zip(full, part):
            arr[need] = got
    return MannKendall(*full)


def emerging_hotspots(grid: Grid, frame: pd.DataFrame, period: Period,
                      settings: EmergingSettings = EmergingSettings()) -> Emerging:
    """Emerging hot spot classes of harm over the periods before ``period``.

    Parameters
    ----------
    grid : Grid
        The list's grid (``lst.grid`` or :meth:`Grid.from_areas` at the spot size).
    frame : DataFrame
        Loaded incidents (``date_start``, ``date_end``, ``x``, ``y``, ``weight``).
    period : Period
        The list's period; only periods before it are used.
    settings : EmergingSettings

    Returns
    -------
    Emerging

    Raises
    ------
    InputError
        Fewer than 4 periods of the series have any incident.

    Notes
    -----
    Cost: ``T`` Gi* passes (two FFTs each, the band's transform reused) and one
    Mann-Kendall test of the ``T`` z-scores of every cell significant in at least ``share``
    of the periods (``T(T-1)/2`` array comparisons; ``trend`` is NaN elsewhere); ``bench/bench_gistar.py`` times a force grid. Memory: a few ``(T, nrows, ncols)`` float64 stacks, about 60 MB for 52
    weeks of 150,000 cells.
    """
    wanted = series_periods(period, settings.periods)
    cube = harm_cube(grid, frame, wanted)
    have = cube.reshape(len(wanted), -1).sum(1) > 0
    periods = [p for p, h in zip(wanted, have) if h]
    skipped = [p for p, h in zip(wanted, have) if not h]
    if len(periods) < MIN_PERIODS:
        raise setting_error("period", f"only {len(periods)} of the {len(wanted)} {period.kind}s before the "
                            f"{period.label} have incidents, too few for emerging hot spots",
                            f"choose a later period, or data covering at least {MIN_PERIODS} {period.kind}s")
    cube = cube[have]
    distance = default_distance(grid.cell_size) if settings.distance_m is None else settings.distance_m
    cache: dict = {}
    z = np.empty(cube.shape)
    sig = np.empty(cube.shape, bool)
    for t in range(cube.shape[0]):
        z[t], p = gistar(cube[t], grid.mask, grid.cell_size, distance, cache)
        q = fdr_adjust(p) if settings.fdr else p
        sig[t] = np.nan_to_num(q, nan=1.0) <= settings.alpha
    zz = np.nan_to_num(z)
    hot, cold = sig & (zz > 0), sig & (zz < 0)
    most = settings.share * len(periods) - 1e-9
    trend = _trend_where(zz, (hot.sum(0) >= most) | (cold.sum(0) >= most))
    ehsa = classify_ehsa(hot, cold, trend, share=settings.share, trend_alpha=settings.trend_alpha)
    simple = classify_simple(hot, cold, hotspot_prop=settings.hotspot_prop, persistent_prop=settings.persistent_prop,
                             recent_prop=settings.recent_prop)
    ehsa[~grid.mask] = 0
    simple[~grid.mask] = 0
    return Emerging(grid, periods, skipped, z, hot, cold, trend, ehsa, simple, settings)


def add_class_column(spots, spot_cells: dict, em: Emerging, name: str = "hotspot_class"):
    """``spots`` (a list's table) with a ``name`` column: the emerging class of each spot.

    A spot of several cells takes the class of its highest-ranked hot class among its
    cells (the first cell's when none has one). Done after :func:`rtm.weekly.build_list`
    so the list's own making is unchanged.
    """
    grid = em.grid
    names = em.names("ehsa")
    out = []
    for spot_id in spots["spot_id"]:
        labels = spot_cells.get(spot_id, [spot_id])
        cells = [_label_cell(grid, lab) for lab in labels]
        cells = [c for c in cells if c is not None]
        if not cells:
            out.append("")
            continue
        codes = [int(em.ehsa[c]) for c in cells]
        best = max(range(len(cells)), key=lambda i: (codes[i] > 0, codes[i] != 0, -i))
        out.append(str(names[cells[best]]))
    spots = spots.copy()
    spots[name] = out
    return spots


def _label_cell(grid: Grid, label: str):
    """Row and column of a cell label (``150m-E583850-N187050``) on ``grid``, or None."""
    m = re.search(r"-E(-?\d+(?:\.\d+)?)-N(-?\d+(?:\.\d+)?)$", str(label))
    if not m:
        return None
    x, y = float(m.group(1)) + grid.cell_size / 2, float(m.group(2)) + grid.cell_size / 2
    r, c = grid.index(np.array([x]), np.array([y]))
    return (int(r[0]), int(c[0])) if r[0] >= 0 else None


def with_hotspot_class(lst, incidents, settings: EmergingSettings = EmergingSettings()):
    """``lst`` with a ``hotspot_class`` column (each spot's emerging class, :func:`add_class_column`)
    computed on the list's grid over the periods before it; when the history is too short the
    column says so and a note explains. A step after :func:`rtm.weekly.build_list`."""
    from .errors import InputError

    try:
        em = emerging_hotspots(lst.grid, incidents.frame, lst.period, settings)
    except InputError as exc:
        lst.spots = lst.spots.assign(hotspot_class="not enough history")
        lst.notes.append(f"Emerging hot spot classes: {exc.problem}.")
        return lst
    lst.spots = add_class_column(lst.spots, lst.spot_cells, em)
    lst.provenance.setdefault("columns", {})["hotspot_class"] = (
        f"emerging hot spot class of harm over the {len(em.periods)} {lst.period.kind}s before the period "
        "(Gi* per period with false discovery rate control, Mann-Kendall trend; docs/hotspots.md)")
    if em.skipped:
        lst.notes.append(f"Emerging hot spot classes: {len(em.skipped)} {lst.period.kind}(s) with no incident at all "
                         "were treated as missing.")
    return lst
