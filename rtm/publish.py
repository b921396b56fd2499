"""From loaded data to a published list: the risk terrain fitted (or reused) for a period,
the list made, its exports written and the archive updated, all or nothing.

The command line and the app call :func:`terrain_for` and :func:`publish`; the list itself
is made by :func:`rtm.weekly.build_list`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Mapping

import pandas as pd

from .archive import Archive
from .errors import InputError, output_folder
from .periods import Period
from .terrain import RiskTerrain

#: How often the risk terrain is refitted by default: every 13 weeks (a quarter) for weekly
#: lists, every 3 months for monthly ones. Attractors change slowly; refitting weekly costs
#: minutes on a county and moves the terrain little.
REFIT_EVERY = {"week": 13, "month": 3}
_ANCHOR = pd.Timestamp("2000-01-03")  # a Monday: refit dates are whole 13-week steps from it


def refit_date(period: Period, every: int | None = None) -> pd.Timestamp:
    """The date the terrain used for ``period`` is fitted up to (exclusive).

    Weekly: the latest start of a 13-week block (counted from Monday 3 Jan 2000) at or
    before the period; monthly: the first month of the period's quarter. So one fitted
    terrain serves every period of its block, and no block's terrain sees its own data.
    """
    every = every or REFIT_EVERY[period.kind]
    if period.kind == "month":
        months = (period.start.year * 12 + period.start.month - 1)
        first = months - months % every
        return pd.Timestamp(year=first // 12, month=first % 12 + 1, day=1)
    weeks = (period.start - _ANCHOR).days // 7
    return _ANCHOR + pd.Timedelta(weeks=weeks - weeks % every)


def fit_terrain(incidents, areas, layers: Mapping, fit_to: pd.Timestamp, kind: str, **options) -> RiskTerrain:
    """Fit the risk terrain model on the year of incidents before ``fit_to``; the terrain
    only (see :func:`fit_model`, which takes the same arguments)."""
    return fit_model(incidents, areas, layers, fit_to, kind, **options)[1]


def fit_model(incidents, areas, layers: Mapping, fit_to: pd.Timestamp, kind: str, *, cell_size: float,
              block_length: float, bands: int, increment: str = "whole", operationalisations=None,
              max_influence_m=None, seed: int = 0, progress: Callable[[str], None] | None = None):
    """Fit the risk terrain model on the year of incidents before ``fit_to``.

    Every incident with positive harm counts once (the RTM models where incidents happen;
    how much harm they do is the harm surface's part). The year is 52 weeks for weekly
    data, 12 months for monthly.

    Returns
    -------
    (RtmResult, RiskTerrain)
        The whole run (for the model report and factor table) and the terrain the lists
        use; ``result.inputs["incidents"]`` states the data window.

    Raises
    ------
    InputError
        Fewer than 2 incidents in that year, or what :func:`rtm.pipeline.run_rtm` raises.
    """
    from .pipeline import run_rtm

    start = fit_to - (pd.DateOffset(months=12) if kind == "month" else pd.Timedelta(weeks=52))
    f = incidents.frame
    sub = f[(f["date_start"] >= start) & (f["date_end"] <= fit_to) & (f["weight"] > 0)]
    if len(sub) < 2:
        raise InputError("incidents", f"only {len(sub)} incident(s) fall in the year before {fit_to:%Y-%m-%d} "
                         "to fit the risk terrain model on", "choose a later period, or give more history")
    data = SimpleNamespace(frame=sub.assign(weight=1.0), crs=incidents.crs)
    result = run_rtm(data, areas, layers, cell_size=cell_size, block_length=block_length, bands=bands,
                     increment=increment, operationalisations=operationalisations, max_influence_m=max_influence_m,
                     random_state=seed, progress=progress)
    result.inputs["incidents"] = (f"{len(sub):,} incidents with harm from {start:%Y-%m-%d} to before "
                                  f"{fit_to:%Y-%m-%d}, counted once each")
    terrain = RiskTerrain.from_result(result, data_from=f"{start:%Y-%m-%d}", data_to=f"{fit_to:%Y-%m-%d}",
                                      layers=", ".join(layers))
    return result, terrain


def fingerprint(*parts) -> str:
    """A short sha256 of JSON-able parts (settings, file hashes): names a cached terrain."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 (16 hex digits) of this package's Python sources: part of every stored model's
    key, so a changed model code never reuses a terrain fitted by the old one (~5 ms, once)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def model_key(incidents, areas, layers: Mapping, fit_to: pd.Timestamp, *, cell_size: float, block_length: float,
              bands: int, increment: str = "whole", operationalisations=None, max_influence_m=None,
              extra=()) -> str:
    """The name a fitted terrain is stored under: a :func:`fingerprint` of everything the fit
    depends on (incident, area and layer files by sha256, layer filters, the RTM settings,
    the fit-to date, ``extra`` settings of the caller, and :func:`code_fingerprint`)."""
    return fingerprint([s.get("sha256") for s in incidents.report.sources],
                       [s.get("sha256") for s in areas.report.sources], list(areas.names),
                       {n: (l.report.sources, getattr(l, "where", None)) for n, l in layers.items()},
                       operationalisations, max_influence_m, cell_size, block_length, bands, increment,
                       f"{fit_to:%Y-%m-%d}", list(extra), code_fingerprint())


def stored_terrain(cache_dir: Path, key: str) -> RiskTerrain | None:
    """The terrain stored under ``cache_dir/key``, or None when there is none (or it is damaged)."""
    folder = Path(cache_dir) / key
    if (folder / "terrain.json").exists():
        try:
            return RiskTerrain.read(folder)
        except InputError:
            return None  # a damaged entry is refitted and replaced
    return None


def store_terrain(cache_dir: Path, key: str, terrain: RiskTerrain) -> None:
    """Write ``terrain`` to ``cache_dir/key`` whole or not at all: it is written to a
    temporary folder that is then renamed, so a reader (another process too) sees the old
    entry, no entry, or the new one, never half of one. If another process stores the same
    key meanwhile, its entry is kept (the same inputs give the same terrain)."""
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    folder = Path(cache_dir) / key
    tmp = Path(tempfile.mkdtemp(prefix=".fitting-", dir=cache_dir))
    try:
        terrain.write(tmp)
        if folder.exists():  # an entry that could not be read, being replaced
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.replace(tmp, folder)
        except OSError:
            if not (folder / "terrain.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cached_terrain(cache_dir: Path, key: str, fit: Callable[[], RiskTerrain]) -> tuple[RiskTerrain, bool]:
    """The terrain stored under ``cache_dir/key``, or ``fit()`` stored there; returns
    ``(terrain, reused)``."""
    terrain = stored_terrain(cache_dir, key)
    if terrain is not None:
        return terrain, True
    terrain = fit()
    store_terrain(cache_dir, key, terrain)
    return terrain, False


def stem_of(period: Period) -> str:
    """File-name stem of a period's exports, e.g. ``harmspots_week_2019-01-07``."""
    return f"harmspots_{period.kind}_{period.key}"


def publish(lst, out_dir, *, archive: Archive | None, districts=None, marking: str | None = None) -> dict[str, Path]:
    """Write every export of ``lst`` into ``out_dir/<period key>/`` and store it in the archive.

    All or nothing: the exports are written to a temporary folder first; the archive is
    updated in one transaction; only then does the folder replace the period's old one.
    A failure at any step leaves the previous exports and the archive as they were.
    ``marking`` is the briefing's protective marking (default ``OFFICIAL``).

    Returns
    -------
    dict of str to Path
        The files written (see :func:`rtm.exports.write_exports`).
    """
    from .exports import DEFAULT_MARKING, write_exports

    out = output_folder(out_dir)
    final = out / lst.period.key
    tmp = Path(tempfile.mkdtemp(prefix=f".{lst.period.key}-", dir=out))
    try:
        paths = write_exports(lst.spots, lst.provenance, tmp, stem=stem_of(lst.period), grid=lst.grid,
                              surfaces=lst.surfaces(), districts=districts, places=getattr(lst, "places", None),
                              streets=getattr(lst, "street_lines", None),
                              marking=marking or DEFAULT_MARKING)
        if archive is not None:
            archive.store(lst)
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {k: final / Path(p).name for k, p in paths.items()}
