"""Data: the load report of the data set in use (rows used and rejected, with the rejected
rows to download), and uploading one's own incidents, districts, attractor layers and
streets as a new workspace (kept under the workspaces folder, opened at once, and read by
``rtm weekly --workspace`` as well). Uploads are checked for type and size, saved under a
sanitised name and read by the same loaders as the command line; nothing uploaded is
executed or unpickled. Nothing a user typed or uploaded (file names, district names,
CRS text, notes, messages) is rendered as Markdown: it is shown with ``st.text`` or in
tables."""

from __future__ import annotations

import os
import re

import pandas as pd
import streamlit as st

from app_pages import common
from rtm.errors import InputError, without_paths

ROLES = [("date", "Date"), ("lon", "Longitude"), ("lat", "Latitude"), ("x", "X (easting)"), ("y", "Y (northing)"),
         ("offence", "Offence type"), ("location", "Location text"), ("id", "Incident id"),
         ("offence_value", "One offence type for every row")]


def report_tables(report) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The load report's counts (rows in, used, rejected by reason) and offence types."""
    counts = pd.DataFrame(
        [("Rows in", report.rows_in), ("Rows used", report.rows_used), ("Rows rejected", report.rows_rejected)]
        + [(f"  rejected: {reason.replace('_', ' ')}", n) for reason, n in report.rejected.items()],
        columns=["", "rows"])
    return counts, report.offence_types


def show_report(ds: common.Dataset) -> None:
    """The load report of a data set, with its rejected rows to download."""
    incidents = ds.incidents
    report = incidents.report
    left, right = st.columns([1, 2])
    with left:
        st.subheader("Load report")
        st.metric("Rows used", f"{report.rows_used:,}", help="Every input row is either used or rejected with a reason.")
        counts, offences = report_tables(report)
        st.dataframe(counts, hide_index=True, use_container_width=True,
                     column_config={"rows": st.column_config.NumberColumn("rows", format="localized")})
        st.caption("Counts add up: " + ("yes" if report.adds_up else "NO"))
        # the text below comes from the user's files: plain text, never Markdown
        st.text(f"Coordinates: {report.crs_in} ({report.crs_how}); working CRS {report.crs_working}")
        st.text(f"Dates: {report.date_min} to {report.date_max} (resolution: {report.date_resolution})")
        if report.missing_months:
            st.warning("Months with no incident between the first and the last (a monthly file may be missing):")
            st.text(", ".join(report.missing_months))
        st.text(f"Districts: {', '.join(ds.districts)}")
    with right:
        st.subheader("Offence types and harm weights")
        st.dataframe(offences, hide_index=True, use_container_width=True, height=38 + 35 * min(len(offences), 15),
                     column_config={"rows": st.column_config.NumberColumn("rows", format="localized"),
                                    "harm": st.column_config.NumberColumn("harm", format="localized")})
        if report.unknown_types:
            st.caption(f"Offence types not in the harm-weight table ({report.unknown_policy}):")
            st.dataframe(pd.DataFrame(list(report.unknown_types.items()), columns=["offence_type", "rows"]),
                         hide_index=True, use_container_width=True)
        if report.notes:
            st.caption("Notes")
            st.text("\n".join(without_paths(n) for n in report.notes))  # the server's folders are not shown
        if len(incidents.rejects):
            st.subheader("Rejected rows")
            st.dataframe(incidents.rejects.head(200), hide_index=True, use_container_width=True)
            # formula-safe for Excel, every original column (rtm.rejects.rejects_csv)
            st.download_button("Download rejected rows (CSV)", incidents.rejects_csv(),
                               file_name=f"{common.safe_name(ds.data_id)}_rejected_rows.csv", mime="text/csv")


def _fields(path) -> list[str]:
    """Attribute fields of a boundary file (for the district name picker)."""
    import pyogrio

    try:
        return [str(f) for f in pyogrio.read_info(path)["fields"]]
    except Exception:  # noqa: BLE001 - an unreadable file is reported when it is loaded
        return []


def _layer_name(path) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "_", path.name.rsplit(".", 1)[0]).strip("_").lower()
    return stem if stem and not stem[0].isdigit() else f"layer_{stem}"


def upload_limits():
    """Load limits for uploads: a decompressed file of at most ``RTM_MAX_FILE_MB`` (default
    512 MB; loading needs about twice that in the server's memory)."""
    from rtm.sources import LoadLimits

    env = os.environ.get("RTM_MAX_FILE_MB", "")
    return LoadLimits(max_file_mb=float(env) if env.replace(".", "", 1).isdigit() and float(env) > 0 else 512)


def show_problem(exc: BaseException, doing: str) -> None:
    """A loading problem without a traceback; an InputError's text (which names the user's
    files) is shown as plain text, never as Markdown."""
    if isinstance(exc, InputError):
        st.error(f"The data could not be used while {doing}:")
        st.text(str(exc))
    else:
        common.show_error(exc, doing)


def make_workspace(name, inc_files, area_file, area_field, layer_files, street_file, street_label, mapping,
                   weights, tolerance):
    """Make a workspace from the uploads under the workspaces folder
    (:func:`rtm.workspace_new.create_workspace`: checked by loading it, renamed into place only
    when valid, numbered rather than overwriting). The uploads are checked for type and size
    and sit in a scratch folder removed at the end. Returns the new folder; InputError."""
    from app_pages import workspaces
    from rtm.workspace_new import NewWorkspace, create_workspace

    with common.scratch() as folder:
        inc_paths = common.save_uploads(inc_files, folder / "incidents")
        area_path = common.save_upload(area_file, folder / "areas")
        layers = {}
        for p in common.save_uploads(layer_files, folder / "layers"):
            n, k = _layer_name(p), 1
            while (n if k == 1 else f"{n}_{k}") in layers:
                k += 1
            layers[n if k == 1 else f"{n}_{k}"] = p
        street_path = common.save_upload(street_file, folder / "streets") if street_file else None
        spec = NewWorkspace(name, inc_paths, area_path, area_field or None, layers, street_path,
                            street_label or "name", {k: v for k, v in mapping.items() if v}, weights, tolerance)
        made, *_ = create_workspace(workspaces.root(), spec, limits=upload_limits())
    return made


def _add_to_workspace(folder) -> None:
    """Incident files added to the workspace (``uploads/incidents/``): kept for everyone and for
    the weekly run, checked by loading the workspace with them; removed again if it fails."""
    from app_pages.uploads import add_to_workspace
    from app_pages.workspace_data import check_added_incidents
    from rtm.workspace import UPLOADS

    with st.expander("Add incidents to this workspace", expanded=True):
        st.caption("New monthly police.uk files (or zips), or tables like the workspace's own: they are kept in the "
                   "workspace's uploads/incidents folder, read with its sources by everyone's app and by the weekly "
                   "run from now on, and stay there after a reload.")
        files = st.file_uploader("Incident files", type=["csv", "zip"], accept_multiple_files=True, key="ws_incidents")
        if st.button("Add to the workspace", key="ws_add") and files:
            before = {p.name for p in (folder / UPLOADS).glob("*")}
            try:
                added = add_to_workspace(files, folder)
                with st.spinner("Reading the new files..."):  # before any session or weekly run reads them
                    check_added_incidents(str(folder), added, upload_limits())
                with st.spinner("Loading the workspace with the new files..."):
                    common.load_workspace_dataset(str(folder))
            except Exception as exc:  # noqa: BLE001 - shown without a traceback; the new files are taken out again
                for path in (folder / UPLOADS).glob("*"):
                    if path.name not in before:
                        path.unlink(missing_ok=True)
                show_problem(exc, "adding the files to the workspace")
            else:
                st.session_state["_added"] = [p.name for p in added]
                st.rerun()
        if st.session_state.get("_added"):
            st.success("Added to the workspace: " + ", ".join(common.plain(n) for n in st.session_state.pop("_added")))


view = common.current_view()
st.title("Data")
st.caption("In use (choose the data set in the sidebar):")
st.text(view.ds.title)
limit = common.upload_limit_mb()
if view.ds.workspace is not None:
    _add_to_workspace(view.ds.workspace.folder)
made = st.session_state.pop("_made_workspace", None)
if made:
    st.success("The new workspace is open (and kept for the weekly run). Its folder:")
    st.text(made)
with st.expander("Upload your own data", expanded=False):
    st.caption(f"Accepted: {', '.join('.' + t for t in common.UPLOAD_TYPES)} (zip a shapefile's parts together), "
               f"up to {limit} MB a file. The files become a new workspace in the workspaces folder: it is "
               "kept, offered in the sidebar to everyone, and 'rtm weekly --workspace' can publish its lists.")
    ws_name = st.text_input("Name of the new workspace (e.g. the force or study)", key="up_name", max_chars=60)
    inc_files = st.file_uploader("Incidents (police.uk monthly files or zip, or a table with dates and coordinates)",
                                 type=list(common.UPLOAD_TYPES), accept_multiple_files=True, key="up_incidents")
    area_file = st.file_uploader("District boundaries", type=list(common.UPLOAD_TYPES), key="up_areas")
    area_field = ""
    if area_file is not None:
        try:
            with common.scratch() as scratch:  # read for its fields, then removed
                fields = _fields(common.save_upload(area_file, scratch))
        except InputError as exc:
            show_problem(exc, "reading the boundary file")
            fields = []
        area_field = st.selectbox("Field naming each district", [""] + fields,
                                  format_func=lambda f: f or "(the whole file is one area)")
    layer_files = st.file_uploader("Attractor layers (optional; one file per kind, named after the file)",
                                   type=list(common.UPLOAD_TYPES), accept_multiple_files=True, key="up_layers")
    street_file = st.file_uploader("Streets (optional lines, drawn on the map and naming spots)",
                                   type=list(common.UPLOAD_TYPES), key="up_streets")
    street_label = st.text_input("Street name column", value="name")
    c1, c2 = st.columns(2)
    weights = c1.selectbox("Harm weights", ["cchi", "count"],
                           format_func=lambda w: {"cchi": "Cambridge Crime Harm Index", "count": "1 per incident"}[w])
    tolerance = c2.number_input("Keep incidents this close outside the districts (m)", 0.0, 2000.0, 0.0, 10.0)
    st.write("**Columns** of a generic table (leave blank for police.uk files or to let the loader find them)")
    cols = st.columns(3)
    mapping = {role: cols[i % 3].text_input(label, key=f"map_{role}").strip() for i, (role, label) in enumerate(ROLES)}
    if st.button("Make the workspace", type="primary", key="make_workspace"):
        if not ws_name.strip():
            st.error("Give the new workspace a name first.")
        elif not inc_files or area_file is None:
            st.error("Upload the incidents and the district boundaries first.")
        else:
            try:
                with st.spinner("Making the workspace: loading and checking every row..."):
                    folder = make_workspace(ws_name, inc_files, area_file, area_field, layer_files or [],
                                            street_file, street_label, mapping, weights, float(tolerance))
            except Exception as exc:  # noqa: BLE001 - shown without a traceback
                show_problem(exc, "making a workspace of the uploaded files")
            else:
                from app_pages import workspaces

                st.session_state["_pending_choice"] = workspaces.key_of(folder)
                st.session_state["_made_workspace"] = folder.name
                st.rerun()

show_report(view.ds)
