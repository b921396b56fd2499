"""``rtm national``: every force's monthly (or weekly) list, force by force, on this machine
or as tasks on Dask (:func:`rtm.national.national_list`); with --backtest the national
back-test (:func:`rtm.national_backtest.national_backtest`), with --tune every force's
tuning (:func:`rtm.national_tune.national_tune`)."""

from __future__ import annotations

import click

from ..errors import output_file
from .group import CONTEXT, friendly, option_error
from .options import MEGABYTES, REACH, SIZE, Progress, pairs, period_of


@click.command(context_settings=CONTEXT)
@click.option("--data", "paths", multiple=True, required=True, type=click.Path(), metavar="PATH",
              help="A folder of police.uk street files (YYYY-MM-<force>-street.csv, .xz allowed) or a file; "
              "repeatable. Files are grouped into forces by name.")
@click.option("--area", "areas", multiple=True, metavar="FORCE=FILE",
              help="Boundary polygons of a force (repeatable); a force without one gets an area made from "
              "its incidents (docs/national.md).")
@click.option("--area-field", "area_fields", multiple=True, metavar="FORCE=FIELD",
              help="The field naming the districts in a force's boundary file (LSOA names are grouped).")
@click.option("--month", metavar="YYYY-MM", help="The month the lists are for.")
@click.option("--week", metavar="YYYY-MM-DD", help="Any day of the week the lists are for (timestamped data).")
@click.option("--backtest", "backtest_span", metavar="YYYY-MM:YYYY-MM",
              help="Instead of a list: back-test every force over these months (every method that needs no "
              "risk terrain); OUT gets the measures, OUT_summary.csv their summary per force.")
@click.option("--tune", "tune", is_flag=True,
              help="Instead of a list: choose every force's ranking from its own past as 'rtm tune' does (monthly "
              "lists); OUT gets a row a force (its choice, and its test-span capture against naive and the "
              "shipped default), OUT_summary.csv the national summary.")
@click.option("--validate", "validate_span", metavar="YYYY-MM:YYYY-MM",
              help="With --tune: the validation months (default each force's own: the year before the test "
              "span, or the first half of shorter data).")
@click.option("--test", "test_span", metavar="YYYY-MM:YYYY-MM",
              help="With --tune: the test months, after the validation months (default each force's last year, "
              "or the second half of shorter data).")
@click.option("--weights", default="cchi", show_default=True, help="Harm weights: 'cchi', 'count' or a CSV.")
@click.option("--spot-size", type=SIZE, default=150.0, show_default=True,
              metavar="METRES", help="Harm-spot cell size.")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True, help="Spots per district.")
@click.option("--point-distance", type=REACH, default=1000.0,
              show_default=True, metavar="METRES",
              help="An area made from incidents holds the places within this distance of one.")
@click.option("--max-grid-mb", type=MEGABYTES, default=4096.0, show_default=True,
              metavar="MB", help="A force whose grid would need more is listed district by district; a "
              "district that would need more is refused.")
@click.option("--dask", "use_dask", is_flag=True, help="Run the forces as tasks on a Dask LocalCluster.")
@click.option("--scheduler", metavar="tcp://HOST:PORT",
              help="Run the forces on the Dask cluster of this scheduler (rtm installed on its workers).")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Workers of the LocalCluster (--dask), one force at a time each.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), metavar="FILE.csv",
              help="The national list; FILE_forces.csv beside it says what each force took.")
@friendly
def national(paths, areas, area_fields, month, week, backtest_span, tune, validate_span, test_span, weights,
             spot_size, top, point_distance, max_grid_mb, use_dask, scheduler, workers, out):
    """Make every force's harm-spot list for one month (or week), one force at a time.

    Each force is listed from its own incidents and area exactly as 'rtm weekly' would list
    it alone (ranked by recent harm; no risk terrain). Memory follows the largest force (or
    district), not the country; with --dask or --scheduler the forces run in parallel on
    Dask workers and the list is the same.

    \b
    Example (the shared data, from the project folder):
      rtm national --data ../shared/data/policeuk_multiforce --month 2019-03 \\
          --spot-size 50 --dask --out national_2019-03.csv
      rtm national --data ../shared/data/policeuk_multiforce --tune --dask --out tuning.csv
    """
    from ..national import NationalSettings, find_forces, national_list
    from ..ranking import SpotRule
    from ..weekly import DEFAULT_MERGE_CELLS, ListSettings

    if use_dask and scheduler:
        raise option_error("--dask / --scheduler", "--dask starts a cluster on this machine, --scheduler uses "
                           "another: give one", "drop one of them")
    if tune and backtest_span:
        raise option_error("--tune / --backtest", "give one of --tune and --backtest", "drop one of them")
    if (validate_span or test_span) and not tune:
        raise option_error("--validate / --test", "the spans are for --tune", "add --tune, or drop them")
    if bool(validate_span) != bool(test_span):
        raise option_error("--validate / --test", "give both spans, or neither",
                           "e.g. --validate 2018-11:2018-12 --test 2019-01:2019-02")
    period = None if backtest_span or tune else period_of(week, month)
    output_file(out, "national list")  # before any work: a file that cannot be written is said at once
    forces = find_forces(paths, pairs(areas, "area"), pairs(area_fields, "area_field"))
    settings = NationalSettings(list=ListSettings(spot_size=spot_size, max_grid_mb=max_grid_mb,
                                                  rule=SpotRule(top_n=top, max_cells=DEFAULT_MERGE_CELLS)),
                                weights=weights, point_distance_m=point_distance)
    click.echo(f"{len(forces)} force(s): {', '.join(f.name for f in forces)}", err=True)
    if backtest_span:
        months = _months(backtest_span)

        def run(client):
            from ..national_backtest import national_backtest

            return national_backtest(forces, months, settings, client=client, progress=Progress("forces"))
    elif tune:
        if month or week:
            raise option_error("--tune / --month / --week", "--tune chooses from every month of the data, not for "
                               "one month", "drop --month / --week")
        ends = {k: _ends(v, f"--{k}") if v else None for k, v in (("validate", validate_span), ("test", test_span))}
        if validate_span and ends["test"][0].start < ends["validate"][1].end:
            raise option_error("--test", f"the test months ({test_span}) start before the validation months "
                               f"({validate_span}) end", "give test months after the validation months")
        spans = {k: tuple(p.key for p in v) if v else None for k, v in ends.items()}

        def run(client):
            from ..national_tune import national_tune

            return national_tune(forces, settings, kind="month", client=client, progress=Progress("forces"), **spans)
    else:
        def run(client):
            return national_list(forces, period, settings, client=client, progress=Progress("forces"))
    if use_dask or scheduler:
        from ..distributed import connect

        with connect(scheduler, workers=workers) as client:
            click.echo(f"Dask: {len(client.scheduler_info(n_workers=-1)['workers'])} worker(s) at "
                       f"{client.scheduler.address}", err=True)
            result = run(client)
    else:
        result = run(None)
    if backtest_span:
        written = result.write(out)
        f = result.forces
        click.echo(f"Back-test of {len(months)} month(s) in {len(f)} force(s): {len(result.metrics):,} measures "
                   f"from {int(f['incidents'].sum()):,} incidents; peak memory of a force's process "
                   f"{f['peak_rss_mb'].max():,.0f} MB")
        click.echo("Wrote:")
        for p in written.values():
            click.echo(f"  {p}")
        return
    if tune:
        _report_tuning(result, out)
        return
    written = result.write(out)
    f = result.forces
    click.echo(f"Harm spots for the {period.label}: {len(result.spots):,} spot(s) in {len(f)} force(s), "
               f"from {int(f['incidents'].sum()):,} incidents; largest grid {int(f['cells'].max()):,} cells "
               f"({f.loc[f['cells'].idxmax(), 'force']}); peak memory of a list's process "
               f"{f['peak_rss_mb'].max():,.0f} MB")
    click.echo("Wrote:")
    for p in written.values():
        click.echo(f"  {p}")


def _ends(span: str, flag: str = "--backtest"):
    """The first and last month (Periods) of ``YYYY-MM:YYYY-MM``."""
    from ..periods import month_period

    first, sep, last = span.partition(":")
    if not sep:
        raise option_error(flag, f"'{span}' is not FIRST:LAST months", f"write e.g. {flag} 2018-12:2019-02")
    a, b = month_period(first.strip()), month_period(last.strip())
    if b.start < a.start:
        raise option_error(flag, f"the last month ({last}) is before the first ({first})",
                           "give the earlier month first")
    return a, b


def _months(span: str):
    """The months of ``YYYY-MM:YYYY-MM`` (--backtest), first to last."""
    from ..periods import periods_between

    a, b = _ends(span)
    return periods_between(a, b.start)


def _report_tuning(result, out) -> None:
    """Print each force's choice and test-span capture, then the national summary; write both."""
    written = result.write(out)
    f = result.forces
    click.echo("Test span (not seen by the choice), harm captured by the top cells a district; vs naive in brackets:")
    click.echo(f"  {'force':<28}{'tuned':>16}{'shipped default':>18}{'naive':>8}{'lopo':>8}  chosen")
    for r in f.itertuples():
        name = f"{r.force} {r.part}".strip()[:27]
        if r.chosen == "":
            click.echo(f"  {name:<28}{r.notes}")
            continue
        click.echo(f"  {name:<28}{100 * r.tuned:>6.1f}% ({100 * r.tuned_vs_naive:+5.1f}%)"
                   f"{100 * r.shipped_default:>8.1f}% ({100 * r.default_vs_naive:+5.1f}%)"
                   f"{100 * r.naive:>7.1f}%{100 * r.lopo_ceiling:>7.1f}%  {r.chosen}")
    summary = result.summary()
    if not summary["tuned"].max():
        click.echo("No force could be tuned (the reasons are above).")
    else:
        click.echo("National summary (mean over the forces tuned):")
    for r in summary.itertuples() if summary["tuned"].max() else ():
        click.echo(f"  {r.ranking:<16}{100 * r.mean_capture:>6.1f}%  vs naive {100 * r.mean_vs_naive:+5.1f}%  "
                   f"above naive in {r.above_naive} of {r.tuned}")
    click.echo(f"Peak memory of a force's process {f['peak_rss_mb'].max():,.0f} MB. No risk terrain: the risk "
               "weight was not tuned.")
    click.echo("Wrote:")
    for p in written.values():
        click.echo(f"  {p}")
