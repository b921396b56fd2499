"""The emerging hot spot and patrol dose map layers: in rtm.mapview (escaped, with legends)
and on the app's map page (AppTest on the bundled Chicago sample)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from rtm.mapview import add_dosage, add_emerging, dose_colour, emerging_colour
from rtm.samples import SAMPLES
from rtm.webmap import external_urls, offline_map

ROOT = Path(__file__).resolve().parents[1]


def _cells():
    polys = [shapely.box(583700 + 150 * i, 187000, 583850 + 150 * i, 187150) for i in range(3)]
    return gpd.GeoDataFrame({"ehsa_class": ["new hot spot", "persistent cold spot", "no pattern"],
                             "simple_class": ["emerging hot spot", "persistent cold spot", "no pattern"],
                             "periods_hot": [1, 0, 0], "periods": [12, 12, 12],
                             "spot_id": ["<b>x</b>", "S2", "S3"], "share": [1.0, 0.3, 0.0],
                             "minutes": [40.0, 10.0, 0.0], "visits_of_target": [2, 1, 0],
                             "suggested_visits": [2, 3, 1]}, geometry=polys, crs=27700)


def test_layers_have_legends_colours_and_escaped_text():
    m = offline_map(location=[51.54, 0.71], zoom_start=13)
    add_emerging(m, _cells())
    add_dosage(m, _cells())
    page = m.get_root().render()
    assert "Emerging hot spots (harm)" in page and "Dose delivered" in page
    assert emerging_colour("new hot spot") in page and emerging_colour("persistent cold spot") in page
    assert "no pattern (" not in page  # cells without a class are not drawn
    # escaped once as HTML, then JSON-encoded by folium (& is \u0026)
    assert "\\u0026lt;b\\u0026gt;x" in page and "<b>x</b>" not in page
    assert external_urls(page) == []
    assert dose_colour(0.0) != dose_colour(0.3) != dose_colour(1.0)


@pytest.mark.skipif(not SAMPLES["chicago"].available(), reason="the bundled sample data (sample_geo/) is missing")
def test_map_page_offers_the_emerging_layer():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    maps = [c for c in at.get("component_instance") if c.proto.component_name == "streamlit_folium.st_folium"]
    script = json.loads(maps[0].proto.json_args)["script"]
    assert "Emerging hot spots" in script
    assert not at.error


@pytest.mark.skipif(not SAMPLES["chicago"].available(), reason="the bundled sample data (sample_geo/) is missing")
def test_list_page_offers_lists_per_shift():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180)
    at.run()
    at.switch_page("app_pages/list_page.py").run()
    assert not at.exception, at.exception
    at.toggle(key="shift_lists_on").set_value(True).run()
    assert not at.exception, at.exception
    shown = [m.value for m in at.markdown if m.value.startswith("**Shift")]
    assert shown and shown[0].startswith("**Shift 07:00-19:00**") and shown[1].startswith("**Shift 19:00-07:00**")
    assert not at.error
