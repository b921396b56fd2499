"""Every page of the app, run headless with Streamlit's AppTest on the bundled samples.

The app opens on the Chicago sample (weekly lists with a risk terrain from the catalogue).
What a page shows is checked against the same library calls the page makes; the cached
objects are shared with the test because AppTest runs the script in this process. Each
test starts its own session (a fresh ``AppTest``); the server-wide caches carry over, as
they do between users of one server.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from rtm.exports import csv_bytes, read_csv_bytes
from rtm.samples import SAMPLES
from rtm.webmap import external_urls

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not (SAMPLES["chicago"].available() and SAMPLES["southend"].available()),
                                reason="the bundled sample data (sample_geo/) is missing")


def _common():
    import sys

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from app_pages import common

    return common


@pytest.fixture
def app():
    """A new session of the app, opened on its first page."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def downloads(monkeypatch):
    """The bytes behind each download button, by the button's URL: Streamlit's own media
    storage is wrapped (it still stores every file) to remember what it was handed."""
    seen = {}
    real = MemoryMediaFileStorage.load_and_get_id

    def remember(self, path_or_data, mimetype, kind, filename=None):
        file_id = real(self, path_or_data, mimetype, kind, filename)
        seen[self.get_url(file_id)] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", remember)
    return seen


def _map_args(at) -> dict:
    maps = [c for c in at.get("component_instance") if c.proto.component_name == "streamlit_folium.st_folium"]
    assert len(maps) == 1
    return json.loads(maps[0].proto.json_args)


def _shown_list(at):
    common = _common()
    view = at.session_state["_view"]
    lst, _ = common.harm_list(view.ds, view.model, view.period)
    return view, lst


def test_map_page_opens_on_chicago_with_its_spots_and_no_outside_address(app):
    assert app.selectbox(key="data_choice").value == "chicago"
    assert app.selectbox(key="district_chicago").value == "All districts"
    view, lst = _shown_list(app)
    assert view.period.kind == "week" and view.period == view.periods[0]  # the latest week
    caption = next(c.value for c in app.caption if "harm spot(s)" in c.value)
    assert f"all districts: {len(lst.spots)} harm spot(s)" in caption
    args = _map_args(app)
    script = args["script"]
    for spot_id in lst.spots["spot_id"]:
        assert spot_id in script
    assert "Harm surface" in script and "Risk terrain (RRS)" in script and "Attractors: liquor retail" in script
    everything = json.dumps(args)
    assert external_urls(everything) == []
    assert all(link.startswith("data:") for link in args["js_links"] + args["css_links"])
    assert not app.error


def test_switching_district_and_week_changes_the_map(app):
    app.selectbox(key="district_chicago").set_value("12").run()
    assert not app.exception
    view, lst = _shown_list(app)
    ours = lst.spots[lst.spots["district"] == "12"]
    others = lst.spots[lst.spots["district"] != "12"]
    script = _map_args(app)["script"]
    assert all(s in script for s in ours["spot_id"])
    assert not any(f'"spot_id": "{s}"' in script for s in others["spot_id"])
    assert f"12: {len(ours)} harm spot(s)" in " ".join(c.value for c in app.caption)

    before = view.period
    app.selectbox(key="period_chicago").set_value(3).run()
    assert not app.exception
    view, lst2 = _shown_list(app)
    assert view.period == before.previous().previous().previous()
    assert view.period.label[1:] in " ".join(c.value for c in app.caption)
    assert lst2.period == view.period


def test_basemap_setting_is_passed_on_and_checked(app):
    app.text_input(key="tiles").set_value("https://tiles.force.internal/{z}/{x}/{y}.png")
    app.text_input(key="attribution").set_value("Force tiles").run()
    assert not app.exception
    urls = external_urls(json.dumps(_map_args(app)))
    assert urls and all("tiles.force.internal" in u for u in urls)
    app.text_input(key="tiles").set_value("https://tiles.force.internal/tile.png").run()
    assert any("Basemap:" in e.value for e in app.error)
    app.text_input(key="tiles").set_value("").run()
    app.text_input(key="attribution").set_value("").run()
    assert not app.error


def test_weekly_list_page_table_filter_and_downloads(app, downloads):
    app.switch_page("app_pages/list_page.py").run()
    assert not app.exception
    view, lst = _shown_list(app)
    table = app.dataframe[0].value
    assert len(table) == len(lst.spots)
    assert list(table["rank"]) == list(lst.spots["rank"])
    labels = [b.label for b in app.get("download_button")]
    assert labels == ["Briefing (PDF)", "Excel workbook", "CSV", "Briefing (HTML)", "GPX (GPS devices)",
                      "KML (pins and squares)", "GeoPackage (QGIS)", "GeoJSON", "Provenance (JSON)"]

    app.selectbox(key="district_chicago").set_value("14").run()
    table = app.dataframe[0].value
    assert len(table) > 0 and set(table["district"]) == {"14"}
    # the bytes the CSV button carries: the district's rows, as exports.csv_bytes makes them
    button = next(b for b in app.get("download_button") if b.label == "CSV")
    carried = downloads[button.proto.url]
    assert carried == csv_bytes(lst.spots[lst.spots["district"] == "14"],
                                {**lst.provenance, "districts_in_file": ["14"]})
    data = read_csv_bytes(carried)
    assert list(data["spot_id"]) == list(table["spot_id"])
    assert set(data["period"]) == {view.period.label}


def test_model_page_shows_factors_classes_and_runs(app):
    app.switch_page("app_pages/model_page.py").run()
    assert not app.exception
    assert app.multiselect[0].value == list(SAMPLES["chicago"].factors)
    app.number_input[0].set_value(150.0)
    app.button[0].click().run()  # the form's Run button
    assert not app.exception and not app.error
    common = _common()
    view = app.session_state["_view"]
    settings = app.session_state["_chosen_model_settings"]["chicago"]
    assert settings.rtm.cell_size == 150.0
    result = common.fitted(view.ds, settings, view.period, need_result=True).result
    factors = app.dataframe[0].value
    assert list(factors["variable"]) == list(result.factors["variable"])
    assert (factors.loc[factors["type"] == "rate", "rrv"] > 0).all()
    assert len(app.get("vega_lite_chart")) == 1  # the RRV chart
    classes = app.dataframe[1].value
    assert classes["Cells"].sum() == int(result.grid.mask.sum())
    ranges = " ".join(classes["Relative risk score"])  # in words, never an infinity
    assert "and above" in ranges and "below" in ranges and "inf" not in ranges.lower()
    assert [b.label for b in app.get("download_button")] == ["Download the report (HTML)"]
    # the new settings drive the lists too
    app.switch_page("app_pages/map_page.py").run()
    assert app.session_state["_view"].model.rtm.cell_size == 150.0


def test_data_page_load_report_and_switching_to_southend(app):
    app.switch_page("app_pages/data_page.py").run()
    assert not app.exception
    inc = app.session_state["_view"].ds.incidents
    counts = app.dataframe[0].value
    shown = dict(zip(counts.iloc[:, 0].str.strip(), counts["rows"]))
    assert shown["Rows in"] == inc.report.rows_in == shown["Rows used"] + shown["Rows rejected"]
    assert "Counts add up: yes" in " ".join(c.value for c in app.caption)
    assert len(app.get("file_uploader")) == 4

    app.selectbox(key="data_choice").set_value("southend").run()
    assert not app.exception
    text = " ".join(m.value for m in app.text)
    assert "resolution: month" in text and "EPSG:27700" in text
    offences = app.dataframe[1].value
    assert offences.set_index("offence_type").loc["Robbery", "weight"] == 365
    assert app.selectbox(key="period_southend").label == "Month"

    app.switch_page("app_pages/map_page.py").run()
    assert not app.exception
    script = _map_args(app)["script"]
    # Southend's attractors (sample_geo/southend: Open Pubs, rail stations) make its risk terrain
    assert "Harm surface" in script and "Risk terrain (RRS)" in script and "Attractors: rail stations" in script
    assert not any("ranked by recent harm alone" in i.value for i in app.info)


def test_backtest_page_runs_on_a_few_weeks_and_reruns(app, downloads):
    app.switch_page("app_pages/backtest_page.py").run()
    assert not app.exception
    app.slider[0].set_value(2).run()
    app.button[0].click().run()
    assert not app.exception and not app.error
    table = app.dataframe[0].value
    assert {"naive", "kde", "rtm", "combined", "random", "oracle"} <= set(table.index)
    assert table.loc["oracle", "harm_captured"] == pytest.approx(1.0)
    assert {"pai_harm", "pai_counts"} <= set(table.columns)  # shown as "PAI (harm)", "PAI (counts)"
    assert len(app.get("image")) == 1  # the capture-against-area chart
    button = app.get("download_button")[0]
    assert downloads[button.proto.url].startswith(b"period,district,method")
    app.run()  # what clicking the download does: a rerun, served from the cache
    assert not app.exception and not app.error and len(app.dataframe) >= 1
    second = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=90).run()  # another user
    second.switch_page("app_pages/backtest_page.py").run()
    second.slider[0].set_value(2).run()
    second.button[0].click().run()
    assert not second.exception and not second.error
    assert second.dataframe[0].value.equals(table)


def test_uploads_are_checked_and_saved_under_a_safe_name(tmp_path, monkeypatch):
    common = _common()
    from rtm.errors import InputError

    class Upload:  # what st.file_uploader hands over: a name, a size and the bytes
        def __init__(self, name, data):
            self.name, self.size, self._data = name, len(data), data

        def getvalue(self):
            return self._data

    assert common.safe_name("../../etc/passwd") == "passwd"
    assert common.safe_name("C:\\x\\..\\my crimes (1).csv") == "my_crimes_1_.csv"
    assert common.safe_name(".hidden.csv") == "hidden.csv"
    path = common.save_upload(Upload("../crimes.csv", b"a,b\n1,2\n"), tmp_path)
    assert path == tmp_path / "crimes.csv" and path.read_bytes() == b"a,b\n1,2\n"
    for bad in ("model.pkl", "run.py", "noext"):
        with pytest.raises(InputError, match="not accepted|has no type"):
            common.save_upload(Upload(bad, b"x"), tmp_path)
    monkeypatch.setenv("RTM_UPLOAD_LIMIT_MB", "1")
    with pytest.raises(InputError, match=re.escape("over the 1 MB limit")):
        common.save_upload(Upload("big.csv", b"x" * (1024 * 1024 + 1)), tmp_path)
    assert not (tmp_path / "big.csv").exists()


def test_pages_show_user_text_as_plain_text_only(tmp_path, monkeypatch):
    """Issue 14: a district or file named with Markdown must not make the browser fetch an
    outside image, on any page: file names, district names and notes are shown with st.text
    or escaped. The data is a workspace made from the files as "Upload your own data" makes it,
    opened by its address; the district with the Markdown name has no incidents, so the list
    and map pages name it in their notes ("No harm was recorded ... in: <name>")."""
    from rtm.workspace_new import NewWorkspace, create_workspace

    _common()
    evil = "![b](http://host.invalid/x.png)"

    def district(name, x0, x1):
        return {"type": "Feature", "properties": {"name": name}, "geometry": {"type": "Polygon", "coordinates": [
            [[x0, 51.5], [x1, 51.5], [x1, 51.6], [x0, 51.6], [x0, 51.5]]]}}

    (tmp_path / "areas.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        district("Good", 0.6, 0.8), district(evil, 0.8, 0.9)]}))
    inc_path = tmp_path / "crime [1] ![c](host.invalid).csv"
    rows = "".join(f"i{m}{k},2018-0{m},0.7{k},51.5{k},Burglary,On or near X\n" for m in range(1, 4) for k in range(1, 9))
    inc_path.write_text("Crime ID,Month,Longitude,Latitude,Crime type,Location\n" + rows +
                        "b,2018-02,0.72,51.55,=HYPERLINK(\"http://host.invalid\"),On or near Y\n")
    folder, _ws, _areas, inc = create_workspace(tmp_path / "ws", NewWorkspace(
        "crime [1] ![c](http://host.invalid/y.png)", [inc_path], tmp_path / "areas.geojson", "name"))
    monkeypatch.setenv("RTM_WORKSPACES_DIR", str(tmp_path / "ws"))
    monkeypatch.delenv("RTM_WORKSPACE", raising=False)
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=90)
    app.query_params["workspace"] = folder.name
    app.run()
    for page in ("data_page", "list_page", "map_page"):
        app.switch_page(f"app_pages/{page}.py").run()
        assert not app.exception, page
        assert app.session_state["_view"].ds.workspace.folder == folder.resolve()
        rendered = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success", "title",
                                         "subheader", "header") for e in getattr(app, kind)]
        assert not [v for v in rendered if "host.invalid" in str(v)], page
        shown = " ".join([t.value for t in app.text] + [str(v) for v in rendered])
        if page == "data_page":
            assert evil in shown and "![c](http://host.invalid/y.png)" in shown
        else:  # escaped, so the name reads as written once Markdown has removed the backslashes
            assert "No harm was recorded" in shown and re.sub(r"\\(.)", r"\1", shown).count(evil) >= 1, page
    assert inc.rejects_csv().count(b"'=HYPERLINK") == 1


def test_uploads_with_names_that_sanitise_alike_do_not_overwrite(tmp_path):
    """``crime (1).csv`` and ``crime [1].csv`` both become ``crime_1_.csv``; each is kept."""
    common = _common()

    class Upload:
        def __init__(self, name, data):
            self.name, self.size, self._data = name, len(data), data

        def getvalue(self):
            return self._data

    paths = common.save_uploads([Upload("crime (1).csv", b"one"), Upload("crime [1].csv", b"two")], tmp_path)
    assert [p.name for p in paths] == ["crime_1_.csv", "crime_1_.csv"]
    assert [p.read_bytes() for p in paths] == [b"one", b"two"]


def test_fitted_terrains_are_kept_for_the_next_start(tmp_path, monkeypatch):
    """A fitted terrain is written to RTM_MODEL_DIR; after a restart (a new store, nothing in
    memory) the lists read it instead of refitting, and the model page refits only for the
    full report."""
    import numpy as np

    common = _common()
    monkeypatch.setenv("RTM_MODEL_DIR", str(tmp_path))  # a new folder: a new store, as on a new server
    ds = common.load_sample("chicago")
    periods = common.period_choices(ds)
    period = periods[common.default_period_index(ds, periods)]
    fitted, note = common.terrain_for(ds, ds.model, period)
    assert note == "" and common.fitted(ds, ds.model, period).how == "fitted"
    assert [p.name for p in tmp_path.iterdir() if (p / "terrain.json").exists()] != []
    restarted = tmp_path / "restarted"
    restarted.mkdir()
    for p in tmp_path.iterdir():
        if (p / "terrain.json").exists():
            p.rename(restarted / p.name)
    monkeypatch.setenv("RTM_MODEL_DIR", str(restarted))
    read, _ = common.terrain_for(ds, ds.model, period)
    assert common.fitted(ds, ds.model, period).how == "read"  # read from the folder, not fitted
    np.testing.assert_array_equal(read.rrs, fitted.rrs)
    np.testing.assert_array_equal(read.presence, fitted.presence)
    assert read.factors.equals(fitted.factors)
    entry = common.fitted(ds, ds.model, period, need_result=True)
    assert entry.result is not None and entry.how == "fitted"


def test_a_model_folder_that_cannot_be_written_only_costs_the_reuse(tmp_path, monkeypatch):
    common = _common()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the model folder should be")
    monkeypatch.setenv("RTM_MODEL_DIR", str(blocker))
    ds = common.load_sample("chicago")
    period = common.period_choices(ds)[0]
    terrain, note = common.terrain_for(ds, ds.model, period)
    assert terrain is not None and note == ""
    assert common.fitted(ds, ds.model, period).result is not None  # kept in memory


def test_publishing_from_the_app_writes_what_the_weekly_job_writes(tmp_path, monkeypatch):
    """The list page's publish action goes through rtm.weekly_job.publish_period: the period's
    folder with every export, and the archive, in the lists folder."""
    from rtm.archive import Archive

    monkeypatch.setenv("RTM_LISTS_DIR", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=90).run()
    at.switch_page("app_pages/list_page.py").run()
    at.button(key="publish").click().run()
    assert not at.exception and not at.error
    view = at.session_state["_view"]
    assert any(f"lists/{view.period.key}/" in s.value for s in at.success)
    written = sorted(p.suffix for p in (tmp_path / view.period.key).iterdir())
    assert {".csv", ".geojson", ".gpkg", ".kml", ".tif"} <= set(written)
    assert Archive(tmp_path / "archive.sqlite").previous(view.period.next(), view.ds.districts) is not None


def test_user_text_in_markdown_elements_is_escaped():
    """District and file names go into captions, headers and alerts escaped: Markdown images,
    links and HTML stay text."""
    import re as _re

    plain = _common().plain
    shown = plain("![b](http://host.invalid/x.png) <img src=x> [l](http://host.invalid) a_b")
    assert not _re.search(r"(?<!\\)!(?<!\\)\[", shown) and not _re.search(r"(?<!\\)<", shown)
    assert not _re.search(r"(?<!\\)\]\(", shown)
    assert _re.sub(r"\\(.)", r"\1", shown) == "![b](http://host.invalid/x.png) <img src=x> [l](http://host.invalid) a_b"


@pytest.mark.parametrize("text", ["Essex\n===", "Essex\r\n---", "North\n> quoted", "a\n- item", "a\n\n    code",
                                  "x\u2028# heading"])
def test_user_text_with_line_breaks_stays_one_line(text):
    """A line break in user text would let the next line make a heading (Was: ``'Essex\\n==='``
    as a force name became a heading on the Settings page), a list, a quote or a code block.
    ``plain`` gives one line, with the words as written and every Markdown mark escaped."""
    shown = _common().plain(text)
    assert not re.search(r"[\r\n\u2028\u2029\x85\v\f]", shown)
    assert not re.search(r"(?<!\\)[=#>*`-]", shown)
    assert re.sub(r"\\(.)", r"\1", shown) == " ".join(text.split())
