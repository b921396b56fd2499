"""Benchmark: the app's first page, from starting the server to the harm spots drawn in Chromium.

What is timed, as in ``tests/browser/test_app_browser.py``: ``streamlit run
streamlit_app.py`` is started on a free loopback port, Chromium (Debian's, headless) opens
the app, and the clock stops when the map frame draws every harm spot the page's caption
announces (80 for all districts of the Chicago sample). Each repeat times two starts:

* first start: an empty model folder (``RTM_MODEL_DIR``), so the risk terrain of the
  default week is fitted, as on a new machine or after an update of the model code;
* restart: the same folder again, so the kept terrain is read instead; then, in that page,
  the map redrawn after picking district 12 and after picking another week (the spots of
  the new choice drawn; target 2 s each);

* workspace, lists published: the bundled Southend sample workspace as ``python3 run.py
  app`` opens it (``RTM_WORKSPACE``), its last three months published by the weekly run
  before timing (:func:`rtm.sample_workspace.ensure_sample_workspace`, not timed): the
  first page of the latest published month, its terrain read from the workspace's models.

Peer, timed in the same run: ``tests/browser/demo_map_app.py``, a page with a one-polygon
offline folium map through ``st_folium`` and no data: what Streamlit, streamlit-folium
and Chromium cost before the app does anything. Target (issue 6): under 5 s.

Run: ``.venv/bin/python bench/bench_app_start.py`` (``--repeat 5``; ``--only workspace`` times
the workspace and the peer only); needs /usr/bin/chromium
and playwright (``pip install -e .[test]``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

sys.path.insert(0, str(ROOT))

import run as run_py  # noqa: E402  (the set-up script: its compile_app step)
from harness import CHROMIUM, CHROMIUM_ARGS, pick, start_and_open, wait_for_spots  # noqa: E402

TARGET_S = 5.0
REDRAW_S = 2.0
"""Issue 6: the map redrawn within this after switching district or week."""
AIM_RATIO = 1.5
"""Issue 13: with lists published, the first page at most this many times the peer."""


def time_start(browser, script: Path, log: Path, env: dict, spots: bool) -> float:
    """Seconds from starting ``script``'s server to its map drawn (every spot when ``spots``),
    in a new browser context (nothing cached)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        app, seconds, _ = start_and_open(context.new_page(), script, log, env=env,
                                         where="all districts" if spots else None)
        app.stop()
        return seconds
    finally:
        context.close()


def time_redraws(browser, script: Path, log: Path, env: dict) -> tuple[float, float]:
    """Seconds to redraw the map after picking district 12, then after picking the next week
    in the sidebar, each until every spot of the new choice is drawn (a restart of
    ``script``'s server, not timed, in a new browser context)."""
    import time

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        app, _, _ = start_and_open(page, script, log, env=env)
        try:
            t = time.monotonic()
            pick(page, "District", "12")
            wait_for_spots(page, "12")
            district_s = time.monotonic() - t
            week_box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]', has_text="Week").first
            t = time.monotonic()
            week_box.locator("input").click()
            option = page.get_by_role("option").nth(1)
            week = option.inner_text()
            option.click()
            wait_for_spots(page, "12", period=week)
            return district_s, time.monotonic() - t
        finally:
            app.stop()
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=["workspace"], help="time only the workspace start and the peer")
    args = parser.parse_args()
    from rtm.sample_workspace import ensure_sample_workspace
    from playwright.sync_api import sync_playwright

    run_py.compile_app(python=sys.executable)  # as `python3 run.py app` does before it starts the server

    logs = Path(tempfile.mkdtemp(prefix="bench-app-"))
    workspace = ensure_sample_workspace(logs / "southend")  # three months published, not timed
    runs = {} if args.only else {"first start": [], "restart": [], "redraw: district": [], "redraw: week": []}
    runs.update({"workspace, published": [], "peer: demo map": []})
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for i in range(args.repeat):
            models = logs / f"models-{i}"
            env = {"RTM_MODEL_DIR": str(models)}
            if not args.only:
                app = ROOT / "streamlit_app.py"
                runs["first start"].append(time_start(browser, app, logs / "first.log", env, True))
                runs["restart"].append(time_start(browser, app, logs / "restart.log", env, True))
                for key, seconds in zip(("redraw: district", "redraw: week"),
                                        time_redraws(browser, app, logs / "redraw.log", env)):
                    runs[key].append(seconds)
            runs["workspace, published"].append(time_start(browser, ROOT / "streamlit_app.py", logs / "ws.log",
                                                           {"RTM_WORKSPACE": str(workspace)}, True))
            runs["peer: demo map"].append(time_start(browser, ROOT / "tests/browser/demo_map_app.py",
                                                     logs / "demo.log", {}, False))
            print(f"run {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in runs.items()), flush=True)
        browser.close()
    peer = statistics.median(runs["peer: demo map"])
    print(f"\nserver start to first page with the map drawn, and map redrawn after a switch, {args.repeat} runs "
          "(median, min-max):")
    for name, values in runs.items():
        med = statistics.median(values)
        line = f"  {name:20s} {med:5.2f} s  ({min(values):.2f}-{max(values):.2f})"
        if name.startswith("redraw"):
            line += f"  {med / peer:.2f} x the peer's start  target {REDRAW_S:.0f} s: " \
                    f"{'met' if med < REDRAW_S else 'NOT met'}"
        elif not name.startswith("peer"):
            line += f"  {med / peer:.2f} x the peer  target {TARGET_S:.0f} s: {'met' if med < TARGET_S else 'NOT met'}"
            if name.startswith("workspace"):
                line += f", aim {AIM_RATIO} x the peer: {'met' if med / peer <= AIM_RATIO else 'NOT met'}"
        print(line)


if __name__ == "__main__":
    main()
