"""The map page's emerging hot spot layer and patrol dose layer (uploaded GPX tracks or CSV
pings), both made by the library (:mod:`rtm.emerging`, :mod:`rtm.patrols`, :mod:`rtm.dosage`)
and drawn by :mod:`rtm.maphotspots`."""

from __future__ import annotations

import streamlit as st

from app_pages import common


@st.cache_resource(show_spinner=False, max_entries=16)
def _emerging(_ds, ds_id: str, period, _grid, cell_size: float):
    """Emerging hot spot classes of a period on the list's grid (cached per data set and period)."""
    from rtm.emerging import emerging_hotspots

    return emerging_hotspots(_grid, _ds.incidents.frame, period)


UPLOAD_KEY = "patrol_files"


def patrol_upload() -> None:
    """The patrol file uploader, drawn below the map; its files are read by :func:`hotspot_layers`
    on the run the upload starts."""
    with st.expander("Patrol dose: upload GPX tracks or CSV pings of this period"):
        st.file_uploader("Patrol files (GPX, CSV)", type=["gpx", "csv"], accept_multiple_files=True, key=UPLOAD_KEY)


def hotspot_layers(view, lst, spots, emerging: bool = True) -> list:
    """Callables adding to a map (:func:`rtm.mapview.build_map`'s ``extra_layers``) the emerging
    classes on ``lst.grid`` (switched off at first; only with ``emerging``: they are made from
    the incidents) and, when patrol files were uploaded (:func:`patrol_upload`), the dose
    delivered to ``spots`` in the view's period."""
    from rtm.errors import InputError
    from rtm.maphotspots import add_emerging

    out = []
    if emerging:
        try:
            em = _emerging(view.ds, view.ds.id, view.period, lst.grid, lst.grid.cell_size)
            cells = em.frame()
            out.append(lambda m: add_emerging(m, cells))
        except InputError as exc:
            st.caption(f"Emerging hot spots: {common.plain(exc.problem)}.")
    files = st.session_state.get(UPLOAD_KEY)  # the uploader is drawn below the map (patrol_upload)
    if not files or not len(spots):
        return out
    try:
        out.append(_dose_layer(view, spots, files))
    except Exception as exc:  # noqa: BLE001 - shown without a traceback
        common.show_error(exc, "measuring the patrol dose")
    return out


def _dose_layer(view, spots, files):
    """A callable adding the dose layer of the uploaded patrol ``files`` (InputError for a bad file)."""
    from rtm.errors import InputError
    from rtm.maphotspots import add_dosage
    from rtm.dosage import dosage
    from rtm.patrols import read_patrols

    limit = common.upload_limit_mb()
    for f in files:
        if f.size > limit * 1024 * 1024:
            raise InputError(f.name, f"the file is {f.size / 1024 / 1024:,.0f} MB, over the {limit} MB limit",
                             "split it by day or unit")
    with common.scratch() as folder:  # removed once read
        paths = []
        for i, f in enumerate(files):
            path = folder / f"{i:03d}" / common.safe_name(f.name)
            path.parent.mkdir()
            path.write_bytes(f.getvalue())
            paths.append(path)
        pings = read_patrols(paths, spots.crs)
    d = dosage(spots, pings, view.period)
    layer = spots[["spot_id", "geometry"]].merge(d.spots, on="spot_id")
    st.caption(common.plain(" ".join(pings.report.lines())) + f". Dose delivered: {100 * d.spots['share'].mean():.0f}% on "
               f"average over {len(d.spots)} spot(s).")
    return lambda m: add_dosage(m, layer)
