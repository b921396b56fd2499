"""Input formats from a review: explicit date formats, UK dates with AM/PM, Parquet text stored
as non-UTF-8 bytes, and GeoJSON date-times mixing values with and without a UTC offset.

Every test writes a real file and loads it through ``load_incidents`` or the command line.
"""

import json
from dataclasses import replace

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from click.testing import CliRunner

from rtm.cli import main
from rtm.errors import InputError
from rtm.incidents import load_incidents
from rtm.layouts import ColumnMap

TODAY = "2026-11-23"
COLUMNS = dict(id="id", date="when", lon="longitude", lat="latitude", offence="offence")


def _csv(path, dates):
    """A generic CSV with one Southend burglary per date in ``dates``; returns ``path``."""
    rows = "".join(f"r{i},{d},0.71{i},51.53,Burglary\n" for i, d in enumerate(dates))
    path.write_text("id,when,longitude,latitude,offence\n" + rows)
    return path


def _starts(inc):
    """incident id -> date_start of the used incidents."""
    return dict(zip(inc.frame["incident_id"], inc.frame["date_start"]))


# -- 1. an explicit date format that is not a format -------------------------------------------
@pytest.mark.parametrize("bad", ["%Q", "%", "%d/%m/%Y %"])
def test_an_invalid_date_format_is_a_setting_error_naming_the_format(tmp_path, bad):
    path = _csv(tmp_path / "crime.csv", ["05/01/2018 10:00"])
    with pytest.raises(InputError) as err:
        load_incidents(path, mapping=ColumnMap(**COLUMNS, date_format=bad), today=TODAY)
    assert err.value.field == "date_format" and err.value.field_kind == "setting"
    assert f"'{bad}'" in err.value.problem
    assert "strftime" in err.value.fix and "%d/%m/%Y %H:%M" in err.value.fix


def test_an_invalid_date_format_on_the_command_line_exits_2_naming_the_option(tmp_path):
    path = _csv(tmp_path / "crime.csv", ["05/01/2018 10:00"])
    res = CliRunner().invoke(main, ["validate", str(path), "--date-col", "when", "--date-format", "%Q"],
                             catch_exceptions=False)
    assert res.exit_code == 2, res.output
    assert "--date-format" in res.output and "'%Q'" in res.output and "strftime" in res.output
    assert "unexpected error" not in res.output and "Traceback" not in res.output


def test_an_explicit_format_with_an_offset_reads_mixed_offsets_as_utc(tmp_path):
    path = _csv(tmp_path / "crime.csv", ["2018-07-05 10:00+0100", "2018-07-05 10:00+0000"])
    inc = load_incidents(path, mapping=ColumnMap(**COLUMNS, date_format="%Y-%m-%d %H:%M%z"), today=TODAY)
    assert inc.report.rows_used == 2
    assert _starts(inc) == {"r0": pd.Timestamp("2018-07-05 09:00"), "r1": pd.Timestamp("2018-07-05 10:00")}


# -- 2. UK dates with AM/PM follow the day-first setting ---------------------------------------
def test_am_pm_dates_follow_the_day_first_setting_like_the_24_hour_ones(tmp_path):
    path = _csv(tmp_path / "uk.csv", ["05/01/2018 10:00:00 AM", "13/01/2018 10:00:00 PM", "05/01/2018 10:00:00",
                                      "13/01/2018 22:00:00", "12/01/2018 12:00:00 AM"])
    uk = load_incidents(path, mapping=ColumnMap(**COLUMNS), today=TODAY)
    assert uk.report.rows_in == 5 and uk.report.rows_used == 5 and not uk.report.rejected
    assert _starts(uk) == {"r0": pd.Timestamp("2018-01-05 10:00"), "r1": pd.Timestamp("2018-01-13 22:00"),
                           "r2": pd.Timestamp("2018-01-05 10:00"), "r3": pd.Timestamp("2018-01-13 22:00"),
                           "r4": pd.Timestamp("2018-01-12 00:00")}
    # month first (US order, --month-first): 13/01 has no month 13, with or without AM/PM
    path = _csv(tmp_path / "us.csv", ["05/01/2018 10:00:00 AM", "01/13/2018 10:00:00 PM", "05/01/2018 10:00:00",
                                      "13/01/2018 10:00:00 PM"])
    us = load_incidents(path, mapping=ColumnMap(**COLUMNS), dayfirst=False, today=TODAY)
    assert us.report.rows_in == 4 and us.report.rejected == {"unparseable_date": 1}
    assert us.rejects["row"].tolist() == [5]
    assert _starts(us) == {"r0": pd.Timestamp("2018-05-01 10:00"), "r1": pd.Timestamp("2018-01-13 22:00"),
                           "r2": pd.Timestamp("2018-05-01 10:00")}


# -- 3. Parquet text written as bytes (Impala, Hive, older Spark) ------------------------------
def test_parquet_binary_text_in_windows_1252_is_read_with_a_note(tmp_path):
    path = tmp_path / "impala.parquet"
    # a GeoParquet geometry column (WKB bytes, not text) is left alone
    wkb = shapely.to_wkb(shapely.points([0.71] * 4, [51.53] * 4)).tolist()
    geo = {b"geo": json.dumps({"version": "1.0.0", "primary_column": "geometry",
                                "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Point"]}}})}
    pq.write_table(pa.table({
        "crime_ref": pa.array([b"A1", b"A2", b"A3", b"A4"], pa.binary()),
        "date": pa.array([b"2018-01-05"] * 4, pa.binary()),
        "easting": [588073.0, 587619.0, 588628.0, None],
        "northing": [185605.0, 185907.0, 185124.0, None],
        "offence": pa.array([b"Burglary", b"Robbery", b"Burglary", b"Burglary"], pa.large_binary()),
        # \x81 has no Windows-1252 character: Latin-1 reads it
        "location": pa.array([b"Caf\xe9 Rouge", b"High St", None, b"Caf\xe9 \x81"], pa.binary()),
        "geometry": pa.array(wkb, pa.binary()),
    }).replace_schema_metadata(geo), path)
    inc = load_incidents(path, mapping=ColumnMap(id="crime_ref", date="date", x="easting", y="northing",
                                                 offence="offence"), today=TODAY)
    rep = inc.report
    assert rep.rows_in == 4 and rep.rows_used == 3 and rep.rejected == {"missing_coordinates": 1}
    assert sorted(inc.frame["weight"]) == [220.0, 220.0, 365.0]  # b"Burglary" is a known offence type
    assert not rep.unknown_types
    notes = [n for n in rep.notes if "not UTF-8" in n]
    assert len(notes) == 1 and "impala.parquet" in notes[0] and "'location'" in notes[0]
    assert "first at row 1" in notes[0] and "Windows-1252" in notes[0]
    assert inc.rejects["location"].tolist() == ["Café \x81"]


# -- 4. GeoJSON date-times mixing values with and without an offset ----------------------------
def test_geojson_date_times_mixing_offsets_and_none_are_read_like_the_csv(tmp_path):
    when = {"i0": "2018-07-05T10:00:00+01:00", "i1": "2018-07-05T10:00:00", "i2": "2018-01-05T10:00:00Z"}
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [0.71, 51.53 + k / 100]},
                 "properties": {"id": i, "when": w, "offence": "Robbery"}} for k, (i, w) in enumerate(when.items())]
    geo = tmp_path / "mixed.geojson"
    geo.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    csv = tmp_path / "mixed.csv"
    csv.write_text("id,when,longitude,latitude,offence\n" + "".join(
        f"{i},{w},0.71,{51.53 + k / 100},Robbery\n" for k, (i, w) in enumerate(when.items())))
    cols = ColumnMap(id="id", date="when", offence="offence")
    from_geo = load_incidents(geo, mapping=cols, today=TODAY)
    from_csv = load_incidents(csv, mapping=replace(cols, lon="longitude", lat="latitude"), today=TODAY)
    expected = {"i0": pd.Timestamp("2018-07-05 09:00"), "i1": pd.Timestamp("2018-07-05 10:00"),
                "i2": pd.Timestamp("2018-01-05 10:00")}
    assert _starts(from_csv) == expected
    assert _starts(from_geo) == expected
    assert any("UTC" in n for n in from_geo.report.notes)
