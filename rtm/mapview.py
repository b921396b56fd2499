"""The app's harm-spot map: the layers drawn from library results, and :func:`build_map`.

Everything here turns library results (a :class:`rtm.weekly.HarmSpotList`, an
:class:`rtm.areas.Areas`, attractor :class:`rtm.layers.Layer` frames, incidents) into
layers of an :func:`rtm.webmap.offline_map`, so the app's pages only call
:func:`build_map` and hand the result to ``st_folium``. Nothing here fits, scores or
selects anything.

The map is split by what a reader sees:

* this module: the spots (their own pane, above everything, with a dark outline on a white
  halo), boundaries, points and lines, and the whole map with its collapsed layer control;
* :mod:`rtm.mapsurfaces`: harm surface and risk terrain images with their legends;
* :mod:`rtm.mapstreets`: street names, shown at street zoom;
* :mod:`rtm.maphotspots`: emerging hot spot and patrol dose layers;
* :mod:`rtm.basemap`: a local MBTiles/PMTiles basemap served by the app itself;
* :mod:`rtm.mapgeo`: the text and geometry helpers they share.

Only elements that work with no internet are used (see ``docs/offline.md``). Every piece of
text that reaches a popup, tooltip or label is HTML-escaped, because Leaflet inserts it as
HTML. A layer is offered only where it shows something in the area in view; what was left
out, and why, is in the returned map's ``notes``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from .exports.table import spot_name
from .mapgeo import COORD_DECIMALS, WGS84, _e, _num, grid_bounds, latlon_bounds, simplified, to_wgs84  # noqa: F401
from .maphotspots import (DOSE_COLOURS, EHSA_COLD, EHSA_COLOURS, add_dosage, add_emerging,  # noqa: F401
                          dose_colour, emerging_colour)
from .mapstreets import LABEL_MIN_ZOOM, add_street_names, line_labels  # noqa: F401
from .mapsurfaces import (HARM_CMAP, RISK_CMAP, SurfaceImage, add_surface, class_breaks,  # noqa: F401
                          risk_class_edges, surface_image)
from .webmap import OfflineMap, offline_map

SPOT_COLOUR = "#000000"
"""Outline colour of harm spots, drawn on a white halo (the browser tests find spots by it):
unlike any class of the harm surface (yellow to red) or the incidents (blue)."""
SPOT_HALO = "#ffffff"
SPOT_PANE = "rtm-spots"
"""The Leaflet pane of the spots: above every other layer and the labels (z-index
:data:`SPOT_PANE_Z`), below tooltips (650) and popups (700)."""
SPOT_PANE_Z = 640
BOUNDARY_COLOUR = "#333333"
INCIDENT_COLOUR = "#1f78b4"
ATTRACTOR_COLOURS = ("#e66101", "#5e3c99", "#1b7837", "#8c510a", "#c51b7d", "#01665e", "#762a83", "#b35806")
MAX_POINTS = 800
"""At most this many incidents or attractor features per layer (a map stays quick to send and draw)."""


# -- popups and tooltips --------------------------------------------------------------------
def spot_popup_html(row: Mapping, provenance: Mapping | None = None) -> str:
    """The popup of one harm spot: rank, score and its explanation, harm, counts by type,
    factors present, movement, peak times and patrol dose, with the exports' human titles
    and units (:mod:`rtm.exports.table`: "Harm, last 4 weeks", "CCHI days"...), every value
    HTML-escaped.

    Takes one row of ``HarmSpotList.spots`` (a mapping or a pandas row) and the list's
    ``provenance`` (its period kind and weights name the windows and the harm unit; None:
    weekly lists, CCHI). Returns HTML.
    """
    from .exports.table import harm_unit, movement_text, patrol_text, windows

    prov = dict(provenance or {})
    recent, year = windows(prov)
    unit = harm_unit(prov)
    kind = "month" if prov.get("period_kind") == "month" else "week"
    harm = [(f"Harm, {recent}", row.get("harm_recent")), (f"Harm, {year}", row.get("harm_year"))]
    lines = [
        ("Score (x the average cell)", f"{_num(row.get('score'), '.2f')} &mdash; {_e(row.get('explanation'))}"),
        *[(title, f"{_e(_num(v, ',.1f'))} {_e(unit)}" if _num(v) else "-") for title, v in harm],
        (f"Crimes by type, {year}", _e(row.get("counts_by_type")) or "none"),
        ("Risk factors present", _e(row.get("factors_present")) or "none"),
        ("Movement", _e(movement_text(row, kind))),
        ("Peak times", _e(row.get("peak_times")) or "-"),
        ("Patrol dose", _e(patrol_text(row))),
    ]
    ref = str(row.get("grid_ref") or "")
    head = (f"<b>{_e(spot_name(row))}</b>"
            + (f"<br>{_e(ref)}" if ref else "")
            + f"<br><small>{_e(row.get('spot_id'))}</small>")
    body = "".join(f"<tr><th style='text-align:left;vertical-align:top;padding-right:6px'>{_e(k)}</th>"
                   f"<td>{v}</td></tr>" for k, v in lines)
    return f"<div class='rtm-spot'>{head}<table>{body}</table></div>"


def spot_tooltip_text(row: Mapping) -> str:
    """Short hover text of a spot, HTML-escaped: ``Southend-on-Sea #1 On or near High Street (score 3.20)``."""
    return _e(f"{spot_name(row)} (score {_num(row.get('score'), '.2f')})")



# -- vector layers ---------------------------------------------------------------------------
def spots_geojson(spots: gpd.GeoDataFrame, provenance: Mapping | None = None) -> dict:
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
                 "popup": spot_popup_html(row, provenance), "tooltip": spot_tooltip_text(row)}
        feats.append({"type": "Feature", "properties": props, "geometry": geom.__geo_interface__})
    return {"type": "FeatureCollection", "features": feats}


def add_spots(m: folium.Map, spots: gpd.GeoDataFrame, name: str = "Harm spots",
              provenance: Mapping | None = None) -> folium.FeatureGroup:
    """Add the spots as one switchable layer in their own pane (:data:`SPOT_PANE`, above every
    other layer): a white halo under a dark outline (:data:`SPOT_COLOUR`), with popups and
    tooltips (``provenance``: see :func:`spot_popup_html`). Returns the layer (a
    ``folium.FeatureGroup`` of the halo and the spots)."""
    data = spots_geojson(spots, provenance)
    some = bool(data["features"])  # folium refuses popup fields on an empty layer
    folium.map.CustomPane(SPOT_PANE, z_index=SPOT_PANE_Z, pointer_events=False).add_to(m)
    group = folium.FeatureGroup(name=name)
    folium.GeoJson(data, zoom_on_click=False, interactive=False, pane=SPOT_PANE, control=False,
                   style_function=lambda _f: {"color": SPOT_HALO, "weight": 7, "opacity": 0.9, "fill": False},
                   ).add_to(group)
    folium.GeoJson(
        data, zoom_on_click=False, pane=SPOT_PANE, control=False,
        style_function=lambda _f: {"color": SPOT_COLOUR, "weight": 3, "fillColor": SPOT_HALO, "fillOpacity": 0.3},
        highlight_function=lambda _f: {"weight": 5, "fillOpacity": 0.5},
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=420) if some else None,
        tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False) if some else None,
    ).add_to(group)
    group.add_to(m)
    return group


def add_boundaries(m: folium.Map, frame: gpd.GeoDataFrame, *, highlight: str | None = None,
                   name: str = "District boundaries") -> folium.GeoJson:
    """Add district outlines (``frame`` with a ``name`` column, any CRS); ``highlight`` names a
    district drawn thicker. Returns the layer."""
    ll = to_wgs84(simplified(frame[["name", "geometry"]].copy()))
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
               within=None, skip_empty: bool = False) -> tuple[folium.GeoJson | None, int]:
    """Add point features as small circle markers in one GeoJSON layer.

    ``tooltip`` names a column of (plain) text shown on hover, escaped here. Non-point
    geometries are drawn at their representative points. ``within`` (a shapely geometry
    in the frame's CRS) keeps only the features that intersect it. At most ``cap`` features
    are drawn (a stable, evenly spread subset). Returns ``(layer, drawn)``; with
    ``skip_empty``, ``(None, 0)`` and no layer when no feature is left.
    """
    keep = [tooltip] if tooltip and tooltip in frame.columns else []
    pts = frame[keep + ["geometry"]].copy()
    pts = pts[pts.geometry.notna() & ~pts.geometry.is_empty]
    if within is not None:
        pts = pts[pts.geometry.intersects(within)]
    if skip_empty and not len(pts):
        return None, 0
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
        Local street lines, with ``street_label`` naming their name column (labelled at
        street zoom too).
    street_points : GeoDataFrame, optional
        Street names from the incidents (:func:`rtm.mapstreets.street_points`), labelled at
        street zoom.
    district : str, optional
        The district to zoom to and outline boldly (None: all).
    tiles, attribution : str, optional
        An XYZ template (a force's tile server, or the app's own copy of a local tile set:
        :mod:`rtm.basemap`) and its attribution (None: no basemap; a default when missing).
    tile_options : dict
        More options of the tile layer (``max_native_zoom``, ``min_zoom``, ``bounds`` as
        ``[[south, west], [north, east]]``); a basemap whose ``bounds`` miss the area in view
        is left out.
    provenance : dict, optional
        The list's provenance (``HarmSpotList.provenance``): the popups' windows and harm unit.
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
    street_points: gpd.GeoDataFrame | None = None
    district: str | None = None
    tiles: str | None = None
    attribution: str | None = None
    tile_options: Mapping = field(default_factory=dict)
    provenance: Mapping | None = None


DEFAULT_ATTRIBUTION = "Basemap: the force's mapping service"
"""Shown when a basemap is given without its attribution (never a blank map)."""


def _overlaps(a, b) -> bool:
    """True when two ``[[south, west], [north, east]]`` boxes overlap."""
    return not (a[1][0] < b[0][0] or b[1][0] < a[0][0] or a[1][1] < b[0][1] or b[1][1] < a[0][1])


def build_map(content: MapContent, *, incident_label: str = "Incidents, last 4 weeks",
              extra_layers: Sequence = ()) -> OfflineMap:
    """Make the harm-spot map: an offline folium map with switchable layers.

    Layers (top to bottom of the layer control): basemap tiles (only when given and covering
    the area), harm surface, risk terrain, streets, street names, district boundaries,
    attractor layers (only those with features near the districts in view), incidents,
    harm spots. Surfaces get a legend each, shown while their layer is on; the harm spots
    are drawn above everything (their popups are described at :func:`spot_popup_html`).
    The layer control is collapsed (it opens on hover or touch, and never stays open over
    a popup). The view fits ``content.district`` (or every district).

    ``extra_layers`` are callables ``f(m)`` adding more layers (e.g. :func:`add_emerging`,
    :func:`add_dosage`) before the layer control is made, which must come last.

    Returns an :class:`rtm.webmap.OfflineMap` whose ``notes`` (a list of str) say which
    layers were left out and why. Raises ``ValueError`` for a tile template that is not
    ``{z}/{x}/{y}`` (see :func:`rtm.webmap.offline_map`). Costs one pass over each layer.
    """
    areas = content.areas
    focus = areas[areas["name"].astype(str) == str(content.district)] if content.district is not None else areas
    if not len(focus):
        focus = areas
    bounds = latlon_bounds(focus)
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    notes: list[str] = []
    tiles, options = content.tiles or None, dict(content.tile_options or {})
    if tiles and options.get("bounds") is not None and not _overlaps(options["bounds"], bounds):
        notes.append("The basemap is left out: its tiles do not cover the districts in view.")
        tiles = None
    m = offline_map(location=centre, zoom_start=12, tiles=tiles,
                    attribution=html.escape((content.attribution or "").strip() or DEFAULT_ATTRIBUTION) if tiles else None,
                    tile_options=options if tiles else None, control_scale=True)
    m.notes = notes
    if content.grid is not None and content.harm is not None:
        if add_surface(m, content.grid, content.harm, name="Harm surface",
                       legend_title="Harm surface: cells with recent harm", cmap=HARM_CMAP, positive_only=True,
                       legend_position="bottomright") is None:
            notes.append("No harm surface: no recent harm in the area.")
    if content.grid is not None and content.risk is not None:
        add_surface(m, content.grid, content.risk, name="Risk terrain (RRS)",
                    legend_title="Risk terrain: relative risk score", cmap=RISK_CMAP, positive_only=False,
                    classes="risk", show=False, legend_position="bottomleft")
    if content.streets is not None and len(content.streets):
        add_lines(m, content.streets, label=content.street_label)
    labels = []  # the streets file's names first: where labels crowd, they are kept
    if content.streets is not None and len(content.streets) and content.street_label in content.streets:
        lines = content.streets.to_crs(focus.crs) if focus.crs is not None else content.streets
        labels.append(line_labels(lines, content.street_label))
    if content.street_points is not None and len(content.street_points):
        labels.append(content.street_points.to_crs(focus.crs) if focus.crs is not None else content.street_points)
    if labels:
        every = pd.concat(labels, ignore_index=True)
        add_street_names(m, gpd.GeoDataFrame(every, geometry="geometry", crs=labels[0].crs),
                         within=focus.union_all().buffer(200) if focus.crs is not None and focus.crs.is_projected
                         else focus.union_all())
    add_boundaries(m, areas, highlight=content.district)
    for i, (name, frame) in enumerate(sorted(content.attractors.items())):
        # only the features near the districts in view (the layers carry a buffer around the area)
        near = None
        if frame.crs is not None and focus.crs is not None:  # 500 m in the districts' (metric) CRS
            box = focus.union_all().envelope.buffer(500 if focus.crs.is_projected else 0.005)
            near = gpd.GeoSeries([box], crs=focus.crs).to_crs(frame.crs).iloc[0]
        layer, _ = add_points(m, frame, name=f"Attractors: {name.replace('_', ' ')}",
                              colour=ATTRACTOR_COLOURS[i % len(ATTRACTOR_COLOURS)], radius=2.5, show=False,
                              within=near, skip_empty=True)
        if layer is None:
            notes.append(f"Attractors: {name.replace('_', ' ')} is left out: it has no feature near the "
                         "districts in view.")
    if content.incidents is not None:
        add_points(m, content.incidents, name=incident_label, colour=INCIDENT_COLOUR, tooltip="label", radius=3)
    if content.spots is not None:
        add_spots(m, content.spots, provenance=content.provenance)
    for add in extra_layers:
        add(m)
    m.fit_bounds(bounds)
    folium.LayerControl(collapsed=True).add_to(m)
    return m


def spots_in(spots: gpd.GeoDataFrame, districts: Sequence[str] | None) -> gpd.GeoDataFrame:
    """The spots of the named districts (all when ``districts`` is None or empty)."""
    if not districts:
        return spots
    return spots[spots["district"].astype(str).isin([str(d) for d in districts])]


