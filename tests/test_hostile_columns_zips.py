"""More hostile inputs of issue 14, found by a review of the loader as a user would feed it:
columns whose names clash, zips with look-alike members, lone carriage returns, (0, 0)
placeholders among grid metres and the load's row limit. Each file is written here."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rtm.errors import InputError
from rtm.incidents import load_incidents
from rtm.sources import LoadLimits

TODAY = "2026-11-23"
POLICEUK = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
            "LSOA name,Crime type,Last outcome category,Context")


def _row(i: int, lon: str = "0.7105", lat: str = "51.538", location: str = "On or near High Street",
         offence: str = "Burglary", month: str = "2018-01") -> str:
    return (f"id{i:04d},{month},Essex Police,Essex Police,{lon},{lat},{location},E01015906,"
            f"Southend-on-Sea 014A,{offence},,")


def _load(path, **options):
    return load_incidents(path, threads=1, today=TODAY, **options)


def _read_rejects(inc, tmp_path) -> pd.DataFrame:
    path = tmp_path / "rejects.csv"
    inc.write_rejects(path)
    return pd.read_csv(path)  # as a user opens it: no options


def test_columns_named_like_the_rejects_own_keep_their_cells(tmp_path):
    """Was: a file's own ``file``, ``row`` and ``reason`` columns overwrote the loader's,
    so the rejects named 'jan.xlsx' and line 101 instead of the file and line they came from."""
    path = tmp_path / "export.csv"
    path.write_text("file,row,id,datetime,longitude,latitude,offence,reason\n"
                    "jan.xlsx,100,g0,2018-01-02 10:00,0.71,51.53,Burglary,Domestic\n"
                    "jan.xlsx,101,g1,2018-01-03 10:00,,51.53,Burglary,Domestic\n")
    inc = _load(path)
    rej = _read_rejects(inc, tmp_path)
    assert len(rej) == 1 and inc.report.adds_up
    row = rej.iloc[0]
    assert (row["file"], row["row"], row["reason"]) == (str(path), 3, "missing_coordinates")
    assert (row["file (original)"], row["row (original)"], row["reason (original)"]) == ("jan.xlsx", 101, "Domestic")


def test_a_column_named_like_another_but_for_case_does_not_replace_it(tmp_path):
    """Was: an added ``crime type`` column (a user's note) replaced police.uk's ``Crime type``:
    every row became an unknown offence type, and the rejects lost the real type."""
    path = tmp_path / "2018-01-essex-street.csv"
    rows = [_row(i) + ",my note" for i in range(5)] + [_row(9, lon="", lat="") + ",another note"]
    path.write_text(POLICEUK + ",crime type\n" + "\n".join(rows) + "\n")
    inc = _load(path)
    assert inc.report.rows_used == 5 and not inc.report.unknown_types
    assert set(inc.frame["offence_type"].astype(str)) == {"Burglary"}
    assert any("'Crime type' and 'crime type'" in n and "the first, 'Crime type', is used" in n
               for n in inc.report.notes)
    rej = _read_rejects(inc, tmp_path)
    assert rej.loc[0, "Crime type"] == "Burglary" and rej.loc[0, "crime type"] == "another note"


def test_a_carriage_return_inside_a_cell_stays_in_its_row_of_the_rejects_csv(tmp_path):
    """Was: the rejects CSV ended lines with LF and so did not quote a lone CR, which
    pandas and Excel read as a line break: 2 rejected rows came back as 3."""
    path = tmp_path / "crimes.parquet"
    pq.write_table(pa.table({"id": ["a", "b", "c"], "longitude": [0.71, None, None], "latitude": [51.53, None, None],
                             "location": ["On or near X", "Flat 2\rHigh Street", "Flat 3\r\nLow Street"],
                             "offence": ["Burglary"] * 3}), path)
    inc = _load(path)
    rej = _read_rejects(inc, tmp_path)
    assert len(rej) == 2 and list(rej["reason"]) == ["missing_coordinates"] * 2
    assert list(rej["id"]) == ["b", "c"]
    assert rej.loc[0, "location"].replace("\r\n", "\n").replace("\r", "\n") == "Flat 2\nHigh Street"


@pytest.mark.parametrize("quoted", [False, True])
def test_a_lone_carriage_return_in_a_cell_costs_nothing(tmp_path, quoted):
    """Was: the parser ended a row at a lone CR while the records end at line feeds, so a
    pasted note with a CR refused the whole file ("the records could not be told apart")."""
    location = '"On or near High\rStreet"' if quoted else "On or near High\rStreet"
    rows = [_row(i) for i in range(8)]
    rows[3] = _row(3, location=location)
    path = tmp_path / "2018-01-essex-street.csv"
    path.write_bytes((POLICEUK + "\n" + "\n".join(rows) + "\n").encode())
    inc = _load(path)
    assert inc.report.rows_in == 8 and inc.report.rows_used == 8
    assert list(inc.frame["source_row"]) == list(range(2, 10))
    assert inc.frame["location"].iloc[3] == "On or near High Street"
    assert any("1 carriage return(s) inside lines (the first at line 5) read as spaces" in n for n in inc.report.notes)


def test_a_zip_with_two_members_of_one_name_reads_both(tmp_path):
    """Was: only the last of two members called alike was read, twice, and the first one's
    three rows were never counted."""
    path = tmp_path / "download.zip"
    with zipfile.ZipFile(path, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("2018-01-essex-street.csv", POLICEUK + "\n" + "\n".join(_row(i) for i in range(3)) + "\n")
        zf.writestr("2018-01-essex-street.csv", POLICEUK + "\n" + _row(7, month="2018-02") + "\n")
    inc = _load(path)
    assert inc.report.rows_in == 4 and inc.report.rows_used == 4
    assert sorted(set(inc.frame["source_file"].astype(str))) == [
        "download.zip:2018-01-essex-street.csv (1)", "download.zip:2018-01-essex-street.csv (2)"]
    assert any("2 members are called 2018-01-essex-street.csv" in n for n in inc.report.notes)


def test_a_readme_in_a_zip_of_csv_files_is_named_not_read(tmp_path):
    """Was: README.txt in a zip of CSVs was read as a table and stopped the load ("no
    coordinate columns"); a folder skips it with a note, and so does a zip now."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data/crimes.csv", "id,datetime,longitude,latitude,offence\n"
                    + "".join(f"g{i},2018-01-0{i + 1} 10:00,0.71{i},51.53{i},Burglary\n" for i in range(5)))
        zf.writestr("README.txt", "Exported from Niche RMS by J Smith\nContact: x\n")
    (tmp_path / "export.zip").write_bytes(buf.getvalue())
    inc = _load(tmp_path / "export.zip")
    assert inc.report.rows_used == 5
    assert "export.zip: not read, text files other than .csv: README.txt" in inc.report.notes


def test_a_zip_of_text_files_only_is_still_read(tmp_path):
    """A zip without any .csv member reads its other text files (a tab-separated export)."""
    with zipfile.ZipFile(tmp_path / "export.zip", "w") as zf:
        zf.writestr("crimes.tsv", "id\tdatetime\tlongitude\tlatitude\toffence\ng1\t2018-01-02 10:00\t0.71\t51.53\tBurglary\n")
    assert _load(tmp_path / "export.zip").report.rows_used == 1


def test_zero_zero_placeholders_do_not_stop_grid_metres_being_recognised(tmp_path):
    """Was: one (0, 0) among 49 British National Grid points made the CRS impossible to
    tell ("x 0 to 588,048"), refusing the file; it is now rejected as zero_coordinates."""
    rows = [f"u{i},2018-01-0{i % 9 + 1},{588000 + i},{185000 + i},Burglary" for i in range(49)]
    path = tmp_path / "grid.csv"
    path.write_text("urn,date,easting,northing,offence\n" + "\n".join(rows) + "\nu99,2018-01-05,0,0,Burglary\n")
    inc = _load(path)
    assert inc.report.rows_used == 49 and inc.report.rejected == {"zero_coordinates": 1}
    assert inc.report.crs_in == "EPSG:27700"


def test_the_row_limit_stops_the_load_at_the_file_that_passes_it(tmp_path):
    """Was: every file was read before the limit over all inputs was checked (a zip of 12
    months read whole, 337 MB, for --max-rows 100000)."""
    for m in range(1, 7):
        (tmp_path / f"2018-{m:02d}-essex-street.csv").write_text(
            POLICEUK + "\n" + "\n".join(_row(i, month=f"2018-{m:02d}") for i in range(100)) + "\n")
    read = []
    with pytest.raises(InputError) as info:
        _load(tmp_path, limits=LoadLimits(max_rows=150), progress=lambda done, total, name: read.append(name))
    assert len(read) == 1  # the second file passed the limit: the other four were never read
    err = info.value
    assert err.field == "max_rows" and "hold at least 200 rows, more than the limit of 150 rows" in err.problem
    assert f"({tmp_path.name})" in err.problem
