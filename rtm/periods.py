"""List periods: the week (or month) a harm-spot list is for, and the windows before it.

A list for a period uses only incidents whose whole recorded period ends at or before the
period's first moment, so nothing that happened during the period (or could have) shapes it.
Periods and windows are half-open, ``[start, end)`` (:func:`inside`): an incident stamped
exactly at 00:00 of a period's first day is that period's, never also the one before.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .errors import InputError, setting_error

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
KINDS = ("week", "month")


@dataclass(frozen=True)
class Period:
    """A half-open interval ``[start, end)`` of local time that a list is made for.

    Attributes
    ----------
    kind : {"week", "month"}
    start, end : pandas.Timestamp
        Midnight at the first day, midnight after the last day.
    """

    kind: str
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def key(self) -> str:
        """Sortable text naming the period: ``2019-01-07`` for a week, ``2019-01`` for a month."""
        return f"{self.start:%Y-%m-%d}" if self.kind == "week" else f"{self.start:%Y-%m}"

    @property
    def label(self) -> str:
        """Readable name, e.g. ``week Mon 7 Jan 2019 to Sun 13 Jan 2019`` or ``month January 2019``."""
        if self.kind == "month":
            return f"month {self.start:%B %Y}"
        last = self.end - pd.Timedelta(days=1)
        return f"week {self.start:%a} {self.start.day} {self.start:%b %Y} to {last:%a} {last.day} {last:%b %Y}"

    def previous(self) -> "Period":
        """The period just before this one, of the same kind."""
        if self.kind == "month":
            return month_period(self.start - pd.DateOffset(months=1))
        return Period("week", self.start - pd.Timedelta(days=7), self.start)

    def next(self) -> "Period":
        """The period just after this one, of the same kind."""
        if self.kind == "month":
            return month_period(self.end)
        return Period("week", self.end, self.end + pd.Timedelta(days=7))

    def window(self, length: str) -> tuple[pd.Timestamp, pd.Timestamp]:
        """``[from, to)`` of the given length ending where this period starts.

        ``length`` is ``"recent"`` (4 weeks, or 1 month for monthly lists) or ``"year"``
        (52 weeks, or 12 months).
        """
        if length not in ("recent", "year"):
            raise ValueError(f"length must be 'recent' or 'year', not {length!r}")
        if self.kind == "month":
            months = 1 if length == "recent" else 12
            return self.start - pd.DateOffset(months=months), self.start
        weeks = 4 if length == "recent" else 52
        return self.start - pd.Timedelta(weeks=weeks), self.start

    def window_text(self, length: str) -> str:
        """``4 weeks``, ``52 weeks``, ``1 month`` or ``12 months``."""
        if self.kind == "month":
            return "1 month" if length == "recent" else "12 months"
        return "4 weeks" if length == "recent" else "52 weeks"


def inside(frame: pd.DataFrame, start=None, end=None) -> pd.Series:
    """Which incidents of ``frame`` lie wholly inside the half-open window ``[start, end)``.

    An incident is the interval ``[date_start, date_end)`` at its data's resolution, or an
    instant when ``date_end == date_start`` (a timestamp). It is inside when it starts at
    or after ``start``, starts before ``end`` and ends by ``end``: an instant stamped
    exactly at ``end`` (midnight of the next period's first day) belongs to the next
    period, never to both. ``None`` leaves that side open. Returns a boolean Series
    aligned with ``frame``; one vectorised pass.
    """
    ds, de = frame["date_start"], frame["date_end"]
    keep = pd.Series(True, index=frame.index)
    if start is not None:
        keep &= ds >= pd.Timestamp(start)
    if end is not None:
        end = pd.Timestamp(end)
        keep &= (ds < end) & (de <= end)
    return keep


def history(frame: pd.DataFrame, period: Period, length: str = "year") -> pd.DataFrame:
    """The incidents of ``frame`` wholly inside the window of ``length`` before ``period``
    (:meth:`Period.window`, half-open: :func:`inside`)."""
    start, end = period.window(length)
    return frame.loc[inside(frame, start, end)]


def during(frame: pd.DataFrame, period: Period) -> pd.DataFrame:
    """The incidents of ``frame`` wholly inside ``period`` ``[start, end)`` (:func:`inside`)."""
    return frame.loc[inside(frame, period.start, period.end)]


#: years a period may fall in: lists, windows of history and labels stay inside the range
#: of nanosecond times (1678-2261) with room for three years of history before them
PERIOD_YEARS = (1900, 2199)


def _in_years(t: pd.Timestamp, text, what: str) -> pd.Timestamp:
    lo, hi = PERIOD_YEARS
    if not lo <= t.year <= hi:
        raise setting_error(what, f"'{text}' is outside the years {lo} to {hi} that periods can fall in",
                            f"give the {what} of the list you want, e.g. "
                            f"{'2019-01' if what == 'month' else '2019-01-07'}")
    return t


def _date(text, what: str) -> pd.Timestamp:
    try:
        t = pd.Timestamp(text)
    except (ValueError, TypeError):  # pandas' OutOfBoundsDatetime is a ValueError
        t = pd.NaT
    if t is pd.NaT or t.tzinfo is not None:
        example = "YYYY-MM, e.g. 2019-01" if what == "month" else "YYYY-MM-DD, e.g. 2019-01-07"
        raise setting_error(what, f"'{text}' is not a date", f"give the date as {example}")
    return t.normalize()


def week_period(day, week_start: str = "monday") -> Period:
    """The week holding ``day`` (any date in it), starting on ``week_start``.

    Raises
    ------
    InputError
        ``day`` is not a date or ``week_start`` is not a weekday name.
    """
    if week_start not in WEEKDAYS:
        raise setting_error("week_start", f"'{week_start}' is not a day of the week",
                            f"use one of {', '.join(WEEKDAYS)}")
    t = _in_years(_date(day, "week"), day, "week")
    back = (t.day_of_week - WEEKDAYS.index(week_start)) % 7
    start = t - pd.Timedelta(days=back)
    return Period("week", start, start + pd.Timedelta(days=7))


def month_period(month) -> Period:
    """The calendar month ``YYYY-MM`` (or holding a date)."""
    given = month
    if isinstance(month, str) and len(month.strip()) == 7:
        month = month.strip() + "-01"
    try:
        t = _date(month, "month")
    except InputError:
        raise setting_error("month", f"'{given}' is not a month", "give the month as YYYY-MM, e.g. 2019-01") from None
    start = _in_years(t, given, "month").replace(day=1)
    return Period("month", start, start + pd.DateOffset(months=1))


def periods_between(first: Period, last_day) -> list[Period]:
    """``first`` and every following period of its kind that starts on or before ``last_day``."""
    end = pd.Timestamp(last_day)
    out, p = [], first
    while p.start <= end:
        out.append(p)
        p = p.next()
    return out
