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
    and fit a risk terrain model (see 'rtm model --help'):
      rtm model --incidents burglaries.geojson --area districts.geojson --factors liquor_retail \\
          --cell-size 100 --block-length 100 --out my_rtm

    Every command prints what it did with each input row; run 'rtm COMMAND --help' for
    the options of each.
    """


class _Bandwidth(click.ParamType):
    """A bandwidth option: positive metres, or the word 'silverman' (a data-driven rule)."""

    name = "bandwidth"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)) or value is None:
            return value
        if str(value).strip().lower() == "silverman":
            return "silverman"
        try:
            metres = float(value)
        except ValueError:
            metres = float("nan")
        if not metres > 0:
            self.fail(f"'{value}' is neither a positive number of metres nor 'silverman'", param, ctx)
        return metres


BANDWIDTH = _Bandwidth()


def _stack(options):
    """One decorator applying click options in the order listed."""

    def apply(fn):
        for o in reversed(options):
            fn = o(fn)
        return fn

    return apply


def _area_options(required: bool):
    """--area, --area-field, --area-select and --area-tolerance, shared by the commands."""
    opts = [
        click.option("--area", "--areas", "area", required=required, type=click.Path(),
                     help="Boundary polygons of the study area (any vector format)."),
        click.option("--area-field", help="Field naming each polygon's district. LSOA-style names "
                     "('Southend-on-Sea 003A') are grouped by the text before the code."),
        click.option("--area-select", multiple=True, help="Keep only this district (repeat for several)."),
        click.option("--area-tolerance", type=click.FloatRange(min=0), default=0.0, show_default=True,
                     metavar="METRES", help="Keep points up to this far outside the area (generalised "
                     "boundaries cut off coasts and edge streets) and give them the nearest district."),
    ]
    return _stack(opts)


def _weight_options(default: str, help_text: str):
    """--weights, --unknown and --default-weight, shared by the commands."""
    opts = [
        click.option("--weights", default=default, show_default=True, help=help_text),
        click.option("--unknown", type=click.Choice(["reject", "zero", "default"]), default="reject",
                     show_default=True, help="What to do with offence types the weights table does not list."),
        click.option("--default-weight", type=float, help="Weight for unknown types with --unknown default."),
    ]
    return _stack(opts)


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
        click.option("--date-format", help="Explicit format of the date column, e.g. '%d.%m.%Y %H:%M' "
                     "(Python strptime codes), for formats not recognised unaided."),
        click.option("--max-file-mb", type=click.FloatRange(min=0, min_open=True), default=1024, show_default=True,
                     help="Refuse an input file larger than this once decompressed (load setting max_file_mb)."),
        click.option("--max-rows", type=click.IntRange(min=1), default=20_000_000, show_default=True,
                     help="Refuse inputs with more rows than this (load setting max_rows)."),
    ]
    return _stack(opts)(fn)


def _limits(kw):
    from .sources import LoadLimits

    return LoadLimits(max_file_mb=kw["max_file_mb"], max_rows=kw["max_rows"])


def _column_map(kw):
    from .layouts import ColumnMap

    roles = dict(id=kw["id_col"], date=kw["date_col"], lon=kw["lon_col"], lat=kw["lat_col"], x=kw["x_col"],
                 y=kw["y_col"], offence=kw["offence_col"], weight=kw["weight_col"],
                 offence_value=kw["offence_value"], date_format=kw["date_format"])
    return ColumnMap(**roles) if any(roles.values()) else None


@main.command(context_settings=CONTEXT)
@click.argument("incidents", nargs=-1, required=True, type=click.Path())
@_area_options(required=False)
@_weight_options("cchi", "Harm weights: 'cchi' (Cambridge Crime Harm Index defaults), 'count' (every "
                 "incident 1) or the path of an edited weights CSV (see 'rtm weights').")
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
                         limits=_limits(kw), progress=_Progress("reading"))
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


def _split_layer(item: str) -> tuple[str, str, str | None]:
    """``NAME=FILE[:FILTER]`` -> (name, file, filter); a Windows drive letter is not a filter."""
    name, eq, rest = item.partition("=")
    if not eq or not name.strip() or not rest.strip():
        raise InputError("--layer", f"'{item}' is not NAME=FILE", "write e.g. --layer pubs=london_pois.zip")
    if Path(rest).exists():
        return name.strip(), rest, None
    start = 2 if len(rest) > 2 and rest[1] == ":" and rest[2] in "\\/" else 0
    cut = rest.find(":", start)
    if cut < 0:
        return name.strip(), rest, None
    return name.strip(), rest[:cut], rest[cut + 1:].strip() or None


def _pairs(items, option: str) -> dict[str, str]:
    out = {}
    for item in items:
        k, eq, v = item.partition("=")
        if not eq or not k.strip() or not v.strip():
            raise InputError(option, f"'{item}' is not NAME=VALUE", f"write e.g. {option} liquor_retail=density")
        out[k.strip()] = v.strip()
    return out


def _plan_factors(catalogue, factors, layer_items, treatments) -> list[tuple]:
    """Check the factor options before any file is read: (name, spec or None, file, filter) each."""
    from .catalogue import load_catalogue
    from .variables import OPERATIONALISATIONS

    names = [n.strip() for item in factors for n in item.split(",") if n.strip()]
    specs = load_catalogue(catalogue) if names or Path(catalogue).is_dir() else {}
    plan = []
    for n in names:
        if n not in specs:
            raise InputError("--factors", f"no catalogue entry is called '{n}'",
                             f"choose from: {', '.join(specs)} (see 'rtm layers --catalogue {catalogue}')")
        plan.append((n, specs[n], None, None))
    for item in layer_items:
        n, file, where = _split_layer(item)
        plan.append((n, specs.get(n), file, where))
    seen = [p[0] for p in plan]
    for n in seen:
        if seen.count(n) > 1:
            raise InputError("--factors", f"the factor '{n}' is named twice", "name each factor once")
        if not n.replace("_", "").isalnum():
            raise InputError("--layer", f"the factor name '{n}' is not a single word",
                             "use letters, digits and underscores, e.g. --layer bus_stops=FILE")
    if not plan:
        # no factor named: every catalogue entry that has a default file
        plan = [(n, sp, None, None) for n, sp in specs.items() if sp.file is not None]
        seen = [p[0] for p in plan]
    if not plan:
        raise InputError("--factors", "no risk factor was given and no catalogue entry has a default file",
                         "name catalogue entries with --factors or files with --layer NAME=FILE")
    for n, op in treatments.items():
        if n not in seen:
            raise InputError("--operationalisation", f"'{n}' is not one of the factors ({', '.join(seen)})",
                             "name a factor given with --factors or --layer")
        if op not in OPERATIONALISATIONS:
            raise InputError("--operationalisation", f"the operationalisation '{op}' of '{n}' is not one of "
                             f"{', '.join(OPERATIONALISATIONS)}", "choose one of them")
    return plan


def _load_factors(plan, areas, buffer_m):
    """Load the planned factors; returns (layers, requested treatment, max influence) by name."""
    from .layers import load_layer

    layers, ops, max_m = {}, {}, {}
    for n, spec, file, where in plan:
        click.echo(f"  loading layer {n} ...", err=True)
        if spec is not None and where is None:
            layers[n] = spec.load(file, areas=areas, buffer_m=buffer_m)
        else:
            layers[n] = load_layer(file, name=n, where=where, areas=areas, buffer_m=buffer_m)
        if spec is not None:
            ops[n], max_m[n] = spec.operationalisation, spec.max_influence_m
    return layers, ops, max_m


def _load_study(incidents, area, area_field, area_select, area_tolerance, hw, kw):
    """Load the study area and the incidents for 'rtm weekly' and 'rtm backtest' and print
    the accounting line; (areas, incidents). InputError when no incident is usable."""
    from .areas import load_areas
    from .incidents import load_incidents

    areas = load_areas(area, area_field, select=list(area_select) or None, working_crs=kw["working_crs"])
    inc = load_incidents(list(incidents), mapping=_column_map(kw), crs=kw["crs"], working_crs=areas.crs, weights=hw,
                         areas=areas, area_tolerance_m=area_tolerance, dayfirst=not kw["month_first"],
                         limits=_limits(kw), progress=_Progress("reading"))
    click.echo(_count_line("Incidents", inc.report) + f" ({inc.report.date_min} to {inc.report.date_max}, "
               f"resolution {inc.resolution}, weights {hw.scheme})")
    if inc.report.rows_used == 0:
        raise InputError(incidents[0], "no incident is usable in the study area",
                         "check the files with 'rtm validate' and the area with --area/--area-select")
    return areas, inc


def _count_line(what: str, report) -> str:
    why = ", ".join(f"{r.replace('_', ' ')} {k:,}" for r, k in report.rejected.items())
    return f"{what}: {report.rows_in:,} in, {report.rows_used:,} used" + (f", rejected: {why}" if why else "")


@main.command(context_settings=CONTEXT)
@click.option("--incidents", "incidents", multiple=True, required=True, type=click.Path(), metavar="PATH",
              help="Incident file, folder or zip (repeat for several), read as by 'rtm validate'.")
@click.option("--catalogue", type=click.Path(), default="layers", show_default=True,
              help="The attractor catalogue folder (one TOML file per attractor).")
@click.option("--factors", multiple=True, metavar="NAME[,NAME]",
              help="Catalogue entries to test as risk factors, loaded from their default files "
              "with their filter and treatment (repeatable). Without --factors or --layer, every "
              "catalogue entry that has a default file is used.")
@click.option("--layer", "layer_items", multiple=True, metavar="NAME=FILE[:FILTER]",
              help="A risk factor from a file (repeatable). When NAME is a catalogue entry its filter "
              "and treatment apply unless a FILTER is given, e.g. pubs=pois.zip:'fclass = pub'.")
@click.option("--operationalisation", "treatments", multiple=True, metavar="NAME=OP",
              help="Treat factor NAME as proximity, density, both or auto (repeatable; default: the "
              "catalogue's, else auto).")
@_area_options(required=True)
@click.option("--cell-size", required=True, type=click.FloatRange(min=0, min_open=True), metavar="METRES",
              help="Grid cell size, e.g. 100 (about half a block length).")
@click.option("--block-length", required=True, type=click.FloatRange(min=0, min_open=True), metavar="METRES",
              help="Typical street block length: the unit of spatial influence.")
@click.option("--bands", type=click.IntRange(1, 20), default=3, show_default=True,
              help="How many spatial influences to test.")
@click.option("--increment", type=click.Choice(["whole", "half"]), default="whole", show_default=True,
              help="Step between spatial influences: whole or half block lengths.")
@_weight_options("count", "What each incident counts for: 'count' (1 each, the RTMDx model), 'cchi' "
                 "(harm days; the fit becomes a quasi-likelihood) or a weights CSV.")
@click.option("--buffer", type=click.FloatRange(min=0), metavar="METRES",
              help="Keep attractors this far outside the study area (default: the largest spatial "
              "influence tested, the farthest any feature can reach a cell).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the cross-validation folds.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for the output files.")
@_mapping_options
@_friendly
def model(incidents, catalogue, factors, layer_items, treatments, area, area_field, area_select, area_tolerance,
          cell_size, block_length, bands, increment, weights, unknown, default_weight, buffer, seed, out, **kw):
    """Fit a risk terrain model and write its factors, risk map and report.

    Each risk factor (an attractor layer) is tested as proximity or density at BANDS
    distances of whole or half block lengths; an elastic net and a stepwise BIC search
    pick the factors, Poisson or negative binomial, as in RTMDx. The output folder gets:

    \b
      rtm_factors.csv   the final model: type, variable, factor, operationalisation,
                        spatial_influence_m, coefficient, std_error, p_value, rrv
      risk_terrain.tif  relative risk score per cell (GeoTIFF; NaN outside the area)
      report.html       the model report (self-contained, printable)
      risk_factors.tif  where each selected variable is present, and terrain.json: with
      terrain.json      risk_terrain.tif they let 'rtm weekly --model DIR' reuse the model

    Exit status: 0 when the files are written, 2 when an input or setting cannot be used.
    docs/rtm.md explains the method.

    \b
    Example (the bundled Chicago sample, from the project folder):
      rtm model --incidents sample_geo/chicago/burglaries_2017.geojson \\
          --area sample_geo/chicago/districts.geojson --area-field District \\
          --factors liquor_retail,abandoned_buildings,street_lights_out \\
          --cell-size 100 --block-length 100 --bands 3 --out chicago_rtm
    \b
    With your own files:
      rtm model --incidents burglaries.csv --lon-col lon --lat-col lat --offence-value Burglary \\
          --area force_lsoa.geojson --area-field LSOA11NM --area-select Southend-on-Sea \\
          --layer pubs=pois.zip --layer shops=shops.gpkg --operationalisation shops=proximity \\
          --cell-size 100 --block-length 120 --bands 4 --increment half --out southend_rtm
    """
    from .areas import load_areas
    from .incidents import load_incidents
    from .pipeline import attractor_buffer, run_rtm, write_outputs
    from .weights import HarmWeights

    treat = _pairs(treatments, "--operationalisation")
    plan = _plan_factors(catalogue, factors, layer_items, treat)
    hw = HarmWeights.from_name(weights, unknown, default_weight)
    areas = load_areas(area, area_field, select=list(area_select) or None, working_crs=kw["working_crs"])
    area_km2 = areas.frame.area.sum() / 1e6
    click.echo(f"Study area: {Path(area).name}: {len(areas.names)} district(s) ({', '.join(areas.names[:8])}"
               f"{', ...' if len(areas.names) > 8 else ''}), {area_km2:,.2f} km2, {areas.crs.to_string()}")
    inc = load_incidents(list(incidents), mapping=_column_map(kw), crs=kw["crs"], working_crs=areas.crs, weights=hw,
                         areas=areas, area_tolerance_m=area_tolerance, dayfirst=not kw["month_first"],
                         limits=_limits(kw), progress=_Progress("reading"))
    click.echo(_count_line("Incidents", inc.report) + f" (counted as: {hw.scheme})")
    if inc.report.rows_used < 2:
        raise InputError(incidents[0], f"only {inc.report.rows_used} incident(s) are usable in the study area",
                         "check the files with 'rtm validate' and the area with --area/--area-select")
    buffer_m = attractor_buffer(block_length, bands, increment) if buffer is None else buffer
    layers, ops, max_m = _load_factors(plan, areas, buffer_m)
    for name, layer in layers.items():
        click.echo(_count_line(f"Layer {name}", layer.report) + f" ({layer.kind}s within {buffer_m:g} m of the area)")
    ops.update(treat)

    def stage(msg):
        click.echo(f"  {msg} ...", err=True)

    result = run_rtm(inc, areas, layers, cell_size=cell_size, block_length=block_length, bands=bands,
                     increment=increment, operationalisations=ops, max_influence_m=max_m or None,
                     random_state=seed, progress=stage)
    result.inputs.update({"incidents": ", ".join(Path(p).name for p in incidents),
                          "weights": f"{hw.scheme} ({'1 per incident' if hw.scheme == 'count' else 'harm weights'})",
                          "area": f"{Path(area).name}: {', '.join(areas.names)}",
                          "Attractor buffer": f"{buffer_m:g} m around the study area",
                          "Seed": str(seed)})
    dates = inc.frame["date_end"].dropna()
    if len(dates):  # what the fitted terrain saw, so 'rtm weekly --model' can refuse look-ahead
        result.inputs["fitted"] = {"data_from": f"{inc.frame['date_start'].min():%Y-%m-%d}",
                                   "data_to": f"{dates.max():%Y-%m-%d}"}
    m = result.model
    click.echo(f"\nModel: {m.family_.replace('negbin', 'negative binomial')}, BIC {m.bic_:,.1f} "
               f"(Poisson {m.family_bic_.get('poisson', float('nan')):,.1f}, negative binomial "
               f"{m.family_bic_.get('negbin', float('nan')):,.1f}); {m.n_cells_:,} cells, "
               f"{m.n_cells_with_events_:,} with incidents")
    table = result.factors
    if not len(table):
        click.echo("No risk factor improved on the null model: every cell scores 1.")
    else:
        click.echo(f"{'type':<15}{'factor':<24}{'treatment':<11}{'m':>6}{'coef':>9}{'SE':>8}{'p':>10}{'RRV':>8}")
        for r in table.itertuples(index=False):
            dist = "" if r.type != "rate" else f"{r.spatial_influence_m:g}"
            rrv = "" if r.type != "rate" else f"{r.rrv:.2f}"
            click.echo(f"{r.type:<15}{(r.factor or r.variable):<24}{r.operationalisation:<11}{dist:>6}"
                       f"{r.coefficient:>9.3f}{r.std_error:>8.3f}{r.p_value:>10.2g}{rrv:>8}")
    top = result.classes.iloc[0]
    click.echo(f"Highest risk class (RRS >= {top.rrs_from:.2f}): {100 * top.share_of_area:.1f}% of the area, "
               f"{100 * top.share_of_incidents:.1f}% of the incidents")
    paths = write_outputs(result, out)
    click.echo("\nWrote:")
    for p in paths.values():
        click.echo(f"  {p}")


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


from . import cli_weekly  # noqa: E402,F401  (registers 'rtm weekly')
from . import cli_backtest  # noqa: E402,F401  (registers 'rtm backtest')


if __name__ == "__main__":  # pragma: no cover
    # run as 'python -m rtm.cli': use the package's module, on which the subcommands registered
    from rtm.cli import main as _main

    _main()
