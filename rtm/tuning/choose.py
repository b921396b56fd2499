"""Choosing a force's ranking from its own past: validation span, then a test span it never saw.

:func:`tune` back-tests the family (:mod:`.members`) over the validation span with rolling
origins (each period ranked only from incidents before it), picks the setting with the
highest mean harm capture at the list's size, and then scores the chosen setting, naive
(harm in the 12 months before) and the shipped default over the later test span, with the
oracle and the leave-one-period-out ceiling beside them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable

import pandas as pd

from ..errors import setting_error
from ..periods import Period, month_period, periods_between, week_period
from ..ranking import ScoreSettings
from .evaluate import LOPO, NAIVE, ORACLE, capture_table, mean_capture
from .members import HISTORY_MONTHS, RISK_WEIGHTS, family

DEFAULT = "shipped default"
CHOSEN = "tuned"


@dataclass
class TuneResult:
    """What :func:`tune` found.

    Attributes
    ----------
    chosen : ScoreSettings
        The setting with the best mean harm capture on the validation span.
    chosen_name : str
        Its name in the family.
    validation : DataFrame
        Mean harm capture of every setting tried on the validation span (``name``,
        ``capture``), best first, naive and the default included.
    test : DataFrame
        Mean harm capture on the test span of ``tuned``, ``shipped default``, ``naive``,
        ``lopo ceiling`` and ``oracle`` (``name``, ``capture``, ``vs_naive``: relative
        difference to naive).
    validation_periods, test_periods : list of str
    history_months : tuple of int
        The history windows the data covered (those tried).
    top_n : int
        Cells per district the lists held.
    seconds : dict
        Wall time of ``validation``, ``test`` and ``total``.
    notes : list of str
    """

    chosen: ScoreSettings
    chosen_name: str
    validation: pd.DataFrame
    test: pd.DataFrame
    validation_periods: list
    test_periods: list
    history_months: tuple
    top_n: int
    seconds: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def capture(self, name: str) -> float:
        """Mean test-span harm capture of ``name`` (e.g. ``"tuned"``, ``"naive"``)."""
        return float(self.test.set_index("name").loc[name, "capture"])

    def provenance(self) -> dict:
        """What a published list records about the tuning (see :mod:`rtm.provenance`)."""
        return {"chosen": self.chosen_name, "settings": self.chosen.to_dict(),
                "validation": [self.validation_periods[0], self.validation_periods[-1]],
                "test": [self.test_periods[0], self.test_periods[-1]], "top_n": self.top_n,
                "test_capture": {n: round(self.capture(n), 5) for n in (CHOSEN, NAIVE, DEFAULT)}}


def _first(kind: str, day, week_start: str) -> Period:
    return week_period(day, week_start) if kind == "week" else month_period(day)


def _given(kind: str, span: tuple, week_start: str, name: str) -> list[Period]:
    """The periods of a given ``(first day, last day)`` span; InputError (setting ``name``)
    when the last day is before the first period starts."""
    first = _first(kind, span[0], week_start)
    if pd.Timestamp(span[1]) < first.start:
        what = {"validate": "validation"}.get(name, name)
        raise setting_error(name, f"the {what} span ends ({span[1]}) before it starts ({span[0]})",
                            f"give the earlier day first (the {what} span's first day, then its last)")
    return periods_between(first, span[1])


def spans(incidents, kind: str, *, validate: tuple | None = None, test: tuple | None = None,
          week_start: str = "monday") -> tuple[list[Period], list[Period]]:
    """The validation and test periods, as two lists of :class:`~rtm.periods.Period`.

    ``validate`` and ``test`` are ``(first day, last day)`` pairs, or None for the default.
    With neither, the test span is the last year of whole periods in the data (52 weeks or
    12 months) and the validation span the year before it; when the data holds less than
    two years after its first period, the periods after the first are split in two, the
    earlier half validating. With only ``test``, validation is the year (or what the data
    has of it) of whole periods before it; with only ``validate``, the test span is the
    year (or what the data has of it) after it. InputError when a span is reversed (its
    last day before its first), holds no period, or the test span does not follow the
    validation span.
    """
    frame = incidents.frame
    lo, hi = frame["date_start"].min(), frame["date_end"].max()
    if pd.isna(lo):
        raise setting_error("incidents", "the incidents have no dates to tune on", "give dated incidents")
    first = _first(kind, lo, week_start)
    whole = [p for p in periods_between(first, hi) if p.end <= hi + pd.Timedelta(days=1)][1:]
    year = 52 if kind == "week" else 12
    val = _given(kind, validate, week_start, "validate") if validate is not None else None
    tst = _given(kind, test, week_start, "test") if test is not None else None
    if val is None and tst is None:
        if len(whole) >= 2 * year:
            val, tst = whole[-2 * year:-year], whole[-year:]
        else:
            half = len(whole) // 2
            val, tst = whole[:half], whole[half:]
    elif val is None:  # the year before the given test span
        val = [p for p in whole if p.end <= tst[0].start][-year:]
    elif tst is None:  # the year after the given validation span
        tst = [p for p in whole if p.start >= val[-1].end][:year]
    if not val or not tst:
        raise setting_error("validate / test", "a span holds no whole period of the data",
                            f"give spans inside the data ({lo:%Y-%m-%d} to {hi:%Y-%m-%d}), or leave them out")
    if tst[0].start < val[-1].end:
        raise setting_error("test", f"the test span starts ({tst[0].key}) before the validation span ends "
                            f"({val[-1].key})", "give a test span after the validation span")
    return val, tst


def covered_windows(incidents, first: Period, windows=HISTORY_MONTHS) -> tuple:
    """The history windows (months) the data covers before ``first``; the shortest always."""
    lo = incidents.frame["date_start"].min()
    ok = tuple(h for h in windows if first.start - pd.DateOffset(months=h) >= lo - pd.Timedelta(days=7))
    return ok or (min(windows),)


def _ranked(table: pd.DataFrame, names: list) -> pd.Series:
    """Mean capture of ``names``, best first; ties (settings the data cannot tell apart) go
    to the one listed first, so the simplest member of the family is chosen."""
    means = table[table["name"].isin(names)].groupby("name")["capture"].mean().reindex(names).dropna()
    order = pd.Series(range(len(means)), index=means.index)
    return means.iloc[sorted(range(len(means)), key=lambda i: (-round(means.iloc[i], 12), order.iloc[i]))]


def tune(incidents, areas, *, kind: str = "week", validate: tuple | None = None, test: tuple | None = None,
         week_start: str = "monday", spot_size: float = 150.0, area_tolerance_m: float = 0.0, top_n: int = 20,
         terrain_for=None, default: ScoreSettings = ScoreSettings(),
         progress: Callable[[int, int, str], None] | None = None) -> TuneResult:
    """Choose the ranking for a force from its own past.

    Parameters
    ----------
    incidents : Incidents
        Loaded with harm weights, in the areas' CRS, dated.
    areas : Areas
    kind : {"week", "month"}
        The lists' periods.
    validate, test : (first day, last day), optional
        The spans (default: :func:`spans`).
    spot_size, area_tolerance_m, top_n
        The list's grid and size (cells per district).
    terrain_for : RiskTerrain or callable(Period), optional
        With a terrain the risk weight is tuned too (:data:`.members.RISK_WEIGHTS` on the
        best of the family); without, it keeps ``default``'s and does not count.
    default : ScoreSettings
        The shipped default, scored beside the choice.

    Returns
    -------
    TuneResult

    Notes
    -----
    No look-ahead: every list is ranked from incidents that ended before its period, the
    choice is made on the validation span alone and the test span is scored once, after.
    Cost: per validation period one :func:`~rtm.ranking.cell_scores` per distinct setting
    (60 at most: :func:`.members.family`), then four per test period; see docs/backtest.md
    for the measured times.
    """
    t0 = time.perf_counter()
    val, tst = spans(incidents, kind, validate=validate, test=test, week_start=week_start)
    windows = covered_windows(incidents, val[0])
    notes = []
    if windows != HISTORY_MONTHS:
        notes.append(f"History windows of {', '.join(str(h) for h in HISTORY_MONTHS if h not in windows)} months "
                     f"were not tried: the data starts too late before the validation span ({val[0].key}).")
    if terrain_for is None:
        notes.append("No risk terrain was given, so the risk weight was not tuned and does not count "
                     "(give attractor layers, or a workspace with a [model], to tune it).")
    members = family(spot_size, windows, base=replace(default, method="combined"))
    opts = dict(spot_size=spot_size, area_tolerance_m=area_tolerance_m, top_n=top_n, terrain_for=terrain_for)
    table = capture_table(incidents, areas, val, members | {DEFAULT: default}, bounds=True, progress=progress, **opts)
    if not len(table):
        raise setting_error("validate", "no period of the validation span has harm to score",
                            "choose a validation span inside the data")
    means = _ranked(table, list(members))
    best = str(means.index[0])
    if terrain_for is not None:
        risk = {f"{best} rw{w:g}": replace(members[best], risk_weight=w) for w in RISK_WEIGHTS}
        rt = capture_table(incidents, areas, val, risk, **opts)
        table = pd.concat([table, rt], ignore_index=True)
        rmeans = _ranked(rt, list(risk))
        if rmeans.iloc[0] > means.iloc[0]:
            best = str(rmeans.index[0])
            members[best] = risk[best]
    chosen = members[best]
    t_val = time.perf_counter()
    test_table = capture_table(incidents, areas, tst, {CHOSEN: chosen, DEFAULT: default}, bounds=True, **opts)
    t_test = time.perf_counter()
    if not len(test_table):
        raise setting_error("test", "no period of the test span has harm to score",
                            "choose a test span inside the data")
    v = mean_capture(table).rename("capture").reset_index()
    t = mean_capture(test_table).rename("capture").reset_index()
    naive = float(t.set_index("name").loc[NAIVE, "capture"]) if NAIVE in set(t["name"]) else float("nan")
    t["vs_naive"] = t["capture"] / naive - 1.0
    order = {CHOSEN: 0, DEFAULT: 1, NAIVE: 2, LOPO: 3, ORACLE: 4}
    t = t.sort_values("name", key=lambda s: s.map(order)).reset_index(drop=True)
    return TuneResult(chosen, best, v, t, sorted(table["period"].unique()), sorted(test_table["period"].unique()),
                      windows, top_n, {"validation": t_val - t0, "test": t_test - t_val,
                                       "total": time.perf_counter() - t0}, notes)
