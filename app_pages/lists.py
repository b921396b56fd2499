"""The app's lists: every district's list of a period, made once per server process
(:func:`rtm.weekly.build_list`) and shared by the pages, with movement against the list
before it."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from app_pages import models
from app_pages.datasets import ROOT, Dataset, ModelSettings, make_period
from app_pages.state import show_error
from rtm.errors import InputError
from rtm.periods import Period, inside

MOVEMENT_DEPTH = 1
"""Movement and weeks on the list are followed back over this many earlier periods (each
costs one more list when a new period is picked; 1 keeps a switch well under 2 s)."""
LISTS_MADE = 0
"""Lists this server process has made (:func:`rtm.weekly.build_list` calls); a published
period's first page makes none (tests/test_app_workspace.py)."""


@st.cache_resource(show_spinner=False, max_entries=512)
def _list(_ds: Dataset, ds_id: str, kind: str, period_key: str, _settings: ModelSettings, model_key: str,
          depth: int, archive_state: tuple = ()):
    from rtm.emerging import with_hotspot_class
    from rtm.weekly import build_list

    global LISTS_MADE
    LISTS_MADE += 1
    period = make_period(kind, period_key)
    terrain, note = models.terrain_for(_ds, _settings, period)
    previous, job = None, {}
    if _ds.workspace is not None:  # the whole published history: movement and weeks on the list as rtm weekly
        from rtm.archive import Archive

        previous = Archive(_ds.workspace.archive_path).previous(period, _ds.districts)
        job = dict(inputs=_ds.workspace.job.provenance_inputs(),
                   recording_points=_ds.workspace.job.recording_point_table())
    elif depth > 0 and inside(_ds.incidents.frame, None, period.previous().start).any():
        try:
            prev, _ = _list(_ds, ds_id, kind, period.previous().key, _settings, model_key, depth - 1)
            previous = prev.as_previous()
        except InputError:
            previous = None
    lst = build_list(_ds.incidents, _ds.areas, period, terrain=terrain, settings=_ds.list_settings,
                     exclusions=_ds.exclusions, streets=_ds.streets, street_name=_ds.street_label or "name",
                     previous=previous, **job)
    lst = with_hotspot_class(lst, _ds.incidents)  # as the weekly job does after making the list
    return lst, note


def harm_list(ds: Dataset, settings: ModelSettings, period: Period):
    """``(HarmSpotList, note)`` of every district for ``period`` (cached).

    In a workspace, movement and weeks on the list come from its archive, as in the weekly
    run (the cache follows the archive's changes). Elsewhere they come from the previous
    period's list, made the same way in memory and followed back :data:`MOVEMENT_DEPTH`
    periods (so ``weeks_on_list`` counts up to that plus one). Raises :class:`InputError`
    as :func:`rtm.weekly.build_list` does.
    """
    state = ()
    if ds.workspace is not None and ds.workspace.archive_path.exists():
        stat = ds.workspace.archive_path.stat()
        state = (stat.st_mtime_ns, stat.st_size)
    return _list(ds, ds.id, period.kind, period.key, settings, settings.key, MOVEMENT_DEPTH, state)


def list_or_stop(view):
    """``(HarmSpotList, note)`` of the view's period; otherwise a message and the page stops
    (undated data, or a list that cannot be made: shown without a traceback)."""
    if view.period is None:
        st.warning("The data has no dates, so no list can be made. Load dated incidents on the Data page.")
        st.stop()
    try:
        with st.spinner("Making the list..."):
            return harm_list(view.ds, view.model, view.period)
    except Exception as exc:  # noqa: BLE001 - shown without a traceback
        show_error(exc, "making the list")
        st.stop()


def lists_dir() -> Path:
    """Where the app publishes lists: ``RTM_LISTS_DIR``, else ``runs/lists`` in the app's folder."""
    return Path(os.environ.get("RTM_LISTS_DIR") or ROOT / "runs" / "lists")


def publish_list(view, out_dir=None):
    """Publish the view's period through the weekly job's own call
    (:func:`rtm.weekly_job.publish_period`), the same files ``rtm weekly`` writes: into the
    workspace (``lists/<period>/``, ``archive.sqlite``) when the data set is one, else into
    ``out_dir/<period>/`` and ``out_dir/archive.sqlite`` (default :func:`lists_dir`). Returns
    the :class:`~rtm.weekly_job.WeeklyRun`; InputError when the list cannot be made."""
    from rtm.archive import Archive
    from rtm.weekly_job import publish_period

    ds = view.ds
    ws = ds.workspace
    archive, job = None, {}
    if ws is not None:  # as rtm.weekly_job.run_weekly passes the workspace's job
        out_dir, archive = ws.lists_dir, Archive(ws.archive_path)
        job = dict(inputs=ws.job.provenance_inputs(), recording_points=ws.job.recording_point_table(),
                   marking=ws.job.marking)
    out_dir = out_dir or lists_dir()
    store = models.terrain_store(ds, view.model) if view.model.factors else None
    if store is not None:
        models.fitted(ds, view.model, view.period)  # under the app's lock
    layers = store.layers if store is not None else None
    return publish_period(ds.incidents, ds.areas, view.period, terrain_from=store, settings=ds.list_settings,
                          out_dir=out_dir, archive=archive, exclusions=ds.exclusions, streets=ds.streets,
                          street_name=ds.street_label or "name", layers=layers, **job)
