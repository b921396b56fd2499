"""The map-building layer of the app (rtm.mapview), without Streamlit: fast, on small frames."""

from __future__ import annotations

import base64
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS

from rtm.grid import Grid
from rtm.mapview import (SPOT_COLOUR, MapContent, add_points, build_map, class_breaks, grid_bounds, incident_points,
                         risk_class_edges, spot_popup_html, spots_geojson, spots_in, surface_image)
from rtm.webmap import OfflineMap, external_urls, render_html

BNG = CRS.from_epsg(27700)


def _grid(nrows=4, ncols=5) -> Grid:
    mask = np.ones((nrows, ncols), bool)
    mask[0, 0] = False
    return Grid(100.0, 588000.0, 186000.0, ncols, nrows, BNG, mask, np.where(mask, 0, -1).astype(np.int32), ("A",))


def _areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["A", "B<b>"]},
                            geometry=[shapely.box(588000, 185600, 588300, 186000), shapely.box(588300, 185600, 588500, 186000)],
                            crs=BNG)


def _spots() -> gpd.GeoDataFrame:
    rows = [
        {"rank": 1, "spot_id": "100m-E588000-N185900", "district": "A", "location": "On or near <script>alert(1)</script>",
         "score": 3.21, "explanation": "3.21 x the average cell = recent harm 3.00 + risk terrain 0.21",
         "harm_recent": 40.0, "harm_year": 365.0, "counts_by_type": "Robbery 1", "factors_present": "within 100 m of pubs",
         "movement": "up", "previous_rank": 3.0, "weeks_on_list": 2, "peak_times": "Fri 50%, Sat 50%; 22:00-01:00 80%",
         "patrol_visits_per_day": 4, "patrol_minutes": 15},
        {"rank": 1, "spot_id": "100m-E588400-N185700", "district": "B<b>", "location": "", "score": 1.5,
         "explanation": "1.50 x the average cell = recent harm 1.50", "harm_recent": 2.0, "harm_year": 10.0,
         "counts_by_type": "", "factors_present": "no risk terrain model", "movement": "new",
         "previous_rank": np.nan, "weeks_on_list": 1, "peak_times": "not available (monthly data)",
         "patrol_visits_per_day": 1, "patrol_minutes": 15},
    ]
    geoms = [shapely.box(588000, 185800, 588100, 185900), shapely.box(588400, 185600, 588500, 185700)]
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=BNG)


def test_popup_holds_every_part_and_escapes_text():
    html = spot_popup_html(_spots().iloc[0])
    for part in ("#1", "3.21", "x the average cell", "recent", "Robbery 1", "within 100 m of pubs",
                 "up (was #3)", "2 weeks on the list", "22:00-01:00", "4 visits a day, 15 min each",
                 "Harm, last 4 weeks", "40.0 CCHI days", "Harm, last 52 weeks", "365.0 CCHI days"):
        assert part in html, part
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "was #" not in spot_popup_html(_spots().iloc[1])  # new spots have no previous rank


def test_spots_geojson_is_in_lonlat_with_escaped_popups():
    data = spots_geojson(_spots())
    assert [f["properties"]["rank"] for f in data["features"]] == [1, 1]
    lon, lat = np.array(data["features"][0]["geometry"]["coordinates"][0]).T
    assert 0.6 < lon.min() < lon.max() < 0.8 and 51.5 < lat.min() < lat.max() < 51.6  # Southend
    assert "&lt;b&gt;" in data["features"][1]["properties"]["tooltip"]
    assert spots_geojson(_spots().iloc[:0]) == {"type": "FeatureCollection", "features": []}


def test_class_breaks_and_risk_classes():
    assert list(class_breaks(np.arange(1, 11), 5)) == pytest.approx([1, 2.8, 4.6, 6.4, 8.2, 10])
    assert list(class_breaks(np.ones(7), 5)) == [1, 1]
    v = np.r_[np.ones(90), np.full(8, 3.0), 10.0, 12.0]
    edges, labels = risk_class_edges(v)
    mean, sd = v.mean(), v.std()
    assert edges[0] == 1 and edges[-1] == 12 and mean in edges and mean + sd in edges
    assert labels[0].startswith("average or below") and labels[-1].startswith("highest")


def test_surface_image_is_a_png_over_the_grid_with_clear_cells_outside():
    g = _grid()
    values = np.arange(20, dtype=float).reshape(4, 5)
    values[1, 1] = np.nan
    img = surface_image(g, values, n_classes=4)
    assert img.png[:8] == b"\x89PNG\r\n\x1a\n" and img.data_uri.startswith("data:image/png;base64,")
    assert base64.b64decode(img.data_uri.split(",", 1)[1]) == img.png
    assert [label for label, _ in img.legend] == ["lowest 25%", "50-75% from the top", "25-50% from the top",
                                                  "highest 25%"]
    import io

    import matplotlib.image

    pixels = matplotlib.image.imread(io.BytesIO(img.png))
    assert pixels.shape[:2] == g.shape
    alpha = pixels[..., 3]
    assert alpha[0, 0] == 0 and alpha[1, 1] == 0  # outside the mask (and 0), NaN
    assert alpha[0, 1] > 0
    assert (alpha[2:, :] > 0).all()
    # the top-right pixel is the highest class, the darkest red
    assert tuple(np.round(pixels[3, 4, :3] * 255)) != tuple(np.round(pixels[1, 2, :3] * 255))
    (s, w), (n, e) = grid_bounds(g)
    assert s < n and w < e and 51.5 < s < 51.6 and 0.6 < w < 0.8


def test_points_are_capped_escaped_and_clipped():
    import folium

    m = folium.Map(tiles=None)
    pts = gpd.GeoDataFrame({"label": ["<i>x</i>"] * 50},
                           geometry=gpd.points_from_xy(np.linspace(588000, 588490, 50), np.full(50, 185800)), crs=BNG)
    _, drawn = add_points(m, pts, name="p", colour="#000", tooltip="label", cap=10)
    assert drawn == 10
    _, drawn = add_points(m, pts, name="p", colour="#000", within=shapely.box(588000, 185000, 588099, 186000))
    assert drawn == 10
    page = render_html(m).replace("\\u0026", "&").replace("\\u003c", "<").replace("\\u003e", ">")  # JSON escapes
    assert "&lt;i&gt;x" in page and "<i>x" not in page


def test_incident_points_keep_the_window_and_label():
    frame = pd.DataFrame({"date_start": pd.to_datetime(["2019-01-01", "2019-01-20 22:15", "2019-02-01 10:00"], format="ISO8601"),
                          "date_end": pd.to_datetime(["2019-01-01", "2019-01-20 22:15", "2019-02-01 10:00"], format="ISO8601"),
                          "offence_type": ["Robbery", "Burglary", "Robbery"], "x": [588000.0] * 3, "y": [185800.0] * 3,
                          "location": pd.array(["High St", None, "X"], dtype="string")})
    pts = incident_points(frame, BNG, "2019-01-10", "2019-02-01")
    assert list(pts["label"]) == ["2019-01-20 22:15 Burglary"]


def test_build_map_has_every_layer_fits_the_district_and_needs_no_internet():
    g = _grid()
    spots = _spots()
    attract = gpd.GeoDataFrame(geometry=gpd.points_from_xy([588050.0], [185850.0]), crs=BNG)
    m = build_map(MapContent(areas=_areas(), spots=spots, grid=g, harm=np.ones(g.shape), risk=np.ones(g.shape) * 2,
                             incidents=incident_points(pd.DataFrame({
                                 "date_start": pd.to_datetime(["2019-01-02"]), "date_end": pd.to_datetime(["2019-01-02"]),
                                 "offence_type": ["Robbery"], "x": [588050.0], "y": [185850.0]}), BNG),
                             attractors={"pubs": attract}, district="A"))
    assert isinstance(m, OfflineMap)
    html = render_html(m)
    assert external_urls(html) == []
    for name in ("Harm surface", "Risk terrain (RRS)", "District boundaries", "Attractors: pubs",
                 "Incidents, last 4 weeks", "Harm spots", "Harm surface: cells with recent harm",
                 "Risk terrain: relative risk score"):
        assert name in html, name
    assert SPOT_COLOUR in html and "100m-E588000-N185900" in html
    assert "fitBounds" in html
    # a basemap only from a proper template with attribution, and then only that host is outside
    tiled = build_map(MapContent(areas=_areas(), tiles="https://tiles.force.internal/{z}/{x}/{y}.png",
                                 attribution="Force"))
    assert all("tiles.force.internal" in u for u in external_urls(render_html(tiled)))
    # a missing attribution gets a default: never an error instead of a map
    from rtm.mapview import DEFAULT_ATTRIBUTION

    plain = render_html(build_map(MapContent(areas=_areas(), tiles="https://tiles.force.internal/{z}/{x}/{y}.png")))
    assert "L.tileLayer" in plain and DEFAULT_ATTRIBUTION.split("'")[-1] in plain
    with pytest.raises(ValueError):
        build_map(MapContent(areas=_areas(), tiles="https://tiles.force.internal/tile.png"))


def test_empty_list_still_draws_a_map():
    m = build_map(MapContent(areas=_areas(), spots=_spots().iloc[:0]))
    assert "Harm spots" in render_html(m)


def test_spots_in_filters_by_district():
    s = _spots()
    assert list(spots_in(s, ["A"])["district"]) == ["A"]
    assert len(spots_in(s, None)) == 2 and len(spots_in(s, [])) == 2
    json.dumps(spots_geojson(spots_in(s, ["B<b>"])))  # serialisable


def test_popup_and_tooltip_name_the_spot_like_the_devices_do():
    from rtm.mapview import spot_tooltip_text

    row = {"district": "Southend-on-Sea", "rank": 1, "location": "On or near High Street", "grid_ref": "TQ 8787 8633",
           "score": 3.2, "spot_id": "150m-E587850-N186300"}
    assert "<b>Southend-on-Sea #1 On or near High Street</b><br>TQ 8787 8633" in spot_popup_html(row)
    assert spot_tooltip_text(row) == "Southend-on-Sea #1 On or near High Street (score 3.20)"
    chicago = {**row, "district": "1", "rank": 6, "location": "41.88209, -87.62703", "grid_ref": ""}
    assert spot_tooltip_text(chicago).startswith("District 1 #6 41.88209, -87.62703")


def test_layers_are_offered_only_where_they_cover_the_data(tmp_path):
    from rtm.coverage import file_covers

    near = gpd.GeoDataFrame({"name": ["pub"]}, geometry=[shapely.Point(588100, 185800)], crs=BNG)
    far = gpd.GeoDataFrame({"name": ["bar"]}, geometry=[shapely.Point(-87.65, 41.88)], crs="EPSG:4326")
    m = build_map(MapContent(areas=_areas(), attractors={"pubs": near, "chicago_bars": far}))
    html = render_html(m)
    assert "Attractors: pubs" in html and "Attractors: chicago bars" not in html
    assert any("chicago bars is left out" in n for n in m.notes)
    near.to_file(tmp_path / "near.geojson")
    far.to_file(tmp_path / "far.geojson")
    assert file_covers(tmp_path / "near.geojson", _areas()) and not file_covers(tmp_path / "far.geojson", _areas())


def test_legends_show_only_while_their_layer_is_on():
    grid = _grid()
    values = np.arange(20, dtype=float).reshape(4, 5)
    html = render_html(build_map(MapContent(areas=_areas(), grid=grid, harm=values, risk=values + 1, spots=_spots())))
    assert html.count("map.on('layeradd'") == 2 and html.count("legend.addTo(map)") >= 2
    assert "Infinity" not in html and "inf" not in html.split("Risk terrain: relative risk score")[1][:600]
    assert '"collapsed": true' in html  # the layer control opens on hover, never stays over popups
    assert '"rtm-spots"' in html and "style.zIndex = 640" in html  # spots above every other layer
