"""What a back-test measured: :class:`BacktestResult` and its summary across periods."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .settings import BacktestSettings


@dataclass(frozen=True)
class Skipped:
    """A period the back-test could not score, and why.

    Attributes
    ----------
    period : rtm.periods.Period
    reason : str
        ``"no target"`` (no incident of it in the study area) or ``"no history"`` (none in
        the history window before it).
    text : str
        The reason in words.
    incidents : int
        Incidents recorded in the period (whether or not in the study area).
    latest_before : pandas.Timestamp or None
        End of the latest incident before the period (``"no history"``).
    months_needed : int or None
        The shortest ``history_months`` (up to 120) whose window holds an earlier incident.
    """

    period: object
    reason: str
    text: str
    incidents: int = 0
    latest_before: object = None
    months_needed: int | None = None


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
    skipped : list of Skipped
        The periods not scored, and why.
    """

    metrics: pd.DataFrame
    curves: pd.DataFrame
    settings: BacktestSettings
    notes: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)
    periods: list = field(default_factory=list)
    skipped: list = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """Spread across periods per district, method, list size and metric: ``mean``,
        ``sd``, ``median``, ``q25``, ``q75``, ``n_periods``. One groupby."""
        return summarise(self.metrics)

    def figures(self, focus: str | None = None) -> dict:
        """The plots as matplotlib figures (see :func:`figures`)."""
        from .plots import figures

        return figures(self, focus=focus)

    def write(self, out_dir) -> dict:
        """Write ``backtest.csv``, ``summary.csv``, ``curves.csv`` and the plots (PNG) into
        ``out_dir``; returns the paths by name."""
        from .plots import write_outputs

        return write_outputs(self, out_dir)


#: What each ceiling is, for tables beside the forecasts.
CEILING_LABELS = {"oracle": "oracle: sees the period (the upper bound)",
                  "lopo": "lopo: sees the rest of the year (a ceiling, not a forecast)"}
TABLE_METRICS = {"harm_capture": "harm_captured", "pai_harm": "pai_harm", "pai": "pai_counts",
                 "pei_harm": "pei_harm", "hit_rate": "hit_rate"}


def summary_table(result: BacktestResult, selection: str | None = None) -> pd.DataFrame:
    """Mean over periods, all districts, per list size and method, for display.

    Returns
    -------
    DataFrame
        ``list``, ``method``, ``harm_captured``, ``pai_harm`` (PAI on harm: harm captured /
        area share), ``pai_counts`` (PAI on counts: hit rate / area share), ``pei_harm``,
        ``hit_rate``, ``periods`` (periods the method was scored in) and ``what`` (for the
        ceilings, what they see; else empty). Forecasts first, the ceilings last. Only
        ``selection`` (e.g. ``"area 2.6%"``) when given. One groupby.
    """
    from .settings import CEILINGS

    s = result.summary()
    s = s[(s["district"] == "all") & s["metric"].isin(list(TABLE_METRICS))]
    if selection is not None:
        s = s[s["selection"] == selection]
    cols = ["list", "method"] + list(TABLE_METRICS.values()) + ["periods", "what"]
    if not len(s):
        return pd.DataFrame(columns=cols)
    t = s.pivot_table(index=["selection", "method"], columns="metric", values="mean", sort=False)
    t = t.reindex(columns=list(TABLE_METRICS)).rename(columns=TABLE_METRICS)
    n = s[s["metric"] == "harm_capture"].set_index(["selection", "method"])["n_periods"]
    t["periods"] = [int(n.get(i, 0)) for i in t.index]
    t = t.reset_index().rename(columns={"selection": "list"})
    order = [m for m in result.settings.methods if m not in CEILINGS] + \
            [m for m in result.settings.methods if m in CEILINGS]
    t["what"] = t["method"].map(CEILING_LABELS).fillna("")
    lists = list(dict.fromkeys(t["list"]))
    t["_l"] = t["list"].map(lists.index)
    t["_m"] = t["method"].map(order.index)
    return t.sort_values(["_l", "_m"])[cols].reset_index(drop=True)


def summarise(metrics: pd.DataFrame) -> pd.DataFrame:
    """See :meth:`BacktestResult.summary`."""
    keys = ["district", "method", "selection", "metric"]
    if not len(metrics):
        return pd.DataFrame(columns=keys + ["mean", "sd", "median", "q25", "q75", "n_periods"])
    g = metrics.groupby(keys, sort=False)["value"]
    out = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "median": g.median(),
                        "q25": g.quantile(0.25), "q75": g.quantile(0.75), "n_periods": g.count()})
    return out.reset_index()
