"""Benchmark: load, validate and project the police.uk rows in ../shared/data.

Inputs: every street CSV in ``policeuk_multiforce`` (40 forces x 5 months, xz) plus the
12 Essex monthly files. Prints rows, seconds, rows per second and peak memory (max RSS of
this process), and the same rows read by two peers without any checks, measured in the
same run in fresh processes: plain ``pandas.read_csv`` + ``pyproj``, and ``pyarrow.csv``
(multi-threaded) + ``pyproj``. Targets: >= 300,000 rows/s and < 3 GB (issue 2); at
least the speed of pyarrow.csv + pyproj with validation on (issue 14). Also prints the
time to import the loader (geopandas is not imported without a study area).

Run: ``.venv/bin/python bench/bench_load.py`` (add ``--repeat 3`` for the best of three).
"""

from __future__ import annotations

import argparse
import io
import lzma
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
INPUTS = [DATA / "policeuk_multiforce", DATA / "essex_policeuk" / "crime"]


def run_ours() -> None:
    from rtm.incidents import load_incidents

    t = time.perf_counter()
    inc = load_incidents(INPUTS)
    dt = time.perf_counter() - t
    rep = inc.report
    assert rep.adds_up
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"rtm.load_incidents     rows {rep.rows_in:>10,}  used {rep.rows_used:>10,}  "
          f"{dt:6.2f} s  {rep.rows_in / dt:>10,.0f} rows/s  peak {peak:5.2f} GB", flush=True)


def run_pandas() -> None:
    import numpy as np
    import pandas as pd
    from pyproj import Transformer

    files = sorted(INPUTS[0].rglob("*.csv.xz")) + sorted(INPUTS[1].glob("*.csv"))
    t = time.perf_counter()
    frames = []
    for f in files:
        d = pd.read_csv(f)
        d.columns = [c.lower().replace(" ", "_") for c in d.columns]
        frames.append(d)
    d = pd.concat(frames, ignore_index=True)
    ok = d["longitude"].notna() & d["latitude"].notna()
    x, y = Transformer.from_crs(4326, 27700, always_xy=True).transform(d.loc[ok, "longitude"].to_numpy(),
                                                                        d.loc[ok, "latitude"].to_numpy())
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"pandas.read_csv+pyproj rows {len(d):>10,}  used {int(np.sum(ok)):>10,}  "
          f"{dt:6.2f} s  {len(d) / dt:>10,.0f} rows/s  peak {peak:5.2f} GB   (no validation)", flush=True)


def run_pyarrow() -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    from pyproj import Transformer

    files = sorted(INPUTS[0].rglob("*.csv.xz")) + sorted(INPUTS[1].glob("*.csv"))
    t = time.perf_counter()
    lon, lat, rows = [], [], 0
    for f in files:
        # xz is decompressed by Python's lzma, as the loader does; the parse uses all cores
        data = lzma.decompress(f.read_bytes()) if f.suffix == ".xz" else f.read_bytes()
        table = pacsv.read_csv(io.BytesIO(data))
        names = {c.lower().replace(" ", "_"): c for c in table.column_names}
        rows += table.num_rows
        lon.append(pc.cast(table[names["longitude"]], pa.float64()))
        lat.append(pc.cast(table[names["latitude"]], pa.float64()))
    x = pa.chunked_array([c for a in lon for c in a.chunks]).to_numpy()
    y = pa.chunked_array([c for a in lat for c in a.chunks]).to_numpy()
    ok = np.isfinite(x) & np.isfinite(y)
    Transformer.from_crs(4326, 27700, always_xy=True).transform(x[ok], y[ok])
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"pyarrow.csv+pyproj     rows {rows:>10,}  used {int(ok.sum()):>10,}  "
          f"{dt:6.2f} s  {rows / dt:>10,.0f} rows/s  peak {peak:5.2f} GB   (no validation)", flush=True)


def import_time() -> float:
    """Seconds to import the loader in a fresh interpreter, and whether geopandas came with it."""
    code = ("import sys, time; t = time.perf_counter(); import rtm.incidents; "
            "print(time.perf_counter() - t, 'geopandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    print(f"import rtm.incidents: {float(out[0]):.2f} s (geopandas imported: {out[1]})", flush=True)
    return float(out[0])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--only", choices=["ours", "pandas", "pyarrow"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if not INPUTS[0].is_dir():
        print(f"skipped: {INPUTS[0]} is absent (the shared data folder is needed)")
        return 0
    if a.only == "ours":
        run_ours()
        return 0
    if a.only == "pandas":
        run_pandas()
        return 0
    if a.only == "pyarrow":
        run_pyarrow()
        return 0
    import_time()
    # each run in a fresh process so peak memory is its own
    ours = [_run("ours") for _ in range(a.repeat)]
    peer = _run("pandas")
    arrow = _run("pyarrow")
    best = min(ours, key=lambda r: r[0])
    med = sorted(ours)[len(ours) // 2]
    print(f"summary: median {med[0]:.2f} s = {med[1]:,.0f} rows/s, best {best[0]:.2f} s = {best[1]:,.0f} rows/s; "
          f"max peak {max(r[2] for r in ours):.2f} GB; pandas.read_csv+pyproj (no checks) takes "
          f"{peer[0] / med[0]:.2f}x the median time, pyarrow.csv+pyproj (no checks) {arrow[0] / med[0]:.2f}x "
          f"at {arrow[2]:.2f} GB. Targets: >= 300,000 rows/s, < 3 GB, pyarrow ratio >= 1.")
    return 0


def _run(which: str) -> tuple[float, float, float]:
    """Run one measurement in a fresh interpreter; returns (seconds, rows/s, peak GB)."""
    out = subprocess.run([sys.executable, __file__, "--only", which], check=True, capture_output=True,
                         text=True).stdout
    print(out, end="", flush=True)
    parts = out.split()
    secs = float(parts[parts.index("s") - 1])
    rate = float(parts[parts.index("rows/s") - 1].replace(",", ""))
    peak = float(parts[parts.index("GB") - 1])
    return secs, rate, peak


if __name__ == "__main__":
    sys.exit(main())
