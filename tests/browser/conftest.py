"""Browser test harness: a real Streamlit server, a real Chromium, and no outside requests.

Fixtures (use them from any test under ``tests/browser/``):

``streamlit_app``
    A function ``streamlit_app(script) -> AppServer``: starts ``streamlit run <script>`` (a
    path, absolute or relative to the repository) on a free loopback port with the repository's
    ``.streamlit/config.toml`` (the server runs in the repository folder), waits for
    ``/_stcore/health`` and returns an :class:`AppServer` with ``.url``. One server per
    script for the whole test session, stopped at the end; its output goes to
    ``tests/browser/output/<script>.log``.
``page``
    A fresh Playwright page in the system Chromium (``/usr/bin/chromium``, or
    ``$RTM_CHROMIUM``), one browser context per test. Every request the page (or its iframes)
    makes is recorded; a request to any host but ``localhost``/``127.0.0.1``/``::1`` is
    aborted and makes the test FAIL, with the list of addresses. ``data:``/``blob:`` URLs never
    leave the browser and are not requests to a host. On failure a screenshot is saved.
``request_log``
    The :class:`RequestLog` of the test's page (``.urls``, ``.outside()``).
``screenshot``
    A function ``screenshot(name, target=None) -> Path`` that saves a PNG of the page (or of
    a locator) into ``tests/browser/output/<test>-<name>.png``.

``streamlit_app``, ``page`` and ``screenshot`` skip the test with the reason when ``/usr/bin/chromium`` or the ``playwright``
package is missing (``.ci/run`` installs Debian's chromium; ``pip install -e .[test]`` brings
playwright; ``playwright install`` is not needed and cannot work offline).

Helpers in ``harness.py``: :func:`wait_for_app` (page loaded and the script run finished),
:func:`wait_for_spots` (the app's map shows every harm spot its caption announces),
:func:`start_and_open` (start a server and time it to the drawn map; also used by
``bench/bench_app_start.py``) and :data:`COMPONENT_FRAME` (the selector of a ``st_folium``
map's iframe).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from harness import (CHROMIUM, CHROMIUM_ARGS, OUTPUT, ROOT, AppServer, RequestLog, is_outside,
                     need_browser, slug, start_streamlit)


@pytest.fixture(scope="session")
def streamlit_app() -> Iterator[Callable[[str | Path], AppServer]]:
    """A function ``start(script) -> AppServer``; one server per script, all stopped at the end."""
    need_browser()  # no point starting servers that no browser will visit
    servers: dict[Path, AppServer] = {}

    def start(script: str | Path) -> AppServer:
        path = Path(script)
        path = (path if path.is_absolute() else ROOT / path).resolve()
        if not path.is_file():
            raise FileNotFoundError(path)
        if path not in servers or servers[path].process.poll() is not None:
            servers[path] = start_streamlit(path, OUTPUT / f"{slug(path.stem)}.log")
        return servers[path]

    yield start
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def _browser():
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def request_log() -> RequestLog:
    """The request record of this test's ``page``."""
    return RequestLog()


@pytest.fixture
def page(_browser, request_log: RequestLog, request):
    """A new Chromium page; outside requests are aborted, recorded and fail the test."""
    context = _browser.new_context(viewport={"width": 1280, "height": 900})

    def on_route(route):
        url = route.request.url
        request_log.urls.append(url)
        if is_outside(url):
            route.abort("blockedbyclient")
        else:
            route.continue_()

    context.route("**/*", on_route)  # covers iframes and workers of this context too
    page = context.new_page()
    request.node._rtm_request_log = request_log
    request.node._rtm_page = page
    yield page
    context.close()


@pytest.fixture
def screenshot(page, request) -> Callable[..., Path]:
    """A function ``screenshot(name, target=None) -> Path`` saving a PNG into tests/browser/output/."""

    def take(name: str, target=None) -> Path:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        path = OUTPUT / f"{slug(request.node.name)}-{slug(name)}.png"
        (target or page).screenshot(path=str(path))
        return path

    return take


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Turn a passing browser test into a failure when its page made outside requests."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call":
        return
    log: RequestLog | None = getattr(item, "_rtm_request_log", None)
    if log is not None and log.outside():
        message = "requests to hosts other than localhost/127.0.0.1:\n  " + "\n  ".join(log.outside())
        report.outcome = "failed"
        report.longrepr = message if report.longrepr is None else f"{report.longrepr}\n\n{message}"
    if report.failed:
        page = getattr(item, "_rtm_page", None)
        if page is not None:
            try:
                OUTPUT.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(OUTPUT / f"{slug(item.name)}-FAILED.png"))
            except Exception:  # the page may be gone; the failure itself is what matters
                pass
