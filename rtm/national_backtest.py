"""National back-tests: :func:`rtm.backtest.run_backtest` force by force, serially or as
Dask tasks (:mod:`rtm.distributed`), each force on its own incidents and area (boundary
file, or made from its incidents) and, when one grid would be too big, district by district
(:func:`rtm.national.plan_pieces`). A force's rows are the same whichever way it is run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import pandas as pd

from .backtest import METHODS, TERRAIN_METHODS, BacktestSettings, run_backtest, summarise
from .national import Force, NationalSettings, client_budget_mb, load_force, peak_rss_mb, plan_pieces
from .progress import Progress


@dataclass
class NationalBacktest:
    """What a national back-test measured.

    Attributes
    ----------
    metrics : DataFrame
        :data:`rtm.backtest.COLUMNS` with ``force`` first: every force, period, district,
        method, list size and measure.
    forces : DataFrame
        One row a force: ``force``, ``incidents``, ``periods`` scored, ``pieces`` (grids
        made: 1, or one a district), ``seconds``, ``peak_rss_mb``, ``notes``.
    """

    metrics: pd.DataFrame
    forces: pd.DataFrame

    def write(self, path) -> dict:
        """Write the measures to ``path`` (CSV), the force table (``<stem>_forces.csv``) and
        the summary (``<stem>_summary.csv``) beside it, text cells Excel-safe as
        :meth:`rtm.national.NationalList.write`. Returns the paths by key."""
        from pathlib import Path

        from .national import write_tables

        path = Path(path)
        return write_tables({"metrics": (path, self.metrics),
                             "forces": (path.with_name(f"{path.stem}_forces.csv"), self.forces),
                             "summary": (path.with_name(f"{path.stem}_summary.csv"), self.summary())})

    def summary(self) -> pd.DataFrame:
        """Each force's summary across periods (:func:`rtm.backtest.summarise`), ``force`` first."""
        parts = []
        for name, m in self.metrics.groupby("force", sort=True):
            s = summarise(m.drop(columns="force"))
            s.insert(0, "force", name)
            parts.append(s)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def force_backtest(force: Force, periods, settings: NationalSettings, backtest: BacktestSettings) -> dict:
    """Back-test one force over ``periods`` (the task of a national back-test).

    The grid is planned as the force's list is (``settings.list.max_grid_mb`` and
    ``settings.task_mb``, with ``backtest``'s spot size and tolerance): one grid, or one a
    district. Returns ``{"force", "metrics", "incidents", "periods", "pieces", "seconds",
    "peak_rss_mb", "notes"}``. Cost: one load of the force and one back-test per grid.
    """
    t0 = time.perf_counter()
    inc, areas, _ = load_force(force, settings)
    plan = replace(settings.list, spot_size=backtest.spot_size, area_tolerance_m=backtest.area_tolerance_m)
    pieces, _ = plan_pieces(areas, plan, settings.task_mb, force.name)
    metrics, notes, done = [], [], set()
    for piece in pieces:
        res = run_backtest(inc, piece, list(periods), settings=backtest)
        metrics.append(res.metrics)
        notes += [n for n in res.notes if n not in notes]
        done |= set(res.periods)
    m = pd.concat(metrics, ignore_index=True)
    m.insert(0, "force", force.name)
    return {"force": force.name, "metrics": m, "incidents": len(inc.frame), "periods": len(done),
            "pieces": len(pieces), "seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb(),
            "notes": " ".join(notes)}


def national_backtest(forces, periods, settings: NationalSettings = NationalSettings(),
                      backtest: BacktestSettings | None = None, *, client=None,
                      progress: Progress | None = None) -> NationalBacktest:
    """Back-test every force over ``periods``, force by force.

    Parameters
    ----------
    forces : list of Force
        From :func:`rtm.national.find_forces`.
    periods : list of Period
    settings : NationalSettings
        How areas are made and the grid memory limit (``list.max_grid_mb``).
    backtest : BacktestSettings, optional
        Default: every method that needs no risk terrain (a national run has no layers).
    client : dask.distributed.Client, optional
        Run each force as a task on it; None runs them here one after the other.
    progress : callable(done, total, what), optional

    Returns
    -------
    NationalBacktest

    Notes
    -----
    Memory: the largest force's (or district's) grid per running task; time: the sum of
    the forces' back-tests divided by the workers.
    """
    from .distributed import run_tasks

    forces = list(forces)
    if backtest is None:
        backtest = BacktestSettings(methods=tuple(m for m in METHODS if m not in TERRAIN_METHODS))
    settings = replace(settings, task_mb=client_budget_mb(client))
    out = run_tasks(force_backtest, forces, list(periods), settings, backtest, client=client, progress=progress,
                    names=[f.name for f in forces])
    metrics = pd.concat([r["metrics"] for r in out], ignore_index=True) if out else pd.DataFrame()
    table = pd.DataFrame([{k: v for k, v in r.items() if k != "metrics"} for r in out])
    return NationalBacktest(metrics, table)


__all__ = ["NationalBacktest", "force_backtest", "national_backtest"]
