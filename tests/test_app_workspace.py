"""The app on a force workspace (RTM_WORKSPACE): it opens on the workspace's data at the period
the weekly run makes next, reads the terrain the weekly run fitted, and publishes into the
workspace through the weekly job's call."""

from __future__ import annotations

import re
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
    assert at.selectbox(key="data_choice").value == "ws:chicago" and at.query_params["workspace"] == "chicago"
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


# -- the bundled Southend workspace: published lists, read and compared ---------------------------
@pytest.fixture(scope="module")
def southend_ws(tmp_path_factory) -> Path:
    """The sample workspace `python3 run.py app` opens, made the same way (three months published)."""
    if not SAMPLES["southend"].available():
        pytest.skip("the bundled Southend sample is missing (sample_geo/southend)")
    from rtm.sample_workspace import ensure_sample_workspace

    return ensure_sample_workspace(tmp_path_factory.mktemp("ws") / "southend")


def _served_id(path: Path, mime: str) -> str:
    from streamlit.runtime.memory_media_file_storage import _calculate_file_id

    return _calculate_file_id(path.read_bytes(), mime, path.name)


def test_the_sample_workspace_opens_on_its_latest_published_month_with_its_attractors(southend_ws, monkeypatch):
    at = _app(monkeypatch, southend_ws)
    view = at.session_state["_view"]
    published = Archive(southend_ws / "archive.sqlite").periods()["period_key"].tolist()
    assert published == ["2019-01", "2019-02", "2019-03"]
    assert view.period.key == "2019-03" and view.ds.workspace is not None
    assert set(view.model.factors) == {"licensed_premises", "rail_stations"}
    lst, _ = common_list(view)
    archived = Archive(southend_ws / "archive.sqlite").spots_of("month", "2019-03")
    assert list(lst.spots["spot_id"]) == list(archived["spot_id"])
    assert list(lst.spots["weeks_on_list"]) == list(archived["weeks_on_list"])
    assert archived["weeks_on_list"].max() == 3  # followed over the whole archive, no cap of 2


def test_the_first_page_of_a_published_month_reads_only_the_published_files(southend_ws, tmp_path, monkeypatch):
    """The Harm-spot map of a published month draws the published GeoPackage, GeoTIFF and
    provenance: the workspace's incidents are not read and no list is made (the app's own count
    of lists made, and the data set's state). The layers made from the incidents are read when
    switched on; the published spots, popups and surfaces are those of the list made again."""
    import shutil

    import numpy as np

    from app_pages import lists
    from rtm.mapview import spots_geojson
    from rtm.published_list import read_published

    folder = tmp_path / "southend"
    shutil.copytree(southend_ws, folder)  # a folder no earlier test opened: nothing of it in memory yet
    made = lists.LISTS_MADE
    at = _app(monkeypatch, folder)
    view = at.session_state["_view"]
    assert view.period.key == "2019-03" and not at.error
    assert not view.ds.incidents_loaded  # the sidebar and the map read no incident
    assert lists.LISTS_MADE == made  # and made no list
    assert at.selectbox(key="period_workspace-southend").options == ["Month March 2019", "Month February 2019",
                                                                      "Month January 2019"]
    captions = " ".join(c.value for c in at.caption)
    assert "all districts: 20 harm spot(s) as published" in captions
    assert "Recent incidents, street names and emerging hot spots are off" in captions
    # the notes as written: escaped for Markdown (they may name districts), unescaped here
    assert [re.sub(r"\\(.)", r"\1", i.value) for i in at.info] == read_published(folder / "lists", view.period).notes

    at.toggle(key="map_incident_layers").set_value(True).run()  # the incident layers, on demand
    assert not at.exception and not at.error
    assert view.ds.incidents_loaded and lists.LISTS_MADE == made
    at.run()  # every period is offered now, the month chosen kept
    assert len(at.selectbox(key="period_workspace-southend").options) > 3
    assert at.session_state["_view"].period.key == "2019-03"
    assert "are off" not in " ".join(c.value for c in at.caption)

    pub = read_published(folder / "lists", view.period)
    lst, _ = common_list(view)
    want, got = spots_geojson(lst.spots, lst.provenance), spots_geojson(pub.spots, pub.provenance)
    assert [f["properties"]["popup"] for f in got["features"]] == [f["properties"]["popup"] for f in want["features"]]
    assert (pub.grid.mask == lst.grid.mask).all() and pub.grid.transform == lst.grid.transform
    for name, band in lst.surfaces().items():
        np.testing.assert_array_equal(pub.surfaces[name], band)


def test_a_published_list_read_back_from_its_files(southend_ws, tmp_path):
    """rtm.published_list reads what the weekly run wrote: the archive's spots in order, the
    surfaces' bands, the provenance; a period with no files is refused naming the file."""
    import shutil

    from rtm.errors import InputError
    from rtm.periods import month_period
    from rtm.published_list import is_published, read_published

    pub = read_published(southend_ws / "lists", month_period("2019-01"))
    archived = Archive(southend_ws / "archive.sqlite").spots_of("month", "2019-01")
    assert list(pub.spots["spot_id"]) == list(archived["spot_id"]) and pub.spots.crs.to_epsg() == 27700
    assert set(pub.surfaces) == {"harm_surface", "score", "risk_terrain"} and pub.terrain_used
    assert pub.grid.shape == pub.surfaces["harm_surface"].shape and pub.grid.mask.any()
    assert pub.provenance["period_start"] == "2019-01-01" and pub.notes == pub.provenance["notes"]
    assert not is_published(southend_ws / "lists", month_period("2018-12"))
    with pytest.raises(InputError, match="harmspots_month_2018-12.gpkg"):
        read_published(southend_ws / "lists", month_period("2018-12"))
    broken = tmp_path / "lists"
    shutil.copytree(southend_ws / "lists" / "2019-01", broken / "2019-01")
    (broken / "2019-01" / "harmspots_month_2019-01.gpkg").write_bytes(b"not a geopackage")
    with pytest.raises(InputError, match="cannot be read"):
        read_published(broken, month_period("2019-01"))


def common_list(view):
    from app_pages import common

    return common.harm_list(view.ds, view.model, view.period)


def test_published_page_lists_every_period_and_serves_the_published_files(southend_ws, monkeypatch):
    from app_pages.published import DOWNLOADS

    at = _app(monkeypatch, southend_ws)
    at.switch_page("app_pages/published_page.py").run()
    assert not at.exception and not at.error
    picker = at.selectbox(key="published_workspace-southend")
    assert picker.options == ["Month March 2019", "Month February 2019",
                                                                "Month January 2019"]
    for choice, key in ((0, "2019-03"), (2, "2019-01")):  # the latest by default, then an earlier one
        if choice:
            picker.set_value(choice).run()
        assert not at.exception
        folder = southend_ws / "lists" / key
        mimes = {suffix: mime for _, suffix, mime in DOWNLOADS}
        want = {p.name: _served_id(p, next(m for s, m in mimes.items() if p.name.endswith(s)))
                for p in folder.iterdir() if not p.name.endswith((".csvt", ".prj"))}
        got = {b.proto.url.rsplit("/", 1)[-1].split(".")[0] for b in at.get("download_button")}
        assert got == set(want.values()) and len(got) == 11
    at.run()  # a rerun after a download: the same files, no error
    assert not at.exception


def test_two_published_months_side_by_side(southend_ws, monkeypatch):
    from rtm.archive import compare_lists

    at = _app(monkeypatch, southend_ws)
    at.switch_page("app_pages/published_page.py").run()
    compare = at.selectbox(key="compare_workspace-southend")
    assert compare.options[compare.index] == "Month February 2019"  # the month before, by default
    archive = Archive(southend_ws / "archive.sqlite")
    want = compare_lists(archive.spots_of("month", "2019-03"), archive.spots_of("month", "2019-02"))
    counts = want["status"].value_counts()
    caption = " ".join(c.value for c in at.caption)
    assert f"{counts.get('kept', 0)} kept, {counts.get('new', 0)} new, {counts.get('gone', 0)} gone" in caption
    left, right = at.dataframe[-2].value, at.dataframe[-1].value
    assert len(left) == (want["status"] != "gone").sum() and len(right) == (want["status"] != "new").sum()
    assert set(left["status"]) <= {"kept", "new"} and set(right["status"]) <= {"kept", "gone"}


def test_list_page_downloads_are_the_published_files_and_publish_matches_the_weekly_call(southend_ws, monkeypatch):
    at = _app(monkeypatch, southend_ws)
    at.switch_page("app_pages/list_page.py").run()
    assert not at.exception and not at.error
    folder = southend_ws / "lists" / "2019-03"
    pdf = folder / "harmspots_month_2019-03_briefing.pdf"
    xlsx = folder / "harmspots_month_2019-03.xlsx"  # made again it differs (its time stamps): only the file matches
    xlsx_mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ids = {b.proto.url.rsplit("/", 1)[-1].split(".")[0] for b in at.get("download_button")}
    assert {_served_id(pdf, "application/pdf"), _served_id(xlsx, xlsx_mime)} <= ids
    before = pdf.stat().st_mtime_ns
    at.button(key="publish").click().run()  # the weekly job's call: the folder is replaced, the archive kept
    assert not at.exception and not at.error
    assert pdf.stat().st_mtime_ns != before
    at.run()  # the rerun after publishing serves the new files
    ids = {b.proto.url.rsplit("/", 1)[-1].split(".")[0] for b in at.get("download_button")}
    assert _served_id(xlsx, xlsx_mime) in ids
    assert Archive(southend_ws / "archive.sqlite").periods()["period_key"].tolist() == ["2019-01", "2019-02",
                                                                                         "2019-03"]


def _uploaded(name: str, data: bytes):
    """An upload as Streamlit's file_uploader hands it to the page (its own UploadedFile)."""
    from streamlit.proto.Common_pb2 import FileURLs
    from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec

    return UploadedFile(UploadedFileRec("id-" + name, name, "text/csv", data), FileURLs())


def test_incidents_added_in_the_app_are_kept_in_the_workspace_for_the_weekly_run(southend_ws, tmp_path):
    """A new month uploaded on the Data page is saved in the workspace's uploads/incidents/ (not a
    session folder): the workspace, as the weekly run and every later session read it, now ends a
    month later; a file that cannot be used is refused with a message and not kept."""
    import shutil

    from app_pages.uploads import add_to_workspace
    from rtm.errors import InputError
    from rtm.weekly_job import load_study
    from rtm.workspace import UPLOADS, load_workspace

    ws_dir = tmp_path / "southend"
    shutil.copytree(southend_ws, ws_dir)
    feb = (ROOT / "sample_geo/southend/crime/2019-02-southend-street.csv").read_text(encoding="utf-8")
    march = feb.replace(",2019-02,", ",2019-03,").replace("\n", "\n").splitlines()
    march = "\n".join([march[0]] + [f"m{i}{line[1:]}" for i, line in enumerate(march[1:])]) + "\n"
    before = load_study(load_workspace(ws_dir).job.study)[1]
    added = add_to_workspace([_uploaded("2019-03 southend (new).csv", march.encode())], ws_dir)
    assert added == [ws_dir / UPLOADS / "2019-03_southend_new_.csv"] and added[0].read_text() == march
    assert not [p for p in (ws_dir / "uploads").iterdir() if p.name != "incidents"]  # no working folder left
    ws = load_workspace(ws_dir)
    after = load_study(ws.job.study)[1]
    assert len(after) > len(before)
    assert ws.period(incidents=after).key == "2019-04"  # the weekly run's next list moves on a month
    with pytest.raises(InputError, match="already has a different file"):
        add_to_workspace([_uploaded("2019-03 southend (new).csv", b"other")], ws_dir)
    with pytest.raises(InputError, match="not accepted"):
        add_to_workspace([_uploaded("notes.exe", b"MZ")], ws_dir)
    assert sorted(p.name for p in (ws_dir / UPLOADS).iterdir()) == ["2019-03_southend_new_.csv"]


def test_data_page_of_a_workspace_offers_adding_incidents_to_it(southend_ws, monkeypatch):
    at = _app(monkeypatch, southend_ws)
    at.switch_page("app_pages/data_page.py").run()
    assert not at.exception and not at.error
    assert "Add incidents to this workspace" in [e.label for e in at.expander]
    at.button(key="ws_add").click().run()  # nothing chosen: nothing added, no error
    assert not at.exception and not at.error and not (southend_ws / "uploads").exists()


def test_a_file_that_cannot_be_used_is_not_added_to_the_workspace(southend_ws, tmp_path, monkeypatch):
    """Was: "Add to the workspace" said nothing for an empty file, kept it in uploads/incidents/,
    and from then on every session and the weekly run stopped on it; a zip that expands past
    the upload limit was added too. The new files are now read before they count."""
    import io
    import shutil
    import zipfile

    from rtm.workspace import UPLOADS

    ws_dir = tmp_path / "southend"
    shutil.copytree(southend_ws, ws_dir)
    monkeypatch.setenv("RTM_MAX_FILE_MB", "1")
    big = io.BytesIO()
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2019-03-essex-street.csv", "Crime ID,Month,Longitude,Latitude,Crime type\n" + "x" * 2_000_000)
    at = _app(monkeypatch, ws_dir)
    at.switch_page("app_pages/data_page.py").run()
    for name, data, words in [("empty.csv", b"", "the file is empty"),
                              ("big.zip", big.getvalue(), "more than the limit of 1.0 MB")]:
        at.file_uploader(key="ws_incidents").set_value([(name, data, "text/csv")])
        at.run()
        at.button(key="ws_add").click().run()
        assert not at.exception and at.error and any(words in t.value for t in at.text), name
        assert not (ws_dir / UPLOADS).exists() or not list((ws_dir / UPLOADS).iterdir()), name
    at2 = _app(monkeypatch, ws_dir)  # the next session opens the workspace as before
    at2.switch_page("app_pages/list_page.py").run()
    assert not at2.exception and not at2.error


def test_two_uploads_of_one_safe_name_are_refused_and_one_file_picked_twice_is_added_once(southend_ws, tmp_path):
    """Was: 'crime (1).csv' and 'crime [1].csv' (both crime_1_.csv) gave "Something went wrong
    (FileNotFoundError)" after one had overwritten the other."""
    import shutil

    from app_pages.uploads import add_to_workspace, safe_name
    from rtm.errors import InputError

    ws_dir = tmp_path / "southend"
    shutil.copytree(southend_ws, ws_dir)
    feb = (ROOT / "sample_geo/southend/crime/2019-02-southend-street.csv").read_bytes()
    with pytest.raises(InputError, match=r"would both be saved as crime_1_\.csv"):
        add_to_workspace([_uploaded("crime (1).csv", feb), _uploaded("crime [1].csv", feb + b"\n")], ws_dir)
    added = add_to_workspace([_uploaded("2019-02.csv", feb), _uploaded("2019-02.csv", feb)], ws_dir)
    assert [p.name for p in added] == ["2019-02.csv"]
    assert safe_name("y" * 300 + ".csv").endswith("y.csv") and len(safe_name("y" * 300 + ".csv")) == 120


def test_the_back_test_page_with_two_periods_before_the_chosen_one(tmp_path, monkeypatch):
    """Was: a Streamlit exception ("min_value and max_value ... must not be equal") when the
    chosen period had only two periods before it."""
    from rtm.workspace_init import init_workspace

    folder = init_workspace(tmp_path / "fresh", sample="southend").parent  # no list published: every month
    at = _app(monkeypatch, folder)
    box = at.selectbox(key="period_workspace-fresh")
    box.set_value(box.options[-3]).run()  # newest first: the third oldest period
    at.switch_page("app_pages/backtest_page.py").run()
    assert not at.exception, at.exception
    assert any(c.value.startswith("The two ") and "before the chosen one are scored" in c.value
               for c in at.caption)
