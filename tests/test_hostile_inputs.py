"""The hostile cases of issue 14, one test each, on the files in tests/badfiles written by
make_hostile.py: no row lost, none invented, nothing an unreadable file turns into a
traceback, and resource limits that name the setting raising them."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from rtm.areas import load_areas
from rtm.errors import InputError
from rtm.incidents import load_incidents
from rtm.layouts import ColumnMap
from rtm.sources import LoadLimits
from rtm.weights import HarmWeights

BAD = Path(__file__).resolve().parent / "badfiles"
TODAY = "2026-11-23"

#: files of the corpus tested here (test_bad_files checks that every file has a test)
TESTED_HERE = {
    "stray_quote_1000_rows.csv", "quoted_linebreak_then_blank.csv", "latin1_ragged_row.csv",
    "street_csvs_and_shapefile.zip", "dates_out_of_range.csv", "dates_out_of_range_generic.csv",
    "weights_overflow.csv", "zero_zero_points.csv", "iso_slash_offsets.csv", "mixed_date_formats.csv",
    "utf16_without_bom.csv", "cr_only_line_ends.csv", "quoted_header_with_comma.csv", "title_line.csv",
    "excel_sep_line.csv", "folder_missing_months", "unknown_types_counted.csv", "formula_cells.csv",
    "expands_4mb.zip", "newlines_4mb.csv.gz", "encrypted.zip", "deflate64.zip", "bad_crc.zip",
    "nested_columns.parquet",
}


def _load(name, **options):
    options.setdefault("today", TODAY)
    return load_incidents(BAD / name, threads=1, **options)


def _adds_up(inc):
    rep = inc.report
    assert rep.adds_up and len(inc.frame) == rep.rows_used and len(inc.rejects) == rep.rows_rejected
    used = set(zip(inc.frame["source_file"].astype(str), inc.frame["source_row"].astype(int)))
    rej = set(zip(inc.rejects["file"].astype(str), inc.rejects["row"].astype(int)))
    assert not used & rej and len(used) == rep.rows_used


# -- data loss ----------------------------------------------------------------------------------
def test_a_stray_quote_costs_its_own_row_only():
    """Was: rows in 9, used 8, and 991 rows never counted."""
    inc = _load("stray_quote_1000_rows.csv")
    assert (inc.report.rows_in, inc.report.rows_used) == (1000, 999)
    assert inc.report.rejected == {"stray_quote": 1}
    assert inc.rejects["row"].tolist() == [10]  # line 10 of the file: the ninth data row
    assert inc.rejects.loc[0, "Location"] == '"On or near Pub'  # the cells stay in their columns
    assert inc.rejects.loc[0, "LSOA code"] == "E01015906"
    assert inc.rejects.loc[0, "raw_text"].endswith('"On or near Pub,E01015906,Southend-on-Sea 014A,Burglary,'
                                                   'Under investigation,')
    assert inc.frame["source_row"].tolist() == [n for n in range(2, 1002) if n != 10]
    assert any("never closed (lines 10)" in n for n in inc.report.notes)
    _adds_up(inc)


@pytest.mark.parametrize("gap", [1, 10])
def test_two_stray_quotes_lines_apart_do_not_merge_the_rows_between(tmp_path, gap):
    """Was: one quote opening a Location and another ending one `gap` lines later closed one
    cell around the rows between: rows in 999 (or 990), 0 rejected, and a used row made of
    two incidents."""
    lines = (BAD / "stray_quote_1000_rows.csv").read_text().splitlines()
    lines[9] = lines[9].replace('"On or near Pub', "On or near Pub")  # the corpus file's own stray quote
    opener, closer = 500, 500 + gap  # 0-based: lines 501 and 501 + gap of the file
    lines[opener] = lines[opener].replace(",On or near ", ',"On or near ', 1)
    lines[closer] = lines[closer].replace(",E01", '",E01', 1)
    f = tmp_path / "2018-01-essex-street.csv"
    f.write_text("\n".join(lines) + "\n")
    inc = load_incidents(f, threads=1, today=TODAY)
    assert (inc.report.rows_in, inc.report.rows_used) == (1000, 999)
    assert inc.report.rejected == {"stray_quote": 1}
    assert inc.rejects["row"].tolist() == [501]
    assert inc.frame["source_row"].tolist() == [n for n in range(2, 1002) if n != 501]
    assert not inc.frame["location"].str.contains("\n").any()
    _adds_up(inc)


def test_a_cell_longer_than_the_csv_modules_limit_in_the_first_row_is_read(tmp_path):
    """Was: 'field larger than field limit (131072)', exit 3, from the title-line check."""
    lines = (BAD / "stray_quote_1000_rows.csv").read_text().splitlines()[:3]
    lines[1] = lines[1].rstrip(",") + "," + "x" * 140_000
    f = tmp_path / "long.csv"
    f.write_text("\n".join(lines) + "\n")
    inc = load_incidents(f, threads=1, today=TODAY)
    assert inc.report.rows_in == 2 and inc.report.rows_used == 2


@pytest.mark.parametrize("args", [["--month", "0000-01"], ["--month", "9999-12"], ["--month", "0001-01"],
                                  ["--week", "0001-01-01"], ["--week", "0000-01-01"]])
def test_periods_outside_the_years_lists_are_made_for_get_a_message(tmp_path, args):
    """Was: 'year 0 is out of range' or 'strftime not yet supported', exit 3."""
    from click.testing import CliRunner

    from rtm.cli import main

    southend = Path(__file__).resolve().parents[1] / "sample_geo" / "southend"
    res = CliRunner().invoke(main, ["weekly", "--incidents", str(southend / "crime"), "--area",
                                    str(southend / "southend_lsoa2011.geojson"), "--area-field", "LSOA11NM",
                                    "--out", str(tmp_path / "out"), *args])
    assert res.exit_code == 2, res.output
    assert "outside the years 1900 to 2199" in res.output and "Traceback" not in res.output
    assert "unexpected error" not in res.output


def test_a_folder_with_nothing_to_read_names_what_it_holds(tmp_path):
    (tmp_path / "readme.txt").write_text("notes")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(InputError) as info:
        load_incidents(tmp_path, today=TODAY)
    assert "it holds: loop, broken or looping symbolic links; readme.txt, text files" in info.value.problem
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="it is empty"):
        load_incidents(empty, today=TODAY)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_cut_short_by_a_byte_is_read_with_a_note(tmp_path, encoding):
    """Was: with a byte-order mark, 'truncated data', exit 3; without one, 'the file is binary'."""
    text = "\n".join((BAD / "stray_quote_1000_rows.csv").read_text().splitlines()[:6]) + "\n"
    f = tmp_path / "cut.csv"
    f.write_bytes(text.encode(encoding)[:-1])
    inc = load_incidents(f, threads=1, today=TODAY)
    assert inc.report.rows_in == 5 and inc.report.rows_used == 5
    assert any("its last byte is cut off" in n for n in inc.report.notes)


def test_quoted_line_break_and_blank_line_keep_line_numbers():
    """Was: a phantom row and every later line number one too small."""
    inc = _load("quoted_linebreak_then_blank.csv")
    assert inc.report.rows_in == 3
    assert inc.frame["source_row"].tolist() == [2, 5]
    assert inc.frame["location"].iloc[0] == "On or near High\nStreet"
    assert inc.rejects["row"].tolist() == [6] and inc.report.rejected == {"missing_coordinates": 1}
    _adds_up(inc)


def test_latin1_byte_in_a_ragged_row_costs_that_row():
    """Was: a traceback from the parser's error handler and the whole file refused."""
    inc = _load("latin1_ragged_row.csv")
    assert inc.report.rejected == {"malformed_row": 1}
    assert inc.rejects["row"].tolist() == [3]
    text = inc.rejects.loc[0, "raw_text"]
    assert "On or near Café" in text and text.endswith("Robbery,Under investigation,,extra")
    assert inc.frame["source_row"].tolist() == [2, 4]
    _adds_up(inc)


def test_zip_of_csvs_and_a_shapefile_reads_the_csvs_and_names_the_rest():
    """Was: only the shapefile read, as incidents, with no note."""
    inc = _load("street_csvs_and_shapefile.zip")
    assert [s["name"].split(":")[1] for s in inc.report.sources] == [
        "2018-01/2018-01-essex-street.csv", "2018-02/2018-02-essex-street.csv"]
    notes = " | ".join(inc.report.notes)
    assert "not read, map layers in a zip of police.uk files (load them separately): boundary/force.shp" in notes
    assert "not read, not data tables: boundary/force.dbf, readme.md" in notes
    _adds_up(inc)


def test_folder_names_pipes_and_hidden_files_it_does_not_read(tmp_path):
    (tmp_path / "2018-01-essex-street.csv").write_bytes((BAD / "folder_missing_months/2018-07-essex-street.csv")
                                                       .read_bytes())
    (tmp_path / ".hidden.csv").write_text("x")
    os.mkfifo(tmp_path / "pipe.csv")
    inc = load_incidents(tmp_path, threads=1, today=TODAY)
    notes = " | ".join(inc.report.notes)
    assert "not read, hidden files: .hidden.csv" in notes
    assert "not read, not regular files (pipes, devices, sockets): pipe.csv" in notes
    assert inc.report.rows_used == 1


# -- invented data ------------------------------------------------------------------------------
@pytest.mark.parametrize("name, lines", [("dates_out_of_range.csv", [2, 3, 4]),
                                         ("dates_out_of_range_generic.csv", [2, 3])])
def test_dates_outside_the_plausible_range_are_rejected_not_wrapped(name, lines):
    """Was: 0000-01 used as 1753-08 and 9999-12 as 1816-03."""
    inc = _load(name)
    assert inc.rejects["row"].tolist() == lines
    assert set(inc.rejects["reason"]) == {"implausible_date"}
    assert inc.frame["date_start"].min() >= pd.Timestamp("2018-01-01")
    _adds_up(inc)


def test_the_plausible_range_is_a_setting():
    from rtm.dates import plausible_range

    inc = _load("dates_out_of_range.csv", date_range=plausible_range(TODAY, earliest="1800-01-01"))
    assert inc.report.rejected == {"implausible_date": 2}  # 1850-01 is now plausible
    with pytest.raises(ValueError, match="within 1678-2261"):
        plausible_range(TODAY, earliest="0001-01-01")


def test_overflowing_weights_are_refused():
    """Was: 1e308 weights summed to inf, "No harm was recorded", exit 0."""
    inc = _load("weights_overflow.csv")
    assert inc.report.rejected == {"invalid_weight": 2}
    assert inc.frame["weight"].tolist() == [12.5]
    _adds_up(inc)


def test_points_at_zero_zero_are_rejected_without_an_area():
    """Was: 30 of 40 rows at (0,0) used."""
    inc = _load("zero_zero_points.csv")
    assert inc.report.rejected == {"zero_coordinates": 30}
    assert inc.report.rows_used == 10
    _adds_up(inc)


def test_world_sized_area_is_refused(tmp_path):
    """Was: every incident rejected as outside the study area."""
    path = tmp_path / "world.geojson"
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"w"},'
                    '"geometry":{"type":"Polygon","coordinates":[[[-180,-85],[180,-85],[180,85],[-180,85],'
                    '[-180,-85]]]}}]}')
    with pytest.raises(InputError, match="spans 360 degrees of longitude and 170 of latitude"):
        load_areas(path, "name")


def test_geometry_collection_area_is_named_as_such(tmp_path):
    path = tmp_path / "gc.geojson"
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":'
                    '{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[0.7,51.5]}]}}]}')
    with pytest.raises(InputError, match=r"it holds geometry collections"):
        load_areas(path)


def test_shapefile_without_prj_gets_a_fix_that_exists(tmp_path):
    import geopandas as gpd
    import shapely

    gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(0, 0, 1000, 1000)]).to_file(tmp_path / "a.shp")
    with pytest.raises(InputError) as info:
        load_areas(tmp_path / "a.shp", "name")
    assert "--area-crs" not in str(info.value) and ".prj" in info.value.fix


# -- dates ------------------------------------------------------------------------------------
def test_iso_dates_with_slashes_and_mixed_offsets_are_read_as_utc():
    """Was: a traceback (mixed offsets) or every row rejected with "no date column"."""
    inc = _load("iso_slash_offsets.csv", weights=HarmWeights.count())
    assert inc.report.rows_used == 4 and inc.report.date_resolution == "datetime"
    assert inc.frame["date_start"].dt.strftime("%H:%M").tolist() == ["05:00", "05:00", "12:00", "08:00"]
    assert any("UTC offset" in n for n in inc.report.notes)
    assert "no date column" not in " ".join(inc.report.notes)


def test_mixed_date_formats_each_read():
    """Was: rows in the second format rejected as unreadable."""
    inc = _load("mixed_date_formats.csv")
    assert inc.report.rejected == {"unparseable_date": 1}
    assert inc.rejects["row"].tolist() == [5]
    assert inc.frame["date_start"].dt.strftime("%Y-%m-%d").tolist() == ["2018-01-05", "2018-01-06", "2018-01-07"]
    assert any("mixes formats" in n for n in inc.report.notes)


def test_explicit_date_format():
    inc = _load("mixed_date_formats.csv", mapping=ColumnMap(date_format="%d/%m/%Y"))
    assert inc.frame["date_start"].dt.strftime("%Y-%m-%d").tolist() == ["2018-01-06"]
    assert inc.report.rejected == {"unparseable_date": 3}


def test_missing_months_are_named():
    """Was: a gap (Essex 2018-08 and 2018-09) passed unmentioned."""
    inc = _load("folder_missing_months")
    assert inc.report.missing_months == ["2018-08", "2018-09"]
    assert "Months with no incident between the first and the last: 2018-08, 2018-09" in inc.report.to_text()


def test_unknown_offence_types_are_listed_with_counts():
    inc = _load("unknown_types_counted.csv")
    assert inc.report.unknown_types == {"Jaywalking": 3, "Loitering": 2}
    text = inc.report.to_text()
    assert "Offence types not in the harm-weight table (rejected):" in text
    assert "Jaywalking" in text and "Loitering" in text
    zero = _load("unknown_types_counted.csv", weights=HarmWeights.cchi(unknown="zero"))
    assert zero.report.unknown_types == {"Jaywalking": 3, "Loitering": 2} and zero.report.rows_used == 6


# -- messages that were wrong --------------------------------------------------------------------
@pytest.mark.parametrize("name, lines, note", [
    ("utf16_without_bom.csv", [2, 3], "UTF-16 text without a byte-order mark"),
    ("cr_only_line_ends.csv", [2, 3], "carriage return only"),
    ("title_line.csv", [3, 4], "looks like a title; the header is line 2"),
    ("excel_sep_line.csv", [3, 4], "Excel's 'sep=;' line"),
])
def test_files_once_misread_are_read_with_a_note(name, lines, note):
    inc = _load(name)
    assert inc.frame["source_row"].tolist() == lines
    assert any(note in n for n in inc.report.notes), inc.report.notes
    _adds_up(inc)


def test_quoted_header_with_a_comma_is_one_column():
    """Was: "the header names the column 'WGS84' twice"."""
    inc = _load("quoted_header_with_comma.csv", mapping=ColumnMap(lon="lon, WGS84", lat="lat, WGS84"),
                weights=HarmWeights.count())
    assert inc.report.rows_used == 2
    assert inc.report.crs_in == "EPSG:4326" and inc.report.crs_how == "longitude/latitude columns"
    assert not any("UTC" in n for n in inc.report.notes)  # no offset in these times


def test_symlink_loop_is_named_as_such(tmp_path):
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    with pytest.raises(InputError, match="symbolic link that leads back to itself"):
        load_incidents(loop)


@pytest.mark.parametrize("make, words", [(lambda p: os.mkfifo(p), "a named pipe"), (None, "a character device")])
def test_pipes_and_devices_are_refused_at_once(tmp_path, make, words):
    """Was: a named pipe hung for ever; /dev/zero read without bound."""
    path = tmp_path / "pipe.csv"
    if make:
        make(path)
    else:
        path = Path("/dev/zero")
    with pytest.raises(InputError, match=words):
        load_incidents(path)


@pytest.mark.parametrize("name, words", [
    ("encrypted.zip", "encrypted (password-protected)"),
    ("deflate64.zip", "compression method Python cannot read"),
    ("bad_crc.zip", "damaged (Bad CRC-32"),
])
def test_zips_python_cannot_open_get_a_message(name, words):
    """Were: RuntimeError, NotImplementedError and BadZipFile tracebacks."""
    with pytest.raises(InputError) as info:
        _load(name)
    assert words in info.value.problem
    assert str(info.value).startswith(name + ":2018-01-essex-street.csv")


def test_parquet_with_list_and_struct_columns_loads():
    """Was: ArrowNotImplementedError (cast list to string)."""
    inc = _load("nested_columns.parquet", weights=HarmWeights.count())
    assert inc.report.rows_used == 3
    _adds_up(inc)


# -- resources -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["expands_4mb.zip", "newlines_4mb.csv.gz"])
def test_decompressed_size_is_capped_and_the_setting_named(name):
    """Was: a 5.8 MB zip expanding to 1.5 GB took the CLI to 4 GB."""
    assert (BAD / name).stat().st_size < 10_000
    with pytest.raises(InputError) as info:
        _load(name, limits=LoadLimits(max_file_mb=1))
    assert "more than the limit of 1.0 MB (load setting max_file_mb)" in info.value.problem
    assert "raise max_file_mb" in info.value.fix


def test_zip_member_size_is_checked_before_reading(monkeypatch):
    """The declared size is checked before a byte is decompressed."""
    opened = []
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: opened.append(a) or (_ for _ in ()).throw(
        AssertionError("read")))
    with pytest.raises(InputError, match="is 4.0 MB when decompressed"):
        _load("expands_4mb.zip", limits=LoadLimits(max_file_mb=1))
    assert not opened


def test_row_cap_names_its_setting():
    with pytest.raises(InputError) as info:
        _load("stray_quote_1000_rows.csv", limits=LoadLimits(max_rows=500))
    assert "limit of 500 rows (load setting max_rows)" in info.value.problem
    assert info.value.field == "max_rows"


def test_grid_size_is_checked_before_allocating():
    """Was: --spot-size 0.5 past 10 GB."""
    from rtm.grid import Grid

    areas = load_areas(Path(__file__).resolve().parents[1] / "sample_geo" / "southend" / "southend_lsoa2011.geojson",
                       "LSOA11NM")
    with pytest.raises(InputError) as info:
        Grid.from_areas(areas, 0.5)
    err = info.value
    assert "cells of 0.5 m" in err.problem and "more than the limit of 4,096 MB" in err.problem
    assert "use cells of at least" in err.fix and "max_grid_mb" in err.fix
    assert Grid.from_areas(areas, 100).ncols > 0


# -- leaks ---------------------------------------------------------------------------------------
POLICEUK_COLUMNS = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
                    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]


def test_rejects_file_keeps_every_column_and_is_formula_safe(tmp_path):
    """Was: =HYPERLINK, +cmd|, @SUM written verbatim, and four police.uk columns dropped."""
    inc = _load("formula_cells.csv")
    path = tmp_path / "rejects.csv"
    assert inc.write_rejects(path) == 3
    back = pd.read_csv(path)  # as a user opens it: no options
    assert list(back.columns[:4]) == ["file", "row", "reason", "advice"]
    assert set(POLICEUK_COLUMNS) <= set(back.columns)
    assert back["Reported by"].tolist() == ["Essex Police"] * 3  # a column the loader does not parse
    text = [str(c) for c in back.to_numpy().ravel()]
    assert not [c for c in text if c.startswith(("=", "+", "@"))]
    assert "'@SUM(1)" in text and "'+cmd|' /C calc'!A0" in text
    assert any(c.startswith("'=HYPERLINK(") for c in text)  # from the malformed row's cells
    # coordinates stay numbers for pandas (negative ones too), not "'-0.7"
    assert back["Longitude"].dropna().map(type).eq(float).all()
    assert inc.rejects_csv() == path.read_bytes() and path.read_bytes().startswith(b"\xef\xbb\xbf")


def test_rejects_csv_keeps_negative_numbers_as_numbers():
    from rtm.rejects import rejects_csv

    frame = pd.DataFrame({"file": ["a.csv"], "row": [2], "Longitude": ["-0.71"], "note": ["-1+2"]})
    back = pd.read_csv(io.BytesIO(rejects_csv(frame)))
    assert back.loc[0, "Longitude"] == -0.71 and back.loc[0, "note"] == "'-1+2"


# -- settings and the command line ---------------------------------------------------------------
def test_area_tolerance_beyond_10_km_is_refused_as_a_setting():
    """Was: --area-tolerance 1e308 a traceback in the grid."""
    with pytest.raises(InputError) as info:
        _load("stray_quote_1000_rows.csv", area_tolerance_m=1e308)
    assert info.value.field == "area_tolerance_m" and "not a distance from 0 to 10,000 m" in info.value.problem


def test_unreadable_file_in_a_folder_is_named(tmp_path, monkeypatch):
    """Was: a PermissionError traceback. (Root reads everything, so the check is made to fail.)"""
    good = tmp_path / "2018-07-essex-street.csv"
    good.write_bytes((BAD / "folder_missing_months/2018-07-essex-street.csv").read_bytes())
    (tmp_path / "2018-08-essex-street.csv").write_bytes(good.read_bytes())
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p).endswith("2018-08-essex-street.csv")
                        else real(p, mode))
    with pytest.raises(InputError) as info:
        load_incidents(tmp_path)
    assert str(info.value).startswith("2018-08-essex-street.csv: you may not read this file")


def test_cli_passes_date_format_and_limits(tmp_path):
    from click.testing import CliRunner

    from rtm.cli import main

    rejects = tmp_path / "rejects.csv"
    res = CliRunner().invoke(main, ["validate", str(BAD / "mixed_date_formats.csv"), "--date-format", "%d/%m/%Y",
                                    "--rejects", str(rejects)])
    assert res.exit_code == 0, res.output
    assert "Rows used:     1" in res.output and len(pd.read_csv(rejects)) == 3
    res = CliRunner().invoke(main, ["validate", str(BAD / "stray_quote_1000_rows.csv"), "--max-rows", "10"])
    assert res.exit_code == 2 and "option '--max-rows'" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["validate", str(BAD / "expands_4mb.zip"), "--max-file-mb", "1"])
    assert res.exit_code == 2 and "load setting max_file_mb" in res.output and "option '--max-file-mb'" in res.output
    res = CliRunner().invoke(main, ["validate", str(BAD / "unknown_types_counted.csv")])
    assert "Jaywalking" in res.output and "Loitering" in res.output


def test_a_date_column_nothing_can_read_is_not_called_missing(tmp_path):
    """Was: every date rejected while the report said "no date column"."""
    path = tmp_path / "odd_dates.csv"
    path.write_text("id,date,longitude,latitude\na,2 March 2014,0.71,51.54\nb,3 March 2014,0.72,51.55\n")
    inc = load_incidents(path, today=TODAY)
    assert inc.report.rejected == {"unparseable_date": 2}
    notes = " ".join(inc.report.notes)
    assert "no date column" not in notes and "no date in the date column could be read" in notes
    fixed = load_incidents(path, today=TODAY, mapping=ColumnMap(date_format="%d %B %Y"))
    assert fixed.report.rows_used == 2 and fixed.report.date_resolution == "day"


def test_plain_file_over_the_size_limit_is_refused_before_reading():
    with pytest.raises(InputError, match=r"is 0.2 MB when decompressed, more than the limit of 0.1 MB"):
        _load("stray_quote_1000_rows.csv", limits=LoadLimits(max_file_mb=0.1))


def test_incidents_all_on_one_point_are_flagged(tmp_path):
    """(`rtm model` on such data still fails in the model fit: see the issue 14 report.)"""
    path = tmp_path / "one_point.csv"
    path.write_text("id,date,longitude,latitude\n" + "".join(f"i{i},2018-01-0{i + 1},0.71,51.54\n" for i in range(5)))
    inc = load_incidents(path, today=TODAY)
    assert any("all 5 used incidents are at one point" in n for n in inc.report.notes)
