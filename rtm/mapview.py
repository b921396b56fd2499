"""Folium layers for the app's harm-spot map: spots, surfaces, boundaries and points.

Everything here turns library results (a :class:`rtm.weekly.HarmSpotList`, an
:class:`rtm.areas.Areas`, attractor :class:`rtm.layers.Layer` frames, incidents) into
layers of an :func:`rtm.webmap.offline_map`, so the app's pages only call
:func:`build_map` and hand the result to ``st_folium``. Nothing here fits, scores or
selects anything.

Only elements that work with no internet are used (see ``docs/offline.md``): GeoJSON layers
with popups and tooltips, circle markers, PNG image overlays carried inside the page as
``data:`` URIs, and :func:`rtm.webmap.add_legend`. Every piece of text that reaches a popup
or a tooltip is HTML-escaped here, because Leaflet inserts it as HTML.

Surfaces (harm surface, risk terrain) are drawn as coloured PNGs over the box of the grid's
four corners in latitude/longitude: the grid is north-up in a metric CRS (British National
Grid, UTM), so the picture is off by a fraction of a cell at the edges of a district, which
does not show at the zooms used.
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from . import coords
from .exports.table import spot_name
from .webmap import OfflineMap, add_legend, offline_map

WGS84 = "EPSG:4326"
SPOT_COLOUR = "#b2182b"
"""Outline colour of harm spots (the browser test finds spots by it)."""
BOUNDARY_COLOUR = "#333333"
INCIDENT_COLOUR = "#1f78b4"
ATTRACTOR_COLOURS = ("#e66101", "#5e3c99", "#1b7837", "#8c510a", "#c51b7d", "#01665e", "#762a83", "#b35806")
HARM_CMAP = ("#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")
"""Harm surface colours, lowest class first (ColorBrewer YlOrRd)."""
RISK_CMAP = ("#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d")
"""Risk terrain colours, lowest class first (ColorBrewer PuBu)."""
MAX_POINTS = 800
"""At most this many incidents or attractor features per layer (a map stays quick to send and draw)."""
COORD_DECIMALS = 5
"""Decimals of longitude/latitude sent to the browser (about 1 m)."""


# -- text --------------------------------------------------------------------------------
def _e(value) -> str:
    """HTML-escaped text of a value; empty for None/NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _num(value, spec: str = ".1f") -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(v) else format(v, spec)


def _movement_text(row) -> str:
    move = str(row.get("movement", "") or "")
    prev = row.get("previous_rank")
    weeks = row.get("weeks_on_list")
    text = move
    if move in ("up", "down", "same") and _num(prev, ".0f"):
        text += f" (was #{_num(prev, '.0f')})"
    if _num(weeks, ".0f"):
        text += f"; {_num(weeks, '.0f')} period(s) on the list"
    return text


def spot_popup_html(row: Mapping) -> str:
    """The popup of one harm spot: rank, score and its explanation, harm, counts by type,
    factors present, movement and peak times, every value HTML-escaped.

    Takes one row of ``HarmSpotList.spots`` (a mapping or a pandas row). Returns HTML.
    """
    lines = [
        ("Score", f"{_num(row.get('score'), '.2f')} &mdash; {_e(row.get('explanation'))}"),
        ("Harm", f"{_e(_num(row.get('harm_recent')))} recent; {_e(_num(row.get('harm_year')))} in the last year"),
        ("Incidents by type", _e(row.get("counts_by_type")) or "none"),
        ("Risk factors present", _e(row.get("factors_present")) or "none"),
        ("Movement", _e(_movement_text(row))),
        ("Peak times", _e(row.get("peak_times"))),
        ("Patrol", f"{_e(_num(row.get('patrol_visits_per_day'), '.0f'))} visit(s) a day of "
                   f"{_e(_num(row.get('patrol_minutes'), '.0f'))} min"),
    ]
    ref = str(row.get("grid_ref") or "")
    head = (f"<b>{_e(spot_name(row))}</b>"
            + (f"<br>{_e(ref)}" if ref else "")
            + f"<br><small>{_e(row.get('spot_id'))}</small>")
    body = "".join(f"<tr><th style='text-align:left;vertical-align:top;padding-right:6px'>{k}</th>"
                   f"<td>{v}</td></tr>" for k, v in lines)
    return f"<div class='rtm-spot'>{head}<table>{body}</table></div>"


def spot_tooltip_text(row: Mapping) -> str:
    """Short hover text of a spot, HTML-escaped: ``Southend-on-Sea #1 On or near High Street (score 3.20)``."""
    return _e(f"{spot_name(row)} (score {_num(row.get('score'), '.2f')})")


# -- geometry helpers ----------------------------------------------------------------------
def to_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` in longitude/latitude (EPSG:4326); a frame with no CRS is assumed to be in it."""
    if frame.crs is None:
        return frame.set_crs(WGS84)
    return frame if frame.crs.to_epsg() == 4326 else frame.to_crs(WGS84)


def _simplified(frame: gpd.GeoDataFrame, tolerance_m: float = 3.0) -> gpd.GeoDataFrame:
    """Outlines simplified by ``tolerance_m`` (in a metric CRS) and rounded to
    :data:`COORD_DECIMALS` in longitude/latitude: what shows on screen, at a fraction of the
    bytes sent to the browser."""
    import shapely

    if frame.crs is not None and frame.crs.is_projected:
        frame = frame.set_geometry(frame.geometry.simplify(tolerance_m, preserve_topology=True))
    ll = to_wgs84(frame)
    return ll.set_geometry(shapely.set_precision(ll.geometry.values, 10 ** -COORD_DECIMALS))


def latlon_bounds(frame: gpd.GeoDataFrame) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of a frame, for ``fit_bounds``."""
    w, s, e, n = to_wgs84(frame).total_bounds
    return [[float(s), float(w)], [float(n), float(e)]]


def grid_bounds(grid) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of the box holding the four corners of ``grid``
    (an :class:`rtm.grid.Grid`) in latitude/longitude."""
    left, top = grid.x0, grid.y0
    right, bottom = left + grid.ncols * grid.cell_size, top - grid.nrows * grid.cell_size
    lon, lat = coords.project(np.array([left, right, left, right], float), np.array([top, top, bottom, bottom], float),
                              coords.to_crs(grid.crs), coords.to_crs(WGS84))
    return [[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]]


# -- surfaces ------------------------------------------------------------------------------
def _fmt_break(v: float) -> str:
    return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"


@dataclass
class SurfaceImage:
    """A surface coloured for the map.

    Attributes
    ----------
    png : bytes
        RGBA PNG, one pixel per grid cell (row 0 at the top); clear where there is nothing.
    bounds : list
        ``[[south, west], [north, east]]``.
    legend : list of (label, colour)
        One entry per class, lowest first.
    """

    png: bytes
    bounds: list
    legend: list = field(default_factory=list)

    @property
    def data_uri(self) -> str:
        """The PNG as a ``data:image/png;base64,...`` address."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def class_breaks(values: np.ndarray, n_classes: int = 5) -> np.ndarray:
    """Upper-open class edges of ``values`` (finite values only) at equal-count quantiles.

    Returns the distinct edges ``[min, q1, ..., max]`` (fewer classes when values tie).
    """
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not v.size:
        return np.array([0.0, 0.0])
    edges = np.unique(np.quantile(v, np.linspace(0, 1, n_classes + 1)))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0]])
    return edges


def _quantile_labels(k: int) -> list[str]:
    """Labels of ``k`` equal-count classes, lowest first: ``lowest 20%`` ... ``highest 20%``."""
    if k == 1:
        return ["all cells with a value"]
    step = 100 / k
    out = []
    for i in range(k):
        lo, hi = 100 - (i + 1) * step, 100 - i * step  # share of cells above
        if i == 0:
            out.append(f"lowest {step:.0f}%")
        elif i == k - 1:
            out.append(f"highest {step:.0f}%")
        else:
            out.append(f"{lo:.0f}-{hi:.0f}% from the top")
    return out


def risk_class_edges(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Class edges and labels of relative risk scores as the RTM risk classes read them
    (:func:`rtm.risk_output.risk_classes`): mean, mean + 1 SD and mean + 2 SD of the finite values.

    Returns ``(edges, labels)``, lowest class first, classes that are empty left out.
    """
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not v.size:
        return np.array([0.0, 0.0]), ["no value"]
    mean, sd = float(v.mean()), float(v.std())
    cuts = [mean, mean + sd, mean + 2 * sd]
    names = ["average or below", "above average", "moderately high", "highest"]
    edges = [float(v.min())] + [c for c in cuts if v.min() < c < v.max()] + [float(v.max())]
    kept = [n for n, c in zip(names, [-np.inf] + cuts) if c == -np.inf or v.min() < c < v.max()]
    labels = [f"{n} ({_fmt_break(lo)}-{_fmt_break(hi)})" for n, lo, hi in zip(kept, edges[:-1], edges[1:])]
    return np.array(edges), labels


def surface_image(grid, values: np.ndarray, *, cmap: str = HARM_CMAP, n_classes: int = 5,
                  positive_only: bool = True, alpha: float = 0.6, classes: str = "quantile") -> SurfaceImage:
    """Colour a surface on ``grid`` by classes for an image overlay.

    Parameters
    ----------
    grid : rtm.grid.Grid
    values : ndarray, shape ``grid.shape``
        The surface; NaN and cells outside ``grid.mask`` stay clear.
    cmap : sequence of str
        Hex colours, lowest class first; sampled evenly when there are fewer classes.
    n_classes : int
        Classes of the ``quantile`` rule.
    positive_only : bool
        Leave cells <= 0 clear and classify only the positive ones (harm surfaces are 0
        over most of an area); False classifies every finite cell (risk scores, lowest 1).
    alpha : float
        Opacity of coloured cells.
    classes : {"quantile", "risk"}
        ``quantile``: equal-count classes labelled by rank (``highest 20%``...), for a harm
        surface whose units mean little to a reader; ``risk``: the RTM risk classes
        (:func:`risk_class_edges`) labelled with their scores.

    Returns
    -------
    SurfaceImage
    """
    from folium.utilities import write_png

    a = np.asarray(values, float)
    if a.shape != grid.shape:
        raise ValueError(f"the surface is {a.shape} but the grid is {grid.shape}")
    show = np.isfinite(a) & np.asarray(grid.mask, bool)
    if positive_only:
        show &= a > 0
    if classes == "risk":
        edges, labels = risk_class_edges(a[show])
    elif classes == "quantile":
        edges = class_breaks(a[show], n_classes)
        labels = _quantile_labels(len(edges) - 1) if len(edges) - 1 == n_classes else \
            [f"{_fmt_break(lo)} to {_fmt_break(hi)}" for lo, hi in zip(edges[:-1], edges[1:])]
    else:
        raise ValueError(f"classes must be 'quantile' or 'risk', not {classes!r}")
    k = max(len(edges) - 1, 1)
    hexes = [cmap[int(round(j))] for j in np.linspace(len(cmap) - k, len(cmap) - 1, k)] if k <= len(cmap) \
        else [cmap[int(j)] for j in np.linspace(0, len(cmap) - 1, k)]
    colours = np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in hexes], np.uint8)
    cls = np.clip(np.searchsorted(edges[1:-1], np.where(show, a, edges[0]), side="right"), 0, k - 1)
    rgba = np.zeros(a.shape + (4,), np.uint8)
    rgba[show, :3] = colours[cls[show]]
    rgba[..., 3] = np.where(show, round(255 * alpha), 0)
    legend = [(labels[i], hexes[i]) for i in range(k)] if show.any() else []
    return SurfaceImage(write_png(rgba), grid_bounds(grid), legend)


def add_surface(m: folium.Map, grid, values: np.ndarray, *, name: str, legend_title: str, cmap: Sequence[str],
                positive_only: bool = True, classes: str = "quantile", show: bool = True,
                legend_position: str = "bottomright") -> SurfaceImage:
    """Add a surface to ``m`` as an image overlay (its own layer, named ``name``) with a legend
    (highest class first). Returns the :class:`SurfaceImage` drawn (see :func:`surface_image`)."""
    img = surface_image(grid, values, cmap=cmap, positive_only=positive_only, classes=classes)
    folium.raster_layers.ImageOverlay(image=img.data_uri, bounds=img.bounds, name=name, opacity=1.0,
                                      interactive=False, cross_origin=False, zindex=2, show=show).add_to(m)
    items = list(reversed(img.legend)) or [("nothing to show", "#ffffff")]
    add_legend(m, legend_title, items, position=legend_position)
    return img


# -- vector layers ---------------------------------------------------------------------------
def spots_geojson(spots: gpd.GeoDataFrame) -> dict:
    """The spots as a GeoJSON FeatureCollection in longitude/latitude.

    Each feature carries ``rank``, ``district``, ``spot_id``, ``score`` and the escaped
    ``popup`` and ``tooltip`` HTML (:func:`spot_popup_html`, :func:`spot_tooltip_text`).
    """
    if not len(spots):
        return {"type": "FeatureCollection", "features": []}
    ll = to_wgs84(spots[["geometry"]].copy())
    feats = []
    for (_, row), geom in zip(spots.iterrows(), ll.geometry):
        props = {"rank": int(row["rank"]), "district": str(row["district"]), "spot_id": str(row["spot_id"]),
                 "score": round(float(row["score"]), 3),
                 "popup": spot_popup_html(row), "tooltip": spot_tooltip_text(row)}
        feats.append({"type": "Feature", "properties": props, "geometry": geom.__geo_interface__})
    return {"type": "FeatureCollection", "features": feats}


def add_spots(m: folium.Map, spots: gpd.GeoDataFrame, name: str = "Harm spots") -> folium.GeoJson:
    """Add the spots as one GeoJSON layer (outlined in :data:`SPOT_COLOUR`) with popups and
    tooltips. Returns the layer."""
    data = spots_geojson(spots)
    some = bool(data["features"])  # folium refuses popup fields on an empty layer
    layer = folium.GeoJson(
        data, name=name, zoom_on_click=False,
        style_function=lambda _f: {"color": SPOT_COLOUR, "weight": 2.5, "fillColor": SPOT_COLOUR, "fillOpacity": 0.25},
        highlight_function=lambda _f: {"weight": 4, "fillOpacity": 0.45},
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=420) if some else None,
        tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False) if some else None,
    )
    layer.add_to(m)
    return layer


def add_boundaries(m: folium.Map, frame: gpd.GeoDataFrame, *, highlight: str | None = None,
                   name: str = "District boundaries") -> folium.GeoJson:
    """Add district outlines (``frame`` with a ``name`` column, any CRS); ``highlight`` names a
    district drawn thicker. Returns the layer."""
    ll = to_wgs84(_simplified(frame[["name", "geometry"]].copy()))
    ll["name"] = ll["name"].astype(str).map(html.escape)
    chosen = html.escape(str(highlight)) if highlight is not None else None
    layer = folium.GeoJson(
        ll.__geo_interface__, name=name, zoom_on_click=False,
        style_function=lambda f: {"color": BOUNDARY_COLOUR, "fill": False,
                                  "weight": 3.5 if f["properties"]["name"] == chosen else 1.5,
                                  "dashArray": None if f["properties"]["name"] == chosen else "4 4"},
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["District"]),
    )
    layer.add_to(m)
    return layer


def add_lines(m: folium.Map, frame: gpd.GeoDataFrame, *, name: str = "Streets", colour: str = "#9a9a9a",
              label: str | None = None, show: bool = True) -> folium.GeoJson:
    """Add line features (a local street layer, say); ``label`` names a column shown on hover."""
    cols = ["geometry"] + ([label] if label and label in frame.columns else [])
    ll = to_wgs84(frame[cols].copy())
    if len(cols) > 1:
        ll[label] = ll[label].astype(str).map(html.escape)
    layer = folium.GeoJson(ll.__geo_interface__, name=name, show=show, zoom_on_click=False,
                           style_function=lambda _f: {"color": colour, "weight": 1.2, "opacity": 0.9},
                           tooltip=folium.GeoJsonTooltip(fields=[label], labels=False)
                           if len(cols) > 1 and len(ll) else None)
    layer.add_to(m)
    return layer


def add_points(m: folium.Map, frame: gpd.GeoDataFrame, *, name: str, colour: str, tooltip: str | None = None,
               radius: float = 3.0, show: bool = True, cap: int = MAX_POINTS,
               within=None) -> tuple[folium.GeoJson, int]:
    """Add point features as small circle markers in one GeoJSON layer.

    ``tooltip`` names a column of (plain) text shown on hover, escaped here. Non-point
    geometries are drawn at their representative points. ``within`` (a shapely geometry
    in the frame's CRS) keeps only the features that intersect it. At most ``cap`` features
    are drawn (a stable, evenly spread subset). Returns ``(layer, drawn)``.
    """
    keep = [tooltip] if tooltip and tooltip in frame.columns else []
    pts = frame[keep + ["geometry"]].copy()
    pts = pts[pts.geometry.notna() & ~pts.geometry.is_empty]
    if within is not None:
        pts = pts[pts.geometry.intersects(within)]
    if len(pts) > cap:
        pts = pts.iloc[np.linspace(0, len(pts) - 1, cap).astype(int)]
    if len(pts) and not (pts.geom_type == "Point").all():
        pts = pts.set_geometry(pts.geometry.representative_point())
    ll = to_wgs84(pts)
    xs, ys = np.round(ll.geometry.x.to_numpy(), COORD_DECIMALS), np.round(ll.geometry.y.to_numpy(), COORD_DECIMALS)
    texts = [ll[c].astype(str).map(html.escape).tolist() for c in keep]
    data = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {c: t[i] for c, t in zip(keep, texts)},
         "geometry": {"type": "Point", "coordinates": [float(xs[i]), float(ys[i])]}} for i in range(len(ll))]}
    layer = folium.GeoJson(
        data, name=name, show=show, zoom_on_click=False,
        marker=folium.CircleMarker(radius=radius, weight=1, color=colour, fill=True, fill_color=colour,
                                   fill_opacity=0.8),
        tooltip=folium.GeoJsonTooltip(fields=keep, labels=False) if keep and len(ll) else None,
    )
    layer.add_to(m)
    return layer, len(ll)


def incident_points(frame: pd.DataFrame, crs, start=None, end=None) -> gpd.GeoDataFrame:
    """Incidents (the ``frame`` of :class:`rtm.incidents.Incidents`, ``x``/``y`` in ``crs``) whose
    whole recorded period lies in ``[start, end)`` as points with a ``label`` column
    (date, offence type, location) for tooltips."""
    from .periods import inside

    f = frame[inside(frame, start, end)]
    when = f["date_start"].dt.strftime("%Y-%m-%d %H:%M").str.replace(" 00:00", "", regex=False)
    label = when + " " + f["offence_type"].astype(str)
    if "location" in f:
        label = label + (" - " + f["location"].astype("string").fillna("")).str.rstrip(" -")
    return gpd.GeoDataFrame({"label": label.to_numpy()},
                            geometry=gpd.points_from_xy(f["x"].to_numpy(float), f["y"].to_numpy(float)), crs=crs)


# -- the whole map ---------------------------------------------------------------------------
@dataclass
class MapContent:
    """What the harm-spot map shows. Only ``areas`` is required.

    Attributes
    ----------
    areas : GeoDataFrame
        District polygons with a ``name`` column (``Areas.frame``).
    spots : GeoDataFrame, optional
        Harm spots (``HarmSpotList.spots``, any CRS).
    grid : Grid, optional
        The grid of ``harm`` and ``risk``.
    harm, risk : ndarray, optional
        Harm surface and relative risk score on ``grid`` (NaN outside).
    incidents : GeoDataFrame, optional
        Points with a ``label`` column (:func:`incident_points`).
    attractors : dict of str to GeoDataFrame
        Attractor features by layer name.
    streets : GeoDataFrame, optional
        Local street lines, with ``street_label`` naming their name column.
    district : str, optional
        The district to zoom to and outline boldly (None: all).
    tiles, attribution : str, optional
        An internal tile server's XYZ template and attribution (None: no basemap).
    """

    areas: gpd.GeoDataFrame
    spots: gpd.GeoDataFrame | None = None
    grid: object = None
    harm: np.ndarray | None = None
    risk: np.ndarray | None = None
    incidents: gpd.GeoDataFrame | None = None
    attractors: Mapping[str, gpd.GeoDataFrame] = field(default_factory=dict)
    streets: gpd.GeoDataFrame | None = None
    street_label: str | None = None
    district: str | None = None
    tiles: str | None = None
    attribution: str | None = None


def build_map(content: MapContent, *, incident_label: str = "Incidents, last 4 weeks",
              extra_layers: Sequence = ()) -> OfflineMap:
    """Make the harm-spot map: an offline folium map with switchable layers.

    Layers (top to bottom of the layer control): basemap tiles (only when given), harm
    surface, risk terrain, streets, district boundaries, attractor layers, incidents, harm
    spots. Surfaces get a legend each; the harm spots' popups are described at
    :func:`spot_popup_html`. The view fits ``content.district`` (or every district).

    ``extra_layers`` are callables ``f(m)`` adding more layers (e.g. :func:`add_emerging`,
    :func:`add_dosage`) before the layer control is made, which must come last.

    Returns an :class:`rtm.webmap.OfflineMap`; raises ``ValueError`` for a tile template
    that is not ``{z}/{x}/{y}`` or lacks an attribution (see :func:`rtm.webmap.offline_map`).
    """
    areas = content.areas
    focus = areas[areas["name"].astype(str) == str(content.district)] if content.district is not None else areas
    if not len(focus):
        focus = areas
    bounds = latlon_bounds(focus)
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = offline_map(location=centre, zoom_start=12, tiles=content.tiles or None,
                    attribution=content.attribution or None, control_scale=True)
    if content.grid is not None and content.harm is not None:
        add_surface(m, content.grid, content.harm, name="Harm surface",
                    legend_title="Harm surface: cells with recent harm", cmap=HARM_CMAP, positive_only=True,
                    legend_position="bottomright")
    if content.grid is not None and content.risk is not None:
        add_surface(m, content.grid, content.risk, name="Risk terrain (RRS)",
                    legend_title="Risk terrain: relative risk score", cmap=RISK_CMAP, positive_only=False,
                    classes="risk", show=False, legend_position="bottomleft")
    if content.streets is not None and len(content.streets):
        add_lines(m, content.streets, label=content.street_label)
    add_boundaries(m, areas, highlight=content.district)
    for i, (name, frame) in enumerate(sorted(content.attractors.items())):
        # only the features near the districts in view (the layers carry a buffer around the area)
        near = focus.to_crs(frame.crs).union_all().envelope.buffer(500) if frame.crs is not None else None
        add_points(m, frame, name=f"Attractors: {name.replace('_', ' ')}",
                   colour=ATTRACTOR_COLOURS[i % len(ATTRACTOR_COLOURS)], radius=2.5, show=False, within=near)
    if content.incidents is not None:
        add_points(m, content.incidents, name=incident_label, colour=INCIDENT_COLOUR, tooltip="label", radius=3)
    if content.spots is not None:
        add_spots(m, content.spots)
    for add in extra_layers:
        add(m)
    m.fit_bounds(bounds)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def spots_in(spots: gpd.GeoDataFrame, districts: Sequence[str] | None) -> gpd.GeoDataFrame:
    """The spots of the named districts (all when ``districts`` is None or empty)."""
    if not districts:
        return spots
    return spots[spots["district"].astype(str).isin([str(d) for d in districts])]


# -- hot spot and dosage layers (rtm.emerging, rtm.dosage) -------------------------------------
EHSA_COLOURS = {"new": "#fdd49e", "consecutive": "#fdbb84", "intensifying": "#d7301f", "persistent": "#b30000",
                "diminishing": "#fc8d59", "sporadic": "#fee8c8", "oscillating": "#ef6548", "historical": "#7f0000"}
"""Fill of each emerging hot spot class (cold classes take blues of the same order)."""
EHSA_COLD = {"new": "#d0d1e6", "consecutive": "#a6bddb", "intensifying": "#0570b0", "persistent": "#045a8d",
             "diminishing": "#74a9cf", "sporadic": "#ece7f2", "oscillating": "#3690c0", "historical": "#023858"}
DOSE_COLOURS = (("#d7191c", "none"), ("#fdae61", "under a quarter"), ("#ffffbf", "a quarter to half"),
                ("#a6d96a", "half to three quarters"), ("#1a9641", "three quarters or more"))
"""Colours and legend text of the delivered share of dose: none, then quarters."""


def emerging_colour(name: str) -> str:
    """Fill colour of an emerging class name (``"new hot spot"``, ...); grey for no pattern."""
    word = str(name).split(" ")[0]
    table = EHSA_COLD if "cold" in str(name) else EHSA_COLOURS
    return table.get(word, "#bdbdbd")


def _cells_layer(m, frame, *, name, colour_of, tooltip_of, show) -> folium.FeatureGroup:
    """Cells as one switchable layer: a GeoJSON per colour, each with one constant style (the
    per-feature style mapper of folium is not rendered by streamlit-folium's own renderer)."""
    group = folium.FeatureGroup(name=name, show=show)
    ll = to_wgs84(frame[["geometry"]].copy())
    colours = [colour_of(r) for _, r in frame.iterrows()]
    tips = [_e(tooltip_of(r)) for _, r in frame.iterrows()]
    for colour in dict.fromkeys(colours):
        feats = [{"type": "Feature", "geometry": g.__geo_interface__, "properties": {"tooltip": t}}
                 for g, c, t in zip(ll.geometry, colours, tips) if c == colour]
        folium.GeoJson({"type": "FeatureCollection", "features": feats}, zoom_on_click=False,
                       style_function=lambda _f, c=colour: {"color": c, "weight": 0.5, "fillColor": c,
                                                            "fillOpacity": 0.6},
                       tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False)).add_to(group)
    group.add_to(m)
    return group


def add_emerging(m: folium.Map, cells: gpd.GeoDataFrame, *, name: str = "Emerging hot spots",
                 show: bool = False) -> folium.FeatureGroup:
    """Add the cells of :meth:`rtm.emerging.Emerging.frame` coloured by ``ehsa_class`` (only
    cells with a class), with a legend of the classes shown. Returns the layer."""
    cells = cells[cells["ehsa_class"] != "no pattern"]
    layer = _cells_layer(m, cells, name=name, colour_of=lambda r: emerging_colour(r["ehsa_class"]),
                         tooltip_of=lambda r: f"{r['ehsa_class']} ({r['periods_hot']} of {r['periods']} periods hot; "
                                              f"sfhotspot: {r['simple_class']})", show=show)
    present = sorted(set(cells["ehsa_class"]))
    add_legend(m, "Emerging hot spots (harm)", [(c, emerging_colour(c)) for c in present] or
               [("no emerging pattern", "#ffffff")], position="topleft")
    return layer


def dose_colour(share: float) -> str:
    """Colour of a delivered share of dose (0-1): :data:`DOSE_COLOURS`."""
    if not share > 0:
        return DOSE_COLOURS[0][0]
    return DOSE_COLOURS[1 + min(int(share * 4), 3)][0]


def add_dosage(m: folium.Map, spots: gpd.GeoDataFrame, *, name: str = "Patrol dose delivered",
               show: bool = True) -> folium.FeatureGroup:
    """Add spots (``spot_id``, ``share``, ``minutes``, ``visits_of_target``,
    ``suggested_visits``) coloured by the share of the suggested dose delivered. Returns the layer."""
    layer = _cells_layer(m, spots, name=name, colour_of=lambda r: dose_colour(float(r["share"])),
                         tooltip_of=lambda r: f"{r['spot_id']}: {100 * float(r['share']):.0f}% of the dose; "
                                              f"{float(r['minutes']):.0f} min, {int(r['visits_of_target'])} of "
                                              f"{int(r['suggested_visits'])} visits", show=show)
    add_legend(m, "Dose delivered", [(text, colour) for colour, text in reversed(DOSE_COLOURS)],
               position="topleft")
    return layer
