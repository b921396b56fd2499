"""Dates at the resolution the data has: months stay months, days stay days.

Every parsed date is an interval ``[start, end)``: a police.uk month ``2018-01`` is
``[2018-01-01, 2018-02-01)``, a day is 24 hours, a timestamp is an instant
(``end == start``). No day or time is invented, and no date is ever wrapped: a value
outside the plausible range (by default 1900 to one year ahead of today) is marked
``implausible`` instead of being cast into nanoseconds it does not fit.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from .textcols import categories, one_chunk

RESOLUTIONS = ("datetime", "day", "month")  # finest first
EARLIEST = "1900-01-01"  #: default start of the plausible range
AHEAD_YEARS = 1  #: default: dates up to this many years after today are plausible

# (name, strptime format or "ISO8601", resolution, regular expression the value must match).
# ISO-like values with "/" are read as ISO after the "/" become "-" (see _iso_text).
_FORMATS = [
    ("YYYY-MM", "%Y-%m", "month", r"^\d{4}[-/]\d{1,2}$"),
    ("YYYY-MM-DD", "%Y-%m-%d", "day", r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}$"),
    ("ISO 8601 date-time", "ISO8601", "datetime",
     r"^\d{4}[-/]\d{2}[-/]\d{2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?$"),
    ("DD/MM/YYYY", "%d/%m/%Y", "day", r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{4}$"),
    ("DD/MM/YYYY HH:MM", "%d/%m/%Y %H:%M", "datetime", r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}$"),
    ("DD/MM/YYYY HH:MM:SS", "%d/%m/%Y %H:%M:%S", "datetime", r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2}$"),
    ("DD/MM/YYYY hh:mm:ss AM", "%d/%m/%Y %I:%M:%S %p", "datetime",
     r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M$"),
]
_COMPILED = {name: re.compile(p) for name, _, _, p in _FORMATS}
# the day/month formats as read with dayfirst=False (US order)
_MONTH_FIRST = {"%d/%m/%Y": "%m/%d/%Y", "%d/%m/%Y %H:%M": "%m/%d/%Y %H:%M",
                "%d/%m/%Y %H:%M:%S": "%m/%d/%Y %H:%M:%S", "%d/%m/%Y %I:%M:%S %p": "%m/%d/%Y %I:%M:%S %p"}
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_SHORT_OFFSET = re.compile(r"([+-]\d{2})$")


@dataclass(frozen=True)
class DateRange:
    """The plausible dates: ``[earliest, latest)``; anything else is rejected, never wrapped.

    Build it with :func:`plausible_range`.
    """

    earliest: pd.Timestamp
    latest: pd.Timestamp

    def describe(self) -> str:
        return f"{self.earliest:%Y-%m-%d} to {self.latest:%Y-%m-%d}"


def plausible_range(today=None, earliest=EARLIEST, ahead_years: int = AHEAD_YEARS) -> DateRange:
    """The plausible range: from ``earliest`` (default 1900-01-01) to ``ahead_years`` after
    ``today`` (default now). Both ends must lie within 1678-2261 (what nanosecond times hold)."""
    today = pd.Timestamp(today) if today is not None else pd.Timestamp.now()
    lo, hi = pd.Timestamp(earliest), today.normalize() + pd.DateOffset(years=ahead_years)
    if not (pd.Timestamp("1678-01-01") <= lo < hi <= pd.Timestamp("2261-12-31")):
        raise ValueError(f"the plausible date range {lo:%Y-%m-%d} to {hi:%Y-%m-%d} must be increasing "
                         "and lie within 1678-2261")
    return DateRange(lo, hi)


@dataclass
class ParsedDates:
    """Result of :func:`parse_dates`.

    ``start``/``end`` are ``datetime64[ns]`` (NaT where bad); ``missing``, ``unparseable``
    and ``implausible`` are boolean masks; ``fmt`` names the format read most often.
    """

    start: np.ndarray
    end: np.ndarray
    resolution: str
    missing: np.ndarray
    unparseable: np.ndarray
    fmt: str
    notes: list
    implausible: np.ndarray = field(default=None)

    def __post_init__(self):
        if self.implausible is None:
            self.implausible = np.zeros_like(self.missing)


def _period_end(start: pd.DatetimeIndex, resolution: str) -> pd.DatetimeIndex:
    """End (exclusive) of the periods starting at ``start``."""
    if resolution == "month":
        return start + pd.offsets.MonthBegin(1)
    if resolution == "day":
        return start + pd.Timedelta(days=1)
    return start


def _iso_text(word: str) -> str:
    """An ISO-like value as pandas' ISO8601 reader takes it: ``/`` -> ``-``, ``+00`` -> ``+00:00``."""
    date, _, rest = word.partition(" ") if "T" not in word[:11] else (word, "", "")
    text = date.replace("/", "-") + (" " + rest if rest else "")
    text = text.replace(" Z", "Z")
    return _SHORT_OFFSET.sub(r"\1:00", text)


_OFFSET = re.compile(r"(Z|[+-]\d{2}(:?\d{2})?)$")


def _to_utc_naive(parsed: pd.Series, words: list[str], notes: list) -> pd.Series:
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        note = "times carry a time-zone marker or UTC offset; they are kept as UTC wall-clock times"
        if note not in notes and any(_OFFSET.search(w) for w in words):
            notes.append(note)
    return parsed


def check_format(date_format: str) -> None:
    """Refuse an explicit date format (``ColumnMap.date_format``) that is not a valid strptime
    format (``%Q``, a lone ``%``), before any value is read. Returns None.

    Raises
    ------
    InputError
        About the setting ``date_format``, naming the format given.
    """
    from .errors import setting_error

    try:  # pandas checks the format itself even when there are no values
        pd.to_datetime(pd.Series([], dtype=object), format=date_format, errors="coerce")
    except ValueError as exc:
        raise setting_error("date_format", f"the date format {date_format!r} is not a valid format ({exc})",
                            "write it with strftime codes, e.g. '%d/%m/%Y %H:%M' for 05/01/2018 10:00 "
                            "(see docs/loading.md, Dates), or leave it out to let the formats be "
                            "recognised unaided") from None


def _parse_words(words: list[str], fmt: str, name: str) -> pd.Series:
    """Parse ``words`` with one format (coercing failures to NaT), at any unit pandas picks."""
    values = pd.Series(np.array(words, dtype=object))
    if fmt == "ISO8601":
        return pd.to_datetime(values.map(_iso_text), format="ISO8601", errors="coerce", utc=True)
    if name in ("YYYY-MM", "YYYY-MM-DD"):
        values = values.str.replace("/", "-", regex=False)
    elif name == "DD/MM/YYYY":
        values = values.str.replace(r"[.-]", "/", regex=True)
    # an explicit format with %z or %Z: values in different zones are converted to UTC, not refused
    return pd.to_datetime(values, format=fmt, errors="coerce", utc="%z" in fmt or "%Z" in fmt)


def _in_range(parsed: pd.Series, span: DateRange) -> tuple[np.ndarray, np.ndarray]:
    """(start as datetime64[ns] with NaT outside ``span``, mask of values outside it)."""
    ok = parsed.notna().to_numpy()
    outside = np.zeros(len(parsed), dtype=bool)
    if ok.any():
        # compared at the unit pandas parsed to: a cast to ns first would wrap year 0 or 9999
        lo = np.datetime64(span.earliest.to_datetime64(), "s")
        hi = np.datetime64(span.latest.to_datetime64(), "s")
        secs = parsed[ok].to_numpy().astype("datetime64[s]")
        outside[ok] = (secs < lo) | (secs >= hi)
    start = np.full(len(parsed), np.datetime64("NaT"), dtype="datetime64[ns]")
    good = ok & ~outside
    start[good] = parsed[good].to_numpy().astype("datetime64[ns]")
    return start, outside


_CALENDAR = ("YYYY-MM", "YYYY-MM-DD")


def _calendar_dates(words: list[str], res: str, span: DateRange) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Months (``2018-01``) or days (``2018-01-31``, ``/`` allowed) read with numpy, not pandas.

    ``words`` have matched the format's pattern. Returns (start as ``datetime64[ns]``, NaT
    where the value is not a calendar date or outside ``span``; end of the period for the
    good starts only; mask of values outside ``span``). Costs a few microseconds per
    distinct value, against some 4 ms of fixed cost per call for ``pandas.to_datetime``
    (which mattered with hundreds of monthly files).
    """
    unit = "M" if res == "month" else "D"
    out = np.full(len(words), np.datetime64("NaT"), dtype=f"datetime64[{unit}]")
    for i, w in enumerate(words):
        parts = w.replace("/", "-").split("-")
        try:
            y, m = int(parts[0]), int(parts[1])
            d = int(parts[2]) if unit == "D" else 1
            _dt.date(y, m, d)  # refuses month 13, 30 February
        except (ValueError, IndexError):
            continue
        out[i] = np.datetime64(f"{y:04d}-{m:02d}" + (f"-{d:02d}" if unit == "D" else ""), unit)
    ok = ~np.isnat(out)
    secs = out.astype("datetime64[s]")  # years 1-9999 fit in seconds: nothing wraps
    lo = np.datetime64(span.earliest.to_datetime64(), "s")
    hi = np.datetime64(span.latest.to_datetime64(), "s")
    outside = ok & ((secs < lo) | (secs >= hi))
    good = ok & ~outside
    start = np.full(len(words), np.datetime64("NaT"), dtype="datetime64[ns]")
    start[good] = secs[good].astype("datetime64[ns]")
    end = (out[good] + 1).astype("datetime64[ns]")
    return start, end, outside


def parse_dates(values, dayfirst: bool = True, *, date_format: str | None = None,
                span: DateRange | None = None) -> ParsedDates:
    """Parse a column of dates; each distinct value is read by the first format it matches.

    Parameters
    ----------
    values : pyarrow Array/ChunkedArray or array-like
        Strings (any of the formats in ``_FORMATS``, mixed if need be) or native
        timestamps/dates.
    dayfirst : bool
        Read ``03/04/2018`` as 3 April (UK, the default) or, if False, as 4 March.
    date_format : str, optional
        An explicit strptime format (``%d.%m.%Y %H:%M``); then only that format is read.
        One that is not a valid format raises :class:`~rtm.errors.InputError` (setting
        ``date_format``).
    span : DateRange, optional
        Plausible dates (default :func:`plausible_range`); values outside are marked
        ``implausible`` and get NaT, never a wrapped date.

    Notes
    -----
    Parses the distinct values only and maps them back by dictionary codes, so a column of
    two million police.uk months costs about as much as twelve strings plus one take.
    Values with a UTC offset (``+01:00``, ``+00``, ``Z``) are converted to UTC; values
    without one are taken as they are.
    """
    if date_format:
        check_format(date_format)
    span = span or plausible_range()
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values)
    arr = one_chunk(arr)
    notes: list[str] = []
    if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
        res = "day" if pa.types.is_date(arr.type) else "datetime"
        if pa.types.is_date(arr.type):
            arr = arr.cast(pa.timestamp("s"))
        elif arr.type.tz is not None:
            notes.append("times carried a time zone; they are kept as UTC")
            arr = arr.cast(pa.timestamp(arr.type.unit))
        missing = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        # seconds first: the cast to nanoseconds happens only for values in range
        secs = pd.Series(arr.cast(pa.timestamp("s"), safe=False).to_numpy(zero_copy_only=False))
        start, outside = _in_range(secs, span)
        if arr.type.unit != "s":
            fine = pd.Series(arr.to_numpy(zero_copy_only=False))
            good = ~np.isnat(start)
            start[good] = fine[good].to_numpy().astype("datetime64[ns]")
        end = _period_end(pd.DatetimeIndex(start), res).to_numpy()
        return ParsedDates(start, end, res, missing, np.zeros_like(missing), "native", notes, outside & ~missing)

    enc = categories(arr)
    words = enc.dictionary.to_pylist()  # distinct trimmed values, none blank
    codes = enc.indices.fill_null(len(words)).to_numpy(zero_copy_only=False).astype(np.int64)
    n = len(words)
    u_start = np.full(n + 1, np.datetime64("NaT"), dtype="datetime64[ns]")  # last: blank
    u_end = u_start.copy()
    u_out = np.zeros(n + 1, dtype=bool)
    todo = np.ones(n, dtype=bool)
    counts: dict[tuple[str, str], int] = {}
    if date_format:
        plan = [(date_format, date_format, None, None)]
    else:
        plan = [(name, fmt if dayfirst else _MONTH_FIRST.get(fmt, fmt), res, _COMPILED[name])
                for name, fmt, res, _ in _FORMATS]
    year_lo, year_hi = span.earliest.year, span.latest.year
    for name, fmt, res, rx in plan:
        idx = np.flatnonzero(todo)
        if not idx.size:
            break
        if rx is not None:
            idx = idx[[bool(rx.match(words[i])) for i in idx]]
        if not idx.size:
            continue
        todo[idx] = False
        chosen = [words[i] for i in idx]
        # a year far outside the range is refused before pandas sees it (year 0 wraps)
        years = [_YEAR.search(w) for w in chosen]
        far = np.array([y is not None and not (year_lo - 1 <= int(y.group(1)) <= year_hi + 1) for y in years])
        u_out[idx[far]] = True
        idx, chosen = idx[~far], [w for w, f in zip(chosen, far) if not f]
        if not idx.size:
            continue
        if name in _CALENDAR and not date_format:
            start, end, outside = _calendar_dates(chosen, res, span)
            good = ~np.isnat(start)
        else:
            parsed = _to_utc_naive(_parse_words(chosen, fmt, name), chosen, notes)
            start, outside = _in_range(parsed, span)
            if res is None:  # an explicit format: the resolution it carries
                res = "datetime" if any(c in fmt for c in "HIMS") else ("day" if "%d" in fmt else "month")
            good = ~np.isnat(start)
            end = _period_end(pd.DatetimeIndex(start[good]), res).to_numpy()
        u_start[idx] = start
        u_out[idx] = outside
        u_end[idx[good]] = end
        counts[(name, res)] = counts.get((name, res), 0) + int(good.sum() + outside.sum())
    best = max(counts, key=counts.get) if counts else ("none", "unknown")
    if len([k for k, v in counts.items() if v]) > 1:
        notes.append("the date column mixes formats (" + ", ".join(f"{k[0]}: {v:,} values" for k, v in counts.items()
                                                                   if v) + ")")
    start, end = u_start[codes], u_end[codes]
    missing = codes == n
    implausible = u_out[codes]
    unparseable = np.isnat(start) & ~missing & ~implausible
    return ParsedDates(start, end, best[1], missing, unparseable, best[0], notes, implausible)


def label(start, resolution: str) -> str:
    """A human label for one period start: ``2018-01``, ``2018-01-31`` or a timestamp."""
    ts = pd.Timestamp(start)
    if pd.isna(ts):
        return ""
    return {"month": ts.strftime("%Y-%m"), "day": ts.strftime("%Y-%m-%d")}.get(
        resolution, ts.strftime("%Y-%m-%d %H:%M"))


def missing_months(starts: np.ndarray) -> list[str]:
    """Months (``YYYY-MM``) between the first and last of ``starts`` with no date at all.

    A gap in a monthly series (police.uk publishes one file a month) usually means a file
    was not downloaded; the report names each such month.
    """
    # distinct values first (a hash pass; a few dozen months in millions of rows), then sorted
    s = pd.unique(starts[~np.isnat(starts)])
    if not s.size:
        return []
    months = np.unique(np.asarray(s, dtype=starts.dtype).astype("datetime64[M]"))
    every = np.arange(months[0], months[-1] + 1)
    return [str(m) for m in np.setdiff1d(every, months)]
