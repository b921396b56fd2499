"""Property: for random faulty police.uk files, rows are counted by records (issue 14).

Hypothesis writes police.uk street files from a list of records, each good, with a
quoted line break in its location, with a stray (never closed) quote, with a quote at the
end of its location (an ordinary character, which must not close an earlier stray quote
around the records between), or ragged (a field too many or too few), with blank lines
between records, LF or CRLF line ends, and one of four encodings (UTF-8, UTF-8 with BOM, UTF-16 with BOM, Windows-1252). The true record
count is the length of that list; the loader must report exactly that many rows in, used
plus rejected, each rejected row at the physical line where its record starts, with the
reason its fault calls for.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtm.incidents import load_incidents

HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
          "Crime type,Last outcome category,Context")
REASON = {"good": None, "linebreak": None, "stray": "stray_quote", "closer": None, "extra": "malformed_row",
          "short": "malformed_row"}
RECORD = st.fixed_dictionaries({
    "kind": st.sampled_from(["good"] * 6 + ["linebreak", "stray", "closer", "extra", "short"]),
    "blank_after": st.sampled_from([0] * 5 + [1, 2]),
    "accent": st.booleans(),
})


def _record(i: int, spec: dict) -> str:
    place = "Café Rouge" if spec["accent"] else "High Street"
    location = {"linebreak": f'"On or near {place}\nnorth side"', "stray": f'"On or near {place}',
                "closer": f'On or near {place}"'}.get(spec["kind"], f"On or near {place}")
    cid = hashlib.sha256(str(i).encode()).hexdigest()
    cells = [cid, "2018-01", "Essex Police", "Essex Police", "0.710512", "51.538012", location, "E01015906",
             "Southend-on-Sea 014A", "Burglary", "Under investigation", ""]
    if spec["kind"] == "extra":
        cells.append("extra")
    elif spec["kind"] == "short":
        cells = cells[:-3]
    return ",".join(cells)


def _write(specs: list[dict], newline: str) -> tuple[str, dict[int, str | None]]:
    """The file's text and, for each record, its first physical line -> expected reason."""
    lines = [HEADER]
    expected = {}
    for i, spec in enumerate(specs):
        expected[len(lines) + 1] = REASON[spec["kind"]]
        text = _record(i, spec)
        lines.extend(text.split("\n"))
        lines.extend([""] * spec["blank_after"])
    return newline.join(lines) + newline, expected


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=st.lists(RECORD, min_size=1, max_size=25),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
       newline=st.sampled_from(["\n", "\r\n"]))
def test_rows_in_is_the_true_record_count(specs, encoding, newline):
    text, expected = _write(specs, newline)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "2018-01-essex-street.csv"
        path.write_bytes(text.encode(encoding))
        inc = load_incidents(path, threads=1, today="2026-11-23")
    rep = inc.report
    assert rep.rows_in == len(specs)
    assert rep.rows_used + rep.rows_rejected == len(specs) and rep.adds_up
    want_rejected = {line: r for line, r in expected.items() if r is not None}
    got = dict(zip(inc.rejects["row"].astype(int), inc.rejects["reason"])) if len(inc.rejects) else {}
    assert got == want_rejected
    assert inc.frame["source_row"].tolist() == [line for line, r in expected.items() if r is None]
    breaks = [s for s in specs if s["kind"] == "linebreak"]
    assert inc.frame["location"].str.contains("\n").sum() == len(breaks)
