"""National tuning: :func:`rtm.tuning.tune` force by force, serially or as Dask tasks
(:mod:`rtm.distributed`), each force choosing its ranking from its own past.

Each force is loaded as its list is (:func:`rtm.national.load_force`: boundary file, or an
area made from its incidents) and tuned on the list's grid and size; a force too big for one
grid (:func:`rtm.national.plan_pieces`) is tuned district by district, each district on its
own grid with its own choice. A force's rows are the same whichever way it is run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import pandas as pd

from .errors import InputError
from .national import Force, NationalSettings, client_budget_mb, load_force, peak_rss_mb, plan_pieces
from .progress import Progress

#: The test-span rankings reported per force, in this order (names of :mod:`rtm.tuning.choose`).
RANKINGS = ("tuned", "shipped default", "naive", "lopo ceiling", "oracle")


def _column(name: str) -> str:
    return name.replace(" ", "_")


@dataclass
class NationalTuning:
    """What a national tuning found.

    Attributes
    ----------
    forces : DataFrame
        One row a force (a district when the force was tuned district by district):
        ``force``, ``part`` (empty for the whole force, else the district), ``chosen`` (the
        family member's name), ``settings`` (:meth:`rtm.ranking.ScoreSettings.describe`),
        ``validation`` and ``test`` (first and last period), ``incidents``, the mean harm
        capture on the test span of each of :data:`RANKINGS` (``tuned``, ``shipped_default``,
        ``naive``, ``lopo_ceiling``, ``oracle``), ``tuned_vs_naive`` and
        ``default_vs_naive`` (relative differences), ``seconds``, ``peak_rss_mb``, ``notes``
        (why a force could not be tuned, when it could not: its captures are then empty).
    """

    forces: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """The national summary, one row a ranking of :data:`RANKINGS`: ``tuned`` (forces or
        districts tuned), ``mean_capture`` (mean over them of the test-span capture),
        ``mean_vs_naive`` (mean relative difference to naive), ``above_naive`` (how many
        were strictly above naive)."""
        t = self.forces.dropna(subset=["tuned"]) if len(self.forces) else self.forces
        rows = []
        for name in RANKINGS:
            if not len(t):
                rows.append({"ranking": name, "tuned": 0, "mean_capture": float("nan"),
                             "mean_vs_naive": float("nan"), "above_naive": 0})
                continue
            c = t[_column(name)].astype(float)
            naive = t["naive"].astype(float)
            rows.append({"ranking": name, "tuned": len(t), "mean_capture": float(c.mean()),
                         "mean_vs_naive": float((c / naive - 1.0).mean()), "above_naive": int((c > naive).sum())})
        return pd.DataFrame(rows)

    def write(self, path) -> dict:
        """Write the force table to ``path`` (CSV) and the summary beside it
        (``<stem>_summary.csv``), text cells Excel-safe (:func:`rtm.national.write_tables`).
        Returns the paths by key."""
        from pathlib import Path

        from .national import write_tables

        path = Path(path)
        return write_tables({"forces": (path, self.forces),
                             "summary": (path.with_name(f"{path.stem}_summary.csv"), self.summary())})


def force_tune(force: Force, settings: NationalSettings, spans: dict) -> list[dict]:
    """Tune one force (the task of a national tuning).

    Parameters
    ----------
    force : Force
    settings : NationalSettings
        The list's grid and size (``list.spot_size``, ``list.area_tolerance_m``,
        ``list.rule.top_n``, 20 when the list is not a top-N) and memory limits.
    spans : dict
        :func:`rtm.tuning.tune`'s ``kind``, ``validate``, ``test`` and ``week_start``.

    Returns
    -------
    list of dict
        One row of :attr:`NationalTuning.forces` a grid (one, or one a district). A span
        the force's data cannot fill, or a force with no usable row, is a row with the reason in
        ``notes``, not an error.

    Notes
    -----
    Cost: one load of the force, one :func:`rtm.tuning.tune` per grid (see its notes).
    """
    from .tuning import tune

    t0 = time.perf_counter()
    try:
        inc, areas, _ = load_force(force, settings)
    except InputError as exc:  # a force with no usable data is a row saying why, as for a short span
        row = {"force": force.name, "part": "", "chosen": "", "settings": "", "validation": "", "test": "",
               "incidents": 0, **{_column(n): float("nan") for n in RANKINGS}, "tuned_vs_naive": float("nan"),
               "default_vs_naive": float("nan"), "seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb(),
               "notes": f"Not tuned: {exc}"}
        return [row]
    pieces, whole = plan_pieces(areas, settings.list, settings.task_mb, force.name)
    top_n = settings.list.rule.top_n or 20
    rows = []
    for piece in pieces:
        t1 = time.perf_counter()
        row = {"force": force.name, "part": "" if whole else ", ".join(piece.names), "chosen": "", "settings": "",
               "validation": "", "test": "", "incidents": len(inc.frame)}
        try:
            res = tune(inc, piece, spot_size=settings.list.spot_size, area_tolerance_m=settings.list.area_tolerance_m,
                       top_n=top_n, **spans)
        except InputError as exc:
            row.update({_column(n): float("nan") for n in RANKINGS})
            row.update(tuned_vs_naive=float("nan"), default_vs_naive=float("nan"))
            notes = f"Not tuned: {exc}"
        else:
            v, t = res.validation_periods, res.test_periods
            row.update(chosen=res.chosen_name, settings=res.chosen.describe(), validation=f"{v[0]}..{v[-1]}",
                       test=f"{t[0]}..{t[-1]}")
            got = res.test.set_index("name")["capture"]
            row.update({_column(n): float(got.get(n, float("nan"))) for n in RANKINGS})
            row.update(tuned_vs_naive=row["tuned"] / row["naive"] - 1.0,
                       default_vs_naive=row["shipped_default"] / row["naive"] - 1.0)
            notes = " ".join(n for n in res.notes if not n.startswith("No risk terrain"))
        row.update(seconds=time.perf_counter() - (t0 if len(pieces) == 1 else t1), peak_rss_mb=peak_rss_mb(),
                   notes=notes)
        rows.append(row)
    return rows


def national_tune(forces, settings: NationalSettings = NationalSettings(), *, kind: str = "month",
                  validate: tuple | None = None, test: tuple | None = None, week_start: str = "monday",
                  client=None, progress: Progress | None = None) -> NationalTuning:
    """Tune every force's ranking on its own past, force by force.

    Parameters
    ----------
    forces : list of Force
        From :func:`rtm.national.find_forces`.
    settings : NationalSettings
        The lists' grid, size and memory limit.
    kind : {"month", "week"}
        The lists' periods (police.uk street files are monthly).
    validate, test : (first, last), optional
        The spans, the same for every force (``("2018-11", "2018-12")``); default each
        force's own (:func:`rtm.tuning.spans`).
    week_start : str
    client : dask.distributed.Client, optional
        Run each force as a task on it; None runs them here one after the other. Both give
        the same table (but for ``seconds`` and ``peak_rss_mb``).
    progress : callable(done, total, what), optional

    Returns
    -------
    NationalTuning

    Notes
    -----
    No risk terrain: the risk weight is not tuned (a national run has no layers). Memory:
    the largest force's (or district's) grid per running task; time: the sum of the
    forces' tunings divided by the workers.
    """
    from .distributed import run_tasks

    forces = list(forces)
    settings = replace(settings, task_mb=client_budget_mb(client))
    spans = {"kind": kind, "validate": validate, "test": test, "week_start": week_start}
    out = run_tasks(force_tune, forces, settings, spans, client=client, progress=progress,
                    names=[f.name for f in forces])
    return NationalTuning(pd.DataFrame([row for rows in out for row in rows]))


__all__ = ["RANKINGS", "NationalTuning", "force_tune", "national_tune"]
