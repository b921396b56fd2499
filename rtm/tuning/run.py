"""The tuning as a job: load a study (or a workspace's), take its risk terrain, tune.

``rtm tune`` is a thin front over :func:`tune_study` and :func:`tune_workspace`.
"""

from __future__ import annotations

from dataclasses import replace

from ..progress import Progress
from ..weekly_job import StudyInputs, TerrainPlan, load_study, terrain_source
from .choose import TuneResult, tune


def tune_study(study: StudyInputs, *, kind: str = "week", week_start: str = "monday", terrain: TerrainPlan = TerrainPlan(),
               spot_size: float = 150.0, top_n: int = 20, validate: tuple | None = None, test: tuple | None = None,
               progress: Progress | None = None, on_period=None):
    """Load ``study``, fit (or read) the risk terrain of ``terrain`` per refit block, and run
    :func:`~rtm.tuning.choose.tune`. Returns ``(result, incidents, areas, layers)``.

    InputError when the data cannot be read or the spans are unusable (month-only data with
    weekly lists included). Cost: the load, one terrain fit per refit block over both spans
    (none without factors), and the tuning itself (docs/backtest.md, "Self-tuning").
    """
    from ..backtest import check_inputs
    from ..periods import month_period, week_period

    areas, inc = load_study(study, progress)
    first = week_period(inc.frame["date_start"].min(), week_start) if kind == "week" else \
        month_period(inc.frame["date_start"].min())
    check_inputs(inc, [first], (), None)
    source, layers = terrain_source(terrain, inc, areas, progress) if terrain.any else (None, {})
    result = tune(inc, areas, kind=kind, validate=validate, test=test, week_start=week_start, spot_size=spot_size,
                  area_tolerance_m=study.area_tolerance_m, top_n=top_n, terrain_for=source, progress=on_period)
    return result, inc, areas, layers


def tune_workspace(folder, *, validate: tuple | None = None, test: tuple | None = None,
                   progress: Progress | None = None, on_period=None) -> tuple[TuneResult, object]:
    """Tune on a workspace's data, terrain and list settings (:func:`rtm.workspace.load_workspace`);
    the shipped default, not a saved ``[tuning]``, is the comparison. Returns ``(result,
    workspace)``; save the choice with :func:`rtm.tuning.saved.save_tuning`. Top-N lists are
    tuned at their N; an area-share list at 20 cells a district."""
    from pathlib import Path

    from ..workspace import load_workspace

    ws = load_workspace(folder)
    job = ws.job
    plan = job.terrain
    if plan.factors and plan.folder is None:
        plan = replace(plan, folder=str(Path(job.out_dir) / "models"))
    rule = job.settings.rule
    result, *_ = tune_study(job.study, kind=ws.period_kind, week_start=ws.week_start, terrain=plan,
                            spot_size=job.settings.spot_size, top_n=rule.top_n or 20, validate=validate, test=test,
                            progress=progress, on_period=on_period)
    return result, ws
