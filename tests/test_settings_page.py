"""The List settings page, run headless with AppTest: on a workspace it saves into
workspace.toml and a new session shows what was saved; with no workspace it holds the settings
for the session and the session's lists follow them; bad values give a message naming the
district and the fix, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from rtm.cli import main
from rtm.samples import SAMPLES
from rtm.workspace import CONFIG, load_workspace
from rtm.workspace_edit import DEFAULT_ROW, ListChoices

ROOT = Path(__file__).resolve().parents[1]
PAGE = "app_pages/settings_page.py"
SUBMIT_WS = "FormSubmitter:list_settings_form-Save to the workspace"
SUBMIT_SESSION = "FormSubmitter:list_settings_form-Use for this session"


def _open(monkeypatch, workspace: Path | None, page: str = PAGE) -> AppTest:
    """A new session of the app, switched to ``page``."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if workspace is None:
        monkeypatch.delenv("RTM_WORKSPACE", raising=False)
    else:
        monkeypatch.setenv("RTM_WORKSPACE", str(workspace))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _edit(at: AppTest, rows: dict, version: int = 0) -> None:
    """Seed the size table's cell edits (AppTest's way of typing into a data editor)."""
    at.session_state[f"size_table_{version}"] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}


def _shown(element) -> str:
    """An element's text as the reader sees it (Markdown escapes removed)."""
    return element.value.replace("\\", "")


def _no_traceback(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not any("Traceback" in e.value for e in at.error)


@pytest.fixture
def southend_ws(tmp_path) -> Path:
    folder = tmp_path / "southend"
    res = CliRunner().invoke(main, ["init", str(folder), "--sample", "southend"])
    assert res.exit_code == 0, res.output
    return folder


@pytest.mark.skipif(not SAMPLES["southend"].available(), reason="the bundled Southend sample is missing")
def test_saving_into_the_workspace_and_a_new_session_shows_the_saved_values(southend_ws, monkeypatch):
    at = _open(monkeypatch, southend_ws)
    assert "saved into its workspace.toml" in at.caption[0].value
    shift = at.selectbox(key="shift_pick_0")
    assert shift.disabled and any("by month only" in c.value for c in at.caption)  # police.uk: no times
    offences = at.multiselect(key="offences_0")
    assert "Robbery (302 incidents)" in offences.options  # the types in the data, with their counts
    _edit(at, {0: {"spots": 12}})
    offences.set_value(["Robbery", "Drugs"])
    at.button(key=SUBMIT_WS).click().run()
    _no_traceback(at)
    assert not at.error, [e.value for e in at.error]
    assert any("Saved in the workspace" in s.value for s in at.success)
    text = (southend_ws / CONFIG).read_text()
    assert "spots = 12" in text and 'offences = ["Robbery", "Drugs"]' in text
    assert "# the square patrolled, in metres" in text  # comments kept
    assert ListChoices.of(load_workspace(southend_ws)) == ListChoices(spots=12, offences=("Robbery", "Drugs"))
    assert "the top 12 spots" in " ".join(_shown(c) for c in at.caption)
    at.switch_page("app_pages/list_page.py").run()  # the app's own list follows the saved settings at once
    _no_traceback(at)
    listed = at.dataframe[0].value
    assert len(listed) == 12

    again = _open(monkeypatch, southend_ws)  # a new session (a reload): the saved values
    table = again.data_editor[0].value
    assert table.loc[table["district"] == DEFAULT_ROW, "spots"].item() == 12
    assert sorted(again.multiselect(key="offences_0").value) == ["Drugs", "Robbery"]


@pytest.mark.skipif(not SAMPLES["southend"].available(), reason="the bundled Southend sample is missing")
def test_bad_values_name_the_district_and_the_fix_and_leave_the_file_alone(southend_ws, monkeypatch):
    before = (southend_ws / CONFIG).read_bytes()
    at = _open(monkeypatch, southend_ws)
    _edit(at, {1: {"spots": 3, "area_share": 2.0}})  # both for Southend-on-Sea
    at.button(key=SUBMIT_WS).click().run()
    _no_traceback(at)
    assert len(at.error) == 1
    assert "district 'Southend-on-Sea'" in _shown(at.error[0]) and "keep one of them" in _shown(at.error[0])
    _edit(at, {0: {"spots": None}})  # the default row emptied
    at.button(key=SUBMIT_WS).click().run()
    _no_traceback(at)
    assert "the default size is empty" in _shown(at.error[0])
    assert (southend_ws / CONFIG).read_bytes() == before


@pytest.mark.skipif(not SAMPLES["southend"].available(), reason="the bundled Southend sample is missing")
def test_an_uploaded_zones_file_is_checked_reprojected_and_saved_into_the_workspace(southend_ws, monkeypatch,
                                                                                    tmp_path):
    ws = load_workspace(southend_ws)
    areas = gpd.read_file(ws.job.study.area)
    inside = areas.to_crs(27700).geometry.iloc[0].representative_point().buffer(200)
    zones = gpd.GeoDataFrame({"name": ["Custody <b>suite</b>"]}, geometry=[inside], crs=27700)
    buf = tmp_path / "zones.gpkg"
    zones.to_file(buf, engine="pyogrio")
    at = _open(monkeypatch, southend_ws)
    at.file_uploader(key="zone_file").upload("zones.gpkg", buf.read_bytes()).run()
    at.button(key="use_zone_file").click().run()
    _no_traceback(at)
    assert not at.error, [e.value for e in at.error]
    saved = gpd.read_file(southend_ws / "exclusions.geojson")
    assert saved.crs.to_epsg() == 4326 and list(saved["name"]) == ["Custody <b>suite</b>"]
    assert load_workspace(southend_ws).job.exclusions == str(southend_ws / "exclusions.geojson")
    shown = at.dataframe[-1].value  # the zone's name as typed, in a table (never rendered as HTML)
    assert list(shown["Zone"]) == ["Custody <b>suite</b>"]

    points = tmp_path / "points.geojson"
    gpd.GeoDataFrame(geometry=[shapely.Point(0.7, 51.54)], crs=4326).to_file(points, engine="pyogrio")
    at.file_uploader(key="zone_file").upload("points.geojson", points.read_bytes()).run()
    at.button(key="use_zone_file").click().run()
    _no_traceback(at)
    assert "must be polygons" in _shown(at.error[0])


@pytest.mark.skipif(not SAMPLES["chicago"].available(), reason="the bundled Chicago sample is missing")
def test_without_a_workspace_the_settings_hold_for_the_session_and_its_lists(monkeypatch):
    at = _open(monkeypatch, None)
    assert "for this session only" in at.info[0].value
    assert not at.selectbox(key="shift_pick_0").disabled  # Chicago has times of day
    _edit(at, {0: {"spots": 3}, 2: {"spots": 4}})  # row 2: district 12
    at.selectbox(key="shift_pick_0").set_value(next(o for o in at.selectbox(key="shift_pick_0").options
                                                    if o.startswith("Day 07:00")))
    at.button(key=SUBMIT_SESSION).click().run()
    _no_traceback(at)
    assert not at.error, [e.value for e in at.error]
    assert any("this session" in s.value for s in at.success)
    assert "12: the top 4 spots" in " ".join(_shown(c) for c in at.caption)
    at.switch_page("app_pages/list_page.py").run()
    _no_traceback(at)
    sizes = at.dataframe[0].value.groupby("district").size().to_dict()
    assert sizes == {"1": 3, "12": 4, "14": 3, "18": 3}
    # the day/night split chosen is the list page's shift lists, made with the same sizes
    assert at.selectbox(key="shift_preset").value.startswith("Day 07:00") and at.toggle(key="shift_lists_on").value
    for shift_table in at.dataframe[1:3]:
        for district, n in shift_table.value.groupby("district").size().items():
            assert 0 < n <= (4 if district == "12" else 3)

    fresh = _open(monkeypatch, None, "app_pages/list_page.py")  # another session: the defaults
    assert set(fresh.dataframe[0].value.groupby("district").size()) == {20}


def test_drawn_shapes_become_named_zones_and_a_line_is_refused():
    from app_pages.zone_map import drawn_zones, zone_map
    from rtm.errors import InputError
    from rtm.webmap import external_urls, render_html

    square = {"type": "Feature", "properties": {},
              "geometry": {"type": "Polygon", "coordinates": [[[0.70, 51.54], [0.71, 51.54], [0.71, 51.55],
                                                               [0.70, 51.55], [0.70, 51.54]]]}}
    zones = drawn_zones([square, square], "Hospital", 27700)
    assert list(zones["name"]) == ["Hospital 1", "Hospital 2"] and zones.crs.to_epsg() == 27700
    assert drawn_zones([], "x", 27700) is None
    line = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0.7, 51.5], [0.8, 51.6]]}}
    with pytest.raises(InputError, match="polygon or rectangle tool"):
        drawn_zones([line], "x", 27700)
    areas = gpd.GeoDataFrame(geometry=[shapely.box(580000, 180000, 590000, 190000)], crs=27700)
    html = render_html(zone_map(areas, zones))
    assert "new L.Control.Draw" in html
    named = zone_map(areas, zones.assign(name=['<img src=x onerror="alert(1)">', "b"]))
    page = render_html(named)
    assert "<img src=x" not in page and "lt;img src=x" in page  # escaped (then JSON-encoded)
    assert external_urls(html) == []  # Leaflet.draw inlined: nothing from a CDN
    assert "cdnjs" not in html
