"""What the Harm-spot map draws for a period the workspace published: the published files
alone (:func:`rtm.published_list.read_published`: spots, surfaces, provenance), never the
incidents nor a list made again; and the switch that reads the incidents for the layers made
from them (recent incidents, street names, emerging hot spots)."""

from __future__ import annotations

import streamlit as st

from rtm.published_list import PublishedList, is_published, published_paths, read_published


@st.cache_resource(show_spinner=False, max_entries=32)
def _read(lists_dir: str, kind: str, key: str, state: tuple) -> PublishedList:
    """The published list (cached; ``state`` follows a publish replacing the files)."""
    from app_pages.datasets import make_period

    return read_published(lists_dir, make_period(kind, key))


def published_list(view) -> PublishedList | None:
    """The view's period as published in its workspace, or None when the map must make the
    list instead: no workspace, the period not published there, or a model chosen in this
    session other than the workspace's. Costs a few ``stat`` calls, and the files' read the
    first time (cached per server process until they are published again)."""
    ds, period = view.ds, view.period
    if ds.workspace is None or period is None or view.model.key != ds.model.key:
        return None
    lists_dir = ds.workspace.lists_dir
    if not is_published(lists_dir, period):
        return None
    state = tuple(p.stat().st_mtime_ns if p.is_file() else 0 for p in published_paths(lists_dir, period).values())
    return _read(str(lists_dir), period.kind, period.key, state)


INCIDENT_LAYERS_KEY = "map_incident_layers"


def incident_layers_wanted(ds) -> bool:
    """Whether the map draws the layers made from the incidents. Yes when they are read
    already (no cost); else a switch, off at first, reads them on demand."""
    if ds.incidents_loaded:
        return True
    return st.toggle("Recent incidents, street names and emerging hot spots", key=INCIDENT_LAYERS_KEY,
                     help="These layers are made from the workspace's incidents, which the published list "
                          "does not need: switching them on reads the incidents (a few seconds, once for "
                          "everyone using the app).")
