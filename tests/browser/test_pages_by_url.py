"""Every page of the app opened first by its own URL (a bookmark), then refreshed, in a new
browser session each time: the page shows its title and never an exception."""

from __future__ import annotations

import pytest

from harness import wait_for_app

pytest.importorskip("playwright.sync_api", reason="the playwright package is missing: pip install -e .[test]")

PAGES = {"": "Harm-spot map", "list": "Weekly list", "model": "Risk terrain model", "data": "Data",
         "backtest": "Back-test", "settings": "List settings"}


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


@pytest.mark.slow
def test_two_browsers_at_once_each_see_their_own_page_without_error(streamlit_app, _browser, request_log):
    """Two browser sessions open at the same time on different pages, then each refreshed: the
    map draws its spots in one while the other shows the list, and neither shows an error."""
    from harness import is_outside, wait_for_spots

    server = streamlit_app("streamlit_app.py")
    contexts = [_browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    try:
        for ctx in contexts:
            ctx.route("**/*", lambda route: (request_log.urls.append(route.request.url),
                                             route.abort("blockedbyclient") if is_outside(route.request.url)
                                             else route.continue_()))
        first, second = (ctx.new_page() for ctx in contexts)
        base = f"http://127.0.0.1:{server.port}"
        first.goto(f"{base}/")  # both start loading before either has finished
        second.goto(f"{base}/list")
        for _ in range(2):  # as opened, then refreshed
            assert wait_for_spots(first, "all districts", timeout_s=120) > 0
            second.get_by_role("heading", name="Weekly list").first.wait_for(timeout=120_000)
            for page in (first, second):
                assert page.locator('[data-testid="stException"]').count() == 0
                assert "Traceback" not in page.inner_text("body")
            first.reload()
            second.reload()
    finally:
        for ctx in contexts:
            ctx.close()
    assert request_log.outside() == []
