"""Offline maps (rtm.webmap) without a browser: the rendered page names nothing outside.

The browser tests in tests/browser/ check the same maps in a real Chromium.
"""

from __future__ import annotations

import base64
import hashlib
import re

import branca.colormap
import folium
import folium.plugins
import numpy as np
import pytest

from rtm import webmap
from rtm.webmap import OfflineAssetError, add_legend, external_urls, offline_map, render_html

POLYGON = {
    "type": "FeatureCollection",
    "features": [{
        "type": "Feature",
        "properties": {"name": "Harm spot 1", "harm": 412},
        "geometry": {"type": "Polygon", "coordinates": [[
            [0.700, 51.535], [0.720, 51.535], [0.720, 51.548], [0.700, 51.548], [0.700, 51.535]]]},
    }],
}


def _full_map() -> folium.Map:
    """An offline map with every element the app's pages use."""
    m = offline_map(location=[51.54, 0.71], zoom_start=13)
    group = folium.FeatureGroup(name="Harm spots").add_to(m)
    folium.GeoJson(POLYGON, name="Harm spots",
                   tooltip=folium.GeoJsonTooltip(["name"]),
                   popup=folium.GeoJsonPopup(["name", "harm"])).add_to(group)
    folium.GeoJson(POLYGON, popup=folium.Popup("<b>plain popup</b>"),
                   tooltip=folium.Tooltip("plain tooltip")).add_to(m)
    folium.Marker([51.54, 0.71], popup="a marker").add_to(m)
    folium.CircleMarker([51.54, 0.72], radius=5).add_to(m)
    folium.raster_layers.ImageOverlay(np.random.default_rng(1).random((8, 8)),
                                      bounds=[[51.53, 0.70], [51.55, 0.72]], name="Surface").add_to(m)
    add_legend(m, "Harm", [("High", "#b2182b"), ("Low", "#2166ac")])
    folium.LayerControl().add_to(m)
    return m


def test_offline_map_with_layers_popups_control_and_legend_names_nothing_outside():
    html = render_html(_full_map())
    assert external_urls(html) == []
    # Leaflet and jQuery are really there, inlined
    assert html.count('<script src="data:text/javascript;base64,') == 3
    assert '<link rel="stylesheet" href="data:text/css;base64,' in html
    for dropped in ("bootstrap", "awesome-markers", "fontawesome"):
        assert dropped not in html.lower()


def test_a_default_folium_map_does_name_cdns():
    found = external_urls(folium.Map().get_root().render())
    hosts = {re.match(r"https?://([^/]+)", u).group(1) for u in found}
    assert {"cdn.jsdelivr.net", "code.jquery.com", "tile.openstreetmap.org"} <= hosts


def test_elements_added_after_a_first_render_are_made_offline_too():
    m = offline_map()
    render_html(m)
    folium.GeoJson(POLYGON, popup=folium.GeoJsonPopup(["name"])).add_to(m)
    folium.LayerControl().add_to(m)
    assert external_urls(render_html(m)) == []


def test_external_urls_finds_what_a_page_would_fetch():
    css = base64.b64encode(b".x { background: url(https://fonts.example/f.woff) }").decode()
    page = (f'<link rel="stylesheet" href="data:text/css;base64,{css}">'
            '<script src="//cdn.example/lib.js"></script>'
            '<img src="http://127.0.0.1:8501/ok.png"><img src="http://localhost/ok.png">'
            '<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    assert external_urls(page) == ["http://cdn.example/lib.js", "https://fonts.example/f.woff"]
    assert external_urls(page, allowed_hosts=["cdn.example", "fonts.example"]) == []


def test_internal_tile_server_is_the_only_outside_host_and_can_be_allowed():
    url = "https://tiles.force.internal/{z}/{x}/{y}.png"
    m = offline_map(location=[51.54, 0.71], tiles=url, attribution="Force mapping")
    html = render_html(m)
    assert [u for u in external_urls(html)] and all("tiles.force.internal" in u for u in external_urls(html))
    assert external_urls(html, allowed_hosts=["tiles.force.internal"]) == []
    assert "Force mapping" in html


def test_no_tiles_by_default_and_bad_tile_settings_are_refused():
    html = render_html(offline_map())
    assert "L.tileLayer" not in html and "tile.openstreetmap" not in html
    with pytest.raises(ValueError, match="attribution"):
        offline_map(tiles="https://tiles.force.internal/{z}/{x}/{y}.png")
    with pytest.raises(ValueError, match="URL template"):
        offline_map(tiles="OpenStreetMap", attribution="x")


@pytest.mark.parametrize("add, message", [
    (lambda m: folium.Marker([51.5, 0.7], icon=folium.Icon(color="red")).add_to(m), "awesome-markers"),
    (lambda m: branca.colormap.LinearColormap(["white", "red"], vmin=0, vmax=1).add_to(m), "d3"),
    (lambda m: folium.plugins.MarkerCluster().add_to(m), "cdnjs.cloudflare.com"),
])
def test_elements_that_need_the_internet_are_refused_at_render(add, message):
    m = offline_map()
    add(m)
    with pytest.raises(OfflineAssetError, match=message):
        render_html(m)


def test_legend_escapes_its_text():
    m = offline_map()
    legend = add_legend(m, "<b>Harm</b>", [("<script>x</script>", "red")])
    assert "&lt;script&gt;x&lt;/script&gt;" in legend.inner_html and "<b>" not in legend.inner_html
    assert "<script>x</script>" not in render_html(m)


def test_vendored_files_match_their_checksums_and_folium_asks_for_the_same_leaflet():
    sums = (webmap.VENDOR_DIR / "SHA256SUMS").read_text().splitlines()
    assert len(sums) >= 8
    for line in sums:
        digest, rel = line.split("  ", 1)
        assert hashlib.sha256((webmap.VENDOR_DIR / rel).read_bytes()).hexdigest() == digest, rel
    leaflet_cdn = dict(folium.Map.default_js)["leaflet"]
    jquery_cdn = dict(folium.Map.default_js)["jquery"]
    assert "leaflet@1.9.3/" in leaflet_cdn, "folium changed its Leaflet: re-vendor (static/vendor/fetch_assets.py)"
    assert "jquery-3.7.1" in jquery_cdn, "folium changed its jQuery: re-vendor (static/vendor/fetch_assets.py)"
    assert (webmap.VENDOR_DIR / "leaflet/leaflet.js").read_text().startswith("/* @preserve\n * Leaflet 1.9.3")
