"""Benchmark: load, validate and project the police.uk rows in ../shared/data.

Inputs: every street CSV in ``policeuk_multiforce`` (40 forces x 5 months, xz) plus the
12 Essex monthly files. Prints rows, seconds, rows per second and peak memory (max RSS of
this process), and the same rows read by two peers without any checks, measured in the
same run in fresh processes: plain ``pandas.read_csv`` + ``pyproj``, and ``pyarrow.csv``
(multi-threaded) + ``pyproj``. Targets: >= 300,000 rows/s and < 3 GB (issue 2); at
least the speed of pyarrow.csv + pyproj with validation on (issue 14). Also prints the
time to import the loader (geopandas is not imported without a study area).

Run: ``.venv/bin/python bench/bench_load.py --baseline ../main --repeat 3``: each round runs
our loader, the baseline's (the code before a change, for its speed and peak memory) and the
peers once each, in turn (each round starting with the next one), each in a fresh process; the
summary gives medians and ratios.
``--plain`` first decompresses the xz files into a temporary folder (not timed) and loads
those: plain CSVs are what users load (the police.uk download is a zip of them), and without
xz the peer no longer spends half its time in one-file-at-a-time decompression.
"""

from __future__ import annotations

import argparse
import io
import lzma
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
#: the xz files, or (``--plain``) the folder they were decompressed into, passed to the
#: measuring processes in this environment variable
PLAIN_ENV = "RTM_BENCH_PLAIN_DIR"
INPUTS = [Path(os.environ.get(PLAIN_ENV) or DATA / "policeuk_multiforce"), DATA / "essex_policeuk" / "crime"]


def _cpu() -> float:
    """CPU seconds (user + system, all threads) this process has used so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_ours(label: str = "rtm.load_incidents") -> None:
    import rtm
    from rtm.incidents import load_incidents

    print(f"# {label}: rtm from {Path(rtm.__file__).parent}", flush=True)

    t = time.perf_counter()
    inc = load_incidents(INPUTS)
    dt = time.perf_counter() - t
    rep = inc.report
    assert rep.adds_up
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"{label:<22} rows {rep.rows_in:>10,}  used {rep.rows_used:>10,}  "
          f"{dt:6.2f} s  {rep.rows_in / dt:>10,.0f} rows/s  peak {peak:5.2f} GB  cpu {_cpu():6.2f}", flush=True)


def run_pandas() -> None:
    import numpy as np
    import pandas as pd
    from pyproj import Transformer

    files = sorted(INPUTS[0].rglob("*.csv*")) + sorted(INPUTS[1].glob("*.csv"))
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
          f"{dt:6.2f} s  {len(d) / dt:>10,.0f} rows/s  peak {peak:5.2f} GB  cpu {_cpu():6.2f}   (no validation)", flush=True)


def run_pyarrow() -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    from pyproj import Transformer

    files = sorted(INPUTS[0].rglob("*.csv*")) + sorted(INPUTS[1].glob("*.csv"))
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
          f"{dt:6.2f} s  {rows / dt:>10,.0f} rows/s  peak {peak:5.2f} GB  cpu {_cpu():6.2f}   (no validation)", flush=True)


#: (module, function) pairs timed by --stages; nested calls are counted in both (dates and
#: points inside interpret, used rows inside assemble)
STAGES = [("rtm.sources", "decompress"), ("rtm.textfile", "to_utf8"), ("rtm.textfile", "_header"),
          ("rtm.textfile", "split_records"), ("rtm.textfile", "_parse"), ("rtm.incidents", "_interpret"),
          ("rtm.dates", "parse_dates"), ("rtm.incidents", "table_points"), ("rtm.coords", "project"),
          ("rtm.incidents", "mark_duplicates"), ("rtm.incident_frame", "assemble"),
          ("rtm.incident_frame", "used_table")]


def run_stages() -> None:
    """The loader on one thread, with the CPU seconds spent in each stage (``time.thread_time``,
    so other processes on a busy machine do not count)."""
    import importlib

    from rtm.incidents import load_incidents

    spent: dict[str, float] = {}
    for mod_name, fn_name in STAGES:
        mod = importlib.import_module(mod_name)
        fn = getattr(mod, fn_name, None)
        if fn is None:
            continue

        def timed(*args, _fn=fn, _name=fn_name, **kw):
            t = time.thread_time()
            try:
                return _fn(*args, **kw)
            finally:
                spent[_name] = spent.get(_name, 0.0) + time.thread_time() - t
        setattr(mod, fn_name, timed)
    t = time.process_time()
    inc = load_incidents(INPUTS, threads=1)
    total = time.process_time() - t
    print(f"one thread: {inc.report.rows_in:,} rows, {total:.2f} s CPU in all", flush=True)
    for name, secs in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<16} {secs:6.2f} s  {100 * secs / total:4.0f}%")


def import_time(root: Path) -> float:
    """Seconds to import the loader in a fresh interpreter (``rtm`` from ``root``), and the
    heavy libraries that came with it (geopandas, shapely, rasterio are not needed to load)."""
    code = ("import sys, time; t = time.perf_counter(); import rtm.incidents; "
            "print(time.perf_counter() - t, *[m for m in ('geopandas', 'shapely', 'rasterio') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                         env=_env(root), cwd=root).stdout.split()
    print(f"import rtm.incidents from {root}: {float(out[0]):.2f} s (heavy modules imported: "
          f"{', '.join(out[1:]) or 'none'})", flush=True)
    return float(out[0])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="rounds; each round runs every loader once, in turn")
    ap.add_argument("--baseline", type=Path, help="a checkout of the previous code (for example ../main): its "
                    "loader runs in the same rounds, so speed and memory are compared under the same load")
    ap.add_argument("--only", choices=["ours", "baseline", "pandas", "pyarrow", "stages"], help=argparse.SUPPRESS)
    ap.add_argument("--stages", action="store_true", help="only the CPU time per stage of the loader on one thread "
                    "(and of the baseline's), no peers")
    ap.add_argument("--no-pandas", action="store_true", help="skip the pandas.read_csv peer")
    ap.add_argument("--plain", action="store_true", help="decompress the xz files first (not timed) and load plain "
                    "CSVs, as users do")
    a = ap.parse_args()
    if not INPUTS[0].is_dir():
        print(f"skipped: {INPUTS[0]} is absent (the shared data folder is needed)")
        return 0
    if a.plain and not a.only:
        with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
            for f in sorted(INPUTS[0].rglob("*.csv.xz")):
                out = Path(tmp) / f.relative_to(INPUTS[0]).with_suffix("")
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(lzma.decompress(f.read_bytes()))
            os.environ[PLAIN_ENV] = tmp
            print(f"plain CSVs: the xz files decompressed into {tmp}", flush=True)
            return _measure(a)
    return _measure(a)


def _measure(a) -> int:
    """Run what the parsed arguments ``a`` ask for (the inputs are set by the environment)."""
    if a.only:
        {"ours": run_ours, "baseline": lambda: run_ours("baseline (--baseline)"), "pandas": run_pandas,
         "pyarrow": run_pyarrow, "stages": run_stages}[a.only]()
        return 0
    if a.stages:
        for root in [ROOT] + ([a.baseline.resolve()] if a.baseline else []):
            print(f"stages of rtm.load_incidents from {root}:", flush=True)
            print(subprocess.run([sys.executable, __file__, "--only", "stages"], check=True, capture_output=True,
                                 text=True, env=_env(root), cwd=root).stdout, end="", flush=True)
        return 0
    import_time(ROOT)
    if a.baseline:
        import_time(a.baseline.resolve())
    runs: dict[str, list] = {"ours": [], "baseline": [], "pandas": [], "pyarrow": []}
    order = ["ours"] + (["baseline"] if a.baseline else []) + ["pyarrow"] + ([] if a.no_pandas else ["pandas"])
    for r in range(a.repeat):
        # Interleaved, so a busy spell of the machine hits every loader alike, and each round
        # starts with the next loader: on a virtual machine the first process after a pause
        # pays more for fresh memory (docs/benchmarks.md), so no loader always goes first.
        for which in order[r % len(order):] + order[:r % len(order)]:
            runs[which].append(_run(which, a.baseline.resolve() if which == "baseline" else ROOT))

    def med(which, i):
        return statistics.median(r[i] for r in runs[which])

    ours, arrow = med("ours", 0), med("pyarrow", 0)
    print(f"summary ({a.repeat} round(s), medians): rtm.load_incidents {ours:.2f} s = {med('ours', 1):,.0f} rows/s, "
          f"cpu {med('ours', 3):.2f} s, peak {max(r[2] for r in runs['ours']):.2f} GB")
    print(f"  pyarrow.csv+pyproj (no checks) {arrow:.2f} s, cpu {med('pyarrow', 3):.2f} s: it takes "
          f"{arrow / ours:.2f}x our time (target >= 1)")
    if runs["pandas"]:
        print(f"  pandas.read_csv+pyproj (no checks) {med('pandas', 0):.2f} s: {med('pandas', 0) / ours:.2f}x our time")
    if runs["baseline"]:
        base_peak = max(r[2] for r in runs["baseline"])
        print(f"  baseline {a.baseline}: {med('baseline', 0):.2f} s, cpu {med('baseline', 3):.2f} s, peak "
              f"{base_peak:.2f} GB; ours takes {ours / med('baseline', 0):.2f}x its time and "
              f"{max(r[2] for r in runs['ours']) / base_peak:.2f}x its peak memory (target <= 1)")
    return 0


def _env(root: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(root)}


def _run(which: str, root: Path) -> tuple[float, float, float, float]:
    """Run one measurement in a fresh interpreter with ``rtm`` from ``root``; returns
    (seconds, rows/s, peak GB, cpu seconds)."""
    out = subprocess.run([sys.executable, __file__, "--only", which], check=True, capture_output=True,
                         text=True, env=_env(root), cwd=root).stdout
    print(out, end="", flush=True)
    parts = out.split()
    secs = float(parts[parts.index("s") - 1])
    rate = float(parts[parts.index("rows/s") - 1].replace(",", ""))
    peak = float(parts[parts.index("GB") - 1])
    cpu = float(parts[parts.index("cpu") + 1])
    return secs, rate, peak, cpu


if __name__ == "__main__":
    sys.exit(main())
