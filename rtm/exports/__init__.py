"""Exports of a weekly harm-spot list, one module per format over one prepared table.

:func:`rtm.exports.table.prepare` makes the table every format writes (columns, titles
with units, rounding, types); each module writes it: :mod:`.csv_file` (CSV with GDAL
sidecars), :mod:`.xlsx`, :mod:`.geojson`, :mod:`.geopackage` (GeoPackage 1.2 with a
QGIS style), :mod:`.kml`, :mod:`.gpx`, :mod:`.briefing` (content and HTML) with
:mod:`.pdf` and :mod:`.maps`, :mod:`.geotiff` (the project's one GeoTIFF writer, COG)
and :mod:`.styles` (QGIS QML). Provenance travels beside the data: a
``<stem>.provenance.json`` sidecar, a sheet, a table, metadata, an appendix.

The functions here take the list as :func:`rtm.weekly.build_list` makes it
(``HarmSpotList.spots``) and its provenance, and return bytes (for the app's download
buttons); :func:`write_exports` writes every file. ``docs/exports.md`` describes them.
"""

from __future__ import annotations

from pathlib import Path

from . import briefing as _briefing
from .csv_file import csvt_bytes, prj_bytes, read_csv_bytes
from .geotiff import geotiff_bytes, write_cog
from .styles import raster_qml
from .table import COLUMNS, ExportTable, prepare, spot_name
from .text import excel_safe, excel_unsafe, provenance_json, provenance_sidecar

DEFAULT_MARKING = _briefing.DEFAULT_MARKING

__all__ = ["COLUMNS", "DEFAULT_MARKING", "ExportTable", "briefing_files", "briefing_html", "briefing_pdf", "csv_bytes", "excel_safe",
           "excel_unsafe", "geojson_bytes", "geopackage_bytes", "geotiff_bytes", "gpx_bytes", "kml_bytes", "prepare",
           "provenance_json", "provenance_sidecar", "read_csv_bytes", "spot_name", "write_cog", "write_exports",
           "xlsx_bytes"]


def csv_bytes(spots, provenance: dict) -> bytes:
    """The list as CSV, header on row 1 (:func:`rtm.exports.csv_file.csv_bytes`)."""
    from .csv_file import csv_bytes as write

    return write(prepare(spots, provenance))


def xlsx_bytes(spots, provenance: dict) -> bytes:
    """The list as an Excel workbook (:func:`rtm.exports.xlsx.xlsx_bytes`)."""
    from .xlsx import xlsx_bytes as write

    return write(prepare(spots, provenance), provenance.get("notes") if isinstance(provenance.get("notes"), list)
                 else None)


def geojson_bytes(spots, provenance: dict) -> bytes:
    """The list as RFC 7946 GeoJSON (:func:`rtm.exports.geojson.geojson_bytes`)."""
    from .geojson import geojson_bytes as write

    return write(prepare(spots, provenance))


def geopackage_bytes(spots, provenance: dict) -> bytes:
    """The list as a GeoPackage 1.2 (:func:`rtm.exports.geopackage.geopackage_bytes`)."""
    from .geopackage import geopackage_bytes as write

    return write(prepare(spots, provenance))


def kml_bytes(spots, provenance: dict) -> bytes:
    """The list as KML with a pin and a square per spot (:func:`rtm.exports.kml.kml_bytes`)."""
    from .kml import kml_bytes as write

    return write(prepare(spots, provenance))


def gpx_bytes(spots, provenance: dict) -> bytes:
    """The list as GPX: waypoints and outline routes (:func:`rtm.exports.gpx.gpx_bytes`)."""
    from .gpx import gpx_bytes as write

    return write(prepare(spots, provenance))


def _content(spots, provenance, districts, places, marking, generated, title, streets=None):
    return _briefing.briefing_content(prepare(spots, provenance), districts, places, marking=marking,
                                      generated=generated, title=title, streets=streets)


def briefing_html(spots, provenance: dict, districts=None, *, places=None, marking: str = DEFAULT_MARKING,
                  generated: str | None = None, title: str = "Harm spots briefing") -> bytes:
    """The briefing as self-contained HTML (:func:`rtm.exports.briefing.briefing_html`)."""
    return _briefing.briefing_html(_content(spots, provenance, districts, places, marking, generated, title))


def briefing_pdf(spots, provenance: dict, districts=None, *, places=None, marking: str = DEFAULT_MARKING,
                 generated: str | None = None, title: str = "Harm spots briefing") -> bytes:
    """The briefing as an A4 PDF (:func:`rtm.exports.pdf.briefing_pdf`)."""
    from .pdf import briefing_pdf as write

    return write(_content(spots, provenance, districts, places, marking, generated, title))


def briefing_files(spots, provenance: dict, districts=None, *, places=None, streets=None,
                   marking: str = DEFAULT_MARKING, generated: str | None = None,
                   title: str = "Harm spots briefing") -> tuple[bytes, bytes]:
    """The briefing as ``(pdf, html)`` bytes, the maps drawn once for both (``streets``:
    named street lines drawn on the maps, e.g. ``HarmSpotList.street_lines``)."""
    from .pdf import briefing_pdf as write

    content = _content(spots, provenance, districts, places, marking, generated, title, streets)
    return write(content), _briefing.briefing_html(content)


def write_exports(spots, provenance: dict, out_dir, *, stem: str, grid=None, surfaces: dict | None = None,
                  districts=None, places=None, streets=None, marking: str = DEFAULT_MARKING,
                  generated: str | None = None, title: str = "Harm spots briefing") -> dict[str, Path]:
    """Write every export of a weekly list into ``out_dir``.

    Parameters
    ----------
    spots, provenance
        The list and its provenance.
    out_dir : path
        Created if missing; files of the same names are replaced.
    stem : str
        File name stem, e.g. ``harmspots_week_2019-01-07``.
    grid, surfaces : optional
        The surfaces GeoTIFF (COG) and its QGIS style are written only with both.
    districts : GeoDataFrame, optional
        Outlines for the briefing maps (``name`` column).
    places : DataFrame, optional
        Street context for the briefing maps (``HarmSpotList.places``).
    streets : GeoDataFrame, optional
        Named street lines drawn on the briefing maps (``HarmSpotList.street_lines``).
    marking : str
        Protective marking of the briefing (default ``OFFICIAL``).
    generated : str, optional
        The briefing's "generated" date (default today).

    Returns
    -------
    dict of str -> Path
        ``csv`` (``{stem}.csv`` with ``csvt`` and ``prj`` sidecars), ``provenance``
        (``{stem}.provenance.json``), ``xlsx``, ``geojson``, ``gpkg``, ``kml``, ``gpx``,
        ``briefing`` (``{stem}_briefing.html``), ``briefing_pdf`` (``{stem}_briefing.pdf``)
        and, with surfaces, ``tif`` (``{stem}_surfaces.tif``) and ``tif_style``
        (``{stem}_surfaces.qml``).

    Notes
    -----
    The table is prepared once and the briefing's maps drawn once for both briefings;
    the maps dominate the time (about 0.5-1 s a district).
    """
    from . import csv_file, geojson, geopackage, gpx, kml, pdf, xlsx

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = prepare(spots, provenance)
    notes = provenance.get("notes") if isinstance(provenance.get("notes"), list) else None
    content = _briefing.briefing_content(table, districts, places, marking=marking, generated=generated, title=title,
                                         streets=streets)
    made = {
        "csv": (f"{stem}.csv", lambda: csv_file.csv_bytes(table)),
        "csvt": (f"{stem}.csvt", csvt_bytes),
        "prj": (f"{stem}.prj", prj_bytes),
        "provenance": (f"{stem}.provenance.json", lambda: provenance_sidecar(provenance)),
        "xlsx": (f"{stem}.xlsx", lambda: xlsx.xlsx_bytes(table, notes)),
        "geojson": (f"{stem}.geojson", lambda: geojson.geojson_bytes(table)),
        "gpkg": (f"{stem}.gpkg", lambda: geopackage.geopackage_bytes(table)),
        "kml": (f"{stem}.kml", lambda: kml.kml_bytes(table)),
        "gpx": (f"{stem}.gpx", lambda: gpx.gpx_bytes(table)),
        "briefing": (f"{stem}_briefing.html", lambda: _briefing.briefing_html(content)),
        "briefing_pdf": (f"{stem}_briefing.pdf", lambda: pdf.briefing_pdf(content)),
    }
    paths = {}
    for key, (name, build) in made.items():
        path = out / name
        path.write_bytes(build())
        paths[key] = path
    if grid is not None and surfaces:
        paths["tif"] = write_cog(out / f"{stem}_surfaces.tif", grid, surfaces, provenance=provenance)
        first = next(iter(surfaces))
        style = out / f"{stem}_surfaces.qml"
        style.write_text(raster_qml(surfaces[first], band=1, label=first), encoding="utf-8")
        paths["tif_style"] = style
    return paths
