"""Which risk terrain serves a period: fitted on the year before the period's refit date,
kept in memory and, given a folder, on disk under a key of everything the fit depends on.

:class:`TerrainStore` is the one answer to that question for every front: ``rtm weekly``,
``rtm backtest`` and the app ask ``store.for_period(period)``. The same incidents, areas,
layers and :class:`~rtm.terrain_settings.RtmSettings` give the same key whichever front
asks, so a terrain fitted by the weekly run is read by the app, and the other way round.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from .bounds import MAX_REFIT_EVERY
from .errors import InputError, setting_error
from .periods import Period
from .progress import Progress
from .terrain import RiskTerrain
from .terrain_settings import RtmSettings

#: How often the risk terrain is refitted by default: every 13 weeks (a quarter) for weekly
#: lists, every 3 months for monthly ones. Attractors change slowly; refitting weekly costs
#: minutes on a county and moves the terrain little.
REFIT_EVERY = {"week": 13, "month": 3}
_ANCHOR = pd.Timestamp("2000-01-03")  # a Monday: refit dates are whole 13-week steps from it


def refit_date(period: Period, every: int | None = None) -> pd.Timestamp:
    """The moment the terrain used for ``period`` is fitted up to (exclusive).

    Weekly: the latest start of a block of ``every`` weeks (default 13, counted from
    Monday 3 Jan 2000) at or before the period; monthly: the first month of the period's
    block of ``every`` months (default 3: its quarter). So one fitted terrain serves every
    period of its block, and no block's terrain sees its own data.
    """
    every = every or REFIT_EVERY[period.kind]
    if not 1 <= every <= MAX_REFIT_EVERY:  # a block reaching past year 1 has no start date
        raise setting_error("refit_every", f"{every!r} is not a whole number of periods from 1 to {MAX_REFIT_EVERY}",
                            "refit every quarter or so, e.g. 13 weeks or 3 months")
    if period.kind == "month":
        months = (period.start.year * 12 + period.start.month - 1)
        first = months - months % every
        return pd.Timestamp(year=first // 12, month=first % 12 + 1, day=1)
    weeks = (period.start - _ANCHOR).days // 7
    return _ANCHOR + pd.Timedelta(weeks=weeks - weeks % every)


def fit_window(fit_to: pd.Timestamp, kind: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[from, to)`` of the incidents a terrain fitted up to ``fit_to`` uses: the 52 weeks
    (weekly lists) or 12 months (monthly lists) before it."""
    return fit_to - (pd.DateOffset(months=12) if kind == "month" else pd.Timedelta(weeks=52)), fit_to


def fit_incidents(incidents, fit_to: pd.Timestamp, kind: str):
    """The incidents a terrain fitted up to ``fit_to`` is fitted on, each counted once.

    Those with positive harm that started in the window of :func:`fit_window` and ended
    before ``fit_to`` (an incident stamped exactly at ``fit_to`` is the next period's).
    The RTM models where incidents happen; how much harm they do is the harm surface's
    part, so every weight becomes 1. Returns an ``Incidents`` of the same CRS.
    """
    start, end = fit_window(fit_to, kind)
    f = incidents.frame
    keep = (f["date_start"] >= start) & (f["date_start"] < end) & (f["date_end"] <= end) & (f["weight"] > 0)
    return dataclasses.replace(incidents, frame=f.loc[keep].assign(weight=1.0))


def fit_model(incidents, areas, layers: Mapping, settings: RtmSettings, fit_to: pd.Timestamp, kind: str,
              progress: Progress | None = None):
    """Fit the risk terrain model on the year of incidents before ``fit_to`` (:func:`fit_incidents`).

    Returns
    -------
    (RtmResult, RiskTerrain)
        The whole run (for the model report and factor table) and the terrain the lists
        use; its ``data_to`` is the end of the incidents actually used.

    Raises
    ------
    InputError
        Fewer than 2 incidents in that year, or what :func:`rtm.pipeline.run_rtm` raises.
    """
    from .pipeline import run_rtm

    data = fit_incidents(incidents, fit_to, kind)
    start, _ = fit_window(fit_to, kind)
    if len(data) < 2:
        raise InputError("incidents", f"only {len(data)} incident(s) fall in the year before {fit_to:%Y-%m-%d} "
                         "to fit the risk terrain model on", "choose a later period, or give more history")
    result = run_rtm(data, areas, layers, settings, progress=progress)
    result.inputs["incidents"] = (f"{len(data):,} incidents with harm from {start:%Y-%m-%d} to before "
                                  f"{fit_to:%Y-%m-%d}, counted once each")
    return result, RiskTerrain.from_result(result, layers=", ".join(layers))


def fingerprint(*parts) -> str:
    """A short sha256 of JSON-able parts (settings, file hashes): names a stored terrain."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 (16 hex digits) of this package's Python sources: part of every stored model's
    key, so a changed model code never reuses a terrain fitted by the old one (~5 ms, once)."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def data_fingerprint(incidents) -> str:
    """sha256 (16 hex digits) of the incidents a fit uses: positions and dates, in order.

    Keys depend on the data itself, not on how it was loaded (which files, which area
    tolerance or weights): two fronts that fit on the same incidents share the terrain.
    About 10 ms per 100,000 incidents."""
    f = incidents.frame
    digest = hashlib.sha256()
    for col in ("x", "y", "date_start", "date_end"):
        values = f[col].to_numpy("datetime64[ns]" if col.startswith("date") else "float64")
        digest.update(np.ascontiguousarray(values).tobytes())
    digest.update(str(incidents.crs).encode())
    return digest.hexdigest()[:16]


def model_key(incidents, areas, layers: Mapping, settings: RtmSettings, fit_to: pd.Timestamp, kind: str) -> str:
    """The name a fitted terrain is stored under: a :func:`fingerprint` of everything the fit
    depends on: the incidents it uses (:func:`data_fingerprint`), the study area's files and
    districts, the layers' files and filters, the settings, the fit-to date and
    :func:`code_fingerprint`."""
    used = fit_incidents(incidents, fit_to, kind)
    return fingerprint(data_fingerprint(used), [s.get("sha256") for s in areas.report.sources],
                       [str(n) for n in areas.names],
                       {n: ([s.get("sha256") for s in layer.report.sources], getattr(layer, "where", None))
                        for n, layer in layers.items()},
                       settings.describe(), f"{fit_to:%Y-%m-%d}", kind, code_fingerprint())


def stored_terrain(folder: Path, key: str) -> RiskTerrain | None:
    """The terrain stored under ``folder/key``, or None when there is none (or it is damaged)."""
    entry = Path(folder) / key
    if (entry / "terrain.json").exists():
        try:
            return RiskTerrain.read(entry)
        except InputError:
            return None  # a damaged entry is refitted and replaced
    return None


def store_terrain(folder: Path, key: str, terrain: RiskTerrain) -> None:
    """Write ``terrain`` to ``folder/key`` whole or not at all: it is written to a temporary
    folder that is then renamed, so a reader (another process too) sees the old entry, no
    entry, or the new one, never half of one. If another process stores the same key
    meanwhile, its entry is kept (the same inputs give the same terrain)."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    entry = Path(folder) / key
    tmp = Path(tempfile.mkdtemp(prefix=".fitting-", dir=folder))
    try:
        terrain.write(tmp)
        if entry.exists():  # an entry that could not be read, being replaced
            shutil.rmtree(entry, ignore_errors=True)
        try:
            os.replace(tmp, entry)
        except OSError:
            if not (entry / "terrain.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@dataclasses.dataclass
class Fitted:
    """One terrain the store answered with.

    Attributes
    ----------
    fit_to : pandas.Timestamp
        The refit date it was fitted up to.
    key : str
        Its :func:`model_key`.
    terrain : RiskTerrain
    result : RtmResult or None
        The whole run when it was fitted in this process (None when read from the folder).
    how : {"fitted", "read", "given"}
    seconds : float
        Time to fit or read it.
    """

    fit_to: pd.Timestamp
    key: str
    terrain: RiskTerrain
    result: object = None
    how: str = "fitted"
    seconds: float = 0.0


class TerrainStore:
    """The risk terrain of each period: one fit per refit block, kept in memory and in ``folder``.

    Parameters
    ----------
    incidents : Incidents
        Loaded with harm weights; the fit uses those with positive harm, once each.
    areas : Areas
    layers : dict of str to Layer
        The risk factors, loaded with at least ``settings.attractor_buffer()`` around the area.
    settings : RtmSettings
    folder : str or Path, optional
        Where fitted terrains are kept between runs (one sub-folder per :func:`model_key`);
        None keeps them in memory only. A folder that cannot be written costs only the reuse.
    every : int, optional
        Periods per refit block (default :data:`REFIT_EVERY`).
    progress : callable(done, total, what), optional
        Passed to each fit.

    Notes
    -----
    ``store.for_period(p)`` (or ``store(p)``) costs a fit (seconds to minutes) the first time
    a block is asked for, a read (a few hundredths of a second) when the folder holds it,
    and nothing after that. A fit that fails is remembered and raises again without
    refitting. The store is not thread-safe: a server shares one under a lock.
    """

    def __init__(self, incidents, areas, layers: Mapping, settings: RtmSettings, *, folder=None,
                 every: int | None = None, progress: Progress | None = None):
        if not isinstance(settings, RtmSettings):
            raise TypeError(f"settings must be RtmSettings, not {type(settings).__name__}")
        self.incidents, self.areas, self.layers, self.settings = incidents, areas, dict(layers), settings
        self.folder = None if folder is None else Path(folder)
        self.every = every
        self.progress = progress
        self._done: dict[pd.Timestamp, Fitted | InputError] = {}
        self.write_error: OSError | None = None

    # -- the questions -------------------------------------------------------------------
    def refit_date(self, period: Period) -> pd.Timestamp:
        """The refit date of ``period``'s block (:func:`refit_date`)."""
        return refit_date(period, self.every)

    def key(self, fit_to: pd.Timestamp, kind: str) -> str:
        """The :func:`model_key` of the terrain fitted up to ``fit_to``."""
        return model_key(self.incidents, self.areas, self.layers, self.settings, fit_to, kind)

    def for_period(self, period: Period) -> RiskTerrain:
        """The terrain serving ``period``, checked to have seen nothing of it.

        Raises
        ------
        InputError
            The terrain cannot be fitted (too few incidents, a layer that cannot be used,
            ...), or the look-ahead guard fails (:meth:`RiskTerrain.check_before`).
        """
        terrain = self.entry(period).terrain
        terrain.check_before(period)
        return terrain

    __call__ = for_period

    def entry(self, period: Period, *, need_result: bool = False) -> Fitted:
        """The :class:`Fitted` record of ``period``'s block: from memory, else read from the
        folder, else fitted (and stored). With ``need_result`` a terrain read from the
        folder is fitted again in this process, for its full report."""
        fit_to = self.refit_date(period)
        done = self._done.get(fit_to)
        if isinstance(done, InputError):
            raise done
        if done is None or (need_result and done.result is None):
            try:
                done = self._make(fit_to, period.kind, read=not need_result)
            except InputError as exc:
                self._done[fit_to] = exc
                raise
            self._done[fit_to] = done
        return done

    @property
    def fits(self) -> list[Fitted]:
        """The terrains answered so far, in the order they were made."""
        return [v for v in self._done.values() if isinstance(v, Fitted)]

    # -- the work ------------------------------------------------------------------------
    def _make(self, fit_to: pd.Timestamp, kind: str, *, read: bool) -> Fitted:
        t = time.perf_counter()
        key = self.key(fit_to, kind)
        if read and self.folder is not None:
            terrain = stored_terrain(self.folder, key)
            if terrain is not None:
                return Fitted(fit_to, key, terrain, None, "read", time.perf_counter() - t)
        result, terrain = fit_model(self.incidents, self.areas, self.layers, self.settings, fit_to, kind,
                                    self.progress)
        if self.folder is not None:
            try:
                store_terrain(self.folder, key, terrain)
            except OSError as exc:  # a read-only folder: keep the terrain in memory only
                self.write_error = exc
        return Fitted(fit_to, key, terrain, result, "fitted", time.perf_counter() - t)


class FixedTerrain:
    """A terrain given whole (``rtm weekly --model DIR``) in the shape of a :class:`TerrainStore`:
    every period gets it, after the look-ahead check."""

    def __init__(self, terrain: RiskTerrain, source: str = "risk terrain"):
        self.terrain, self.source = terrain, source

    def for_period(self, period: Period) -> RiskTerrain:
        self.terrain.check_before(period, source=self.source)
        return self.terrain

    __call__ = for_period
