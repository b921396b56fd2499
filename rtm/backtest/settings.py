"""What a back-test compares and how: :class:`BacktestSettings` and the method names."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import setting_error
from ..ranking import ScoreSettings
from ..weekly import DEFAULT_SPOT_SIZE

METHODS = ("naive", "kde", "rtm", "combined", "phs", "random", "oracle", "lopo")
TERRAIN_METHODS = ("rtm", "combined")
#: Rankings that see the period they score: upper bounds, not forecasts.
CEILINGS = ("oracle", "lopo")
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
    history_months : int or None
        Months of history ``naive``, ``kde`` and ``combined`` use before each period (None:
        12 months, or 52 weeks for weekly periods; weekly periods take
        ``round(52 * months / 12)`` weeks).
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
    history_months: int | None = None
    rbo_p: float = 0.9
    curve_points: int = 20

    def __post_init__(self):
        bad = [m for m in self.methods if m not in METHODS]
        if bad or not self.methods:
            raise setting_error("methods", f"'{','.join(bad) or ''}' is not a back-test method",
                                f"choose from {', '.join(METHODS)}")
        if len(set(self.methods)) != len(self.methods):
            raise setting_error("methods", "a method is named twice", "name each method once")
        if not self.area_shares and self.top_n is None:
            raise setting_error("area_shares", "no list size is given", "give area shares or a number of top spots")
        for s in self.area_shares:
            if not (isinstance(s, (int, float)) and 0 < s < 1):
                raise setting_error("area_shares", f"{s!r} is not a share of the area between 0 and 1 "
                                    "(exclusive)", "give percentages such as 1,2.6,5")
        if self.top_n is not None and (int(self.top_n) != self.top_n or self.top_n < 1):
            raise setting_error("top_n", f"{self.top_n!r} is not a whole number of spots", "give e.g. 20")
        if not (self.spot_size > 0 and math.isfinite(self.spot_size)):
            raise setting_error("spot_size", f"{self.spot_size!r} is not a cell size", "give metres, e.g. 150")
        if not self.phs_radius_m >= self.spot_size / 2:
            raise setting_error("phs_radius_m", f"{self.phs_radius_m!r} m does not reach beyond a cell",
                                f"give at least half the spot size ({self.spot_size / 2:g} m)")
        if self.phs_window is not None and (int(self.phs_window) != self.phs_window or self.phs_window < 1):
            raise setting_error("phs_window", f"{self.phs_window!r} is not a whole number of periods",
                                "give e.g. 8 (weeks) or 2 (months)")
        if self.history_months is not None and (int(self.history_months) != self.history_months
                                                or not 1 <= self.history_months <= 120):
            raise setting_error("history_months", f"{self.history_months!r} is not a whole number of months "
                                "from 1 to 120", "give e.g. 12, 24 or 36")
        if not 0 < self.rbo_p < 1:
            raise setting_error("rbo_p", f"{self.rbo_p!r} is not a persistence between 0 and 1", "give e.g. 0.9")
        if int(self.curve_points) != self.curve_points or self.curve_points < 1:
            raise setting_error("curve_points", f"{self.curve_points!r} is not a whole number", "give e.g. 20")

    def history_window(self, period) -> tuple:
        """``[from, to)`` of the history ``naive``, ``kde`` and ``combined`` use before
        ``period`` (a :class:`rtm.periods.Period`), half-open, ending where it starts."""
        import pandas as pd

        if self.history_months is None:
            return period.window("year")
        if period.kind == "month":
            return period.start - pd.DateOffset(months=int(self.history_months)), period.start
        return period.start - pd.Timedelta(weeks=round(52 * self.history_months / 12)), period.start

    def history_text(self, kind: str) -> str:
        """The history window in words, e.g. ``12 months`` or ``52 weeks``."""
        months = 12 if self.history_months is None else int(self.history_months)
        if kind == "month":
            return f"{months} month" + ("s" if months != 1 else "")
        return f"{round(52 * months / 12)} weeks"

    def selections(self) -> list[tuple[str, float | None, int | None]]:
        """``(label, share, top_n)`` of every list size scored."""
        out = [(f"area {100 * s:g}%", float(s), None) for s in self.area_shares]
        if self.top_n is not None:
            out.append((f"top {int(self.top_n)}", None, int(self.top_n)))
        return out
