"""One step of the rolling origin: what each method ranks from the history, and how its lists
are measured against the period (:mod:`rtm.metrics`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..grid import Grid
from ..metrics import best_capture, capture_metrics, kept_share, rank_biased_overlap, ranked_cells
from ..ranking import cell_scores
from ..terrain import TerrainOnGrid
from .phs import period_lags, phs_surface
from .settings import BacktestSettings


@dataclass
class Step:
    """One origin: what a list made at ``as_of`` may see, and what it is scored against.

    Attributes
    ----------
    key : str
        The period's name in the outputs (e.g. ``2019-01-07`` or ``2019-01``).
    as_of : pandas.Timestamp
        First moment of the period.
    history : DataFrame
        Incidents before ``as_of`` the naive and harm-surface methods use.
    phs_history : DataFrame
        Incidents prospective hotspotting uses, with ``edges`` giving their periods.
    edges : list of Timestamp
        ``as_of`` and the starts of the ``phs_window`` periods before it, descending.
    target : DataFrame
        Incidents of the period.
    terrain : TerrainOnGrid or None
    previous_key : str or None
        The period just before, for the stability measures.
    others : DataFrame or None
        Incidents of the other periods of the same year (the ``lopo`` ceiling); None when
        it is not asked for or cannot be made (a hold-out).
    score_history : DataFrame or None
        Incidents the harm-surface methods score when their window
        (:attr:`~rtm.ranking.ScoreSettings.history_months`) is not the year; None: ``history``.
    """

    key: str
    as_of: pd.Timestamp
    history: pd.DataFrame
    phs_history: pd.DataFrame
    edges: list
    target: pd.DataFrame
    terrain: TerrainOnGrid | None
    previous_key: str | None = None
    others: pd.DataFrame | None = None
    score_history: pd.DataFrame | None = None  # the scores' window (ScoreSettings.history_months); None: history


#: Why a method has nothing to rank from, when all its scores are 0 in the study area.
EMPTY_REASON = {
    "naive": "no harm is recorded in the study area in its history window",
    "kde": "no harm is recorded in the study area in its history window",
    "combined": "no harm is recorded in the study area in its history window and the terrain adds none",
    "rtm": "the risk terrain is 0 everywhere (no risk factor reaches the study area)",
    "phs": "no incident in the study area in the prospective hotspotting window before it",
    "lopo": "no other period of the same year has an incident in the study area",
}


class _Scorer:
    """The grid, its districts and the caches shared by every step."""

    def __init__(self, grid: Grid, settings: BacktestSettings):
        self.grid, self.settings = grid, settings
        self.ids = grid.cell_ids().ravel()
        flat_d = np.where(grid.mask, grid.district, -1).ravel()
        self.cells = [np.flatnonzero(flat_d == d) for d in range(len(grid.district_names))]
        self.flat_district = flat_d
        self.cache: dict = {}
        self.previous: dict = {}  # (period, district, method, selection) -> ranked cells
        self.seconds: dict[str, float] = {}
        self.unscored: dict[str, list] = {}  # method -> [(period key, reason)]
        sel = settings.selections()
        self.sizes = [[self._size(len(c), share, top) for _, share, top in sel] for c in self.cells]
        top_share = max(settings.area_shares, default=0.0)
        self.curve_shares = np.linspace(top_share / settings.curve_points, top_share, settings.curve_points) \
            if top_share else np.zeros(0)
        self.kmax = [max(s + [int(round(top_share * len(c)))], default=0) for s, c in zip(self.sizes, self.cells)]

    @staticmethod
    def _size(n: int, share, top) -> int:
        if not n:
            return 0
        return min(n, top) if top is not None else min(n, max(1, int(round(share * n))))

    def _tick(self, name: str, t0: float) -> float:
        t = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + t - t0
        return t

    def scores(self, step: Step) -> dict[str, np.ndarray]:
        """Each forecasting method's score of every cell (``random`` has none; the ceilings
        are :meth:`ceilings`). A method whose scores are all 0 in the study area has nothing
        to rank from: it is left out and recorded in ``unscored``."""
        methods, g, st = self.settings.methods, self.grid, self.settings
        out: dict[str, np.ndarray] = {}
        h = step.history
        x, y, w = h["x"].to_numpy(float), h["y"].to_numpy(float), h["weight"].to_numpy(float)
        t = time.perf_counter()
        if "naive" in methods:
            naive = g.counts(x, y, w)
            naive[~g.mask] = 0.0
            out["naive"] = naive
            t = self._tick("naive", t)
        if {"kde", "rtm", "combined"} & set(methods):
            scoring = replace(st.scoring, method="combined")
            if step.score_history is not None:
                h = step.score_history
                x, y, w = h["x"].to_numpy(float), h["y"].to_numpy(float), h["weight"].to_numpy(float)
            cs = cell_scores(g, x, y, w, h, step.as_of, terrain=step.terrain, settings=scoring)
            out["kde"], out["combined"] = cs.harm, cs.score
            if "rtm" in methods:
                if scoring.weight > 0:
                    out["rtm"] = cs.risk_part
                else:
                    out["rtm"] = cell_scores(g, x, y, w, h, step.as_of, terrain=step.terrain,
                                             settings=replace(scoring, method="risk")).score
            t = self._tick("kde+rtm+combined (cell_scores)", t)
        if "phs" in methods:
            p = step.phs_history
            lags = period_lags(p["date_start"], step.as_of, step.edges)
            lags[(p["date_end"] > step.as_of).to_numpy()] = -1
            out["phs"] = phs_surface(g, p["x"].to_numpy(float), p["y"].to_numpy(float),
                                     p["weight"].to_numpy(float), lags, radius_m=st.phs_radius_m, cache=self.cache)
            t = self._tick("phs", t)
        return self._scored(step, out)

    def ceilings(self, step: Step) -> dict[str, np.ndarray]:
        """The rankings that see the period: ``oracle`` (its own harm per cell) and ``lopo``
        (the harm of the other periods of its year), as asked for; unscored as :meth:`scores`."""
        g, out = self.grid, {}
        for m, f in (("oracle", step.target), ("lopo", step.others)):
            if m in self.settings.methods:
                if f is None:
                    self.unscored.setdefault(m, []).append((step.key, "it needs the periods around it"))
                    continue
                h = g.counts(f["x"].to_numpy(float), f["y"].to_numpy(float), f["weight"].to_numpy(float))
                out[m] = np.where(g.mask, h, 0.0)
        return self._scored(step, out)

    def _scored(self, step: Step, out: dict) -> dict[str, np.ndarray]:
        keep = {}
        for m in self.settings.methods:
            if m not in out:
                continue
            if m != "oracle" and not (out[m][self.grid.mask] > 0).any():
                self.unscored.setdefault(m, []).append((step.key, EMPTY_REASON.get(m, "all its scores are 0")))
                continue
            keep[m] = out[m]
        return keep

    def measure(self, step: Step, scores: dict[str, np.ndarray]) -> tuple[list[dict], list[dict]]:
        """Metric rows (:data:`COLUMNS`) and capture-curve rows of one step."""
        g, st = self.grid, self.settings
        t0 = time.perf_counter()
        tx, ty = step.target["x"].to_numpy(float), step.target["y"].to_numpy(float)
        n_cell = g.counts(tx, ty).ravel()
        h_cell = g.counts(tx, ty, step.target["weight"].to_numpy(float)).ravel()
        n_cell[~g.mask.ravel()] = 0.0
        h_cell[~g.mask.ravel()] = 0.0
        scores = scores | self.ceilings(step)
        sels = st.selections()
        names = list(g.district_names)
        rows, curve = [], []
        # pooled sums over districts: (method, selection) -> [caught, harm, listed, cells, best, harm best]
        pooled: dict = {}
        curve_pool: dict = {}
        stab_pool: dict = {}
        for d, cells in enumerate(self.cells):
            if not cells.size:
                continue
            kmax = self.kmax[d]
            n_d, h_d = n_cell[cells], h_cell[cells]
            tot_n, tot_h = float(n_d.sum()), float(h_d.sum())
            best_n, best_h = best_capture(n_d, kmax), best_capture(h_d, kmax)
            ks = self.sizes[d]
            curve_k = np.clip(np.rint(self.curve_shares * cells.size).astype(int), 0, kmax)
            for m in st.methods:
                if m != "random" and m not in scores:
                    continue  # not scored in this period (see unscored)
                if m == "random":
                    cum_n = np.arange(1, kmax + 1) * tot_n / cells.size
                    cum_h = np.arange(1, kmax + 1) * tot_h / cells.size
                    ranked = None
                else:
                    ranked = ranked_cells(scores[m].ravel(), cells, self.ids, kmax)
                    cum_n, cum_h = np.cumsum(n_cell[ranked]), np.cumsum(h_cell[ranked])
                cn = np.concatenate([[0.0], cum_n])
                ch = np.concatenate([[0.0], cum_h])
                acc = curve_pool.setdefault(m, np.zeros((2, curve_k.size)))
                acc[0] += cn[curve_k]
                acc[1] += ch[curve_k]
                for (label, _, _), k in zip(sels, ks):
                    vals = (cn[k], tot_n, ch[k], tot_h, k, cells.size, best_n[k - 1], best_h[k - 1])
                    p = pooled.setdefault((m, label), np.zeros(8))
                    p += np.asarray(vals, float)
                    rows += self._rows(step.key, names[d], m, label, k, cells.size, capture_metrics(*vals))
                    stab = self._stability(step, names[d], m, label, k, cells.size, ranked)
                    rows += self._rows(step.key, names[d], m, label, k, cells.size, stab)
                    s = stab_pool.setdefault((m, label), [0.0, 0.0, []])
                    if "kept" in stab:
                        s[0] += stab["kept"] * k
                        s[1] += k
                    if "rbo" in stab:
                        s[2].append(stab["rbo"])
        for (m, label), v in pooled.items():
            caught, tot_n, harm, tot_h, k, cells, bn, bh = v
            rows += self._rows(step.key, "all", m, label, int(k), int(cells),
                               capture_metrics(caught, tot_n, harm, tot_h, int(k), int(cells), bn, bh))
            kept_k, kept_n, rbos = stab_pool.get((m, label), (0, 0, []))
            stab = {}
            if kept_n:
                stab["kept"] = kept_k / kept_n
            if rbos:
                stab["rbo"] = float(np.mean(rbos))
            rows += self._rows(step.key, "all", m, label, int(k), int(cells), stab)
        tot_n, tot_h = float(n_cell.sum()), float(h_cell.sum())
        for m, acc in curve_pool.items():
            for j, s in enumerate(self.curve_shares):
                curve.append({"period": step.key, "method": m, "area_share": float(s),
                              "hit_rate": acc[0, j] / tot_n if tot_n else np.nan,
                              "harm_capture": acc[1, j] / tot_h if tot_h else np.nan})
        self._tick("selection and metrics", t0)
        return rows, curve

    def _stability(self, step: Step, district, method, label, k, cells, ranked) -> dict:
        if method == "random":
            return {"kept": k / cells} if step.previous_key is not None else {}
        cur = ranked[:k]
        self.previous[(step.key, district, method, label)] = cur
        prev = self.previous.pop((step.previous_key, district, method, label), None)
        if prev is None:
            return {}
        return {"kept": kept_share(prev, cur), "rbo": rank_biased_overlap(prev, cur, self.settings.rbo_p)}

    @staticmethod
    def _rows(key, district, method, label, k, cells, values: dict) -> list[dict]:
        share = k / cells if cells else np.nan
        return [{"period": key, "district": district, "method": method, "selection": label, "area_share": share,
                 "n_spots": int(k), "metric": name, "value": float(v)} for name, v in values.items()]
