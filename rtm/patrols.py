"""Reading patrol locations: GPX tracks (hand-held GPS) and CSV pings (radio or app location).

Every row or track point is either used or rejected with a reason, and the counts add up
(:class:`PatrolReport`). A file that cannot be used at all raises
:class:`~rtm.errors.InputError` naming the file, the column, the problem and the fix.

CSV pings need an officer or unit id, a time, and either longitude/latitude or
easting/northing (x/y) in any CRS (given, or inferred from the values: longitude/latitude
or British National Grid). Column names are matched without regard to case, spaces or
underscores; the ``columns`` argument names them when the guesses do not fit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import coords
from .errors import InputError

ROLE_NAMES = {
    "unit": ("unit", "unitid", "officer", "officerid", "callsign", "device", "deviceid", "id", "collar", "shoulder",
             "resource", "resourceid", "vehicle"),
    "time": ("time", "timestamp", "datetime", "dateandtime", "recorded", "recordedat", "fixtime", "gpstime", "when"),
    "lon": ("lon", "long", "longitude", "lng"),
    "lat": ("lat", "latitude"),
    "x": ("x", "easting", "east", "eastings"),
    "y": ("y", "northing", "north", "northings"),
}
REASONS = {
    "no_time": "the time is missing or not a date-time",
    "no_location": "the coordinates are missing or not numbers",
    "off_map": "the coordinates are not valid in their coordinate system",
    "no_unit": "the officer or unit id is missing",
    "duplicate": "the same unit at the same time was already read (a repeated ping)",
}


@dataclass
class PatrolReport:
    """Accounting of patrol files: ``rows_in == rows_used + sum(rejected.values())``."""

    rows_in: int = 0
    rows_used: int = 0
    rejected: dict = field(default_factory=dict)
    files: list = field(default_factory=list)

    def add(self, reason: str, n: int = 1) -> None:
        if n:
            self.rejected[reason] = self.rejected.get(reason, 0) + int(n)

    def lines(self) -> list[str]:
        out = [f"Patrol pings: {self.rows_in:,} in, {self.rows_used:,} used"]
        out += [f"  rejected {n:,}: {REASONS[r]}" for r, n in sorted(self.rejected.items())]
        return out


@dataclass
class Patrols:
    """Patrol pings in a metric CRS.

    Attributes
    ----------
    frame : DataFrame
        ``unit``, ``time`` (naive local time), ``x``, ``y``, ``source_file``, ``source_row``;
        sorted by unit and time, repeated pings removed.
    crs : pyproj.CRS
    report : PatrolReport
    rejects : DataFrame
        ``file``, ``row``, ``reason``.
    """

    frame: pd.DataFrame
    crs: object
    report: PatrolReport
    rejects: pd.DataFrame


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _find(columns, role: str, given: str | None, source) -> str | None:
    if given:
        if given not in columns:
            raise InputError(source, f"there is no column '{given}' (columns: {', '.join(map(str, columns))})",
                             "name a column the file has", field=given)
        return given
    keys = {_key(c): c for c in columns}
    for name in ROLE_NAMES[role]:
        if name in keys:
            return keys[name]
    return None


def _local(times: pd.Series, tz: str) -> pd.Series:
    """Aware times converted to ``tz`` and made naive; naive times are taken as local already."""
    if getattr(times.dt, "tz", None) is not None:
        return times.dt.tz_convert(tz).dt.tz_localize(None)
    return times


def _parse_times(text: pd.Series, tz: str, dayfirst: bool) -> pd.Series:
    """ISO 8601 first (never read day-first), then other layouts (``dd/mm/yyyy hh:mm``);
    times with an offset are converted to ``tz``, times without one are local already."""
    has_offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True, na=False)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for aware in (False, True):
        part = text[has_offset == aware]
        if not len(part):
            continue
        t = pd.to_datetime(part, errors="coerce", format="ISO8601", utc=aware)
        rest = t.isna()
        if rest.any():
            t[rest] = pd.to_datetime(part[rest], errors="coerce", format="mixed", dayfirst=dayfirst, utc=aware)
        out[part.index] = _local(t, tz).astype("datetime64[ns]").to_numpy() if len(t) else t
    return out


def read_csv_pings(path, *, columns: dict | None = None, crs=None, tz: str = "Europe/London",
                   dayfirst: bool = True) -> tuple[pd.DataFrame, object]:
    """Pings of one CSV file: ``(rows, crs)`` with ``unit``, ``time``, ``x``, ``y`` (in the
    file's CRS, NaN where unusable) and ``row`` (1-based data row; the header is row 1 of
    the file, so a spreadsheet shows data row ``k`` on line ``k + 1``)."""
    columns = columns or {}
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"the file cannot be read as CSV ({type(exc).__name__}: {exc})",
                         "save the pings as a comma-separated text file with a header row") from None
    cols = list(raw.columns)
    unit = _find(cols, "unit", columns.get("unit"), path)
    time = _find(cols, "time", columns.get("time"), path)
    lon, lat = _find(cols, "lon", columns.get("lon"), path), _find(cols, "lat", columns.get("lat"), path)
    x, y = _find(cols, "x", columns.get("x"), path), _find(cols, "y", columns.get("y"), path)
    if unit is None:
        raise InputError(path, f"no column says which officer or unit each ping is from (columns: {', '.join(cols)})",
                         "add a column such as 'unit' or 'officer_id', or name it with the unit column option")
    if time is None:
        raise InputError(path, f"no column holds the time of each ping (columns: {', '.join(cols)})",
                         "add a column such as 'time' (e.g. 2019-03-04 14:05:30), or name it with the time column option")
    if lon and lat:
        xc, yc, declared = lon, lat, crs or coords.WGS84
    elif x and y:
        xc, yc, declared = x, y, crs
    else:
        raise InputError(path, f"no coordinate columns found (columns: {', '.join(cols)})",
                         "add longitude and latitude columns, or easting and northing (x, y) with their CRS")
    xs = pd.to_numeric(raw[xc].str.strip(), errors="coerce").to_numpy(float)
    ys = pd.to_numeric(raw[yc].str.strip(), errors="coerce").to_numpy(float)
    try:
        crs_in, _ = coords.infer_crs(xs, ys, str(path), declared=declared, columns=(xc, yc))
    except InputError as exc:  # its advice names the incident options; say it for pings
        raise InputError(path, exc.problem, "give the pings' coordinate system (the patrol CRS setting, e.g. "
                         "EPSG:27700), or check the x/y (easting/northing) or longitude/latitude columns",
                         field=exc.field or xc) from None
    out = pd.DataFrame({"unit": raw[unit].str.strip(), "time": _parse_times(raw[time].str.strip(), tz, dayfirst),
                        "x": xs, "y": ys, "row": np.arange(1, len(raw) + 1)})
    return out, crs_in


def read_gpx_pings(path, *, tz: str = "Europe/London") -> tuple[pd.DataFrame, object]:
    """Track points of a GPX file (gpxpy): ``unit`` is the track's name (else the file name),
    ``row`` the point's number in the file (1-based, over all tracks and segments)."""
    import gpxpy
    import gpxpy.gpx

    try:
        with open(path, encoding="utf-8") as fh:
            gpx = gpxpy.parse(fh)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"the file cannot be read ({exc})", "give a GPX file exported by the GPS device") from None
    except gpxpy.gpx.GPXException as exc:
        raise InputError(path, f"the file is not valid GPX ({exc})",
                         "export the track again from the device as GPX 1.0 or 1.1") from None
    recs = []
    for track in gpx.tracks:
        name = (track.name or "").strip() or Path(path).stem
        for seg in track.segments:
            for pt in seg.points:
                recs.append((name, pt.time, pt.longitude, pt.latitude))
    if not recs:
        raise InputError(path, "the file holds no track points (waypoints and routes carry no patrol times)",
                         "export the recorded track, not the route or waypoints")
    unit, when, lon, lat = zip(*recs)
    times = pd.Series([pd.Timestamp(t) if t is not None else pd.NaT for t in when])
    times = pd.to_datetime(times, utc=True) if any(getattr(t, "tzinfo", None) for t in when if t) else \
        pd.to_datetime(times)
    out = pd.DataFrame({"unit": list(unit), "time": _local(times, tz), "x": np.array(lon, float),
                        "y": np.array(lat, float), "row": np.arange(1, len(recs) + 1)})
    return out, coords.WGS84


def _check_zone(tz: str) -> None:
    """Refuse a time zone name the tz database does not hold (``Mars/Base``); returns None.
    dateutil's own copy of the database is asked too: Windows has none without ``tzdata``."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from dateutil import tz as dateutil_tz

    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        if dateutil_tz.gettz(str(tz)) is not None:
            return
        raise InputError("", f"'{tz}' is not a time zone name", "give one from the tz database, e.g. "
                         "Europe/London", field="timezone", field_kind="setting") from None


def read_patrols(paths, working_crs, *, columns: dict | None = None, crs=None, tz: str = "Europe/London",
                 dayfirst: bool = True) -> Patrols:
    """Read GPX and CSV patrol files into one set of pings in ``working_crs``.

    Parameters
    ----------
    paths : list of str or Path
        ``.gpx`` files and CSV files (any other suffix is read as CSV).
    working_crs : CRS-like
        The list's CRS (metres).
    columns : dict, optional
        CSV column names by role: ``unit``, ``time``, ``lon``, ``lat``, ``x``, ``y``.
    crs : CRS-like, optional
        CRS of CSV x/y coordinates (default: inferred; lon/lat columns are WGS84).
    tz : str
        Local time zone: times with an offset (GPX is UTC) are converted to it; times
        without one are taken as local.
    dayfirst : bool
        Read ``dd/dd/yyyy`` as day/month.

    Returns
    -------
    Patrols

    Notes
    -----
    Rows are rejected (and counted) for a missing time, unit or coordinates, coordinates
    invalid in their CRS, and repeats of the same unit at the same time (duplicate pings).
    Out-of-order rows are sorted. Cost: linear in the pings, plus one projection per file.
    An unknown ``tz`` raises InputError (setting ``timezone``) before any file is read.
    """
    _check_zone(tz)
    if not paths:
        raise InputError("", "no patrol file was given", "give GPX tracks or CSV pings", field="patrols",
                         field_kind="setting")
    report = PatrolReport()
    used, rejects = [], []
    wcrs = coords.to_crs(working_crs)
    for path in map(Path, paths):
        if not path.exists():
            raise InputError(path, "the file does not exist", "check the path")
        if path.suffix.lower() == ".gpx":
            rows, crs_in = read_gpx_pings(path, tz=tz)
        else:
            rows, crs_in = read_csv_pings(path, columns=columns, crs=crs, tz=tz, dayfirst=dayfirst)
        report.rows_in += len(rows)
        report.files.append({"file": path.name, "rows": len(rows), "crs": crs_in.to_string()})
        reason = pd.Series("", index=rows.index, dtype=object)
        reason[rows["time"].isna()] = "no_time"
        reason[(reason == "") & ~(np.isfinite(rows["x"]) & np.isfinite(rows["y"]))] = "no_location"
        ok = (reason == "").to_numpy()
        valid = np.zeros(len(rows), bool)
        valid[ok] = coords.valid_mask(rows["x"].to_numpy()[ok], rows["y"].to_numpy()[ok], crs_in)
        reason[(reason == "") & ~valid] = "off_map"
        reason[(reason == "") & (rows["unit"].fillna("") == "")] = "no_unit"
        keep = rows[reason == ""].copy()
        if len(keep):
            keep["x"], keep["y"] = coords.project(keep["x"].to_numpy(), keep["y"].to_numpy(), crs_in, wcrs)
        keep["source_file"] = path.name
        used.append(keep)
        bad = rows[reason != ""]
        rejects.append(pd.DataFrame({"file": path.name, "row": bad["row"], "reason": reason[reason != ""]}))
    frame = pd.concat(used, ignore_index=True).rename(columns={"row": "source_row"})
    frame = frame.sort_values(["unit", "time", "source_file", "source_row"], kind="stable")
    dup = frame.duplicated(["unit", "time"], keep="first")
    rejects.append(pd.DataFrame({"file": frame.loc[dup, "source_file"], "row": frame.loc[dup, "source_row"],
                                 "reason": "duplicate"}))
    frame = frame[~dup].reset_index(drop=True)
    rej = pd.concat(rejects, ignore_index=True)
    for r, n in rej["reason"].value_counts().items():
        report.add(r, n)
    report.rows_used = len(frame)
    if not len(frame):
        raise InputError(paths[0], "no patrol ping is usable (" + "; ".join(report.lines()[1:]).strip() + ")",
                         "check the time and coordinate columns")
    return Patrols(frame[["unit", "time", "x", "y", "source_file", "source_row"]], wcrs, report, rej)
