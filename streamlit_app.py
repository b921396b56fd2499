"""Harm spots app: the entry script. Sidebar choices shared by every page, then the page.

Layout and widgets only: loading, modelling, ranking and map making are the ``rtm``
library's (see ``app_pages/common.py`` for what is cached). Run with
``.venv/bin/streamlit run streamlit_app.py``; ``docs/app.md`` describes the pages.
"""

from __future__ import annotations

import streamlit as st

from app_pages import common, workspaces
from rtm.errors import InputError

st.set_page_config(page_title="Harm spots", layout="wide")

PAGES = [
    st.Page("app_pages/map_page.py", title="Harm-spot map", url_path="map", default=True),
    st.Page("app_pages/list_page.py", title="Weekly list", url_path="list"),
    st.Page("app_pages/published_page.py", title="Published lists", url_path="published"),
    st.Page("app_pages/model_page.py", title="Risk terrain model", url_path="model"),
    st.Page("app_pages/data_page.py", title="Data", url_path="data"),
    st.Page("app_pages/backtest_page.py", title="Back-test", url_path="backtest"),
    st.Page("app_pages/settings_page.py", title="List settings", url_path="settings"),
]
page = st.navigation(PAGES)

samples = common.available_samples()
spaces = workspaces.available()  # the workspace picker: app_pages/workspaces.py
choices = list(spaces) + list(samples)
if not choices:
    st.error("There is no workspace and the bundled sample data is missing (sample_geo/). Make a workspace "
             "with 'rtm init DIR' and set RTM_WORKSPACE=DIR, or rebuild the sample with "
             "'python sample_geo/build_sample.py'.")
    st.stop()
pending = st.session_state.pop("_pending_choice", None)
if pending in choices:
    st.session_state["data_choice"] = pending
elif st.session_state.get("data_choice") not in choices:
    st.session_state["data_choice"] = workspaces.opening_choice(spaces, samples)


def _title(key: str) -> str:
    return workspaces.title(key) if workspaces.is_workspace(key) else samples[key].title


with st.sidebar:
    key = st.selectbox("Data set", choices, format_func=_title, key="data_choice",
                       help="Workspaces are the folders in the workspaces folder (RTM_WORKSPACES_DIR); "
                            "the page address keeps the one chosen, for a bookmark.")
    workspaces.remember(key)
    workspaces.show_note()
    try:
        if workspaces.is_workspace(key):
            ds = common.load_workspace_dataset(str(spaces[key]))
        else:
            ds = common.load_sample(key)
    except InputError as exc:
        st.error(common.plain(exc))
        st.stop()
    from app_pages.period_picker import choose_period

    periods, period = choose_period(ds, page.title)  # a workspace's first page reads no incidents
    districts = [common.ALL] + ds.districts
    district = st.selectbox("District", districts, key=f"district_{ds.id}")
    basemap = ds.workspace.basemap if ds.workspace is not None else None
    if basemap is not None and (basemap.tiles or basemap.file):  # a local tile file: app_pages/map_page.py
        tiles, attribution = basemap.tiles, basemap.attribution  # set once, in the workspace
    else:
        with st.expander("Basemap"):
            st.caption("No basemap by default: the map shows district boundaries on a plain background. "
                       "A force's internal tile server can be given here (or once for everyone in the "
                       "workspace's [basemap]).")
            tiles = st.text_input("Tile URL template", key="tiles",
                                  placeholder="https://tiles.force.internal/{z}/{x}/{y}.png").strip()
            attribution = st.text_input("Attribution", key="attribution").strip()
    if tiles and not attribution:  # a tile server always shows whose tiles they are; never a blank map
        attribution = "Map tiles: the force's mapping service"

st.session_state["_view"] = common.View(ds=ds, periods=periods, period=period,
                                         district=None if district == common.ALL else district,
                                         model=common.model_settings(ds), tiles=tiles or None,
                                         attribution=attribution or None)
page.run()
