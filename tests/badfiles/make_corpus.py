"""Write the corpus of small bad input files that tests/test_bad_files.py loads.

The files are committed next to this script; run it again to regenerate them exactly
(the output is deterministic: fixed ids, fixed zip timestamps)::

    .venv/bin/python tests/badfiles/make_corpus.py

Each file holds one kind of problem (and a few good rows so that the accounting has
something to add up). The coordinates are police.uk-style points in Southend-on-Sea.
"""

from __future__ import annotations

import hashlib
import sys
import io
import json
import shutil
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # make_hostile.py next to this file

POLICEUK = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
            "LSOA name,Crime type,Last outcome category,Context")
FORCE = "Essex Police"
# (longitude, latitude, location, LSOA code, LSOA name) of a few Southend snap points
PLACES = [
    ("0.710512", "51.538012", "On or near High Street", "E01015906", "Southend-on-Sea 014A"),
    ("0.704131", "51.540875", "On or near Victoria Avenue", "E01015913", "Southend-on-Sea 012C"),
    ("0.718240", "51.533511", "On or near Marine Parade", "E01015874", "Southend-on-Sea 016B"),
    ("0.662709", "51.547342", "On or near Nightclub", "E01015895", "Southend-on-Sea 008D"),
]


def crime_id(label: str) -> str:
    """A police.uk-style 64-character hex id, fixed for a label."""
    return hashlib.sha256(label.encode()).hexdigest()


def row(cid: str, month: str, place: int, crime_type: str, lon: str | None = None,
        lat: str | None = None, location: str | None = None, sep: str = ",") -> str:
    """One police.uk street row; ``lon``/``lat``/``location`` override the place's."""
    p_lon, p_lat, p_loc, code, name = PLACES[place]
    cells = [cid, month, FORCE, FORCE, p_lon if lon is None else lon, p_lat if lat is None else lat,
             p_loc if location is None else location, code, name, crime_type, "Under investigation", ""]
    return sep.join(cells)


def policeuk(rows: list[str], header: str = POLICEUK, newline: str = "\n") -> str:
    return newline.join([header, *rows]) + newline


def geojson(features: list[tuple[dict | None, dict]]) -> str:
    return json.dumps({"type": "FeatureCollection",
                       "features": [{"type": "Feature", "geometry": g, "properties": p} for g, p in features]},
                      indent=1) + "\n"


def zipped(members: dict[str, bytes]) -> bytes:
    """A zip of the members with fixed timestamps, so the bytes are the same every run."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def corpus() -> dict[str, bytes]:
    """Relative path -> bytes of every file in the corpus (nothing is written)."""
    a, b, c, d = (crime_id(x) for x in "abcd")
    files: dict[str, str | bytes] = {}

    files["empty.csv"] = b""
    files["whitespace_only.csv"] = "   \n\t\n  \r\n\n"
    files["header_only.csv"] = POLICEUK + "\n"

    files["semicolon_policeuk.csv"] = policeuk([
        row(a, "2018-01", 0, "Burglary", sep=";"),
        row(b, "2018-01", 1, "Robbery", sep=";"),
        row(c, "2018-01", 2, "Shoplifting", lon="", lat="", sep=";"),
    ], header=POLICEUK.replace(",", ";"))

    files["tab_delimited.tsv"] = policeuk([
        row(a, "2018-01", 0, "Burglary", sep="\t"),
        row(b, "2018-01", 1, "Vehicle crime", sep="\t"),
        row(c, "2018-01", 2, "Drugs", sep="\t"),
        row(d, "2018-01", 3, "Jaywalking", sep="\t"),
    ], header=POLICEUK.replace(",", "\t"))

    files["latin1_locations.csv"] = policeuk([
        row(a, "2018-01", 0, "Burglary", location="On or near Café Rouge"),
        row(b, "2018-01", 1, "Robbery", location="On or near Église Road"),
        row(c, "2018-01", 2, "Other theft", location="On or near Señora Street"),
    ]).encode("latin-1")

    files["utf16.csv"] = policeuk([
        row(a, "2018-01", 0, "Burglary"),
        row(b, "2018-01", 1, "Robbery", lon="", lat=""),
        row(c, "2018-01", 2, "Drugs"),
    ]).encode("utf-16")

    files["utf8_bom.csv"] = b"\xef\xbb\xbf" + policeuk([
        row(a, "2018-01", 0, "Burglary"),
        row(b, "2018-01", 1, "Robbery"),
    ]).encode("utf-8")

    files["binary_junk.csv"] = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10"
                                b"\x08\x06\x00\x00\x00\x1f\xf3\xffa" + bytes(range(256)))

    # an Excel workbook is a zip of XML parts; a tiny one is enough to be refused by name
    files["workbook.xlsx"] = zipped({"[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
                                     "xl/workbook.xml": b'<?xml version="1.0"?><workbook/>'})

    files["lonlat_swapped.csv"] = policeuk([
        row(a, "2018-01", 0, "Burglary", lon="51.538012", lat="0.710512"),
        row(b, "2018-01", 1, "Robbery", lon="51.540875", lat="0.704131"),
        row(c, "2018-01", 2, "Drugs", lon="51.533511", lat="0.718240"),
    ])

    files["bng_in_lonlat.csv"] = (
        "incident_id,date,longitude,latitude,offence_type\n"
        "R1,2018-01-05,588412,186123,Burglary\n"
        "R2,2018-01-06,587950,186540,Robbery\n"
        "R3,2018-01-07,588870,185720,Drugs\n")

    # the good rows are the majority, as in real files: the CRS is still told from them
    files["nan_inf_coordinates.csv"] = policeuk([
        row(a, "2018-01", 0, "Burglary"),
        row(crime_id("g"), "2018-01", 1, "Burglary"),
        row(crime_id("h"), "2018-01", 2, "Burglary"),
        row(crime_id("i"), "2018-01", 3, "Burglary"),
        row(b, "2018-01", 1, "Robbery", lon="NaN"),
        row(c, "2018-01", 2, "Drugs", lat="inf"),
        row(d, "2018-01", 3, "Other theft", lon="-inf", lat="-inf"),
        row(crime_id("e"), "2018-01", 0, "Shoplifting", lon="200.5"),
        row(crime_id("f"), "2018-01", 1, "Public order", lat="-95"),
    ])

    files["non_numeric_coordinates.csv"] = policeuk([
        row(a, "2018-01", 0, "Burglary"),
        row(b, "2018-01", 1, "Robbery", lon="0.7O4131"),
        row(c, "2018-01", 2, "Drugs", lat="N/A"),
        row(d, "2018-01", 3, "Other theft", lon='"0,662709"'),
        row(crime_id("e"), "2018-01", 0, "Shoplifting", lon=" 0.710512 ", lat=" 51.538012"),
    ])

    files["missing_coordinates.csv"] = policeuk([
        row(a, "2018-01", 0, "Burglary"),
        row(b, "2018-01", 1, "Robbery", lon="", lat="", location="No location"),
        row(c, "2018-01", 2, "Drugs", lat=""),
        row("", "2018-01", 3, "Anti-social behaviour", lon="   ", lat="   "),
        row("", "2018-01", 3, "Anti-social behaviour"),
    ])

    files["duplicate_ids.csv"] = policeuk([
        row(a, "2018-01", 0, "Burglary"),
        row(a, "2018-01", 0, "Burglary"),
        row(a, "2018-01", 1, "Burglary"),
        row(a, "2018-01", 0, "Robbery"),
        row(b, "2018-01", 2, "Drugs"),
        row("", "2018-01", 3, "Anti-social behaviour"),
        row("", "2018-01", 3, "Anti-social behaviour"),
    ])

    files["same_id_different_months.csv"] = policeuk([
        row(a, "2018-01", 0, "Violence and sexual offences"),
        row(a, "2018-02", 0, "Violence and sexual offences"),
        row(a, "2018-03", 0, "Violence and sexual offences"),
        row(b, "2018-02", 1, "Criminal damage and arson"),
    ])

    files["future_dates.csv"] = policeuk([
        row(a, "2026-10", 0, "Burglary"),
        row(b, "2026-11", 1, "Robbery"),
        row(c, "2026-12", 2, "Drugs"),
        row(d, "2027-01", 3, "Other theft"),
    ])

    files["unparseable_dates.csv"] = policeuk([
        row(a, "2018-01", 0, "Burglary"),
        row(b, "2018-13", 1, "Robbery"),
        row(c, "Jan 2018", 2, "Drugs"),
        row(d, "", 3, "Other theft"),
        row(crime_id("e"), "2018-02", 0, "Shoplifting"),
    ])

    files["unknown_offence_type.csv"] = policeuk([
        row(a, "2018-01", 0, "Burglary"),
        row(b, "2018-01", 1, "Jaywalking"),
        row(c, "2018-01", 2, " robbery "),
        row(d, "2018-01", 3, ""),
        row(crime_id("e"), "2018-01", 0, "Jaywalking"),
    ])

    files["polygons.geojson"] = geojson([
        ({"type": "Polygon", "coordinates": [[[0.70, 51.53], [0.72, 51.53], [0.72, 51.54], [0.70, 51.54], [0.70, 51.53]]]},
         {"name": "Southend-on-Sea 014A"}),
        ({"type": "Polygon", "coordinates": [[[0.66, 51.54], [0.68, 51.54], [0.68, 51.55], [0.66, 51.55], [0.66, 51.54]]]},
         {"name": "Southend-on-Sea 008D"}),
    ])

    files["no_csv.zip"] = zipped({"notes.md": b"# police data\n", "picture.png": b"\x89PNG\r\n\x1a\n"})

    street = policeuk([row(a, "2018-01", 0, "Burglary"), row(b, "2018-01", 1, "Robbery"),
                       row(c, "2018-01", 2, "Drugs", lon="", lat="")])
    outcomes = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
                f"LSOA name,Outcome type\n{a},2018-01,{FORCE},{FORCE},0.710512,51.538012,On or near High Street,"
                "E01015906,Southend-on-Sea 014A,Investigation complete; no suspect identified\n")
    files["street_and_outcomes.zip"] = zipped({"2018-01/2018-01-essex-street.csv": street.encode(),
                                               "2018-01/2018-01-essex-outcomes.csv": outcomes.encode()})

    files["ragged_rows.csv"] = policeuk([
        row(a, "2018-01", 0, "Burglary"),
        row(b, "2018-01", 1, "Robbery") + ",extra field",
        row(c, "2018-01", 2, "Drugs"),
        row(d, "2018-01", 3, "Other theft"),
    ])

    files["no_coordinates_column.csv"] = (
        "Crime ID,Month,Location,Crime type\n"
        f"{a},2018-01,On or near High Street,Burglary\n"
        f"{b},2018-01,On or near Victoria Avenue,Robbery\n")

    files["generic_ddmmyyyy.csv"] = (
        "Ref,Occurred,Easting,Northing,Offence,Street\n"
        "GEN-1,03/04/2018,588412,186123,Burglary,High Street\n"
        "GEN-2,12/01/2018,587950,186540,Robbery,Victoria Avenue\n"
        "GEN-3,31/12/2018,588870,185720,Drugs,Marine Parade\n"
        "GEN-4,31/02/2018,588400,186100,Other theft,High Street\n")

    files["points_null_geometry.geojson"] = geojson([
        ({"type": "Point", "coordinates": [0.710512, 51.538012]}, {"offence_type": "Burglary", "date": "2018-01-15"}),
        (None, {"offence_type": "Robbery", "date": "2018-01-16"}),
        ({"type": "Point", "coordinates": [0.704131, 51.540875]}, {"offence_type": "Drugs", "date": "2018-01-17"}),
        ({"type": "Polygon", "coordinates": [[[0.70, 51.53], [0.72, 51.53], [0.72, 51.54], [0.70, 51.53]]]},
         {"offence_type": "Other theft", "date": "2018-01-18"}),
    ])

    files["repeated_header.csv"] = (
        "Crime ID,Month,Longitude,Latitude,Crime type,Month\n"
        f"{a},2018-01,0.710512,51.538012,Burglary,2018-01\n")

    files["blank_lines.csv"] = policeuk([
        row(a, "2018-01", 0, "Burglary"),
        "",
        row(b, "2018-01", 1, "Jaywalking"),
        row(c, "2018-01", 2, "Drugs") + ",extra field",
        "",
        "",
        row(d, "2018-01", 3, "Other theft"),
        "",
    ])

    # timestamped rows without ids: same minute, place and type is one incident twice
    files["timestamped_repeats.csv"] = (
        "date,longitude,latitude,offence_type\n"
        "2018-01-05 22:10,0.710512,51.538012,Robbery\n"
        "2018-01-05 22:10,0.710512,51.538012,Robbery\n"
        "2018-01-05 22:10,0.710512,51.538012,Burglary\n"
        "2018-01-05 22:11,0.710512,51.538012,Robbery\n"
        "2018-01-05 22:10,0.704131,51.540875,Robbery\n")

    files["crlf_generic.csv"] = (
        "incident_id,date,longitude,latitude,offence_type\r\n"
        "C1,2018-01-05,0.710512,51.538012,Burglary\r\n"
        "C2,2018-01-06,0.704131,51.540875,Robbery\r\n"
        "C3,2018-01-07,0.718240,51.533511,Shoplifting\r\n")

    files["truncated.csv.gz"] = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\x4b\x4c\x4a"

    # a folder of monthly files with a readme next to them
    files["folder_with_readme/README.txt"] = "Monthly street crime for two months.\nSource: data.police.uk\n"
    files["folder_with_readme/2018-01-essex-street.csv"] = policeuk([
        row(crime_id("jan1"), "2018-01", 0, "Burglary"),
        row(crime_id("jan2"), "2018-01", 1, "Robbery"),
    ])
    files["folder_with_readme/2018-02-essex-street.csv"] = policeuk([
        row(crime_id("feb1"), "2018-02", 2, "Drugs"),
        row(crime_id("feb2"), "2018-02", 3, "Other theft", lon="", lat=""),
        row("", "2018-02", 3, "Anti-social behaviour"),
    ])

    from make_hostile import hostile

    hostile(files, policeuk, row, crime_id, zipped, POLICEUK)
    out = {}
    for name, data in files.items():
        out[name] = data.encode("utf-8") if isinstance(data, str) else data
    return out


def main() -> None:
    files = corpus()
    for folder in {Path(name).parts[0] for name in files if "/" in name}:
        if (HERE / folder).exists():
            shutil.rmtree(HERE / folder)
    for name, data in files.items():
        (HERE / name).parent.mkdir(parents=True, exist_ok=True)
        (HERE / name).write_bytes(data)
    entries = [f for f in HERE.iterdir() if f.name not in ("make_corpus.py", "make_hostile.py", "__pycache__")]
    print(f"{len(entries)} corpus entries in {HERE}")


if __name__ == "__main__":
    main()
