"""The one step every export shares: the list as a table with fixed columns, titles,
units, rounding and types.

:func:`prepare` turns a weekly list (``HarmSpotList.spots``) and its provenance into an
:class:`ExportTable`. Every format module writes that table, so a column, a title or a
rounding rule is decided here once, and a new format is a small module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..gridref import grid_references


@dataclass(frozen=True)
class Column:
    """One column of the exports.

    Attributes
    ----------
    name : str
        Machine name (CSV header, GIS field).
    title : str
        Human title with units (xlsx header, briefing), ``{recent}``, ``{year}`` and
        ``{harm}`` filled in by :func:`prepare`.
    kind : {"text", "int", "float", "bool"}
    decimals : int or None
        Rounding of floats.
    """

    name: str
    title: str
    kind: str
    decimals: int | None = None


#: The columns of every tabular export, in order. Types never depend on the values, so a
#: week with no previous list or no risk terrain has the same fields as any other.
COLUMNS = [
    Column("period", "Period", "text"),
    Column("period_start", "Period start", "text"),
    Column("period_end", "Period end (last day)", "text"),
    Column("district", "District", "text"),
    Column("rank", "Rank", "int"),
    Column("spot_id", "Spot id", "text"),
    Column("location", "Location", "text"),
    Column("streets", "Streets and places in the spot", "text"),
    Column("grid_ref", "OS grid reference", "text"),
    Column("easting", "Easting (m)", "int"),
    Column("northing", "Northing (m)", "int"),
    Column("lat", "Latitude (WGS84)", "float", 6),
    Column("lon", "Longitude (WGS84)", "float", 6),
    Column("cells", "Cells", "int"),
    Column("harm_recent", "Harm, {recent} ({harm})", "float", 1),
    Column("harm_year", "Harm, {year} ({harm})", "float", 1),
    Column("counts_by_type", "Crimes by type, {year}", "text"),
    Column("score", "Score (x the average cell)", "float", 2),
    Column("score_harm", "Score from harm", "float", 2),
    Column("score_risk", "Score from risk terrain", "float", 2),
    Column("rrs", "Relative risk score (RTM)", "float", 2),
    Column("factors_present", "Risk factors present", "text"),
    Column("hotspot_class", "Emerging hot spot class", "text"),
    Column("explanation", "Why listed", "text"),
    Column("conjunctive", "High risk and high harm", "bool"),
    Column("movement", "Movement", "text"),
    Column("previous_rank", "Previous rank", "float", 0),
    Column("weeks_on_list", "{kind}s on the list", "int"),
    Column("peak_times", "Peak times", "text"),
    Column("patrol_visits_per_day", "Patrol visits a day", "int"),
    Column("patrol_minutes", "Minutes a visit", "int"),
]
NAMES = [c.name for c in COLUMNS]


@dataclass
class ExportTable:
    """A list ready to write.

    Attributes
    ----------
    frame : pandas.DataFrame
        :data:`COLUMNS` in order, typed (int64, float64, bool, object text with ``""`` for
        none) and rounded.
    geometry : geopandas.GeoSeries
        The spot polygons in the working CRS, aligned with ``frame``.
    titles : dict of str to str
        Human titles with units.
    provenance : dict
    """

    frame: pd.DataFrame
    geometry: object
    titles: dict
    provenance: dict

    @property
    def crs(self):
        return self.geometry.crs

    def geodataframe(self, crs=None):
        """The table with its polygons as a GeoDataFrame (optionally reprojected)."""
        import geopandas as gpd

        gdf = gpd.GeoDataFrame(self.frame.copy(), geometry=self.geometry.values, crs=self.geometry.crs)
        return gdf.to_crs(crs) if crs is not None and len(gdf) and gdf.crs is not None else gdf

    def centres_lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        """Longitude and latitude of each spot's centre."""
        return self.frame["lon"].to_numpy(float), self.frame["lat"].to_numpy(float)

    def districts(self) -> list[str]:
        """Districts in the order they first appear."""
        return list(dict.fromkeys(self.frame["district"]))


def harm_unit(provenance: dict) -> str:
    """The unit of the harm columns: ``CCHI days``, ``incidents`` or ``harm weight``."""
    scheme = str(provenance.get("weights", "cchi")).lower()
    if scheme == "count":
        return "incidents"
    return "CCHI days" if scheme in ("cchi", "") else "harm weight"


def windows(provenance: dict) -> tuple[str, str]:
    """Labels of the two harm windows: 4 and 52 weeks, or 1 and 12 months for monthly lists."""
    if provenance.get("period_kind") == "month":
        return "last month", "last 12 months"
    return "last 4 weeks", "last 52 weeks"


def titles(provenance: dict) -> dict[str, str]:
    """Human titles of :data:`COLUMNS` for this list's period kind and harm unit."""
    recent, year = windows(provenance)
    kind = "Month" if provenance.get("period_kind") == "month" else "Week"
    return {c.name: c.title.format(recent=recent, year=year, harm=harm_unit(provenance), kind=kind) for c in COLUMNS}


def _last_day(provenance: dict) -> str:
    end = provenance.get("period_end")
    if not end:
        return ""
    try:
        return f"{pd.Timestamp(end) - pd.Timedelta(days=1):%Y-%m-%d}"
    except ValueError:
        return str(end)


def _text(values) -> list[str]:
    return ["" if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else str(v) for v in values]


def prepare(spots, provenance: dict) -> ExportTable:
    """The list as the exports write it.

    Parameters
    ----------
    spots : geopandas.GeoDataFrame
        ``HarmSpotList.spots`` (or any frame with some of its columns; missing ones are
        filled: text ``""``, numbers NaN/0, ``grid_ref`` from ``easting``/``northing`` in
        British National Grid).
    provenance : dict
        Gives ``period``, ``period_start``, ``period_end`` (exclusive; the table shows the
        last day), ``period_kind`` and ``weights`` (for titles and units).

    Returns
    -------
    ExportTable

    Notes
    -----
    Rounding: scores and the RRS 2 decimals, harm 1, latitude/longitude 6 (about 10 cm),
    grid metres whole. Column-wise numpy work; negligible next to any writer.
    """
    import geopandas as gpd

    n = len(spots)
    src = pd.DataFrame(spots.drop(columns=[spots.geometry.name]) if isinstance(spots, gpd.GeoDataFrame)
                       else spots).reset_index(drop=True)
    fixed = {"period": str(provenance.get("period", "")), "period_start": str(provenance.get("period_start", "")),
             "period_end": _last_day(provenance)}
    out = {}
    for c in COLUMNS:
        if c.name in fixed and c.name not in src:
            out[c.name] = [fixed[c.name]] * n
            continue
        values = src[c.name] if c.name in src else None
        if c.name == "grid_ref" and (values is None or not any(_text(values))):
            crs = getattr(spots, "crs", None)
            values = grid_references(src["easting"], src["northing"], crs) if "easting" in src and n else [""] * n
        if c.kind == "text":
            out[c.name] = _text(values) if values is not None else [""] * n
        elif c.kind == "bool":
            out[c.name] = (np.asarray(values, dtype=bool) if values is not None else np.zeros(n, bool))
        else:
            arr = pd.to_numeric(pd.Series(values if values is not None else [np.nan] * n, dtype=object),
                                errors="coerce").to_numpy(float) if n else np.zeros(0)
            if c.kind == "int":
                arr = np.where(np.isfinite(arr), np.rint(arr), 0).astype(np.int64)
            else:
                arr = np.round(arr, c.decimals) if c.decimals is not None else arr
                arr = np.where(np.isfinite(arr), arr, np.nan)
            out[c.name] = arr
    frame = pd.DataFrame(out, columns=NAMES)
    for c in COLUMNS:
        frame[c.name] = frame[c.name].astype({"text": object, "bool": bool, "int": np.int64,
                                              "float": np.float64}[c.kind])
    geometry = spots.geometry.reset_index(drop=True) if isinstance(spots, gpd.GeoDataFrame) \
        else gpd.GeoSeries([None] * n)
    return ExportTable(frame, geometry, titles(provenance), dict(provenance))


# -- short texts of a spot for labels and descriptions -------------------------------------
def fmt(value, spec: str, missing: str = "-") -> str:
    """``value`` formatted with ``spec``; ``missing`` for None/NaN."""
    try:
        if value is None or value is pd.NA or not math.isfinite(float(value)):
            return missing
    except (TypeError, ValueError):
        return str(value)
    return format(value, spec)


def text(value, missing: str = "") -> str:
    """A text cell for display: ``missing`` for None, NaN and empty text."""
    if value is None or value is pd.NA or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return missing
    return str(value) or missing


def district_label(name) -> str:
    """A district as people say it: a bare number (Chicago's "12") becomes "District 12"."""
    name = text(name, "")
    return f"District {name}" if name.isdigit() else name


def spot_name(row) -> str:
    """The label of a spot on devices and maps: ``Southend-on-Sea #1 On or near High Street``."""
    rank = fmt(row.get("rank"), ".0f", "?")
    return " ".join(p for p in (district_label(row.get("district")), f"#{rank}", text(row.get("location"), ""))
                    if p).strip()


def patrol_text(row) -> str:
    """``3 visits a day, 15 min each``."""
    visits, minutes = row.get("patrol_visits_per_day"), row.get("patrol_minutes")
    if visits is None and minutes is None:
        return "-"
    n = fmt(visits, ".0f")
    return f"{n} visit{'' if n == '1' else 's'} a day, {fmt(minutes, '.0f')} min each"


def movement_text(row, kind: str = "week") -> str:
    """``up (was #4); 3 weeks on the list``."""
    movement = text(row.get("movement"), "")
    prev = row.get("previous_rank")
    if movement and fmt(prev, ".0f", "") != "":
        movement += f" (was #{fmt(prev, '.0f')})"
    weeks = fmt(row.get("weeks_on_list"), ".0f", "")
    if weeks:
        movement += f"; {weeks} {kind}{'s' if weeks != '1' else ''} on the list"
    return movement or "-"


def key_facts(row, provenance: dict) -> list[tuple[str, str]]:
    """(label, text) pairs of a spot's description: where, score, harm, crimes, peak times, patrol dose."""
    recent, year = windows(provenance)
    unit = harm_unit(provenance)
    kind = "month" if provenance.get("period_kind") == "month" else "week"
    return [
        ("Grid reference", text(row.get("grid_ref"), "-")),
        ("Lat, lon", f"{fmt(row.get('lat'), '.6f')}, {fmt(row.get('lon'), '.6f')}"),
        ("Streets", text(row.get("streets"), "-")),
        ("Score", f"{fmt(row.get('score'), '.2f')} (harm {fmt(row.get('score_harm'), '.2f')}, "
                  f"risk {fmt(row.get('score_risk'), '.2f')})"),
        (f"Harm, {recent}", f"{fmt(row.get('harm_recent'), ',.1f')} {unit}"),
        (f"Harm, {year}", f"{fmt(row.get('harm_year'), ',.1f')} {unit}"),
        ("Crimes", text(row.get("counts_by_type"), "-")),
        ("Risk factors", text(row.get("factors_present"), "-")),
        ("Peak times", text(row.get("peak_times"), "-")),
        ("Patrol dose", patrol_text(row)),
        ("Movement", movement_text(row, kind)),
        ("Why", text(row.get("explanation"), "-")),
    ]
