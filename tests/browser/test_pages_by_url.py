"""The app as ``python3 run.py app`` opens it: on the bundled Southend workspace (three months
published by the weekly run). Every page opened first by its own URL (a bookmark), then
refreshed, in a new browser session each time; two sessions at once; a published file
downloaded and compared byte for byte with the workspace's file, then the page rerun. No
page shows an exception, and no request leaves the machine."""

from __future__ import annotations

import pytest

from harness import OUTPUT, ROOT, is_outside, start_streamlit, wait_for_app, wait_for_spots

pytest.importorskip("playwright.sync_api", reason="the playwright package is missing: pip install -e .[test]")
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

PAGES = {"": "Harm-spot map", "list": "Monthly list", "published": "Published lists", "model": "Risk terrain model",
         "data": "Data", "backtest": "Back-test",
         "settings": "List settings"}


@pytest.fixture(scope="module")
def southend_app(tmp_path_factory):
    """A server on the sample workspace, made as ``run.py app`` makes ``runs/southend``."""
    from harness import need_browser

    need_browser()
    from rtm.samples import SAMPLES
    from rtm.sample_workspace import ensure_sample_workspace

    if not SAMPLES["southend"].available():
        pytest.skip("the bundled Southend sample is missing (sample_geo/southend)")
    folder = ensure_sample_workspace(tmp_path_factory.mktemp("ws") / "southend")
    server = start_streamlit(ROOT / "streamlit_app.py", OUTPUT / "southend_workspace.log",
                             env={"RTM_WORKSPACE": str(folder)})
    yield server, folder
    server.stop()


def _no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.content()[:2000]
    assert "Traceback" not in page.inner_text("body")


@pytest.mark.slow
@pytest.mark.parametrize("path", list(PAGES))
def test_a_page_opened_first_by_its_url_and_refreshed_shows_no_error(path, southend_app, page):
    server, _ = southend_app
    url = f"http://127.0.0.1:{server.port}/{path}"
    for _ in range(2):  # the bookmark, then a refresh
        wait_for_app(page, url)
        page.get_by_role("heading", name=PAGES[path]).first.wait_for(timeout=90_000)
        _no_error(page)
        page.reload()


@pytest.mark.slow
def test_the_first_page_shows_the_latest_published_month(southend_app, page):
    server, _ = southend_app
    wait_for_app(page, f"http://127.0.0.1:{server.port}/")
    assert wait_for_spots(page, "all districts", timeout_s=120, period="Month March 2019") == 20
    _no_error(page)


@pytest.mark.slow
def test_a_published_file_downloads_byte_for_byte_then_the_page_reruns(southend_app, page):
    server, folder = southend_app
    wait_for_app(page, f"http://127.0.0.1:{server.port}/published")
    page.get_by_role("heading", name="Published lists").first.wait_for(timeout=90_000)
    for label, name in (("Briefing (PDF)", "harmspots_month_2019-03_briefing.pdf"),
                        ("Excel workbook", "harmspots_month_2019-03.xlsx")):
        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("button", name=label, exact=True).first.click()
        got = info.value.path().read_bytes()
        assert got == (folder / "lists" / "2019-03" / name).read_bytes(), name
    # a rerun: the page's period picker set to an earlier month
    # The download buttons rerun the page: a list opened during that rerun closes again, so wait
    # for the page to be idle and open it until the option shows.
    idle = "() => !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')"
    option = page.get_by_role("option", name="Month January 2019")
    for _ in range(6):
        page.wait_for_function(idle, timeout=60_000)
        page.locator('[data-testid="stSelectbox"]', has_text="Published month").first.click()
        try:
            option.wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    option.click(timeout=30_000)
    page.get_by_role("heading", name="Month January 2019: all districts").wait_for(timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')",
                           timeout=60_000)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="CSV", exact=True).first.click()
    assert info.value.path().read_bytes() == (folder / "lists" / "2019-01" / "harmspots_month_2019-01.csv").read_bytes()
    _no_error(page)


@pytest.mark.slow
def test_two_browsers_at_once_each_see_their_own_page_without_error(southend_app, _browser, request_log):
    """Two browser sessions open at the same time on different pages, then each refreshed: the
    map draws its spots in one while the other shows the published lists, and neither shows
    an error."""
    server, _ = southend_app
    contexts = [_browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    try:
        for ctx in contexts:
            ctx.route("**/*", lambda route: (request_log.urls.append(route.request.url),
                                             route.abort("blockedbyclient") if is_outside(route.request.url)
                                             else route.continue_()))
        first, second = (ctx.new_page() for ctx in contexts)
        base = f"http://127.0.0.1:{server.port}"
        first.goto(f"{base}/")  # both start loading before either has finished
        second.goto(f"{base}/published")
        for _ in range(2):  # as opened, then refreshed
            assert wait_for_spots(first, "all districts", timeout_s=120) > 0
            second.get_by_role("heading", name="Published lists").first.wait_for(timeout=120_000)
            for p in (first, second):
                _no_error(p)
            first.reload()
            second.reload()
    finally:
        for ctx in contexts:
            ctx.close()
    assert request_log.outside() == []
