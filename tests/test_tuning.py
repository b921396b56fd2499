"""Self-tuning (rtm.tuning, 'rtm tune'): the family, rolling origins without look-ahead, the
choice on a validation span reported on a later test span, and the choice kept in a workspace
and used, and named, by its lists."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from rtm.areas import Areas
from rtm.cli import main
from rtm.errors import InputError
from rtm.incidents import Incidents
from rtm.periods import periods_between, week_period
from rtm.ranking import ScoreSettings
from rtm.samples import SAMPLES
from rtm.tuning import (DEFAULT, LOPO, NAIVE, ORACLE, capture_table, effective, family, spans, tune,
                        tuning_text)
from rtm.tuning.saved import replace_table
from rtm.workspace import load_workspace


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# -- the family --------------------------------------------------------------------------------
def test_the_family_has_sixty_distinct_valid_members():
    f = family(150.0)
    assert len(f) == 60 and len(set(f.values())) == 60
    assert {s.history_months for s in f.values()} == {12, 24, 36}
    assert {(s.count_share, s.count_rows) for s in f.values()} == {(0.0, "crimes"), (0.5, "crimes"), (0.5, "all"),
                                                                   (1.0, "crimes"), (1.0, "all")}
    assert {s.bandwidth_m for s in f.values()} == {165.0, 225.0}
    assert {s.half_life_days for s in f.values()} == {365.0, None}
    assert len(family(150.0, (12,))) == 20


def test_settings_the_data_cannot_tell_apart_are_computed_once():
    s = ScoreSettings(count_share=0.5, count_rows="all")
    assert effective(s, np.ones(5)) == replace(s, count_share=0.0, count_rows="crimes")  # count weights
    assert effective(s, np.array([1.0, 3.0])) == replace(s, count_rows="crimes")  # no zero-harm row
    assert effective(s, np.array([0.0, 3.0])) == s


# -- rolling origins on planted data -----------------------------------------------------------
def _areas():
    west, east = shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)
    return Areas(gpd.GeoDataFrame({"name": ["west", "east"]}, geometry=[west, east], crs="EPSG:27700"))


def _incidents(rows):
    f = pd.DataFrame(rows, columns=["x", "y", "date_start", "weight"])
    f["date_start"] = pd.to_datetime(f["date_start"])
    f["date_end"] = f["date_start"]
    f["offence_type"] = "x"
    return Incidents.from_frame(f, "EPSG:27700", "datetime")


def _planted(seed=0, weeks=170):
    """A spot of steady harm in each district two years long, a second that moves, and noise."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2016-01-04")
    for k in range(weeks):
        day = start + pd.Timedelta(days=7 * k + 2)
        rows += [(150, 150, day, 10.0), (1150, 850, day, 10.0)]
        rows += [(float(rng.uniform(0, 2000)), float(rng.uniform(0, 1000)), day, float(rng.choice([0.0, 1.0, 5.0])))
                 for _ in range(6)]
    return _incidents(rows)


def test_incidents_after_the_periods_change_no_list():
    areas, inc = _areas(), _planted()
    weeks = periods_between(week_period("2018-01-01"), "2018-03-26")
    sets = dict(list(family(150.0).items())[::7])
    before = capture_table(inc, areas, weeks, sets, bounds=True)
    future = inc.frame.iloc[:40].assign(date_start=pd.Timestamp("2018-04-03"), date_end=pd.Timestamp("2018-04-03"),
                                        x=1850.0, y=150.0, weight=1000.0)
    after = capture_table(Incidents.from_frame(pd.concat([inc.frame, future]), "EPSG:27700", "datetime"), areas,
                          weeks, sets, bounds=True)
    pd.testing.assert_frame_equal(before, after)


def test_a_list_never_sees_its_own_period():
    """Harm planted in a period, at a place with no history, is never listed for that period."""
    areas, inc = _areas(), _planted()
    week = week_period("2018-02-05")
    sets = family(150.0)
    base = capture_table(inc, areas, [week], sets, top_n=2)
    plant = inc.frame.iloc[:1].assign(date_start=week.start + pd.Timedelta(days=1), x=1850.0, y=950.0,
                                      weight=1e6)
    plant["date_end"] = plant["date_start"]
    planted = capture_table(Incidents.from_frame(pd.concat([inc.frame, plant]), "EPSG:27700", "datetime"), areas,
                            [week], sets, top_n=2)
    assert (planted["caught"].to_numpy() == base["caught"].to_numpy()).all()  # same cells listed
    assert (planted["total"] > base["total"] + 1e5).all()  # the planted harm is in the target


def test_bounds_hold_in_every_period():
    areas, inc = _areas(), _planted()
    weeks = periods_between(week_period("2018-01-01"), "2018-06-25")
    t = capture_table(inc, areas, weeks, family(150.0, (12, 36)), bounds=True)
    by = t.pivot(index="period", columns="name", values="capture")
    assert ((by.drop(columns=ORACLE).le(by[ORACLE] + 1e-12, axis=0)).all()).all()
    assert set(by.columns) >= {NAIVE, LOPO, ORACLE}
    assert ((t["capture"] >= 0) & (t["capture"] <= 1 + 1e-12)).all()


def test_spans_split_short_data_and_refuse_a_test_before_validation():
    inc = _planted(weeks=60)
    val, test = spans(inc, "week")
    assert val and test and test[0].start >= val[-1].end
    assert abs(len(val) - len(test)) <= 1
    long_val, long_test = spans(_planted(weeks=170), "week")
    assert len(long_val) == len(long_test) == 52
    with pytest.raises(InputError, match="before the validation span ends"):
        spans(inc, "week", validate=("2016-06-06", "2016-09-26"), test=("2016-08-01", "2016-10-31"))


def test_tune_chooses_the_best_on_validation_and_reports_the_test_span():
    areas, inc = _areas(), _planted()
    res = tune(inc, areas, kind="week", validate=("2018-01-01", "2018-06-25"), test=("2018-07-02", "2018-12-31"))
    members = set(family(150.0))
    v = res.validation[res.validation["name"].isin(members)]
    assert res.chosen_name == v.iloc[0]["name"] and res.chosen == family(150.0)[res.chosen_name]
    assert v.iloc[0]["capture"] == v["capture"].max()
    assert list(res.test["name"]) == ["tuned", DEFAULT, NAIVE, LOPO, ORACLE]
    assert res.test.set_index("name").loc[NAIVE, "vs_naive"] == 0
    assert min(res.test_periods) > max(res.validation_periods)
    assert res.history_months == (12, 24)  # data from 2016-01: no 36 months before 2018
    assert any("36 months were not tried" in n for n in res.notes)
    assert any("risk weight was not tuned" in n for n in res.notes)


# -- the workspace -----------------------------------------------------------------------------
needs_southend = pytest.mark.skipif(not SAMPLES["southend"].available(), reason="the bundled Southend sample is missing")


@pytest.fixture(scope="module")
def tuned_ws(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ws") / "southend"
    assert run("init", folder, "--sample", "southend").exit_code == 0
    res = run("tune", "--workspace", folder, "--save", "--validate-from", "2018-04", "--validate-to", "2018-07",
              "--test-from", "2018-10", "--test-to", "2018-12")
    assert res.exit_code == 0, res.output
    assert "Chosen on the validation span:" in res.output and "naive" in res.output and "Time:" in res.output
    return folder


@needs_southend
def test_save_writes_a_tuning_table_that_the_workspace_and_its_lists_use(tuned_ws):
    text = (tuned_ws / "workspace.toml").read_text()
    assert text.count("[tuning]") == 1
    ws = load_workspace(tuned_ws)
    chosen = dict(ws.job.settings.tuning)["chosen"]
    member, _, rw = chosen.partition(" rw")  # the sample has a risk terrain: its weight is tuned too
    expected = replace(family(150.0)[member], method="combined")
    if rw:
        expected = replace(expected, risk_weight=float(rw))
    assert ws.job.settings.scoring == expected
    res = run("weekly", "--workspace", tuned_ws, "--month", "2019-01")
    assert res.exit_code == 0, res.output
    prov = json.loads(next((tuned_ws / "lists" / "2019-01").glob("*.provenance.json")).read_text())
    assert prov["ranking"]["how"].startswith("tuned") and prov["ranking"]["chosen"] == chosen
    assert prov["ranking"]["validation"] == ["2018-04", "2018-07"]
    assert prov["parameters"]["history_months"] == ws.job.settings.scoring.history_months


@needs_southend
def test_saving_again_replaces_the_table_and_keeps_the_rest(tuned_ws, tmp_path):
    text = (tuned_ws / "workspace.toml").read_text()
    ws_text = text.replace("[tuning]", "[tuning]\n# a note", 1)
    again = replace_table(ws_text + "\n[extra]\nkey = 1\n", "[tuning]\nchosen = \"x\"\n")
    assert again.count("[tuning]") == 1 and "# a note" not in again and again.rstrip().endswith("key = 1")
    assert again.split("[tuning]")[0] == text.split("# chosen by 'rtm tune'")[0].rstrip("\n") + "\n\n"


@needs_southend
@pytest.mark.parametrize("edit, key", [
    ('count_rows = "crimes"', 'count_rows = "everything"'),
    ("history_months = ", "history_months = 0 #"),
    ("risk_weight = ", "risk_weight = 2 #"),
    ("[tuning]", "[tuning]\nbogus = 1"),
])
def test_a_bad_tuning_table_names_its_key(tuned_ws, tmp_path, edit, key):
    import shutil

    folder = tmp_path / "ws"
    shutil.copytree(tuned_ws, folder, ignore=shutil.ignore_patterns("lists", "*.sqlite"))
    path = folder / "workspace.toml"
    text = path.read_text()
    if edit not in text:  # the saved choice counted crimes or all rows
        edit = 'count_rows = "all"'
    path.write_text(text.replace(edit, key, 1))
    with pytest.raises(InputError) as err:
        load_workspace(folder)
    name = key.split("=")[0].strip().split("\n")[-1]
    assert f"tuning.{name}" in str(err.value)


@needs_southend
def test_without_a_tuning_table_lists_say_they_use_the_shipped_default(tmp_path):
    folder = tmp_path / "ws"
    assert run("init", folder, "--sample", "southend").exit_code == 0
    assert load_workspace(folder).job.settings.scoring == ScoreSettings()
    assert run("weekly", "--workspace", folder, "--month", "2019-01").exit_code == 0
    prov = json.loads(next((folder / "lists" / "2019-01").glob("*.provenance.json")).read_text())
    assert prov["ranking"]["how"].startswith("the shipped default")


def test_the_command_line_refuses_what_it_cannot_do(tmp_path):
    res = run("tune", "--incidents", "x.csv", "--area", "a.geojson", "--save")
    assert res.exit_code == 2 and "--save" in res.output and "Traceback" not in res.output
    res = run("tune", "--incidents", "x.csv", "--area", "a.geojson", "--validate-from", "2018-01-01")
    assert res.exit_code == 2 and "both ends" in res.output
    res = run("tune", "--area", "a.geojson")
    assert res.exit_code == 2 and "--incidents" in res.output


def test_tuning_text_is_a_table_the_workspace_reads(tmp_path):
    areas, inc = _areas(), _planted()
    res = tune(inc, areas, kind="week", validate=("2018-01-01", "2018-02-26"), test=("2018-03-05", "2018-04-30"))
    import tomllib

    table = tomllib.loads(tuning_text(res))["tuning"]
    assert table["chosen"] == res.chosen_name and table["top_n"] == 20
    assert table["test_capture_naive"] == pytest.approx(res.capture(NAIVE), abs=1e-5)


@pytest.mark.skipif(not SAMPLES["chicago"].available(), reason="the bundled Chicago sample is missing")
def test_with_a_risk_terrain_the_risk_weight_is_tuned_too():
    from rtm.catalogue import load_catalogue
    from rtm.terrain_settings import RtmSettings
    from rtm.terrain_store import TerrainStore
    from rtm.tuning import RISK_WEIGHTS
    from rtm.variables import attractor_buffer

    inc, areas = SAMPLES["chicago"].load()
    cat = load_catalogue("layers")
    layers = {n: cat[n].load(None, areas=areas, buffer_m=attractor_buffer(100, 3)) for n in ("liquor_retail",)}
    store = TerrainStore(inc, areas, layers, RtmSettings())
    res = tune(inc, areas, kind="week", validate=("2018-01-01", "2018-01-28"), test=("2018-02-05", "2018-02-25"),
               terrain_for=store)
    tried = [n for n in res.validation["name"] if " rw" in n]
    assert len(tried) == len(RISK_WEIGHTS)
    assert res.chosen.risk_weight in RISK_WEIGHTS
    assert not any("risk weight was not tuned" in n for n in res.notes)
    assert all(f.fit_to <= pd.Timestamp("2018-02-05") for f in store.fits)  # no terrain saw the test span


@pytest.mark.skipif(not SAMPLES["chicago"].available(), reason="the bundled Chicago sample is missing")
def test_bad_spans_are_named_by_their_options():
    from rtm.samples import SAMPLE_DIR

    s = SAMPLES["chicago"]
    base = ["tune", "--incidents", s.paths()[0], "--offence-value", "Aggravated assault", "--weights", "count",
            "--area", SAMPLE_DIR / s.areas, "--area-field", s.area_field]
    res = run(*base, "--validate-from", "2018-03-01", "--validate-to", "2018-03-31", "--test-from", "2018-01-01",
              "--test-to", "2018-02-01")
    assert res.exit_code == 2 and "--test-from" in res.output and "before the validation span ends" in res.output
    res = run(*base, "--validate-from", "2018-01-01", "--validate-to", "2018-01-31", "--test-from", "2021-01-01",
              "--test-to", "2021-02-01")
    assert res.exit_code == 2 and "no period of the test span has harm" in res.output
