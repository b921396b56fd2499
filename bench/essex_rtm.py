"""Risk terrain models of violence for the seven Operation Grip towns on Essex's real attractors.

For each town (Southend-on-Sea, Basildon, Colchester, Chelmsford, Harlow, Thurrock, Tendring;
its LSOA 2011 polygons in ``../shared/data/essex_policeuk``) the default model (every factor
as proximity and density, Poisson/NB1/NB2 by BIC) is fitted on police.uk "Violence and
sexual offences" of 2018-01..07 with three factors from ``../shared/data/uk_attractors``:

* ``licensed_premises``: every Open Pubs premises (FSA "Pub/bar/nightclub", 2017);
* ``bars_nightclubs``: those whose name marks a bar or nightclub (``rtm.premises``);
* ``rail_stations``: GB National Rail stations.

It is scored on the violence of 2018-10..2019-02 (Aug and Sep 2018 are missing from the
source): the share of later incidents in the RTM's highest risk class, against the same
number of cells picked by (a) the harm surface (quartic KDE, 200 m, of every crime of the
fitting months weighted by the Cambridge Crime Harm Index, as the harm-spot lists do) and
(b) naive counts (the cells with the most violence in the fitting months). PAI = share of
incidents / share of area.

Run: ``.venv/bin/python bench/essex_rtm.py [--cell-size 100 --block-length 100 --bands 4]``
(about a minute per town on a 2-core machine). Prints a Markdown table per town.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
ESSEX, ATTR = SHARED / "essex_policeuk", SHARED / "uk_attractors"
TOWNS = ("Southend-on-Sea", "Basildon", "Colchester", "Chelmsford", "Harlow", "Thurrock", "Tendring")
FIT = ("2018-01", "2018-02", "2018-03", "2018-04", "2018-05", "2018-06", "2018-07")
TEST = ("2018-10", "2018-11", "2018-12", "2019-01", "2019-02")
VIOLENCE = "Violence and sexual offences"


def premises_file(folder: Path) -> Path:
    """The Open Pubs CSV as GeoJSON with a ``kind`` column from the names (rows without coordinates dropped)."""
    import geopandas as gpd
    import pandas as pd

    from rtm.premises import premises_kind

    d = pd.read_csv(ATTR / "open_pubs.csv.gz", dtype=str, keep_default_na=False)
    e, n = pd.to_numeric(d["easting"], errors="coerce"), pd.to_numeric(d["northing"], errors="coerce")
    ok = e.notna() & n.notna()
    d = d[ok].assign(kind=d.loc[ok, "name"].map(premises_kind))
    gdf = gpd.GeoDataFrame(d[["fas_id", "name", "local_authority", "kind"]], crs="EPSG:27700",
                           geometry=gpd.points_from_xy(e[ok], n[ok]))
    path = folder / "open_pubs_kind.gpkg"
    gdf.to_file(path)
    return path


def top_share(score, later, k):
    """Share of ``later`` incidents in the ``k`` cells with the highest ``score`` (ties broken by cell order)."""
    order = np.argsort(-score, kind="stable")[:k]
    return later[order].sum() / later.sum()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cell-size", type=float, default=100.0)
    ap.add_argument("--block-length", type=float, default=100.0)
    ap.add_argument("--bands", type=int, default=4)
    ap.add_argument("--operationalisation", default="both", choices=["both", "auto"])
    ap.add_argument("--towns", default=",".join(TOWNS))
    a = ap.parse_args(argv)
    if not (ESSEX.is_dir() and ATTR.is_dir()):
        print(f"{ESSEX} or {ATTR} is absent: this needs the shared data folder next to the project", file=sys.stderr)
        return 2

    from rtm.areas import load_areas
    from rtm.catalogue import CATALOGUE_FILTER, Factor, load_catalogue
    from rtm.incidents import load_incidents
    from rtm.pipeline import run_rtm
    from rtm.risk_output import risk_classes
    from rtm.surfaces import harm_surface
    from rtm.terrain_settings import RtmSettings
    from rtm.weights import HarmWeights

    cat = load_catalogue(ROOT / "layers")
    tmp = Path(tempfile.mkdtemp())
    pubs = premises_file(tmp)
    files = {"licensed_premises": pubs, "bars_nightclubs": pubs,
             "rail_stations": ATTR / "uk_railway_stations_1.11.1.csv"}
    crime = sorted((ESSEX / "crime").glob("*.csv"))
    t0 = time.perf_counter()
    inc = load_incidents(crime, weights=HarmWeights.from_name("cchi"), working_crs="EPSG:27700")
    frame = inc.frame
    month = frame["date_start"].dt.strftime("%Y-%m")
    print(f"Essex crime: {len(frame):,} rows used of {inc.report.rows_in:,} ({time.perf_counter() - t0:.0f} s)")
    settings = RtmSettings(a.cell_size, a.block_length, a.bands,
                           operationalisations={n: a.operationalisation for n in files})
    summary = []
    for town in a.towns.split(","):
        t1 = time.perf_counter()
        areas = load_areas(ESSEX / "boundaries" / "essex_southend_thurrock_lsoa2011.geojson", "LSOA11NM",
                           select=[town], working_crs="EPSG:27700")
        union = areas.union
        import shapely

        inside = shapely.intersects_xy(union, frame["x"].to_numpy(), frame["y"].to_numpy())
        here = frame[inside]
        hm = month[inside]
        viol = here["offence_type"] == VIOLENCE
        fit = here[viol & hm.isin(FIT)].assign(weight=1.0)
        test = here[viol & hm.isin(TEST)]
        harm_fit = here[hm.isin(FIT)]
        layers = {n: Factor(n, cat[n], str(f), CATALOGUE_FILTER).load(areas=areas,
                                                                     buffer_m=settings.attractor_buffer())
                  for n, f in files.items()}
        res = run_rtm(fit, areas, layers, settings)
        m, g = res.model, res.grid
        later = g.counts(test["x"].to_numpy(), test["y"].to_numpy()).ravel()[g.mask.ravel()]
        t_cls = risk_classes(res.rrs, later)
        top = t_cls.iloc[0]
        k = int(top.cells)
        n_cells = len(res.rrs)
        harm = harm_surface(g, harm_fit["x"], harm_fit["y"], harm_fit["weight"], bandwidth_m=200.0)[g.mask]
        naive = res.counts
        share = {"rtm": top.share_of_incidents, "harm": top_share(harm, later, k) if k else np.nan,
                 "naive": top_share(naive + 1e-9 * harm / max(harm.max(), 1e-300), later, k) if k else np.nan}
        print(f"\n### {town}\n")
        print(f"{len(fit):,} violent incidents 2018-01..07 fitted ({res.n_incidents_modelled:,} in the "
              f"{n_cells:,} cells of {a.cell_size:g} m), {len(test):,} in 2018-10..2019-02 scored; layers: "
              + ", ".join(f"{n} {len(lay):,}" for n, lay in layers.items())
              + f". Model: {m.family_} (BIC " + ", ".join(f"{f} {b:,.1f}" for f, b in m.family_bic_.items())
              + f"); {time.perf_counter() - t1:.0f} s.\n")
        print("| factor | operationalisation | spatial influence (m) | RRV | p-value |")
        print("|---|---|---:|---:|---:|")
        rates = res.factors[res.factors["type"] == "rate"]
        for r in rates.itertuples():
            print(f"| {r.factor} | {r.operationalisation} | {r.spatial_influence_m:g} | {r.rrv:.2f} | "
                  f"{r.p_value:.2g} |")
        if not len(rates):
            print("| (none: no factor beats the null model) | | | | |")
        print("\n| risk class | cells | share of area | share of fitted violence | share of later violence "
              "| PAI later |")
        print("|---|---:|---:|---:|---:|---:|")
        for c17, c18 in zip(res.classes.itertuples(), t_cls.itertuples()):
            pai = c18.share_of_incidents / c18.share_of_area if c18.share_of_area else float("nan")
            print(f"| {c17.risk_class} | {c17.cells:,} | {100 * c17.share_of_area:.1f}% | "
                  f"{100 * c17.share_of_incidents:.1f}% | {100 * c18.share_of_incidents:.1f}% | {pai:.2f} |")
        area = k / n_cells if n_cells else np.nan
        print(f"\nHighest class: {k:,} cells ({100 * area:.1f}% of the area). Later violence in those cells: "
              f"RTM {100 * share['rtm']:.1f}%, harm surface {100 * share['harm']:.1f}%, naive counts "
              f"{100 * share['naive']:.1f}%.")
        summary.append((town, len(rates), m.family_, area, share))
    print("\n| town | factors selected | family | highest class (share of area) | later violence: RTM | harm surface "
          "| naive counts |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for town, nf, fam, area, s in summary:
        print(f"| {town} | {nf} | {fam} | {100 * area:.1f}% | {100 * s['rtm']:.1f}% | {100 * s['harm']:.1f}% | "
              f"{100 * s['naive']:.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
