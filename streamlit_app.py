"""Harm spots app: first page - load a data set and show what happened to every row.

Layout and widgets only; all loading and checking is done by the ``rtm`` library.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rtm.errors import InputError
from rtm.samples import SAMPLES

st.set_page_config(page_title="Harm spots", layout="wide")


@st.cache_resource(show_spinner="Loading the sample data...")
def load_sample(key: str):
    """Load a bundled sample once per server process (it is never modified)."""
    return SAMPLES[key].load()


def report_tables(report) -> tuple[pd.DataFrame, pd.DataFrame]:
    counts = pd.DataFrame(
        [("Rows in", report.rows_in), ("Rows used", report.rows_used), ("Rows rejected", report.rows_rejected)]
        + [(f"  rejected: {reason.replace('_', ' ')}", n) for reason, n in report.rejected.items()],
        columns=["", "rows"])
    return counts, report.offence_types


st.title("Harm spots")
available = {k: s for k, s in SAMPLES.items() if s.available()}
if not available:
    st.error("The bundled sample data is missing (sample_geo/). Rebuild it with "
             "'python sample_geo/build_sample.py' next to the shared data folder.")
    st.stop()
key = st.selectbox("Data set", list(available), format_func=lambda k: available[k].title)
try:
    incidents, areas = load_sample(key)
except InputError as exc:
    st.error(str(exc))
    st.stop()

report = incidents.report
left, right = st.columns([1, 2])
with left:
    st.subheader("Load report")
    st.metric("Rows used", f"{report.rows_used:,}", help="Every input row is either used or rejected with a reason.")
    counts, offences = report_tables(report)
    st.dataframe(counts, hide_index=True, use_container_width=True,
                 column_config={"rows": st.column_config.NumberColumn("rows", format="localized")})
    st.caption("Counts add up: " + ("yes" if report.adds_up else "NO"))
    st.write(f"**Coordinates:** {report.crs_in} ({report.crs_how}); working CRS {report.crs_working}")
    st.write(f"**Dates:** {report.date_min} to {report.date_max} (resolution: {report.date_resolution})")
    st.write(f"**Districts:** {', '.join(areas.names)}")
with right:
    st.subheader("Offence types and harm weights")
    st.dataframe(offences, hide_index=True, use_container_width=True, height=38 + 35 * len(offences),
                 column_config={"rows": st.column_config.NumberColumn("rows", format="localized"),
                                "harm": st.column_config.NumberColumn("harm (CCHI days)", format="localized")})
    for note in report.notes:
        st.info(note)
    if len(incidents.rejects):
        st.subheader("Rejected rows")
        st.dataframe(incidents.rejects.head(200), hide_index=True, use_container_width=True)
        st.download_button("Download rejected rows (CSV)", incidents.rejects.to_csv(index=False).encode("utf-8"),
                           file_name=f"{key}_rejected_rows.csv", mime="text/csv")
