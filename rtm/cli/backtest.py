"""``rtm backtest``: score the harm-spot rankings against what happened, period by period."""

from __future__ import annotations

from dataclasses import replace

import click

from .group import CONTEXT, friendly, option_error
from .options import (BANDWIDTH, Progress, area_options, count_line, factor_options, mapping_options, pairs,
                      study_inputs, weight_options)


def _list(text: str, option: str, convert=str) -> tuple:
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    try:
        return tuple(convert(t) for t in items)
    except ValueError:
        raise option_error(option, f"'{text}' is not a comma-separated list of numbers",
                           f"write e.g. {option} 1,2.6,5") from None


def _half_life(text):
    if text is None:
        return None
    if str(text).strip().lower() in ("none", "off", "0"):
        return "none"
    try:
        v = float(text)
    except ValueError:
        raise option_error("--half-life", f"'{text}' is not a number of days",
                           "give e.g. 28, or 'none'") from None
    if not v > 0:
        raise option_error("--half-life", f"'{text}' is not a positive number of days",
                           "give e.g. 28, or 'none'")
    return v


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
              help="Methods to compare: naive, kde, rtm, combined, phs, random, oracle (default all; without "
              "layers all but rtm and combined).")
@click.option("--area-shares", default="1,2.6,5", show_default=True, metavar="PCT[,PCT]",
              help="List sizes as percentages of each district's area.")
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True,
              help="Also score the top N cells of each district (0: not).")
@weight_options("cchi", "Harm weights: 'cchi' (Cambridge Crime Harm Index defaults), 'count' or a weights CSV.")
@factor_options("A risk factor from a file (repeatable). Without --factors or --layer there is no risk "
                "terrain.")
@click.option("--cell-size", type=click.FloatRange(min=0, min_open=True), default=50.0, show_default=True,
              metavar="METRES", help="Cell size of the risk terrain model.")
@click.option("--block-length", type=click.FloatRange(min=0, min_open=True), default=100.0, show_default=True,
              metavar="METRES")
@click.option("--bands", type=click.IntRange(1, 20), default=3, show_default=True)
@click.option("--refit-every", type=click.IntRange(min=1), metavar="N",
              help="Refit the risk terrain every N periods (default 13 weeks or 3 months, as 'rtm weekly').")
@click.option("--spot-size", type=click.FloatRange(min=0, min_open=True), default=150.0, show_default=True,
              metavar="METRES", help="Harm-spot cell size.")
@click.option("--risk-weight", type=click.FloatRange(0, 1), help="Risk weight of 'combined' (default 0.1).")
@click.option("--bandwidth", type=BANDWIDTH, metavar="METRES|silverman",
              help="Harm surface bandwidth in metres (default 1.1 x the spot size: 165 m for 150 m "
              "spots), or 'silverman' for Silverman's rule on the last year's incidents.")
@click.option("--kernel", type=click.Choice(["quartic", "gaussian"]), default="quartic", show_default=True)
@click.option("--half-life", "half_life", metavar="DAYS|none", help="Harm half-life in days (default 365; "
              "'none': no decay).")
@click.option("--phs-radius", type=float, default=400.0, show_default=True, metavar="METRES",
              help="Reach of prospective hotspotting.")
@click.option("--phs-window", type=int, metavar="PERIODS",
              help="Periods of history prospective hotspotting uses (default 8 weeks or 2 months).")
@click.option("--rbo-p", type=float, default=0.9, show_default=True, help="Persistence of the rank-biased overlap.")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Output folder for backtest.csv, summary.csv, curves.csv and the plots.")
@mapping_options
@friendly
def backtest(incidents, area, area_field, area_select, area_tolerance, date_from, date_to, period, week_start,
             methods, area_shares, top, weights, unknown, default_weight, catalogue, factors, layer_items, treatments,
             cell_size, block_length, bands, refit_every, spot_size, risk_weight, bandwidth, kernel, half_life,
             phs_radius, phs_window, rbo_p, out, **kw):
    """Back-test the rankings: for every period from --from to --to, rank the cells from
    data before it and score the ranking against what happened in it.

    Methods: naive (harm in the year before), kde (harm surface), rtm (risk terrain),
    combined (the list's score), phs (prospective hotspotting), random (its expectation)
    and oracle (the period's own best cells). Measures per district and for all: hit
    rate, harm capture, PAI, PEI (counts and harm), and the share of cells kept and the
    rank-biased overlap between consecutive lists. See docs/backtest.md.

    \b
    OUT gets:
      backtest.csv   period, district, method, selection, area_share, n_spots, metric, value
      summary.csv    mean, sd, median, quartiles and number of periods per method and metric
      curves.csv     harm capture of the pooled lists against area share, per period
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
    from ..backtest import METHODS, TERRAIN_METHODS, BacktestSettings, check_inputs, run_backtest
    from ..catalogue import plan_factors
    from ..periods import month_period, periods_between, week_period
    from ..ranking import ScoreSettings
    from ..terrain_settings import RtmSettings
    from ..weekly_job import TerrainPlan, load_study, terrain_source
    from ..weights import HarmWeights

    use_layers = bool(factors or layer_items)
    if methods is None:
        chosen = METHODS if use_layers else tuple(m for m in METHODS if m not in TERRAIN_METHODS)
    else:
        chosen = _list(methods, "--methods")
    shares = tuple(v / 100 for v in _list(area_shares, "--area-shares", float))
    hl = _half_life(half_life)
    scoring = ScoreSettings.from_given(risk_weight=risk_weight, bandwidth_m=bandwidth, kernel=kernel,
                                       half_life_days=None if hl == "none" else hl)
    if hl == "none":  # no decay; None is also "not given", so it is set here
        scoring = replace(scoring, half_life_days=None)
    settings = BacktestSettings(methods=chosen, area_shares=shares, top_n=top or None, spot_size=spot_size,
                                area_tolerance_m=area_tolerance, scoring=scoring, phs_radius_m=phs_radius,
                                phs_window=phs_window, rbo_p=rbo_p)
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
        raise option_error("--from / --to", f"no {period} from {date_from} to {date_to} has incidents to score",
                           f"choose periods inside the data ({inc.report.date_min} to {inc.report.date_max})")
    paths = result.write(out)
    click.echo(f"\nBack-test of {len(result.periods)} {period}(s), {result.periods[0]} to {result.periods[-1]}, "
               f"{len(areas.names)} district(s); mean over periods, all districts:")
    s = result.summary()
    s = s[(s["district"] == "all") & s["metric"].isin(["harm_capture", "pai", "pei_harm"])]
    table = s.pivot_table(index=["selection", "method"], columns="metric", values="mean", sort=False)
    click.echo(f"  {'list':<12}{'method':<10}{'harm captured':>15}{'PAI':>8}{'PEI (harm)':>12}")
    for (sel, m), r in table.iterrows():
        click.echo(f"  {sel:<12}{m:<10}{100 * r.get('harm_capture', float('nan')):>14.1f}%"
                   f"{r.get('pai', float('nan')):>8.2f}{100 * r.get('pei_harm', float('nan')):>11.1f}%")
    for note in result.notes:
        click.echo(f"Note: {note}")
    click.echo(f"Time: {result.seconds['total']:.1f} s")
    click.echo("Wrote:")
    for p in paths.values():
        click.echo(f"  {p}")
