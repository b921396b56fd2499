"""Make the pictures of docs/hotspots.md and docs/dosage.md from the real data.

Run from the project folder (needs ../shared/data, the project's development data):
    .venv/bin/python docs/make_hotspot_figures.py

1. docs/img/gistar_essex.png: harm-weighted Gi* (CCHI) of Southend-on-Sea, Basildon and
   Castle Point, the 12 months before March 2019, 150 m cells, band 300 m, BH FDR 0.05.
2. docs/img/emerging_essex.png: emerging hot spot classes of harm in the same districts over
   the 12 months before March 2019 (10 with data); the weekly Chicago classes (aggravated
   assaults, full 2010-2019 extract, 52 weeks before 4 March 2019) are printed.
3. docs/img/dosage_chart.png: dose delivered against the Chicago list of that week by
   patrols SIMULATED along the list's spots (no real patrol data is public); the chart is
   the one 'rtm dosage' writes.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
IMG = ROOT / "docs" / "img"


def _outline(ax, areas):
    areas.frame.boundary.plot(ax=ax, color="#333333", linewidth=0.6)
    ax.set_axis_off()


def load_essex():
    from rtm.areas import load_areas
    from rtm.incidents import load_incidents
    from rtm.weights import HarmWeights

    districts = ["Southend-on-Sea", "Basildon", "Castle Point"]
    areas = load_areas(DATA / "essex_policeuk" / "boundaries", "LSOA11NM", select=districts)
    inc = load_incidents([DATA / "essex_policeuk" / "crime"], weights=HarmWeights.cchi(), areas=areas,
                         area_tolerance_m=150.0)
    return inc, areas


def gistar_essex(inc, areas):
    from rtm.gistar import harm_gistar
    from rtm.grid import Grid
    from rtm.periods import history, month_period

    period = month_period("2019-03")
    year = history(inc.frame, period)
    grid = Grid.from_areas(areas, 150.0)
    hs = harm_gistar(grid, year["x"], year["y"], year["weight"], distance_m=300.0)
    counts = harm_gistar(grid, year["x"], year["y"], np.ones(len(year)), distance_m=300.0)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.6), dpi=110)
    colours = ["#2166ac", "#67a9cf", "#d1e5f0", "#f7f7f7", "#fddbc7", "#ef8a62", "#b2182b"]
    cmap = ListedColormap(colours)
    for ax, res, title in ((axes[0], hs, "weighted by harm (CCHI days)"), (axes[1], counts, "counts (for contrast)")):
        img = np.where(grid.mask, res.bin, np.nan).astype(float)
        x0, y0, x1, y1 = grid.bounds
        ax.imshow(img, cmap=cmap, vmin=-3.5, vmax=3.5, extent=(x0, x1, y0, y1), interpolation="nearest")
        _outline(ax, areas)
        ax.set_title(f"Gi* {title}: {int(res.hot.sum())} hot cells", fontsize=10)
    handles = [Patch(color=c, label=l) for c, l in zip(colours[::-1], ["hot 99%", "hot 95%", "hot 90%", "not significant",
                                                                     "cold 90%", "cold 95%", "cold 99%"])]
    fig.legend(handles=handles, loc="lower center", ncol=7, fontsize=8, frameon=False)
    fig.suptitle(f"Essex police.uk crime, 12 months before March 2019 ({len(year):,} crimes): 150 m cells, "
                 "band 300 m, Benjamini-Hochberg FDR 0.05 (adjusted p)", fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    fig.savefig(IMG / "gistar_essex.png")
    plt.close(fig)
    print("gistar:", int(hs.hot.sum()), "hot cells by harm,", int(counts.hot.sum()), "by counts;",
          int((hs.hot & counts.hot).sum()), "in both")


def emerging_chicago_counts():
    """The classes of the weekly Chicago series (printed for the docs' text)."""
    from rtm.areas import load_areas
    from rtm.emerging import emerging_hotspots
    from rtm.grid import Grid
    from rtm.incidents import load_incidents
    from rtm.layouts import ColumnMap
    from rtm.periods import week_period
    from rtm.weights import HarmWeights

    areas = load_areas(ROOT / "sample_geo" / "chicago" / "districts.geojson", "District")
    inc = load_incidents([DATA / "chicago" / "crimemapping" / "chicago_aggravated_assaults.csv.gz"],
                         mapping=ColumnMap(offence_value="Aggravated assault"), weights=HarmWeights.from_name("count"),
                         areas=areas)
    em = emerging_hotspots(Grid.from_areas(areas, 150.0), inc.frame, week_period("2019-03-04"))
    names = em.names()
    print("emerging, Chicago weekly:", {c: int((names == c).sum()) for c in set(names.ravel()) if c != "no pattern"})


def emerging_essex(inc, areas):
    from rtm.emerging import EHSA_CLASSES, EmergingSettings, emerging_hotspots
    from rtm.grid import Grid
    from rtm.mapview import emerging_colour
    from rtm.periods import month_period

    grid = Grid.from_areas(areas, 150.0)
    em = emerging_hotspots(grid, inc.frame, month_period("2019-03"), EmergingSettings(distance_m=300.0))
    names = em.names()
    present = [c for c in EHSA_CLASSES.values() if c != "no pattern" and (names == c).any()]
    fig, ax = plt.subplots(figsize=(11, 6), dpi=110)
    rgb = np.ones(grid.shape + (3,))
    rgb[grid.mask] = 0.93
    for c in present:
        rgb[names == c] = matplotlib.colors.to_rgb(emerging_colour(c))
    x0, y0, x1, y1 = grid.bounds
    ax.imshow(rgb, extent=(x0, x1, y0, y1), interpolation="nearest")
    _outline(ax, areas)
    counts = {c: int((names == c).sum()) for c in present}
    ax.legend(handles=[Patch(color=emerging_colour(c), label=f"{c} ({counts[c]})") for c in present],
              loc="upper left", fontsize=8)
    ax.set_title(f"Emerging hot spots of harm (CCHI), {', '.join(areas.names)}\n"
                 f"{len(em.periods)} months with data of the 12 before March 2019 ({len(em.skipped)} missing), "
                 "150 m cells, band 300 m, Gi* per month (FDR 0.05), Mann-Kendall trend", fontsize=9)
    fig.tight_layout()
    fig.savefig(IMG / "emerging_essex.png")
    plt.close(fig)
    print("emerging, Essex monthly:", counts)


def dosage_chicago():
    import geopandas as gpd

    from rtm.dosage import dosage
    from rtm.dosage_report import DosageWeeks, dose_chart_png
    from rtm.patrols import PatrolReport, Patrols
    from rtm.periods import week_period
    from rtm.samples import SAMPLES
    from rtm.weekly import ListSettings, build_list
    from rtm.ranking import SpotRule

    inc, areas = SAMPLES["chicago"].load()
    rng = np.random.default_rng(2019)
    weeks = []
    for start in ("2019-02-25", "2019-03-04"):
        period = week_period(start)
        lst = build_list(inc, areas, period, settings=ListSettings(rule=SpotRule(top_n=10)))
        spots = lst.spots
        rows = []
        # each district's team patrols with a different diligence: a share of the suggested visits,
        # each visit 8-25 minutes of pings every 20 s wandering within 40 m of the spot's centre
        diligence = dict(zip(sorted(spots["district"].unique()), (0.9, 0.6, 0.35, 0.15)))
        for s in spots.itertuples():
            c = s.geometry.centroid
            for day in range(7):
                for v in range(int(s.patrol_visits_per_day)):
                    if rng.random() > diligence[s.district]:
                        continue
                    t0 = period.start + pd.Timedelta(days=day, hours=int(rng.integers(8, 22)))
                    n = int(rng.uniform(8, 25) * 3)
                    times = t0 + pd.to_timedelta(np.arange(n) * 20, unit="s")
                    rows.append(pd.DataFrame({"unit": f"{s.district}-{v}", "time": times,
                                              "x": c.x + rng.uniform(-40, 40, n), "y": c.y + rng.uniform(-40, 40, n)}))
        frame = pd.concat(rows, ignore_index=True).assign(source_file="simulated", source_row=0)
        frame = frame.sort_values(["unit", "time"]).drop_duplicates(["unit", "time"]).reset_index(drop=True)
        p = Patrols(frame, spots.crs, PatrolReport(len(frame), len(frame)), pd.DataFrame())
        weeks.append((period.key, dosage(spots, p, period), gpd.GeoDataFrame(spots)))
    dose_chart_png(DosageWeeks(weeks, None), IMG / "dosage_chart.png")
    print("dosage:", [(k, round(float(d.districts["share"].mean()), 2)) for k, d, _ in weeks])


if __name__ == "__main__":
    IMG.mkdir(parents=True, exist_ok=True)
    essex = load_essex()
    gistar_essex(*essex)
    emerging_essex(*essex)
    emerging_chicago_counts()
    dosage_chicago()
