"""The workspace picker: the workspaces under the workspaces folder
(:func:`rtm.workspace_new.workspaces_root`: ``RTM_WORKSPACES_DIR``, else the folder holding
``RTM_WORKSPACE``, else ``runs/``) offered in the sidebar's data set list, the one chosen kept
in the page address (``?workspace=NAME``) so that a bookmark or a refresh reopens it.

Only names listed under the folder are opened from the address: a path typed into it opens
nothing."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from rtm.workspace_new import list_workspaces, workspaces_root

PARAM = "workspace"
PREFIX = "ws:"


def root() -> Path:
    """The workspaces folder (read from the environment on each call)."""
    return workspaces_root()


def available() -> dict[str, Path]:
    """The workspaces to offer, as data set choice key (``ws:NAME``) -> folder: every workspace
    under :func:`root`, and ``RTM_WORKSPACE`` (first) when it lies elsewhere. One folder listing."""
    out: dict[str, Path] = {}
    env = os.environ.get("RTM_WORKSPACE")
    if env:
        folder = Path(env).expanduser()
        out[PREFIX + folder.name] = folder
    base = root()
    for name in list_workspaces(base):
        out.setdefault(PREFIX + name, base / name)
    return out


def key_of(folder) -> str:
    """The data set choice key of a workspace folder."""
    return PREFIX + Path(folder).name


def is_workspace(key: str) -> bool:
    return key.startswith(PREFIX)


def title(key: str) -> str:
    """The picker's label of a workspace choice (the folder name, shown as plain text)."""
    return "Workspace: " + key[len(PREFIX):]


def opening_choice(spaces: dict, samples) -> str:
    """The data set a new session opens: the workspace named in the address when it is one of
    ``spaces``, else ``RTM_WORKSPACE``'s, else the first sample, else the first workspace.
    An address naming no workspace leaves a note for :func:`show_note`."""
    asked = st.query_params.get(PARAM)
    if asked:
        if PREFIX + asked in spaces:
            return PREFIX + asked
        st.session_state["_workspace_note"] = asked
    env = os.environ.get("RTM_WORKSPACE")
    if env and key_of(env) in spaces:
        return key_of(env)
    return next(iter(samples), None) or next(iter(spaces))


def show_note() -> None:
    """Say (once, as plain text) that the address named a workspace that is not there."""
    asked = st.session_state.pop("_workspace_note", None)
    if asked:
        st.warning("The page address names a workspace that is not in the workspaces folder:")
        st.text(asked[:80])


def remember(key: str) -> None:
    """Keep the chosen workspace in the page address (``?workspace=NAME``); a sample clears it."""
    if is_workspace(key):
        name = key[len(PREFIX):]
        if st.query_params.get(PARAM) != name:
            st.query_params[PARAM] = name
    elif PARAM in st.query_params:
        del st.query_params[PARAM]
