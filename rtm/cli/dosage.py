"""``rtm dosage``: patrol minutes and visits in the listed spots, against the list's suggested dose
(:mod:`rtm.dosage`, :mod:`rtm.dosage_report`)."""

from __future__ import annotations

import click

from ..errors import output_file, output_folder
from .group import CONTEXT, friendly, option_error
from .options import MINUTES, SHARE, Bounded, area_options, count_line, mapping_options, weight_options


@click.command(context_settings=CONTEXT)
@click.option("--list", "lists", multiple=True, required=True, type=click.Path(), metavar="GPKG",
              help="A published list (OUT/<period>/harmspots_<kind>_<period>.gpkg from 'rtm weekly'); repeat "
              "for several weeks.")
@click.option("--patrols", multiple=True, required=True, type=click.Path(), metavar="FILE",
              help="GPX tracks or CSV pings (officer/unit id, time, lon/lat or easting/northing); repeatable.")
@click.option("--patrol-crs", help="CRS of CSV x/y coordinates (default: inferred; lon/lat is WGS84).")
@click.option("--unit-col", help="CSV column with the officer or unit id.")
@click.option("--time-col", help="CSV column with the ping time.")
@click.option("--ping-x-col", help="CSV column with x / easting / longitude.")
@click.option("--ping-y-col", help="CSV column with y / northing / latitude.")
@click.option("--timezone", default="Europe/London", show_default=True,
              help="Local time zone: times with an offset (GPX is UTC) are converted to it.")
@click.option("--ping-gap", type=MINUTES, default=5.0, show_default=True,
              metavar="MINUTES", help="Pings further apart than this credit no time (a hole in the record).")
@click.option("--visit-gap", type=MINUTES, default=5.0, show_default=True,
              metavar="MINUTES", help="A visit ends once the unit is away from the spot for longer than this.")
@click.option("--target", type=MINUTES, default=15.0, show_default=True,
              metavar="MINUTES", help="Shortest visit that counts towards the dose.")
@click.option("--edge", type=Bounded(0, 1000, "metres", "10"), default=10.0, show_default=True, metavar="METRES",
              help="Widen spots by this much for GPS error.")
@click.option("--incidents", multiple=True, type=click.Path(), metavar="PATH",
              help="Incidents of the listed periods: adds harm in patrolled vs unpatrolled spots (needs --area).")
@area_options(required=False)
@weight_options("cchi", "Harm weights of --incidents.")
@click.option("--patrolled-share", type=SHARE, default=0.5, show_default=True,
              help="A spot counts as patrolled when at least this share of its dose was delivered.")
@click.option("--rejects", type=click.Path(dir_okay=False), help="Write rejected ping rows and their reasons here.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for the report.")
@mapping_options
@friendly
def dosage(lists, patrols, patrol_crs, unit_col, time_col, ping_x_col, ping_y_col, timezone, ping_gap, visit_gap,
           target, edge, incidents, area, area_field, area_select, area_tolerance, weights, unknown, default_weight,
           patrolled_share, rejects, out, **kw):
    """Measure the patrol dose delivered to the listed spots.

    Minutes in each spot per day and per visit from GPX tracks and CSV pings; visits of at
    least --target minutes against the list's suggested visits a day, per spot, district
    and week (docs/dosage.md). With --incidents, the harm recorded in patrolled and
    unpatrolled spots during each listed week: descriptive, not a trial.

    \b
    OUT gets dosage_spots.csv, dosage_days.csv, dosage_visits.csv, dosage_districts.csv
    (and dosage_harm.csv), dosage.xlsx, dosage_chart.png and dosage_spots.gpkg.

    \b
    Example:
      rtm dosage --list lists/2019-03-04/harmspots_week_2019-03-04.gpkg \\
          --patrols radio_pings.csv --patrols pc1234.gpx --out dosage_report
    """
    from ..dosage import CAVEAT, DoseSettings
    from ..dosage_report import dosage_weeks, read_list, write_report
    from ..patrols import read_patrols

    output_folder(out, create=False)  # before any work: a folder that cannot be written is said at once
    if rejects:
        output_file(rejects, "rejects file")
    settings = DoseSettings(ping_gap, visit_gap, target, edge)
    spots, _ = read_list(lists[0])
    cols = {k: v for k, v in dict(unit=unit_col, time=time_col).items() if v}
    if ping_x_col or ping_y_col:
        cols.update(x=ping_x_col, y=ping_y_col)
    pings = read_patrols(list(patrols), spots.crs, columns=cols, crs=patrol_crs, tz=timezone)
    for line in pings.report.lines():
        click.echo(line)
    if rejects:
        pings.rejects.to_csv(rejects, index=False)
    inc = None
    if incidents:
        if not area:
            raise option_error("--area", "harm in patrolled spots needs the study area of the incidents",
                               "give --area (and --area-field) as for 'rtm weekly'")
        from ..weekly_job import load_study
        from ..weights import HarmWeights
        from .options import study_inputs

        hw = HarmWeights.from_name(weights, unknown, default_weight)
        _, inc = load_study(study_inputs(incidents, area, area_field, area_select, area_tolerance, hw, kw))
        click.echo(count_line("Incidents", inc.report))
    result = dosage_weeks(lists, pings, settings, incidents=inc, dose_share=patrolled_share)
    for label, d, _ in result.weeks:
        click.echo(f"\n{label}: {d.spots['minutes'].sum():,.0f} officer-minutes in the spots, "
                   f"{int(d.spots['visits_of_target'].sum())} visit(s) of {target:g}+ minutes "
                   f"against {int(d.spots['suggested_visits'].sum())} suggested")
        for r in d.districts.itertuples():
            click.echo(f"  {r.district}: {r.spots_visited} of {r.spots} spots visited, "
                       f"{100 * r.share:.0f}% of the dose delivered")
    if result.harm is not None:
        allw = result.harm[result.harm["period"] == "all"]
        click.echo("\nHarm during the listed periods:")
        for r in allw.itertuples():
            click.echo(f"  {r.group}: {r.spots} spot-periods, harm {r.harm:,.1f}")
        click.echo(f"Note: {CAVEAT}")
    paths = write_report(result, out)
    click.echo("Wrote:")
    for p in paths.values():
        click.echo(f"  {p}")
