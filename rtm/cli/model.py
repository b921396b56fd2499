"""``rtm model``: fit a risk terrain model and write its factors, risk map and report."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError, output_folder
from .group import CONTEXT, friendly
from .options import (DISTANCE, SIZE, Progress, area_options, column_map, count_line, factor_options, limits,
                      mapping_options, pairs, weight_options)


@click.command(context_settings=CONTEXT)
@click.option("--incidents", "incidents", multiple=True, required=True, type=click.Path(), metavar="PATH",
              help="Incident file, folder or zip (repeat for several), read as by 'rtm validate'.")
@factor_options("A risk factor from a file (repeatable). Without a FILTER the whole file is used; "
                "pubs=pois.zip:'fclass = pub' applies a filter, pubs=pois.zip:catalogue the catalogue "
                "entry's own. Without --factors or --layer, every catalogue entry whose default file "
                "covers the study area is used.")
@area_options(required=True)
@click.option("--cell-size", required=True, type=SIZE, metavar="METRES",
              help="Grid cell size, e.g. 100 (about half a block length).")
@click.option("--block-length", required=True, type=SIZE, metavar="METRES",
              help="Typical street block length: the unit of spatial influence.")
@click.option("--bands", type=click.IntRange(1, 20), default=3, show_default=True,
              help="How many spatial influences to test.")
@click.option("--increment", type=click.Choice(["whole", "half"]), default="whole", show_default=True,
              help="Step between spatial influences: whole or half block lengths.")
@weight_options("count", "What each incident counts for: 'count' (1 each, the RTMDx model), 'cchi' "
                 "(harm days; the fit becomes a quasi-likelihood) or a weights CSV.")
@click.option("--buffer", type=DISTANCE, metavar="METRES",
              help="Keep attractors this far outside the study area (default: the largest spatial "
              "influence tested, the farthest any feature can reach a cell).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the cross-validation folds.")
@click.option("--family", type=click.Choice(["auto", "poisson", "nb1", "nb2", "negbin"]), default="auto",
              show_default=True, help="Count model: auto lets BIC choose among Poisson, NB1 (variance "
              "mu(1+delta), RTMDx's) and NB2 (mu + alpha mu^2); negbin is NB2.")
@click.option("--factor-limit", type=click.Choice(["operationalisation", "factor"]), default="operationalisation",
              show_default=True, help="A factor enters the model once per operationalisation (as proximity "
              "and as density) or once in all.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for the output files.")
@mapping_options
@friendly
def model(incidents, catalogue, factors, layer_items, treatments, area, area_field, area_select, area_tolerance,
          cell_size, block_length, bands, increment, weights, unknown, default_weight, buffer, seed, family,
          factor_limit, out, **kw):
    """Fit a risk terrain model and write its factors, risk map and report.

    Each risk factor (an attractor layer) is tested as proximity and as density (unless
    --operationalisation says otherwise) at BANDS distances of whole or half block lengths;
    an elastic net and a stepwise BIC search pick the factors, and BIC the count model
    (Poisson, NB1 or NB2), after RTMDx. The output folder gets:

    \b
      rtm_factors.csv   the final model: type, variable, factor, operationalisation,
                        spatial_influence_m, coefficient, std_error, p_value, rrv
      risk_terrain.tif  relative risk score per cell (GeoTIFF; NaN outside the area)
      report.html       the model report (self-contained, printable)
      risk_factors.tif  where each selected variable is present, and terrain.json: with
      terrain.json      risk_terrain.tif they let 'rtm weekly --model DIR' reuse the model
      risk_terrain.qml  its QGIS style; risk_terrain.provenance.json: inputs (sha256),
                        data window, settings, software (also in terrain.json and the report)

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
    from ..areas import load_areas
    from ..catalogue import factor_treatments, load_factors, plan_factors
    from ..incidents import load_incidents
    from ..pipeline import run_rtm, write_outputs
    from ..terrain_settings import RtmSettings
    from ..weights import HarmWeights

    output_folder(out, create=False)  # before the fit: a folder that cannot be written is said at once
    treat = pairs(treatments, "operationalisations")
    plan = plan_factors(catalogue, factors, layer_items, treat)
    ops, max_m = factor_treatments(plan)
    settings = RtmSettings(cell_size, block_length, bands, increment, ops | treat, max_m, seed, family,
                           factor_limit)
    hw = HarmWeights.from_name(weights, unknown, default_weight)
    areas = load_areas(area, area_field, select=list(area_select) or None, working_crs=kw["working_crs"])
    if not factors and not layer_items:  # the catalogue's entries whose default file covers the area
        from ..catalogue import covering

        plan = covering(plan, areas)
        ops, max_m = factor_treatments(plan)
        settings = RtmSettings(cell_size, block_length, bands, increment, ops | treat, max_m, seed, family,
                               factor_limit)
        click.echo(f"Factors (catalogue entries whose file covers the area): {', '.join(f.name for f in plan)}")
    area_km2 = areas.frame.area.sum() / 1e6
    click.echo(f"Study area: {Path(area).name}: {len(areas.names)} district(s) ({', '.join(areas.names[:8])}"
               f"{', ...' if len(areas.names) > 8 else ''}), {area_km2:,.2f} km2, {areas.crs.to_string()}")
    inc = load_incidents(list(incidents), mapping=column_map(kw), crs=kw["crs"], working_crs=areas.crs, weights=hw,
                         areas=areas, area_tolerance_m=area_tolerance, dayfirst=not kw["month_first"],
                         limits=limits(kw), progress=Progress("reading"))
    click.echo(count_line("Incidents", inc.report) + f" (counted as: {hw.scheme})")
    if inc.report.rows_used < 2:
        raise InputError(incidents[0], f"only {inc.report.rows_used} incident(s) are usable in the study area",
                         "check the files with 'rtm validate' and the area with --area/--area-select")
    buffer_m = settings.attractor_buffer() if buffer is None else buffer
    layers = load_factors(plan, areas, buffer_m, Progress())
    for name, layer in layers.items():
        click.echo(count_line(f"Layer {name}", layer.report) + f" ({layer.kind}s within {buffer_m:g} m of the area)")
    result = run_rtm(inc, areas, layers, settings, progress=Progress())
    result.inputs.update({"incidents": ", ".join(Path(p).name for p in incidents),
                          "weights": f"{hw.scheme} ({'1 per incident' if hw.scheme == 'count' else 'harm weights'})",
                          "area": f"{Path(area).name}: {', '.join(areas.names)}",
                          "Attractor buffer": f"{buffer_m:g} m around the study area",
                          "Seed": str(seed)})
    m = result.model
    from ..model import FAMILY_TITLES, FAMILY_VARIANCE

    others = ", ".join(f"{FAMILY_TITLES[f]} {b:,.1f}" for f, b in m.family_bic_.items())
    click.echo(f"\nModel: {FAMILY_TITLES[m.family_]} ({FAMILY_VARIANCE[m.family_]}), BIC {m.bic_:,.1f} "
               f"(BIC by family: {others}); {m.n_cells_:,} cells, {m.n_cells_with_events_:,} with incidents")
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
    from ..provenance import model_provenance

    given = {"area": Path(area).name, "area_field": area_field, "area_select": list(area_select),
             "area_tolerance_m": area_tolerance, "attractor_buffer_m": buffer_m, "seed": seed}
    paths = write_outputs(result, out, provenance=model_provenance(result, inc, hw, layers=layers, settings=given))
    click.echo("\nWrote:")
    for p in paths.values():
        click.echo(f"  {p}")
