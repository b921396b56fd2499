"""Benchmark: testing every factor as proximity AND density ("both", the default) against
RTMDx's nearest-neighbour rule ("auto") on the full Chicago model, side by side.

The model of docs/rtm.md's validation: the whole city (563 km2), burglaries 2017, five
attractor layers (liquor retail, abandoned buildings, street lights out, sanitation,
abandoned cars), 100 m cells, block 200 m, 6 bands of half blocks (100-600 m). Each mode
runs in a fresh interpreter (so its peak memory is its own) and reports the time of each
step: loading, building the variables, and inside the fit screening, collapsing, the
elastic net and the stepwise search per family (``RiskTerrainModel.timings_``).

Peer, in the "both" run: the plain stepwise search on the same final candidates (the
pre-selected variables), every move fitted on the rows of all pre-selected variables from
the usual start (``RiskTerrainModel.collapse_moves = False``, ``warm_start = False``: the
search before this benchmark), against ours (moves on their own merged rows, one table
shared by the families, warm starts); both must reach the same models.

Target (issue 19): both at most 2x the time of auto, at most 2 GB. Wall-clock and CPU
seconds are both reported: on a shared machine the wall clock follows the other users'
load, the process's CPU time much less, so the CPU ratio is the steadier figure.

Run: ``.venv/bin/python bench/bench_rtm_both.py --repeat 3`` (medians, and the ratio of each pair).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def run_mode(mode: str, peer: bool = True) -> dict:
    from validate_rtm_chicago import CH5, LAYERS

    from rtm.areas import load_areas
    from rtm.incidents import load_incidents
    from rtm.layers import load_layer
    from rtm.model import RiskTerrainModel
    from rtm.pipeline import run_rtm
    from rtm.terrain_settings import RtmSettings
    from rtm.variables import attractor_buffer, build_variables

    t0 = time.perf_counter()
    areas = load_areas(CH5 / "chicagoBoundary.geojson")
    from rtm.weights import HarmWeights

    fit = load_incidents(CH5 / "burglaries17.geojson", weights=HarmWeights.count(), areas=areas,
                         working_crs=areas.crs)
    reach = attractor_buffer(200, 6, "half")
    layers = {n: load_layer(p, name=n, areas=areas, buffer_m=reach) for n, p in LAYERS.items()}
    t_load = time.perf_counter() - t0
    settings = RtmSettings(100.0, 200.0, 6, "half", {n: mode for n in layers})
    t1, c1 = time.perf_counter(), time.process_time()
    res = run_rtm(fit, areas, layers, settings)
    t_run, c_run = time.perf_counter() - t1, time.process_time() - c1
    m = res.model
    # the variables alone, again, to split the run's time
    t2, c2 = time.perf_counter(), time.process_time()
    used = dict(zip(res.variables.choices["factor"], res.variables.choices["used"]))
    build_variables(res.grid, layers, 200.0, 6, "half", used)
    t_vars, c_vars = time.perf_counter() - t2, time.process_time() - c2
    out = {"mode": mode, "load_s": t_load, "run_s": t_run, "variables_s": t_vars, "fit": m.timings_,
           "run_cpu": c_run, "variables_cpu": c_vars, "fit_cpu": m.cpu_timings_,
           "candidates": len(m.candidates_), "preselected": len(m.preselected_), "rows": int(m.n_rows_),
           "family": m.family_, "bic": m.bic_, "family_bic": m.family_bic_, "selected": m.selected_,
           "rrv": {r.variable: r.rrv for r in m.coef_table_.itertuples() if r.type == "rate"},
           "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2}
    if mode == "both" and peer:
        # the peer: the plain search over the same pre-selected candidates, for every family
        X = res.variables
        cols = X.columns(m.preselected_)
        from rtm.model_moves import MoveRows
        from rtm.model_stats import collapse_cells

        coll = collapse_cells(X.matrix[:, cols], res.counts)
        sub = X.table.set_index("name").loc[m.preselected_]
        groups = list(zip(sub["factor"], sub["operationalisation"]))
        pool = list(range(len(cols)))
        peer, ours = {}, {}
        for collapse in (False, True):
            model = RiskTerrainModel()
            model.collapse_moves = model.warm_start = collapse
            shared = MoveRows(coll.X, coll.y, coll.weight.astype(float))
            for fam in m.family_bic_:
                t, c = time.perf_counter(), time.process_time()
                best, _ = model._stepwise(fam, coll.X, coll.y, coll.weight.astype(float), pool, groups,
                                          m.preselected_, lambda *a, **k: None, shared)
                (ours if collapse else peer)[fam] = (time.perf_counter() - t, best.bic(m.n_cells_),
                                                     time.process_time() - c)
        out["peer_stepwise"] = peer
        out["our_stepwise"] = ours
        out["stepwise_rows"] = len(coll.y)
    return out


def _child(mode: str, peer: bool) -> dict:
    args = [sys.executable, __file__, "--only", mode] + ([] if peer else ["--no-peer"])
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--only", choices=["auto", "both"], help=argparse.SUPPRESS)
    ap.add_argument("--no-peer", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.only:
        print(json.dumps(run_mode(a.only, not a.no_peer)), flush=True)
        return 0
    data = ROOT.parent / "shared" / "data" / "chicago"
    if not data.is_dir():
        print(f"{data} is absent: this benchmark needs the shared data folder next to the project", file=sys.stderr)
        return 2
    runs = {"auto": [], "both": []}
    for i in range(a.repeat):
        for mode in ("auto", "both"):  # alternated, so both modes see the same machine load
            r = _child(mode, peer=i == 0)  # the slow plain search once
            runs[mode].append(r)
            fit = ", ".join(f"{k} {v:.2f}" for k, v in r["fit_cpu"].items())
            print(f"{mode:>4}: {r['candidates']} candidates, {r['preselected']} pre-selected, {r['rows']:,} rows; "
                  f"run_rtm {r['run_s']:.2f} s wall, {r['run_cpu']:.2f} s CPU (CPU: variables "
                  f"{r['variables_cpu']:.2f}; fit: {fit}); load {r['load_s']:.2f} s; peak {r['peak_gb']:.2f} GB; "
                  f"{r['family']} BIC {r['bic']:,.1f}", flush=True)
            if mode == "both" and "peer_stepwise" in r:
                for fam, (t, bic, c) in r["peer_stepwise"].items():
                    t2, bic2, c2 = r["our_stepwise"][fam]
                    print(f"      stepwise {fam} on the {r['preselected']} final candidates "
                          f"({r['stepwise_rows']:,} rows): plain {t:.2f} s wall, {c:.2f} s CPU; ours {t2:.2f} s "
                          f"wall, {c2:.2f} s CPU (x{c / c2:.1f} CPU); BIC {bic:,.1f} and {bic2:,.1f}", flush=True)

    def med(mode, key):
        v = sorted(r[key] for r in runs[mode])
        return v[len(v) // 2]

    ta, tb = med("auto", "run_s"), med("both", "run_s")
    ca, cb = med("auto", "run_cpu"), med("both", "run_cpu")
    peer = sum(v[0] for v in runs["both"][0]["peer_stepwise"].values())
    peer_cpu = sum(v[2] for v in runs["both"][0]["peer_stepwise"].values())
    b = runs["both"][0]
    print(f"\nsummary: run_rtm median auto {ta:.2f} s, both {tb:.2f} s wall: both/auto = {tb / ta:.2f}; "
          f"CPU auto {ca:.2f} s, both {cb:.2f} s: both/auto = {cb / ca:.2f} (target <= 2); "
          f"peak both {max(r['peak_gb'] for r in runs['both']):.2f} GB (target <= 2 GB); plain stepwise peer "
          f"on the final candidates, all families: {peer:.2f} s wall, {peer_cpu:.2f} s CPU (first run), "
          f"{peer_cpu / cb:.1f} times the whole both run")
    pairs = [(b["run_cpu"] / a["run_cpu"], b["run_s"] / a["run_s"]) for a, b in zip(runs["auto"], runs["both"])]
    cpu_r = sorted(c for c, _ in pairs)
    print("both/auto per side-by-side pair, CPU: " + ", ".join(f"{c:.2f}" for c, _ in pairs) + "; wall: "
          + ", ".join(f"{w:.2f}" for _, w in pairs) + f"; median of the CPU ratios {cpu_r[len(cpu_r) // 2]:.2f}")
    for mode in ("auto", "both"):
        keys = runs[mode][0]["fit_cpu"].keys()
        parts = ", ".join(f"{k} {sorted(r['fit_cpu'][k] for r in runs[mode])[len(runs[mode]) // 2]:.2f}"
                          for k in keys)
        print(f"median CPU seconds, {mode}: run_rtm {med(mode, 'run_cpu'):.2f}; variables "
              f"{med(mode, 'variables_cpu'):.2f}; {parts}")
    print(f"BIC auto {runs['auto'][0]['bic']:,.1f} ({runs['auto'][0]['family']}), both {b['bic']:,.1f} "
          f"({b['family']}); both selects " + ", ".join(f"{k} (RRV {v:.2f})" for k, v in b["rrv"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
