"""A force's workspace: 'rtm init' writes a config that runs, 'rtm weekly --workspace' publishes
the period after the data into the workspace, reruns are idempotent, two runs never overlap,
and a bad config names its key."""

from __future__ import annotations

import re

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from rtm.cli import main
from rtm.errors import InputError
from rtm.samples import SAMPLES
from rtm.workspace import CONFIG, load_workspace, workspace_lock
from rtm.workspace_init import init_workspace

pytestmark = pytest.mark.skipif(not SAMPLES["southend"].available(), reason="the bundled Southend sample is missing")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def southend_ws(tmp_path) -> Path:
    folder = tmp_path / "southend"
    res = run("init", folder, "--sample", "southend")
    assert res.exit_code == 0, res.output
    return folder


def test_a_new_sample_workspace_publishes_the_period_after_the_data_and_reruns_alike(southend_ws):
    res = run("weekly", "--workspace", southend_ws)
    assert res.exit_code == 0, res.output
    assert "Harm spots for the month March 2019: 20 spot(s)" in res.output  # data ends February 2019
    folder = southend_ws / "lists" / "2019-03"
    first = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert {"harmspots_month_2019-03.csv", "harmspots_month_2019-03.gpkg"} <= set(first)
    again = run("weekly", "--workspace", southend_ws)
    assert again.exit_code == 0, again.output
    second = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert second.keys() == first.keys()
    assert second["harmspots_month_2019-03.csv"] == first["harmspots_month_2019-03.csv"]
    with sqlite3.connect(southend_ws / "archive.sqlite") as con:
        periods = con.execute("SELECT DISTINCT period_key FROM runs").fetchall()
    assert periods == [("2019-03",)]
    earlier = run("weekly", "--workspace", southend_ws, "--month", "2019-02")
    assert earlier.exit_code == 0, earlier.output
    assert (southend_ws / "lists" / "2019-02").is_dir()


def test_a_second_run_while_one_holds_the_workspace_exits_75_and_writes_nothing(southend_ws):
    with workspace_lock(southend_ws):
        res = run("weekly", "--workspace", southend_ws)
    assert res.exit_code == 75
    assert "another weekly run is using this workspace" in res.output
    assert not (southend_ws / "lists").exists()


def test_options_that_belong_in_the_config_are_refused_with_a_workspace(southend_ws):
    res = run("weekly", "--workspace", southend_ws, "--top", "5")
    assert res.exit_code == 2 and "option '--top': --top cannot be combined with --workspace" in res.output
    res = run("weekly", "--workspace", southend_ws, "--week", "2019-01-07")
    assert res.exit_code == 2 and "the workspace makes monthly lists" in res.output
    res = run("weekly", "--month", "2019-01")
    assert res.exit_code == 2 and "--incidents is needed (or a workspace with --workspace)" in res.output


@pytest.mark.parametrize("edit, key, words", [
    (lambda t: t.replace("[lists]", "[lists]\nspotz = 5"), "lists.spotz", "'spotz' is not a setting of [lists]"),
    (lambda t: t.replace("spots = 20", 'spots = "twenty"'), "lists.spots", "must be a whole number"),
    (lambda t: t.replace('period = "month"', 'period = "fortnight"'), "lists.period", "'fortnight' is not allowed"),
    (lambda t: t.replace("tolerance_m = 150", "tolerance_m = -1"), "areas.tolerance_m", "is not allowed"),
    (lambda t: t.replace("[basemap]", "[basemap]\n[extras]"), "extras", "[extras] is not a section"),
    (lambda t: re.sub(r"(?m)^factors = \[.*\]$", 'factors = ["no_such_layer"]', t), "model.factors", "no_such_layer"),
    (lambda t: t.replace('file = "', 'file = "missing/'), "areas.file", "does not exist"),
])
def test_a_bad_config_names_the_key_the_problem_and_the_fix(southend_ws, edit, key, words):
    path = southend_ws / CONFIG
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_workspace(southend_ws)
    text = str(exc.value)
    assert f"key '{key}'" in text and words in text and "Fix:" in text, text
    res = run("weekly", "--workspace", southend_ws)
    assert res.exit_code == 2 and f"key '{key}'" in res.output and "Traceback" not in res.output


def test_toml_that_does_not_parse_says_where(southend_ws):
    (southend_ws / CONFIG).write_text('[force]\nname = "unclosed\n', encoding="utf-8")
    res = run("weekly", "--workspace", southend_ws)
    assert res.exit_code == 2 and "not valid TOML" in res.output and "line 2" in res.output


def test_init_refuses_to_overwrite_and_a_plain_config_asks_for_its_data(tmp_path):
    path = init_workspace(tmp_path / "force")
    with pytest.raises(InputError, match="already there"):
        init_workspace(tmp_path / "force")
    with pytest.raises(InputError, match="key 'incidents.sources'.*does not exist"):
        load_workspace(path.parent)
    assert "Your force" in path.read_text()


def test_two_published_periods_side_by_side(southend_ws):
    from rtm.archive import Archive, compare_lists

    # A one-year, harm-only ranking (a [tuning] table as `rtm tune --save` writes it): the shipped
    # default's 36-month window changes too little from one month to the next in this small sample.
    config = southend_ws / CONFIG
    config.write_text(config.read_text(encoding="utf-8") + '\n[tuning]\nhistory_months = 12\ncount_share = 0.0\n'
                      'count_rows = "crimes"\nbandwidth_m = 165\nhalf_life_days = 365\nrisk_weight = 0.1\n',
                      encoding="utf-8")
    for month in ("2019-01", "2019-02"):
        res = run("weekly", "--workspace", southend_ws, "--month", month)
        assert res.exit_code == 0, res.output
    archive = Archive(southend_ws / "archive.sqlite")
    assert list(archive.periods()["period_key"]) == ["2019-01", "2019-02"]
    feb, jan = archive.spots_of("month", "2019-02"), archive.spots_of("month", "2019-01")
    assert len(feb) == len(jan) == 20
    both = compare_lists(feb, jan)
    kept, new, gone = (both[both["status"] == s] for s in ("kept", "new", "gone"))
    assert len(kept) + len(new) == 20 and len(new) > 0 and len(gone) > 0
    feb_cells = {c for cells in feb["cell_labels"] for c in cells.split()}
    gone_rows = jan[jan["spot_id"].isin(gone["spot_id"])]
    assert not any(c in feb_cells for cells in gone_rows["cell_labels"] for c in cells.split())
    assert set(kept["spot_id"]) | set(new["spot_id"]) == set(feb["spot_id"])
    # the archive's own movement says the same: a February spot is 'new' exactly when it shares no cell with January
    moved = feb.set_index("spot_id")["movement"]
    assert set(new["spot_id"]) == set(moved[moved == "new"].index)


def test_a_workspace_with_shifts_publishes_a_list_per_shift(tmp_path):
    folder = tmp_path / "chicago"
    assert run("init", folder, "--sample", "chicago").exit_code == 0
    config = folder / CONFIG
    config.write_text(config.read_text().replace('# shifts = "07:00,19:00"', 'shifts = "07:00,19:00"')
                      .replace('factors = [', 'factors = [] # ['), encoding="utf-8")
    res = run("weekly", "--workspace", folder, "--week", "2019-03-04")
    assert res.exit_code == 0, res.output
    assert "Shift 07:00-19:00:" in res.output and "Shift 19:00-07:00:" in res.output
    assert (folder / "lists" / "2019-03-04" / "shift_0700_1900").is_dir()


def test_shifts_in_a_monthly_workspace_are_refused_with_the_reason(southend_ws):
    config = southend_ws / CONFIG
    config.write_text(config.read_text().replace('# shifts = "07:00,19:00"', 'shifts = "07:00,19:00"'),
                      encoding="utf-8")
    with pytest.raises(InputError, match="key 'lists.shifts'.*cannot be put into shifts"):
        load_workspace(southend_ws)
