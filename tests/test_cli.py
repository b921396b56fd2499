"""The rtm command line: reports, exit codes, no tracebacks."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from rtm.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_help_at_every_level_reads_like_a_manual():
    top = run("--help")
    assert top.exit_code == 0 and "validate" in top.output and "layers" in top.output
    val = run("validate", "--help")
    assert val.exit_code == 0
    for words in ("Exit status", "Examples", "--area-field", "--rejects", "--weights", "--unknown"):
        assert words in val.output


def test_missing_file_gives_one_message_and_exit_2(tmp_path):
    res = run("validate", str(tmp_path / "nope.csv"))
    assert res.exit_code == 2
    assert "nope.csv: the file or folder does not exist. Fix:" in res.output
    assert "Traceback" not in res.output


def test_validate_reports_and_writes_rejects(tmp_path):
    f = tmp_path / "2019-01-test-street.csv"
    f.write_text(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
        "Last outcome category,Context\n"
        "a1,2019-01,X,X,0.71,51.54,On or near High Street,E1,Southend-on-Sea 001A,Robbery,,\n"
        "a2,2019-01,X,X,,,No Location,,,Burglary,,\n"
        ",2019-01,X,X,0.71,51.54,On or near High Street,E1,Southend-on-Sea 001A,Anti-social behaviour,,\n"
        "a3,2019-01,X,X,0.72,51.55,On or near Park,E1,Southend-on-Sea 001A,Made-up crime,,\n")
    out = tmp_path / "rejects.csv"
    res = run("validate", str(f), "--rejects", str(out))
    assert res.exit_code == 0, res.output
    assert "Rows in:       4" in res.output and "Rows used:     2" in res.output
    assert "missing_coordinates" in res.output and "unknown_offence_type" in res.output
    assert "EPSG:27700" in res.output and "resolution month" in res.output
    text = out.read_text()
    assert text.count("\n") == 3 and "unknown_offence_type" in text


def test_no_usable_row_exits_1(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("Crime ID,Month,Longitude,Latitude,Crime type\nx,2019-01,,,Robbery\n")
    res = run("validate", str(f))
    assert res.exit_code == 1 and "no row is usable" in res.output


def test_layers_lists_the_catalogue():
    res = run("layers", "--catalogue", str(ROOT / "layers"))
    assert res.exit_code == 0 and "pubs" in res.output and "fclass = pub" in res.output


def test_weights_write_refuses_to_overwrite(tmp_path):
    f = tmp_path / "w.csv"
    assert run("weights", "--write", str(f)).exit_code == 0
    assert "Robbery,365" in f.read_text()
    res = run("weights", "--write", str(f))
    assert res.exit_code == 2 and "already exists" in res.output


@pytest.mark.realdata
def test_validate_essex_with_study_area(essex_dir):
    res = run("validate", str(essex_dir / "crime" / "2018-01-essex-street.csv"), "--area",
              str(essex_dir / "boundaries" / "essex_southend_thurrock_lsoa2011.geojson"),
              "--area-field", "LSOA11NM", "--area-select", "Southend-on-Sea")
    assert res.exit_code == 0
    assert "Rows in:       14,786" in res.output and "outside_study_area" in res.output
    assert "Counts add up: yes" in res.output


def test_swapped_police_uk_columns_can_be_fixed_with_the_mapping_the_message_gives():
    bad = ROOT / "tests" / "badfiles" / "lonlat_swapped.csv"
    res = run("validate", str(bad))
    assert res.exit_code == 2 and "--lon-col 'Latitude' --lat-col 'Longitude'" in res.output
    fixed = run("validate", str(bad), "--lon-col", "Latitude", "--lat-col", "Longitude")
    assert fixed.exit_code == 0 and "[police.uk street]" in fixed.output and "Rows used:     3" in fixed.output


HEAVY = ("geopandas", "shapely", "rasterio")


def _modules_after(tmp_path, *args) -> tuple[list, str]:
    """Run ``rtm ARGS`` in a fresh interpreter; (heavy modules it imported, its output)."""
    import subprocess
    import sys

    code = ("import sys, rtm.cli\n"
            f"sys.argv = ['rtm', *{list(args)!r}]\n"
            "try:\n    rtm.cli.main()\nexcept SystemExit:\n    pass\n"
            f"print('HEAVY:', *[m for m in {HEAVY!r} if m in sys.modules])\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={**__import__("os").environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    line = [x for x in res.stdout.splitlines() if x.startswith("HEAVY:")]
    assert line, res.stdout + res.stderr
    return line[-1].split()[1:], res.stdout


def test_validate_without_area_does_not_import_geopandas(tmp_path):
    # geopandas alone costs 0.8 s to import; a load without --area needs none of the map libraries
    f = tmp_path / "2019-01-test-street.csv"
    f.write_text("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
                 "Crime type,Last outcome category,Context\n"
                 "a1,2019-01,X,X,0.71,51.54,On or near High Street,E1,Southend-on-Sea 001A,Robbery,,\n")
    heavy, out = _modules_after(tmp_path, "validate", str(f))
    assert "Rows used:     1" in out
    assert heavy == []


def test_listing_the_layer_catalogue_does_not_import_geopandas(tmp_path):
    heavy, out = _modules_after(tmp_path, "layers", "--catalogue", str(ROOT / "layers"))
    assert "fclass = pub" in out
    assert heavy == []
