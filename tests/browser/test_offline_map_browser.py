"""The offline map in a real Chromium: drawn, clickable, and not one request leaves the machine."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import folium
import pytest

from rtm.webmap import add_legend, offline_map, render_html

from harness import COMPONENT_FRAME, HANG_MS, SPOT_STROKE, wait_for_app

expect = pytest.importorskip("playwright.sync_api",
                             reason="the playwright package is missing: pip install -e .[test]").expect

HERE = Path(__file__).resolve().parent


@pytest.mark.slow
def test_offline_map_through_st_folium(streamlit_app, page, request_log, screenshot):
    app = streamlit_app(HERE / "demo_map_app.py")
    wait_for_app(page, app.url)
    frame = page.frame_locator(COMPONENT_FRAME)
    frame.locator(".leaflet-container").wait_for(timeout=HANG_MS)
    polygon = frame.locator("path.leaflet-interactive").first
    polygon.wait_for(timeout=HANG_MS)

    # the legend, the layer control and Leaflet's default marker image (inlined) are there
    assert "High" in frame.locator(".rtm-legend").inner_text()
    assert "Harm spots" in frame.locator(".leaflet-control-layers").inner_text()
    marker = frame.locator("img.leaflet-marker-icon")
    assert marker.get_attribute("src").startswith("data:image/png")
    assert marker.evaluate("img => img.complete && img.naturalWidth > 0")

    polygon.click()
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for(timeout=HANG_MS)
    assert "Harm spot 1" in popup.inner_text() and "412" in popup.inner_text()
    expect(frame.locator(".leaflet-popup")).to_have_css("opacity", "1")  # fade-in done
    shot = screenshot("map-with-popup")
    assert shot.stat().st_size > 10_000

    # the recording works: the component page itself was requested, from this machine
    assert any("/component/streamlit_folium" in u for u in request_log.urls)
    assert request_log.outside() == []


def test_saved_html_map_works_from_a_file(page, request_log, tmp_path, screenshot):
    m = offline_map(location=[51.54, 0.71], zoom_start=14)
    folium.GeoJson(
        {"type": "Polygon", "coordinates": [[[0.70, 51.535], [0.72, 51.535], [0.72, 51.548],
                                              [0.70, 51.548], [0.70, 51.535]]]},
        name="Area", popup=folium.Popup("Saved popup text"),
    ).add_to(m)
    add_legend(m, "Legend", [("Area", "#3388ff")])
    folium.LayerControl().add_to(m)
    path = tmp_path / "map.html"
    path.write_text(render_html(m))
    page.goto(path.as_uri())
    page.locator("path.leaflet-interactive").wait_for(timeout=HANG_MS)
    page.locator("path.leaflet-interactive").click()
    assert "Saved popup text" in page.locator(".leaflet-popup-content").inner_text(timeout=HANG_MS)
    expect(page.locator(".leaflet-popup")).to_have_css("opacity", "1")
    screenshot("saved-html")
    assert request_log.outside() == []


@pytest.mark.slow
def test_harness_fails_a_page_that_reaches_outside(tmp_path):
    """Run a throwaway test with this harness: a page asking for an outside image must FAIL it."""
    for name in ("conftest.py", "harness.py"):
        shutil.copy(HERE / name, tmp_path / name)
    (tmp_path / "test_leaky.py").write_text(textwrap.dedent("""
        def test_leaky(page):
            page.set_content('<img src="http://outside.example/pixel.png">')
            page.wait_for_timeout(500)
    """))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    if "1 skipped" in out:
        pytest.skip("the inner run skipped (no chromium/playwright)")
    assert proc.returncode == 1, out
    assert "1 failed" in out and "http://outside.example/pixel.png" in out, out


# -- the app's map on a workspace with a local tile set ---------------------------------------
def _map_frame(page):
    """The Playwright frame of the app's st_folium map."""
    for fr in page.frames:
        if "streamlit_folium" in fr.url:
            return fr
    raise AssertionError("no map frame")


def _zoom_to(page, zoom: int, latlng=None) -> None:
    """Set the app map's zoom (and centre) through its Leaflet map and wait for the zoom to end."""
    _map_frame(page).evaluate(
        """([z, ll]) => new Promise(done => { window.map.once('zoomend moveend', () => setTimeout(done, 300));
               if (ll) { window.map.setView(ll, z, {animate: false}); } else { window.map.setZoom(z, {animate: false}); } })""",
        [zoom, latlng])


@pytest.fixture
def tiled_workspace(tmp_path):
    """The Southend sample as a workspace whose basemap is a small MBTiles file made here
    (zooms 10-14 over the town); the app's copy of its tiles is removed afterwards."""
    sys.path.insert(0, str(HERE.parent))
    from tilesets import write_mbtiles

    from rtm import basemap
    from rtm.workspace_init import init_workspace

    folder = tmp_path / "ws"
    init_workspace(folder, sample="southend")
    n = write_mbtiles(folder / "town.mbtiles", attribution=None)
    toml = folder / "workspace.toml"
    toml.write_text(toml.read_text().replace("[basemap]\n", '[basemap]\nfile = "town.mbtiles"\n'))
    key = basemap.open_tileset(folder / "town.mbtiles").key
    yield folder, n, key
    shutil.rmtree(basemap.CACHE_DIR / key, ignore_errors=True)


@pytest.mark.slow
def test_app_map_with_local_tiles_street_names_collapsed_control_and_spots_on_top(
        tiled_workspace, page, request_log, screenshot, tmp_path):
    from harness import OUTPUT, ROOT, start_streamlit, wait_for_spots

    folder, n_tiles, key = tiled_workspace
    app = start_streamlit(ROOT / "streamlit_app.py", OUTPUT / "app-tiled-workspace.log",
                          env={"RTM_WORKSPACE": str(folder), "RTM_MODEL_DIR": str(tmp_path / "models")})
    try:
        wait_for_app(page, app.url)
        n = wait_for_spots(page, "all districts", timeout_s=120)
        frame = page.frame_locator(COMPONENT_FRAME)
        fr = _map_frame(page)

        # the tiles come from the app itself (/app/static/basemap/...) and are drawn
        tiles = frame.locator("img.leaflet-tile-loaded")
        tiles.first.wait_for(timeout=HANG_MS)
        srcs = [t.get_attribute("src") for t in tiles.all()]
        assert srcs and all(f"/app/static/basemap/{key}/" in s for s in srcs), srcs[:3]
        assert tiles.first.evaluate("img => img.complete && img.naturalWidth === 256")
        served = [u for u in request_log.urls if f"/app/static/basemap/{key}/" in u]
        assert served and all(u.startswith(app.url) for u in served), served[:3]
        # a missing attribution got a default, not a blank map
        assert "Basemap: test tiles" in frame.locator(".leaflet-control-attribution").inner_text()

        # the layer control is collapsed: its list is hidden until hovered
        control = frame.locator(".leaflet-control-layers")
        assert "leaflet-control-layers-expanded" not in (control.get_attribute("class") or "")
        assert not frame.locator(".leaflet-control-layers-list").is_visible()

        # the spots are drawn in their own pane above every other layer, below popups
        z = fr.evaluate("""() => { const z = n => +getComputedStyle(window.map.getPane(n)).zIndex;
                                   return [z('rtm-spots'), z('overlayPane'), z('markerPane'), z('popupPane')]; }""")
        assert z[0] > z[1] and z[0] > z[2] and z[0] < z[3], z
        in_pane = fr.evaluate(f"""() => window.map.getPane('rtm-spots')
                                         .querySelectorAll('path.leaflet-interactive[stroke="{SPOT_STROKE}"]').length""")
        assert in_pane == n
        shot = screenshot("county-scale")

        # street names: none at town scale, the incidents' "On or near" streets at street zoom
        assert frame.locator(".rtm-street-label").count() == 0
        first = fr.evaluate("() => { const b = window.map.getPane('rtm-spots').querySelector('path.leaflet-interactive')"
                            ".getBoundingClientRect(); const p = window.map.containerPointToLatLng("
                            "[b.x + b.width / 2, b.y + b.height / 2]); return [p.lat, p.lng]; }")
        _zoom_to(page, 16, first)
        labels = frame.locator(".rtm-street-label")
        assert labels.count() > 5
        text = " ".join(labels.all_inner_texts())
        assert "Street" in text or "Road" in text or "Avenue" in text, text[:300]
        assert "On or near" not in text
        assert tiles.count() > 0  # tiles stretched past the set's zoom 14
        screenshot("street-zoom")
        _zoom_to(page, 13)
        assert frame.locator(".rtm-street-label").count() == 0
    finally:
        app.stop()
    assert shot.stat().st_size > 10_000
    assert request_log.outside() == []


def test_legend_follows_its_layer_and_steps_aside_for_popups(page, request_log, tmp_path):
    """A saved map: the legend of a layer that starts off is hidden, shows when the layer is
    switched on in the (collapsed) layer control, and hides while a popup is open."""
    m = offline_map(location=[51.54, 0.71], zoom_start=14)
    area = folium.GeoJson({"type": "Polygon", "coordinates": [[[0.70, 51.535], [0.72, 51.535], [0.72, 51.548],
                                                                 [0.70, 51.548], [0.70, 51.535]]]},
                          name="Area", popup=folium.Popup("Area popup")).add_to(m)
    off = folium.FeatureGroup(name="Second layer", show=False).add_to(m)
    folium.CircleMarker([51.541, 0.705], radius=5).add_to(off)
    add_legend(m, "Area legend", [("Area", "#3388ff")], layer=area)
    add_legend(m, "Second legend", [("Dot", "#ff0000")], layer=off)
    folium.LayerControl(collapsed=True).add_to(m)
    path = tmp_path / "map.html"
    path.write_text(render_html(m))
    page.goto(path.as_uri())
    page.locator("path.leaflet-interactive").first.wait_for(timeout=HANG_MS)
    legends = page.locator(".rtm-legend")
    assert legends.all_inner_texts() == ["Area legend\nArea"]
    page.locator(".leaflet-control-layers").hover()
    page.locator(".leaflet-control-layers-overlays label", has_text="Second layer").locator("input").click()
    assert "Second legend" in " ".join(legends.all_inner_texts())
    page.locator(".leaflet-control-layers-overlays label", has_text="Area").locator("input").click()
    assert "Area legend" not in " ".join(legends.all_inner_texts())
    page.locator(".leaflet-control-layers-overlays label", has_text="Area").locator("input").click()
    page.mouse.move(5, 5)
    page.locator('path.leaflet-interactive[fill="#3388ff"]').click()
    page.locator(".leaflet-popup-content").wait_for(timeout=HANG_MS)
    expect(legends.first).to_be_hidden()
    page.locator(".leaflet-popup-close-button").click()
    expect(legends.first).to_be_visible()
    assert request_log.outside() == []
