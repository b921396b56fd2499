"""Harm-spot map: the chosen period's spots with the harm surface, the risk terrain,
attractors, recent incidents and district boundaries, on a map that needs no internet. A
period the workspace published is drawn from its published files alone
(:mod:`app_pages.published_map`); the layers made from the incidents then wait for a switch."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from app_pages import common
from rtm.mapview import MapContent, build_map, incident_points, spots_in

MAP_HEIGHT = 620


@st.cache_resource(show_spinner=False, max_entries=64)
def _incidents(_ds, ds_id: str, period_key: str, start, end):
    """The incidents of the recent window before a period, as map points (cached)."""
    return incident_points(_ds.incidents.frame, _ds.incidents.crs, start, end)


@st.cache_resource(show_spinner=False, max_entries=16)
def _street_points(_ds, ds_id: str):
    """Street names from the incidents' police.uk "On or near ..." points (cached per data set)."""
    from rtm.mapstreets import street_points

    return street_points(_ds.incidents.frame, _ds.incidents.crs)


@st.cache_resource(show_spinner="Preparing the basemap tiles (once)...", max_entries=4)
def _local_basemap(file: str, attribution: str | None, base_url_path: str):
    """A workspace's local tile file, copied once into the app's static folder (rtm.basemap):
    (URL template on the app's own address, attribution, tile layer options)."""
    from rtm import basemap

    ts = basemap.open_tileset(file, key="basemap.file")
    basemap.extract_tiles(ts)
    return basemap.tile_template(ts, base_url_path), basemap.default_attribution(ts, attribution), \
        basemap.tile_options(ts)


view = common.current_view()
ds = view.ds
st.title("Harm-spot map")
from app_pages.published_map import incident_layers_wanted, published_list  # noqa: E402

pub = published_list(view)  # a published period: drawn from its files, no incidents read, no list made
if pub is None:
    lst, note = common.list_or_stop(view)
    all_spots, grid, surfaces, provenance, notes = lst.spots, lst.grid, lst.surfaces(), lst.provenance, lst.notes
    terrain_used = lst.terrain is not None
else:
    lst, note = pub, ""
    all_spots, grid, surfaces, provenance, notes = pub.spots, pub.grid, pub.surfaces, pub.provenance, pub.notes
    terrain_used = pub.terrain_used

spots = spots_in(all_spots, [view.district] if view.district else None)
where = common.plain(view.district) if view.district else "all districts"
st.caption(f"{common.cap(view.period.label)} - {where}: {len(spots)} harm spot(s)"
           + (" as published" if pub is not None else "") + ". "
           "Click a spot for its score, harm, factors, movement and peak times; switch layers with the "
           "layers button at the top right; street names show when zoomed in close.")
with_incidents = pub is None or incident_layers_wanted(ds)
recent_from, recent_to = view.period.window("recent")
layers = {}
if terrain_used:
    try:
        layers = {n: l.frame for n, l in common.layers_for(ds, view.model).items()}
    except Exception as exc:  # noqa: BLE001
        common.show_error(exc, "loading the attractor layers")
tiles, attribution, tile_options = view.tiles, view.attribution, {}
local = ds.workspace.basemap if ds.workspace is not None else None
if local is not None and local.file:
    try:
        tiles, attribution, tile_options = _local_basemap(local.file, local.attribution,
                                                          st.get_option("server.baseUrlPath") or "")
    except Exception as exc:  # noqa: BLE001 - shown without a traceback; the map is drawn without tiles
        common.show_error(exc, "preparing the basemap tiles")
incidents = street_pts = None
if with_incidents:
    try:
        incidents = _incidents(ds, ds.id, view.period.key, recent_from, recent_to)
        street_pts = _street_points(ds, ds.id)
    except Exception as exc:  # noqa: BLE001 - shown without a traceback; the map is drawn without them
        common.show_error(exc, "reading the incidents")
        with_incidents = False
content = MapContent(
    areas=ds.areas.frame, spots=spots, grid=grid, harm=surfaces.get("harm_surface"),
    risk=surfaces.get("risk_terrain"), incidents=incidents, attractors=layers, streets=ds.streets,
    street_label=ds.street_label, street_points=street_pts, district=view.district,
    tiles=tiles, attribution=attribution, tile_options=tile_options, provenance=provenance)
extra = []
try:  # emerging hot spot and patrol dose layers: app_pages/hotspot_layers.py
    from app_pages.hotspot_layers import hotspot_layers

    extra = hotspot_layers(view, lst, spots, emerging=with_incidents and grid is not None)
except Exception as exc:  # noqa: BLE001 - shown without a traceback
    common.show_error(exc, "adding the hot spot and patrol dose layers")
try:
    m = build_map(content, incident_label=f"Incidents, last {view.period.window_text('recent')}", extra_layers=extra)
except ValueError as exc:  # a tile template that is not {z}/{x}/{y}, or no attribution
    st.error(f"Basemap: {common.plain(exc)}")
    st.stop()
# render=False: st_folium renders the map's scripts itself; its extra whole-page render builds an
# HTML document it never sends (0.1 s on the sample, the component's arguments are the same)
st_folium(m, height=MAP_HEIGHT, use_container_width=True, returned_objects=[], key="harm_map", render=False)
from app_pages.hotspot_layers import patrol_upload  # noqa: E402

patrol_upload()
for text in getattr(m, "notes", []):
    st.caption(common.plain(text))
if pub is not None and not with_incidents:
    st.caption("Recent incidents, street names and emerging hot spots are off: the published list is drawn "
               "from its files alone. Switch them on above the map.")
for text in ([note] if note else []) + list(notes):  # notes name districts and offence types
    st.info(common.plain(text))
