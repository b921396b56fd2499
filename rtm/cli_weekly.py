"""``rtm weekly``: the harm-spot list of a week (or month) for every district, exported and
archived. Registered on the main command group by :mod:`rtm.cli`."""

from __future__ import annotations

from pathlib import Path

import click

from .cli import (BANDWIDTH, CONTEXT, _area_options, _count_line, _friendly, _load_factors, _load_study, _mapping_options,
                  _pairs, _plan_factors, _weight_options, main)
from .errors import InputError


def _shares(top, area_share, harm_share, merge):
    from .ranking import SpotRule
    from .weekly import DEFAULT_MERGE_CELLS

    merge = DEFAULT_MERGE_CELLS if merge is None else merge

    given = sum(v is not None for v in (area_share, harm_share))
    if given > 1:
        raise InputError("--area-share", "--area-share and --harm-share cannot both be given", "choose one")
    if given:
        top = None
    try:
        return SpotRule(top_n=top, area_share=None if area_share is None else area_share / 100,
                        harm_share=None if harm_share is None else harm_share / 100, max_cells=merge)
    except ValueError as exc:
        raise InputError("--top", str(exc), "see 'rtm weekly --help'") from None


def _read_layer(path, what: str, crs):
    """Exclusion polygons or street lines as a GeoDataFrame in ``crs`` (InputError when unusable)."""
    import geopandas as gpd
    import pyogrio

    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise InputError(path, f"the {what} file cannot be read ({exc})",
                         f"give the {what} as GeoJSON, GeoPackage or Shapefile") from None
    if frame.crs is None:
        raise InputError(path, f"the {what} file does not say which coordinate system it is in",
                         "save it with its CRS (e.g. EPSG:27700)")
    return frame.to_crs(crs)


@main.command(context_settings=CONTEXT)
@click.option("--incidents", "incidents", multiple=True, required=True, type=click.Path(), metavar="PATH",
              help="Incident file, folder or zip (repeat for several), read as by 'rtm validate'.")
@_area_options(required=True)
@click.option("--week", metavar="YYYY-MM-DD", help="Any day of the week the list is for.")
@click.option("--month", metavar="YYYY-MM", help="The month the list is for (month-only data such as police.uk).")
@click.option("--week-start", default="monday", show_default=True, help="First day of the week.")
@_weight_options("cchi", "Harm weights: 'cchi' (Cambridge Crime Harm Index defaults), 'count' or a weights CSV.")
@click.option("--catalogue", type=click.Path(), default="layers", show_default=True,
              help="The attractor catalogue folder, for --factors.")
@click.option("--factors", multiple=True, metavar="NAME[,NAME]",
              help="Catalogue entries to use as risk factors (repeatable).")
@click.option("--layer", "layer_items", multiple=True, metavar="NAME=FILE[:FILTER]",
              help="A risk factor from a file (repeatable). Without --factors, --layer or --model the "
              "list is ranked by recent harm alone.")
@click.option("--operationalisation", "treatments", multiple=True, metavar="NAME=OP",
              help="Treat factor NAME as proximity, density, both or auto.")
@click.option("--model", "model_dir", type=click.Path(file_okay=False),
              help="Reuse a risk terrain fitted by 'rtm model --out DIR' instead of fitting one.")
@click.option("--cell-size", type=click.FloatRange(min=0, min_open=True), default=50.0, show_default=True,
              metavar="METRES", help="Cell size of the risk terrain model.")
@click.option("--block-length", type=click.FloatRange(min=0, min_open=True), default=100.0, show_default=True,
              metavar="METRES", help="Block length of the risk terrain model.")
@click.option("--bands", type=click.IntRange(1, 20), default=3, show_default=True)
@click.option("--refit-every", type=click.IntRange(min=1), metavar="N",
              help="Refit the risk terrain every N periods (default 13 weeks or 3 months); fitted "
              "terrains are kept in OUT/models and reused.")
@click.option("--spot-size", type=click.FloatRange(min=0, min_open=True), default=150.0, show_default=True,
              metavar="METRES", help="Harm-spot cell size.")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="Spots per district.")
@click.option("--area-share", type=click.FloatRange(0, 100, min_open=True), metavar="PERCENT",
              help="Instead of --top: spots covering this percentage of each district's area.")
@click.option("--harm-share", type=click.FloatRange(0, 100, min_open=True), metavar="PERCENT",
              help="Instead of --top: spots holding this percentage of each district's harm in the last period.")
@click.option("--merge", type=click.IntRange(min=1), metavar="CELLS",
              help="Merge adjacent listed cells into spots of up to this many cells (default 5; 1: one cell a spot).")
@click.option("--method", type=click.Choice(["combined", "harm", "risk", "conjunctive"]), default="combined",
              show_default=True, help="Ranking: the combined score, recent harm or risk alone, or the "
              "conjunctive view (cells both high-risk and high-harm).")
@click.option("--risk-weight", type=click.FloatRange(0, 1), help="Share of the score given to the risk "
              "terrain (default 0.1; see docs/ranking.md).")
@click.option("--bandwidth", type=BANDWIDTH, metavar="METRES|silverman",
              help="Harm surface bandwidth in metres (default 1.1 x the spot size: 165 m for 150 m "
              "spots), or 'silverman' for Silverman's rule on the last year's incidents.")
@click.option("--kernel", type=click.Choice(["quartic", "gaussian"]), default="quartic", show_default=True)
@click.option("--half-life", "half_life", type=click.FloatRange(min=0, min_open=True), metavar="DAYS",
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
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Output folder: each period's files go in OUT/<period>/, the archive is OUT/archive.sqlite.")
@click.option("--archive", "archive_path", type=click.Path(dir_okay=False),
              help="The run archive (default OUT/archive.sqlite).")
@_mapping_options
@_friendly
def weekly(incidents, area, area_field, area_select, area_tolerance, week, month, week_start, weights, unknown,
           default_weight, catalogue, factors, layer_items, treatments, model_dir, cell_size, block_length, bands,
           refit_every, spot_size, top, area_share, harm_share, merge, method, risk_weight, bandwidth, kernel,
           half_life, exclusions, streets, street_name, recording_points, keep_recording_points, marking, visits,
           visit_minutes, out, archive_path, **kw):
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
    weeks on the list. Re-running a period replaces it. Exit status: 0 when written, 2
    when an input or setting cannot be used.

    \b
    Examples (the bundled samples, from the project folder):
      rtm weekly --incidents sample_geo/southend/crime \\
          --area sample_geo/southend/southend_lsoa2011.geojson --area-field LSOA11NM \\
          --area-tolerance 150 --month 2019-01 --out lists
      rtm weekly --incidents sample_geo/chicago/assaults_2016_2019.csv --offence-value "Aggravated assault" \\
          --weights count --area sample_geo/chicago/districts.geojson --area-field District \\
          --factors liquor_retail,abandoned_buildings --week 2019-03-04 --out chicago_lists
    """
    from .archive import Archive
    from .periods import month_period, week_period
    from .pipeline import attractor_buffer
    from .publish import cached_terrain, fit_terrain, model_key, publish, refit_date
    from .ranking import DEFAULT_HALF_LIFE_DAYS, DEFAULT_RISK_WEIGHT, ScoreSettings
    from .terrain import RiskTerrain
    from .provenance import list_inputs
    from .recording_points import RecordingPoints
    from .weekly import ListSettings, PatrolDose, build_list, source_entries
    from .weights import HarmWeights

    if bool(week) == bool(month):
        raise InputError("--week", "give exactly one of --week and --month", "e.g. --week 2019-03-04 or --month 2019-01")
    period = week_period(week, week_start) if week else month_period(month)
    lo, _, hi = visits.partition("-")
    try:
        dose = PatrolDose(int(lo), int(hi or lo), visit_minutes)
    except ValueError:
        raise InputError("--visits", f"'{visits}' is not MIN-MAX visits a day", "write e.g. --visits 1-4") from None
    rule = _shares(top, area_share, harm_share, merge)
    use_layers = bool(factors or layer_items)
    scoring = ScoreSettings(method=method, risk_weight=DEFAULT_RISK_WEIGHT if risk_weight is None else risk_weight,
                            bandwidth_m=bandwidth, kernel=kernel,
                            half_life_days=DEFAULT_HALF_LIFE_DAYS if half_life is None else half_life)
    if method in ("risk", "conjunctive") and not (use_layers or model_dir):
        raise InputError("--method", f"the '{method}' ranking needs a risk terrain",
                         "give attractor layers (--factors or --layer) or a fitted model (--model)")
    plan = _plan_factors(catalogue, factors, layer_items, _pairs(treatments, "--operationalisation")) \
        if use_layers else []

    hw = HarmWeights.from_name(weights, unknown, default_weight)
    areas, inc = _load_study(incidents, area, area_field, area_select, area_tolerance, hw, kw)

    terrain, extra = None, {}
    out_dir = Path(out)
    if model_dir:
        terrain = RiskTerrain.read(model_dir)
        click.echo(f"Risk terrain: reused from {model_dir} ({len(terrain.factors)} factor(s))")
    elif use_layers:
        buffer_m = attractor_buffer(block_length, bands)
        layers, ops, max_m = _load_factors(plan, areas, buffer_m)
        for name, layer in layers.items():
            click.echo(_count_line(f"Layer {name}", layer.report))
        fit_to = refit_date(period, refit_every)
        key = model_key(inc, areas, layers, fit_to, cell_size=cell_size, block_length=block_length, bands=bands,
                        operationalisations=ops, max_influence_m=max_m, extra=(hw.scheme, area_tolerance))
        terrain, reused = cached_terrain(out_dir / "models", key, lambda: fit_terrain(
            inc, areas, layers, fit_to, period.kind, cell_size=cell_size, block_length=block_length, bands=bands,
            operationalisations=ops, max_influence_m=max_m or None,
            progress=lambda msg: click.echo(f"  {msg} ...", err=True)))
        click.echo(f"Risk terrain: {'reused' if reused else 'fitted'} on the year before {fit_to:%Y-%m-%d} "
                   f"({len(terrain.factors)} factor(s) selected; models/{key})")
        extra["layers"] = {n: source_entries(l.report.sources) for n, l in layers.items()}
    zones = _read_layer(exclusions, "exclusion zones", areas.crs) if exclusions else None
    street_frame = _read_layer(streets, "streets", areas.crs) if streets else None
    archive = Archive(archive_path or out_dir / "archive.sqlite")
    previous = archive.previous(period, areas.names)
    settings = ListSettings(spot_size=spot_size, scoring=scoring, rule=rule, patrol=dose,
                            area_tolerance_m=area_tolerance)
    points = None if keep_recording_points else \
        (RecordingPoints.from_csv(recording_points) if recording_points else RecordingPoints.default())
    extra.update(list_inputs(hw, exclusions=exclusions, streets=streets, recording_points=recording_points,
                             week_start=week_start, area_tolerance_m=area_tolerance))
    lst = build_list(inc, areas, period, terrain=terrain, settings=settings, exclusions=zones, streets=street_frame,
                     street_name=street_name, previous=previous, inputs=extra, recording_points=points)
    paths = publish(lst, out_dir, archive=archive, districts=areas.frame, marking=marking)
    click.echo(f"\nHarm spots for the {period.label}: {len(lst.spots)} spot(s) in {len(areas.names)} district(s)"
               + ("" if previous is not None else f" (no archived list for the previous {period.kind}: "
                  "every spot counts as new)"))
    for name, group in lst.spots.groupby("district", sort=True):
        best = group.iloc[0]
        click.echo(f"  {name}: {len(group)} spots; #1 {best.spot_id} {best.location or ''} "
                   f"(score {best.score:.1f}, {best.movement})")
    for note in lst.notes:
        click.echo(f"Note: {note}")
    click.echo("Wrote:")
    for p in paths.values():
        click.echo(f"  {p}")
