"""Weekly list: the chosen period's harm spots as a table, filtered by district, with a
download button for every export: the published files when the period is published in the
workspace (byte for byte), else made by :mod:`rtm.exports`; and *Publish this list*."""

from __future__ import annotations

import streamlit as st

from app_pages import common
from app_pages.published import published_files
from app_pages.columns import list_columns
from rtm import exports
from rtm.mapview import spots_in
from rtm.publish import stem_of

SHOWN = ["district", "rank", "location", "score", "explanation", "harm_recent", "harm_year", "counts_by_type",
         "rrs", "factors_present", "hotspot_class", "movement", "previous_rank", "weeks_on_list", "peak_times",
         "patrol_visits_per_day", "patrol_minutes", "spot_id", "lat", "lon"]


@st.cache_data(show_spinner=False, max_entries=64)
def _exports(_lst, _areas, ds_id: str, period_key: str, model_key: str, district: str | None) -> dict:
    """Every export of the list (one district or all) as bytes, made once per choice."""
    spots = spots_in(_lst.spots, [district] if district else None)
    prov = dict(_lst.provenance)
    if district:
        prov["districts_in_file"] = [district]
    pdf, page = exports.briefing_files(spots, prov, districts=_areas.frame, places=getattr(_lst, "places", None),
                                       streets=getattr(_lst, "street_lines", None))
    return {
        "xlsx": exports.xlsx_bytes(spots, prov),
        "csv": exports.csv_bytes(spots, prov),
        "briefing_pdf": pdf,
        "briefing": page,
        "gpx": exports.gpx_bytes(spots, prov),
        "kml": exports.kml_bytes(spots, prov),
        "geojson": exports.geojson_bytes(spots, prov),
        "gpkg": exports.geopackage_bytes(spots, prov),
        "provenance": exports.provenance_sidecar(prov),
    }


def _buttons(files: dict, stem: str) -> None:
    """A download button for each export made in memory (:func:`_exports`)."""
    buttons = [
        ("Briefing (PDF)", files["briefing_pdf"], f"{stem}_briefing.pdf", "application/pdf"),
        ("Excel workbook", files["xlsx"], f"{stem}.xlsx",
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("CSV", files["csv"], f"{stem}.csv", "text/csv"),
        ("Briefing (HTML)", files["briefing"], f"{stem}_briefing.html", "text/html"),
        ("GPX (GPS devices)", files["gpx"], f"{stem}.gpx", "application/gpx+xml"),
        ("KML (pins and squares)", files["kml"], f"{stem}.kml", "application/vnd.google-earth.kml+xml"),
        ("GeoPackage (QGIS)", files["gpkg"], f"{stem}.gpkg", "application/geopackage+sqlite3"),
        ("GeoJSON", files["geojson"], f"{stem}.geojson", "application/geo+json"),
        ("Provenance (JSON)", files["provenance"], f"{stem}.provenance.json", "application/json"),
    ]
    for start in range(0, len(buttons), 5):
        for col, (label, data, name, mime) in zip(st.columns(5), buttons[start:start + 5]):
            col.download_button(label, data, file_name=name, mime=mime, use_container_width=True, key=f"dl_{name}")


view = common.current_view()
ds = view.ds
st.title("Weekly list" if ds.kind == "week" else "Monthly list")
lst, note = common.list_or_stop(view)

spots = spots_in(lst.spots, [view.district] if view.district else None)
where = common.plain(view.district) if view.district else "all districts"
st.subheader(f"{common.cap(view.period.label)}: {where}")
st.caption(f"{len(spots)} harm spot(s), best first in each district. Click a column heading to sort; "
           "choose the district in the sidebar.")
table = spots[SHOWN].copy()
st.dataframe(
    table, hide_index=True, use_container_width=True, height=min(38 + 35 * max(len(table), 1), 600),
    column_config=list_columns(lst.provenance, SHOWN))  # titles with units: app_pages/columns.py
for text in ([note] if note else []) + list(lst.notes):  # notes name districts and offence types
    st.info(common.plain(text))
if ds.workspace is not None:
    st.caption(f"Movement compares with the previous {view.period.kind}'s published list; weeks on the list are "
               "counted over the workspace's whole archive, as in the weekly run.")
else:
    st.caption(f"Movement compares with the previous {view.period.kind}'s list, made the same way; weeks on the "
               f"list are counted over at most {common.MOVEMENT_DEPTH + 1} {view.period.kind}s.")

st.subheader("Downloads")
published = published_files(ds, view.period)
if published:  # the files the weekly run (or Publish) wrote, byte for byte
    st.caption(f"The {view.period.label} is published: these are its published files (every district), as "
               "they were written. The Published lists page has every earlier one.")
    for start in range(0, len(published), 6):
        for col, (label, path, mime) in zip(st.columns(6), published[start:start + 6]):
            col.download_button(label, path.read_bytes(), file_name=path.name, mime=mime,
                                width="stretch", key=f"pub_{path.name}")
if not published or view.district:
    if published:
        st.caption(f"{common.plain(view.district)} only, made from the list shown above:")
    try:
        files = _exports(lst, ds.areas, ds.id, view.period.key, view.model.key, view.district)
    except Exception as exc:  # noqa: BLE001
        common.show_error(exc, "making the export files")
        st.stop()
    _buttons(files, stem_of(view.period) + (f"_{common.safe_name(view.district)}" if view.district else ""))

st.subheader("Publish")
st.caption("Publishing writes this period's list and every export into the lists folder and adds it to the "
           "archive, through the same library call as the scheduled 'rtm weekly' run (docs/deployment.md). "
           "Movement in the published list is measured against the archive.")
if st.button("Publish this list", key="publish"):
    try:
        with st.spinner("Publishing..."):
            run = common.publish_list(view)
    except Exception as exc:  # noqa: BLE001 - shown without a traceback
        common.show_error(exc, "publishing the list")
        st.stop()
    st.success(f"Published {len(run.list.spots)} spot(s) for the {view.period.label}: {len(run.paths)} files in "
               f"lists/{view.period.key}/.")

from app_pages.shift_section import shift_section  # noqa: E402  (lists per shift: app_pages/shift_section.py)

shift_section(view)
