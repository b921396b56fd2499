"""Risk terrain model: the settings (factors from the catalogue, cell size, block length,
bands, increment), a run with progress, and the result: factors with their relative risk
values, a chart of them, the risk classes and the full model report.

The model shown is the one the chosen period's list uses: fitted on the year of incidents
before the period's refit date (:func:`rtm.terrain_store.refit_date`), from the same
:class:`~rtm.terrain_store.TerrainStore` the lists use.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st
import streamlit.components.v1 as components

from app_pages import common
from rtm.errors import InputError
from rtm.model_report import render_report
from rtm.risk_output import classes_table
from rtm.terrain_store import REFIT_EVERY, refit_date

view = common.current_view()
ds = view.ds
st.title("Risk terrain model")
if view.period is None:
    st.warning("The data has no dates: load dated incidents on the Data page.")
    st.stop()

current = common.model_settings(ds)
choices = sorted(set(common.catalogue_choices(ds)) | set(ds.layer_files) | set(current.factors))  # near the data
with st.form("model_settings"):
    st.write("**Settings** (they also decide the risk terrain of the lists and the map)")
    factors = st.multiselect("Risk factors (attractor layers)", choices, default=list(current.factors),
                             format_func=lambda n: n.replace("_", " "),
                             help="Catalogue entries in layers/ whose files are on this machine, and "
                                  "layers uploaded on the Data page. None: lists are ranked by harm alone.")
    c1, c2, c3, c4 = st.columns(4)
    cell = c1.number_input("Cell size (m)", min_value=10.0, max_value=1000.0, value=float(current.rtm.cell_size),
                           step=10.0)
    block = c2.number_input("Block length (m)", min_value=10.0, max_value=2000.0,
                            value=float(current.rtm.block_length), step=10.0)
    bands = c3.number_input("Bands", min_value=1, max_value=20, value=int(current.rtm.bands), step=1)
    increment = c4.selectbox("Increment", ["whole", "half"], index=["whole", "half"].index(current.rtm.increment),
                             help="Step between spatial influences: whole or half block lengths.")
    run = st.form_submit_button("Run the model", type="primary")

settings = common.ModelSettings(tuple(factors), replace(current.rtm, cell_size=float(cell),
                                                          block_length=float(block), bands=int(bands),
                                                          increment=increment))
fit_to = refit_date(view.period)
st.caption(f"For the {view.period.label}: fitted on the year of incidents before {fit_to:%d %b %Y} "
           f"(refitted every {REFIT_EVERY[view.period.kind]} {view.period.kind}s, never on the "
           "period's own data).")
if run:
    common.set_model_settings(ds, settings)
if not settings.factors:
    st.info("No risk factor is chosen: the lists rank spots by recent harm alone.")
    st.stop()
if not run and not common.is_fitted(ds, settings, view.period):
    st.info("This model has not been run yet: press **Run the model**.")
    st.stop()
try:
    with st.status("Fitting the risk terrain model...", expanded=False) as status:
        result = common.fitted(ds, settings, view.period, need_result=True,
                               progress=lambda done, total, what: status.write(f"{what}...")).result
        result.inputs.update({"incidents": f"{ds.title}: {result.inputs['incidents']}",
                              "area": ", ".join(ds.districts)})
        status.update(label="Risk terrain model ready", state="complete")
except InputError as exc:
    st.error(common.plain(exc))
    st.stop()
except Exception as exc:  # noqa: BLE001 - shown without a traceback
    common.show_error(exc, "fitting the risk terrain model")
    st.stop()

factors_table = result.factors
st.subheader("Risk factors")
if not len(factors_table):
    st.warning("No factor was selected by the model: every cell has the same risk.")
else:
    st.dataframe(factors_table, hide_index=True, use_container_width=True,
                 column_config={"rrv": st.column_config.NumberColumn("RRV", format="%.2f",
                                                                     help="Relative risk value"),
                                "coefficient": st.column_config.NumberColumn(format="%.3f"),
                                "std_error": st.column_config.NumberColumn(format="%.3f"),
                                "p_value": st.column_config.NumberColumn(format="%.4f")})
    rates = factors_table[factors_table["type"] == "rate"]
    chart = rates[["variable", "rrv"]].set_index("variable")
    st.caption("Relative risk value (RRV) of each selected variable")
    st.bar_chart(chart)
st.subheader("Risk classes")
st.dataframe(classes_table(result.classes), hide_index=True, use_container_width=True)  # no infinities
st.subheader("Model report")
report = render_report(result, title=f"Risk terrain model: {ds.title}")
st.download_button("Download the report (HTML)", report.encode("utf-8"), file_name=f"rtm_report_{fit_to:%Y-%m-%d}.html",
                   mime="text/html")
with st.expander("Show the report", expanded=False):
    components.html(report, height=900, scrolling=True)
