"""Helpers behind the browser fixtures in ``conftest.py``: the Streamlit server, the request check.

Import them in a browser test with ``from harness import ...`` (pytest puts this folder on
``sys.path``).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(__file__).resolve().parent / "output"
CHROMIUM = os.environ.get("RTM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
START_TIMEOUT_S = 120
#: how long a browser test waits for something to appear: a guard against hangs, not a speed
#: limit (the machine's speed drifts 2-4x; speed is judged in bench/)
HANG_MS = 120_000
COMPONENT_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
"""CSS selector of the iframe ``st_folium`` draws its map in (use with ``page.frame_locator``)."""
SPOT_STROKE = "#000000"
"""Outline colour of a harm spot on the app's map (``rtm.mapview.SPOT_COLOUR``, not imported
so the test process stays light)."""


def need_browser() -> None:
    """Skip the calling test, saying why, when Chromium or playwright is missing."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} is missing: browser tests need Debian's chromium "
                    "(apt-get install chromium; .ci/run does this as root)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright package is missing: pip install -e .[test]")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:120]


@dataclass
class AppServer:
    """A running ``streamlit run`` subprocess: ``url`` (ends with /), ``script``, ``log`` path."""

    script: Path
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}/"

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 10 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_streamlit(script: Path, log: Path, timeout_s: float = START_TIMEOUT_S,
                    env: dict | None = None) -> AppServer:
    """Start ``streamlit run script`` on a free loopback port and wait until it is healthy.

    Takes the script path, a log file path and extra environment variables (``env``, e.g.
    ``RTM_MODEL_DIR``). Returns the :class:`AppServer`. Raises RuntimeError (with the log)
    if the server exits or is not healthy within ``timeout_s``.
    """
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(script),
           "--server.port", str(port), "--server.headless", "true",
           "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:  # the child keeps its own handle
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    server = AppServer(script=script, port=port, process=proc, log=log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            pass
        time.sleep(0.05)  # fine-grained: the start-up figures are timed from here
    server.stop()
    raise RuntimeError(f"streamlit not healthy after {timeout_s} s:\n{log.read_text(errors='replace')}")


@dataclass
class RequestLog:
    """Every URL a page asked for (``urls``), and those aimed at outside hosts (``outside()``)."""

    urls: list[str] = field(default_factory=list)

    def outside(self) -> list[str]:
        """The recorded URLs whose host is not loopback, in request order."""
        return [url for url in self.urls if is_outside(url)]


def is_outside(url: str) -> bool:
    """True when a browser request for ``url`` would leave the machine.

    ``data:``, ``blob:``, ``about:`` and ``file:`` URLs never reach a host; anything else counts as
    outside unless its host is ``localhost``, ``127.0.0.1`` or ``::1``.
    """
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "file", "chrome-error"):
        return False
    return (parts.hostname or "").lower() not in LOCAL_HOSTS


def wait_for_app(page, url: str, timeout_ms: int = HANG_MS) -> None:
    """Open a Streamlit page and wait until its script run has finished.

    Takes the Playwright page, the app URL and a timeout. Returns nothing; raises Playwright's
    TimeoutError if the app does not settle.
    """
    page.goto(url)
    page.locator('[data-testid="stApp"]').wait_for(timeout=timeout_ms)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        " && !document.querySelector('[data-testid=\"stStatusWidget\"] [data-testid=\"stStatusWidgetRunningIcon\"]')"
        " && document.querySelector('[data-testid=\"stMainBlockContainer\"], [data-testid=\"stAppViewBlockContainer\"]')",
        timeout=timeout_ms)


def _spot_count(frame) -> int:
    return frame.locator(f'path.leaflet-interactive[stroke="{SPOT_STROKE}"]').count()


def _caption_spots(page) -> tuple[str, int]:
    """The map page's caption: (what is shown, number of spots)."""
    text = page.locator('[data-testid="stCaptionContainer"]', has_text="harm spot(s)").first.inner_text()
    m = re.search(r" - (.+?): (\d+) harm spot", text)
    assert m, text
    return m.group(1), int(m.group(2))


def wait_for_spots(page, where: str, timeout_s: float = HANG_MS / 1000, period: str = "") -> int:
    """Wait until the app's map caption names ``where`` (and starts with ``period``) and the
    map frame draws as many spots as it says; returns that number (AssertionError after
    ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    frame = page.frame_locator(COMPONENT_FRAME)
    while time.monotonic() < deadline:
        try:
            shown, n = _caption_spots(page)
            head = page.locator('[data-testid="stCaptionContainer"]', has_text="harm spot(s)").first.inner_text()
            if shown == where and head.startswith(period) and n > 0 and _spot_count(frame) == n:
                return n
        except Exception:  # noqa: BLE001 - the page is re-rendering; try again
            pass
        page.wait_for_timeout(25)
    raise AssertionError(f"the map did not show the spots of {where!r} within {timeout_s} s")


def start_and_open(page, script: Path, log: Path, env: dict | None = None,
                   where: str | None = "all districts") -> tuple[AppServer, float, int]:
    """Start ``script``'s server (:func:`start_streamlit`) and open it in ``page``.

    Returns the server, the seconds from starting the server process to the map drawn (with
    every harm spot of ``where`` when given, else its first drawn shape) and the number of
    spots (0 without ``where``). The server is stopped on failure; otherwise the caller stops it.
    """
    t0 = time.monotonic()
    app = start_streamlit(script, log, env=env)
    try:
        wait_for_app(page, app.url)
        frame = page.frame_locator(COMPONENT_FRAME)
        frame.locator(".leaflet-container").wait_for(timeout=HANG_MS)
        if where is None:
            frame.locator("path.leaflet-interactive").first.wait_for(timeout=HANG_MS)
            n = 0
        else:
            n = wait_for_spots(page, where)
    except BaseException:
        app.stop()
        raise
    return app, time.monotonic() - t0, n


def pick(page, label: str, option: str) -> None:
    """Choose ``option`` in the app's sidebar select box labelled ``label`` (Playwright page)."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]', has_text=label).first
    box.locator("input").click()
    page.get_by_role("option", name=option, exact=True).first.click()
