"""Exports of a weekly harm-spot list: CSV, GeoJSON, GeoPackage, KML, GeoTIFF and an HTML briefing.

Every function takes the list (a GeoDataFrame, one row per harm spot, in the working CRS)
and a ``provenance`` dict (str keys, JSON-serialisable values; no creation time) and
returns the file as ``bytes`` with the provenance written into it, so the Streamlit app can
hand the bytes to a download button and the CLI can write them to disk
(:func:`write_exports`). An empty list (a district with no harm) gives valid, empty files.

Where the provenance lives, the Excel-safety rule and the precision of each format are in
``docs/exports.md``.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

#: Layer (GeoPackage) and collection name of the harm spots.
LAYER = "harm_spots"

#: Decimal places of longitude/latitude in GeoJSON and KML (1e-7 degree is about 1 cm).
LONLAT_DECIMALS = 7

#: A text cell that starts with one of these gets one ``'`` in front in the CSV. ``= + - @``
#: tab and CR start a formula in Excel/LibreOffice (OWASP "CSV injection"); LF is added for
#: good measure, and ``'`` itself so that the rule can be undone exactly (see
#: :func:`excel_unsafe`).
EXCEL_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n", "'")

_CSV_RULE = ("text cells that began with = + - @ tab CR LF or ' have one ' added in front; "
             "empty cells are missing values")

# Characters XML 1.0 cannot carry (C0 controls other than tab, LF, CR; lone surrogates; U+FFFE/F).
_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_KML_NS = "http://www.opengis.net/kml/2.2"


# -- provenance as text -------------------------------------------------------------------
def _plain(value):
    """``value`` with numpy scalars, tuples, paths and non-finite floats made plain JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def provenance_json(provenance: dict) -> str:
    """The provenance as compact JSON with sorted keys (the same dict always gives the same text)."""
    return json.dumps(_plain(dict(provenance)), sort_keys=True, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":"))


def _prov_value(value) -> str:
    """One provenance value on one line: a printable string as it is, anything else as JSON."""
    value = _plain(value)
    if isinstance(value, str) and value.isprintable():
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)


def _prov_lines(provenance: dict) -> list[tuple[str, str]]:
    """(key, value) pairs of the provenance in the caller's key order, each one line of text."""
    return [(_prov_value(str(k)), _prov_value(v)) for k, v in provenance.items()]


# -- CSV ------------------------------------------------------------------------------------
def excel_safe(text: str) -> str:
    """``text`` with a ``'`` in front when it starts with a character of :data:`EXCEL_DANGEROUS`."""
    return "'" + text if text.startswith(EXCEL_DANGEROUS) else text


def excel_unsafe(text: str) -> str:
    """Undo :func:`excel_safe`: drop one leading ``'``."""
    return text[1:] if text.startswith("'") else text


def _csv_cell(value) -> str:
    """One CSV cell: numbers as numbers (shortest round-trip form), text made Excel-safe."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        # Non-finite numbers are left empty: "-inf" would read as a formula in Excel.
        return repr(float(value)) if math.isfinite(value) else ""
    return excel_safe(str(value))


def _attributes(spots) -> pd.DataFrame:
    """The spots' columns without the geometry, in their order."""
    import geopandas as gpd

    if isinstance(spots, gpd.GeoDataFrame) and spots.geometry.name in spots.columns:
        spots = spots.drop(columns=[spots.geometry.name])
    return pd.DataFrame(spots)


def csv_bytes(spots, provenance: dict) -> bytes:
    """The harm-spot table as a CSV file for Excel, provenance first.

    Parameters
    ----------
    spots : geopandas.GeoDataFrame or pandas.DataFrame
        The weekly list; the geometry column is left out, every other column is written in
        its order.
    provenance : dict
        Written first, one ``# key: value`` line each in the dict's order (strings as they
        are; lists, dicts and strings with line breaks as JSON on one line).

    Returns
    -------
    bytes
        UTF-8 with a byte-order mark (so Excel does not read it as the local code page),
        CRLF line ends, comma-separated, quoted only where needed. Numbers are written in
        Python's shortest round-trip form (``repr``), so the same values always give the
        same bytes; missing and non-finite numbers are empty; booleans are TRUE/FALSE. Any
        text cell, header or provenance value starting with ``= + - @``, tab, CR, LF or
        ``'`` gets one ``'`` in front (:func:`excel_safe`), so Excel never evaluates it;
        the provenance lines start with ``#`` and are one cell each. A last
        ``# csv_text_rule:`` line states the rule.

    Notes
    -----
    One pass over the rows in Python: about 1 ms per 100 spots.
    """
    table = _attributes(spots)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for key, value in _prov_lines(provenance):
        writer.writerow([f"# {key}: {value}"])
    writer.writerow([f"# csv_text_rule: {_CSV_RULE}"])
    writer.writerow([excel_safe(str(c)) for c in table.columns])
    for row in table.itertuples(index=False, name=None):
        writer.writerow([_csv_cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig", errors="replace")


def read_csv_bytes(data: bytes, *, restore_text: bool = True) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read a CSV written by :func:`csv_bytes` back: the table and the provenance lines.

    Parameters
    ----------
    data : bytes
    restore_text : bool
        Undo the Excel-safety quote in text columns (:func:`excel_unsafe`) and headers.

    Returns
    -------
    (DataFrame, dict)
        The table as pandas parses it (only empty cells are missing: text such as "NA" or
        "None" stays text) and the ``# key: value`` lines as a dict of strings (including
        ``csv_text_rule``).
    """
    text = data.decode("utf-8-sig")
    provenance: dict[str, str] = {}
    lines = text.split("\r\n")
    skip = 0
    for line in lines:  # provenance lines never contain a raw line break
        if not line.startswith(("#", '"#')):
            break
        cell = next(csv.reader([line]))[0]
        key, _, value = cell[2:].partition(": ")
        provenance[key] = value
        skip += 1
    table = pd.read_csv(io.StringIO("\r\n".join(lines[skip:])), keep_default_na=False, na_values=[""])
    if restore_text:
        table.columns = [excel_unsafe(c) for c in table.columns]
        for col in table.columns:
            if not (pd.api.types.is_numeric_dtype(table[col]) or pd.api.types.is_bool_dtype(table[col])):
                table[col] = table[col].map(lambda v: excel_unsafe(v) if isinstance(v, str) else v)
    return table, provenance


# -- GeoJSON and GeoPackage (GDAL through pyogrio) ------------------------------------------
def _geometry_type(spots) -> str | None:
    """Geometry type to declare for pyogrio: needed when there are no geometries to infer it from."""
    return None if len(spots) else "Polygon"


def geojson_bytes(spots, provenance: dict) -> bytes:
    """The harm spots as an RFC 7946 GeoJSON FeatureCollection in WGS84.

    Parameters
    ----------
    spots : geopandas.GeoDataFrame
        In any CRS; reprojected to EPSG:4326 (longitude, latitude) with pyproj.
    provenance : dict

    Returns
    -------
    bytes
        UTF-8 JSON written by GDAL's GeoJSON driver (through pyogrio) in RFC 7946 mode:
        exterior rings counter-clockwise, coordinates rounded to :data:`LONLAT_DECIMALS`
        decimals, properties in column order (floats lossless, NaN as ``null``) and the
        provenance as the top-level foreign member ``"provenance"`` (keys sorted). The
        same list gives the same bytes.

    Notes
    -----
    Cost: one reprojection and one GDAL write, a few milliseconds for a weekly list.
    """
    import pyogrio

    wgs84 = spots.to_crs(4326)
    members = json.dumps({"provenance": json.loads(provenance_json(provenance))}, ensure_ascii=False)
    buf = io.BytesIO()
    pyogrio.write_dataframe(wgs84, buf, driver="GeoJSON", layer=LAYER, geometry_type=_geometry_type(spots),
                            RFC7946="YES", COORDINATE_PRECISION=LONLAT_DECIMALS, WRITE_NAME="YES",
                            FOREIGN_MEMBERS_COLLECTION=members)
    return buf.getvalue()


def geopackage_bytes(spots, provenance: dict) -> bytes:
    """The harm spots as an OGC GeoPackage in the working CRS, with the provenance inside.

    Parameters
    ----------
    spots : geopandas.GeoDataFrame
    provenance : dict

    Returns
    -------
    bytes
        A GeoPackage with two tables, written by GDAL through pyogrio:

        * ``harm_spots``: the spots, MultiPolygon, in ``spots.crs``. Its GDAL layer
          metadata holds ``PROVENANCE`` (the JSON of :func:`provenance_json`) and
          ``DESCRIPTION`` (product and period, shown by QGIS as the layer description).
        * ``provenance``: an attribute table (no geometry) with ``key`` and ``value``
          columns, one row per provenance entry, readable in QGIS or any SQLite tool.

    Notes
    -----
    Written to a temporary folder and read back into memory (GDAL needs a real file to
    add the second table). Not byte-identical between runs: SQLite and GDAL record the
    write time in ``gpkg_contents``.
    """
    import pyogrio

    description = " ".join(str(provenance.get(k, "")) for k in ("product", "period")).strip()
    metadata = {"PROVENANCE": provenance_json(provenance)}
    if description:
        metadata["DESCRIPTION"] = description
    table = pd.DataFrame(_prov_lines(provenance), columns=["key", "value"])
    with tempfile.TemporaryDirectory(prefix="rtm-gpkg-") as tmp:
        path = Path(tmp) / "export.gpkg"
        pyogrio.write_dataframe(spots, path, driver="GPKG", layer=LAYER, geometry_type="MultiPolygon",
                                promote_to_multi=True, layer_metadata=metadata)
        pyogrio.write_dataframe(table, path, driver="GPKG", layer="provenance")
        return path.read_bytes()


# -- KML ------------------------------------------------------------------------------------
def _xml_text(value) -> str:
    """Text XML 1.0 can carry: characters it forbids become U+FFFD."""
    return _XML_INVALID.sub("\ufffd", str(value))


def _sub(parent, tag: str, text=None, **attrib):
    el = ET.SubElement(parent, f"{{{_KML_NS}}}{tag}", {k: _xml_text(v) for k, v in attrib.items()})
    if text is not None:
        el.text = _xml_text(text)
    return el


def _kml_value(value) -> str:
    """A value as KML ExtendedData text (numbers as in the CSV, missing as empty)."""
    if value is None or value is pd.NA or (isinstance(value, (float, np.floating)) and not math.isfinite(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def _ring_text(ring) -> str:
    return " ".join(f"{x:.{LONLAT_DECIMALS}f},{y:.{LONLAT_DECIMALS}f}" for x, y in np.asarray(ring.coords)[:, :2])


def _kml_polygon(parent, polygon) -> None:
    el = _sub(parent, "Polygon")
    _sub(el, "tessellate", "1")
    _sub(_sub(_sub(el, "outerBoundaryIs"), "LinearRing"), "coordinates", _ring_text(polygon.exterior))
    for hole in polygon.interiors:
        _sub(_sub(_sub(el, "innerBoundaryIs"), "LinearRing"), "coordinates", _ring_text(hole))


def _kml_geometry(parent, geom) -> None:
    import shapely

    if geom is None or geom.is_empty:
        return
    geom = shapely.orient_polygons(geom)  # exterior counter-clockwise, holes clockwise
    parts = list(getattr(geom, "geoms", [geom]))
    target = _sub(parent, "MultiGeometry") if len(parts) > 1 else parent
    for part in parts:
        if part.geom_type == "Polygon":
            _kml_polygon(target, part)


def _fmt(value, spec: str, missing: str = "-") -> str:
    """``value`` formatted with ``spec``; ``missing`` for None/NaN."""
    try:
        if value is None or value is pd.NA or not math.isfinite(float(value)):
            return missing
    except (TypeError, ValueError):
        return str(value)
    return format(value, spec)


def _text(value, missing: str = "") -> str:
    """A text cell for display: ``missing`` for None, NaN and empty text."""
    if value is None or value is pd.NA or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return missing
    return str(value) or missing


def spot_name(row) -> str:
    """The label of a spot on devices and maps: ``District #rank location``."""
    rank = _fmt(row.get("rank"), ".0f", "?")
    return " ".join(p for p in (_text(row.get("district"), ""), f"#{rank}",
                                _text(row.get("location"), "")) if p).strip()


def _patrol(row) -> str:
    visits, minutes = row.get("patrol_visits_per_day"), row.get("patrol_minutes")
    if visits is None and minutes is None:
        return "-"
    return f"{_fmt(visits, '.0f')} visits a day, {_fmt(minutes, '.0f')} min each"


def _windows(provenance: dict) -> tuple[str, str]:
    """Labels of the two harm windows: 4 and 52 weeks, or 1 and 12 months for monthly lists."""
    if provenance.get("period_kind") == "month":
        return "last month", "last 12 months"
    return "last 4 weeks", "last 52 weeks"


def _key_facts(row, windows: tuple[str, str] = ("last 4 weeks", "last 52 weeks")) -> list[tuple[str, str]]:
    """(label, text) pairs for a spot's description: score, harm, peak times, patrol dose."""
    movement = _text(row.get("movement"), "")
    prev = row.get("previous_rank")
    if movement and _fmt(prev, ".0f", "") != "":
        movement += f" (was #{_fmt(prev, '.0f')})"
    return [
        ("Score", f"{_fmt(row.get('score'), '.3f')} (harm {_fmt(row.get('score_harm'), '.3f')}, "
                  f"risk {_fmt(row.get('score_risk'), '.3f')})"),
        (f"Harm, {windows[0]}", _fmt(row.get("harm_recent"), ",.0f")),
        (f"Harm, {windows[1]}", _fmt(row.get("harm_year"), ",.0f")),
        ("Crimes", _text(row.get("counts_by_type"), "-")),
        ("Risk factors", _text(row.get("factors_present"), "-")),
        ("Peak times", _text(row.get("peak_times"), "-")),
        ("Patrol dose", _patrol(row)),
        ("Movement", movement or "-"),
        ("Why", _text(row.get("explanation"), "-")),
    ]


def kml_bytes(spots, provenance: dict) -> bytes:
    """The harm spots as KML 2.2 for Google Earth, phones and in-car devices.

    Parameters
    ----------
    spots : geopandas.GeoDataFrame
        Reprojected to WGS84 with pyproj.
    provenance : dict

    Returns
    -------
    bytes
        UTF-8 XML: a ``Document`` named after the product and period whose description
        lists the provenance and whose ``ExtendedData`` holds one ``Data`` element per
        provenance key (nested values as JSON); a red outline style; one ``Folder`` per
        district; one ``Placemark`` per spot named ``District #rank location`` with an
        HTML description of the key facts (score, harm, crimes, factors, peak times, patrol
        dose, movement), ``ExtendedData`` with every column, and the polygon (or a
        ``MultiGeometry`` of polygons), coordinates ``lon,lat`` with
        :data:`LONLAT_DECIMALS` decimals, exterior rings counter-clockwise.

    Notes
    -----
    Written with :mod:`xml.etree.ElementTree`, which escapes all text. Description text is
    also HTML-escaped, because KML viewers render descriptions as HTML. Characters XML
    1.0 forbids (control characters) become U+FFFD. GDAL's KML drivers were not used: they
    cannot put ExtendedData on the Document or fix the coordinate precision.
    """
    ET.register_namespace("", _KML_NS)
    root = ET.Element(f"{{{_KML_NS}}}kml")
    doc = _sub(root, "Document")
    title = " ".join(str(provenance.get(k, "")) for k in ("product", "period")).strip() or "Harm spots"
    _sub(doc, "name", title)
    _sub(doc, "description", "<br/>".join(f"<b>{html.escape(k)}</b>: {html.escape(v)}"
                                          for k, v in _prov_lines(provenance)))
    extended = _sub(doc, "ExtendedData")
    for key, value in _prov_lines(provenance):
        _sub(_sub(extended, "Data", name=key), "value", value)
    style = _sub(doc, "Style", id="spot")
    line = _sub(style, "LineStyle")
    _sub(line, "color", "ff0000e6")
    _sub(line, "width", "2")
    _sub(_sub(style, "PolyStyle"), "color", "590000e6")

    wgs84 = spots.to_crs(4326) if len(spots) and spots.crs is not None else spots
    columns = [c for c in wgs84.columns if c != wgs84.geometry.name]
    folders: dict[str, ET.Element] = {}
    for geom, (_, row) in zip(wgs84.geometry.values, wgs84[columns].iterrows()):
        district = _text(row.get("district"), "")
        if district not in folders:
            folders[district] = _sub(doc, "Folder")
            _sub(folders[district], "name", district or "Harm spots")
        mark = _sub(folders[district], "Placemark")
        _sub(mark, "name", spot_name(row))
        _sub(mark, "styleUrl", "#spot")
        _sub(mark, "description", "<br/>".join(f"<b>{html.escape(k)}</b>: {html.escape(v)}"
                                               for k, v in _key_facts(row, _windows(provenance))))
        data = _sub(mark, "ExtendedData")
        for col in columns:
            _sub(_sub(data, "Data", name=str(col)), "value", _kml_value(row[col]))
        _kml_geometry(mark, geom)
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


# -- GeoTIFF --------------------------------------------------------------------------------
def geotiff_bytes(grid, layers: dict, provenance: dict) -> bytes:
    """Surfaces of the run's grid as one multi-band float32 GeoTIFF.

    Parameters
    ----------
    grid : rtm.grid.Grid
        Gives the transform, CRS, shape and study-area mask.
    layers : dict of str -> ndarray
        Band name -> array of ``grid.shape`` (e.g. ``harm_surface``, ``risk_terrain``,
        ``score``), written as bands 1, 2, ... in the dict's order.
    provenance : dict

    Returns
    -------
    bytes
        A deflate-compressed (floating-point predictor) float32 GeoTIFF in the grid's CRS.
        Cells outside ``grid.mask`` and NaN cells are nodata (NaN). Band descriptions are
        the layer names (each band also has a ``name`` tag); the dataset's GDAL metadata
        holds ``PROVENANCE`` (JSON, keys sorted) and each top-level provenance key as text.

    Raises
    ------
    ValueError
        No layer, an empty name, or an array of the wrong shape.

    Notes
    -----
    Built in a rasterio ``MemoryFile``; memory is about 4 bytes per cell per layer twice.
    """
    from rasterio.crs import CRS
    from rasterio.io import MemoryFile

    if not layers:
        raise ValueError("geotiff_bytes needs at least one layer")
    bands = []
    for name, array in layers.items():
        if not str(name).strip():
            raise ValueError("every layer needs a name")
        array = np.asarray(array, dtype=np.float32)
        if array.shape != grid.shape:
            raise ValueError(f"layer {name!r} has shape {array.shape} but the grid is {grid.shape}")
        bands.append((str(name), np.where(np.asarray(grid.mask, bool), array, np.float32(np.nan))))
    crs = CRS.from_wkt(grid.crs.to_wkt()) if hasattr(grid.crs, "to_wkt") else CRS.from_user_input(grid.crs)
    tags = {"PROVENANCE": provenance_json(provenance)}
    for key, value in _prov_lines(provenance):
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) and key.upper() != "PROVENANCE":
            tags[key] = value
    profile = dict(driver="GTiff", height=grid.shape[0], width=grid.shape[1], count=len(bands),
                   dtype="float32", crs=crs, transform=grid.transform, nodata=np.nan,
                   compress="deflate", predictor=3)
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.update_tags(**tags)
            for i, (name, array) in enumerate(bands, start=1):
                dst.write(array, i)
                dst.set_band_description(i, name)
                dst.update_tags(i, name=name)
        return bytes(mem.read())


# -- HTML briefing --------------------------------------------------------------------------
_BRIEFING_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#222;margin:0 auto;
max-width:70rem;padding:0 1rem;line-height:1.35}
h1{font-size:1.5rem;margin:.8rem 0 .2rem}h2{font-size:1.25rem;margin:.4rem 0}
table{border-collapse:collapse;margin:.5rem 0;font-size:.82rem;width:100%}
th,td{border:1px solid #bbb;padding:.2rem .4rem;text-align:left;vertical-align:top}
th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#555;font-size:.85rem}img{max-width:100%;height:auto;border:1px solid #ccc}
section.district{break-before:page;page-break-before:always}
@page{size:A4 landscape;margin:12mm}
@media print{body{max-width:none;font-size:9pt}tr{break-inside:avoid}img{max-height:105mm}}
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _draw_map(ax, spots, outline, extent, *, labels: bool) -> None:
    """Outline, spot polygons and (optionally) rank numbers on ``ax``, in km, clipped to ``extent``."""
    from matplotlib import patheffects

    km = 1000.0
    if outline is not None and not outline.is_empty:
        for line in getattr(outline.boundary, "geoms", [outline.boundary]):
            xy = np.asarray(line.coords)
            ax.plot(xy[:, 0] / km, xy[:, 1] / km, color="#444444", linewidth=0.8)
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]
    ranks = spots["rank"] if "rank" in spots else [None] * len(spots)
    for geom, rank in zip(spots.geometry.values, ranks):
        if geom is None or geom.is_empty:
            continue
        for part in getattr(geom, "geoms", [geom]):
            xy = np.asarray(part.exterior.coords)
            ax.fill(xy[:, 0] / km, xy[:, 1] / km, facecolor="#e6000088", edgecolor="#a00000", linewidth=0.8)
        if labels:
            p = geom.representative_point()
            ax.text(p.x / km, p.y / km, _fmt(rank, ".0f", "?"), fontsize=8, fontweight="bold", ha="center",
                    va="center", color="#000000", path_effects=halo, parse_math=False, clip_on=True)
    minx, miny, maxx, maxy = extent
    ax.set_xlim(minx / km, maxx / km)
    ax.set_ylim(miny / km, maxy / km)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("easting (km)")
    ax.set_ylabel("northing (km)")
    ax.tick_params(labelsize=7)
    ax.grid(True, color="#dddddd", linewidth=0.5)


def district_map_png(spots, outline=None, *, width_in: float = 10.0, dpi: int = 100) -> bytes:
    """A PNG map of one district's harm spots: outline, spot polygons and rank numbers.

    Parameters
    ----------
    spots : geopandas.GeoDataFrame
        The district's spots, in the working CRS (metres).
    outline : shapely geometry, optional
        The district polygon in the same CRS.
    width_in, dpi : float, int

    Returns
    -------
    bytes
        PNG without software metadata. With an outline, two panels: the whole district
        (outline, spots, and a box showing the close-up) and a close-up of the spots
        (at least 1.2 km across) with their rank numbers; without one, the close-up alone.
        Axes are easting/northing in km of the working CRS; no basemap. Drawn on a
        standalone matplotlib ``Figure`` with the Agg canvas (no pyplot, no global backend
        switch), about 0.3-1 s for a district of 20 spots.
    """
    import shapely
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    geoms = [g for g in spots.geometry.values if g is not None and not g.is_empty]
    has_outline = outline is not None and not outline.is_empty
    if geoms:
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    elif has_outline:
        minx, miny, maxx, maxy = outline.bounds
    else:
        minx, miny, maxx, maxy = 0.0, 0.0, 1000.0, 1000.0
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half = max(maxx - minx, maxy - miny, 1200.0) / 2 + 250.0
    zoom = (cx - half, cy - half, cx + half, cy + half)
    fig = Figure(figsize=(width_in, width_in * (0.45 if has_outline else 0.8)))
    FigureCanvasAgg(fig)
    if has_outline:
        overview, close = fig.subplots(1, 2)
        ox0, oy0, ox1, oy1 = outline.bounds
        pad = 0.03 * max(ox1 - ox0, oy1 - oy0)
        _draw_map(overview, spots, outline, (min(ox0, zoom[0]) - pad, min(oy0, zoom[1]) - pad,
                                             max(ox1, zoom[2]) + pad, max(oy1, zoom[3]) + pad), labels=False)
        overview.add_patch(Rectangle((zoom[0] / 1000, zoom[1] / 1000), 2 * half / 1000, 2 * half / 1000,
                                     fill=False, edgecolor="#0050c8", linewidth=1.2))
        overview.set_title("District", fontsize=9)
        close.set_title("Close-up (blue box)", fontsize=9)
    else:
        close = fig.subplots()
    _draw_map(close, spots, outline, zoom, labels=True)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _briefing_table(spots, windows: tuple[str, str]) -> str:
    headers = ["#", "Location", f"Harm, {windows[0]}", f"Harm, {windows[1]}", "Crimes", "Risk factors",
               "Peak times", "Patrol dose", "Movement"]
    numeric = {0, 2, 3}
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    rows = []
    for _, row in spots.iterrows():
        facts = dict(_key_facts(row, windows))
        cells = [_fmt(row.get("rank"), ".0f", "?"), _text(row.get("location"), "-"),
                 facts[f"Harm, {windows[0]}"], facts[f"Harm, {windows[1]}"], facts["Crimes"],
                 facts["Risk factors"], facts["Peak times"], facts["Patrol dose"], facts["Movement"]]
        rows.append("<tr>" + "".join(f'<td class="n">{_e(c)}</td>' if i in numeric else f"<td>{_e(c)}</td>"
                                     for i, c in enumerate(cells)) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _district_order(spots, districts) -> list[str]:
    """Districts of the outlines in their order, then any other district of the spots, sorted."""
    names = [str(n) for n in districts["name"]] if districts is not None else []
    extra = sorted({str(d) for d in spots["district"]} - set(names)) if "district" in spots and len(spots) else []
    return names + extra


def briefing_html(spots, provenance: dict, districts=None, *, title: str = "Harm spots briefing") -> bytes:
    """A printable, self-contained HTML briefing: a cover, then one page per district.

    Parameters
    ----------
    spots : geopandas.GeoDataFrame
        The weekly list in the working CRS (needs ``district`` and ``rank``; the other
        columns of the contract are shown when present).
    provenance : dict
        Summarised on the cover (every key, nested values as JSON).
    districts : geopandas.GeoDataFrame, optional
        Outlines with a ``name`` column (``Areas.frame``), reprojected to the spots' CRS
        if needed. Every named district gets a page, also one without spots ("No harm
        spots this period"); without outlines, each district of the spots gets a page.
    title : str

    Returns
    -------
    bytes
        UTF-8 HTML5 for A4 landscape: each district is a ``<section class="district">``
        starting a new printed page, with a map (PNG as a base64 data URI: outline, spot
        polygons, rank numbers, axes in km) and a table (rank, location, harm, crimes,
        factors, peak times, patrol dose, movement). No script, no external resource; all
        text escaped with :func:`html.escape`.

    Notes
    -----
    Cost is dominated by the maps: about 0.3-1 s and 30-90 kB per district with spots.
    """
    if districts is not None and spots.crs is not None and districts.crs is not None and districts.crs != spots.crs:
        districts = districts.to_crs(spots.crs)
    outlines = {str(n): g for n, g in zip(districts["name"], districts.geometry.values)} if districts is not None else {}
    n_spots = len(spots)
    cover = [f"<h1>{_e(title)}</h1>"]
    if provenance.get("period"):
        cover.append(f"<p><b>Period:</b> {_e(provenance['period'])}</p>")
    order = _district_order(spots, districts)
    cover.append(f"<p>{n_spots} harm spot{'s' if n_spots != 1 else ''} in {len(order)} "
                 f"district{'s' if len(order) != 1 else ''}.</p>")
    cover.append("<table><tbody>" + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>"
                                            for k, v in _prov_lines(provenance)) + "</tbody></table>")
    sections = []
    for name in order:
        mine = spots[spots["district"].astype(str) == name] if n_spots else spots.iloc[:0]
        if "rank" in mine:
            mine = mine.sort_values("rank", kind="stable")
        body = [f"<h2>{_e(name)}</h2>"]
        if provenance.get("period"):
            body.append(f'<p class="muted">{_e(provenance["period"])}</p>')
        if len(mine):
            png = base64.b64encode(district_map_png(mine, outlines.get(name))).decode("ascii")
            body.append(f'<img alt="Map of the harm spots in {_e(name)}" src="data:image/png;base64,{png}">')
            body.append(_briefing_table(mine, _windows(provenance)))
        else:
            body.append("<p>No harm spots this period.</p>")
        sections.append(f'<section class="district">{"".join(body)}</section>')
    doc = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
           f"<style>{_BRIEFING_CSS}</style></head><body>\n"
           f'<section class="cover">{"".join(cover)}</section>\n' + "\n".join(sections) + "\n</body></html>\n")
    return doc.encode("utf-8")


# -- everything at once ---------------------------------------------------------------------
def write_exports(spots, provenance: dict, out_dir, *, stem: str, grid=None, surfaces: dict | None = None,
                  districts=None, title: str = "Harm spots briefing") -> dict[str, Path]:
    """Write every export of a weekly list into ``out_dir``.

    Parameters
    ----------
    spots, provenance
        As for the single exports.
    out_dir : path
        Created if missing; existing files of the same names are replaced.
    stem : str
        File name stem, e.g. ``harmspots_2019-01-07``.
    grid, surfaces : optional
        The GeoTIFF is written only when both are given (see :func:`geotiff_bytes`).
    districts : GeoDataFrame, optional
        Outlines for the briefing maps.

    Returns
    -------
    dict of str -> Path
        ``csv``, ``geojson``, ``gpkg``, ``kml``, ``briefing`` and, with surfaces, ``tif``:
        ``{stem}.csv``, ``.geojson``, ``.gpkg``, ``.kml``, ``.tif`` and ``{stem}_briefing.html``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    made = {
        "csv": (f"{stem}.csv", lambda: csv_bytes(spots, provenance)),
        "geojson": (f"{stem}.geojson", lambda: geojson_bytes(spots, provenance)),
        "gpkg": (f"{stem}.gpkg", lambda: geopackage_bytes(spots, provenance)),
        "kml": (f"{stem}.kml", lambda: kml_bytes(spots, provenance)),
        "briefing": (f"{stem}_briefing.html", lambda: briefing_html(spots, provenance, districts, title=title)),
    }
    if grid is not None and surfaces:
        made["tif"] = (f"{stem}.tif", lambda: geotiff_bytes(grid, surfaces, provenance))
    paths = {}
    for key, (name, build) in made.items():
        path = out / name
        path.write_bytes(build())
        paths[key] = path
    return paths
