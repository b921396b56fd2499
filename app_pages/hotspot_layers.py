"""The map page's emerging hot spot layer and patrol dose layer (uploaded GPX tracks or CSV
pings), both made by the library (:mod:`rtm.emerging`, :mod:`rtm.patrols`, :mod:`rtm.dosage`)
and drawn by :mod:`rtm.mapview`."""

from __future__ import annotations

import streamlit as st

from app_pages import common


@st.cache_resource(show_spinner=False, max_entries=16)
def _emerging(_ds, ds_id: str, period, _grid, cell_size: float):
    """Emerging hot spot classes of a period on the list's grid (cached per data set and period)."""
    from rtm.emerging import emerging_hotspots

    return emerging_hotspots(_grid, _ds.incidents.frame, period)


def add_hotspot_layers(m, view, lst, spots) -> None:
    """Add the emerging classes (switched off at first) and, when patrol files are uploaded,
    the dose delivered to ``spots`` in the view's period."""
    from rtm.errors import InputError
    from rtm.mapview import add_dosage, add_emerging

    try:
        em = _emerging(view.ds, view.ds.id, view.period, lst.grid, lst.grid.cell_size)
        add_emerging(m, em.frame())
    except InputError as exc:
        st.caption(f"Emerging hot spots: {exc.problem}.")
    with st.expander("Patrol dose: upload GPX tracks or CSV pings of this period"):
        files = st.file_uploader("Patrol files (GPX, CSV)", type=["gpx", "csv"], accept_multiple_files=True,
                                 key="patrol_files")
    if not files or not len(spots):
        return
    from rtm.dosage import dosage
    from rtm.patrols import read_patrols

    folder = common.upload_dir() / "patrols"
    paths = []
    limit = common.upload_limit_mb()
    for f in files:
        if f.size > limit * 1024 * 1024:
            raise InputError(f.name, f"the file is {f.size / 1024 / 1024:,.0f} MB, over the {limit} MB limit",
                             "split it by day or unit")
        path = folder / common.safe_name(f.name)
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.getvalue())
        paths.append(path)
    pings = read_patrols(paths, spots.crs)
    d = dosage(spots, pings, view.period)
    layer = spots[["spot_id", "geometry"]].merge(d.spots, on="spot_id")
    add_dosage(m, layer)
    st.caption(" ".join(pings.report.lines()) + f". Dose delivered: {100 * d.spots['share'].mean():.0f}% on "
               f"average over {len(d.spots)} spot(s).")
