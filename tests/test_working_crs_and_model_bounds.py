"""Settings a review of issue 14 found ending in a traceback or in silently wrong distances:
a working CRS in degrees, in feet or stretched (Web Mercator), and model settings beyond
any sensible range, from the command line and from a workspace's workspace.toml."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from rtm.cli import main
from rtm.errors import InputError
from rtm.samples import SAMPLE_DIR, SAMPLES
from rtm.terrain_settings import RtmSettings
from rtm.workspace import load_workspace
from rtm.workspace_init import init_workspace

S = SAMPLES["southend"]


def _validate(*args):
    return CliRunner().invoke(main, ["validate", *map(str, S.paths()), "--area", str(SAMPLE_DIR / S.areas),
                                     "--area-field", S.area_field, *args])


@pytest.mark.parametrize("crs, words", [
    ("EPSG:4326", "is not a projected coordinate system: its distances would be degrees"),
    ("EPSG:2263", "measures in US survey foot, not metres"),
    ("EPSG:3857", "stretches distances by 1.61 where the data is"),
])
def test_a_working_crs_that_cannot_measure_metres_here_is_refused(crs, words):
    """Was: EPSG:4326 ended in 'unexpected error (ValueError: areas must be in a projected
    (metric) CRS)', exit 3; EPSG:3857 ran, with every 150 m spot 93 m on the ground."""
    res = _validate("--working-crs", crs)
    assert res.exit_code == 2, res.output
    assert "'--working-crs'" in res.output and words in res.output and "EPSG:27700" in res.output


def test_a_projected_crs_in_metres_near_the_data_is_taken():
    res = _validate("--working-crs", "EPSG:32631")  # UTM 31N: Southend lies in it, scale about 0.9997
    assert res.exit_code == 0, res.output
    assert "EPSG:32631" in res.output


@pytest.mark.parametrize("field, value", [("block_length", 1e308), ("block_length", 1e-300), ("cell_size", 1e6)])
def test_model_distances_beyond_any_town_are_refused(field, value):
    """Was: a block length of 1e308 m ended in a GEOSException, 1e-300 m in a ZeroDivisionError."""
    with pytest.raises(InputError) as info:
        RtmSettings(**{field: value})
    assert info.value.field == field and "from 1 to 5,000" in info.value.problem


@pytest.mark.parametrize("key, value, words", [
    ("block_length_m", "1e308", "from 1 to 5,000"),
    ("refit_every", "9223372036854775807", "from 1 to 1040"),
])
def test_a_workspace_model_setting_out_of_range_names_its_key(tmp_path, key, value, words):
    """Was: refit_every = 2**63-1 ended in 'year 0 is out of range' (exit 3; an error in the app)."""
    path = init_workspace(tmp_path / "ws", sample="southend")
    text = path.read_text()
    text = re.sub(rf"(?m)^#? ?{key} = .*$", f"{key} = {value}", text)
    assert f"{key} = {value}" in text
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_workspace(path.parent)
    err = info.value
    assert err.field == f"model.{key}" and err.field_kind == "key"
    assert words in f"{err.problem} {err.fix}"


@pytest.mark.parametrize("section, line, key, words", [
    ("incidents", "default_weight = nan", "incidents.default_weight", "from 0 to 1e+09"),
    ("force", "name = 1", "force.name", 'e.g. name = "Essex Police"'),
    ("model", 'catalogue = "workspace.toml"', "model.catalogue", ""),
])
def test_a_bad_workspace_key_is_named_as_it_is_written(tmp_path, section, line, key, words):
    """Was: default_weight = nan named no key; force.name = 1 gave the fix "e.g. name = ."; a
    catalogue that is a file, not a folder, was reported as key 'model.None'."""
    path = init_workspace(tmp_path / "ws", sample="southend")
    text = path.read_text()
    name = line.split(" = ")[0]
    text = re.sub(rf"(?m)^#? ?{name} = .*\n", "", text)
    text = text.replace(f"[{section}]\n", f"[{section}]\n{line}\n", 1)
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_workspace(path.parent)
    assert info.value.field == key and words in f"{info.value.problem} {info.value.fix}"


@pytest.mark.parametrize("command, option", [("hotspots", "--periods"), ("backtest", "--phs-window")])
def test_period_counts_beyond_ten_years_are_refused_as_themselves(command, option):
    """Was: --periods 1000000000 was reported as option '--month' with the date 1899-12-01."""
    res = CliRunner().invoke(main, [command, option, "1000000000"])
    assert res.exit_code == 2 and f"Invalid value for '{option}'" in res.output and "520" in res.output


def test_a_refit_interval_beyond_twenty_years_is_refused_by_every_front():
    """Was: refit_every = 2**63-1 ended in 'year 0 is out of range' wherever it came from: the
    library (the terrain store's refit date), the command line and a workspace now share one bound."""
    from rtm.periods import month_period
    from rtm.terrain_store import refit_date

    with pytest.raises(InputError) as info:
        refit_date(month_period("2019-01"), 2**63 - 1)
    assert info.value.field == "refit_every" and "from 1 to 1040" in info.value.problem
    assert refit_date(month_period("2019-05"), 3) == refit_date(month_period("2019-04"), 3)
    res = CliRunner().invoke(main, ["weekly", "--refit-every", "9223372036854775807"])
    assert res.exit_code == 2 and "Invalid value for '--refit-every'" in res.output and "1040" in res.output
