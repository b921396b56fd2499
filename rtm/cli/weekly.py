"""``rtm weekly``: the harm-spot list of a week (or month) for every district, published and
archived by the weekly job (:func:`rtm.weekly_job.run_weekly`)."""

from __future__ import annotations

import click

from ..errors import output_file, output_folder
from .group import CONTEXT, friendly, option_error
from .options import (BANDWIDTH, HALF_LIFE, PERCENT, REFIT_EVERY, SHARE, SIZE, Progress, area_options, count_line,
                      factor_options, mapping_options, pairs, period_of, study_inputs, weight_options)


def _spot_rule(top, area_share, harm_share, merge):
    """The :class:`~rtm.ranking.SpotRule` of --top, --area-share, --harm-share and --merge."""
    from ..ranking import SpotRule
    from ..weekly import DEFAULT_MERGE_CELLS

    merge = DEFAULT_MERGE_CELLS if merge is None else merge
    if area_share is not None and harm_share is not None:
        raise option_error("--area-share / --harm-share", "--area-share and --harm-share cannot both be given",
                           "choose one")
    if area_share is not None or harm_share is not None:
        top = None
    return SpotRule(top_n=top, area_share=None if area_share is None else area_share / 100,
                    harm_share=None if harm_share is None else harm_share / 100, max_cells=merge)


@click.command(context_settings=CONTEXT)
@click.option("--workspace", type=click.Path(file_okay=False),
              help="A force's workspace (see 'rtm init'): everything else comes from its workspace.toml, the "
              "list is published into its lists/ and archive.sqlite, and without --week/--month the list is "
              "for the period after the data.")
@click.option("--incidents", "incidents", multiple=True, type=click.Path(), metavar="PATH",
              help="Incident file, folder or zip (repeat for several), read as by 'rtm validate'.")
@area_options(required=False)
@click.option("--week", metavar="YYYY-MM-DD", help="Any day of the week the list is for.")
@click.option("--month", metavar="YYYY-MM", help="The month the list is for (month-only data such as police.uk).")
@click.option("--week-start", default="monday", show_default=True, help="First day of the week.")
@weight_options("cchi", "Harm weights: 'cchi' (Cambridge Crime Harm Index defaults), 'count' or a weights CSV.")
@factor_options("A risk factor from a file (repeatable). Without --factors, --layer or --model the list "
                "is ranked by recent harm alone.")
@click.option("--model", "model_dir", type=click.Path(file_okay=False),
              help="Reuse a risk terrain fitted by 'rtm model --out DIR' instead of fitting one.")
@click.option("--cell-size", type=SIZE, default=50.0, show_default=True,
              metavar="METRES", help="Cell size of the risk terrain model.")
@click.option("--block-length", type=SIZE, default=100.0, show_default=True,
              metavar="METRES", help="Block length of the risk terrain model.")
@click.option("--bands", type=click.IntRange(1, 20), default=3, show_default=True)
@click.option("--refit-every", type=REFIT_EVERY, metavar="N",
              help="Refit the risk terrain every N periods (default 13 weeks or 3 months); fitted "
              "terrains are kept in OUT/models and reused.")
@click.option("--spot-size", type=SIZE, default=150.0, show_default=True,
              metavar="METRES", help="Harm-spot cell size.")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="Spots per district.")
@click.option("--area-share", type=PERCENT, metavar="PERCENT",
              help="Instead of --top: spots covering this percentage of each district's area.")
@click.option("--harm-share", type=PERCENT, metavar="PERCENT",
              help="Instead of --top: spots holding this percentage of each district's harm in the last period.")
@click.option("--merge", type=click.IntRange(min=1), metavar="CELLS",
              help="Merge adjacent listed cells into spots of up to this many cells (default 5; 1: one cell a spot).")
@click.option("--method", type=click.Choice(["combined", "harm", "risk", "conjunctive"]), default="combined",
              show_default=True, help="Ranking: the combined score, recent harm or risk alone, or the "
              "conjunctive view (cells both high-risk and high-harm).")
@click.option("--risk-weight", type=SHARE, help="Share of the score given to the risk "
              "terrain (default 0.1; see docs/ranking.md).")
@click.option("--bandwidth", type=BANDWIDTH, metavar="METRES|silverman",
              help="Harm surface bandwidth in metres (default 1.1 x the spot size: 165 m for 150 m "
              "spots), or 'silverman' for Silverman's rule on the last year's incidents.")
@click.option("--kernel", type=click.Choice(["quartic", "gaussian"]), default="quartic", show_default=True)
@click.option("--half-life", "half_life", type=HALF_LIFE, metavar="DAYS",
              help="Harm counts half after this many days (default 365).")
@click.option("--exclusions", type=click.Path(), help="Polygons never to list (custody suites, prisons, ...).")
@click.option("--streets", type=click.Path(), help="Named street lines: label spots by the nearest street.")
@click.option("--street-name", default="name", show_default=True, help="The streets' name column.")
@click.option("--recording-points", "recording_points", type=click.Path(dir_okay=False),
              help="CSV of police.uk places where crimes are recorded, not committed (police stations, ...), "
              "left out of the list; default: the project's table (copy rtm/data/recording_points.csv to edit).")
@click.option("--keep-recording-points", is_flag=True, help="Keep recording points in the list.")
@click.option("--marking", default="OFFICIAL", show_default=True,
              help="Protective marking printed on every page of the briefing.")
@click.option("--visits", default="1-4", show_default=True, metavar="MIN-MAX",
              help="Suggested patrol visits a day, from the lowest to the highest listed score.")
@click.option("--visit-minutes", type=click.IntRange(min=1), default=15, show_default=True)
@click.option("--shifts", "shifts", is_flag=False, flag_value="07:00,19:00", default=None,
              metavar="HH:MM,HH:MM", help="Also make a list per shift (alone: 07:00-19:00 and 19:00-07:00; or "
              "give the shift starts); an incident belongs to the shift it started in. Needs times.")
@click.option("--out", type=click.Path(file_okay=False),
              help="Output folder: each period's files go in OUT/<period>/, the archive is OUT/archive.sqlite.")
@click.option("--archive", "archive_path", type=click.Path(dir_okay=False),
              help="The run archive (default OUT/archive.sqlite).")
@mapping_options
@friendly
def weekly(workspace, incidents, area, area_field, area_select, area_tolerance, week, month, week_start, weights,
           unknown, default_weight, catalogue, factors, layer_items, treatments, model_dir, cell_size, block_length,
           bands, refit_every, spot_size, top, area_share, harm_share, merge, method, risk_weight, bandwidth, kernel,
           half_life, exclusions, streets, street_name, recording_points, keep_recording_points, marking, visits,
           visit_minutes, shifts, out, archive_path, **kw):
    """Make the harm-spot list of one week (or month) for every district.

    Spots are cells of --spot-size metres ranked by a score that combines recent harm (a
    kernel density of harm-weighted incidents from before the period, decayed by age) with
    the risk terrain of the attractor layers (docs/ranking.md gives the formula). Only
    incidents from before the period are used. Each row says why the spot is there.

    \b
    OUT/<period>/ gets, for the period:
      harmspots_<kind>_<period>.csv            the list, header on row 1 (+ .csvt, .prj for GIS)
      harmspots_<kind>_<period>.provenance.json  what the list was made from
      harmspots_<kind>_<period>.xlsx           Excel workbook: all spots, a sheet per district, About
      harmspots_<kind>_<period>.geojson/.gpkg  spot polygons for GIS (GeoPackage 1.2, styled)
      harmspots_<kind>_<period>.kml/.gpx       pins and squares for phones and GPS devices
      harmspots_<kind>_<period>_surfaces.tif   harm surface, risk terrain and score (COG + .qml)
      harmspots_<kind>_<period>_briefing.pdf   the printed briefing (and .html, the same content)
    and OUT/archive.sqlite keeps every period's list, so the next one shows movement and
    weeks on the list. Re-running a period replaces it.

    With --workspace DIR the data, model and list settings come from DIR/workspace.toml,
    the files go to DIR/lists/<period>/ and the archive is DIR/archive.sqlite; one run at a
    time holds the workspace (safe to run from a scheduler, docs/deployment.md).

    Exit status: 0 when published, 2 when an input or setting cannot be used, 3 for an
    unexpected error (a bug), 75 when another run holds the workspace (try again later).

    \b
    Examples (the bundled samples, from the project folder):
      rtm weekly --incidents sample_geo/southend/crime \\
          --area sample_geo/southend/southend_lsoa2011.geojson --area-field LSOA11NM \\
          --area-tolerance 150 --month 2019-01 --out lists
      rtm weekly --incidents sample_geo/chicago/assaults_2016_2019.csv --offence-value "Aggravated assault" \\
          --weights count --area sample_geo/chicago/districts.geojson --area-field District \\
          --factors liquor_retail,abandoned_buildings --week 2019-03-04 --out chicago_lists
      rtm init essex --sample southend && rtm weekly --workspace essex
    """
    from ..catalogue import plan_factors
    from ..ranking import ScoreSettings
    from ..terrain_settings import RtmSettings
    from ..weekly import ListSettings, PatrolDose
    from ..weekly_job import TerrainPlan, WeeklyJob, run_weekly
    from ..weights import HarmWeights

    if workspace:
        return _weekly_in_workspace(workspace, week, month)
    for flag, given in (("--incidents", incidents), ("--area", area), ("--out", out)):
        if not given:
            raise option_error(flag, f"{flag} is needed (or a workspace with --workspace)",
                               f"give {flag}, or run in a workspace: 'rtm weekly --workspace DIR'")
    output_folder(out, create=False)  # before any work: a folder that cannot be written is said at once
    if archive_path:
        output_file(archive_path, "archive")
    period = period_of(week, month, week_start)
    lo, _, hi = visits.partition("-")
    try:
        dose = PatrolDose(int(lo), int(hi or lo), visit_minutes)
    except ValueError:
        raise option_error("--visits", f"'{visits}' is not MIN-MAX visits a day", "write e.g. --visits 1-4") from None
    rule = _spot_rule(top, area_share, harm_share, merge)
    use_layers = bool(factors or layer_items)
    scoring = ScoreSettings.from_given(method=method, risk_weight=risk_weight, bandwidth_m=bandwidth, kernel=kernel,
                                       half_life_days=half_life)
    if method in ("risk", "conjunctive") and not (use_layers or model_dir):
        raise option_error("--method", f"the '{method}' ranking needs a risk terrain",
                           "give attractor layers (--factors or --layer) or a fitted model (--model)")
    treat = pairs(treatments, "operationalisations")
    plan = plan_factors(catalogue, factors, layer_items, treat) if use_layers else []
    hw = HarmWeights.from_name(weights, unknown, default_weight)
    job = WeeklyJob(
        study=study_inputs(incidents, area, area_field, area_select, area_tolerance, hw, kw),
        out_dir=out,
        terrain=TerrainPlan(tuple(plan), RtmSettings(cell_size, block_length, bands, operationalisations=treat),
                            model_dir, refit_every),
        settings=ListSettings(spot_size=spot_size, scoring=scoring, rule=rule, patrol=dose,
                              area_tolerance_m=area_tolerance),
        archive=archive_path, exclusions=exclusions, streets=streets, street_name=street_name,
        recording_points=recording_points, keep_recording_points=keep_recording_points, marking=marking,
        week_start=week_start)
    shift_plan = None
    if shifts:
        from ..shifts import Shifts

        shift_plan = Shifts.parse(shifts)
    run = run_weekly(job, period, progress=Progress("reading"))
    _say_what_was_done(run, hw.scheme, model_dir)
    if shift_plan is not None:
        from ..shifts import publish_shift_lists

        for name, (shift_list, paths) in publish_shift_lists(run, job, run.list.period, shift_plan).items():
            click.echo(f"Shift {name}: {len(shift_list.spots)} spot(s); wrote {paths['csv'].parent}")


def _weekly_in_workspace(folder, week, month) -> None:
    """``rtm weekly --workspace``: the job of the workspace's config, under its lock."""
    from ..weekly_job import run_weekly
    from ..workspace import load_workspace, workspace_lock

    ctx = click.get_current_context()
    extra = [p.opts[0] for p in ctx.command.params if p.name not in ("workspace", "week", "month")
             and ctx.get_parameter_source(p.name) == click.core.ParameterSource.COMMANDLINE]
    if extra:
        raise option_error(extra[0], f"{', '.join(extra)} cannot be combined with --workspace",
                           "set it in the workspace's workspace.toml, or run without --workspace")
    ws = load_workspace(folder)
    output_folder(ws.folder, "workspace folder")  # its lock, lists and archive are written there
    if (week and ws.period_kind != "week") or (month and ws.period_kind != "month"):
        raise option_error("--week" if week else "--month", f"the workspace makes {ws.period_kind}ly lists",
                           f"give --{ws.period_kind}, or change 'period' in [lists] of workspace.toml")
    with workspace_lock(ws.folder):
        run = run_weekly(ws.job, lambda inc: ws.period(week or month, inc), progress=Progress("reading"))
        _say_what_was_done(run, ws.job.study.weights.scheme, None)
        if ws.shifts is not None:
            from ..shifts import publish_shift_lists

            for name, (shift_list, paths) in publish_shift_lists(run, ws.job, run.list.period, ws.shifts).items():
                click.echo(f"Shift {name}: {len(shift_list.spots)} spot(s); wrote {paths['csv'].parent}")


def _say_what_was_done(run, scheme: str, model_dir) -> None:
    lst, inc, period = run.list, run.incidents, run.list.period
    click.echo(count_line("Incidents", inc.report) + f" ({inc.report.date_min} to {inc.report.date_max}, "
               f"resolution {inc.resolution}, weights {scheme})")
    for name, layer in run.layers.items():
        click.echo(count_line(f"Layer {name}", layer.report))
    if run.terrain_how == "given":
        click.echo(f"Risk terrain: reused from {model_dir} ({len(run.terrain.factors)} factor(s))")
    elif run.terrain is not None:
        click.echo(f"Risk terrain: {'reused' if run.terrain_how == 'read' else 'fitted'} on the year before "
                   f"{run.fit_to:%Y-%m-%d} ({len(run.terrain.factors)} factor(s) selected; models/{run.terrain_key})")
    click.echo(f"\nHarm spots for the {period.label}: {len(lst.spots)} spot(s) in {len(run.areas.names)} district(s)"
               + ("" if run.previous is not None else f" (no archived list for the previous {period.kind}: "
                  "every spot counts as new)"))
    for name, group in lst.spots.groupby("district", sort=True):
        best = group.iloc[0]
        click.echo(f"  {name}: {len(group)} spots; #1 {best.spot_id} {best.location or ''} "
                   f"(score {best.score:.1f}, {best.movement})")
    for note in lst.notes:
        click.echo(f"Note: {note}")
    click.echo("Wrote:")
    for p in run.paths.values():
        click.echo(f"  {p}")
