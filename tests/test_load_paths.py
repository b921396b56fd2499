"""The loader's fast paths give what the careful paths give: police.uk columns the loader does
not parse come back in the rejects (read again from the file, also from a zip or an .xz),
clean files are split into records by lines, and months or days are read without pandas."""

from __future__ import annotations

import lzma
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtm.arrow_memory import POOL_ENV
from rtm.dates import parse_dates, plausible_range
from rtm.errors import InputError
from rtm.incidents import load_incidents
from rtm.layouts import ColumnMap
from rtm.records import split_records
from rtm.rejects import LazyRejects

HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
          "Crime type,Last outcome category,Context\n")
ROWS = ("a1,2019-01,Essex Police,Essex Police,0.71,51.54,On or near High Street,E1,S 001A,Robbery,"
        "Under investigation,\n"
        "a2,2019-01,Essex Police,Essex Police,,,No Location,,,Burglary,Unable to prosecute,no map point\n"
        "a3,2019-01,Essex Police,Essex Police,0.72,51.55,On or near Park,E1,S 001A,Made-up crime,,odd type\n")


def _check(inc):
    assert isinstance(inc._rejects, LazyRejects)  # the counts did not need the unparsed columns
    assert (inc.report.rows_in, inc.report.rows_used) == (3, 1)
    rej = inc.rejects.sort_values("row")
    assert rej["row"].tolist() == [3, 4]
    assert rej["Context"].tolist() == ["no map point", "odd type"]
    assert rej["Last outcome category"].tolist() == ["Unable to prosecute", ""]
    assert rej["Reported by"].tolist() == ["Essex Police"] * 2
    assert list(rej.columns[4:]) == HEADER.strip().split(",")


def test_unparsed_columns_come_back_in_the_rejects_from_plain_xz_and_zip(tmp_path):
    plain = tmp_path / "2019-01-essex-street.csv"
    plain.write_text(HEADER + ROWS)
    _check(load_incidents(plain, today="2026-01-01"))
    xz = tmp_path / "2019-01-kent-street.csv.xz"
    xz.write_bytes(lzma.compress((HEADER + ROWS).encode()))
    _check(load_incidents(xz, today="2026-01-01"))
    zpath = tmp_path / "download.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("2019-01/2019-01-essex-street.csv", HEADER + ROWS)
    _check(load_incidents(zpath, today="2026-01-01"))


def test_a_file_changed_after_loading_keeps_the_parsed_columns_of_its_rejects(tmp_path):
    f = tmp_path / "2019-01-essex-street.csv"
    f.write_text(HEADER + ROWS)
    inc = load_incidents(f, today="2026-01-01")
    f.write_text(HEADER + ROWS.replace("odd type", "changed"))
    rej = inc.rejects.sort_values("row")
    assert rej["row"].tolist() == [3, 4] and rej["Crime type"].tolist() == ["Burglary", "Made-up crime"]
    assert "changed" not in rej.astype(str).to_numpy().ravel().tolist()


def test_clean_and_blank_line_files_split_alike():
    clean = (HEADER + ROWS).encode()
    rec = split_records(clean, ",", 12)
    assert rec.text is clean and rec.lines.tolist() == [2, 3, 4]
    for gap in (b"\n", b"   \n", b"\r\n", b"\t\n"):
        text = clean.replace(b"\na2", b"\n" + gap + b"a2")
        assert split_records(text, ",", 12).lines.tolist() == [2, 4, 5]
    assert split_records(clean.rstrip(b"\n"), ",", 12).lines.tolist() == [2, 3, 4]


def test_months_and_days_read_as_pandas_would():
    span = plausible_range("2026-01-01")
    months = parse_dates(["2018-01", "2018/2", "2018-13", "0000-01", "", "2019-12"], span=span)
    assert months.resolution == "month"
    assert months.start[[0, 1, 5]].astype("datetime64[D]").astype(str).tolist() == ["2018-01-01", "2018-02-01",
                                                                                     "2019-12-01"]
    assert months.end[[0, 5]].astype("datetime64[D]").astype(str).tolist() == ["2018-02-01", "2020-01-01"]
    assert months.unparseable.tolist() == [False, False, True, False, False, False]
    assert months.implausible.tolist() == [False, False, False, True, False, False]
    assert months.missing.tolist() == [False, False, False, False, True, False]
    days = parse_dates(["2018-02-28", "2018-02-30", "2016/02/29", "2030-01-01"], span=span)
    assert days.resolution == "day"
    assert days.start[[0, 2]].astype("datetime64[D]").astype(str).tolist() == ["2018-02-28", "2016-02-29"]
    assert days.end[0] == np.datetime64("2018-03-01")
    assert days.unparseable.tolist() == [False, True, False, False]
    assert days.implausible.tolist() == [False, False, False, True]
    assert pd.isna(days.start[3])


# A second month file of the same force: a4 repeats a1 (same id, month and type), a5 is new;
# and the first file again, byte for byte.
ROWS_B = ("a1,2019-01,Essex Police,Essex Police,0.71,51.54,On or near High Street,E1,S 001A,Robbery,"
          "Under investigation,again\n"
          "a5,2019-01,Essex Police,Essex Police,0.73,51.56,On or near Mill Lane,E2,S 002B,Burglary,,\n")
POLICEUK_ROLES = ColumnMap(id="Crime ID", date="Month", lon="Longitude", lat="Latitude", offence="Crime type",
                           location="Location", lsoa_code="LSOA code", lsoa_name="LSOA name")


def _three_files(tmp_path):
    a, b, c = (tmp_path / n for n in ("2019-01-a-street.csv", "2019-01-b-street.csv", "2019-01-c-street.csv"))
    a.write_text(HEADER + ROWS)
    b.write_text(HEADER + ROWS_B)
    c.write_text(HEADER + ROWS)  # the same bytes as a
    return [a, b, c]


def test_police_uk_fast_path_gives_what_the_generic_path_gives_across_files(tmp_path):
    """police.uk files are parsed with only the columns the loader uses (the others come back
    by reading the file again); through the generic path (a column mapping) every column is
    parsed. Both find the same duplicates across files and give the same rows."""
    files = _three_files(tmp_path)
    early = load_incidents(files, today="2026-01-01")
    late = load_incidents(files, mapping=POLICEUK_ROLES, today="2026-01-01")
    assert early.report.rows_in == late.report.rows_in == 8
    assert early.report.rejected == late.report.rejected
    assert early.report.rejected == {"missing_coordinates": 1, "unknown_offence_type": 1, "duplicate": 4}
    # (source_file's categories may differ by files with no used row)
    pd.testing.assert_frame_equal(early.frame.astype({"source_file": str}), late.frame.astype({"source_file": str}))
    assert early.frame["incident_id"].tolist() == ["a1", "a5"]
    rej = early.rejects
    assert len(rej) == 6 and rej["reason"].value_counts().to_dict() == early.report.rejected
    # every original column, read again from the files; the repeated file's rows are duplicates
    assert list(rej.columns[4:]) == HEADER.strip().split(",")
    dup_b = rej[(rej["file"].str.endswith("b-street.csv"))]
    assert dup_b[["row", "reason", "Context"]].values.tolist() == [[2, "duplicate", "again"]]
    assert rej[rej["file"].str.endswith("c-street.csv")]["reason"].tolist() == ["duplicate"] * 3


def test_rejects_still_add_up_when_the_files_change_after_loading(tmp_path):
    """When a file cannot be read again, its rejected rows (duplicates across files too)
    keep the columns that were parsed and the reason each is counted by."""
    files = _three_files(tmp_path)
    inc = load_incidents(files, today="2026-01-01")
    for f in files:
        f.write_text(HEADER)  # changed since the load: not read again
    rej = inc.rejects
    assert rej["reason"].value_counts().to_dict() == inc.report.rejected
    b = rej[rej["file"].str.endswith("b-street.csv")]
    assert b[["row", "reason", "Crime ID", "Location", "Crime type"]].values.tolist() == [
        [2, "duplicate", "a1", "On or near High Street", "Robbery"]]
    c = rej[rej["file"].str.endswith("c-street.csv")].sort_values("row")
    assert c[["row", "reason"]].values.tolist() == [[2, "duplicate"], [3, "duplicate"], [4, "duplicate"]]


# Coordinate cells a police.uk file may hold: numbers written many ways, blanks, spaces,
# words pandas or Arrow might read as missing, and text. The fast path parses the police.uk
# coordinates straight into numbers (falling back to text when a cell is not one); it must
# read every cell as the generic path, which parses text, does.
COORD_CELLS = ["0.71", "-0.7", "+0.72", ".5", "51.54", "1e-3", "5E1", "0", "", " ", " 0.71", "0.71 ", "nan",
               "NaN", "NA", "N/A", "null", "inf", "-inf", "1e999", "abc", "0x1A", '"1,5"', '"0.73"', '""', "1.2.3",
               "nan(1)", " -nan(ind)", "NaN(abc) ", "nan(a b)"]


def _load_or_message(path, mapping):
    try:
        return load_incidents(path, mapping=mapping, today="2026-01-01", crs="EPSG:4326")
    except InputError as exc:
        return str(exc)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.tuples(st.sampled_from(COORD_CELLS), st.sampled_from(COORD_CELLS)), min_size=1,
                      max_size=12))
def test_coordinates_read_as_numbers_give_what_text_gives(tmp_path, cells):
    rows = "".join(f"c{i},2019-01,Essex Police,Essex Police,{lon},{lat},On or near Here,E1,S 001A,Robbery,,\n"
                   for i, (lon, lat) in enumerate(cells))
    f = tmp_path / "2019-01-essex-street.csv"
    f.write_text(HEADER + rows)
    fast, text = (_load_or_message(f, mapping=m) for m in (None, POLICEUK_ROLES))
    if isinstance(fast, str) or isinstance(text, str):  # no usable row: both refuse the file alike
        assert fast == text
        return
    assert fast.report.rejected == text.report.rejected
    pd.testing.assert_frame_equal(fast.frame, text.frame)
    # the rejects hold each cell as the file wrote it (csv quoting undone)
    want = [c if not c.startswith('"') else c.strip('"') for c, _ in cells]
    got = fast.rejects.sort_values("row")
    assert len(got) == sum(fast.report.rejected.values())
    assert not len(got) or got["Longitude"].fillna("").tolist() == [want[r - 2] for r in got["row"]]


def _pool_after_a_load(tmp_path, env_pool: str | None) -> str:
    f = tmp_path / "2019-01-essex-street.csv"
    f.write_text(HEADER + ROWS)
    env = {k: v for k, v in os.environ.items() if k != POOL_ENV}
    if env_pool:
        env[POOL_ENV] = env_pool
    code = ("import sys, pyarrow as pa; from rtm.incidents import load_incidents; "
            "load_incidents(sys.argv[1], today='2026-01-01'); print(pa.default_memory_pool().backend_name)")
    return subprocess.run([sys.executable, "-c", code, str(f)], check=True, capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[1]).stdout.strip()


def test_a_load_allocates_from_jemalloc_unless_the_user_chose_a_pool(tmp_path):
    """Arrow's buffers come from jemalloc during a load (less fresh memory: docs/benchmarks.md),
    where this pyarrow has it; an allocator the user set in ARROW_DEFAULT_MEMORY_POOL stands."""
    try:
        pa.jemalloc_memory_pool()
        expected = "jemalloc"
    except (NotImplementedError, pa.ArrowNotImplementedError):
        expected = pa.default_memory_pool().backend_name  # (Windows wheels: the default stays)
    assert _pool_after_a_load(tmp_path, None) == expected
    assert _pool_after_a_load(tmp_path, "system") == "system"


def test_rejects_keep_the_file_column_order_when_only_unparsed_rows_are_rejected(tmp_path):
    """A police.uk file whose only rejects are rows that could not be parsed (no row to read
    again) still lists the columns in the file's order, not the parsed ones first."""
    f = tmp_path / "2019-01-essex-street.csv"
    f.write_text(HEADER + ROWS.splitlines(keepends=True)[0] + "a9,2019-01,Essex Police,too,few\n")
    rej = load_incidents(f, today="2026-01-01").rejects
    assert rej["reason"].tolist() == ["malformed_row"]
    assert list(rej.columns) == ["file", "row", "reason", "advice", *HEADER.strip().split(","), "raw_text"]
