"""List settings: spots per district (a number or an area share), offence types, exclusion
zones (uploaded or drawn) and the day/night split. With a workspace they are saved into its
``workspace.toml`` through :mod:`rtm.workspace_edit` (comments kept, checked by the reader the
weekly run uses); without one they hold for this session only. Nothing typed or uploaded is
rendered as Markdown or HTML."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from app_pages import common
from app_pages.list_settings import choices_of, entry_view, set_session_settings, zones_of
from app_pages.shift_section import PRESETS
from rtm.workspace_edit import choices_from_rows

NO_SHIFTS = "No lists per shift"
OTHER_SHIFTS = "Other shift starts (type them below)"
ZONE_TYPES = ("geojson", "json", "gpkg", "zip", "kml", "fgb", "gml")
_FLASH = "_settings_flash"


def _flash(text: str) -> None:
    st.session_state[_FLASH] = text


def _saved(ds) -> None:
    """After a save: the workspace's data set is read again with its new config on the next run."""
    if ds.workspace is not None:
        from app_pages.datasets import forget_workspace

        forget_workspace()
    st.session_state["_settings_version"] = st.session_state.get("_settings_version", 0) + 1
    st.rerun()


def _shift_reason(ds) -> str | None:
    """Why lists per shift cannot be made for ``ds`` (None: they can)."""
    res = ds.incidents.resolution
    if res != "datetime":
        what = {"month": "by month only (police.uk)", "day": "by day only"}.get(res, "without dates")
        return f"The incidents are dated {what}, with no time of day, so they cannot be put into shifts."
    if ds.workspace is not None and ds.workspace.period_kind == "month":
        return "The workspace makes monthly lists ([lists] period = \"month\"); lists per shift are weekly."
    return None


def _size_form(ds, choices, version: int) -> None:
    ws = ds.workspace
    st.subheader("Spots, offence types and shifts")
    with st.form("list_settings_form"):
        st.markdown("**Spots per district.** The first row sizes every district left blank: give a number "
                    "of spots, or the percentage of the district's area the spots cover (one of the two).")
        table = pd.DataFrame(choices.rows(ds.districts)).astype({"spots": "Int64", "area_share": "float64"})
        edited = st.data_editor(
            table, key=f"size_table_{version}", hide_index=True, num_rows="fixed", width="stretch",
            column_config={
                "district": st.column_config.TextColumn("District", disabled=True),
                "spots": st.column_config.NumberColumn("Spots", min_value=1, step=1, format="%d",
                                                       help="How many spots the district's list has"),
                "area_share": st.column_config.NumberColumn(
                    "Area share (%)", min_value=0.01, max_value=100.0, step=0.1, format="%.2f",
                    help="Spots until they cover this percentage of the district's area")})

        counts = ds.incidents.frame["offence_type"].astype(str).value_counts()
        present = sorted(counts.index)
        saved = list(choices.offences or [])
        gone = [o for o in saved if o not in counts.index]
        if gone:
            st.warning("Saved offence types the data does not hold: " + common.plain(", ".join(gone)))
        offences = st.multiselect(
            "Offence types on the list (none chosen: every type)", present + gone,
            default=saved, key=f"offences_{version}",
            format_func=lambda t: f"{t} ({int(counts.get(t, 0)):,} incidents)",
            help="Only these types count towards the list's harm, counts and peak times. The risk "
                 "terrain is fitted on every incident all the same.")

        reason = _shift_reason(ds)
        options = [NO_SHIFTS, *PRESETS, OTHER_SHIFTS]
        current = choices.shifts
        index = 0 if not current else next((i + 1 for i, v in enumerate(PRESETS.values()) if v == current),
                                           len(options) - 1)
        pick = st.selectbox("Day/night split: lists per shift as well", options, index=0 if reason else index,
                            key=f"shift_pick_{version}", disabled=reason is not None,
                            help="Each shift's list is made from the incidents that started in it.")
        other = st.text_input("Shift starts, for other starts (e.g. 07:00,19:00)", key=f"shift_text_{version}",
                              value=current if current and current not in PRESETS.values() else "",
                              disabled=reason is not None)
        if reason:
            st.caption(reason)
        label = "Save to the workspace" if ws is not None else "Use for this session"
        submitted = st.form_submit_button(label, type="primary")
    if not submitted:
        return
    shifts = None if reason or pick == NO_SHIFTS else (PRESETS.get(pick) or other.strip() or None)
    if pick == OTHER_SHIFTS and not reason and not other.strip():
        st.error("Other shift starts: none given. Fix: type the shift starts, e.g. 07:00,19:00.")
        return
    try:
        rows = edited.astype(object).where(edited.notna(), None).to_dict("records")
        new = choices_from_rows(rows, ds.districts, offences=offences or None, shifts=shifts)
        if ws is not None:
            from rtm.workspace_edit import save_list_settings

            save_list_settings(ws.folder, new, districts=ds.districts)
            _flash("Saved in the workspace's workspace.toml: the weekly run (rtm weekly --workspace) and the "
                   "app's lists use these settings from now on.")
        else:
            if shifts:
                from rtm.shifts import Shifts

                Shifts.parse(shifts)  # refused starts are said now, not when the list is made
            new.apply(ds.list_settings)
            set_session_settings(ds, choices=new)
            _flash("These settings hold for this session: its lists, map and downloads use them.")
    except Exception as exc:  # noqa: BLE001 - shown without a traceback
        common.show_error(exc, "saving the list settings")
        return
    _saved(ds)


def _use_zones(ds, new, mode: str) -> None:
    """Add ``new`` zones to those in effect (or replace them) and save or keep them."""
    import geopandas as gpd

    areas = ds.areas.frame
    if not new.to_crs(areas.crs).intersects(areas.union_all()).any():
        st.error("None of the zones lies within the districts. Fix: check the file's coordinate system, "
                 "or draw the zones on the map.")
        return
    current = zones_of(ds)
    if mode.startswith("Add") and current is not None and len(current):
        old = current.to_crs(4326)
        names = old["name"].astype(str) if "name" in old else [f"zone {i + 1}" for i in range(len(old))]
        old = gpd.GeoDataFrame({"name": list(names)}, geometry=old.geometry.values, crs=4326)
        new = pd.concat([old, new.to_crs(4326)[["name", "geometry"]]], ignore_index=True)
    try:
        if ds.workspace is not None:
            from rtm.workspace_edit import save_exclusions

            save_exclusions(ds.workspace.folder, new)
            _flash(f"Saved {len(new)} exclusion zone(s) into the workspace; the weekly run leaves them out.")
        else:
            set_session_settings(ds, zones=new.to_crs(areas.crs), zones_set=True)
            _flash(f"{len(new)} exclusion zone(s) hold for this session.")
    except Exception as exc:  # noqa: BLE001
        common.show_error(exc, "saving the exclusion zones")
        return
    _saved(ds)


def _zones_section(ds, view) -> None:
    from app_pages.zone_map import drawn_zones, zone_map

    st.subheader("Exclusion zones")
    st.caption("Cells touching a zone are never listed (custody suites, hospitals, ...).")
    zones = zones_of(ds)
    if zones is not None and len(zones):
        shown = zones.to_crs(ds.areas.crs)
        st.dataframe(pd.DataFrame({"Zone": shown["name"].astype(str) if "name" in shown else
                                   [f"zone {i + 1}" for i in range(len(shown))],
                                   "Area (ha)": (shown.area / 10_000).round(2)}), hide_index=True)
        if st.button("Remove every exclusion zone", key="clear_zones"):
            try:
                if ds.workspace is not None:
                    from rtm.workspace_edit import clear_exclusions

                    clear_exclusions(ds.workspace.folder)
                else:
                    set_session_settings(ds, zones=None, zones_set=True)
                _flash("No exclusion zone now.")
            except Exception as exc:  # noqa: BLE001
                common.show_error(exc, "removing the exclusion zones")
                return
            _saved(ds)
    else:
        st.caption("No exclusion zone yet.")
    mode = st.radio("New zones", ["Add to the zones above", "Replace the zones above"], horizontal=True,
                    key="zone_mode")

    upload, draw = st.tabs(["Upload a file", "Draw on the map"])
    with upload:
        file = st.file_uploader("Polygons (GeoJSON, GeoPackage, zipped Shapefile, KML, FlatGeobuf, GML)",
                                type=list(ZONE_TYPES), key="zone_file")
        if file is not None and st.button("Use the uploaded zones", key="use_zone_file"):
            from rtm.workspace_edit import read_zones

            try:
                if file.size > common.upload_limit_mb() * 1024 * 1024:
                    st.error(f"{common.plain(file.name)}: the file is over the {common.upload_limit_mb()} MB "
                             "limit. Fix: keep only the zones' polygons in it.")
                    return
                with common.scratch() as folder:  # removed once read
                    path = folder / common.safe_name(file.name)
                    path.write_bytes(file.getvalue())
                    new = read_zones(path, name=file.name)
            except Exception as exc:  # noqa: BLE001
                common.show_error(exc, "reading the zones file")
            else:
                _use_zones(ds, new, mode)
    with draw:
        st.caption("Draw with the polygon or rectangle tool at the map's top left, then save.")
        out = st_folium(zone_map(ds.areas.frame, zones, tiles=view.tiles, attribution=view.attribution),
                        height=480, use_container_width=True, returned_objects=["all_drawings"], key="zone_draw")
        name = st.text_input("Name of the drawn zones", value="drawn zone", key="zone_name").strip() or "drawn zone"
        if st.button("Save the drawn zones", key="save_drawn"):
            try:
                new = drawn_zones((out or {}).get("all_drawings"), name, ds.areas.crs)
            except Exception as exc:  # noqa: BLE001
                common.show_error(exc, "reading the drawn zones")
                return
            if new is None:
                st.error("Nothing is drawn yet. Fix: draw a polygon or rectangle on the map first.")
            else:
                _use_zones(ds, new, mode)


view = entry_view()
ds = view.ds
st.title("List settings")
if ds.workspace is not None:
    st.caption(f"For the workspace {common.plain(ds.workspace.name)}: saved into its workspace.toml (its "
               "comments kept), so the weekly run (rtm weekly --workspace) makes its lists with the same "
               "settings as the app.")
else:
    st.info("No workspace is open (the app was started without RTM_WORKSPACE), so these settings hold for "
            "this session only: your lists, map and downloads use them until you close the page, and "
            "nothing is saved.")
if _FLASH in st.session_state:
    st.success(st.session_state.pop(_FLASH))
version = st.session_state.get("_settings_version", 0)
try:
    choices = choices_of(ds)
    in_effect = common.current_view().ds.list_settings
except Exception as exc:  # noqa: BLE001
    common.show_error(exc, "reading the list settings")
    st.stop()
st.caption("In effect: " + common.plain(in_effect.describe_spots()))
_size_form(ds, choices, version)
_zones_section(ds, view)
