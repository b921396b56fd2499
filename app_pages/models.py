"""The app's risk terrains: one :class:`rtm.terrain_store.TerrainStore` per data set and model
settings, shared by every session of the server under one lock, with terrains kept in
:func:`model_dir` between restarts. The store decides which terrain serves a period and
under which key, exactly as ``rtm weekly`` does; this module adds only the lock and the
Streamlit cache."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import streamlit as st

from app_pages.datasets import ROOT, Dataset, ModelSettings, layers_for
from rtm.errors import InputError
from rtm.periods import Period

log = logging.getLogger("rtm.app")
_LOCK = threading.Lock()  # one fit at a time; a second caller waits for it, never repeats it


def model_dir() -> Path:
    """Where fitted terrains are kept between restarts: ``RTM_MODEL_DIR``, else ``runs/models``
    in the app's folder (docs/deployment.md)."""
    return Path(os.environ.get("RTM_MODEL_DIR") or ROOT / "runs" / "models")


@st.cache_resource(show_spinner=False, max_entries=32)
def _store(_ds: Dataset, ds_id: str, _settings: ModelSettings, settings_key: str, folder: str, every):
    """The data set's terrain store for these settings (the catalogue's treatments of its
    entries under the settings' own, as ``rtm weekly`` does); layers load here."""
    from rtm.terrain_store import TerrainStore
    from rtm.weekly_job import with_catalogue_treatments

    rtm = with_catalogue_treatments([_ds.factor(n) for n in _settings.factors], _settings.rtm)
    return TerrainStore(_ds.incidents, _ds.areas, layers_for(_ds, _settings), rtm, folder=folder, every=every)


def terrain_store(ds: Dataset, settings: ModelSettings):
    """The :class:`~rtm.terrain_store.TerrainStore` of ``ds`` and ``settings`` (InputError when
    no factor is chosen or a layer cannot be read)."""
    if not settings.factors:
        raise InputError("", "no attractor layer is chosen", "pick factors on the Risk terrain model page",
                         "risk factors", "setting")
    plan = ds.workspace.job.terrain if ds.workspace is not None else None
    folder = plan.folder if plan is not None and plan.folder else model_dir()  # a workspace shares its run's models
    return _store(ds, ds.data_id, settings, settings.key, str(folder), plan.refit_every if plan is not None else None)


def fitted(ds: Dataset, settings: ModelSettings, period: Period, *, need_result: bool = False, progress=None):
    """The :class:`~rtm.terrain_store.Fitted` record serving ``period``: fitted once per server
    (seconds), read from :func:`model_dir` after a restart (hundredths of a second), or
    fitted again with ``need_result`` for the model page's full report. InputError when it
    cannot be fitted; that answer is kept too."""
    store = terrain_store(ds, settings)
    with _LOCK:
        store.progress = progress
        try:
            return store.entry(period, need_result=need_result)
        finally:
            store.progress = None
            if store.write_error is not None:
                log.warning("could not keep the fitted terrain in %s: %s", model_dir(), store.write_error)
                store.write_error = None


def is_fitted(ds: Dataset, settings: ModelSettings, period: Period) -> bool:
    """Whether the full model of ``period``'s block was fitted in this server (no fit here)."""
    try:
        store = terrain_store(ds, settings)
    except InputError:
        return False
    return any(f.result is not None and f.fit_to == store.refit_date(period) for f in store.fits)


def terrain_for(ds: Dataset, settings: ModelSettings, period: Period):
    """``(RiskTerrain or None, note)`` for a period's list: the terrain of its refit block,
    checked against look-ahead, or None with the reason when there is none."""
    if not settings.factors:
        return None, "No attractor layers are chosen: spots are ranked by recent harm alone."
    try:
        fitted(ds, settings, period)
        return terrain_store(ds, settings).for_period(period), ""
    except InputError as exc:
        return None, f"No risk terrain for this period ({exc}); spots are ranked by recent harm alone."
