"""Every page of the app, run headless with Streamlit's AppTest on the bundled samples.

The app opens on the Chicago sample (weekly lists with a risk terrain from the catalogue).
What a page shows is checked against the same library calls the page makes; the cached
objects are shared with the test because AppTest runs the script in this process.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

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


@pytest.fixture(scope="module")
def app():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    return at


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


def test_weekly_list_page_table_filter_and_downloads(app):
    app.selectbox(key="district_chicago").set_value("All districts")
    app.switch_page("app_pages/list_page.py").run()
    assert not app.exception
    view, lst = _shown_list(app)
    table = app.dataframe[0].value
    assert len(table) == len(lst.spots)
    assert list(table["rank"]) == list(lst.spots["rank"])
    labels = [b.label for b in app.get("download_button")]
    assert labels == ["CSV (Excel)", "GeoJSON", "GeoPackage", "KML", "Briefing (HTML)"]

    app.selectbox(key="district_chicago").set_value("14").run()
    table = app.dataframe[0].value
    assert len(table) > 0 and set(table["district"]) == {"14"}
    # the CSV button carries what exports.csv_bytes makes of these rows
    data, prov = read_csv_bytes(csv_bytes(lst.spots[lst.spots["district"] == "14"], lst.provenance))
    assert list(data["spot_id"]) == list(table["spot_id"])
    assert prov["period"] == view.period.label


def test_model_page_shows_factors_classes_and_runs(app):
    app.switch_page("app_pages/model_page.py").run()
    assert not app.exception
    assert app.multiselect[0].value == list(SAMPLES["chicago"].factors)
    app.number_input[0].set_value(150.0)
    app.button[0].click().run()  # the form's Run button
    assert not app.exception and not app.error
    common = _common()
    from rtm.publish import refit_date

    view = app.session_state["_view"]
    settings = app.session_state["model_settings"]["chicago"]
    assert settings.cell_size == 150.0
    result, terrain = common.fit_model(view.ds, settings, refit_date(view.period))
    factors = app.dataframe[0].value
    assert list(factors["variable"]) == list(result.factors["variable"])
    assert (factors.loc[factors["type"] == "rate", "rrv"] > 0).all()
    assert len(app.get("vega_lite_chart")) == 1  # the RRV chart
    classes = app.dataframe[1].value
    assert classes["cells"].sum() == int(result.grid.mask.sum())
    assert [b.label for b in app.get("download_button")] == ["Download the report (HTML)"]
    # the new settings drive the lists too
    app.switch_page("app_pages/map_page.py").run()
    assert app.session_state["_view"].model.cell_size == 150.0
    # back to the sample's defaults for the other tests
    app.session_state["model_settings"] = {}
    app.run()


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
    assert "Harm surface" in script and "Risk terrain (RRS)" not in script
    assert any("ranked by recent harm alone" in i.value for i in app.info)
    app.selectbox(key="data_choice").set_value("chicago").run()


def test_backtest_page_runs_on_a_few_weeks(app):
    app.switch_page("app_pages/backtest_page.py").run()
    assert not app.exception
    app.slider[0].set_value(2).run()
    app.button[0].click().run()
    assert not app.exception and not app.error
    table = app.dataframe[0].value
    assert {"naive", "kde", "rtm", "combined", "random", "oracle"} <= set(table.index)
    assert table.loc["oracle", "harm_capture"] == pytest.approx(1.0)
    assert len(app.get("image")) == 1  # the capture-against-area chart


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


def test_data_page_shows_user_text_as_plain_text_only(app, tmp_path):
    """Issue 14: a district or file named with Markdown must not make the browser fetch an
    outside image; file names, district names and notes are shown with st.text."""
    from rtm.areas import load_areas
    from rtm.incidents import load_incidents

    common = _common()
    evil = "![b](http://host.invalid/x.png)"
    (tmp_path / "areas.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": evil},
        "geometry": {"type": "Polygon", "coordinates": [[[0.6, 51.5], [0.8, 51.5], [0.8, 51.6], [0.6, 51.6],
                                                         [0.6, 51.5]]]}}]}))
    inc_path = tmp_path / "crime [1] ![c](host.invalid).csv"
    inc_path.write_text("Crime ID,Month,Longitude,Latitude,Crime type,Location\n"
                        "a,2018-01,0.71,51.54,Burglary,On or near X\n"
                        "b,2018-02,0.72,51.55,=HYPERLINK(\"http://host.invalid\"),On or near Y\n")
    areas = load_areas(tmp_path / "areas.geojson", "name")
    inc = load_incidents([inc_path], areas=areas, today="2026-11-23")
    ds = common.Dataset(id="upload-evil", title="crime [1] ![c](http://host.invalid/y.png).csv", incidents=inc,
                        areas=areas, kind="month")
    app.session_state["upload_ds"] = ds
    app.session_state["_pending_choice"] = "upload"
    app.switch_page("app_pages/data_page.py").run()
    assert not app.exception
    rendered = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success", "title",
                                     "subheader", "header") for e in getattr(app, kind)]
    assert not [v for v in rendered if "host.invalid" in str(v)]
    plain = " ".join(t.value for t in app.text)
    assert evil in plain and "![c](http://host.invalid/y.png)" in plain
    assert inc.rejects_csv().count(b"'=HYPERLINK") == 1
    app.session_state["_pending_choice"] = "chicago"
    app.selectbox(key="data_choice").set_value("chicago").run()


def test_uploads_with_names_that_sanitise_alike_do_not_overwrite(tmp_path):
    """``crime (1).csv`` and ``crime [1].csv`` both become ``crime_1_.csv``; each is kept."""
    import ast

    source = (ROOT / "app_pages" / "data_page.py").read_text()
    tree = ast.parse(source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_save_each")
    namespace = {"common": _common()}
    exec(compile(ast.Module([fn], []), "data_page.py", "exec"), namespace)

    class Upload:
        def __init__(self, name, data):
            self.name, self.size, self._data = name, len(data), data

        def getvalue(self):
            return self._data

    paths = namespace["_save_each"]([Upload("crime (1).csv", b"one"), Upload("crime [1].csv", b"two")], tmp_path)
    assert [p.name for p in paths] == ["crime_1_.csv", "crime_1_.csv"]
    assert [p.read_bytes() for p in paths] == [b"one", b"two"]


@pytest.fixture
def empty_model_store():
    """The app's in-memory model store, emptied for the test (a fresh server process) and
    given back its models afterwards, so the other tests need not refit."""
    store = _common().model_store()
    saved = dict(store)
    store.clear()
    yield store
    store.clear()
    store.update(saved)


def test_fitted_terrains_are_kept_for_the_next_start(tmp_path, monkeypatch, empty_model_store):
    """A fitted terrain is written to RTM_MODEL_DIR; after a restart (nothing in memory) the
    lists read it instead of refitting, and the model page refits only for the full report."""
    import numpy as np

    from rtm.publish import refit_date

    common = _common()
    monkeypatch.setenv("RTM_MODEL_DIR", str(tmp_path))
    ds = common.load_sample("chicago")
    periods = common.period_choices(ds)
    period = periods[common.default_period_index(ds, periods)]
    key = (ds.id, ds.model.key, f"{refit_date(period):%Y-%m-%d}")
    store = empty_model_store
    fitted, note = common.terrain_for(ds, ds.model, period)
    assert note == "" and store[key][0] is not None  # fitted here: the full result is kept
    assert [p.name for p in tmp_path.iterdir() if (p / "terrain.json").exists()] != []
    store.clear()  # a restart
    read, _ = common.terrain_for(ds, ds.model, period)
    assert store[key][0] is None  # read from the folder, not fitted
    np.testing.assert_array_equal(read.rrs, fitted.rrs)
    np.testing.assert_array_equal(read.presence, fitted.presence)
    assert read.factors.equals(fitted.factors)
    result, _ = common.fit_model(ds, ds.model, refit_date(period))
    assert result is not None and store[key][0] is result


def test_a_model_folder_that_cannot_be_written_only_costs_the_reuse(tmp_path, monkeypatch, empty_model_store):
    from rtm.publish import refit_date

    common = _common()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the model folder should be")
    monkeypatch.setenv("RTM_MODEL_DIR", str(blocker))
    ds = common.load_sample("chicago")
    period = common.period_choices(ds)[0]
    terrain, note = common.terrain_for(ds, ds.model, period)
    assert terrain is not None and note == ""
    assert empty_model_store[(ds.id, ds.model.key, f"{refit_date(period):%Y-%m-%d}")][0] is not None
