"""``rtm validate``: what happens to every row of the incident files."""

from __future__ import annotations

import json
import sys

import click

from ..errors import output_file
from .group import CONTEXT, friendly, option_error
from .options import Progress, area_options, column_map, limits, mapping_options, weight_options


@click.command(context_settings=CONTEXT)
@click.argument("incidents", nargs=-1, required=True, type=click.Path())
@area_options(required=False)
@weight_options("cchi", "Harm weights: 'cchi' (Cambridge Crime Harm Index defaults), 'count' (every "
                 "incident 1) or the path of an edited weights CSV (see 'rtm weights').")
@click.option("--rejects", type=click.Path(), help="Write the rejected rows, with their reason, to this CSV.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of text.")
@mapping_options
@friendly
def validate(incidents, area, area_field, area_select, area_tolerance, weights, unknown, default_weight, rejects,
             as_json, **kw):
    """Check incident files and report what happens to every row.

    INCIDENTS are police.uk street CSVs (a file, a folder of monthly files or the
    downloaded zip), police.uk API extracts, or generic CSV/Parquet tables and point
    layers (GeoJSON, GeoPackage, Shapefile, FlatGeobuf) with the column options below.

    The report gives rows in, rows used and rows rejected by reason (the counts add up),
    the CRS chosen, the date range and resolution, and the offence types with their harm
    weights. Exit status: 0 when the data is usable, 1 when no row is usable, 2 when a
    file cannot be used at all.

    \b
    Examples:
      rtm validate data/2018-01-essex-street.csv
      rtm validate data/ --area lsoa.geojson --area-field LSOA11NM --area-select Southend-on-Sea
      rtm validate assaults.csv --date-col date --lon-col longitude --lat-col latitude \\
          --offence-value "Aggravated assault" --weights count --rejects rejected.csv
    """
    from ..incidents import load_incidents
    from ..weights import HarmWeights

    if area_field and not area:
        raise option_error("--area-field", "--area-field needs --area", "give the boundary file with --area")
    if rejects:  # before reading: a file that cannot be written is said at once
        output_file(rejects, "rejects file")
    areas = None
    if area:  # geopandas (0.8 s to import) comes only with a study area
        from ..areas import load_areas

        areas = load_areas(area, area_field, select=list(area_select) or None)
    hw = HarmWeights.from_name(weights, unknown, default_weight)
    inc = load_incidents(list(incidents), mapping=column_map(kw), crs=kw["crs"], working_crs=kw["working_crs"],
                         weights=hw, areas=areas, area_tolerance_m=area_tolerance, dayfirst=not kw["month_first"],
                         limits=limits(kw), progress=Progress("reading"))
    if as_json:
        out = inc.report.to_dict()
        if areas is not None:
            out["study_area"] = areas.report.to_dict()
        click.echo(json.dumps(out, indent=2, default=str))
    else:
        click.echo(inc.report.to_text())
        if areas is not None:  # what the boundary file gave: polygons not used, layers, merged names
            rep = areas.report
            if rep.rejected:
                click.echo(f"Study area: {rep.rows_rejected:,} of {rep.rows_in:,} polygons not used ("
                           + ", ".join(f"{r} {n}" for r, n in rep.rejected.items()) + ")")
            for note in rep.notes:
                click.echo(f"Note (study area): {note}")
    if rejects:
        n = inc.write_rejects(rejects)
        click.echo(f"Wrote {n:,} rejected rows with their reasons to {rejects}", err=as_json)
    if inc.report.rows_used == 0:
        click.echo("Error: no row is usable; see the reasons above.", err=True)
        sys.exit(1)
