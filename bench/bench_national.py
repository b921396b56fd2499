"""National monthly list, force by force: serially in one process (the peer) and as tasks
on a Dask LocalCluster, with peak memory of the serial process and of each Dask worker.

All forces of ../shared/data/policeuk_multiforce (40 forces, 2018-10..2019-02) plus Essex
for the same months (its 14 districts from the LSOA boundaries): 41 forces, 1.77 M rows;
the list is for 2019-03. Forces without boundaries get an area made from their incidents
(rtm.point_area). The country's grid is never allocated; its estimate is printed beside.

    PYTHONPATH=$PWD python bench/bench_national.py --cell 50 --workers 2
    PYTHONPATH=$PWD python bench/bench_national.py --backtest --cell 150 --workers 2
    PYTHONPATH=$PWD python bench/bench_national.py --tune --cell 150 --workers 2 --no-estimate

Each run goes in its own child process so its peak resident memory is its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
ESSEX_MONTHS = ("2018-10", "2018-11", "2018-12", "2019-01", "2019-02")


def forces():
    from rtm.national import Force, find_forces

    found = find_forces([DATA / "policeuk_multiforce"])
    crime = DATA / "essex_policeuk" / "crime"
    essex = Force("essex", tuple(str(crime / f"{m}-essex-street.csv") for m in ESSEX_MONTHS),
                  str(DATA / "essex_policeuk" / "boundaries" / "essex_southend_thurrock_lsoa2011.geojson"), "LSOA11NM")
    return sorted(found + [essex], key=lambda f: f.name)


def _run(fn, mode: str, workers: int):
    """``(result, seconds, worker peaks)`` of ``fn(client)`` serially or on a LocalCluster."""
    if mode == "serial":
        t0 = time.perf_counter()
        res = fn(None)
        return res, time.perf_counter() - t0, {}
    from rtm.distributed import connect, worker_peaks_mb

    with connect(workers=workers, threads_per_worker=1, processes=True) as client:
        t0 = time.perf_counter()
        res = fn(client)
        secs = time.perf_counter() - t0
        return res, secs, worker_peaks_mb(client)


def child_backtest(mode: str, cell: float, workers: int) -> dict:
    """The national back-test (monthly, 2018-12 to 2019-02, every method without a terrain)."""
    from rtm.national import NationalSettings, peak_rss_mb
    from rtm.national_backtest import national_backtest
    from rtm.periods import month_period
    from rtm.weekly import ListSettings

    settings = NationalSettings(list=ListSettings(spot_size=cell))
    periods = [month_period(m) for m in ("2018-12", "2019-01", "2019-02")]
    fs = forces()
    res, secs, workers_mb = _run(lambda c: national_backtest(fs, periods, settings, client=c), mode, workers)
    summ = res.summary()
    pick = summ[(summ["metric"] == "harm_capture") & (summ["selection"] == "area 2.6%")]
    return {"mode": mode, "seconds": secs, "forces": len(res.forces), "incidents": int(res.forces["incidents"].sum()),
            "rows": len(res.metrics), "main_peak_mb": peak_rss_mb(), "worker_peak_mb": sorted(workers_mb.values()),
            "by_method": pick.groupby("method")["mean"].mean().round(4).to_dict(),
            "spots_csv": res.metrics.to_csv(index=False)}


def child_tune(mode: str, cell: float, workers: int) -> dict:
    """The national tuning (each force's own spans: validation 2018-11..12, test 2019-01..02)."""
    from rtm.national import NationalSettings, peak_rss_mb
    from rtm.national_tune import national_tune
    from rtm.weekly import ListSettings

    settings = NationalSettings(list=ListSettings(spot_size=cell))
    fs = forces()
    res, secs, workers_mb = _run(lambda c: national_tune(fs, settings, client=c), mode, workers)
    f = res.forces
    return {"mode": mode, "seconds": secs, "forces": int(f["force"].nunique()), "rows": len(f),
            "tuned": int(f["tuned"].notna().sum()), "incidents": int(f.drop_duplicates("force")["incidents"].sum()),
            "main_peak_mb": peak_rss_mb(), "worker_peak_mb": sorted(workers_mb.values()),
            "summary": res.summary().round(4).to_dict("records"),
            "spots_csv": f.drop(columns=["seconds", "peak_rss_mb"]).to_csv(index=False)}


def child(mode: str, cell: float, workers: int) -> dict:
    """One run in this process: ``serial`` or ``dask``; returns its figures as a dict."""
    from rtm.national import NationalSettings, national_list, peak_rss_mb
    from rtm.periods import month_period
    from rtm.weekly import ListSettings

    settings = NationalSettings(list=ListSettings(spot_size=cell))
    period = month_period("2019-03")
    fs = forces()
    res, secs, workers_mb = _run(lambda c: national_list(fs, period, settings, client=c), mode, workers)
    spots = res.spots
    return {"mode": mode, "seconds": secs, "forces": len(res.forces), "incidents": int(res.forces["incidents"].sum()),
            "cells": int(res.forces["cells"].sum()), "largest_force_cells": int(res.forces["cells"].max()),
            "largest_force": str(res.forces.loc[res.forces["cells"].idxmax(), "force"]),
            "spots": len(spots),
            "main_peak_mb": peak_rss_mb(), "worker_peak_mb": sorted(workers_mb.values()),
            "spots_csv": spots.to_csv(index=False)}


def one_grid_estimate(cell: float) -> tuple[int, float]:
    """Cells and estimated MB of one grid over every force's area (what a single list of the
    country would allocate), from the forces' point areas at 1 km, nothing allocated."""
    import numpy as np

    from rtm.grid import grid_memory_mb
    from rtm.incidents import load_incidents
    from rtm.point_area import area_mask_from_points

    lo, hi = np.array([np.inf, np.inf]), np.array([-np.inf, -np.inf])
    for f in forces():
        inc = load_incidents(list(f.incidents), working_crs="EPSG:27700")
        mask, x0, y0, res = area_mask_from_points(inc.frame["x"], inc.frame["y"])
        r, c = np.nonzero(mask)
        lo = np.minimum(lo, [x0 + c.min() * res, y0 - (r.max() + 1) * res])
        hi = np.maximum(hi, [x0 + (c.max() + 1) * res, y0 - r.min() * res])
    return grid_memory_mb((lo[0], lo[1], hi[0], hi[1]), cell)


def _print_tune(runs: dict, a) -> None:
    print(f"National tuning at {a.cell:g} m, force by force (validation 2018-11..12, test 2019-01..02)")
    print("| run | forces | grids tuned | incidents | time s | peak RSS main MB | peak RSS per worker MB |")
    print("|---|---|---|---|---|---|---|")
    for mode, r in runs.items():
        label = "serial (peer)" if mode == "serial" else f"Dask LocalCluster, {a.workers} workers x 1 thread"
        print(f"| {label} | {r['forces']} | {r['tuned']} of {r['rows']} | {r['incidents']:,} | {r['seconds']:.0f} | "
              f"{r['main_peak_mb']:,.0f} | {', '.join(f'{m:,.0f}' for m in r['worker_peak_mb']) or '-'} |")
    print("Test-span summary (mean over the grids tuned):")
    for row in next(iter(runs.values()))["summary"]:
        print(f"  {row['ranking']:<16} capture {100 * row['mean_capture']:.2f}%, vs naive "
              f"{100 * row['mean_vs_naive']:+.2f}%, above naive in {row['above_naive']} of {row['tuned']}")
    if len(runs) == 2:
        same = runs["serial"]["spots_csv"] == runs["dask"]["spots_csv"]
        print(f"Dask table identical to the serial table: {same}; time ratio dask/serial "
              f"{runs['dask']['seconds'] / runs['serial']['seconds']:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", type=float, default=50.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--modes", default="serial,dask", help="runs to make, comma-separated ('' for none)")
    ap.add_argument("--child", choices=["serial", "dask"])
    ap.add_argument("--no-estimate", action="store_true")
    ap.add_argument("--backtest", action="store_true", help="the national back-test instead of the list")
    ap.add_argument("--tune", action="store_true", help="the national tuning instead of the list")
    a = ap.parse_args()
    if a.child:
        job = child_backtest if a.backtest else child_tune if a.tune else child
        print(json.dumps(job(a.child, a.cell, a.workers)))
        return
    runs = {}
    for mode in filter(None, a.modes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--child", mode, "--cell", str(a.cell),
                              "--workers", str(a.workers)] + (["--backtest"] if a.backtest else [])
                             + (["--tune"] if a.tune else []),
                             capture_output=True, text=True, cwd=ROOT)
        if out.returncode:
            sys.exit(f"{mode} run failed:\n{out.stderr[-3000:]}")
        runs[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    if a.tune:
        _print_tune(runs, a)
        return
    if a.backtest:
        print(f"National monthly back-test 2018-12..2019-02 at {a.cell:g} m, force by force")
        print("| run | forces | incidents | metric rows | time s | peak RSS main MB | peak RSS per worker MB |")
        print("|---|---|---|---|---|---|---|")
        for mode, r in runs.items():
            label = "serial (peer)" if mode == "serial" else f"Dask LocalCluster, {a.workers} workers x 1 thread"
            print(f"| {label} | {r['forces']} | {r['incidents']:,} | {r['rows']:,} | {r['seconds']:.0f} | "
                  f"{r['main_peak_mb']:,.0f} | {', '.join(f'{m:,.0f}' for m in r['worker_peak_mb']) or '-'} |")
        print("Mean harm capture at 2.6% of the area, over forces' districts and periods:",
              next(iter(runs.values()))["by_method"])
        if len(runs) == 2:
            same = runs["serial"]["spots_csv"] == runs["dask"]["spots_csv"]
            print(f"Dask metrics identical to the serial metrics: {same}; time ratio dask/serial "
                  f"{runs['dask']['seconds'] / runs['serial']['seconds']:.2f}")
        return
    if runs:
        print(f"National monthly list 2019-03 at {a.cell:g} m, force by force")
        print("| run | forces | incidents | grid cells (sum of forces) | largest grid (cells) | spots | time s | "
              "peak RSS main MB | peak RSS per worker MB |")
        print("|---|---|---|---|---|---|---|---|---|")
    for mode, r in runs.items():
        label = "serial (peer)" if mode == "serial" else f"Dask LocalCluster, {a.workers} workers x 1 thread"
        print(f"| {label} | {r['forces']} | {r['incidents']:,} | {r['cells']:,} | {r['largest_force']} "
              f"({r['largest_force_cells']:,}) | {r['spots']:,} | {r['seconds']:.0f} | {r['main_peak_mb']:,.0f} | "
              f"{', '.join(f'{m:,.0f}' for m in r['worker_peak_mb']) or '-'} |")
    if len(runs) == 2:
        same = runs["serial"]["spots_csv"] == runs["dask"]["spots_csv"]
        print(f"Dask list identical to the serial list: {same}; time ratio dask/serial "
              f"{runs['dask']['seconds'] / runs['serial']['seconds']:.2f}")
    if not a.no_estimate:
        cells, mb = one_grid_estimate(a.cell)
        print(f"One grid over the whole country at {a.cell:g} m (not allocated): {cells:,.0f} cells, "
              f"~{mb:,.0f} MB at the estimate's bytes per cell")


if __name__ == "__main__":
    main()
