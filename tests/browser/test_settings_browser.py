"""The List settings page in Chromium: an exclusion zone drawn on the map with Leaflet.draw's
rectangle tool (its files inlined, nothing fetched from a CDN) is saved for the session and
listed by name, with no outside request and no error."""

from __future__ import annotations

import pytest

from harness import COMPONENT_FRAME, wait_for_app

pytest.importorskip("playwright.sync_api", reason="the playwright package is missing: pip install -e .[test]")


@pytest.mark.slow
def test_a_zone_drawn_on_the_map_is_saved_for_the_session(streamlit_app, page, request_log, screenshot):
    server = streamlit_app("streamlit_app.py")
    wait_for_app(page, f"http://127.0.0.1:{server.port}/settings")
    page.get_by_role("heading", name="List settings").first.wait_for(timeout=90_000)
    page.get_by_role("tab", name="Draw on the map").click()
    frame = page.frame_locator(COMPONENT_FRAME)
    tool = frame.locator("a.leaflet-draw-draw-rectangle")
    tool.wait_for(timeout=60_000)
    tool.click()  # scrolls the map into view: measure it after
    box = page.locator(COMPONENT_FRAME).bounding_box()
    x, y = box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.45
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y + 40, steps=8)
    page.mouse.up()
    frame.locator('path[stroke="#6a1b9a"]').first.wait_for(timeout=10_000)  # the drawn rectangle
    page.wait_for_timeout(1500)  # the component hands the drawing back to the script (a rerun)
    page.get_by_label("Name of the drawn zones").fill("Custody <i>suite</i>")
    page.get_by_label("Name of the drawn zones").press("Enter")
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Save the drawn zones").click()
    page.get_by_text("1 exclusion zone(s) hold for this session.").wait_for(timeout=60_000)
    screenshot("zone-saved")
    body = page.inner_text("body")
    assert "Traceback" not in body and page.locator('[data-testid="stException"]').count() == 0
    assert page.locator("i", has_text="suite").count() == 0  # the typed name is never rendered as HTML
    assert request_log.outside() == []
