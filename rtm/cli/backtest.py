"""``rtm backtest``: score the harm-spot rankings against what happened, period by period."""

from __future__ import annotations

from dataclasses import replace

import click

from ..errors import output_folder
from .group import CONTEXT, friendly, option_error
from .options import (BANDWIDTH, REACH, REFIT_EVERY, SHARE, SIZE, Bounded, Progress, area_options, count_line,
                      factor_options, mapping_options, pairs, study_inputs, weight_options)


def _list(text: str, option: str, convert=str) -> tuple:
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    try:
        return tuple(convert(t) for t in items)
    except ValueError:
        raise option_error(option, f"'{text}' is not a comma-separated list of numbers",
                           f"write e.g. {option} 1,2.6,5") from None


_FIRST = [True]


@click.command(context_settings=CONTEXT)
@click.option("--incidents", "incidents", multiple=True, required=True, type=click.Path(), metavar="PATH",
              help="Incident file, folder or zip (repeat for several), read as by 'rtm validate'.")
@area_options(required=True)
@click.option("--from", "date_from", required=True, metavar="YYYY-MM-DD", help="First period (any day in it).")
@click.option("--to", "date_to", required=True, metavar="YYYY-MM-DD", help="Last period starts on or before this day.")
@click.option("--period", type=click.Choice(["week", "month"]), default="week", show_default=True,
              help="Period length; month-only data (police.uk) needs 'month'.")
@click.option("--week-start", default="monday", show_default=True, help="First day of the week.")
@click.option("--methods", default=None, metavar="M[,M]",
              help="Methods to compare: naive, kde, rtm, combined, phs, random, and the ceilings oracle and lopo "
              "(default all; without layers all but rtm and combined).")
@click.option("--area-shares", default="1,2.6,5", show_default=True, metavar="PCT[,PCT]",
              help="List sizes as percentages of each district's area.")
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True,
              help="Also score the top N cells of each district (0: not).")
@weight_options("cchi", "Harm weights: 'cchi' (Cambridge Crime Harm Index defaults), 'count' or a weights CSV.")
@factor_options("A risk factor from a file (repeatable). Without --factors or --layer there is no risk "
                "terrain.")
@click.option("--cell-size", type=SIZE, default=50.0, show_default=True,
              metavar="METRES", help="Cell size of the risk terrain model.")
@click.option("--block-length", type=SIZE, default=100.0, show_default=True,
              metavar="METRES")
@click.option("--bands", type=click.IntRange(1, 20), default=3, show_default=True)
@click.option("--refit-every", type=REFIT_EVERY, metavar="N",
              help="Refit the risk terrain every N periods (default 13 weeks or 3 months, as 'rtm weekly').")
@click.option("--spot-size", type=SIZE, default=150.0, show_default=True,
              metavar="METRES", help="Harm-spot cell size.")
@click.option("--risk-weight", type=SHARE, help="Risk weight of 'combined' (default 0.1).")
@click.option("--bandwidth", type=BANDWIDTH, metavar="METRES|silverman",
              help="Harm surface bandwidth in metres (default 1.1 x the spot size: 165 m for 150 m "
              "spots), or 'silverman' for Silverman's rule on the last year's incidents.")
@click.option("--kernel", type=click.Choice(["quartic", "gaussian"]), default="quartic", show_default=True)
@click.option("--half-life", "half_life", metavar="DAYS|none",
              type=Bounded(1, 36_500, "days", "28", words={"none": "none", "off": "none", "0": "none"}),
              help="Harm half-life in days (default 365; 'none': no decay).")
@click.option("--phs-radius", type=REACH, default=400.0, show_default=True, metavar="METRES",
              help="Reach of prospective hotspotting.")
@click.option("--phs-window", type=click.IntRange(1, 520), metavar="PERIODS",
              help="Periods of history prospective hotspotting uses (default 8 weeks or 2 months).")
@click.option("--history-months", type=click.IntRange(1, 120), metavar="MONTHS",
              help="Months of history naive, kde and combined rank from before each period (default 12; "
              "weeks take 52 x MONTHS / 12 weeks). Reach over a gap in the data with more.")
@click.option("--rbo-p", type=Bounded(0, 1, "", "0.9", low_open=True, high_open=True), default=0.9,
              show_default=True, help="Persistence of the rank-biased overlap.")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Output folder for backtest.csv, summary.csv, curves.csv and the plots.")
@mapping_options
@friendly
def backtest(incidents, area, area_field, area_select, area_tolerance, date_from, date_to, period, week_start,
             methods, area_shares, top, weights, unknown, default_weight, catalogue, factors, layer_items, treatments,
             cell_size, block_length, bands, refit_every, spot_size, risk_weight, bandwidth, kernel, half_life,
             phs_radius, phs_window, history_months, rbo_p, out, **kw):
    """Back-test the rankings: for every period from --from to --to, rank the cells from
    data before it and score the ranking against what happened in it.

    Methods: naive (harm in the year before), kde (harm surface), rtm (risk terrain),
    combined (the list's score), phs (prospective hotspotting), random (its expectation)
    and oracle (the period's own best cells). Measures per district and for all: hit
    rate, harm capture, PAI and PEI on counts and on harm, and the share of cells kept and
    the rank-biased overlap between consecutive lists. Two ceilings that see what they
    score, not forecasts: oracle (the period's own best cells) and lopo (each period
    ranked by the other periods of its year). See docs/backtest.md.

    \b
    OUT gets:
      backtest.csv   period, district, method, selection, area_share, n_spots, metric, value
      summary.csv    mean, sd, median, quartiles and number of periods per method and metric
      curves.csv     harm capture of the pooled lists against area share, per period
      notes.txt      periods and methods not scored and why, the other notes, and times
      capture_curve.png, capture_by_period.png, pei_by_period.png
    Exit status: 0 when written, 2 when an input or setting cannot be used.

    \b
    Examples (the bundled samples, from the project folder):
      rtm backtest --incidents sample_geo/chicago/assaults_2016_2019.csv --offence-value "Aggravated assault" \\
          --weights count --area sample_geo/chicago/districts.geojson --area-field District \\
          --factors liquor_retail,abandoned_buildings --from 2018-01-01 --to 2018-12-31 --out bt_chicago
      rtm backtest --incidents sample_geo/southend/crime --area sample_geo/southend/southend_lsoa2011.geojson \\
          --area-field LSOA11NM --area-tolerance 150 --period month --from 2018-04 --to 2019-02 --out bt_southend
    """
    import time

    from ..backtest import METHODS, TERRAIN_METHODS, BacktestSettings, check_inputs, run_backtest
    from ..catalogue import plan_factors
    from ..periods import month_period, periods_between, week_period
    from ..ranking import ScoreSettings
    from ..terrain_settings import RtmSettings
    from ..weekly_job import TerrainPlan, load_study, terrain_source
    from ..weights import HarmWeights

    from . import STARTED

    # the first command of a process counts from loading the software; later ones (several
    # commands in one process, as in tests) from their own start
    started = STARTED if _FIRST.pop() else time.perf_counter()
    _FIRST.append(False)
    output_folder(out, create=False)  # before any work: a folder that cannot be written is said at once
    use_layers = bool(factors or layer_items)
    left_out = []
    if methods is None:
        chosen = METHODS if use_layers else tuple(m for m in METHODS if m not in TERRAIN_METHODS)
        if not use_layers:
            left_out.append("The methods rtm and combined are left out: they need a risk terrain (give --factors "
                            "or --layer).")
    else:
        chosen = _list(methods, "--methods")
    shares = tuple(v / 100 for v in _list(area_shares, "--area-shares", float))
    hl = half_life  # days, 'none' (no decay) or None (not given: the default)
    scoring = ScoreSettings.from_given(risk_weight=risk_weight, bandwidth_m=bandwidth, kernel=kernel,
                                       half_life_days=None if hl == "none" else hl)
    if hl == "none":  # no decay; None is also "not given", so it is set here
        scoring = replace(scoring, half_life_days=None)
    settings = BacktestSettings(methods=chosen, area_shares=shares, top_n=top or None, spot_size=spot_size,
                                area_tolerance_m=area_tolerance, scoring=scoring, phs_radius_m=phs_radius,
                                phs_window=phs_window, history_months=history_months, rbo_p=rbo_p)
    first = week_period(date_from, week_start) if period == "week" else month_period(date_from)
    last = week_period(date_to, week_start).start if period == "week" else month_period(date_to).start
    if last < first.start:
        raise option_error("--to", f"--to ({date_to}) is before --from ({date_from})", "give --to after --from")
    periods = periods_between(first, last)
    treat = pairs(treatments, "operationalisations")
    plan = plan_factors(catalogue, factors, layer_items, treat) if use_layers else []

    hw = HarmWeights.from_name(weights, unknown, default_weight)
    areas, inc = load_study(study_inputs(incidents, area, area_field, area_select, area_tolerance, hw, kw),
                            Progress("reading"))
    click.echo(count_line("Incidents", inc.report) + f" ({inc.report.date_min} to {inc.report.date_max}, "
               f"resolution {inc.resolution}, weights {hw.scheme})")
    check_inputs(inc, periods, chosen, True if use_layers else None)  # before the layers are loaded
    store, layers = terrain_source(TerrainPlan(tuple(plan), RtmSettings(cell_size, block_length, bands,
                                                                        operationalisations=treat),
                                               refit_every=refit_every), inc, areas, Progress())
    for name, layer in layers.items():
        click.echo(count_line(f"Layer {name}", layer.report))

    bar = {}

    def progress(done, total, key):
        from tqdm import tqdm

        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, desc="back-test", unit=period, disable=None, leave=False)
        bar["bar"].n = done
        bar["bar"].set_postfix_str(key)
        bar["bar"].refresh()

    result = run_backtest(inc, areas, periods, terrain_for=store, settings=settings, progress=progress)
    if "bar" in bar:
        bar["bar"].close()
    if not result.periods:
        raise _nothing_scored(result, period, date_from, date_to, inc, settings)
    result.notes[:0] = left_out
    t = time.perf_counter()
    paths = result.write(out)
    result.seconds["writing the outputs"] = time.perf_counter() - t
    result.seconds["whole command"] = time.perf_counter() - started
    click.echo(f"\nBack-test of {len(result.periods)} {period}(s), {result.periods[0]} to {result.periods[-1]}, "
               f"{len(areas.names)} district(s), history {settings.history_text(period)}; mean over periods, "
               "all districts:")
    for line in summary_lines(result):
        click.echo(line)
    for note in result.notes:
        click.echo(f"Note: {note}")
    t = result.seconds
    rest = t["whole command"] - t["total"] - t["writing the outputs"]
    click.echo(f"Time: {t['whole command']:.1f} s since the command line was loaded (back-test {t['total']:.1f} s, of which "
               f"terrain fits {t.get('terrain fits (and resampling)', 0.0):.1f} s; writing the outputs "
               f"{t['writing the outputs']:.1f} s; loading the software and reading the inputs {rest:.1f} s)")
    click.echo("Wrote:")
    for p in paths.values():
        click.echo(f"  {p}")


def summary_lines(result) -> list[str]:
    """The console table (:func:`rtm.backtest.summary_table`, every list size) as plain text."""
    from ..backtest import summary_table

    t = summary_table(result)
    lines = [f"  {'list':<12}{'method':<10}{'harm captured':>15}{'PAI (harm)':>12}{'PAI (counts)':>14}"
             f"{'PEI (harm)':>12}{'periods':>9}"]
    for r in t.itertuples(index=False):
        lines.append(f"  {r.list:<12}{r.method:<10}{100 * r.harm_captured:>14.1f}%{r.pai_harm:>12.2f}"
                     f"{r.pai_counts:>14.2f}{100 * r.pei_harm:>11.1f}%{r.periods:>9}"
                     + (f"  {r.what}" if r.what else ""))
    return lines


def _nothing_scored(result, period, date_from, date_to, inc, settings):
    """The error when no period could be scored, saying why for each kind of skip."""
    gaps = [k for k in result.skipped if k.reason == "no history"]
    empty = [k for k in result.skipped if k.reason == "no target"]
    if gaps:
        k = gaps[0]
        months = k.months_needed
        what = (f"the {k.period.label} has {k.incidents:,} incidents, but none is recorded in the "
                f"{settings.history_text(period)} before it" +
                (f" (the latest earlier incident ends {k.latest_before:%Y-%m-%d}: the data has a gap)"
                 if k.latest_before is not None else " (the data starts there)"))
        if len(result.skipped) > 1:
            what += f"; {len(result.skipped) - 1} more {period}(s) skipped as well"
        fix = (f"give --history-months {months} (or more) to reach back over the gap, or choose later periods"
               if months is not None else
               f"choose periods with a year of data before them (the data runs {inc.report.date_min} to "
               f"{inc.report.date_max})")
        return option_error("--from / --to", what, fix)
    what = f"no {period} from {date_from} to {date_to} has incidents in the study area to score"
    if empty and any(k.incidents for k in empty):
        what += f" ({sum(k.incidents for k in empty):,} incidents in them lie outside it)"
    return option_error("--from / --to", what,
                        f"choose periods inside the data ({inc.report.date_min} to {inc.report.date_max})")
