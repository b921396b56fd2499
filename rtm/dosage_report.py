"""The dosage report: published lists read back, dose measured week by week, harm in
patrolled and unpatrolled spots, and the tables written as CSV, XLSX (openpyxl) and a chart.

``rtm dosage`` is a thin front over :func:`dosage_weeks` and :func:`write_report`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .dosage import CAVEAT, DoseSettings, dosage, patrolled_harm
from .errors import InputError, output_folder
from .periods import inside, month_period, week_period

NEEDED = ("spot_id", "district", "patrol_visits_per_day")
_STEM = re.compile(r"harmspots_(week|month)_(\d{4}-\d{2}(?:-\d{2})?)")


def read_list(path):
    """A published list (``harmspots_<kind>_<period>.gpkg`` or ``.geojson`` from ``rtm weekly``):
    ``(spots, period)``.

    Raises
    ------
    InputError
        The file cannot be read, lacks the list's columns, or its name does not say its period.
    """
    import geopandas as gpd
    import pyogrio

    path = Path(path)
    m = _STEM.search(path.name)
    if not m:
        raise InputError(path, "the file name does not say which week or month the list is for",
                         "give a list as published by 'rtm weekly' (e.g. harmspots_week_2019-03-04.gpkg)")
    try:
        layers = [str(n) for n, g in pyogrio.list_layers(path) if g and "Polygon" in str(g)] \
            if path.suffix.lower() == ".gpkg" else []
        spots = gpd.read_file(path, engine="pyogrio", layer=layers[0] if layers else None)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise InputError(path, f"the list cannot be read ({exc})",
                         "give the .gpkg or .geojson list written by 'rtm weekly'") from None
    missing = [c for c in NEEDED if c not in spots.columns]
    if missing:
        raise InputError(path, f"the list has no {', '.join(missing)} column", "give the list written by 'rtm weekly'",
                         field=missing[0])
    if spots.crs is None:
        raise InputError(path, "the list does not say its coordinate system", "give the list written by 'rtm weekly'")
    period = week_period(m.group(2)) if m.group(1) == "week" else month_period(m.group(2))
    return spots, period


def spot_harm(spots, frame: pd.DataFrame, period) -> pd.Series:
    """Harm recorded in each spot during ``period`` (incidents wholly inside it), by ``spot_id``."""
    import shapely

    f = frame[inside(frame, period.start, period.end)]
    tree = shapely.STRtree(spots.geometry.values)
    pt, sp = tree.query(shapely.points(f["x"].to_numpy(float), f["y"].to_numpy(float)), predicate="within")
    w = f["weight"].to_numpy(float)
    sums = np.bincount(sp, weights=w[pt], minlength=len(spots))
    return pd.Series(sums, index=spots["spot_id"].to_numpy())


@dataclass
class DosageWeeks:
    """Dose of several lists: ``weeks`` ``[(label, Dosage, spots)]`` oldest first and, with
    incidents, the ``harm`` table of :func:`rtm.dosage.patrolled_harm` (else None)."""

    weeks: list
    harm: pd.DataFrame | None


def dosage_weeks(list_paths, patrols, settings: DoseSettings = DoseSettings(), incidents=None,
                 dose_share: float = 0.5) -> DosageWeeks:
    """Measure the dose of each published list, and (given loaded incidents in the lists'
    CRS) the harm in patrolled and unpatrolled spots during each list's period."""
    loaded = sorted((read_list(p) for p in list_paths), key=lambda sp: sp[1].start)
    weeks, harm_rows = [], []
    for spots, period in loaded:
        if not spots.crs.equals(patrols.crs):
            spots = spots.to_crs(patrols.crs)
        d = dosage(spots, patrols, period, settings)
        weeks.append((period.key, d, spots))
        if incidents is not None:
            harm_rows.append((period.key, d, spot_harm(spots, incidents.frame, period)))
    return DosageWeeks(weeks, patrolled_harm(harm_rows, dose_share=dose_share) if incidents is not None else None)


def _safe(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells that Excel would read as a formula get a leading apostrophe."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r")
                                else v)
    return out


def report_tables(result: DosageWeeks) -> dict[str, pd.DataFrame]:
    """The report's tables: ``spots``, ``days``, ``visits``, ``districts`` (a ``period``
    column first) and ``harm`` when measured; minutes and shares rounded for reading."""
    parts = {"spots": [], "days": [], "visits": [], "districts": []}
    for label, d, _ in result.weeks:
        for name in parts:
            parts[name].append(getattr(d, name).assign(period=label))
    out = {}
    for name, frames in parts.items():
        t = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if len(t):
            t = t[["period"] + [c for c in t.columns if c != "period"]]
            for c in ("minutes", "harm", "harm_per_spot"):
                if c in t:
                    t[c] = t[c].astype(float).round(1)
            if "share" in t:
                t["share"] = t["share"].astype(float).round(3)
            for c in ("day", "start", "end"):
                if c in t:
                    t[c] = pd.to_datetime(t[c]).dt.strftime("%Y-%m-%d" if c == "day" else "%Y-%m-%d %H:%M")
        out[name] = t
    if result.harm is not None:
        out["harm"] = result.harm.round({"harm": 1, "harm_per_spot": 2})
    return out


def dose_chart_png(result: DosageWeeks, path) -> Path:
    """A bar chart of the delivered share of dose per district and period (matplotlib, PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = pd.concat([d.districts.assign(period=label) for label, d, _ in result.weeks], ignore_index=True)
    wide = t.pivot(index="district", columns="period", values="share").fillna(0) * 100
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(wide) * max(1, wide.shape[1]) + 2), 4), dpi=100)
    wide.plot.bar(ax=ax, width=0.8, color=plt.cm.viridis(np.linspace(0.2, 0.8, wide.shape[1])))
    ax.set_ylabel("share of suggested dose delivered (%)")
    ax.set_ylim(0, 100)
    ax.set_xlabel("district")
    ax.set_title("Patrol dose delivered\n(visits of the target length against the list's suggested visits)",
                 fontsize=10)
    ax.legend(title="period", fontsize=8)
    ax.tick_params(axis="x", rotation=0)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def write_report(result: DosageWeeks, out_dir, *, notes: list[str] = ()) -> dict[str, Path]:
    """Write ``dosage_<table>.csv`` for each table, ``dosage.xlsx`` (one sheet a table and a
    Notes sheet with the settings and the caveat), ``dosage_chart.png`` and
    ``dosage_spots.gpkg`` (the spots with their share, for GIS). Returns the paths."""
    import geopandas as gpd

    out = output_folder(out_dir)
    tables = report_tables(result)
    paths = {}
    for name, t in tables.items():
        p = out / f"dosage_{name}.csv"
        _safe(t).to_csv(p, index=False)
        paths[f"csv_{name}"] = p
    s = result.weeks[0][1].settings if result.weeks else DoseSettings()
    note_rows = [("settings", f"pings more than {s.max_ping_gap_min:g} min apart credit nothing; a visit ends after "
                              f"{s.visit_gap_min:g} min away; a visit counts from {s.target_min:g} min; spots widened "
                              f"by {s.edge_m:g} m for GPS error"),
                 ("minutes", "officer-minutes: two officers together for 15 minutes make two visits"),
                 ("share", "per day min(visits of target length, suggested visits) / suggested; per spot and "
                           "district the mean over days")]
    if "harm" in tables:
        note_rows.append(("caveat", CAVEAT))
    note_rows += [("note", n) for n in notes]
    xlsx = out / "dosage.xlsx"
    with pd.ExcelWriter(xlsx, engine="openpyxl") as xw:
        for name, t in tables.items():
            _safe(t).to_excel(xw, sheet_name=name.capitalize(), index=False)
        pd.DataFrame(note_rows, columns=["about", "text"]).to_excel(xw, sheet_name="Notes", index=False)
    paths["xlsx"] = xlsx
    if result.weeks:
        paths["chart"] = dose_chart_png(result, out / "dosage_chart.png")
        label, d, spots = result.weeks[-1]
        layer = spots[["spot_id", "district", "geometry"]].merge(
            d.spots[["spot_id", "minutes", "visits", "visits_of_target", "suggested_visits", "share"]], on="spot_id")
        gpkg = out / "dosage_spots.gpkg"
        gpd.GeoDataFrame(layer, geometry="geometry", crs=spots.crs).to_file(gpkg, layer=f"dosage_{label}",
                                                                            engine="pyogrio")
        paths["gpkg"] = gpkg
    return paths
