"""Street names on an offline map: something to orient by when there are no basemap tiles.

Two sources, both local:

* the incident data itself: police.uk snaps each crime to an anonymised map point with its
  text, "On or near High Street", so every distinct (text, point) pair is a labelled place on
  a street (:func:`street_points`);
* a streets file the workspace names (``[streets] file``, ``name_field``): named lines, read
  by :func:`read_streets` (any vector format pyogrio reads) and labelled once per name every
  few hundred metres (:func:`line_labels`).

:func:`add_street_names` draws the labels as one switchable layer, "Street names", that shows
its labels only at street zoom (:data:`LABEL_MIN_ZOOM` and closer): a Leaflet ``zoomend``
handler adds them to the layer or takes them off, so at county scale the map is not covered
in text and the browser holds no label elements. Labels are plain, non-interactive text
(HTML-escaped here) in the marker pane, below the harm spots' pane.
"""

from __future__ import annotations

import html
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from .errors import InputError
from .mapgeo import COORD_DECIMALS, to_wgs84

LABEL_MIN_ZOOM = 15
"""The first zoom level at which street labels show (street scale: about 5 m a pixel)."""
MAX_LABELS = 4000
"""At most this many labels per map (an evenly spread subset beyond): a map stays quick to draw."""
LINE_LABEL_SPACING_M = 400.0
"""A named street gets one label per this many metres of its length (at least one)."""
SAME_NAME_M = 250.0
"""Labels of the same street closer than this (metres) are shown once."""
ANY_LABEL_M = 60.0
"""No two labels closer than this (metres): at street zoom they would overlap."""
_PREFIX = "on or near "


def street_text(location) -> str:
    """The street part of a police.uk location: ``"On or near High Street"`` -> ``"High Street"``;
    other text is returned stripped; None/NaN give ``""``."""
    if location is None or (isinstance(location, float) and np.isnan(location)) or location is pd.NA:
        return ""
    text = " ".join(str(location).split())
    if text.lower().startswith(_PREFIX):
        text = text[len(_PREFIX):].strip()
    return text


def street_points(frame: pd.DataFrame, crs) -> gpd.GeoDataFrame:
    """One labelled point per distinct street point of the incidents.

    Takes the incidents' ``frame`` (:class:`rtm.incidents.Incidents`, with ``x``/``y`` in
    ``crs`` and a ``location`` column as police.uk gives it) and its CRS. Returns a
    GeoDataFrame with ``label`` (the street, without "On or near") and ``incidents`` (how many
    incidents name that point), one row per distinct (label, point), most used first; empty
    when the data has no ``location`` column. Costs one group-by over the incidents.
    """
    if "location" not in frame or not len(frame):
        return gpd.GeoDataFrame({"label": [], "incidents": []}, geometry=[], crs=crs)
    f = pd.DataFrame({"label": frame["location"].astype("string").fillna("").map(street_text),
                      "x": frame["x"].to_numpy(float), "y": frame["y"].to_numpy(float)})
    f = f[(f["label"] != "") & np.isfinite(f["x"]) & np.isfinite(f["y"])]
    g = f.groupby(["label", "x", "y"], sort=False).size().rename("incidents").reset_index()
    g = g.sort_values(["incidents", "label"], ascending=[False, True], kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(g[["label", "incidents"]], geometry=gpd.points_from_xy(g["x"], g["y"]), crs=crs)


def read_streets(path, name_field: str, crs=None, *, key: str | None = None) -> gpd.GeoDataFrame:
    """Read a streets file: named lines.

    Takes the file (GeoPackage, GeoJSON, Shapefile or a zip of one, FlatGeobuf: anything
    pyogrio reads), the column holding each street's name, the CRS to return it in (None
    keeps the file's) and ``key``, the setting that named the file (e.g. ``streets.file``),
    used in messages. Returns a GeoDataFrame of the line features with a name, with
    ``name_field`` kept. Reads the whole file once.

    Raises
    ------
    InputError
        The file cannot be read, has no CRS, has no ``name_field`` column (the message lists
        the columns it has), no line features, or no line with a name.
    """
    where = Path(path).name
    setting = f" (set by {key})" if key else ""
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's problem
        raise InputError(where, f"the streets file{setting} cannot be read as map data ({type(exc).__name__})",
                         "give the streets as a GeoPackage, GeoJSON, FlatGeobuf or (zipped) Shapefile") from None
    if name_field not in frame.columns:
        cols = ", ".join(str(c) for c in frame.columns if c != "geometry") or "none"
        raise InputError(where, f"the streets file has no column '{name_field}' (its columns: {cols})",
                         "name the column holding street names (name_field = ...)", field=name_field)
    if frame.crs is None:
        raise InputError(where, "the streets file has no coordinate reference system",
                         "save it with its CRS (e.g. EPSG:27700) in QGIS")
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    lines = frame[frame.geom_type.isin(["LineString", "MultiLineString"])]
    if not len(lines):
        kinds = ", ".join(sorted(set(frame.geom_type))) or "no features"
        raise InputError(where, f"the streets file holds no lines ({kinds})",
                         "give a file of street centre lines")
    names = lines[name_field].astype("string").fillna("").str.strip()
    lines = lines[names != ""]
    if not len(lines):
        raise InputError(where, f"no street in the file has a name in '{name_field}'",
                         "name the column holding street names (name_field = ...)", field=name_field)
    lines = lines[[name_field, "geometry"]].reset_index(drop=True)
    return lines.to_crs(crs) if crs is not None else lines


def line_labels(lines: gpd.GeoDataFrame, name_field: str, spacing_m: float = LINE_LABEL_SPACING_M
                ) -> gpd.GeoDataFrame:
    """Label points along named lines: for each name, one point per ``spacing_m`` of its
    total length (at least one), at the middle of its longest pieces.

    Takes lines in a metric CRS (a geographic one is measured in a local UTM zone) and the
    name column. Returns a GeoDataFrame with ``label`` and ``incidents`` (0), in the lines'
    CRS. Costs one pass over the lines.
    """
    if not len(lines):
        return gpd.GeoDataFrame({"label": [], "incidents": []}, geometry=[], crs=lines.crs)
    metric = lines if lines.crs is None or lines.crs.is_projected else lines.to_crs(lines.estimate_utm_crs())
    parts = metric[[name_field, "geometry"]].explode(index_parts=False)
    parts = parts.assign(length=parts.geometry.length, label=parts[name_field].astype(str).str.strip())
    rows = []
    for name, group in parts.groupby("label", sort=True):
        k = max(1, int(group["length"].sum() // spacing_m))
        for geom in group.sort_values("length", ascending=False).geometry.iloc[:k]:
            rows.append((name, geom.interpolate(0.5, normalized=True)))
    out = gpd.GeoDataFrame({"label": [r[0] for r in rows], "incidents": 0},
                           geometry=[r[1] for r in rows], crs=metric.crs)
    return out.to_crs(lines.crs) if metric is not lines else out


def thin_labels(points: gpd.GeoDataFrame, same_m: float = SAME_NAME_M, any_m: float = ANY_LABEL_M) -> gpd.GeoDataFrame:
    """Keep labels that can be read: in row order (most used first), a label is kept unless a
    kept label of the same text lies within ``same_m`` metres or any kept label within ``any_m``.

    Takes points with a ``label`` column in a metric CRS (a geographic one is measured in a
    local UTM zone). Returns the kept rows, in order. Costs one pass with a grid index.
    """
    if len(points) < 2:
        return points
    metric = points if points.crs is None or points.crs.is_projected else points.to_crs(points.estimate_utm_crs())
    geoms = metric.geometry.representative_point()
    xs, ys, texts = geoms.x.to_numpy(), geoms.y.to_numpy(), metric["label"].astype(str).to_numpy()
    cell: dict[tuple[int, int], list[int]] = {}
    same: dict[str, list[int]] = {}
    keep = []
    for i in range(len(xs)):
        cx, cy = int(xs[i] // any_m), int(ys[i] // any_m)
        near = [j for dx in (-1, 0, 1) for dy in (-1, 0, 1) for j in cell.get((cx + dx, cy + dy), ())]
        if any((xs[j] - xs[i]) ** 2 + (ys[j] - ys[i]) ** 2 < any_m ** 2 for j in near):
            continue
        if any((xs[j] - xs[i]) ** 2 + (ys[j] - ys[i]) ** 2 < same_m ** 2 for j in same.get(texts[i], ())):
            continue
        keep.append(i)
        cell.setdefault((cx, cy), []).append(i)
        same.setdefault(texts[i], []).append(i)
    return points.iloc[keep]


class StreetLabels(MacroElement):
    """The labels of a "Street names" layer, shown only at street zoom (see the module text).

    Added as a child of a ``folium.FeatureGroup`` on the map; ``points`` are
    ``[lat, lon, escaped text]`` rows.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function (group, map, points, minZoom) {
            var labels = L.layerGroup();
            points.forEach(function (p) {
                var icon = L.divIcon({className: 'rtm-street-label', iconSize: null, html:
                    '<span style="position:absolute;transform:translate(-50%,-50%);white-space:nowrap;'
                    + 'font:600 11px/1.2 sans-serif;color:#333;text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff">'
                    + p[2] + '</span>'});
                L.marker([p[0], p[1]], {icon: icon, interactive: false, keyboard: false}).addTo(labels);
            });
            function sync() {
                var near = map.getZoom() >= minZoom;
                if (near && !group.hasLayer(labels)) { group.addLayer(labels); }
                if (!near && group.hasLayer(labels)) { group.removeLayer(labels); }
            }
            map.on('zoomend', sync);
            sync();
        })({{ this._parent.get_name() }}, {{ this.map_name }}, {{ this.points|tojson }}, {{ this.min_zoom }});
        {% endmacro %}
    """)

    def __init__(self, map_name: str, points: list, min_zoom: int = LABEL_MIN_ZOOM):
        super().__init__()
        self._name = "StreetLabels"
        self.map_name = map_name
        self.points = points
        self.min_zoom = int(min_zoom)


def add_street_names(m, labels: gpd.GeoDataFrame, *, name: str = "Street names (zoom in to read)",
                     within=None, min_zoom: int = LABEL_MIN_ZOOM, cap: int = MAX_LABELS, show: bool = True):
    """Add street labels to ``m`` as one switchable layer, readable from ``min_zoom`` on.

    Takes the map, points with a ``label`` column (:func:`street_points`, :func:`line_labels`,
    or both concatenated), ``within`` (a shapely geometry in the labels' CRS: only labels
    inside it are kept), ``min_zoom`` and ``cap`` (at most this many labels: the first rows,
    most used first when from :func:`street_points`). Labels too close to be read are left
    out (:func:`thin_labels`). Labels are HTML-escaped.

    Returns ``(layer, drawn)``: the ``folium.FeatureGroup`` and the number of labels; no layer
    (None, 0) when there is no label to show, so the layer is offered only where it covers
    the data.
    """
    import folium

    pts = labels[labels.geometry.notna() & ~labels.geometry.is_empty]
    if within is not None and len(pts):
        pts = pts[pts.geometry.intersects(within)]
    pts = thin_labels(pts)
    if len(pts) > cap:
        pts = pts.iloc[:cap]
    if not len(pts):
        return None, 0
    if not (pts.geom_type == "Point").all():
        pts = pts.set_geometry(pts.geometry.representative_point())
    ll = to_wgs84(pts)
    lat = np.round(ll.geometry.y.to_numpy(), COORD_DECIMALS)
    lon = np.round(ll.geometry.x.to_numpy(), COORD_DECIMALS)
    rows = [[float(a), float(b), html.escape(str(t), quote=True)] for a, b, t in zip(lat, lon, ll["label"])]
    group = folium.FeatureGroup(name=name, show=show)
    group.add_child(StreetLabels(m.get_name(), rows, min_zoom))
    group.add_to(m)
    return group, len(rows)
