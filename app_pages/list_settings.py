"""The list settings in effect in a session: a workspace's (its ``workspace.toml``, saved by
the List settings page through :mod:`rtm.workspace_edit`), or, with no workspace, what the
page set for this session only. Every page sees them through
:func:`app_pages.state.current_view`, which calls :func:`in_effect`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import streamlit as st

from rtm.workspace_edit import ListChoices

_KEY = "_list_settings"  # {data set id: SessionSettings}; not a widget key


@dataclass(frozen=True)
class SessionSettings:
    """What the List settings page set for one data set in a session with no workspace:
    ``choices`` (None: the data set's own) and ``zones`` (exclusion polygons in the areas'
    CRS, or None for none) when ``zones_set``."""

    choices: ListChoices | None = None
    zones: object = None
    zones_set: bool = False


def session_settings(ds) -> SessionSettings:
    """This session's settings for ``ds`` (empty until the page sets some)."""
    return st.session_state.get(_KEY, {}).get(ds.id, SessionSettings())


def set_session_settings(ds, **changes) -> None:
    """Change this session's settings for ``ds`` (fields of :class:`SessionSettings`)."""
    st.session_state.setdefault(_KEY, {})[ds.id] = replace(session_settings(ds), **changes)


def choices_of(ds) -> ListChoices:
    """The list choices in effect for ``ds``: the workspace's, else this session's, else the data set's."""
    if ds.workspace is not None:
        return ListChoices.of(ds.workspace)
    return session_settings(ds).choices or ListChoices.of_settings(ds.list_settings)


def zones_of(ds):
    """The exclusion zones in effect for ``ds`` (a GeoDataFrame in the areas' CRS), or None."""
    if ds.workspace is None:
        s = session_settings(ds)
        if s.zones_set:
            return s.zones
    return ds.exclusions


def _fingerprint(settings, zones) -> str:
    h = hashlib.sha256(repr(settings).encode())
    if zones is not None:
        for wkb in zones.geometry.to_wkb():
            h.update(wkb)
    return h.hexdigest()[:12]


def in_effect(view):
    """``view`` with its data set carrying the list settings and zones in effect, under an id
    that names them, so every list, export and map cached under the id follows a change of
    settings. Unchanged when a session with no workspace has set nothing."""
    ds = view.ds
    if ds.workspace is None:
        s = session_settings(ds)
        if s.choices is None and not s.zones_set:
            return view
        settings = s.choices.apply(ds.list_settings) if s.choices is not None else ds.list_settings
    else:
        settings = ds.list_settings
    zones = zones_of(ds)
    derived = ds.replaced(id=f"{ds.id}~{_fingerprint(settings, zones)}", settings=settings, exclusions=zones)
    return replace(view, ds=derived)


def entry_view():
    """The :class:`~app_pages.state.View` as the entry script made it: the data set with its
    own settings and id (the key this module keeps a session's settings under)."""
    return st.session_state["_view"]
