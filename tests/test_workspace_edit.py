"""Saving list settings into a workspace (rtm.workspace_edit): the config keeps its comments, a
refused value names the district or key and leaves the file as it was, and 'rtm weekly
--workspace' then makes its lists with the saved sizes, offence types and exclusion zones."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import tomlkit
from click.testing import CliRunner

from rtm.archive import Archive
from rtm.cli import main
from rtm.errors import InputError
from rtm.samples import SAMPLES
from rtm.workspace import CONFIG, load_workspace
from rtm.workspace_edit import (DEFAULT_ROW, ListChoices, choices_from_rows, clear_exclusions, read_zones,
                                save_exclusions, save_list_settings)

need_southend = pytest.mark.skipif(not SAMPLES["southend"].available(), reason="the bundled Southend sample is missing")
need_chicago = pytest.mark.skipif(not SAMPLES["chicago"].available(), reason="the bundled Chicago sample is missing")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _init(folder: Path, sample: str, *, harm_only: bool = False) -> Path:
    res = run("init", folder, "--sample", sample)
    assert res.exit_code == 0, res.output
    if harm_only:  # ranked by harm alone: no terrain fit, so the test stays quick
        path = folder / CONFIG
        doc = tomlkit.parse(path.read_text())
        doc["model"]["factors"] = []
        path.write_text(tomlkit.dumps(doc))
    return folder


def _comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


@need_southend
def test_saving_keeps_every_comment_and_reads_back_as_saved(tmp_path):
    folder = _init(tmp_path / "ws", "southend")
    before = (folder / CONFIG).read_text()
    choices = ListChoices(spots=None, area_share=2.6, districts={"Southend-on-Sea": ("spots", 12)},
                          offences=("Robbery", "Drugs"))
    ws = save_list_settings(folder, choices, districts=["Southend-on-Sea"])
    after = (folder / CONFIG).read_text()
    # the commented-out examples the values replace are the only comment lines gone
    gone = set(_comments(before)) - set(_comments(after))
    assert gone == {'# offences = ["Violence and sexual offences", "Robbery"]',
                    '# districts = { "Basildon" = { spots = 12 }, "Castle Point" = { area_share = 2.6 } }'}
    assert ListChoices.of(ws) == ListChoices.of(load_workspace(folder)) == choices
    # the new values sit in [lists], before [model], and spots gave way to area_share in its place
    lists = after[after.index("[lists]"):after.index("[model]")]
    assert "area_share = 2.6" in lists and "\nspots =" not in lists and 'offences = ["Robbery", "Drugs"]' in lists
    assert after.index("area_share = 2.6") < after.index("spot_size_m")
    # and back: every comment of the first config is there again but the two replaced examples
    save_list_settings(folder, ListChoices(spots=20))
    again = (folder / CONFIG).read_text()
    assert set(_comments(before)) - set(_comments(again)) == gone
    assert ListChoices.of(load_workspace(folder)) == ListChoices(spots=20)


@need_southend
@pytest.mark.parametrize("choices, field, words", [
    (ListChoices(spots=20, districts={"Southend-on-Sea": ("spots", 0)}), "lists.districts.Southend-on-Sea",
     "at least 1"),
    (ListChoices(spots=20, districts={"Southend-on-Sea": ("area_share", 250.0)}), "lists.districts.Southend-on-Sea",
     "at most 100"),
    (ListChoices(spots=None, area_share=0.0), "lists.area_share", "not allowed"),
    (ListChoices(spots=20, shifts="07:00,19:00"), "lists.shifts", "no times"),
    (ListChoices(spots=20, offences=()), "lists.offences", "at least one offence type"),
])
def test_a_refused_value_names_its_key_and_leaves_the_file_alone(tmp_path, choices, field, words):
    folder = _init(tmp_path / "ws", "southend")
    before = (folder / CONFIG).read_bytes()
    with pytest.raises(InputError) as err:
        save_list_settings(folder, choices)
    assert err.value.field == field and words in str(err.value)
    assert (folder / CONFIG).read_bytes() == before
    assert not [p for p in folder.iterdir() if p.name.startswith(".workspace-")]


def test_the_size_table_names_the_district_and_the_fix():
    districts = ["Basildon", "Castle Point"]
    ok = choices_from_rows([{"district": DEFAULT_ROW, "spots": 10, "area_share": None},
                            {"district": "Basildon", "spots": None, "area_share": 2.6},
                            {"district": "Castle Point", "spots": float("nan"), "area_share": float("nan")}],
                           districts, offences=["Robbery"])
    assert ok == ListChoices(spots=10, districts={"Basildon": ("area_share", 2.6)}, offences=("Robbery",))
    assert ok.rows(districts)[1] == {"district": "Basildon", "spots": None, "area_share": 2.6}
    bad = [([{"district": "Basildon", "spots": 3, "area_share": 2.0}], "Basildon", "keep one of them"),
           ([{"district": "Basildon", "spots": 2.5, "area_share": None}], "Basildon", "whole number"),
           ([{"district": "Castle Point", "spots": None, "area_share": -1}], "Castle Point", "percentage"),
           ([{"district": "Nowhere", "spots": 3, "area_share": None}], "Nowhere", "use one of: Basildon"),
           ([{"district": DEFAULT_ROW, "spots": None, "area_share": None}], DEFAULT_ROW, "number of spots")]
    for rows, name, fix in bad:
        with pytest.raises(InputError) as err:
            choices_from_rows(rows, districts)
        assert err.value.field == name and fix in str(err.value), str(err.value)


def test_zones_from_any_vector_file_are_checked_and_reprojected(tmp_path):
    box = shapely.box(530000, 180000, 530500, 180400)
    gpkg = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame({"name": ["Custody suite"]}, geometry=[box], crs=27700).to_file(gpkg, engine="pyogrio")
    zones = read_zones(gpkg)
    assert zones.crs.to_epsg() == 4326 and list(zones["name"]) == ["Custody suite"]
    assert abs(zones.to_crs(27700).area.iloc[0] - box.area) < 1
    shp = tmp_path / "shp" / "zones.shp"  # a Shapefile's parts, zipped as forces send them
    shp.parent.mkdir()
    gpd.GeoDataFrame({"NAME": ["Hospital"]}, geometry=[box], crs=27700).to_file(shp, engine="pyogrio")
    import zipfile

    with zipfile.ZipFile(tmp_path / "zones.zip", "w") as z:
        for part in shp.parent.iterdir():
            z.write(part, part.name)
    assert list(read_zones(tmp_path / "zones.zip")["name"]) == ["Hospital"]
    points = tmp_path / "points.geojson"
    gpd.GeoDataFrame(geometry=[shapely.Point(0, 51)], crs=4326).to_file(points, engine="pyogrio")
    no_crs = tmp_path / "nocrs.geojson"
    no_crs.write_text('{"type": "FeatureCollection", "crs": null, "features": []}')
    junk = tmp_path / "junk.geojson"
    junk.write_text("not map data")
    for path, words in ((points, "must be polygons"), (junk, "cannot be read"), (no_crs, "no shapes")):
        with pytest.raises(InputError, match=words):
            read_zones(path)


@need_chicago
def test_the_weekly_run_uses_the_saved_sizes_and_exclusion_zones(tmp_path):
    """Saved from the library call, then 'rtm weekly --workspace': district 12 gets its own 5
    spots, the others the default 3, and the zone drawn round the best spot of the first
    district keeps its cells off the list."""
    from rtm.weekly import build_list
    from rtm.weekly_job import load_study

    folder = _init(tmp_path / "chicago", "chicago", harm_only=True)
    ws = load_workspace(folder)
    areas, inc = load_study(ws.job.study)
    period = ws.period(incidents=inc)
    before = build_list(inc, areas, period, settings=ws.job.settings).spots
    first = str(areas.names[0])
    top = before[before["district"] == first].iloc[0]
    zone = gpd.GeoDataFrame({"name": ["Custody suite"]}, geometry=[top.geometry.buffer(-1)], crs=areas.crs)

    save_list_settings(folder, ListChoices(spots=3, districts={"12": ("spots", 5)}), districts=areas.names)
    ws = save_exclusions(folder, zone)
    assert Path(ws.job.exclusions) == folder / "exclusions.geojson"
    assert 'exclusions = "exclusions.geojson"' in (folder / CONFIG).read_text()
    res = run("weekly", "--workspace", folder)
    assert res.exit_code == 0, res.output
    spots = Archive(folder / "archive.sqlite").spots_of("week", period.key)
    sizes = spots.groupby("district").size().to_dict()
    assert sizes == {name: (5 if name == "12" else 3) for name in map(str, areas.names)}
    listed = set(" ".join(spots["cell_labels"]).split())
    assert top["spot_id"] not in listed  # the excluded cells are never listed
    assert top["spot_id"] in set(before["spot_id"])

    ws = clear_exclusions(folder)
    assert ws.job.exclusions is None and (folder / "exclusions.geojson").exists()


@need_southend
def test_the_weekly_run_lists_only_the_saved_offence_types(tmp_path):
    folder = _init(tmp_path / "ws", "southend")
    save_list_settings(folder, ListChoices(spots=10, offences=("Robbery", "Possession of weapons")))
    res = run("weekly", "--workspace", folder)
    assert res.exit_code == 0, res.output
    csv = next((folder / "lists" / "2019-03").glob("*.csv"))
    frame = pd.read_csv(csv, comment="#")
    assert len(frame) == 10
    types = {part.rsplit(" ", 1)[0] for cell in frame["counts_by_type"].dropna() for part in cell.split("; ")}
    assert types and types <= {"Robbery", "Possession of weapons"}
    prov = next((folder / "lists" / "2019-03").glob("*provenance*.json")).read_text()
    assert "offence_types" in prov and "Possession of weapons" in prov


@need_southend
def test_a_workspace_the_app_cannot_write_is_said_plainly(tmp_path):
    import os

    folder = _init(tmp_path / "ws", "southend")
    if os.geteuid() == 0:
        pytest.skip("root writes to read-only folders")
    os.chmod(folder, 0o555)
    try:
        with pytest.raises(InputError, match="cannot be written.*write access"):
            save_list_settings(folder, ListChoices(spots=5))
    finally:
        os.chmod(folder, 0o755)
