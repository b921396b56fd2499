"""Real-data check of the risk terrain model: fit on Chicago burglaries 2017, test on 2018.

Inputs (``../shared/data/chicago``, see its README.txt): the city boundary, burglaries 2017
(fit) and 2018 (test), and five attractor layers: liquor retail, abandoned buildings,
street lights out, sanitation complaints (311, 2017) and abandoned cars (311, 2017).

Prints the model table, then for each risk class its share of the area and of the 2017
(fitting) and 2018 (test) burglaries, the predictive accuracy index (PAI = share of
incidents / share of area) of each class, and, for scale, the PAI of a kernel-density
hotspot map of the 2017 burglaries cut to the same area as the highest risk class.

Run from the project folder::

    .venv/bin/python bench/validate_rtm_chicago.py                   # whole city
    .venv/bin/python bench/validate_rtm_chicago.py --out chicago_rtm # also write the outputs
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "chicago"
CH5, SHP = DATA / "urbanspatial_ch5", DATA / "urbanspatial_ch5_shp"
LAYERS = {
    "liquor_retail": CH5 / "liquorRetail.geojson",
    "abandoned_buildings": CH5 / "abandonBuildings.geojson",
    "street_lights_out": CH5 / "streetLightsOut.geojson",
    "sanitation": CH5 / "sanitation.geojson",
    "abandoned_cars": SHP / "abandoned_cars" / "abandoned_cars.shp",
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cell-size", type=float, default=100.0)
    ap.add_argument("--block-length", type=float, default=200.0)
    ap.add_argument("--bands", type=int, default=6)
    ap.add_argument("--increment", default="half", choices=["whole", "half"])
    ap.add_argument("--hotspot-bandwidth", type=float, default=300.0,
                    help="bandwidth (m) of the kernel-density hotspot baseline")
    ap.add_argument("--operationalisation", default="both", choices=["both", "auto"],
                    help="treatment of every factor (default both, the engine's default)")
    ap.add_argument("--out", help="also write rtm_factors.csv, risk_terrain.tif and report.html here")
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"{DATA} is absent: this check needs the shared data folder next to the project", file=sys.stderr)
        return 2

    from rtm.areas import load_areas
    from rtm.incidents import load_incidents
    from rtm.layers import load_layer
    from rtm.risk_output import risk_classes
    from rtm.pipeline import run_rtm, write_outputs
    from rtm.terrain_settings import RtmSettings
    from rtm.variables import attractor_buffer
    from rtm.surfaces import harm_surface
    from rtm.weights import HarmWeights

    t0 = time.perf_counter()
    areas = load_areas(CH5 / "chicagoBoundary.geojson")
    count = HarmWeights.count()
    fit = load_incidents(CH5 / "burglaries17.geojson", weights=count, areas=areas, working_crs=areas.crs)
    test = load_incidents(SHP / "burglaries18" / "burglaries18.shp", weights=count, areas=areas,
                          working_crs=areas.crs)
    reach = attractor_buffer(args.block_length, args.bands, args.increment)
    layers = {n: load_layer(p, name=n, areas=areas, buffer_m=reach) for n, p in LAYERS.items()}
    t_load = time.perf_counter() - t0
    print(f"Study area: {areas.frame.area.sum() / 1e6:,.1f} km2 ({areas.crs.to_string()}); burglaries 2017 "
          f"{fit.report.rows_used:,} of {fit.report.rows_in:,}, 2018 {test.report.rows_used:,} of "
          f"{test.report.rows_in:,} inside the city")
    for n, lay in layers.items():
        print(f"  {n:<20} {len(lay):>7,} features within {reach:g} m of the city (of {lay.report.rows_in:,})")

    t1 = time.perf_counter()
    res = run_rtm(fit, areas, layers, RtmSettings(args.cell_size, args.block_length, args.bands, args.increment,
                                                  {n: args.operationalisation for n in layers}))
    t_model = time.perf_counter() - t1
    m = res.model
    print(f"\nSettings: cell {args.cell_size:g} m, block {args.block_length:g} m, {args.bands} bands of "
          f"{args.increment} blocks ({', '.join(f'{d:g}' for d in res.spatial_influences)} m); "
          f"{m.n_cells_:,} cells, {m.n_cells_with_events_:,} with a 2017 burglary")
    print(f"\nOperationalisation ({args.operationalisation}):")
    for c in res.variables.choices.itertuples():
        print(f"  {c.factor:<20} {c.used:<10} {c.reason}")
    print(f"\nModel: {m.family_} (BIC " + ", ".join(f"{f} {b:,.1f}" for f, b in m.family_bic_.items())
          + f"); {len(m.candidates_)} candidates, {len(m.preselected_)} kept by the elastic net")
    print("| factor | operationalisation | spatial influence (m) | coefficient | SE | p-value | RRV |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in res.factors.itertuples():
        if r.type == "rate":
            print(f"| {r.factor} | {r.operationalisation} | {r.spatial_influence_m:g} | {r.coefficient:.3f} | "
                  f"{r.std_error:.3f} | {r.p_value:.2g} | {r.rrv:.2f} |")
        else:
            print(f"| overdispersion ({r.variable}) | | | {r.coefficient:.3f} | {r.std_error:.3f} | {r.p_value:.2g} | |")
    print(f"RRS from 1 to {res.rrs.max():.2f}")

    # validation: the 2018 burglaries in the same cells
    g = res.grid
    x, y = test.frame["x"].to_numpy(), test.frame["y"].to_numpy()
    c18 = g.counts(x, y).ravel()[g.mask.ravel()]
    t17 = res.classes
    t18 = risk_classes(res.rrs, c18)
    print(f"\nRisk classes: fitted on 2017 ({res.counts.sum():,.0f} burglaries in city cells), tested on 2018 "
          f"({c18.sum():,.0f})")
    print("| risk class | RRS | cells | share of area | share of 2017 | PAI 2017 | share of 2018 | PAI 2018 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for a, b in zip(t17.itertuples(), t18.itertuples()):
        rng = f">= {a.rrs_from:.2f}" if not np.isfinite(a.rrs_to) else (
            f"< {a.rrs_to:.2f}" if not np.isfinite(a.rrs_from) else f"{a.rrs_from:.2f} - {a.rrs_to:.2f}")
        pai17 = a.share_of_incidents / a.share_of_area if a.share_of_area else float("nan")
        pai18 = b.share_of_incidents / b.share_of_area if b.share_of_area else float("nan")
        print(f"| {a.risk_class} | {rng} | {a.cells:,} | {100 * a.share_of_area:.1f}% | "
              f"{100 * a.share_of_incidents:.1f}% | {pai17:.2f} | {100 * b.share_of_incidents:.1f}% | {pai18:.2f} |")
    top = t18.iloc[0]
    hit, area = top.share_of_incidents, top.share_of_area
    print(f"\nHighest class on 2018: {100 * area:.1f}% of the area holds {100 * hit:.1f}% of the burglaries: "
          f"PAI {hit / area:.2f}" if area else "\nThe highest class is empty.")

    # baseline: kernel density of 2017 burglaries, the same share of cells
    k = int(top.cells) or 1
    dens = harm_surface(g, fit.frame["x"], fit.frame["y"], fit.frame["weight"],
                        bandwidth_m=args.hotspot_bandwidth)[g.mask]
    order = np.argsort(-dens, kind="stable")[:k]
    share = c18[order].sum() / c18.sum()
    print(f"Baseline, 2017 kernel-density hotspots (quartic, {args.hotspot_bandwidth:g} m) on the same "
          f"{100 * k / len(dens):.1f}% of the area: {100 * share:.1f}% of 2018 burglaries, PAI "
          f"{share / (k / len(dens)):.2f}")
    print(f"\nTime: loading {t_load:.1f} s, model {t_model:.1f} s")
    if args.out:
        res.inputs.update({"incidents": "burglaries17.geojson (Chicago, 2017)", "weights": "count",
                           "area": "chicagoBoundary.geojson (City of Chicago)"})
        for p in write_outputs(res, args.out).values():
            print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
