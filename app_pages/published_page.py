"""Published lists: every list of the workspace's archive as it was published (the latest
first), its files to download byte for byte, and two published periods side by side (which
spots are new, gone, kept). Reads only: nothing here makes a list."""

from __future__ import annotations

import streamlit as st

from app_pages import common
from app_pages.published import published_files, published_periods, published_table, side_by_side

SHOWN = ["district", "rank", "location", "score", "harm_recent", "harm_year", "movement", "previous_rank",
         "weeks_on_list", "hotspot_class", "explanation", "spot_id"]

view = common.current_view()
ds = view.ds
st.title("Published lists")
if ds.workspace is None:
    st.info("Published lists are kept in a workspace (its lists/ folder and archive.sqlite). Choose the workspace "
            "as the data set in the sidebar, or start the app on a force's workspace with RTM_WORKSPACE "
            "(docs/deployment.md).")
    st.stop()
periods = published_periods(ds)
if not periods:
    st.info("Nothing is published in this workspace yet. Publish a list on the Weekly list page, or run "
            "'rtm weekly --workspace' for it (docs/deployment.md).")
    st.stop()

unit = ds.kind
chosen = st.selectbox(f"Published {unit}", range(len(periods)), format_func=lambda i: common.cap(periods[i].label),
                      key=f"published_{ds.data_id}", help="The latest published list first, then every earlier one.")
period = periods[chosen]
table = published_table(ds, period)
if view.district:
    table = table[table["district"].astype(str) == view.district]
where = common.plain(view.district) if view.district else "all districts"
st.subheader(f"{common.cap(period.label)}: {where}")
st.caption(f"{len(table)} harm spot(s) as published. Movement and weeks on the list come from the whole archive "
           f"({len(periods)} published {unit}(s)).")
st.dataframe(table[[c for c in SHOWN if c in table.columns]], hide_index=True, width="stretch",
             height=min(38 + 35 * max(len(table), 1), 500),
             column_config={"harm_recent": st.column_config.NumberColumn("harm, recent", format="%.1f"),
                            "harm_year": st.column_config.NumberColumn("harm, year", format="%.1f"),
                            "score": st.column_config.NumberColumn("score", format="%.2f"),
                            "previous_rank": st.column_config.NumberColumn("previous rank", format="%d"),
                            "weeks_on_list": st.column_config.NumberColumn(f"{unit}s on the list", format="%d")})

st.subheader("Downloads, as published")
files = published_files(ds, period)
if not files:
    st.warning(f"The files of the {period.label} are not in the workspace's lists folder (moved or deleted); "
               "publish the period again to write them.")
else:
    st.caption("The files the weekly run wrote for every district, byte for byte.")
    for start in range(0, len(files), 6):
        for col, (label, path, mime) in zip(st.columns(6), files[start:start + 6]):
            col.download_button(label, path.read_bytes(), file_name=path.name, mime=mime, width="stretch",
                                key=f"pub_{path.name}")

st.subheader("Two published lists side by side")
if len(periods) < 2:
    st.caption(f"Only one {unit} is published so far; the next publish can be compared with it.")
    st.stop()
others = [p for p in periods if p.key != period.key]
earlier = [i for i, p in enumerate(others) if p.start < period.start]
other = others[st.selectbox("Compare with", range(len(others)), index=earlier[0] if earlier else 0,
                            format_func=lambda i: common.cap(others[i].label), key=f"compare_{ds.data_id}")]
this, last = (period, other) if other.start < period.start else (other, period)
compared = side_by_side(ds, this, last, [view.district] if view.district else None)
counts = compared["status"].value_counts()
st.caption(f"{common.cap(this.label)} against {last.label}: {counts.get('kept', 0)} kept, {counts.get('new', 0)} new, "
           f"{counts.get('gone', 0)} gone. A spot is kept when it shares a cell with a spot of the same district "
           "in the other list.")
left, right = st.columns(2)
with left:
    st.markdown(f"**{common.plain(common.cap(this.label))}**")
    st.dataframe(compared[compared["status"] != "gone"][["district", "rank", "location", "status", "last_rank"]]
                 .rename(columns={"last_rank": "rank before"}), hide_index=True, width="stretch")
with right:
    st.markdown(f"**{common.plain(common.cap(last.label))}**")
    st.dataframe(compared[compared["status"] != "new"][["district", "last_rank", "location", "status", "rank"]]
                 .rename(columns={"last_rank": "rank", "rank": "rank after"})
                 .sort_values(["district", "rank"]), hide_index=True, width="stretch")
