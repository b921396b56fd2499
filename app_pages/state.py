"""What a session's pages share: the sidebar's choices (the :class:`View`), the model settings
a user picked, and showing a problem without a traceback."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import streamlit as st

from app_pages.datasets import Dataset, ModelSettings
from rtm.errors import InputError, without_paths
from rtm.periods import Period

ALL = "All districts"
_SETTINGS_KEY = "_chosen_model_settings"  # not a widget key: a form may not share its name
log = logging.getLogger("rtm.app")


@dataclass
class View:
    """The sidebar's choices: data set, period, district (None: all), model settings, basemap."""

    ds: Dataset
    periods: list
    period: Period | None
    district: str | None
    model: ModelSettings
    tiles: str | None = None
    attribution: str | None = None


def current_view() -> View:
    """The :class:`View` the entry script made in this run, its data set carrying the list
    settings in effect (:func:`app_pages.list_settings.in_effect`)."""
    from app_pages.list_settings import in_effect

    return in_effect(st.session_state["_view"])


def model_settings(ds: Dataset) -> ModelSettings:
    """The model settings of ``ds`` in this session (the data set's defaults until changed)."""
    return st.session_state.setdefault(_SETTINGS_KEY, {}).get(ds.data_id, ds.model)


def set_model_settings(ds: Dataset, settings: ModelSettings) -> None:
    st.session_state.setdefault(_SETTINGS_KEY, {})[ds.data_id] = settings


def cap(text: str) -> str:
    """``text`` with its first letter upper-case (the rest left as it is)."""
    return text[:1].upper() + text[1:]


def plain(text) -> str:
    """``text`` with every Markdown and HTML character escaped, for Streamlit elements that
    render Markdown (captions, headers, alerts): what a user typed or uploaded (a district or
    file name) is shown as written (line breaks as spaces), never rendered, and never fetches
    anything. An exception's text has the server's folders cut from its file paths
    (:func:`rtm.errors.without_paths`)."""
    if isinstance(text, BaseException):
        text = without_paths(str(text))
    # a line break would let the next line start a heading (=== under it), a list or a quote
    text = re.sub(r"\s*[\r\n\v\f\u2028\u2029\x85]+\s*", " ", str(text))
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~:$&=])", r"\\\1", text)


def show_error(exc: BaseException, doing: str) -> None:
    """Show a problem without a traceback: an :class:`InputError` as it reads (escaped: it
    names the user's files and fields), anything else as one short line (the details go to
    the server log)."""
    if isinstance(exc, InputError):
        st.error(plain(exc))
    else:
        log.exception("unexpected error while %s", doing)
        st.error(f"Something went wrong while {doing} ({type(exc).__name__}). The details are in the "
                 "server log; please pass them to whoever looks after the app.")
