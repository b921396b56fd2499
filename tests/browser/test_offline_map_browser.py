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

from harness import COMPONENT_FRAME, wait_for_app

expect = pytest.importorskip("playwright.sync_api",
                             reason="the playwright package is missing: pip install -e .[test]").expect

HERE = Path(__file__).resolve().parent


@pytest.mark.slow
def test_offline_map_through_st_folium(streamlit_app, page, request_log, screenshot):
    app = streamlit_app(HERE / "demo_map_app.py")
    wait_for_app(page, app.url)
    frame = page.frame_locator(COMPONENT_FRAME)
    frame.locator(".leaflet-container").wait_for(timeout=30_000)
    polygon = frame.locator("path.leaflet-interactive").first
    polygon.wait_for(timeout=30_000)

    # the legend, the layer control and Leaflet's default marker image (inlined) are there
    assert "High" in frame.locator(".rtm-legend").inner_text()
    assert "Harm spots" in frame.locator(".leaflet-control-layers").inner_text()
    marker = frame.locator("img.leaflet-marker-icon")
    assert marker.get_attribute("src").startswith("data:image/png")
    assert marker.evaluate("img => img.complete && img.naturalWidth > 0")

    polygon.click()
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10_000)
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
    page.locator("path.leaflet-interactive").wait_for(timeout=10_000)
    page.locator("path.leaflet-interactive").click()
    assert "Saved popup text" in page.locator(".leaflet-popup-content").inner_text(timeout=10_000)
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
