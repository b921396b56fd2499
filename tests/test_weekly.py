"""The weekly list on the bundled samples: its rows, no look-ahead, exclusions, movement
through the archive, the reused terrain, and the command line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from rtm.archive import Archive
from rtm.catalogue import load_catalogue
from rtm.cli import main
from rtm.errors import InputError
from rtm.exports import read_csv_bytes
from rtm.incidents import Incidents
from rtm.periods import month_period, week_period
from rtm.publish import publish
from rtm.terrain_settings import RtmSettings
from rtm.terrain_store import fit_model, refit_date
from rtm.ranking import SpotRule
from rtm.samples import SAMPLES
from rtm.terrain import RiskTerrain
from rtm.weekly import LIST_COLUMNS, ListSettings, build_list

ROOT = Path(__file__).resolve().parents[1]
SOUTHEND = ListSettings(area_tolerance_m=150.0)


@pytest.fixture(scope="module")
def southend():
    return SAMPLES["southend"].load()


@pytest.fixture(scope="module")
def chicago():
    return SAMPLES["chicago"].load()


@pytest.fixture(scope="module")
def chicago_terrain(chicago):
    inc, areas = chicago
    cat = load_catalogue(ROOT / "layers")
    layers = {n: cat[n].load(None, areas=areas, buffer_m=300.0) for n in ("liquor_retail", "abandoned_buildings",
                                                                          "street_lights_out")}
    return fit_model(inc, areas, layers, RtmSettings(50.0, 100.0, 3), refit_date(week_period("2019-03-04")),
                     "week")[1]


def test_monthly_list_rows_hold_what_supervisors_need(southend):
    inc, areas = southend
    lst = build_list(inc, areas, month_period("2019-01"), settings=SOUTHEND)
    s = lst.spots
    assert list(s.columns) == LIST_COLUMNS + ["geometry"]
    assert len(s) == 20 and list(s["rank"]) == list(range(1, 21))
    assert s["spot_id"].is_unique and s["spot_id"].str.match(r"^150m-E\d+-N\d+$").all()
    assert (s["score"].diff().dropna() <= 1e-12).all()
    assert np.allclose(s["score"], s["score_harm"] + s["score_risk"])
    # the centre is in the cell, in BNG and in WGS84 (Southend is at about 51.54 N, 0.71 E)
    assert s.geometry.contains(gpd.GeoSeries(gpd.points_from_xy(s["easting"], s["northing"]), crs=s.crs)).all()
    assert s["lat"].between(51.5, 51.6).all() and s["lon"].between(0.6, 0.85).all()
    assert (s.geometry.area == s["cells"] * 150.0 ** 2).all() and s["cells"].between(1, 5).all()  # merged: <= 5
    assert s["location"].str.startswith("On or near").all()
    assert (s["harm_year"] >= s["harm_recent"]).all() and (s["harm_year"] > 0).all()
    assert (s["peak_times"] == "not available (monthly data)").all()
    assert (s["movement"] == "new").all() and (s["weeks_on_list"] == 1).all()
    assert s["patrol_visits_per_day"].iloc[0] == 4 and s["patrol_visits_per_day"].between(1, 4).all()
    assert any("monthly list" in n for n in lst.notes)
    assert lst.provenance["period_start"] == "2019-01-01" and "2018-01-01" in lst.provenance["data_window"]


def test_harm_columns_are_the_sums_of_the_spot_incidents(southend):
    inc, areas = southend
    p = month_period("2019-01")
    lst = build_list(inc, areas, p, settings=SOUTHEND)
    spot = lst.spots.iloc[0]
    f = inc.frame
    inside = shapely.intersects_xy(spot.geometry, f["x"].to_numpy(), f["y"].to_numpy())
    last = inside & (f["date_start"] >= pd.Timestamp("2018-12-01")) & (f["date_end"] <= p.start)
    year = inside & (f["date_start"] >= pd.Timestamp("2018-01-01")) & (f["date_end"] <= p.start)
    assert spot["harm_recent"] == pytest.approx(f.loc[last, "weight"].sum())
    assert spot["harm_year"] == pytest.approx(f.loc[year, "weight"].sum())
    top_type = f.loc[year, "offence_type"].astype(str).value_counts()
    assert spot["counts_by_type"].startswith(f"{top_type.index[0]} {top_type.iloc[0]}")


def test_incidents_planted_in_the_period_change_nothing(southend):
    inc, areas = southend
    p = month_period("2019-01")
    base = build_list(inc, areas, p, settings=SOUTHEND).spots
    far = base.iloc[-1]
    plant = inc.frame.iloc[:200].copy()
    plant["x"], plant["y"] = far["easting"] + 2000, far["northing"]
    plant["date_start"], plant["date_end"] = pd.Timestamp("2019-01-01"), pd.Timestamp("2019-02-01")
    plant["weight"] = 1e6
    planted = Incidents(pd.concat([inc.frame, plant], ignore_index=True), inc.crs, inc.resolution, inc.report,
                        inc.rejects)
    again = build_list(planted, areas, p, settings=SOUTHEND).spots
    pd.testing.assert_frame_equal(base.drop(columns="geometry"), again.drop(columns="geometry"))
    # ... and they do count for the next month
    after = build_list(planted, areas, p.next(), settings=SOUTHEND).spots
    assert after["harm_recent"].max() >= 1e6


def test_an_incident_stamped_at_00_00_of_the_week_belongs_to_that_week(chicago):
    """Half-open weeks: incidents timestamped exactly at the week's first moment are the
    week's own (its list does not see them); the next week's list does."""
    inc, areas = chicago
    p = week_period("2019-03-04")
    base = build_list(inc, areas, p).spots
    plant = inc.frame.iloc[:50].copy()
    far = base.iloc[-1]
    plant["x"], plant["y"] = far["easting"], far["northing"]
    plant["date_start"] = plant["date_end"] = p.start
    plant["weight"] = 1e6
    planted = Incidents(pd.concat([inc.frame, plant], ignore_index=True), inc.crs, inc.resolution, inc.report,
                        inc.rejects)
    again = build_list(planted, areas, p).spots
    pd.testing.assert_frame_equal(base.drop(columns="geometry"), again.drop(columns="geometry"))
    assert build_list(planted, areas, p.next()).spots["harm_recent"].max() >= 1e6


def test_weekly_list_of_month_only_data_is_refused(southend):
    inc, areas = southend
    with pytest.raises(InputError, match="month only"):
        build_list(inc, areas, week_period("2019-01-07"))


def test_exclusion_zone_removes_the_best_spot(southend):
    inc, areas = southend
    p = month_period("2019-01")
    base = build_list(inc, areas, p, settings=SOUTHEND).spots
    zone = gpd.GeoDataFrame(geometry=[base.geometry.iloc[0].buffer(-10)], crs=base.crs)
    lst = build_list(inc, areas, p, settings=SOUTHEND, exclusions=zone).spots
    assert base["spot_id"].iloc[0] not in set(lst["spot_id"])
    assert not lst.geometry.intersects(zone.geometry.iloc[0]).any()
    assert lst["spot_id"].iloc[0] == base["spot_id"].iloc[1]


def test_merged_spots_are_contiguous_and_bounded(southend):
    inc, areas = southend
    rule = SpotRule(top_n=10, max_cells=4)
    lst = build_list(inc, areas, month_period("2019-01"),
                     settings=ListSettings(area_tolerance_m=150.0, rule=rule)).spots
    assert lst["cells"].max() > 1 and lst["cells"].max() <= 4
    assert (lst.geometry.area == lst["cells"] * 150.0 ** 2).all()
    # each spot is connected: its cells touch by an edge or a corner
    assert all(shapely.buffer(g, 1.0).geom_type == "Polygon" for g in lst.geometry)
    assert not any(a.overlaps(b) for i, a in enumerate(lst.geometry) for b in lst.geometry[i + 1:])


def test_chicago_weekly_list_with_risk_terrain(chicago, chicago_terrain):
    inc, areas = chicago
    lst = build_list(inc, areas, week_period("2019-03-04"), terrain=chicago_terrain)
    s = lst.spots
    assert sorted(s["district"].unique()) == ["1", "12", "14", "18"]
    assert (s.groupby("district").size() == 20).all()
    assert s["rrs"].ge(1.0).all()
    assert (s["score_risk"] > 0).all()
    assert s["explanation"].str.contains("recent harm").all()
    with_factors = s[s["factors_present"] != ""]
    assert len(with_factors) and with_factors["explanation"].str.contains(r"base \d").all()
    with_times = s[s["harm_year"] > 0]
    assert with_times["peak_times"].str.match(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d+%.*; \d\d:00-\d\d:00 \d+% \(of \d+ incidents?\)$").all()
    assert (s.loc[s["harm_year"] == 0, "peak_times"] == "no incidents in the last year").all()
    assert lst.provenance["risk_terrain"]["data_to"] <= "2019-03-04"


def test_terrain_from_after_the_period_is_refused(chicago, chicago_terrain):
    inc, areas = chicago
    with pytest.raises(InputError, match="fitted on incidents up to 2018-12-09 23:35, after the week Mon 4 Jun 2018"):
        build_list(inc, areas, week_period("2018-06-04"), terrain=chicago_terrain)


def test_terrain_written_and_read_back_gives_the_same_list(chicago, chicago_terrain, tmp_path):
    inc, areas = chicago
    chicago_terrain.write(tmp_path)
    back = RiskTerrain.read(tmp_path)
    assert back.factors.equals(chicago_terrain.factors)
    p = week_period("2019-03-04")
    a = build_list(inc, areas, p, terrain=chicago_terrain).spots
    b = build_list(inc, areas, p, terrain=back).spots
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))


def test_archive_gives_movement_and_weeks_on_the_list(chicago, chicago_terrain, tmp_path):
    inc, areas = chicago
    archive = Archive(tmp_path / "archive.sqlite")
    p1 = week_period("2019-03-04")
    first = build_list(inc, areas, p1, terrain=chicago_terrain)
    archive.store(first)
    p2 = p1.next()
    second = build_list(inc, areas, p2, terrain=chicago_terrain, previous=archive.previous(p2, areas.names))
    s2 = second.spots
    kept = s2[s2["movement"] != "new"]
    assert len(kept) > 10 and (kept["weeks_on_list"] == 2).all()
    prev = first.spots.set_index(["district", "spot_id"])["rank"]
    # a spot continues the best-ranked spot of the week before that shares a cell with it
    before = {}
    for r in first.spots.itertuples():
        for c in first.spot_cells[r.spot_id]:
            before[(r.district, c)] = min(before.get((r.district, c), r.rank), r.rank)
    for r in kept.itertuples():
        shared = [before[(r.district, c)] for c in second.spot_cells[r.spot_id] if (r.district, c) in before]
        assert shared and r.previous_rank == min(shared)
        want = "same" if r.rank == r.previous_rank else ("up" if r.rank < r.previous_rank else "down")
        assert r.movement == want
    new = s2[s2["movement"] == "new"]
    assert not (set(zip(new["district"], new["spot_id"])) & set(prev.index))


def test_rerunning_a_period_replaces_it_and_a_failure_leaves_the_archive(southend, tmp_path):
    inc, areas = southend
    lst = build_list(inc, areas, month_period("2019-01"), settings=SOUTHEND)
    archive = Archive(tmp_path / "a.sqlite")
    assert archive.store(lst) == 20
    assert archive.store(lst) == 20
    con = sqlite3.connect(tmp_path / "a.sqlite")
    assert con.execute("SELECT COUNT(*) FROM spots").fetchone()[0] == 20
    assert con.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    con.close()
    broken = build_list(inc, areas, month_period("2019-02"), settings=SOUTHEND)
    broken.spot_cells = {}  # the insert fails part-way (a KeyError while building rows)
    with pytest.raises(KeyError):
        archive.store(broken)
    assert list(archive.periods()["period_key"]) == ["2019-01"]


def test_publish_is_all_or_nothing_and_byte_identical(southend, tmp_path):
    inc, areas = southend
    p = month_period("2019-01")
    a = publish(build_list(inc, areas, p, settings=SOUTHEND), tmp_path / "a", archive=Archive(tmp_path / "a.sqlite"),
                districts=areas.frame)
    b = publish(build_list(inc, areas, p, settings=SOUTHEND), tmp_path / "b", archive=None, districts=areas.frame)
    for kind in ("csv", "geojson"):
        assert a[kind].read_bytes() == b[kind].read_bytes()
    assert sorted(x.name for x in (tmp_path / "a").iterdir()) == [".rtm-publish.lock", "2019-01"]


def test_cli_weekly_monthly_sample_then_next_month_shows_movement(tmp_path):
    runner = CliRunner()
    args = ["weekly", "--incidents", str(ROOT / "sample_geo/southend/crime"),
            "--area", str(ROOT / "sample_geo/southend/southend_lsoa2011.geojson"), "--area-field", "LSOA11NM",
            "--area-tolerance", "150", "--out", str(tmp_path / "out")]
    r1 = runner.invoke(main, args + ["--month", "2019-01"])
    assert r1.exit_code == 0, r1.output
    assert "Southend-on-Sea: 20 spots" in r1.output and "every spot counts as new" in r1.output
    r2 = runner.invoke(main, args + ["--month", "2019-02"])
    assert r2.exit_code == 0, r2.output
    table = read_csv_bytes((tmp_path / "out/2019-02/harmspots_month_2019-02.csv").read_bytes())
    assert len(table) == 20 and (table["movement"] != "new").sum() >= 10
    r3 = runner.invoke(main, args + ["--week", "2019-01-07"])
    assert r3.exit_code == 2 and "month only" in r3.output and "--month" in r3.output


def test_cli_weekly_fits_then_reuses_the_terrain(tmp_path):
    runner = CliRunner()
    args = ["weekly", "--incidents", str(ROOT / "sample_geo/chicago/assaults_2016_2019.csv"),
            "--offence-value", "Aggravated assault", "--weights", "count",
            "--area", str(ROOT / "sample_geo/chicago/districts.geojson"), "--area-field", "District",
            "--catalogue", str(ROOT / "layers"), "--factors", "liquor_retail,abandoned_buildings",
            "--top", "5", "--out", str(tmp_path)]
    r1 = runner.invoke(main, args + ["--week", "2019-03-11"])
    assert r1.exit_code == 0, r1.output
    assert "Risk terrain: fitted" in r1.output
    r2 = runner.invoke(main, args + ["--week", "2019-03-18"])
    assert r2.exit_code == 0, r2.output
    assert "Risk terrain: reused" in r2.output  # same 13-week block
    assert len(list((tmp_path / "models").iterdir())) == 1


def test_a_street_layer_lists_the_streets_a_spot_covers(southend):
    inc, areas = southend
    p = month_period("2019-01")
    base = build_list(inc, areas, p, settings=SOUTHEND).spots
    top = base.iloc[0]
    streets = gpd.GeoDataFrame(
        {"name": ["Pier Hill", "Far Road"]},
        geometry=[shapely.LineString([(top.easting - 50, top.northing), (top.easting + 50, top.northing)]),
                  shapely.LineString([(top.easting + 5000, top.northing), (top.easting + 5100, top.northing)])],
        crs=base.crs)
    lst = build_list(inc, areas, p, settings=SOUTHEND, streets=streets).spots
    # the data's own text stays the label; the street crossing the spot is listed first in it
    assert lst["location"].iloc[0] == top.location
    assert lst["streets"].iloc[0].startswith("Pier Hill, ") and "Far Road" not in lst["streets"].iloc[0]
    with pytest.raises(InputError, match="no 'street' column"):
        build_list(inc, areas, p, settings=SOUTHEND, streets=streets, street_name="street")


def _peak(when: pd.Series, resolution: str) -> str:
    from rtm.weekly import _spot_facts

    hist = pd.DataFrame({"date_start": when, "weight": 1.0, "offence_type": "Assault"})
    one = np.zeros(len(hist), np.int64)
    return _spot_facts(hist, one, np.ones(len(hist), bool), 1, resolution)["peak_times"][0]


def test_peak_times_wrap_midnight_and_say_how_many():
    when = pd.Series(pd.to_datetime(["2019-03-01 22:10", "2019-03-02 23:40", "2019-03-03 00:20",
                                     "2019-03-02 23:05", "2019-03-05 14:00"]))
    # Fri, Sun and Tue tie for second place, so only Saturday is named
    assert _peak(when, "datetime") == "Sat 40%; 22:00-01:00 80% (of 5 incidents)"
    assert _peak(when, "day") == "Sat 40%; times not recorded (of 5 incidents)"
    more = pd.concat([when, pd.Series(pd.to_datetime(["2019-03-08 21:00"]))], ignore_index=True)
    assert _peak(more, "datetime").startswith("Fri 33%, Sat 33%; ")
    assert _peak(when, "month") == "not available (monthly data)"


def test_every_spots_facts_are_those_of_its_own_incidents(southend):
    """The per-spot columns are made for all spots at once; here each spot's are recomputed
    from the incidents inside its outline, one spot at a time."""
    inc, areas = southend
    p = month_period("2019-01")
    lst = build_list(inc, areas, p, settings=SOUTHEND)
    f = inc.frame
    year = (f["date_start"] >= pd.Timestamp("2018-01-01")) & (f["date_end"] <= p.start)
    last = year & (f["date_start"] >= pd.Timestamp("2018-12-01"))
    row, col = lst.grid.index(f["x"].to_numpy(), f["y"].to_numpy())  # each incident's cell decides
    labels = np.array(list(lst.grid.cell_labels(np.maximum(row, 0), np.maximum(col, 0))))
    for spot in lst.spots.itertuples():
        inside = (row >= 0) & np.isin(labels, lst.spot_cells[spot.spot_id])
        mine = f[inside & year]
        assert spot.harm_year == pytest.approx(mine["weight"].sum())
        assert spot.harm_recent == pytest.approx(f.loc[inside & last, "weight"].sum())
        counts = mine["offence_type"].astype(str).value_counts()
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        assert spot.counts_by_type == "; ".join(f"{t} {n}" for t, n in ordered)
        text = mine["location"].dropna().astype(str).str.strip()
        text = text[text != ""].value_counts()
        if len(text):
            assert spot.location == sorted(text[text == text.max()].index)[0]
        assert spot.peak_times == "not available (monthly data)"


def test_a_list_in_memory_gives_the_same_movement_as_the_archive(chicago, chicago_terrain, tmp_path):
    inc, areas = chicago
    p1 = week_period("2019-03-04")
    first = build_list(inc, areas, p1, terrain=chicago_terrain)
    archive = Archive(tmp_path / "a.sqlite")
    archive.store(first)
    from_archive = build_list(inc, areas, p1.next(), terrain=chicago_terrain,
                              previous=archive.previous(p1.next(), areas.names)).spots
    in_memory = build_list(inc, areas, p1.next(), terrain=chicago_terrain, previous=first.as_previous()).spots
    pd.testing.assert_frame_equal(from_archive.drop(columns="geometry"), in_memory.drop(columns="geometry"))
    assert (in_memory["movement"] != "new").any()


def test_cli_weekly_provenance_recording_points_and_marking(tmp_path):
    import json

    import pypdf

    zones = gpd.GeoDataFrame({"name": ["custody"]}, geometry=[shapely.box(583000, 185000, 583300, 185300)],
                             crs="EPSG:27700")
    zones.to_file(tmp_path / "zones.geojson")
    runner = CliRunner()
    args = ["weekly", "--incidents", str(ROOT / "sample_geo/southend/crime"),
            "--area", str(ROOT / "sample_geo/southend/southend_lsoa2011.geojson"), "--area-field", "LSOA11NM",
            "--area-tolerance", "150", "--exclusions", str(tmp_path / "zones.geojson"),
            "--marking", "OFFICIAL-SENSITIVE"]
    r = runner.invoke(main, args + ["--month", "2019-01", "--out", str(tmp_path / "a")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, args + ["--month", "2019-02", "--out", str(tmp_path / "a")])
    assert r.exit_code == 0, r.output
    folder = tmp_path / "a/2019-02"
    prov = json.loads((folder / "harmspots_month_2019-02.provenance.json").read_text(encoding="utf-8"))
    inputs = prov["inputs"]
    assert inputs["exclusions"]["file"] == "zones.geojson" and len(inputs["exclusions"]["sha256"]) == 64
    assert inputs["weights"]["values"]["Robbery"] == 365 and len(inputs["weights"]["sha256_of_values"]) == 64
    assert inputs["options"] == {"unknown": "reject", "default_weight": None, "week_start": "monday",
                                 "area_tolerance_m": 150.0}
    assert prov["previous_list"]["period"] == "month January 2019" and prov["previous_list"]["spots"] == 20
    assert prov["recording_points"]["incidents_left_out"] > 0 and prov["recording_points"]["cells_left_out"]
    pages = [p.extract_text() for p in pypdf.PdfReader(folder / "harmspots_month_2019-02_briefing.pdf").pages]
    assert all("OFFICIAL-SENSITIVE" in t for t in pages) and len(pages) <= 5
    table = pd.read_csv(folder / "harmspots_month_2019-02.csv")
    assert not table["location"].str.contains("Police Station").any()
    r = runner.invoke(main, args + ["--month", "2019-01", "--out", str(tmp_path / "b"), "--keep-recording-points"])
    assert r.exit_code == 0, r.output
    kept = pd.read_csv(tmp_path / "b/2019-01/harmspots_month_2019-01.csv")
    assert kept["location"].str.contains("Police Station").any()


def test_the_score_sees_its_history_window_and_the_facts_keep_the_year():
    """An incident two years back ranks its cell under the default 36-month window (and not
    under 12 months), while the spot's 'harm in the 52 weeks' stays the year's."""
    from dataclasses import replace

    from rtm.areas import Areas
    from rtm.ranking import ScoreSettings

    areas = Areas(gpd.GeoDataFrame({"name": ["town"]}, geometry=[shapely.box(0, 0, 1500, 1500)], crs="EPSG:27700"))
    t = pd.to_datetime(["2017-03-01", "2018-12-01"])
    frame = pd.DataFrame({"x": [75.0, 1425.0], "y": [75.0, 1425.0], "date_start": t, "date_end": t,
                          "weight": [500.0, 10.0], "offence_type": "Robbery", "location": "On or near X"})
    inc = Incidents.from_frame(frame, "EPSG:27700", "datetime")
    week = week_period("2019-01-07")
    rule = SpotRule(top_n=1)
    default = build_list(inc, areas, week, settings=ListSettings(rule=rule), recording_points=None)
    assert ScoreSettings().history_months == 36
    top = default.spots.iloc[0]
    assert (top["easting"], top["northing"]) == (75.0, 75.0)  # the older, larger harm leads
    assert top["harm_year"] == 0  # but none of it is in the year before
    year = build_list(inc, areas, week, recording_points=None,
                      settings=ListSettings(rule=rule, scoring=replace(ScoreSettings(), history_months=12)))
    assert (year.spots.iloc[0]["easting"], year.spots.iloc[0]["northing"]) == (1425.0, 1425.0)
    assert default.provenance["parameters"]["history_months"] == 36


def test_a_list_of_chosen_offence_types_ranks_by_those_types_only(southend):
    """The score's own window (36 months by default, longer than the year) takes the same
    offence rule as the year's rows: a list of one type equals the list made from data that
    holds only that type."""
    from dataclasses import replace

    inc, areas = southend
    only = "Violence and sexual offences"
    settings = ListSettings()
    assert settings.scoring.history_months != 12
    chosen = build_list(inc, areas, month_period("2019-02"), settings=replace(settings, offences=(only,)))
    frame = inc.frame[inc.frame["offence_type"].astype(str) == only]
    alone = build_list(replace(inc, frame=frame.reset_index(drop=True)), areas, month_period("2019-02"),
                       settings=settings)
    assert list(chosen.spots["spot_id"]) == list(alone.spots["spot_id"])
    everything = build_list(inc, areas, month_period("2019-02"), settings=settings)
    assert list(everything.spots["spot_id"]) != list(alone.spots["spot_id"])
