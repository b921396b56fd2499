"""The ``rtm`` command line: a thin front end over the library (no modelling here)."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from .errors import InputError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _friendly(fn):
    """Turn input problems into one clear message and a non-zero exit, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        except BrokenPipeError:  # output piped into 'head' and closed early: not an error
            sys.stderr.close()
            sys.exit(0)
        except (KeyboardInterrupt, click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # a bug: say so plainly, keep the traceback for --debug
            if debug:
                raise
            click.echo(f"rtm: unexpected error ({type(exc).__name__}: {exc}). This is a bug; run again "
                       "with 'rtm --debug ...' and report the output.", err=True)
            sys.exit(3)

    return wrapper


class _Progress:
    """A tqdm bar fed by the library's ``progress(done, total, name)`` callback."""

    def __init__(self, desc: str):
        self.desc, self.bar = desc, None

    def __call__(self, done: int, total: int, name: str) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.desc, unit="file", file=sys.stderr, disable=None, leave=False)
        self.bar.update(1)
        if done >= total:
            self.bar.close()


@click.group(context_settings=CONTEXT)
@click.option("--debug", is_flag=True, help="Show the full traceback of unexpected errors.")
@click.version_option(package_name="rtm-harmspots", prog_name="rtm")
def main(debug: bool) -> None:
    """Risk terrain modelling and harm-spot lists for patrol planning.

    \b
    Start by checking your data:
      rtm validate path/to/police-uk-folder --area lsoa.geojson --area-field LSOA11NM
    Then see the attractor catalogue:
      rtm layers --catalogue layers/

    Every command prints what it did with each input row; run 'rtm COMMAND --help' for
    the options of each.
    """


def _mapping_options(fn):
    opts = [
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
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


def _column_map(kw):
    from .layouts import ColumnMap

    roles = dict(id=kw["id_col"], date=kw["date_col"], lon=kw["lon_col"], lat=kw["lat_col"], x=kw["x_col"],
                 y=kw["y_col"], offence=kw["offence_col"], weight=kw["weight_col"],
                 offence_value=kw["offence_value"])
    return ColumnMap(**roles) if any(roles.values()) else None


@main.command(context_settings=CONTEXT)
@click.argument("incidents", nargs=-1, required=True, type=click.Path())
@click.option("--area", type=click.Path(), help="Boundary polygons of the study area (any vector format).")
@click.option("--area-field", help="Field naming each polygon's district. LSOA-style names "
              "('Southend-on-Sea 003A') are grouped by the text before the code.")
@click.option("--area-select", multiple=True, help="Keep only this district (repeat for several).")
@click.option("--area-tolerance", type=float, default=0.0, show_default=True, metavar="METRES",
              help="Keep points up to this far outside the area (generalised boundaries cut off "
              "coasts and edge streets) and give them the nearest district.")
@click.option("--weights", default="cchi", show_default=True,
              help="Harm weights: 'cchi' (Cambridge Crime Harm Index defaults), 'count' (every "
              "incident 1) or the path of an edited weights CSV (see 'rtm weights').")
@click.option("--unknown", type=click.Choice(["reject", "zero", "default"]), default="reject",
              show_default=True, help="What to do with offence types the weights table does not list.")
@click.option("--default-weight", type=float, help="Weight for unknown types with --unknown default.")
@click.option("--rejects", type=click.Path(), help="Write the rejected rows, with their reason, to this CSV.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of text.")
@_mapping_options
@_friendly
def validate(incidents, area, area_field, area_select, area_tolerance, weights, unknown, default_weight, rejects, as_json, **kw):
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
    from .areas import load_areas
    from .incidents import load_incidents
    from .weights import HarmWeights

    if area_field and not area:
        raise InputError("--area-field", "--area-field needs --area", "give the boundary file with --area")
    areas = load_areas(area, area_field, select=list(area_select) or None) if area else None
    hw = HarmWeights.from_name(weights, unknown, default_weight)
    inc = load_incidents(list(incidents), mapping=_column_map(kw), crs=kw["crs"], working_crs=kw["working_crs"],
                         weights=hw, areas=areas, area_tolerance_m=area_tolerance, dayfirst=not kw["month_first"],
                         progress=_Progress("reading"))
    if as_json:
        click.echo(json.dumps(inc.report.to_dict(), indent=2, default=str))
    else:
        click.echo(inc.report.to_text())
    if rejects:
        n = inc.write_rejects(rejects)
        click.echo(f"Wrote {n:,} rejected rows with their reasons to {rejects}", err=as_json)
    if inc.report.rows_used == 0:
        click.echo("Error: no row is usable; see the reasons above.", err=True)
        sys.exit(1)


@main.command(context_settings=CONTEXT)
@click.option("--catalogue", type=click.Path(), default="layers", show_default=True,
              help="The attractor catalogue folder (one TOML file per attractor).")
@click.option("--check", "checks", multiple=True, metavar="NAME=FILE",
              help="Load catalogue entry NAME from FILE and report its features (repeatable). "
              "Use NAME alone for entries with a default file.")
@_friendly
def layers(catalogue, checks):
    """List the attractor catalogue, or load entries to check them.

    \b
    Examples:
      rtm layers
      rtm layers --check pubs=london_pois.zip --check liquor_retail
    """
    from .catalogue import load_catalogue

    specs = load_catalogue(catalogue)
    if not checks:
        click.echo(f"{'name':<24}{'treatment':<11}{'max m':>7}  {'filter':<32} title")
        for s in specs.values():
            click.echo(f"{s.name:<24}{s.operationalisation:<11}{s.max_influence_m:>7g}  "
                       f"{(s.where or '-'):<32} {s.title}")
        return
    for item in checks:
        name, _, file = item.partition("=")
        if name not in specs:
            raise InputError("--check", f"no catalogue entry is called '{name}'",
                             f"choose from: {', '.join(specs)}")
        layer = specs[name].load(file or None)
        click.echo(layer.report.to_text())
        click.echo(f"Layer '{layer.name}': {len(layer):,} {layer.kind} features\n")


@main.command(context_settings=CONTEXT)
@click.option("--write", type=click.Path(), help="Copy the default CCHI weights table here to edit it.")
@_friendly
def weights(write):
    """Show the default harm weights (CCHI days), or copy them to a CSV to edit.

    The table maps each police.uk offence category to days of imprisonment at the
    sentencing starting point (Cambridge Crime Harm Index). Edit the copy and pass it to
    other commands with --weights FILE.
    """
    import shutil

    from .weights import HarmWeights, default_weights_path

    if write:
        if Path(write).exists():
            raise InputError(write, "the file already exists", "choose a new file name or delete the old file")
        shutil.copyfile(default_weights_path(), write)
        click.echo(f"Wrote the default weights to {write}")
        return
    table = HarmWeights.cchi().table
    for r in table.itertuples(index=False):
        click.echo(f"{r.offence_type:<32}{r.weight:>9g}  {r.notes if isinstance(r.notes, str) else ''}")


if __name__ == "__main__":  # pragma: no cover
    main()
