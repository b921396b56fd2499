"""Hostile option values and output paths: every one is a clear message and exit 2, said
before any work, never 'unexpected error' (exit 3) or a silently wrong result."""

from __future__ import annotations

import math
import os
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from click.testing import CliRunner

from rtm.cli import main
from rtm.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
SOUTHEND = ROOT / "sample_geo" / "southend"
STUDY = ["--incidents", str(SOUTHEND / "crime"), "--area", str(SOUTHEND / "southend_lsoa2011.geojson"),
         "--area-field", "LSOA11NM", "--area-tolerance", "150"]


def run(*args):
    """The real command line on ``args``; returns click's Result (output and exit code)."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def refused(res, *words):
    """Assert ``res`` is a clear refusal (exit 2, no 'unexpected error') naming every one of ``words``."""
    assert res.exit_code == 2, res.output
    assert "unexpected error" not in res.output and "Traceback" not in res.output
    for w in words:
        assert w in res.output, (w, res.output)


# -- F1: non-finite and absurd numbers ---------------------------------------------------------
WEEKLY = ["weekly", *STUDY, "--month", "2019-01", "--out", "OUT"]
MODEL = ["model", *STUDY, "--cell-size", "100", "--block-length", "100", "--out", "OUT"]
HOTSPOTS = ["hotspots", *STUDY, "--month", "2019-01", "--out", "OUT"]
BACKTEST = ["backtest", *STUDY, "--period", "month", "--from", "2018-10", "--to", "2019-01", "--out", "OUT"]
NATIONAL = ["national", "--data", str(SOUTHEND / "crime"), "--month", "2019-01", "--out", "OUT/n.csv"]
DOSAGE = ["dosage", "--list", "x.gpkg", "--patrols", "p.csv", "--out", "OUT"]
VALIDATE = ["validate", str(SOUTHEND / "crime")]


@pytest.mark.parametrize("command, option, value, unit", [
    (WEEKLY, "--spot-size", "nan", "metres"), (WEEKLY, "--spot-size", "inf", "metres"),
    (WEEKLY, "--spot-size", "1e308", "metres"), (WEEKLY, "--bandwidth", "inf", "metres"),
    (WEEKLY, "--bandwidth", "1e308", "metres"), (WEEKLY, "--half-life", "nan", "days"),
    (WEEKLY, "--half-life", "inf", "days"), (WEEKLY, "--cell-size", "1e-300", "metres"),
    (WEEKLY, "--risk-weight", "nan", "from 0 to 1"), (WEEKLY, "--area-tolerance", "inf", "metres"),
    (MODEL, "--block-length", "1e308", "metres"), (MODEL, "--block-length", "1e-300", "metres"),
    (MODEL, "--buffer", "inf", "metres"), (MODEL, "--buffer", "1e308", "metres"), (MODEL, "--buffer", "nan", "metres"),
    (HOTSPOTS, "--distance", "1e308", "metres"), (HOTSPOTS, "--spot-size", "nan", "metres"),
    (BACKTEST, "--phs-radius", "1e308", "metres"), (BACKTEST, "--half-life", "inf", "days"),
    (VALIDATE, "--max-file-mb", "nan", "MB"), (VALIDATE, "--max-file-mb", "inf", "MB"),
    (DOSAGE, "--edge", "inf", "metres"), (DOSAGE, "--edge", "1e308", "metres"),
    (NATIONAL, "--spot-size", "inf", "metres"), (NATIONAL, "--max-grid-mb", "nan", "MB"),
    (NATIONAL, "--max-grid-mb", "inf", "MB"),
])
def test_non_finite_or_absurd_numbers_are_refused_naming_the_option_and_range(tmp_path, command, option, value,
                                                                               unit):
    args = [a.replace("OUT", str(tmp_path / "out")) for a in command]
    res = run(*args, option, value)
    refused(res, f"'{option}'", f"'{value}' is not a number", unit)
    assert not (tmp_path / "out").exists()  # refused before anything was made


def test_bounded_options_keep_their_words_and_help_shows_the_range():
    from rtm.cli.options import BANDWIDTH, SIZE

    assert SIZE.convert("150", None, None) == 150.0
    assert BANDWIDTH.convert("Silverman", None, None) == "silverman"
    assert math.isclose(BANDWIDTH.convert("165", None, None), 165.0)
    help_text = run("weekly", "--help").output
    assert "from 1 to 5,000 metres" in " ".join(help_text.split())


# -- F2: nan / inf must not turn the grid memory limit off ---------------------------------------
@pytest.mark.parametrize("limit", [float("nan"), float("inf"), 0.0, -5.0])
def test_grid_memory_limit_must_be_finite_and_positive(limit):
    from rtm.grid import check_grid_size
    from rtm.national import NationalSettings, plan_pieces
    from rtm.weekly import ListSettings

    with pytest.raises(InputError, match="max_grid_mb"):
        check_grid_size((0.0, 0.0, 1e6, 1e6), 1.0, limit)  # a million by a million cells
    with pytest.raises(InputError, match="not a finite number above 0"):
        NationalSettings(list=ListSettings(max_grid_mb=limit))
    with pytest.raises(InputError, match="max_grid_mb"):
        plan_pieces(None, ListSettings(max_grid_mb=limit))


# -- F3 / F4: output folders and files checked before any work ----------------------------------
def _unwritable_folder(tmp_path) -> Path:
    """An existing folder nothing can be written in, as whoever runs the tests: a folder made
    read-only (chmod 0o555) for a normal user; for root, who writes through permission bits, a
    sysfs folder, which the kernel refuses files in even to root."""
    if os.geteuid() != 0:
        folder = tmp_path / "readonly"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    folder = Path("/sys/kernel")
    try:
        (folder / "rtm-test-probe").open("w").close()
    except OSError:
        return folder
    os.remove(folder / "rtm-test-probe")
    pytest.skip("running as root and /sys/kernel accepts files here: no folder refuses root's writes")


def _commands(out: Path, tmp_path: Path) -> dict:
    return {
        "weekly": ["weekly", *STUDY, "--month", "2019-01", "--out", out],
        "model": ["model", *STUDY, "--cell-size", "100", "--block-length", "100", "--out", out],
        "hotspots": ["hotspots", *STUDY, "--month", "2019-01", "--out", out],
        "backtest": ["backtest", *STUDY, "--period", "month", "--from", "2018-10", "--to", "2019-01", "--out", out],
        "tune": ["tune", *STUDY, "--period", "month", "--out", out],
        "dosage": ["dosage", "--list", tmp_path / "x.gpkg", "--patrols", tmp_path / "p.csv", "--out", out],
        "init": ["init", out],
        "weights --write": ["weights", "--write", out / "w.csv"],
        "national": ["national", "--data", SOUTHEND / "crime", "--month", "2019-01", "--out", out / "n.csv"],
        "validate --rejects": ["validate", SOUTHEND / "crime", "--rejects", out / "r.csv"],
    }


@pytest.mark.parametrize("command", ["weekly", "model", "hotspots", "backtest", "tune", "dosage", "init",
                                     "weights --write", "national", "validate --rejects"])
def test_an_output_folder_that_cannot_be_written_is_refused_before_any_work(tmp_path, command):
    folder = _unwritable_folder(tmp_path)
    try:
        res = run(*_commands(folder, tmp_path)[command])
    finally:
        if folder.is_relative_to(tmp_path):
            folder.chmod(0o755)
    refused(res, "nothing can be written in the", str(folder), "Fix: choose a folder you can write to")
    assert "Incidents:" not in res.output and "Rows in" not in res.output  # nothing was read first


def test_output_folder_under_a_file_or_on_a_device_or_too_long(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    weekly = ["weekly", *STUDY, "--month", "2019-01", "--out"]
    refused(run(*weekly, afile / "out"), "cannot be created", "a part of the path is a file, not a folder")
    refused(run(*weekly, "/dev/null"), "'/dev/null' exists and is not a folder")
    refused(run(*weekly, tmp_path / ("a" * 300)), "cannot be created", "too long")
    refused(run("weekly", *STUDY, "--month", "2019-01", "--out", tmp_path / "ok", "--archive",
                tmp_path / ("b" * 300 + ".sqlite")), "archive name is 307 characters long")


# -- F4 / F10: weights files ------------------------------------------------------------------------
def test_weights_that_are_a_folder_a_fifo_or_empty_are_named_as_such(tmp_path):
    from rtm.weights import HarmWeights

    with pytest.raises(InputError, match="is a folder, not a weights file"):
        HarmWeights.from_csv(tmp_path)
    fifo = tmp_path / "w.csv"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        HarmWeights.from_csv(fifo)
    refused(run("validate", SOUTHEND / "crime", "--weights", ""), "'--weights'", "the weights are empty")
    refused(run("validate", SOUTHEND / "crime", "--weights", tmp_path), "is a folder, not a weights file")


def test_weights_row_without_an_offence_type_is_refused_with_its_row(tmp_path):
    from rtm.weights import HarmWeights

    f = tmp_path / "w.csv"
    f.write_text("offence_type,weight\nBurglary,10\n  ,5\nRobbery,20\n")
    with pytest.raises(InputError, match=r"row 3 has no offence type"):
        HarmWeights.from_csv(f)


def test_all_zero_weights_are_refused_unless_a_positive_default_weighs_the_rest(tmp_path):
    from rtm.weights import HarmWeights

    f = tmp_path / "zero.csv"
    f.write_text("offence_type,weight\nBurglary,0\nRobbery,0\n")
    for unknown in ("reject", "zero"):
        with pytest.raises(InputError, match="every offence type the weight 0"):
            HarmWeights.from_csv(f, unknown)
    header = tmp_path / "header.csv"
    header.write_text("offence_type,weight\n")
    with pytest.raises(InputError, match="lists no offence type"):
        HarmWeights.from_csv(header)
    # zero for the listed types and a positive weight for the others is a real choice
    assert HarmWeights.from_csv(f, "default", 3.0).lookup(["Burglary", "Arson"])[0].tolist() == [0.0, 3.0]
    refused(run("validate", SOUTHEND / "crime", "--weights", f), "zero.csv", "every offence type the weight 0",
            "Fix:")


# -- F7: tuning spans ----------------------------------------------------------------------------------
def _monthly_incidents():
    """Incidents (only ``frame`` with ``date_start``/``date_end``) of every month of 2017-2019."""
    starts = pd.date_range("2017-01-01", "2019-12-01", freq="MS")
    return SimpleNamespace(frame=pd.DataFrame({"date_start": starts, "date_end": starts + pd.offsets.MonthEnd(0)}))


def test_a_reversed_tuning_span_is_refused_on_the_command_line():
    res = run("tune", *STUDY, "--period", "month", "--validate-from", "2019-02", "--validate-to", "2019-01")
    refused(res, "--validate-from / --validate-to", "the validation span ends (2019-01) before it starts (2019-02)")
    res = run("tune", *STUDY, "--period", "month", "--test-from", "2019-02", "--test-to", "2019-01")
    refused(res, "--test-from / --test-to", "the test span ends (2019-01) before it starts (2019-02)")


def test_one_given_tuning_span_is_used_not_replaced_by_the_default():
    from rtm.tuning.choose import spans

    val, tst = spans(_monthly_incidents(), "month", validate=("2018-03", "2018-06"))
    assert [p.key for p in val] == ["2018-03", "2018-04", "2018-05", "2018-06"]
    assert tst[0].key == "2018-07" and len(tst) == 12
    val, tst = spans(_monthly_incidents(), "month", test=("2019-03", "2019-05"))
    assert [p.key for p in tst] == ["2019-03", "2019-04", "2019-05"]
    assert val[-1].key == "2019-02" and len(val) == 12


def test_an_unknown_time_zone_is_refused_before_any_file_is_read(tmp_path):
    """Was: `dosage --timezone Mars/Base` was taken, and failed with ZoneInfoNotFoundError
    (exit 3) only once the pings carried a UTC offset."""
    from rtm.patrols import read_patrols

    with pytest.raises(InputError) as info:
        read_patrols([tmp_path / "never_read.gpx"], "EPSG:27700", tz="Mars/Base")
    assert info.value.field == "timezone" and "'Mars/Base' is not a time zone name" in info.value.problem
