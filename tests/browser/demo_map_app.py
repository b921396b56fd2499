"""A tiny Streamlit page for the browser tests: one offline map through ``st_folium``.

It shows a GeoJSON polygon with a popup, a plain marker, a layer control and a legend on an
``rtm.webmap.offline_map`` with no basemap. Run it by hand with
``.venv/bin/streamlit run tests/browser/demo_map_app.py``.
"""

import folium
import streamlit as st
from streamlit_folium import st_folium

from rtm.webmap import add_legend, offline_map

ZONE = {
    "type": "FeatureCollection",
    "features": [{
        "type": "Feature",
        "properties": {"name": "Harm spot 1", "harm": 412},
        "geometry": {"type": "Polygon", "coordinates": [[
            [0.700, 51.535], [0.720, 51.535], [0.720, 51.548], [0.700, 51.548], [0.700, 51.535]]]},
    }],
}

st.title("Offline map demo")
m = offline_map(location=[51.5415, 0.71], zoom_start=14)
zones = folium.FeatureGroup(name="Harm spots").add_to(m)
folium.GeoJson(
    ZONE,
    name="Harm spots",
    style_function=lambda _f: {"color": "#b2182b", "weight": 2, "fillOpacity": 0.4},
    popup=folium.GeoJsonPopup(fields=["name", "harm"], aliases=["Spot", "Harm (CHI days)"]),
).add_to(zones)
folium.Marker([51.5385, 0.725], tooltip="Station").add_to(m)
add_legend(m, "Harm", [("High", "#b2182b"), ("Low", "#2166ac")])
folium.LayerControl(collapsed=False).add_to(m)
st_folium(m, height=450, width=700, returned_objects=[], key="demo_map")
st.caption("map rendered")
