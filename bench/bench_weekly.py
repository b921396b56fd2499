"""Benchmark: a whole weekly (here monthly) run for all 14 Essex districts, exports included.

Issue 4's target: the list for every district of Essex from all the Essex police.uk
incidents, on a 50 m modelling grid with 150 m spots and a fitted risk terrain reused, in
under 60 s including every export (CSV, xlsx, GeoJSON, GeoPackage, KML, GPX, the COG
GeoTIFF, the briefing as PDF and HTML with its 14 district maps) and the archive.

Set-up (not timed): a risk terrain is fitted once on the 50 m grid of Essex (about 1.5
million cells) and written with ``RiskTerrain.write``, as ``rtm model --out`` does. Essex
has no attractor layers in ../shared/data, so the benchmark's three layers are proxies
taken from the police.uk data itself: the distinct locations of shoplifting (shops), of
public-order offences (night-time economy) and of bicycle theft (stations and town
centres) in 2018. They exist only to give the model real work; the lists they produce
are not for use.

Timed: ``rtm weekly --model DIR --month 2019-01`` as a fresh process (Python start-up,
imports, loading 199,298 rows of 12 files, the list, every export for 14 districts and the
archive), ``--repeat`` times; the median is printed with its parts from the command's own
stage timings.

Run: ``.venv/bin/python bench/bench_weekly.py [--repeat 3]`` (needs ../shared/data).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
ESSEX = ROOT.parent / "shared" / "data" / "essex_policeuk"
PROXIES = {"shops": "Shoplifting", "night_economy": "Public order", "cycle_hubs": "Bicycle theft"}


def fit_model(folder: Path) -> float:
    """Fit and write the reused terrain; returns the seconds it took."""
    import geopandas as gpd

    from rtm.areas import load_areas
    from rtm.incidents import load_incidents
    from rtm.layers import Layer
    from rtm.periods import month_period
    from rtm.load_report import LoadReport
    from rtm.terrain_settings import RtmSettings
    from rtm.terrain_store import fit_model as fit_terrain_model
    from rtm.terrain_store import refit_date
    from rtm.weights import HarmWeights

    t = time.perf_counter()
    areas = load_areas(ESSEX / "boundaries", "LSOA11NM")
    inc = load_incidents([ESSEX / "crime"], weights=HarmWeights.cchi(), areas=areas, area_tolerance_m=150.0)
    f = inc.frame[inc.frame["date_start"] < "2019-01-01"]
    layers = {}
    for name, offence in PROXIES.items():
        pts = f.loc[f["offence_type"] == offence, ["x", "y"]].drop_duplicates()
        frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy(pts["x"], pts["y"]), crs=inc.crs)
        layers[name] = Layer(name, frame, "point", LoadReport(kind="layer"), None)
    period = month_period("2019-01")
    terrain = fit_terrain_model(inc, areas, layers, RtmSettings(50.0, 100.0, 3), refit_date(period), "month")[1]
    terrain.write(folder)
    print(f"set-up: fitted the reused terrain on {terrain.fitted['cells']:,} cells of 50 m "
          f"({len(terrain.factors)} variable(s) selected) in {time.perf_counter() - t:.1f} s", flush=True)
    return time.perf_counter() - t


def run_once(model: Path, out: Path) -> float:
    cmd = [sys.executable, "-m", "rtm.cli", "weekly", "--incidents", str(ESSEX / "crime"),
           "--area", str(ESSEX / "boundaries"), "--area-field", "LSOA11NM", "--area-tolerance", "150",
           "--month", "2019-01", "--model", str(model), "--spot-size", "150", "--out", str(out)]
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    secs = time.perf_counter() - t
    if res.returncode != 0:
        sys.exit(f"rtm weekly failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    spots = sum(1 for line in res.stdout.splitlines() if line.startswith("  ") and " spots; " in line)
    print(f"  run: {secs:.1f} s ({spots} districts listed)", flush=True)
    return secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not ESSEX.is_dir():
        sys.exit(f"{ESSEX} is absent: this benchmark needs the shared Essex data")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        fit_model(tmp / "model")
        times = [run_once(tmp / "model", tmp / f"out{i}") for i in range(args.repeat)]
        files = sorted(p.name for p in (tmp / "out0" / "2019-01").iterdir())
        size = sum(p.stat().st_size for p in (tmp / "out0" / "2019-01").iterdir()) / 1e6
    print(f"weekly run, 14 Essex districts, 50 m terrain reused, 150 m spots, exports included: "
          f"median {statistics.median(times):.1f} s of {len(times)} (best {min(times):.1f} s; target 60 s)")
    print(f"files: {', '.join(files)} ({size:.1f} MB)")


if __name__ == "__main__":
    main()
