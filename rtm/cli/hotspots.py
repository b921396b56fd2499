"""``rtm hotspots``: harm-weighted Gi* hot spots with false discovery rate control and
emerging hot spot classes on the list's grid (:mod:`rtm.gistar`, :mod:`rtm.emerging`)."""

from __future__ import annotations

import click

from ..errors import output_folder
from .group import CONTEXT, friendly, option_error
from .options import (DISTANCE, SIZE, Bounded, Progress, area_options, count_line, mapping_options, period_of,
                      study_inputs, weight_options)


@click.command(context_settings=CONTEXT)
@click.option("--incidents", "incidents", multiple=True, required=True, type=click.Path(), metavar="PATH",
              help="Incident file, folder or zip (repeat for several), read as by 'rtm validate'.")
@area_options(required=True)
@click.option("--week", metavar="YYYY-MM-DD", help="Any day of the week the analysis leads up to.")
@click.option("--month", metavar="YYYY-MM", help="The month the analysis leads up to (month-only data).")
@click.option("--week-start", default="monday", show_default=True, help="First day of the week.")
@weight_options("cchi", "Harm weights: 'cchi' (Cambridge Crime Harm Index defaults), 'count' or a weights CSV.")
@click.option("--spot-size", type=SIZE, default=150.0, show_default=True,
              metavar="METRES", help="Cell size (the list's harm-spot grid).")
@click.option("--distance", "distance_m", type=DISTANCE, metavar="METRES",
              help="Gi* distance band (default: the eight neighbouring cells, spot size x 1.42).")
@click.option("--fdr", "alpha", type=Bounded(0, 1, "", "0.05", low_open=True, high_open=True), default=0.05,
              show_default=True, help="False discovery rate (Benjamini-Hochberg).")
@click.option("--periods", type=click.IntRange(4, 520), metavar="N",
              help="Weeks (or months) in the emerging hot spot series (default 52 weeks or 12 months).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output folder.")
@mapping_options
@friendly
def hotspots(incidents, area, area_field, area_select, area_tolerance, week, month, week_start, weights, unknown,
             default_weight, spot_size, distance_m, alpha, periods, out, **kw):
    """Harm hot spots (Gi*) and emerging hot spot classes before a week or month.

    Gi* is computed on the harm (not the count) of the year before the period, cell by
    cell on the list's grid, with a distance band in metres and Benjamini-Hochberg false
    discovery rate control. Emerging classes (new, consecutive, intensifying, persistent,
    diminishing, sporadic, oscillating, historical hot and cold spots, as in ArcGIS's
    Emerging Hot Spot Analysis; and sfhotspot's persistent, emerging, former, intermittent)
    come from Gi* of each week (or month) and the Mann-Kendall trend (docs/hotspots.md).

    \b
    OUT gets hotspots_<kind>_<period>.gpkg (layers gistar and emerging),
    hotspots_<kind>_<period>_gistar.tif and hotspots_<kind>_<period>_classes.tif.

    \b
    Example:
      rtm hotspots --incidents sample_geo/chicago/assaults_2016_2019.csv \\
          --offence-value "Aggravated assault" --weights count \\
          --area sample_geo/chicago/districts.geojson --area-field District \\
          --week 2019-03-04 --distance 300 --out chicago_hotspots
    """
    import numpy as np

    from ..emerging import EHSA_CLASSES, EmergingSettings, emerging_hotspots
    from ..gistar import harm_gistar
    from ..grid import Grid
    from ..hotspot_files import write_hotspot_files
    from ..periods import history
    from ..weekly import ListSettings
    from ..weekly_job import load_study
    from ..weights import HarmWeights

    output_folder(out, create=False)  # before any work: a folder that cannot be written is said at once
    period = period_of(week, month, week_start)
    settings = EmergingSettings(periods=periods, distance_m=distance_m, alpha=alpha)
    hw = HarmWeights.from_name(weights, unknown, default_weight)
    areas, inc = load_study(study_inputs(incidents, area, area_field, area_select, area_tolerance, hw, kw),
                            Progress("reading"))
    click.echo(count_line("Incidents", inc.report) + f" (resolution {inc.resolution}, weights {hw.scheme})")
    if inc.resolution == "month" and period.kind == "week":
        raise option_error("--week", "the incidents are dated by month only, so weekly hot spots would invent days",
                           "use --month")
    grid = Grid.from_areas(areas, spot_size,  # the list's grid, widened as the list's is
                           edge_m=ListSettings(spot_size=spot_size, area_tolerance_m=area_tolerance).edge_m)
    year = history(inc.frame, period)
    if not len(year):
        raise option_error("--week / --month", f"no incident is recorded in the year before the {period.label}",
                           f"choose a period after the data starts ({inc.report.date_min})")
    gi = harm_gistar(grid, year["x"], year["y"], year["weight"], distance_m=distance_m, alpha=alpha)
    click.echo(f"Gi* on the harm of the {period.window_text('year')} before the {period.label} "
               f"({len(year):,} incidents, {int(grid.mask.sum()):,} cells of {spot_size:g} m, band "
               f"{gi.distance_m:g} m): {int(gi.hot.sum())} hot and {int(gi.cold.sum())} cold cell(s) at a false "
               f"discovery rate of {alpha:g}")
    em = emerging_hotspots(grid, inc.frame, period, settings)
    click.echo(f"Emerging hot spots over {len(em.periods)} {period.kind}(s)"
               + (f" ({len(em.skipped)} with no incident at all left out as missing)" if em.skipped else "") + ":")
    codes, counts = np.unique(em.ehsa[grid.mask], return_counts=True)
    for c, n in sorted(zip(codes, counts), key=lambda t: -t[1]):
        if c != 0:
            click.echo(f"  {EHSA_CLASSES[int(c)]}: {n} cell(s)")
    provenance = {"period": period.label, "weights": hw.scheme, "cell_size_m": spot_size,
                  "distance_m": gi.distance_m, "fdr": f"Benjamini-Hochberg at {alpha:g}",
                  "periods": [p.key for p in em.periods]}
    paths = write_hotspot_files(out, f"hotspots_{period.kind}_{period.key}", gi, em, provenance)
    click.echo("Wrote:")
    for p in paths.values():
        click.echo(f"  {p}")

