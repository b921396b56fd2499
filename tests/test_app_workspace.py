"""The app on a force workspace (RTM_WORKSPACE): it opens on the workspace's data at the period
the weekly run makes next, reads the terrain the weekly run fitted, and publishes into the
workspace through the weekly job's call."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from rtm.archive import Archive
from rtm.cli import main
from rtm.samples import SAMPLES

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not SAMPLES["chicago"].available(), reason="the bundled Chicago sample is missing")


@pytest.fixture(scope="module")
def chicago_ws(tmp_path_factory) -> Path:
    """A workspace on the Chicago sample whose weekly run has published the week after the data."""
    folder = tmp_path_factory.mktemp("ws") / "chicago"
    for args in (["init", str(folder), "--sample", "chicago"], ["weekly", "--workspace", str(folder)]):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 0, res.output
    return folder


def _app(monkeypatch, folder: Path) -> AppTest:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    monkeypatch.setenv("RTM_WORKSPACE", str(folder))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def test_the_app_opens_on_the_workspace_at_the_period_the_weekly_run_published(chicago_ws, monkeypatch):
    at = _app(monkeypatch, chicago_ws)
    assert at.selectbox(key="data_choice").value == "workspace"
    view = at.session_state["_view"]
    published = Archive(chicago_ws / "archive.sqlite").periods()["period_key"].tolist()
    assert view.period.key == published[-1] == "2020-01-06"  # the data ends on Tue 31 Dec 2019
    from app_pages import common

    entry = common.fitted(view.ds, view.model, view.period)
    assert entry.how == "read"  # the terrain the weekly run fitted, from the workspace's models/
    assert Path(common.terrain_store(view.ds, view.model).folder) == chicago_ws / "models"


def test_publishing_from_the_app_writes_into_the_workspace(chicago_ws, monkeypatch):
    at = _app(monkeypatch, chicago_ws)
    at.switch_page("app_pages/list_page.py").run()
    at.selectbox(key="period_workspace-chicago").set_value(1).run()  # the week before the newest
    at.button(key="publish").click().run()
    assert not at.exception and not at.error
    view = at.session_state["_view"]
    assert (chicago_ws / "lists" / view.period.key).is_dir()
    keys = Archive(chicago_ws / "archive.sqlite").periods()["period_key"].tolist()
    assert view.period.key in keys and "2020-01-06" in keys


def test_movement_in_the_app_comes_from_the_workspace_archive(chicago_ws, monkeypatch):
    for week in ("2019-12-30", "2020-01-06"):  # the week before, then the newest again: movement against it
        res = CliRunner().invoke(main, ["weekly", "--workspace", str(chicago_ws), "--week", week])
        assert res.exit_code == 0, res.output
    at = _app(monkeypatch, chicago_ws)
    from app_pages import common

    view = at.session_state["_view"]
    lst, _ = common.harm_list(view.ds, view.model, view.period)
    published = Archive(chicago_ws / "archive.sqlite").spots_of("week", "2020-01-06")
    assert list(lst.spots["spot_id"]) == list(published["spot_id"])
    assert list(lst.spots["movement"]) == list(published["movement"])
    assert list(lst.spots["weeks_on_list"]) == list(published["weeks_on_list"])
    assert (published["movement"] != "new").any()
