"""The hostile part of the bad-input corpus: one file per case of issue 14 (data lost,
data invented, leaks, resources), each small and deterministic. Called by make_corpus.py.
"""

from __future__ import annotations

import io
import struct
import zlib


def _patch_zip(data: bytes, *, flag: int | None = None, method: int | None = None, crc: int | None = None) -> bytes:
    """A zip's bytes with the first member's flag bits, method or CRC changed in both the
    local header and the central directory (to make encrypted / deflate64 / bad-CRC zips)."""
    buf = bytearray(data)
    local = buf.find(b"PK\x03\x04")
    central = buf.find(b"PK\x01\x02")
    for at, flag_off, method_off, crc_off in ((local, 6, 8, 14), (central, 8, 10, 16)):
        if flag is not None:
            struct.pack_into("<H", buf, at + flag_off, struct.unpack_from("<H", buf, at + flag_off)[0] | flag)
        if method is not None:
            struct.pack_into("<H", buf, at + method_off, method)
        if crc is not None:
            struct.pack_into("<I", buf, at + crc_off, crc)
    return bytes(buf)


def _gzip(data: bytes) -> bytes:
    """gzip bytes with no time stamp or name (the same every run)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = comp.compress(data) + comp.flush()
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + body
            + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF))


def _parquet_nested() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "id": ["n1", "n2", "n3"],
        "datetime": ["2018-01-05 10:00", "2018-01-06 11:00", "2018-01-07 12:00"],
        "longitude": [0.710512, 0.704131, 0.718240],
        "latitude": [51.538012, 51.540875, 51.533511],
        "tags": pa.array([["a", "b"], [], None], pa.list_(pa.string())),
        "meta": pa.array([{"k": 1}, {"k": 2}, None], pa.struct([("k", pa.int64())])),
    })
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="none", store_schema=False)
    return buf.getvalue()


def hostile(files: dict, policeuk, row, crime_id, zipped, POLICEUK: str) -> None:
    """Add the hostile cases to ``files`` (name -> str or bytes)."""
    # data loss: one stray quote in 1,000 rows (was: rows in 10, the other 990 never counted)
    rows = [row(crime_id(f"sq{i}"), "2018-01", i % 4, "Burglary") for i in range(1000)]
    rows[8] = row(crime_id("sq8"), "2018-01", 0, "Burglary", location='"On or near Pub')
    files["stray_quote_1000_rows.csv"] = policeuk(rows)

    # a quoted line break followed by a blank line (was: a phantom row, later lines shifted)
    files["quoted_linebreak_then_blank.csv"] = policeuk([
        row(crime_id("ql1"), "2018-01", 0, "Burglary", location='"On or near High\nStreet"'),
        "",
        row(crime_id("ql2"), "2018-01", 1, "Robbery"),
        row(crime_id("ql3"), "2018-01", 2, "Drugs", lon="", lat=""),
    ])

    # a Latin-1 byte in a ragged row (was: a traceback refusing the whole file)
    files["latin1_ragged_row.csv"] = policeuk([
        row(crime_id("lr1"), "2018-01", 0, "Burglary"),
        row(crime_id("lr2"), "2018-01", 1, "Robbery", location="On or near Café") + ",extra",
        row(crime_id("lr3"), "2018-01", 2, "Drugs"),
    ]).encode("latin-1")

    # a zip of police.uk CSVs with a shapefile in it (was: only the shapefile read, as incidents)
    files["street_csvs_and_shapefile.zip"] = zipped({
        "2018-01/2018-01-essex-street.csv": policeuk([row(crime_id("zs1"), "2018-01", 0, "Burglary"),
                                                      row(crime_id("zs2"), "2018-01", 1, "Robbery")]).encode(),
        "2018-02/2018-02-essex-street.csv": policeuk([row(crime_id("zs3"), "2018-02", 2, "Drugs")]).encode(),
        "boundary/force.shp": b"\x00\x00\x27\x0a" + bytes(96),
        "boundary/force.dbf": bytes(32),
        "readme.md": b"# data\n",
    })

    # invented data: dates outside 1677-2262 (were wrapped to 1753 / 1816) and before 1900
    files["dates_out_of_range.csv"] = policeuk([
        row(crime_id("dr1"), "0000-01", 0, "Burglary"),
        row(crime_id("dr2"), "9999-12", 1, "Robbery"),
        row(crime_id("dr3"), "1850-01", 2, "Drugs"),
        row(crime_id("dr4"), "2018-01", 3, "Drugs"),
    ])
    files["dates_out_of_range_generic.csv"] = (
        "id,datetime,longitude,latitude,offence\n"
        "g1,0000-01-01 00:00,0.710512,51.538012,Burglary\n"
        "g2,9999-12-31 23:59,0.704131,51.540875,Burglary\n"
        "g3,2018-01-05 10:00,0.718240,51.533511,Burglary\n")

    # weights that overflow a sum (were: "No harm was recorded", exit 0)
    files["weights_overflow.csv"] = (
        "id,datetime,longitude,latitude,weight\n"
        "w1,2018-01-05 10:00,0.710512,51.538012,1e308\n"
        "w2,2018-01-05 11:00,0.704131,51.540875,1e308\n"
        "w3,2018-01-05 12:00,0.718240,51.533511,12.5\n")

    # 30 of 40 rows at (0,0) (were used without --area)
    zero = [row(crime_id(f"z{i}"), "2018-01", i % 4, "Burglary", lon="0", lat="0") for i in range(30)]
    good = [row(crime_id(f"g{i}"), "2018-01", i % 4, "Burglary") for i in range(10)]
    files["zero_zero_points.csv"] = policeuk(zero[:15] + good + zero[15:])

    # a city's dates with "+00" offsets and "/" (were all rejected), mixed offsets (a traceback)
    files["iso_slash_offsets.csv"] = (
        "id,date,longitude,latitude,offence\n"
        "o1,2014/03/02 05:00:00+00,-87.62,41.88,THEFT\n"
        "o2,2014/03/02 06:00:00+01,-87.63,41.87,THEFT\n"
        "o3,2014-03-02T07:00:00-05:00,-87.61,41.89,THEFT\n"
        "o4,2014-03-02T08:00:00Z,-87.64,41.86,THEFT\n")

    # a column of mixed date formats (rows in supported formats were rejected)
    files["mixed_date_formats.csv"] = (
        "id,date,longitude,latitude\n"
        "m1,2018-01-05,0.710512,51.538012\n"
        "m2,06/01/2018,0.704131,51.540875\n"
        "m3,2018-01-07 10:30,0.718240,51.533511\n"
        "m4,next tuesday,0.718240,51.533511\n")

    # wrong messages: UTF-16 without BOM (was "binary"), CR-only line ends and a quoted
    # header with a comma (were "duplicate columns"), a title line and Excel's sep= line
    body = policeuk([row(crime_id("u1"), "2018-01", 0, "Burglary"), row(crime_id("u2"), "2018-01", 1, "Drugs")])
    files["utf16_without_bom.csv"] = body.encode("utf-16-le")
    files["cr_only_line_ends.csv"] = body.replace("\n", "\r")
    files["quoted_header_with_comma.csv"] = (
        'id,"lon, WGS84","lat, WGS84",datetime\n'
        "q1,0.710512,51.538012,2018-01-05 10:00\n"
        "q2,0.704131,51.540875,2018-01-05 11:00\n")
    files["title_line.csv"] = "Essex street crime, January 2018\n" + body
    files["excel_sep_line.csv"] = "sep=;\n" + body.replace(",", ";")

    # a folder with a month missing between its first and last (Essex 2018-08/09)
    for month in ("2018-07", "2018-10"):
        files[f"folder_missing_months/{month}-essex-street.csv"] = policeuk(
            [row(crime_id(f"mm{month}"), month, 0, "Burglary")])

    # unknown offence types named with counts (were visible only in the rejects file)
    files["unknown_types_counted.csv"] = policeuk(
        [row(crime_id(f"ut{i}"), "2018-01", 0, "Jaywalking") for i in range(3)]
        + [row(crime_id(f"uu{i}"), "2018-01", 1, "Loitering") for i in range(2)]
        + [row(crime_id("uk"), "2018-01", 2, "Burglary")])

    # leaks: cells Excel would evaluate, in rejected rows
    files["formula_cells.csv"] = policeuk([
        row(crime_id("f1"), "2018-01", 0, "=HYPERLINK(\"http://x\",\"y\")", lon="", lat=""),
        row(crime_id("f2"), "2018-01", 1, "Burglary", lon="", lat="", location="+cmd|' /C calc'!A0"),
        row(crime_id("f3"), "2018-01", 2, "@SUM(1)"),
        row(crime_id("f4"), "2018-01", 3, "Burglary"),
    ])

    # resources: a zip member and a gzip that expand far beyond their size (4 MB from ~8 kB)
    files["expands_4mb.zip"] = zipped({"big-street.csv": POLICEUK.encode() + b"\n" + b"\n" * (4 << 20)})
    files["newlines_4mb.csv.gz"] = _gzip(POLICEUK.encode() + b"\n" + b"\n" * (4 << 20))

    # zips Python cannot open: encrypted, deflate64, damaged CRC (were tracebacks)
    plain = zipped({"2018-01-essex-street.csv": body.encode()})
    files["encrypted.zip"] = _patch_zip(plain, flag=0x1)
    files["deflate64.zip"] = _patch_zip(plain, method=9)
    files["bad_crc.zip"] = _patch_zip(plain, crc=0x12345678)

    # Parquet with list and struct columns (was a traceback)
    files["nested_columns.parquet"] = _parquet_nested()
