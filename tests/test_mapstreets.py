"""Street names on the offline map (rtm.mapstreets): from police.uk "On or near" points and from
a streets file, escaped, thinned, shown only at street zoom; a bad streets file is refused
with a message naming the file and the column."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import CRS

from rtm.errors import InputError
from rtm.mapstreets import LABEL_MIN_ZOOM, line_labels, read_streets, street_points, street_text, thin_labels
from rtm.mapview import MapContent, build_map
from rtm.webmap import external_urls, render_html

BNG = CRS.from_epsg(27700)


def _incidents():
    return pd.DataFrame({"location": ["On or near High Street", "On or near High Street", "On or near  Pier Hill",
                                      "On or near <b>Bad</b>", None, "Parking Area", "On or near High Street"],
                         "x": [588000.0, 588000.0, 588300.0, 588100.0, 588200.0, 588400.0, 589500.0],
                         "y": [185800.0, 185800.0, 185700.0, 185900.0, 185900.0, 185650.0, 185800.0]})


def _areas():
    return gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(587500, 185000, 590000, 186500)], crs=BNG)


def test_street_text_drops_the_police_uk_prefix():
    assert street_text("On or near High Street") == "High Street"
    assert street_text("on or near   Pier  Hill ") == "Pier Hill"
    assert street_text("Parking Area") == "Parking Area"
    assert street_text(None) == "" and street_text(float("nan")) == ""


def test_one_point_per_distinct_street_point_most_used_first():
    pts = street_points(_incidents(), BNG)
    assert list(pts["label"]) == ["High Street", "<b>Bad</b>", "High Street", "Parking Area", "Pier Hill"]
    assert list(pts["incidents"]) == [2, 1, 1, 1, 1]
    assert pts.crs == BNG
    assert len(street_points(_incidents().drop(columns="location"), BNG)) == 0  # no location column: none


def test_labels_are_thinned_by_name_and_by_distance():
    pts = gpd.GeoDataFrame({"label": ["A", "A", "B", "A"]},
                           geometry=gpd.points_from_xy([0, 100, 30, 400], [0, 0, 0, 0]), crs=BNG)
    assert list(thin_labels(pts).index) == [0, 3]  # the second A is too near the first; B too near anything


def test_map_labels_street_names_only_at_street_zoom_escaped():
    m = build_map(MapContent(areas=_areas(), street_points=street_points(_incidents(), BNG)))
    html = render_html(m)
    assert "Street names" in html and "High Street" in html and "Pier Hill" in html
    assert "<b>Bad</b>" not in html and r"\u0026lt;b\u0026gt;Bad" in html  # escaped, then made safe JSON
    assert "On or near" not in html
    assert "map.getZoom() >= minZoom" in html and f", {LABEL_MIN_ZOOM});" in html
    assert external_urls(html) == []
    # no label in the area in view: the layer is not offered
    far = street_points(_incidents().assign(x=700000.0), BNG)
    assert "Street names" not in render_html(build_map(MapContent(areas=_areas(), street_points=far)))


def test_streets_file_is_read_checked_and_labelled(tmp_path):
    lines = gpd.GeoDataFrame({"road": ["Station Road", "Station Road", ""], "kind": [1, 2, 3]},
                             geometry=[shapely.LineString([(588000, 185500), (588900, 185500)]),
                                       shapely.LineString([(588900, 185500), (588900, 185600)]),
                                       shapely.LineString([(588000, 185600), (588100, 185600)])], crs=BNG)
    path = tmp_path / "streets.gpkg"
    lines.to_file(path, engine="pyogrio")
    read = read_streets(path, "road", BNG, key="streets.file")
    assert list(read["road"]) == ["Station Road", "Station Road"]  # the unnamed line is dropped
    labels = line_labels(read, "road")
    assert list(labels["label"]) == ["Station Road", "Station Road"]  # 1000 m of it: one label per 400 m
    html = render_html(build_map(MapContent(areas=_areas(), streets=read, street_label="road")))
    assert "Station Road" in html and "Street names" in html
    with pytest.raises(InputError, match=r"streets\.gpkg.*no column 'name' \(its columns: road, kind\)"):
        read_streets(path, "name", BNG)
    pts = tmp_path / "points.geojson"
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.Point(0, 0)], crs=BNG).to_file(pts)
    with pytest.raises(InputError, match="holds no lines"):
        read_streets(pts, "name", BNG)
    bad = tmp_path / "streets.geojson"
    bad.write_text("not json")
    with pytest.raises(InputError, match=r"streets\.geojson.*cannot be read") as info:
        read_streets(bad, "name", BNG, key="streets.file")
    assert str(tmp_path) not in str(info.value)  # the server's folders are never shown
