"""Dates at the resolution the data has: months stay months, days stay days.

Every parsed date is an interval ``[start, end)``: a police.uk month ``2018-01`` is
``[2018-01-01, 2018-02-01)``, a day is 24 hours, a timestamp is an instant
(``end == start``). No day or time is invented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .textcols import categories, one_chunk

RESOLUTIONS = ("datetime", "day", "month")  # finest first

# (strptime format or "ISO8601", resolution, regular expression the value must match)
_FORMATS = [
    ("%Y-%m", "month", r"^\d{4}-\d{1,2}$"),
    ("%Y/%m", "month", r"^\d{4}/\d{1,2}$"),
    ("%Y-%m-%d", "day", r"^\d{4}-\d{1,2}-\d{1,2}$"),
    ("ISO8601", "datetime", r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}"),
    ("%d/%m/%Y", "day", r"^\d{1,2}/\d{1,2}/\d{4}$"),
    ("%d/%m/%Y %H:%M", "datetime", r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}$"),
    ("%d/%m/%Y %H:%M:%S", "datetime", r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2}$"),
    ("%m/%d/%Y %I:%M:%S %p", "datetime", r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M$"),
]
_COMPILED = {p: re.compile(p) for _, _, p in _FORMATS}


def _pattern_of(fmt: str) -> str:
    return next(p for f, _, p in _FORMATS if f == fmt)


_MONTH_FIRST = {"%d/%m/%Y": "%m/%d/%Y", "%d/%m/%Y %H:%M": "%m/%d/%Y %H:%M",
                "%d/%m/%Y %H:%M:%S": "%m/%d/%Y %H:%M:%S"}


@dataclass
class ParsedDates:
    """Result of :func:`parse_dates`.

    ``start``/``end`` are ``datetime64[ns]`` (NaT where bad); ``missing`` and
    ``unparseable`` are boolean masks; ``fmt`` is the format used.
    """

    start: np.ndarray
    end: np.ndarray
    resolution: str
    missing: np.ndarray
    unparseable: np.ndarray
    fmt: str
    notes: list


def _period_end(start: pd.DatetimeIndex, resolution: str) -> pd.DatetimeIndex:
    """End (exclusive) of the periods starting at ``start``."""
    if resolution == "month":
        return start + pd.offsets.MonthBegin(1)
    if resolution == "day":
        return start + pd.Timedelta(days=1)
    return start


def parse_dates(values, dayfirst: bool = True) -> ParsedDates:
    """Parse a column of dates, choosing the format that reads most distinct values.

    Parameters
    ----------
    values : pyarrow Array/ChunkedArray or array-like
        Strings (any of the formats in ``_FORMATS``) or native timestamps/dates.
    dayfirst : bool
        Read ``03/04/2018`` as 3 April (UK, the default) or, if False, as 4 March.

    Notes
    -----
    Parses the distinct values only and maps them back by dictionary codes, so a column of
    two million police.uk months costs about as much as twelve strings plus one take.
    """
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values)
    arr = one_chunk(arr)
    notes: list[str] = []
    if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
        res = "day" if pa.types.is_date(arr.type) else "datetime"
        s = pd.to_datetime(pd.Series(arr.to_pandas()))
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
            notes.append("times carried a time zone; they are kept as UTC")
        start = s.to_numpy(dtype="datetime64[ns]")
        missing = np.isnat(start)
        end = _period_end(pd.DatetimeIndex(start), res).to_numpy()
        return ParsedDates(start, end, res, missing, np.zeros_like(missing), "native", notes)

    enc = categories(arr)
    words = enc.dictionary.to_pylist()  # distinct trimmed values, none blank
    codes = pc.fill_null(enc.indices, len(words)).to_numpy(zero_copy_only=False).astype(np.int64)

    # choose the format whose pattern matches most distinct values (ties: earlier wins),
    # then parse once with it
    best_fmt, best_res, best_n = None, "unknown", 0
    for fmt, res, pattern in _FORMATS:
        rx = _COMPILED[pattern]
        n_match = sum(1 for w in words if rx.match(w))
        if n_match > best_n:
            best_fmt, best_res, best_n = fmt, res, n_match
    u_start = np.full(len(words) + 1, np.datetime64("NaT"), dtype="datetime64[ns]")  # last: blank
    fmt = "none"  # and resolution "unknown": no value could be read, the file casts no vote
    if best_fmt is not None:
        fmt = best_fmt if dayfirst else _MONTH_FIRST.get(best_fmt, best_fmt)
        rx = _COMPILED[_pattern_of(best_fmt)]
        ok = np.array([bool(rx.match(w)) for w in words])
        parsed = pd.to_datetime(pd.Series(np.array(words, dtype=object)[ok]), format=fmt, errors="coerce")
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
            notes.append("times carry a time-zone marker; they are kept as UTC wall-clock times")
        u_start[:-1][ok] = parsed.to_numpy(dtype="datetime64[ns]")
    # period ends are computed on the distinct values, then taken per row
    u_end = np.full_like(u_start, np.datetime64("NaT"))
    good = ~np.isnat(u_start)
    u_end[good] = _period_end(pd.DatetimeIndex(u_start[good]), best_res).to_numpy()
    start, end = u_start[codes], u_end[codes]
    missing = codes == len(words)
    unparseable = np.isnat(start) & ~missing
    return ParsedDates(start, end, best_res, missing, unparseable, fmt, notes)


def label(start, resolution: str) -> str:
    """A human label for one period start: ``2018-01``, ``2018-01-31`` or a timestamp."""
    ts = pd.Timestamp(start)
    if pd.isna(ts):
        return ""
    return {"month": ts.strftime("%Y-%m"), "day": ts.strftime("%Y-%m-%d")}.get(
        resolution, ts.strftime("%Y-%m-%d %H:%M"))
