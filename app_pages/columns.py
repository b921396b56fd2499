"""Human column titles, with units, for the app's tables: the list's columns take the exports'
titles (:func:`rtm.exports.table.titles`: "Harm, last 4 weeks (CCHI days)"), so a table on
screen reads like the spreadsheet a user downloads; the back-test's metrics and the risk
classes get theirs here."""

from __future__ import annotations

import streamlit as st

FORMATS = {"rank": "%d", "score": "%.2f", "score_harm": "%.2f", "score_risk": "%.2f", "harm_recent": "%.1f",
           "harm_year": "%.1f", "rrs": "%.2f", "previous_rank": "%d", "weeks_on_list": "%d",
           "patrol_visits_per_day": "%d", "patrol_minutes": "%d", "lat": "%.5f", "lon": "%.5f"}
HELP = {"score": "Times the average cell: recent harm plus the risk terrain's share",
        "rrs": "Relative risk score of the risk terrain (the lowest cell scores 1)",
        "explanation": "How the score is made up"}
BACKTEST = {"hit_rate": ("Hit rate (% of incidents)", "Share of the next period's incidents inside the listed spots"),
            "harm_captured": ("Harm captured (% of harm)", "Share of the next period's harm inside the listed spots"),
            "pai_harm": ("PAI on harm (x the area share)", "Predictive accuracy index on harm: share of harm / "
                         "share of area"),
            "pai_counts": ("PAI on counts (x the area share)", "Predictive accuracy index on counts: share of "
                           "incidents / share of area"),
            "pei_harm": ("PEI on harm (% of the best possible)",
                         "Predictive efficiency: harm captured / the most any list of that area could capture"),
            "periods": ("Periods scored", "Periods the method was scored in (see the notes for those left out)"),
            "what": ("Ceiling: what it sees", "Ceilings see the future: they bound what a forecast could gain")}
PERCENT = ("hit_rate", "harm_captured", "pei_harm")


def list_columns(provenance: dict, columns) -> dict:
    """``st.dataframe`` column settings for list ``columns`` (names of ``HarmSpotList.spots``):
    the exports' human titles with units for this list's period kind and harm weights."""
    from rtm.exports.table import titles

    names = titles(dict(provenance or {}))
    out = {}
    for c in columns:
        title = names.get(c, c.replace("_", " ").capitalize())
        if c in FORMATS:
            out[c] = st.column_config.NumberColumn(title, format=FORMATS[c], help=HELP.get(c))
        else:
            out[c] = st.column_config.Column(title, help=HELP.get(c))
    return out


def backtest_columns(columns) -> dict:
    """Column settings of the back-test's table of mean metrics (:func:`rtm.backtest.summary_table`;
    shares shown as percentages)."""
    out = {}
    for c in columns:
        title, text = BACKTEST.get(c, (c.replace("_", " ").capitalize(), None))
        if c == "what":
            out[c] = st.column_config.TextColumn(title, help=text)
        else:
            fmt = "percent" if c in PERCENT else "%d" if c == "periods" else "%.2f"
            out[c] = st.column_config.NumberColumn(title, help=text, format=fmt)
    return out
