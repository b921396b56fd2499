"""Back-test: how the ranking methods would have done over the periods before the chosen
one, on the data set and risk terrain settings in use (:func:`rtm.backtest.run_backtest`):
a summary table and the harm capture against area chart."""

from __future__ import annotations

import streamlit as st

from app_pages import common
from app_pages.columns import backtest_columns

view = common.current_view()
ds = view.ds
st.title("Back-test")
from rtm import backtest
if view.period is None:
    st.warning("The data has no dates: load dated incidents on the Data page.")
    st.stop()

settings = view.model
keys = [p.key for p in view.periods]
here = keys.index(view.period.key)
before = view.periods[here + 1:]  # newest first, strictly before the chosen period
if len(before) < 2:
    st.info("Choose a later period in the sidebar: the back-test scores at least two periods before it.")
    st.stop()
if len(before) == 2:  # a slider needs two different ends
    n = 2
    st.caption(f"The two {view.period.kind}s before the chosen one are scored (the data has no more).")
else:
    n = st.slider(f"{view.period.kind.capitalize()}s to score (those just before the chosen one)", 2,
                  min(52, len(before)), min(8, len(before)))
periods = list(reversed(before[:n]))
methods = backtest.METHODS if settings.factors else tuple(m for m in backtest.METHODS if m not in backtest.TERRAIN_METHODS)
st.caption(f"{common.cap(periods[0].label)} to {periods[-1].label}; methods: {', '.join(methods)}. "
           + ("Risk terrain: " + ", ".join(f.replace('_', ' ') for f in settings.factors) + "."
              if settings.factors else "No attractor layers: the risk terrain methods are left out."))


def _terrain(ds, settings):
    """The lists' terrain of each period (the app's shared store, under its lock)."""
    def terrain_for(period):
        common.fitted(ds, settings, period)
        return common.terrain_store(ds, settings).for_period(period)

    return terrain_for


# A resource cache holds no widget calls (it replays none): progress is shown from outside.
@st.cache_resource(show_spinner=False, max_entries=16)
def _run(_ds, ds_id: str, _settings, model_key: str, period_keys: tuple, method_names: tuple):
    plist = [common.make_period(_ds.kind, k) for k in period_keys]
    terrain = _terrain(_ds, _settings) if _settings.factors else None
    bsettings = backtest.BacktestSettings(methods=method_names, area_tolerance_m=_ds.area_tolerance_m)
    return backtest.run_backtest(_ds.incidents, _ds.areas, plist, terrain_for=terrain, settings=bsettings)


period_keys = tuple(p.key for p in periods)
if st.button("Run the back-test", type="primary") or st.session_state.get("_bt_done") == (ds.id, settings.key, period_keys):
    try:
        with st.spinner(f"Scoring {len(period_keys)} {view.period.kind}s..."):
            result = _run(ds, ds.id, settings, settings.key, period_keys, tuple(methods))
    except Exception as exc:  # noqa: BLE001 - shown without a traceback
        common.show_error(exc, "running the back-test")
        st.stop()
    st.session_state["_bt_done"] = (ds.id, settings.key, period_keys)
    summary = result.summary()
    focus = backtest.focus_selection(result, None)
    table = backtest.summary_table(result, focus).drop(columns="list").set_index("method")
    st.subheader(f"Mean over {len(result.periods)} periods, all districts, {focus} of each district's area")
    st.dataframe(table, use_container_width=True, column_config=backtest_columns(table.columns))
    st.pyplot(result.figures()["capture_curve"], use_container_width=False)
    for note in result.notes:
        st.info(common.plain(note))
    with st.expander("Every list size and metric"):
        st.dataframe(summary, hide_index=True, use_container_width=True)
    st.download_button("Download all measurements (CSV)", result.metrics.to_csv(index=False).encode("utf-8"),
                       file_name=f"backtest_{ds.data_id}_{period_keys[0]}_{period_keys[-1]}.csv", mime="text/csv")
else:
    st.info("Press **Run the back-test** (a few seconds per period on the samples).")
