"""Options several commands share, and the small helpers that turn them into library objects
(:class:`~rtm.weekly_job.StudyInputs`, :class:`~rtm.terrain_settings.RtmSettings`) or print
what the library reports."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import click

from ..bounds import MAX_METRES, MAX_REFIT_EVERY, MIN_METRES
from ..errors import setting_error


class Bounded(click.FloatRange):
    """A number option that must be finite and within ``[low, high]`` (``low`` excluded when
    ``low_open``): click's FloatRange lets ``nan`` and ``inf`` through, this refuses them, and
    values beyond any sensible size (``1e308`` metres), with the option, the range and an example.

    Parameters
    ----------
    low, high : float
        The accepted range, shown in the option's help (``[from 1 to 5,000 metres]``).
    unit : str
        What the number counts (``metres``, ``days``, ``MB``); empty for plain numbers.
    example : str
        A sensible value, shown in the fix.
    low_open, high_open : bool
        Exclude ``low`` (a size that must be above 0) or ``high`` (a share below 1).
    words : dict of str to object, optional
        Words accepted instead of a number (case-insensitive), each converted to its value
        (``{"silverman": "silverman"}``); the first is shown, the others are synonyms.

    ``convert`` returns a float (or a word's value); a bad value is a usage error (exit 2).
    """

    def __init__(self, low: float, high: float, unit: str = "", example: str = "", *, low_open: bool = False,
                 high_open: bool = False, words: dict | None = None):
        super().__init__(low, high, min_open=low_open, max_open=high_open)
        self.unit, self.example, self.words = unit, example, dict(words or {})

    def _describe_range(self) -> str:
        low = f"above {self.min:,.10g}" if self.min_open else f"from {self.min:,.10g}"
        high = f"below {self.max:,.10g}" if self.max_open else f"to {self.max:,.10g}"
        if self.min_open:
            high = f"and {'up ' if not self.max_open else ''}{high}"
        text = f"{low} {high}" + (f" {self.unit}" if self.unit else "")
        return text + "".join(f" or '{w}'" for w in list(self.words)[:1])  # the first word; others are synonyms

    def convert(self, value, param, ctx):
        if value is None:
            return None
        if isinstance(value, str) and value.strip().lower() in self.words:
            return self.words[value.strip().lower()]
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
        below = number is not None and (number <= self.min if self.min_open else number < self.min)
        above = number is not None and (number >= self.max if self.max_open else number > self.max)
        if number is None or not math.isfinite(number) or below or above:
            fix = f" (e.g. {self.example})" if self.example else ""
            self.fail(f"'{value}' is not a number {self._describe_range()}; give one in that range{fix}",
                      param, ctx)
        return number


#: Cell, spot and block sizes (:data:`rtm.bounds.MIN_METRES` to :data:`rtm.bounds.MAX_METRES`).
SIZE = Bounded(MIN_METRES, MAX_METRES, "metres", "150")
#: A refit interval in periods.
REFIT_EVERY = click.IntRange(1, MAX_REFIT_EVERY)
#: Reaches that must be above 0: bandwidths, radii, distances that make an area (up to 100 km).
REACH = Bounded(0, 100_000, "metres", "400", low_open=True)
#: Distances that may be 0: buffers, tolerances, distance bands (up to 100 km).
DISTANCE = Bounded(0, 100_000, "metres", "300")
#: A harm surface bandwidth in metres, or the word 'silverman' (a data-driven rule).
BANDWIDTH = Bounded(0, 100_000, "metres", "165", low_open=True, words={"silverman": "silverman"})
#: A half-life: from 1 day to 100 years (shorter ones decay a month-old incident to nothing).
HALF_LIFE = Bounded(1, 36_500, "days", "365")
#: Minutes of patrol records: above 0 to a day.
MINUTES = Bounded(0, 1440, "minutes", "5", low_open=True)
#: A share from 0 to 1.
SHARE = Bounded(0, 1, "", "0.5")
#: A percentage above 0, up to 100.
PERCENT = Bounded(0, 100, "percent", "5", low_open=True)
#: Memory and file size limits: above 0 to 1,048,576 MB (1 TB).
MEGABYTES = Bounded(0, 2**20, "MB", "1024", low_open=True)


def stack(options):
    """One decorator applying click options in the order listed."""

    def apply(fn):
        for o in reversed(options):
            fn = o(fn)
        return fn

    return apply


def area_options(required: bool):
    """--area, --area-field, --area-select and --area-tolerance."""
    return stack([
        click.option("--area", "--areas", "area", required=required, type=click.Path(),
                     help="Boundary polygons of the study area (any vector format)."),
        click.option("--area-field", help="Field naming each polygon's district. LSOA-style names "
                     "('Southend-on-Sea 003A') are grouped by the text before the code."),
        click.option("--area-select", multiple=True, help="Keep only this district (repeat for several)."),
        click.option("--area-tolerance", type=DISTANCE, default=0.0, show_default=True,
                     metavar="METRES", help="Keep points up to this far outside the area (generalised "
                     "boundaries cut off coasts and edge streets) and give them the nearest district."),
    ])


def weight_options(default: str, help_text: str):
    """--weights, --unknown and --default-weight."""
    return stack([
        click.option("--weights", default=default, show_default=True, help=help_text),
        click.option("--unknown", type=click.Choice(["reject", "zero", "default"]), default="reject",
                     show_default=True, help="What to do with offence types the weights table does not list."),
        click.option("--default-weight", type=Bounded(0, 1e9, "days", "10"),  # 1e9: rtm.weights.MAX_WEIGHT
                     help="Weight for unknown types with --unknown default."),
    ])


def mapping_options(fn):
    """The column options of generic tables (--date-col, --lon-col, ...) and --crs."""
    return stack([
        click.option("--crs", help="CRS of the input coordinates, e.g. EPSG:27700. Inferred from the "
                     "values when omitted (longitude/latitude or British National Grid)."),
        click.option("--working-crs", help="Metric CRS for the analysis. Default: EPSG:27700 in Great "
                     "Britain, the local UTM zone elsewhere."),
        click.option("--id-col", help="Column with the incident id (generic tables)."),
        click.option("--date-col", help="Column with the date or date-time (generic tables)."),
        click.option("--lon-col", help="Column with longitude (WGS84)."),
        click.option("--lat-col", help="Column with latitude (WGS84)."),
        click.option("--x-col", help="Column with x / easting (give --crs or let it be inferred)."),
        click.option("--y-col", help="Column with y / northing."),
        click.option("--offence-col", help="Column with the offence type."),
        click.option("--offence-value", help="One offence type for every row, when the table has none "
                     "(e.g. 'Aggravated assault')."),
        click.option("--weight-col", help="Column with a harm weight per row (overrides the table)."),
        click.option("--month-first", is_flag=True, help="Read dd/dd/yyyy dates as month/day (US) "
                     "instead of day/month (UK)."),
        click.option("--date-format", help="Explicit format of the date column, e.g. '%d.%m.%Y %H:%M' "
                     "(Python strptime codes), for formats not recognised unaided."),
        click.option("--max-file-mb", type=MEGABYTES, default=1024, show_default=True,
                     help="Refuse an input file larger than this once decompressed (load setting max_file_mb)."),
        click.option("--max-rows", type=click.IntRange(min=1), default=20_000_000, show_default=True,
                     help="Refuse inputs with more rows than this (load setting max_rows)."),
    ])(fn)


def limits(kw):
    """The :class:`~rtm.sources.LoadLimits` of --max-file-mb and --max-rows."""
    from ..sources import LoadLimits

    return LoadLimits(max_file_mb=kw["max_file_mb"], max_rows=kw["max_rows"])


def factor_options(layer_help: str):
    """--catalogue, --factors, --layer and --operationalisation."""
    return stack([
        click.option("--catalogue", type=click.Path(), default="layers", show_default=True,
                     help="The attractor catalogue folder (one TOML file per attractor)."),
        click.option("--factors", multiple=True, metavar="NAME[,NAME]",
                     help="Catalogue entries to use as risk factors, loaded from their default files with "
                     "their filter and treatment (repeatable)."),
        click.option("--layer", "layer_items", multiple=True, metavar="NAME=FILE[:FILTER]", help=layer_help),
        click.option("--operationalisation", "treatments", multiple=True, metavar="NAME=OP",
                     help="Treat factor NAME as proximity, density, both or auto (repeatable; default: the "
                     "catalogue's, else auto)."),
    ])


def period_of(week, month, week_start: str = "monday"):
    """The :class:`~rtm.periods.Period` of --week or --month (exactly one of them)."""
    from ..periods import month_period, week_period
    from .group import option_error

    if bool(week) == bool(month):
        raise option_error("--week / --month", "give exactly one of --week and --month",
                           "e.g. --week 2019-03-04 or --month 2019-01")
    return week_period(week, week_start) if week else month_period(month)


def column_map(kw):
    """The :class:`~rtm.layouts.ColumnMap` of the column options, or None when none is given."""
    from ..layouts import ColumnMap

    roles = dict(id=kw["id_col"], date=kw["date_col"], lon=kw["lon_col"], lat=kw["lat_col"], x=kw["x_col"],
                 y=kw["y_col"], offence=kw["offence_col"], weight=kw["weight_col"],
                 offence_value=kw["offence_value"], date_format=kw["date_format"])
    return ColumnMap(**roles) if any(roles.values()) else None


def study_inputs(incidents, area, area_field, area_select, area_tolerance, hw, kw):
    """The :class:`~rtm.weekly_job.StudyInputs` of the shared options."""
    from ..weekly_job import StudyInputs

    return StudyInputs(tuple(incidents), area, hw, area_field, tuple(area_select), area_tolerance, column_map(kw),
                       kw["crs"], kw["working_crs"], not kw["month_first"], limits(kw))


def pairs(items, setting: str) -> dict[str, str]:
    """``NAME=VALUE`` items as a dict; InputError naming ``setting`` when one is malformed."""
    out = {}
    for item in items:
        k, eq, v = item.partition("=")
        if not eq or not k.strip() or not v.strip():
            raise setting_error(setting, f"'{item}' is not NAME=VALUE", "write e.g. liquor_retail=density")
        out[k.strip()] = v.strip()
    return out


def count_line(what: str, report) -> str:
    """``Incidents: 1,234 in, 1,200 used, rejected: ...`` of a load report."""
    why = ", ".join(f"{r.replace('_', ' ')} {k:,}" for r, k in report.rejected.items())
    return f"{what}: {report.rows_in:,} in, {report.rows_used:,} used" + (f", rejected: {why}" if why else "")


class Progress:
    """The library's ``progress(done, total, what)`` shown on stderr: a tqdm bar while files
    are read (``what`` a file name), a line per step otherwise (``what`` a sentence)."""

    def __init__(self, desc: str = "reading"):
        self.desc, self.bar = desc, None

    def __call__(self, done: int, total: int, what: str) -> None:
        if " " in what and not Path(what).suffix:  # a step of a model fit or a job, not a file
            self._close()
            click.echo(f"  {what} ...", err=True)
            return
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.desc, unit="file", file=sys.stderr, disable=None, leave=False)
        self.bar.update(1)
        if done >= total:
            self._close()

    def _close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
