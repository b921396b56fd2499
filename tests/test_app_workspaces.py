"""The app's workspace picker and "Upload your own data" (issue 13 point 2): uploaded files
become a new workspace under the workspaces folder, opened at once and kept in the page
address, so a new session (a refresh, a bookmark) opens it again; nothing is left in a
per-session folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from rtm.samples import SAMPLE_DIR, SAMPLES
from rtm.workspace import load_workspace

ROOT = Path(__file__).resolve().parents[1]
SOUTHEND = SAMPLE_DIR / "southend"
pytestmark = pytest.mark.skipif(not (SAMPLES["southend"].available() and SAMPLES["chicago"].available()),
                                reason="the bundled sample data (sample_geo/) is missing")


@pytest.fixture
def roots(tmp_path, monkeypatch):
    """An empty workspaces folder (RTM_WORKSPACES_DIR) and scratch folder (RTM_UPLOAD_DIR)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    monkeypatch.delenv("RTM_WORKSPACE", raising=False)
    monkeypatch.setenv("RTM_WORKSPACES_DIR", str(tmp_path / "workspaces"))
    monkeypatch.setenv("RTM_UPLOAD_DIR", str(tmp_path / "scratch"))
    return tmp_path / "workspaces", tmp_path / "scratch"


def _session(workspace: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180)
    if workspace is not None:
        at.query_params["workspace"] = workspace
    at.run()
    assert not at.exception, at.exception
    return at


def _upload(at: AppTest, name: str, boundary: bytes = None) -> AppTest:
    at.switch_page("app_pages/data_page.py").run()
    at.text_input(key="up_name").input(name)
    crime = sorted((SOUTHEND / "crime").glob("*.csv"))[:3]
    at.file_uploader(key="up_incidents").set_value([(p.name, p.read_bytes(), "text/csv") for p in crime])
    at.file_uploader(key="up_areas").set_value(
        ("lsoa.geojson", boundary or (SOUTHEND / "southend_lsoa2011.geojson").read_bytes(), "application/json"))
    at.file_uploader(key="up_layers").set_value(
        [("pubs.geojson", (SOUTHEND / "pubs.geojson").read_bytes(), "application/json")])
    at.run()
    at.button(key="make_workspace").click().run()
    return at


def test_uploaded_data_becomes_a_workspace_that_a_new_session_reopens(roots):
    root, scratch = roots
    at = _upload(_session(), "Southend *upload*")
    assert not at.exception and not at.error, [e.value for e in at.error]
    folder = root / "Southend-upload"
    assert load_workspace(folder).name == "Southend *upload*"
    assert [f.name for f in load_workspace(folder).job.terrain.factors] == ["pubs"]
    assert at.selectbox(key="data_choice").value == "ws:Southend-upload"
    assert at.query_params["workspace"] == "Southend-upload"
    view = at.session_state["_view"]
    assert view.ds.workspace.folder == folder.resolve() and view.ds.incidents.report.rows_used > 0
    assert [p.name for p in root.iterdir()] == ["Southend-upload"]  # no hidden half-made folder
    assert not list(scratch.iterdir())  # the uploads' scratch folders are gone
    # a refresh or a bookmark: a new session with the same address opens the workspace
    again = _session("Southend-upload")
    assert again.selectbox(key="data_choice").value == "ws:Southend-upload"
    assert again.session_state["_view"].ds.workspace.folder == folder.resolve()
    # a session without the address opens on the default sample, and offers the workspace
    plain = _session()
    assert plain.selectbox(key="data_choice").value == "chicago"
    assert "Workspace: Southend-upload" in plain.selectbox(key="data_choice").options


def test_a_bad_upload_says_why_and_leaves_no_workspace(roots):
    root, scratch = roots
    at = _upload(_session(), "Broken", boundary=b'{"type": "FeatureCollection", "features": [')
    assert not at.exception
    assert any("could not be used" in e.value for e in at.error)
    assert at.selectbox(key="data_choice").value == "chicago"
    assert not root.exists() or not list(root.iterdir())
    assert not list(scratch.iterdir())


def test_an_address_naming_no_workspace_opens_the_default_and_says_so(roots):
    at = _session("../../etc")
    assert at.selectbox(key="data_choice").value == "chicago"
    assert any("names a workspace that is not" in w.value for w in at.warning)
    assert "workspace" not in at.query_params


def test_patrol_files_are_read_from_a_scratch_folder_that_is_then_removed(roots):
    """The map page's patrol dose: the uploaded pings are read and their folder removed."""
    from rtm.workspace_new import NewWorkspace, create_workspace

    root, scratch = roots
    folder, *_ = create_workspace(root, NewWorkspace("Patrols", sorted((SOUTHEND / "crime").glob("*.csv")),
                                                     SOUTHEND / "southend_lsoa2011.geojson", "LSOA11NM",
                                                     tolerance_m=150.0))
    at = _session(folder.name)
    from app_pages import common

    view = at.session_state["_view"]
    lst, _ = common.harm_list(view.ds, view.model, view.period)
    c = lst.spots.to_crs(27700).geometry.iloc[0].centroid
    start = view.period.start
    rows = "".join(f"P1,{(start + pd.Timedelta(minutes=m)).strftime('%d/%m/%Y %H:%M:%S')},"
                   f"{c.x + m:.1f},{c.y:.1f}\n" for m in range(0, 30, 2))
    at.file_uploader(key="patrol_files").set_value(
        [("radio.csv", ("Officer ID,Timestamp,Easting,Northing\n" + rows).encode(), "text/csv")]).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Dose delivered" in c.value for c in at.caption)
    assert not list(scratch.iterdir())
