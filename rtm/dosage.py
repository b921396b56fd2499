"""Measured patrol dosage: minutes in each listed spot per day and per visit, against the
list's suggested dose.

From the pings of each unit (:mod:`rtm.patrols`), sorted by time, every interval between
two consecutive pings no longer than ``max_ping_gap_min`` is credited to the spot the
unit was in: the whole interval when both pings fall in the spot, half of it when only
one does (the unit crossed the edge somewhere in between). Longer intervals are a gap in
the record and credit nothing. A spot is its polygon widened by ``edge_m`` (GPS error).
A unit's time in a spot forms one *visit* until it is away from the spot (or unheard)
for more than ``visit_gap_min``; a visit counts towards the dose when it lasts at least
``target_min`` (default 15: Koper 1995). Minutes are officer-minutes: two officers
together for 15 minutes make two 15-minute visits.

The delivered share of a spot's dose on a day is ``min(visits of target length,
suggested visits) / suggested visits``; over a week it is the mean over its days, so a
missed day is not made up by a double dose on another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from .errors import setting_error

CAVEAT = ("Descriptive only, not a trial: spots were not assigned to patrol at random, patrols go where "
          "supervisors and events send them, and harm regresses towards the mean, so a difference "
          "between patrolled and unpatrolled spots is not an effect of patrol.")


@dataclass(frozen=True)
class DoseSettings:
    """How pings become minutes and visits.

    Attributes
    ----------
    max_ping_gap_min : float
        Longest interval between two pings that is credited (default 5 minutes).
    visit_gap_min : float
        A visit ends once the unit is away or unheard for longer than this (default 5).
    target_min : float
        Shortest visit that counts towards the dose (default 15).
    edge_m : float
        Spots are widened by this many metres for GPS error (default 10).
    """

    max_ping_gap_min: float = 5.0
    visit_gap_min: float = 5.0
    target_min: float = 15.0
    edge_m: float = 10.0

    def __post_init__(self):
        for name in ("max_ping_gap_min", "visit_gap_min", "target_min"):
            if not getattr(self, name) > 0:
                raise setting_error(name, f"{getattr(self, name)!r} minutes cannot be used", "give a positive number")
        if not self.edge_m >= 0:
            raise setting_error("edge_m", f"{self.edge_m!r} metres cannot be used", "give 0 or more metres")


def ping_spots(frame: pd.DataFrame, spots, edge_m: float) -> np.ndarray:
    """Index into ``spots`` of the spot holding each ping (-1: none; the nearest spot's
    centre wins where widened spots overlap). One STRtree query."""
    geoms = spots.geometry.values
    if edge_m > 0:
        geoms = shapely.buffer(geoms, edge_m)
    pts = shapely.points(frame["x"].to_numpy(float), frame["y"].to_numpy(float))
    tree = shapely.STRtree(geoms)
    ping_i, spot_i = tree.query(pts, predicate="within")
    out = np.full(len(frame), -1, np.int64)
    if len(ping_i):
        cent = shapely.centroid(spots.geometry.values[spot_i])
        d = shapely.distance(pts[ping_i], cent)
        order = np.lexsort((d, ping_i))
        first = np.r_[True, ping_i[order][1:] != ping_i[order][:-1]]
        out[ping_i[order][first]] = spot_i[order][first]
    return out


def credited_intervals(frame: pd.DataFrame, spot: np.ndarray, max_gap_min: float) -> pd.DataFrame:
    """Time credited to spots between consecutive pings of each unit: ``unit``, ``spot``,
    ``start``, ``end`` (the ping times), ``minutes`` (whole or half the interval)."""
    f = frame.assign(spot=spot).sort_values(["unit", "time"], kind="stable")
    unit = f["unit"].to_numpy()
    t = f["time"].to_numpy()
    s = f["spot"].to_numpy()
    same_unit = unit[1:] == unit[:-1]
    dt = (t[1:] - t[:-1]) / np.timedelta64(1, "m")
    ok = same_unit & (dt > 0) & (dt <= max_gap_min)
    a, b = s[:-1], s[1:]
    parts = []
    for cond, which, share in ((ok & (a >= 0) & (a == b), a, 1.0), (ok & (a >= 0) & (a != b), a, 0.5),
                               (ok & (b >= 0) & (a != b), b, 0.5)):
        idx = np.flatnonzero(cond)
        parts.append(pd.DataFrame({"unit": unit[idx], "spot": which[idx], "start": t[idx], "end": t[idx + 1],
                                   "minutes": dt[idx] * share}))
    return pd.concat(parts, ignore_index=True).sort_values(["unit", "spot", "start"], kind="stable")


def visits(intervals: pd.DataFrame, visit_gap_min: float) -> pd.DataFrame:
    """Visits: runs of a unit's credited intervals in one spot with no break longer than
    ``visit_gap_min``. Columns ``unit``, ``spot``, ``start``, ``end``, ``minutes``,
    ``day`` (the date the visit started)."""
    if not len(intervals):
        return pd.DataFrame(columns=["unit", "spot", "start", "end", "minutes", "day"])
    iv = intervals.sort_values(["unit", "spot", "start"], kind="stable")
    prev_end = iv.groupby(["unit", "spot"])["end"].shift()
    new = prev_end.isna() | ((iv["start"] - prev_end) / pd.Timedelta(minutes=1) > visit_gap_min)
    iv = iv.assign(visit=new.cumsum())
    out = iv.groupby("visit").agg(unit=("unit", "first"), spot=("spot", "first"), start=("start", "min"),
                                  end=("end", "max"), minutes=("minutes", "sum")).reset_index(drop=True)
    out["day"] = out["start"].dt.normalize()
    return out


@dataclass
class Dosage:
    """Patrol dose of one list's period.

    Attributes
    ----------
    visits : DataFrame
        One row per visit: ``spot_id``, ``district``, ``unit``, ``start``, ``end``,
        ``minutes``, ``counts`` (at least the target length).
    days : DataFrame
        Spot x day: ``minutes``, ``visits``, ``visits_of_target``, ``suggested_visits``,
        ``share`` (0-1).
    spots : DataFrame
        Per spot over the period: ``minutes``, ``visits``, ``visits_of_target``,
        ``suggested_visits`` (over the period), ``share``.
    districts : DataFrame
        Per district: spots, spots patrolled, minutes, mean share.
    settings : DoseSettings
    """

    visits: pd.DataFrame
    days: pd.DataFrame
    spots: pd.DataFrame
    districts: pd.DataFrame
    settings: DoseSettings


def dosage(spots, patrols, period, settings: DoseSettings = DoseSettings()) -> Dosage:
    """Measure the dose delivered to a list's spots in its period.

    Parameters
    ----------
    spots : GeoDataFrame
        The list (``spot_id``, ``district``, ``patrol_visits_per_day``, ``patrol_minutes``,
        polygons) in the patrols' CRS.
    patrols : Patrols
        :func:`rtm.patrols.read_patrols` into the list's CRS.
    period : Period
        Only pings in ``[period.start, period.end)`` count (pings of other days are left out).
    settings : DoseSettings

    Returns
    -------
    Dosage

    Notes
    -----
    Cost: one spatial index query over the pings and a few sorts; about a second for a
    million pings.
    """
    f = patrols.frame
    f = f[(f["time"] >= period.start) & (f["time"] < period.end)]
    spot = ping_spots(f, spots, settings.edge_m)
    iv = credited_intervals(f, spot, settings.max_ping_gap_min)
    v = visits(iv, settings.visit_gap_min)
    ids = spots["spot_id"].to_numpy()
    dist = spots["district"].to_numpy()
    suggested = spots["patrol_visits_per_day"].to_numpy(int)
    v = v.assign(spot_id=ids[v["spot"].to_numpy(int)], district=dist[v["spot"].to_numpy(int)],
                 counts=v["minutes"] >= settings.target_min - 1e-9)
    days = pd.date_range(period.start, period.end - pd.Timedelta(days=1), freq="D")
    grid = pd.MultiIndex.from_product([range(len(spots)), days], names=["spot", "day"])
    # minutes per day from the intervals (a visit over midnight is split between its days)
    iv_day = iv.assign(day=iv["start"].dt.normalize())
    per_day = pd.DataFrame(index=grid)
    per_day["minutes"] = iv_day.groupby(["spot", "day"])["minutes"].sum()
    per_day["visits"] = v.groupby(["spot", "day"]).size()
    per_day["visits_of_target"] = v[v["counts"]].groupby(["spot", "day"]).size()
    per_day = per_day.fillna(0).reset_index()
    per_day["suggested_visits"] = suggested[per_day["spot"]]
    per_day["share"] = np.minimum(per_day["visits_of_target"], per_day["suggested_visits"]) / \
        per_day["suggested_visits"].clip(lower=1)
    per_day.insert(0, "spot_id", ids[per_day["spot"]])
    per_day.insert(1, "district", dist[per_day["spot"]])
    by_spot = per_day.groupby("spot").agg(minutes=("minutes", "sum"), visits=("visits", "sum"),
                                          visits_of_target=("visits_of_target", "sum"),
                                          suggested_visits=("suggested_visits", "sum"), share=("share", "mean"))
    by_spot.insert(0, "spot_id", ids[by_spot.index])
    by_spot.insert(1, "district", dist[by_spot.index])
    by_spot.insert(2, "rank", spots["rank"].to_numpy()[by_spot.index] if "rank" in spots else by_spot.index + 1)
    by_spot = by_spot.reset_index(drop=True)
    districts = by_spot.groupby("district").agg(spots=("spot_id", "size"),
                                                spots_visited=("visits", lambda s: int((s > 0).sum())),
                                                minutes=("minutes", "sum"), visits_of_target=("visits_of_target", "sum"),
                                                suggested_visits=("suggested_visits", "sum"),
                                                share=("share", "mean")).reset_index()
    vis = v[["spot_id", "district", "unit", "start", "end", "minutes", "counts"]].sort_values(["spot_id", "start"])
    return Dosage(vis.reset_index(drop=True), per_day.drop(columns="spot"), by_spot, districts, settings)


def patrolled_harm(weeks, *, dose_share: float = 0.5) -> pd.DataFrame:
    """Harm in patrolled and unpatrolled spots, period by period (descriptive, see :data:`CAVEAT`).

    Parameters
    ----------
    weeks : iterable of (label, Dosage, harm)
        ``harm`` is a Series of the harm recorded in each spot during the period, indexed
        by ``spot_id``.
    dose_share : float
        A spot counts as patrolled when at least this share of its dose was delivered.

    Returns
    -------
    DataFrame
        One row per period and group (``patrolled``, ``unpatrolled``): ``spots``,
        ``harm``, ``harm_per_spot``; then the same over all periods (``period == "all"``).
    """
    rows = []
    for label, dose, harm in weeks:
        s = dose.spots.set_index("spot_id")
        h = harm.reindex(s.index).fillna(0.0)
        patrolled = s["share"] >= dose_share
        for name, sel in (("patrolled", patrolled), ("unpatrolled", ~patrolled)):
            rows.append({"period": label, "group": name, "spots": int(sel.sum()), "harm": float(h[sel].sum())})
    out = pd.DataFrame(rows, columns=["period", "group", "spots", "harm"])
    if len(out):
        total = out.groupby("group", sort=False)[["spots", "harm"]].sum().reset_index().assign(period="all")
        out = pd.concat([out, total[out.columns]], ignore_index=True)
    out["harm_per_spot"] = out["harm"] / out["spots"].where(out["spots"] > 0)
    return out
