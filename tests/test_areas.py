"""Study areas: LSOA-style names grouped into districts, selection, accounting for the
boundary features, and the errors a user can meet."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from rtm.areas import group_names, load_areas
from rtm.errors import InputError

ESSEX_DISTRICTS = ["Basildon", "Braintree", "Brentwood", "Castle Point", "Chelmsford", "Colchester",
                   "Epping Forest", "Harlow", "Maldon", "Rochford", "Southend-on-Sea", "Tendring",
                   "Thurrock", "Uttlesford"]


def _square(x, y, d=0.01):
    return [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]


def _geojson(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": g, "properties": p} for g, p in features]}))
    return path


@pytest.fixture
def small_lsoas(tmp_path):
    """Six features: four usable LSOA squares in two towns, and two that cannot be used (a
    polygon without a name is refused: tests/test_areas_hostile.py)."""
    poly = lambda x, y: {"type": "Polygon", "coordinates": _square(x, y)}  # noqa: E731
    bowtie = {"type": "Polygon", "coordinates": [[[0.74, 51.50], [0.75, 51.51], [0.75, 51.50],
                                                   [0.74, 51.51], [0.74, 51.50]]]}
    return _geojson(tmp_path / "lsoas.geojson", [
        (poly(0.70, 51.50), {"LSOA11NM": "Southend-on-Sea 001A", "pop": 1500}),
        (poly(0.71, 51.50), {"LSOA11NM": "Southend-on-Sea 001B", "pop": 1600}),
        (bowtie, {"LSOA11NM": "Southend-on-Sea 002A", "pop": 1400}),
        (poly(0.60, 51.50), {"LSOA11NM": "Rochford 004C", "pop": 1700}),
        (None, {"LSOA11NM": "Rochford 005A", "pop": 1200}),
        ({"type": "Point", "coordinates": [0.65, 51.5]}, {"LSOA11NM": "Rochford 006B", "pop": 0}),
    ])


def test_lsoa_names_are_grouped_by_prefix(small_lsoas):
    areas = load_areas(small_lsoas, "LSOA11NM", group="prefix")
    assert areas.names == ["Rochford", "Southend-on-Sea"]
    rep = areas.report
    assert rep.rows_in == 6
    assert rep.rejected == {"missing_geometry": 1, "wrong_geometry_type": 1}
    assert rep.rows_used == 4 and rep.adds_up
    assert any("1 invalid polygons were repaired" in n for n in rep.notes)
    assert areas.crs.to_epsg() == 27700
    # Southend: two whole squares and the repaired bowtie
    southend = areas.frame.set_index("name").geometry["Southend-on-Sea"]
    rochford = areas.frame.set_index("name").geometry["Rochford"]
    assert southend.area > 1.9 * rochford.area


def test_value_grouping_keeps_every_name(small_lsoas):
    areas = load_areas(small_lsoas, "LSOA11NM", group="value")
    assert areas.names == ["Rochford 004C", "Southend-on-Sea 001A", "Southend-on-Sea 001B",
                           "Southend-on-Sea 002A"]


def test_without_a_field_the_file_is_one_area(small_lsoas):
    areas = load_areas(small_lsoas)
    assert areas.names == ["lsoas"]
    assert areas.report.rejected == {"missing_geometry": 1, "wrong_geometry_type": 1}


def test_select_keeps_the_named_districts(small_lsoas):
    areas = load_areas(small_lsoas, "LSOA11NM", group="prefix", select="Rochford")
    assert areas.names == ["Rochford"]
    both = load_areas(small_lsoas, "LSOA11NM", group="prefix").select(["Southend-on-Sea", "Rochford"])
    assert both.names == ["Rochford", "Southend-on-Sea"]


def test_select_of_an_unknown_name_is_refused(small_lsoas):
    with pytest.raises(InputError) as info:
        load_areas(small_lsoas, "LSOA11NM", group="prefix", select="Southend")
    err = info.value
    assert err.problem == "no district is called 'Southend'"
    assert err.fix == "choose from: Rochford, Southend-on-Sea"
    assert "Fix: choose from" in str(err)


def test_unknown_field_is_refused(small_lsoas):
    with pytest.raises(InputError) as info:
        load_areas(small_lsoas, "LAD11NM")
    err = info.value
    assert str(err).startswith("lsoas.geojson, column 'LAD11NM'")
    assert "fields: LSOA11NM, pop" in err.problem
    assert "Fix: " in str(err)


def test_locate_gives_the_district_of_each_point(small_lsoas):
    areas = load_areas(small_lsoas, "LSOA11NM", group="prefix")
    from pyproj import Transformer

    t = Transformer.from_crs(4326, areas.crs, always_xy=True)
    x, y = t.transform([0.705, 0.715, 0.605, 0.50, 0.625], [51.505, 51.505, 51.505, 51.505, 51.505])
    # Rochford, then Southend-on-Sea; the last point is in the square without a name
    assert areas.locate(np.array(x), np.array(y)).tolist() == [1, 1, 0, -1, -1]


def test_points_only_file_is_refused(tmp_path):
    path = _geojson(tmp_path / "points.geojson", [({"type": "Point", "coordinates": [0.7, 51.5]}, {"n": "a"})])
    with pytest.raises(InputError) as info:
        load_areas(path, "n")
    assert "no usable polygons" in info.value.problem
    assert str(info.value).startswith("points.geojson: ")


def test_a_table_is_not_a_map_layer(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("name,x,y\nA,1,2\n")
    with pytest.raises(InputError) as info:
        load_areas(path)
    assert "not a map layer" in info.value.problem


def test_shapefile_without_crs_needs_one(tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(588_000, 185_000, 589_000, 186_000)])
    with pytest.warns(UserWarning, match="crs"):
        gdf.to_file(tmp_path / "area.shp")
    assert not (tmp_path / "area.prj").exists()
    with pytest.raises(InputError) as info:
        load_areas(tmp_path / "area.shp", "name")
    assert "does not say which coordinate system" in info.value.problem
    areas = load_areas(tmp_path / "area.shp", "name", crs="EPSG:27700")
    assert areas.names == ["A"]
    assert areas.report.crs_how == "given"
    assert areas.frame.geometry.iloc[0].area == pytest.approx(1_000_000)


def test_group_names_auto_needs_nine_in_ten_lsoa_names():
    lsoa = pd.Series([f"Basildon {i:03d}A" for i in range(9)] + ["Town Centre"])
    names, how = group_names(lsoa)
    assert how == "prefix"
    assert names.tolist() == ["Basildon"] * 9 + ["Town Centre"]
    mixed = pd.Series([f"Basildon {i:03d}A" for i in range(8)] + ["Town Centre", "Harbour"])
    names, how = group_names(mixed)
    assert how == "value"
    assert names.tolist() == mixed.tolist()


@pytest.mark.realdata
def test_essex_lsoas_give_the_fourteen_districts(essex_dir):
    areas = load_areas(essex_dir / "boundaries", "LSOA11NM")
    assert areas.names == ESSEX_DISTRICTS
    rep = areas.report
    assert rep.rows_in == rep.rows_used == 1_077
    assert rep.rejected == {}
    assert areas.crs.to_epsg() == 27700
    southend = load_areas(essex_dir / "boundaries", "LSOA11NM", select="Southend-on-Sea")
    assert southend.names == ["Southend-on-Sea"]
    # Southend-on-Sea is about 42 square kilometres of land
    assert 38e6 < southend.frame.geometry.iloc[0].area < 46e6


@pytest.mark.realdata
def test_essex_select_unknown_district(essex_dir):
    with pytest.raises(InputError) as info:
        load_areas(essex_dir / "boundaries", "LSOA11NM", select="Southend")
    assert info.value.problem == "no district is called 'Southend'"
    assert info.value.fix == "choose from: " + ", ".join(ESSEX_DISTRICTS)
