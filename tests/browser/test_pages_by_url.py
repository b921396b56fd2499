"""Every page of the app opened first by its own URL (a bookmark), then refreshed, in a new
browser session each time: the page shows its title and never an exception."""

from __future__ import annotations

import pytest

from harness import wait_for_app

pytest.importorskip("playwright.sync_api", reason="the playwright package is missing: pip install -e .[test]")

PAGES = {"": "Harm-spot map", "list": "Weekly list", "model": "Risk terrain model", "data": "Data",
         "backtest": "Back-test"}


@pytest.mark.slow
@pytest.mark.parametrize("path", list(PAGES))
def test_a_page_opened_first_by_its_url_and_refreshed_shows_no_error(path, streamlit_app, page):
    server = streamlit_app("streamlit_app.py")
    url = f"http://127.0.0.1:{server.port}/{path}"
    for _ in range(2):  # the bookmark, then a refresh
        wait_for_app(page, url)
        page.get_by_role("heading", name=PAGES[path]).first.wait_for(timeout=90_000)
        assert page.locator('[data-testid="stException"]').count() == 0, page.content()[:2000]
        assert "Traceback" not in page.inner_text("body")
        page.reload()
