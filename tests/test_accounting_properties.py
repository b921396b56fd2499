"""Property tests: for any small file of good and bad rows, every row is accounted for.

Hypothesis writes random police.uk street files and generic timestamped tables (a mix of
good rows, blank / non-numeric / NaN / infinite / out-of-range coordinates, bad, blank and
future dates, unknown offence types, repeated ids, rows with an extra field and blank
lines), split over one or two files. Besides ``rows_in == rows_used + rows_rejected``, a
small independent model of the documented checks predicts the reason and the line number
of every rejected row.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rtm.incidents import load_incidents

TODAY = "2026-11-23"
PLACES = [("0.710512", "51.538012"), ("0.704131", "51.540875"), ("0.718240", "51.533511")]
# cell kinds and the text written for them (first text: longitude, second: latitude)
COORD = {"good": None, "blank": ("", ""), "non_numeric": ("0.7.1", "abc"), "nan": ("NaN", "nan"),
         "inf": ("inf", "-inf"), "out_of_range": ("200.5", "-95.5")}
COORD_KINDS = st.sampled_from(["good"] * 8 + [k for k in COORD if k != "good"])
TYPES = {"Burglary": 220.0, "Robbery": 365.0}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _cells(spec) -> tuple[str, str]:
    lon, lat = PLACES[spec["place"]]
    if spec["lon"] != "good":
        lon = COORD[spec["lon"]][0]
    if spec["lat"] != "good":
        lat = COORD[spec["lat"]][1]
    return lon, lat


def _coordinate_reason(spec) -> str | None:
    kinds = {spec["lon"], spec["lat"]}
    if "blank" in kinds:
        return "missing_coordinates"
    if "non_numeric" in kinds:
        return "non_numeric_coordinates"
    if kinds & {"nan", "inf", "out_of_range"}:
        return "invalid_coordinates"
    return None


def _crs_is_inferable(specs) -> bool:
    """False when most finite coordinates look like swapped latitude/longitude (the loader
    then refuses the file, rightly): only out-of-range latitudes can make that happen."""
    finite = [s for s in specs if not s["malformed"] and {s["lon"], s["lat"]} <= {"good", "out_of_range"}]
    if not finite:
        return True
    lonlat_ok = sum(s["lon"] == s["lat"] == "good" for s in finite) / len(finite)
    swapped_ok = sum(s["lon"] == "good" for s in finite) / len(finite)
    return not (lonlat_ok < 0.5 and swapped_ok > 0.5)


def _row_specs(dates: list[str], bad_dates: list[str], ids: list[str]):
    return st.fixed_dictionaries({
        "lon": COORD_KINDS, "lat": COORD_KINDS, "place": st.integers(0, len(PLACES) - 1),
        "date": st.sampled_from(dates * 3 + bad_dates + ["", "2027-03" if len(dates[0]) == 7 else "2027-03-01 09:00"]),
        "type": st.sampled_from(list(TYPES) * 3 + ["Jaywalking", ""]),
        "id": st.sampled_from(ids),
        "malformed": st.sampled_from([False] * 9 + [True]),
        "blank_before": st.sampled_from([False] * 6 + [True]),
    })


def _files(specs: list[dict], split: int, header: str, line_of) -> list[tuple[str, str, list[int]]]:
    """Write the rows as one or two files: (name, text, physical line of each row)."""
    out = []
    for name, part in (("a.csv", specs[:split]), ("b.csv", specs[split:])):
        if not part:
            continue
        lines, numbers = [header], []
        for spec in part:
            if spec["blank_before"]:
                lines.append("")
            text = line_of(spec)
            lines.append(text + ",extra" if spec["malformed"] else text)
            numbers.append(len(lines))
        out.append((name, "\n".join(lines) + "\n", numbers))
    return out


def _timestamped(files, specs, split) -> bool:
    """True when some file has a date shaped like a timestamp (then the load's resolution
    is "datetime"; a file with no date of any known shape casts no vote)."""
    starts = [0, split]
    return any(any(not s["malformed"] and s["date"][:4].isdigit() and ":" in s["date"]
                   for s in specs[start:start + len(numbers)])
               for (_, _, numbers), start in zip(files, starts))


def _expected(files, specs: list[dict], split: int, month_resolution: bool):
    """(file, line, reason) of every rejected row and (file, line, weight) of every used row."""
    rejected, used = [], []
    by_event = not month_resolution and _timestamped(files, specs, split)
    seen_text: dict[str, str] = {}
    seen_ids, seen_events = set(), set()
    starts = [0, split]
    for (name, text, numbers), start in zip(files, starts):
        part = specs[start:start + len(numbers)]
        copy_of = seen_text.get(text)
        seen_text.setdefault(text, name)
        for spec, line in zip(part, numbers):
            if spec["malformed"]:
                reason = "malformed_row"
            elif copy_of is not None:
                reason = "duplicate"
            else:
                reason = _coordinate_reason(spec)
                if reason is None:
                    if spec["date"] == "":
                        reason = "missing_date"
                    elif spec["date"] in ("2018-13", "never", "2018-02-30 10:00", "yesterday"):
                        reason = "unparseable_date"
                    elif spec["date"].startswith("2027"):
                        reason = "future_date"
                    elif spec["type"] not in TYPES:
                        reason = "unknown_offence_type"
                if reason is None:
                    if spec["id"]:
                        key = (spec["id"], spec["date"], spec["type"])
                        reason = "duplicate" if key in seen_ids else None
                        seen_ids.add(key)
                    elif by_event:
                        key = (spec["date"], spec["place"], spec["type"])
                        reason = "duplicate" if key in seen_events else None
                        seen_events.add(key)
            if reason is None:
                used.append((name, line, TYPES[spec["type"]]))
            else:
                rejected.append((name, line, reason))
    return rejected, used


def _check(files, specs, split, month_resolution):
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, text, _ in files:
            (Path(tmp) / name).write_text(text)
            paths.append(Path(tmp) / name)
        inc = load_incidents(paths, today=TODAY, threads=1)
    rep = inc.report
    n_rows = sum(len(numbers) for _, _, numbers in files)
    # the invariants
    assert rep.rows_in == n_rows == len(specs)
    assert rep.rows_in == rep.rows_used + rep.rows_rejected
    assert rep.adds_up
    assert len(inc.frame) == rep.rows_used
    assert len(inc.rejects) == rep.rows_rejected
    assert all(n > 0 for n in rep.rejected.values())
    # and the model of the checks
    rejected, used = _expected(files, specs, split, month_resolution)
    got = sorted(zip(inc.rejects["file"].map(lambda f: Path(f).name), inc.rejects["row"].astype(int),
                     inc.rejects["reason"])) if len(inc.rejects) else []
    assert got == sorted(rejected)
    want_counts: dict[str, int] = {}
    for _, _, reason in rejected:
        want_counts[reason] = want_counts.get(reason, 0) + 1
    assert rep.rejected == want_counts
    got_used = sorted(zip(inc.frame["source_file"].astype(str).map(lambda f: Path(f).name),
                          inc.frame["source_row"].astype(int), inc.frame["weight"]))
    assert got_used == sorted(used)
    assert np.isfinite(inc.frame[["x", "y"]].to_numpy(dtype=float)).all()


POLICEUK = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
            "LSOA name,Crime type,Last outcome category,Context")


def _policeuk_line(spec) -> str:
    lon, lat = _cells(spec)
    return ",".join([spec["id"], spec["date"], "Essex Police", "Essex Police", lon, lat,
                     "On or near High Street", "E01015906", "Southend-on-Sea 014A", spec["type"], "", ""])


@SETTINGS
@given(data=st.data())
def test_policeuk_rows_all_accounted_for(data):
    specs = data.draw(st.lists(_row_specs(["2018-01", "2018-02"], ["2018-13", "never"],
                                          ["", "", "id-1", "id-2", "id-3"]), min_size=1, max_size=25))
    split = data.draw(st.integers(1, len(specs)))
    files = _files(specs, split, POLICEUK, _policeuk_line)
    assume(all(_crs_is_inferable(specs[s:s + len(f[2])]) for f, s in zip(files, [0, split])))
    _check(files, specs, split, month_resolution=True)


GENERIC = "incident_id,date,longitude,latitude,offence_type"


def _generic_line(spec) -> str:
    lon, lat = _cells(spec)
    return ",".join([spec["id"], spec["date"], lon, lat, spec["type"]])


@SETTINGS
@given(data=st.data())
def test_timestamped_rows_all_accounted_for(data):
    specs = data.draw(st.lists(_row_specs(["2018-01-05 22:10", "2018-01-05 22:11"],
                                          ["2018-02-30 10:00", "yesterday"], ["", "", "", "X1", "X2"]),
                               min_size=1, max_size=25))
    split = data.draw(st.integers(1, len(specs)))
    files = _files(specs, split, GENERIC, _generic_line)
    assume(all(_crs_is_inferable(specs[s:s + len(f[2])]) for f, s in zip(files, [0, split])))
    _check(files, specs, split, month_resolution=False)


@pytest.mark.parametrize("kind", [k for k in COORD if k != "good"])
def test_one_bad_coordinate_among_good_rows(kind):
    """A deterministic sanity check of the model for each coordinate fault."""
    specs = [{"lon": "good", "lat": "good", "place": i % 3, "date": "2018-01", "type": "Burglary",
              "id": f"id-{i}", "malformed": False, "blank_before": False} for i in range(4)]
    specs[2]["lon"] = kind
    files = _files(specs, len(specs), POLICEUK, _policeuk_line)
    _check(files, specs, len(specs), month_resolution=True)
