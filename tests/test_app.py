"""The first app page, run headless with Streamlit's AppTest on the bundled sample."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def app():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def test_first_page_loads_the_southend_sample_and_shows_the_report(app):
    from rtm.samples import SAMPLES

    assert app.selectbox[0].value == "southend"
    inc, _ = SAMPLES["southend"].load()
    counts = app.dataframe[0].value
    shown = dict(zip(counts.iloc[:, 0].str.strip(), counts["rows"]))
    assert shown["Rows in"] == inc.report.rows_in
    assert shown["Rows used"] == inc.report.rows_used
    assert shown["Rows in"] == shown["Rows used"] + shown["Rows rejected"]
    assert "Counts add up: yes" in app.caption[0].value
    offences = app.dataframe[1].value
    assert offences.set_index("offence_type").loc["Robbery", "weight"] == 365


def test_switching_to_chicago_shows_its_report(app):
    app.selectbox[0].set_value("chicago").run()
    assert not app.exception
    text = " ".join(m.value for m in app.markdown)
    assert "resolution: datetime" in text and "EPSG:32616" in text
