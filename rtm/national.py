"""National lists: one harm-spot list per force, made force by force so that memory follows
the largest force, not the country, serially or as tasks on Dask (:mod:`rtm.distributed`).

Each force's list is :func:`rtm.weekly.build_list` on that force's own incidents and study
area (its boundary file, or an area made from its incidents, :mod:`rtm.point_area`), so a
force's rows are the same whether it is listed alone, in a national run, or on a cluster.
Scores are relative to the force's own average cell (docs/national.md).
"""

from __future__ import annotations

import re
import resource
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .periods import Period
from .point_area import DEFAULT_DISTANCE_M, DEFAULT_MIN_SHARE
from .progress import Progress
from .weekly import ListSettings

#: police.uk street file names: ``2019-02-kent-street.csv`` (optionally .xz, .gz, .bz2).
POLICEUK_NAME = re.compile(r"^(\d{4}-\d{2})-(?P<force>[a-z0-9-]+?)-street\.csv(\.(xz|gz|bz2))?$")


@dataclass(frozen=True)
class Force:
    """One force of a national run.

    Attributes
    ----------
    name : str
        The force (police.uk's name, e.g. ``kent``); the list's ``force`` column.
    incidents : tuple of str
        Its incident files.
    area, area_field : str or None
        Its boundary polygons and district name field; without ``area`` the area is made
        from its incidents (:func:`rtm.point_area.area_from_points`).
    """

    name: str
    incidents: tuple
    area: str | None = None
    area_field: str | None = None


@dataclass(frozen=True)
class NationalSettings:
    """What decides every force's list besides its data.

    Attributes
    ----------
    list : ListSettings
        As for one force; ``list.max_grid_mb`` is the limit on each force's grid.
    weights : str
        Harm weights by name (``cchi``, ``count``) or a weights CSV.
    point_distance_m, point_min_share : float
        The rule of areas made from incidents (:mod:`rtm.point_area`).
    task_mb : float or None
        Memory one force's list may take on the machine or worker that makes it
        (:func:`task_budget_mb`; :func:`national_list` sets it); None: no check beyond
        ``list.max_grid_mb``.
    """

    list: ListSettings = field(default_factory=ListSettings)
    weights: str = "cchi"
    point_distance_m: float = DEFAULT_DISTANCE_M
    point_min_share: float = DEFAULT_MIN_SHARE
    task_mb: float | None = None

    def __post_init__(self):
        from .grid import check_grid_limit

        check_grid_limit(self.list.max_grid_mb)  # nan or inf would turn the limit off


@dataclass
class ForceResult:
    """A force's list and what making it cost.

    Attributes
    ----------
    force : str
    spots : DataFrame
        :data:`rtm.weekly.LIST_COLUMNS` with ``force`` first and the spot outline as WKT
        (``geometry_wkt``), best spot first in each district.
    notes : list of str
    incidents : int
        Incidents used.
    rows_in, rows_rejected, rejected : int, int, str
        Rows of its files, those rejected, and why (``missing_coordinates 587; duplicate 12``).
    cells : int
        Cells of the force's grid.
    area : str
        How the study area was made (``boundary file`` or the point rule).
    seconds : float
    peak_rss_mb : float
        Peak resident memory of the process that made it, up to the end of the task.
    """

    force: str
    spots: pd.DataFrame
    notes: list
    incidents: int
    cells: int
    area: str
    seconds: float
    peak_rss_mb: float
    rows_in: int = 0
    rows_rejected: int = 0
    rejected: str = ""


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (``getrusage``; Linux counts KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def find_forces(paths, areas: dict | None = None, area_fields: dict | None = None) -> list[Force]:
    """Group police.uk street files into forces by their names (``YYYY-MM-<force>-street.csv``).

    Parameters
    ----------
    paths : list of str or Path
        Files, or folders searched recursively.
    areas, area_fields : dict of force name to str, optional
        Boundary files (and their district field) of the forces that have one.

    Returns
    -------
    list of Force
        In name order, each with its files in name (month) order.

    Raises
    ------
    InputError
        A file whose name is not a police.uk street file, no file at all, or an area given
        for a force with no files.
    """
    files: dict[str, list[str]] = {}
    for p in map(Path, paths):
        if not p.exists():
            raise InputError(p, "the file or folder does not exist", "check the path")
        found = sorted(q for q in p.rglob("*") if q.is_file() and "street.csv" in q.name) if p.is_dir() else [p]
        for f in found:
            m = POLICEUK_NAME.match(f.name)
            if m is None:
                raise InputError(f, "the name is not a police.uk street file's (YYYY-MM-<force>-street.csv)",
                                 "keep the names data.police.uk gives, so each file's force is known")
            files.setdefault(m.group("force"), []).append(str(f))
    if not files:
        raise InputError(", ".join(map(str, paths)), "no police.uk street file (*-street.csv) was found",
                         "give the folders of the monthly files from data.police.uk")
    areas, area_fields = dict(areas or {}), dict(area_fields or {})
    for name in list(areas) + list(area_fields):
        if name not in files:
            raise InputError(areas.get(name, name), f"an area is given for the force '{name}', which has no files",
                             f"name one of: {', '.join(sorted(files))}")
    return [Force(n, tuple(sorted(files[n], key=lambda s: Path(s).name)), areas.get(n), area_fields.get(n))
            for n in sorted(files)]


def load_force(force: Force, settings: NationalSettings = NationalSettings()):
    """``(incidents, areas, how)`` of one force: its incidents with harm weights, its study
    area (boundary file, or made from its incidents, whose rows outside it are then left
    out) and a sentence saying how the area was made. InputError for data that cannot be
    used. Cost: one load of its files, and one area from points without a boundary file.
    """
    from .areas import load_areas
    from .incidents import load_incidents
    from .point_area import area_from_points
    from .weights import HarmWeights

    weights = HarmWeights.from_name(settings.weights)
    if force.area:
        areas = load_areas(force.area, force.area_field)
        inc = load_incidents(list(force.incidents), working_crs=areas.crs, weights=weights, areas=areas,
                             area_tolerance_m=settings.list.area_tolerance_m)
        how = f"boundary file {Path(force.area).name}"
    else:
        inc = load_incidents(list(force.incidents), weights=weights)
        if not len(inc.frame):
            raise _unusable(force, inc.report)
        areas = area_from_points(inc.frame["x"], inc.frame["y"], inc.crs, force.name,
                                 settings.point_distance_m, settings.point_min_share)
        how = areas.report.notes[-1]
        inside = areas.locate(inc.frame["x"].to_numpy(float), inc.frame["y"].to_numpy(float)) >= 0
        inc = replace(inc, frame=inc.frame.loc[inside].reset_index(drop=True))
        if not inside.all():  # used by the loader, not listed: the force's notes count them
            out = int((~inside).sum())
            inc.report.notes.append(f"{out:,} incidents outside the area made from the points were left out")
    if not len(inc.frame):
        raise _unusable(force, inc.report)
    return inc, areas, how


def _unusable(force: Force, report) -> InputError:
    """A force none of whose incidents can be listed, naming it, its files and why its rows
    were rejected (the load report's counts)."""
    files = ", ".join(Path(f).name for f in force.incidents[:3]) + (" ..." if len(force.incidents) > 3 else "")
    why = ", ".join(f"{r} {n:,}" for r, n in report.rejected.items()) or "none rejected"
    return InputError(f"force {force.name}", f"none of the force's {report.rows_in:,} rows ({files}) is usable in "
                      f"its area (rejected: {why})", "check its files with 'rtm validate', or leave the force's "
                      "files out")


def force_list(force: Force, period: Period, settings: NationalSettings = NationalSettings()) -> ForceResult:
    """Load one force and make its list for ``period`` (the task of a national run).

    Returns a :class:`ForceResult`. Raises InputError (naming the force's file) for data
    that cannot be used, or, before any grid is allocated, a grid that cannot fit
    (:func:`plan_pieces`). Cost: one load of the force's files, one area from points when it
    has no boundary file, one :func:`rtm.weekly.build_list`; memory about
    ``rtm.grid.BYTES_PER_CELL`` bytes a cell of the force's grid plus its incidents.
    """
    from .weekly import build_list

    t0 = time.perf_counter()
    inc, areas, how = load_force(force, settings)
    pieces, whole = plan_pieces(areas, settings.list, settings.task_mb, force.name)
    made = []
    for piece in pieces:
        try:
            made.append(build_list(inc, piece, period, settings=settings.list))
        except InputError as exc:
            if exc.source != "grid":
                raise
            raise InputError(f"force {force.name}", exc.problem, exc.fix, exc.field, exc.field_kind) from None
    spots = pd.concat([pd.DataFrame(m.spots.drop(columns="geometry")) for m in made], ignore_index=True)
    spots.insert(0, "force", force.name)
    spots["geometry_wkt"] = np.concatenate([m.spots.geometry.to_wkt().to_numpy(object) for m in made])
    notes = list(dict.fromkeys([*inc.report.notes, *(n for m in made for n in m.notes)]))  # the load's first
    if not whole:
        notes.append(f"The force's grid would need more than {settings.list.max_grid_mb:,.0f} MB, so each district "
                     "was listed on its own grid: scores are relative to the district's average cell.")
    cells = max(m.grid.nrows * m.grid.ncols for m in made)
    rep = inc.report
    return ForceResult(force.name, spots, notes, len(inc.frame), cells, how, time.perf_counter() - t0,
                       peak_rss_mb(), rep.rows_in, rep.rows_rejected,
                       "; ".join(f"{r} {n:,}" for r, n in rep.rejected.items()))


def plan_pieces(areas, settings: ListSettings, task_mb: float | None = None, name: str = "") -> tuple[list, bool]:
    """How a force's list is made within memory: ``([areas], True)`` on one grid when its
    estimate is within ``settings.max_grid_mb``, else ``([one Areas a district], False)``.

    Each grid is estimated (:func:`rtm.grid.grid_memory_mb`) before anything is allocated,
    and a run whose largest grid exceeds ``task_mb`` (the memory this machine or worker has
    for it, :func:`task_budget_mb`) is refused with the figure and the fixes.

    Raises
    ------
    InputError
        The largest grid does not fit, or ``settings.max_grid_mb`` is not a finite number
        above 0.
    """
    from .grid import BYTES_PER_CELL, check_grid_limit, grid_memory_mb

    check_grid_limit(settings.max_grid_mb)  # nan or inf would turn the limit off
    edge = settings.edge_m

    def need(a):
        minx, miny, maxx, maxy = a.frame.total_bounds
        return grid_memory_mb((minx - edge, miny - edge, maxx + edge, maxy + edge), settings.spot_size)

    cells, mb = need(areas)
    pieces, whole = [areas], True
    if mb > settings.max_grid_mb and len(areas.names) > 1:
        pieces, whole = [areas.select([n]) for n in areas.names], False
        cells, mb = max((need(p) for p in pieces), key=lambda t: t[1])
    limit = settings.max_grid_mb if task_mb is None else min(task_mb, settings.max_grid_mb)
    if mb > limit:
        what = "its grid" if whole else "its largest district's grid"
        fits = settings.spot_size * float(np.sqrt(mb / limit))
        machine = task_mb is not None and task_mb < settings.max_grid_mb
        raise InputError(f"force {name}" if name else "grid",
                         f"{what} at {settings.spot_size:g} m has {cells:,.0f} cells, about {mb:,.0f} MB at "
                         f"~{BYTES_PER_CELL} bytes a cell, more than the {limit:,.0f} MB "
                         + ("this machine or worker has free for one list" if machine else "limit max_grid_mb"),
                         f"use cells of at least {np.ceil(fits):,.0f} m, give the force district boundaries so it "
                         "is listed district by district, "
                         + ("run fewer lists at once (fewer Dask threads a worker) or on a machine or worker with "
                            "more free memory" if machine else "or raise max_grid_mb on a machine with the memory"),
                         field="max_grid_mb", field_kind="setting")
    return pieces, whole


@dataclass
class NationalList:
    """Every force's list of one period.

    Attributes
    ----------
    period : Period
    spots : DataFrame
        The forces' lists one after the other, in force name order.
    forces : DataFrame
        One row a force: ``force``, ``spots``, ``rows_in``, ``rows_rejected``, ``rejected``
        (by reason), ``incidents`` (used and in the force's area: rows in = rejected + incidents
        + those outside an area made from the points, which the notes count), ``cells``,
        ``area``, ``seconds``, ``peak_rss_mb``, ``notes`` (the load's first).
    """

    period: Period
    spots: pd.DataFrame
    forces: pd.DataFrame

    def write(self, path) -> dict:
        """Write the spots to ``path`` (CSV, UTF-8 with BOM) and the force table beside it
        (``<stem>_forces.csv``); returns ``{"spots": Path, "forces": Path}``."""
        path = Path(path)
        return write_tables({"spots": (path, self.spots),
                             "forces": (path.with_name(f"{path.stem}_forces.csv"), self.forces)})


def write_tables(tables: dict) -> dict:
    """Write ``{key: (path, frame)}`` as CSV files (UTF-8 with BOM, CRLF), text cells made
    Excel-safe (:func:`rtm.exports.text.excel_safe`); returns ``{key: path}``. InputError
    when a folder cannot be made."""
    from .errors import output_folder
    from .exports.text import excel_safe

    out = {}
    for key, (path, frame) in tables.items():
        path = Path(path)
        output_folder(path.parent)
        frame = frame.copy()
        for c in frame.columns[frame.dtypes == object]:
            frame[c] = [excel_safe(v) if isinstance(v, str) else v for v in frame[c]]
        frame.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        out[key] = path
    return out


def task_budget_mb(at_once: int = 1, available_mb: float | None = None) -> float:
    """The grid memory one force's list may take: 80% of the machine's available memory
    (psutil) shared among the ``at_once`` lists made at the same time; ``available_mb``
    overrides the machine's figure (a Dask worker's memory limit)."""
    if available_mb is None:
        import psutil

        available_mb = psutil.virtual_memory().available / 2**20
    return float(0.8 * available_mb / max(int(at_once), 1))


def client_budget_mb(client=None) -> float:
    """:func:`task_budget_mb` of this machine (``client`` None) or of the smallest worker of
    a Dask client (its memory limit shared among its threads; the machine's memory when the
    workers have no limit)."""
    if client is None:
        return task_budget_mb()
    info = list(client.scheduler_info(n_workers=-1)["workers"].values())
    limits = [w.get("memory_limit") or 0 for w in info]
    threads = max((w.get("nthreads", 1) for w in info), default=1)
    return task_budget_mb(threads, min(limits) / 2**20 if limits and min(limits) > 0 else None)


def national_list(forces, period: Period, settings: NationalSettings = NationalSettings(), *, client=None,
                  progress: Progress | None = None) -> NationalList:
    """Every force's list for ``period``, force by force.

    Parameters
    ----------
    forces : list of Force
        From :func:`find_forces`.
    period : Period
    settings : NationalSettings
    client : dask.distributed.Client, optional
        Run each force as a task on this client (:func:`rtm.distributed.connect`); None
        runs them one after the other in this process. Both give the same list.
    progress : callable(done, total, what), optional
        Called as each force finishes.

    Returns
    -------
    NationalList

    Notes
    -----
    Peak memory is that of the largest force's list (about ``BYTES_PER_CELL`` bytes a cell
    of its grid), times the number of forces a worker runs at once on Dask; the country's
    grid is never allocated. Time: the sum of the forces' times, divided by the workers.
    """
    from .distributed import run_tasks

    forces = list(forces)
    settings = replace(settings, task_mb=client_budget_mb(client))
    results = run_tasks(force_list, forces, period, settings, client=client, progress=progress,
                        names=[f.name for f in forces])
    spots = pd.concat([r.spots for r in results], ignore_index=True) if results else pd.DataFrame()
    table = pd.DataFrame([{"force": r.force, "spots": len(r.spots), "rows_in": r.rows_in,
                           "rows_rejected": r.rows_rejected, "rejected": r.rejected, "incidents": r.incidents,
                           "cells": r.cells, "area": r.area, "seconds": r.seconds, "peak_rss_mb": r.peak_rss_mb,
                           "notes": " ".join(r.notes)} for r in results])
    return NationalList(period, spots, table)
