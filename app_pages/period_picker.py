"""The sidebar's period list, which may grow during a session: a workspace whose incidents are
not read yet offers its published periods only (:func:`app_pages.datasets.period_choices`),
and every period once a page has read them. The period chosen stays chosen when the list grows."""

from __future__ import annotations

import streamlit as st

from app_pages.datasets import Dataset, default_period_index, period_choices
from app_pages.state import cap, plain
from rtm.errors import InputError

READS_PUBLISHED = ("Harm-spot map", "Published lists")
"""Pages that draw a published period from its files alone (no incidents read for them)."""


def choose_period(ds: Dataset, page_title: str):
    """Draw the period select box in the sidebar; returns ``(periods, period)`` (``period``
    None for undated data). Pages other than :data:`READS_PUBLISHED` read the incidents first,
    so they offer every period. A problem reading the incidents is shown (no traceback) and
    the run stops."""
    try:
        if page_title not in READS_PUBLISHED:
            ds.incidents  # noqa: B018 - read now (once per server process), for every period
        periods = period_choices(ds)
    except InputError as exc:
        st.error(plain(exc))
        st.stop()
    if not periods:
        return periods, None
    key = f"period_{ds.id}"
    keys = [p.key for p in periods]
    shown = f"_period_keys_{ds.id}"  # the options of the last run: a choice is kept when they change
    before = st.session_state.get(shown)
    idx = default_period_index(ds, periods)
    if before is not None and before != keys and isinstance(st.session_state.get(key), int):
        old = st.session_state.pop(key)
        if 0 <= old < len(before) and before[old] in keys:
            idx = keys.index(before[old])
    st.session_state[shown] = keys
    chosen = st.selectbox("Week" if ds.kind == "week" else "Month", range(len(periods)), index=idx,
                          format_func=lambda i: cap(periods[i].label), key=key,
                          help="The list for a period uses only incidents recorded before it starts.")
    return periods, periods[chosen]
