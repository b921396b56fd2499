"""Published lists of a workspace, as the weekly run (or the app's *Publish this list*) left
them: the periods in its archive (:class:`rtm.archive.Archive`) and each period's files in
``lists/<period>/``. Only read here, never made: downloads are those files, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from app_pages.datasets import Dataset, make_period
from rtm.archive import Archive
from rtm.periods import Period
from rtm.publish import stem_of

DOWNLOADS = [  # (label, file name after the stem, MIME type), in the order the buttons are shown
    ("Briefing (PDF)", "_briefing.pdf", "application/pdf"),
    ("Excel workbook", ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("CSV", ".csv", "text/csv"),
    ("Briefing (HTML)", "_briefing.html", "text/html"),
    ("GPX (GPS devices)", ".gpx", "application/gpx+xml"),
    ("KML (pins and squares)", ".kml", "application/vnd.google-earth.kml+xml"),
    ("GeoPackage (QGIS)", ".gpkg", "application/geopackage+sqlite3"),
    ("GeoJSON", ".geojson", "application/geo+json"),
    ("Provenance (JSON)", ".provenance.json", "application/json"),
    ("Surfaces (GeoTIFF)", "_surfaces.tif", "image/tiff"),
    ("Surfaces style (QGIS)", "_surfaces.qml", "application/xml"),
]


def archive_of(ds: Dataset) -> Archive | None:
    """The workspace's archive, or None for a data set that is not a workspace."""
    return Archive(ds.workspace.archive_path) if ds.workspace is not None else None


def published_periods(ds: Dataset) -> list[Period]:
    """Periods of ``ds``'s kind with a list in the workspace's archive, newest first (one
    SQLite query; empty outside a workspace or before the first publish)."""
    archive = archive_of(ds)
    if archive is None:
        return []
    table = archive.periods()
    keys = table.loc[table["period_kind"] == ds.kind, "period_key"]
    return [make_period(ds.kind, k) for k in sorted(keys, reverse=True)]


def published_files(ds: Dataset, period: Period) -> list[tuple[str, Path, str]]:
    """``(label, path, mime)`` of every file published for ``period`` that is present in the
    workspace's ``lists/<period>/`` folder, in :data:`DOWNLOADS` order; empty when the period
    was not published there."""
    if ds.workspace is None:
        return []
    folder = ds.workspace.lists_dir / period.key
    stem = stem_of(period)
    out = []
    for label, suffix, mime in DOWNLOADS:
        path = folder / f"{stem}{suffix}"
        if path.is_file():
            out.append((label, path, mime))
    return out


def published_table(ds: Dataset, period: Period) -> pd.DataFrame:
    """The period's published list as its CSV says it (every column of the export), or the
    archive's spots when the CSV is missing."""
    csv = ds.workspace.lists_dir / period.key / f"{stem_of(period)}.csv"
    if csv.is_file():
        return pd.read_csv(csv, encoding="utf-8-sig", dtype={"district": str})
    return archive_of(ds).spots_of(period.kind, period.key)


def side_by_side(ds: Dataset, this: Period, last: Period, districts=None) -> pd.DataFrame:
    """Two published lists compared (:func:`rtm.archive.compare_lists`): every spot of either
    with ``status`` kept, new or gone, its rank in each, and where it is (the location of
    the list that has it). ``districts`` limits it to those districts."""
    from rtm.archive import compare_lists

    archive = archive_of(ds)
    a = archive.spots_of(this.kind, this.key, districts)
    b = archive.spots_of(last.kind, last.key, districts)
    table = compare_lists(a, b)
    places = {}
    for period in (last, this):  # this list's location wins where both have the spot
        try:
            t = published_table(ds, period)
        except (OSError, ValueError):
            continue
        if "location" in t.columns:
            places.update(dict(zip(t["spot_id"], t["location"])))
    table.insert(2, "location", table["spot_id"].map(places))
    return table
