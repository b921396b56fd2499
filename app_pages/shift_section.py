"""The list page's shift lists: the period's list made again per shift (:func:`rtm.shifts.shift_lists`)
when the incidents have times; month- or day-only data says it cannot."""

from __future__ import annotations

import streamlit as st

from app_pages import common, models

PRESETS = {"Day 07:00-19:00 and night 19:00-07:00": "07:00,19:00",
           "Day 08:00-20:00 and night 20:00-08:00": "08:00,20:00",
           "Three shifts: 06:00, 14:00, 22:00": "06:00,14:00,22:00"}
COLUMNS = ["district", "rank", "location", "score", "harm_recent", "peak_times", "patrol_visits_per_day", "spot_id"]


@st.cache_resource(show_spinner=False, max_entries=32)
def _shift_lists(_ds, ds_id: str, _period, period_key: str, _settings, model_key: str, starts: str):
    from rtm.shifts import Shifts, shift_lists

    terrain, _ = models.terrain_for(_ds, _settings, _period)
    # the list settings in effect (a workspace's own, its [tuning] included, or the session's: sizes, offence
    # types; the id names them) and exclusion zones, as the weekly run
    return shift_lists(_ds.incidents, _ds.areas, _period, Shifts.parse(starts), terrain=terrain,
                       settings=_ds.list_settings, exclusions=_ds.exclusions, streets=_ds.streets,
                       street_name=_ds.street_label or "name")


def shift_section(view) -> None:
    """Draw the shift lists section of the list page."""
    from rtm import exports
    from app_pages.columns import list_columns
    from rtm.mapview import spots_in
    from rtm.publish import stem_of

    st.subheader("Lists per shift")
    ds = view.ds
    if ds.incidents.resolution != "datetime":
        st.caption("The incidents have no times of day, so lists per shift cannot be made (an incident belongs "
                   "to the shift it started in).")
        return
    from app_pages.list_settings import choices_of, entry_view

    presets = dict(PRESETS)
    saved = choices_of(entry_view().ds).shifts  # the List settings page's day/night split
    if saved and saved not in presets.values():
        presets = {f"As in the list settings: {saved}": saved, **presets}
    index = list(presets.values()).index(saved) if saved else 0
    choice = st.selectbox("Shifts", list(presets), index=index, key="shift_preset")
    if not st.toggle("Make the lists per shift", value=bool(saved), key="shift_lists_on"):
        st.caption("Each shift's list is made from the incidents that started in that shift, with its own "
                   "scores, doses and peak hours.")
        return
    try:
        with st.spinner("Making the shift lists..."):
            lists = _shift_lists(ds, ds.id, view.period, view.period.key, view.model, view.model.key, presets[choice])
    except Exception as exc:  # noqa: BLE001 - shown without a traceback
        common.show_error(exc, "making the shift lists")
        return
    for name, lst in lists.items():
        spots = spots_in(lst.spots, [view.district] if view.district else None)
        st.markdown(f"**Shift {name}**: {len(spots)} spot(s)")  # names made from parsed times (07:00-19:00)
        st.dataframe(spots[COLUMNS], hide_index=True, use_container_width=True,
                     column_config=list_columns(lst.provenance, COLUMNS))
        tag = name.replace(":", "").replace("-", "_")
        st.download_button(f"CSV, shift {name}", exports.csv_bytes(spots, lst.provenance),
                           file_name=f"{stem_of(view.period)}_shift_{tag}.csv", mime="text/csv", key=f"dl_shift_{tag}")
