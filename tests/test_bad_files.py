"""Every file of the bad-input corpus (tests/badfiles) loaded, one test each.

A file is either refused with an :class:`InputError` whose message names the file, says
the problem and how to fix it, or loaded with exact accounting: rows in, rows rejected
by reason, and one rejects row (with the line number in the file) per rejected row.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rtm.errors import InputError
from rtm.incidents import load_incidents
from rtm.layouts import ColumnMap
from rtm.load_report import REASONS
from rtm.weights import HarmWeights

BAD = Path(__file__).resolve().parent / "badfiles"
TODAY = "2026-11-23"
GENERIC_MAP = ColumnMap(id="Ref", date="Occurred", x="Easting", y="Northing", offence="Offence")

# file -> (load options, words the problem must contain)
REFUSED = {
    "empty.csv": ({}, ["file is empty"]),
    "whitespace_only.csv": ({}, ["file is empty"]),
    "header_only.csv": ({}, ["header but no data rows"]),
    "binary_junk.csv": ({}, ["binary", "not a text table"]),
    "workbook.xlsx": ({}, ["Excel workbook"]),
    "lonlat_swapped.csv": ({}, ["longitude and latitude look swapped", "51.54"]),
    "bng_in_lonlat.csv": ({}, ["British National Grid", "declared as longitude/latitude"]),
    "polygons.geojson": ({}, ["Polygon features, not points"]),
    "no_csv.zip": ({}, ["zip holds no CSV", "notes.md", "picture.png"]),
    "no_coordinates_column.csv": ({}, ["no coordinate columns found", "Crime ID, Month, Location, Crime type"]),
    "repeated_header.csv": ({}, ["names the column 'Month' twice"]),
    "truncated.csv.gz": ({}, ["compressed file cannot be opened"]),
}

# file -> (load options, rows in, rejected by reason, {line or feature number: reason})
ACCOUNTED = {
    "semicolon_policeuk.csv": ({}, 3, {"missing_coordinates": 1}, {4: "missing_coordinates"}),
    "tab_delimited.tsv": ({}, 4, {"unknown_offence_type": 1}, {5: "unknown_offence_type"}),
    "latin1_locations.csv": ({}, 3, {}, {}),
    "utf16.csv": ({}, 3, {"missing_coordinates": 1}, {3: "missing_coordinates"}),
    "utf8_bom.csv": ({}, 2, {}, {}),
    "nan_inf_coordinates.csv": ({}, 9, {"invalid_coordinates": 5},
                                {6: "invalid_coordinates", 7: "invalid_coordinates", 8: "invalid_coordinates",
                                 9: "invalid_coordinates", 10: "invalid_coordinates"}),
    "non_numeric_coordinates.csv": ({}, 5, {"non_numeric_coordinates": 3},
                                    {3: "non_numeric_coordinates", 4: "non_numeric_coordinates",
                                     5: "non_numeric_coordinates"}),
    "missing_coordinates.csv": ({}, 5, {"missing_coordinates": 3},
                                {3: "missing_coordinates", 4: "missing_coordinates", 5: "missing_coordinates"}),
    "duplicate_ids.csv": ({}, 7, {"duplicate": 2}, {3: "duplicate", 4: "duplicate"}),
    "same_id_different_months.csv": ({}, 4, {}, {}),
    "future_dates.csv": ({}, 4, {"future_date": 2}, {4: "future_date", 5: "future_date"}),
    "unparseable_dates.csv": ({}, 5, {"unparseable_date": 2, "missing_date": 1},
                              {3: "unparseable_date", 4: "unparseable_date", 5: "missing_date"}),
    "unknown_offence_type.csv": ({}, 5, {"unknown_offence_type": 3},
                                 {3: "unknown_offence_type", 5: "unknown_offence_type", 6: "unknown_offence_type"}),
    "street_and_outcomes.zip": ({}, 3, {"missing_coordinates": 1}, {4: "missing_coordinates"}),
    "ragged_rows.csv": ({}, 4, {"malformed_row": 1}, {3: "malformed_row"}),
    "blank_lines.csv": ({}, 4, {"unknown_offence_type": 1, "malformed_row": 1},
                        {4: "unknown_offence_type", 5: "malformed_row"}),
    "generic_ddmmyyyy.csv": ({"mapping": GENERIC_MAP}, 4, {"unparseable_date": 1}, {5: "unparseable_date"}),
    "points_null_geometry.geojson": ({}, 4, {"missing_coordinates": 1, "geometry_not_point": 1},
                                     {2: "missing_coordinates", 4: "geometry_not_point"}),
    "timestamped_repeats.csv": ({}, 5, {"duplicate": 1}, {3: "duplicate"}),
    "crlf_generic.csv": ({}, 3, {}, {}),
    "folder_with_readme": ({}, 5, {"missing_coordinates": 1}, {3: "missing_coordinates"}),
}


def _load(name: str, **options):
    options.setdefault("today", TODAY)
    return load_incidents(BAD / name, threads=1, **options)


def test_every_corpus_file_has_a_test():
    from test_hostile_inputs import TESTED_HERE

    present = {p.name for p in BAD.iterdir() if p.name not in ("make_corpus.py", "make_hostile.py", "__pycache__")}
    assert present == set(REFUSED) | set(ACCOUNTED) | TESTED_HERE
    assert not set(REFUSED) & set(ACCOUNTED)
    assert len(present) >= 22


def test_corpus_files_match_their_generator():
    """The committed files are exactly what make_corpus.py writes (re-run it after editing)."""
    spec = importlib.util.spec_from_file_location("make_corpus", BAD / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    files = module.corpus()
    on_disk = {str(p.relative_to(BAD)) for p in BAD.rglob("*") if p.is_file()
               and p.name not in ("make_corpus.py", "make_hostile.py") and "__pycache__" not in p.parts}
    assert set(files) == on_disk
    for name, data in files.items():
        assert (BAD / name).read_bytes() == data, f"{name} differs from make_corpus.py; re-run it"


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_with_a_plain_message(name):
    options, words = REFUSED[name]
    with pytest.raises(InputError) as info:
        _load(name, **options)
    err = info.value
    text = str(err)
    assert Path(err.source).name == name
    assert text.startswith(name)  # the message names the file first
    assert "Fix: " in text
    assert err.fix and err.fix in text
    for word in words:
        assert word in err.problem, f"{word!r} not in {err.problem!r}"


@pytest.mark.parametrize("name", sorted(ACCOUNTED))
def test_accounted_row_by_row(name):
    options, rows_in, rejected, lines = ACCOUNTED[name]
    inc = _load(name, **options)
    rep = inc.report
    assert rep.rows_in == rows_in
    assert rep.rejected == rejected
    assert rep.rows_used == rows_in - sum(rejected.values())
    assert rep.adds_up
    assert len(inc.frame) == rep.rows_used
    assert len(inc.rejects) == rep.rows_rejected
    got = dict(zip(inc.rejects["row"].astype(int), inc.rejects["reason"])) if len(inc.rejects) else {}
    assert got == lines
    for reason, advice in zip(inc.rejects["reason"], inc.rejects["advice"]):
        assert advice == REASONS[reason]
    # used rows and rejected rows never share a line of the same file
    used = set(zip(inc.frame["source_file"].astype(str), inc.frame["source_row"].astype(int)))
    rej = set(zip(inc.rejects["file"].astype(str), inc.rejects["row"].astype(int)))
    assert not used & rej
    assert len(used) == rep.rows_used


# -- what each accepted file says about itself ----------------------------------------------
def _one_note(inc, words: str) -> str:
    hits = [n for n in inc.report.notes if words in n]
    assert len(hits) == 1, inc.report.notes
    return hits[0]


def test_semicolon_file_is_read_with_a_note():
    inc = _load("semicolon_policeuk.csv")
    _one_note(inc, "separated by ';', not commas")
    assert inc.report.sources[0]["layout"] == "police.uk street"
    assert list(inc.frame["offence_type"].astype(str)) == ["Burglary", "Robbery"]


def test_tab_file_is_read_with_a_note():
    inc = _load("tab_delimited.tsv")
    _one_note(inc, "separated by tab, not commas")
    assert inc.rejects.loc[0, "Crime type"] == "Jaywalking"


def test_latin1_file_keeps_its_accents():
    inc = _load("latin1_locations.csv")
    note = _one_note(inc, "not UTF-8")
    assert "line 2" in note and "Windows-1252" in note
    assert list(inc.frame["location"].astype(str)) == [
        "On or near Café Rouge", "On or near Église Road", "On or near Señora Street"]


def test_utf16_file_is_transcoded():
    inc = _load("utf16.csv")
    _one_note(inc, "read as UTF-16 text")
    assert inc.report.sources[0]["layout"] == "police.uk street"
    assert list(inc.frame["offence_type"].astype(str)) == ["Burglary", "Drugs"]


def test_bom_does_not_hide_the_first_column():
    inc = _load("utf8_bom.csv")
    assert inc.report.sources[0]["layout"] == "police.uk street"
    assert inc.frame["incident_id"].notna().all()
    assert inc.frame["incident_id"].str.len().tolist() == [64, 64]


def test_nan_and_inf_are_invalid_not_non_numeric():
    inc = _load("nan_inf_coordinates.csv")
    rej = inc.rejects.set_index("row")
    assert rej.loc[6, "Longitude"] == "NaN"
    assert rej.loc[7, "Latitude"] == "inf"
    assert rej.loc[9, "Longitude"] == "200.5"
    assert np.isfinite(inc.frame[["x", "y"]].to_numpy()).all()


def test_non_numeric_cells_are_kept_as_written_in_rejects():
    inc = _load("non_numeric_coordinates.csv")
    rej = inc.rejects.set_index("row")
    assert rej.loc[3, "Longitude"] == "0.7O4131"
    assert rej.loc[4, "Latitude"] == "N/A"
    assert rej.loc[5, "Longitude"] == "0,662709"
    # spaces around a number are not a problem
    assert inc.frame["source_row"].tolist() == [2, 6]


def test_blank_coordinates_beat_other_faults_and_asb_without_id_is_used():
    inc = _load("missing_coordinates.csv")
    used = inc.frame
    assert used["offence_type"].astype(str).tolist() == ["Burglary", "Anti-social behaviour"]
    assert used["incident_id"].isna().tolist() == [False, True]


def test_duplicates_need_same_id_month_and_type():
    inc = _load("duplicate_ids.csv")
    f = inc.frame
    # the first copy is kept; the same id with another type is another crime
    assert f["source_row"].tolist() == [2, 5, 6, 7, 8]
    assert f["offence_type"].astype(str).tolist()[:2] == ["Burglary", "Robbery"]
    # identical anti-social behaviour rows without ids are distinct incidents at month resolution
    assert (f["offence_type"].astype(str) == "Anti-social behaviour").sum() == 2


def test_same_id_in_different_months_is_not_a_duplicate():
    inc = _load("same_id_different_months.csv")
    assert inc.frame["incident_id"].nunique() == 2
    assert inc.frame["date_start"].dt.strftime("%Y-%m").tolist() == ["2018-01", "2018-02", "2018-03", "2018-02"]
    assert (inc.report.date_min, inc.report.date_max) == ("2018-01", "2018-03")


def test_future_months_depend_on_today():
    inc = _load("future_dates.csv")
    assert inc.rejects["Month"].tolist() == ["2026-12", "2027-01"]
    assert inc.report.date_max == "2026-11"
    later = _load("future_dates.csv", today="2027-01-01")
    assert later.report.rejected == {}


def test_unparseable_dates_keep_their_text():
    inc = _load("unparseable_dates.csv")
    rej = inc.rejects.set_index("row")
    assert rej.loc[3, "Month"] == "2018-13"
    assert rej.loc[4, "Month"] == "Jan 2018"
    assert rej.loc[5, "Month"] == ""
    assert inc.report.date_resolution == "month"


def test_offence_types_match_ignoring_case_and_spaces():
    inc = _load("unknown_offence_type.csv")
    assert inc.frame["weight"].tolist() == [220.0, 365.0]
    assert inc.rejects["Crime type"].tolist() == ["Jaywalking", "", "Jaywalking"]


@pytest.mark.parametrize("policy, default, weights", [
    ("zero", None, [220.0, 0.0, 365.0, 0.0, 0.0]),
    ("default", 4.0, [220.0, 4.0, 365.0, 4.0, 4.0]),
])
def test_unknown_offence_policies_keep_every_row(policy, default, weights):
    inc = _load("unknown_offence_type.csv", weights=HarmWeights.cchi(policy, default))
    assert inc.report.rejected == {}
    assert inc.report.rows_used == 5
    assert inc.frame["weight"].tolist() == weights


def test_zip_takes_street_files_and_names_the_skipped_ones():
    inc = _load("street_and_outcomes.zip")
    _one_note(inc, "not read, other police.uk files (outcomes, stop and search) and other text files: "
                   "2018-01/2018-01-essex-outcomes.csv")
    assert [s["name"] for s in inc.report.sources] == ["street_and_outcomes.zip:2018-01/2018-01-essex-street.csv"]
    assert inc.rejects["file"].tolist() == ["street_and_outcomes.zip:2018-01/2018-01-essex-street.csv"]


def test_ragged_row_keeps_its_text_and_later_line_numbers():
    inc = _load("ragged_rows.csv")
    _one_note(inc, "1 rows have a different number of fields")
    assert inc.rejects.loc[0, "raw_text"].endswith(",extra field")
    assert inc.frame["source_row"].tolist() == [2, 4, 5]


def test_blank_lines_do_not_shift_line_numbers():
    inc = _load("blank_lines.csv")
    assert inc.frame["source_row"].tolist() == [2, 8]
    rej = inc.rejects.set_index("row")
    assert rej.loc[4, "Crime type"] == "Jaywalking"
    assert rej.loc[5, "raw_text"].endswith(",extra field")


def test_generic_table_with_mapping_reads_day_first_dates_and_bng():
    inc = _load("generic_ddmmyyyy.csv", mapping=GENERIC_MAP)
    rep = inc.report
    assert rep.date_resolution == "day"
    assert rep.crs_in == "EPSG:27700"
    assert "British National Grid" in rep.crs_how
    f = inc.frame
    assert f["incident_id"].tolist() == ["GEN-1", "GEN-2", "GEN-3"]
    assert f["date_start"].dt.strftime("%Y-%m-%d").tolist() == ["2018-04-03", "2018-01-12", "2018-12-31"]
    assert (f["date_end"] - f["date_start"]).eq(pd.Timedelta(days=1)).all()
    assert f["x"].tolist() == [588412.0, 587950.0, 588870.0]
    assert inc.rejects.loc[0, "Occurred"] == "31/02/2018"


def test_generic_mapping_to_a_missing_column_is_refused():
    with pytest.raises(InputError) as info:
        _load("generic_ddmmyyyy.csv", mapping=ColumnMap(x="East", y="Northing"))
    assert str(info.value).startswith("generic_ddmmyyyy.csv, column 'East'")
    assert "not in the file" in info.value.problem and "Fix: " in str(info.value)


def test_point_geojson_rejects_keep_the_geometry_as_text():
    inc = _load("points_null_geometry.geojson")
    rej = inc.rejects.set_index("row")
    assert rej.loc[4, "geometry_wkt"].startswith("POLYGON")
    assert rej.loc[2, "offence_type"] == "Robbery"
    assert inc.frame["offence_type"].astype(str).tolist() == ["Burglary", "Drugs"]
    assert inc.report.date_resolution == "day"


def test_timestamped_rows_without_ids_repeat_only_with_same_time_place_type():
    inc = _load("timestamped_repeats.csv")
    assert inc.report.date_resolution == "datetime"
    assert inc.frame["source_row"].tolist() == [2, 4, 5, 6]


def test_folder_skips_its_readme_with_a_note():
    inc = _load("folder_with_readme")
    _one_note(inc, "not read, text files other than .csv (name one directly to load it): README.txt")
    assert [Path(s["name"]).name for s in inc.report.sources] == ["2018-01-essex-street.csv",
                                                                  "2018-02-essex-street.csv"]
    assert Path(inc.rejects.loc[0, "file"]).name == "2018-02-essex-street.csv"
    assert (inc.report.date_min, inc.report.date_max) == ("2018-01", "2018-02")


def test_readme_named_directly_is_refused():
    with pytest.raises(InputError) as info:
        _load("folder_with_readme/README.txt")
    assert str(info.value).startswith("README.txt, column 'coordinates': no coordinate columns found")
    assert "Fix: " in str(info.value)


def test_same_file_twice_is_rejected_whole_with_a_note():
    inc = load_incidents([BAD / "semicolon_policeuk.csv", BAD / "semicolon_policeuk.csv"], threads=1)
    rep = inc.report
    assert rep.rows_in == 6
    # the second copy's row without coordinates counts as a duplicate, not twice as missing
    assert rep.rejected == {"missing_coordinates": 1, "duplicate": 3}
    assert rep.adds_up and len(inc.rejects) == 4
    _one_note(inc, "has the same content as")
