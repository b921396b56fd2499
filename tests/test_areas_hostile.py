"""Hostile boundary files (review 14b, findings F8 and F9): district names that are missing,
blank, spaced or in another case, an empty field name, numbers as names, GeoPackages of
several layers and coordinates that are not a place on the Earth. Each file is written to
``tmp_path`` and read with :func:`rtm.areas.load_areas`."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import pytest
import shapely

from rtm.areas import load_areas
from rtm.errors import InputError
from rtm.incidents import load_incidents

#: police.uk street CSV header
HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
          "Crime type,Last outcome category,Context")


def _square(x, y, d=0.01):
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


def _geojson(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": g, "properties": p} for g, p in features]}))
    return path


def _row_of_squares(path, values, field="name"):
    """One 0.01-degree square near Southend per value, side by side from 0.60 E."""
    return _geojson(path, [(_square(0.60 + 0.01 * i, 51.50), {field: v, "code": f"C{i}"})
                           for i, v in enumerate(values)])


def _crimes(path, points):
    """A police.uk CSV with one burglary at each (lon, lat)."""
    rows = [f"id{i},2019-01,Essex Police,Essex Police,{x},{y},On or near X,E0,Southend-on-Sea 001A,Burglary,,"
            for i, (x, y) in enumerate(points)]
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    return path


# -- F8: district names ---------------------------------------------------------------------
def test_polygons_without_a_name_are_refused_with_their_feature_numbers(tmp_path):
    """Was: 96 of 107 polygons dropped without a word, their incidents rejected as outside."""
    path = _row_of_squares(tmp_path / "nul.geojson", ["A"] * 3 + [None] * 12 + [""])
    with pytest.raises(InputError) as info:
        load_areas(path, "name")
    err = info.value
    assert err.field == "name"
    assert err.problem.startswith("13 of the 16 polygons have no value in the field 'name' "
                                  "(feature numbers 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, ..., counted from 1")
    assert err.fix == ("fill in the district names in your GIS, or choose another field as the district name "
                       "field (fields: code)")
    assert str(err).startswith("nul.geojson, column 'name': ")


def test_a_name_field_blank_everywhere_says_so(tmp_path):
    """Was: 'the study area spans nan degrees'."""
    path = _row_of_squares(tmp_path / "blank.geojson", ["", "  ", ""])
    with pytest.raises(InputError) as info:
        load_areas(path, "name")
    assert info.value.problem == "the field 'name' is empty for every feature, so no polygon has a district name"
    assert "nan" not in str(info.value) and "(fields: code)" in info.value.fix


def test_names_differing_in_spaces_or_case_are_one_district(tmp_path):
    """Was: 'North' and 'north ' two districts without a note."""
    path = _row_of_squares(tmp_path / "case.geojson", ["North", "north ", "North", " NORTH", "South",
                                                         "South  East", "South East"])
    areas = load_areas(path, "name")
    assert areas.names == ["North", "South", "South East"]
    assert areas.report.rows_used == 7 and areas.report.rejected == {}
    notes = areas.report.notes
    assert "3 name(s) in field 'name' had spaces around them or several spaces in a row; they were read " \
           "without them" in notes
    assert "names that differ only in case were taken as one district, 'North' (also written 'north', " \
           "'NORTH')" in notes
    # every incident in the four North squares is in North, none lost
    crimes = _crimes(tmp_path / "crimes.csv", [(0.605 + 0.01 * i, 51.505) for i in range(7)])
    inc = load_incidents(crimes, areas=areas, threads=1)
    assert inc.report.rows_used == 7
    assert inc.frame["district"].astype(str).tolist() == ["North"] * 4 + ["South"] + ["South East"] * 2


def test_an_empty_field_name_is_refused_not_one_area(tmp_path):
    """Was: areas.field = "" made one district named after the file."""
    path = _row_of_squares(tmp_path / "areas.geojson", ["A", "B"])
    for empty in ("", "  "):
        with pytest.raises(InputError) as info:
            load_areas(path, empty)
        assert info.value.field == "area_field"
        assert info.value.problem == "the district name field is empty (no field name given)"
        assert info.value.fix.startswith("give one of the file's fields: name, code; or give no field")
    assert load_areas(path).names == ["areas"]  # no field at all: still one area, as documented


def test_numbers_as_names_are_text(tmp_path):
    path = _row_of_squares(tmp_path / "num.geojson", [3, 1, 3, 20])
    areas = load_areas(path, "name")
    assert areas.names == ["1", "20", "3"]
    gdf = gpd.read_file(path)
    gdf["name"] = [3.0, 1.0, 3.0, 20.0]
    gdf.to_file(tmp_path / "num.gpkg", driver="GPKG")
    assert load_areas(tmp_path / "num.gpkg", "name").names == ["1", "20", "3"]  # not '3.0'
    gdf["name"] = [3.5, 1.0, 3.5, 20.0]
    gdf.to_file(tmp_path / "dec.gpkg", driver="GPKG")
    assert load_areas(tmp_path / "dec.gpkg", "name").names == ["1.0", "20.0", "3.5"]


# -- F9: layers and coordinates ---------------------------------------------------------------
def _areas_frame():
    return gpd.GeoDataFrame({"name": ["North", "South"]},
                            geometry=[shapely.box(0.60, 51.50, 0.61, 51.51), shapely.box(0.61, 51.50, 0.62, 51.51)],
                            crs="EPSG:4326")


ROAD = shapely.LineString([(0.6, 51.5), (0.62, 51.51)])
PUB = shapely.Point(0.605, 51.505)


def _one_feature_layer(path, layer: str, geometry) -> None:
    gpd.GeoDataFrame({"name": [layer]}, geometry=[geometry], crs="EPSG:4326").to_file(path, layer=layer, driver="GPKG")


def _refused_without_warnings(path) -> InputError:
    """The InputError of ``load_areas(path, "name")``, failing on any warning printed on the way."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputError) as info:
            load_areas(path, "name")
    return info.value


def test_the_only_polygon_layer_of_a_geopackage_is_read(tmp_path):
    """Was: pyogrio's warning printed, the first layer (lines) read, 'the file holds lines'."""
    path = tmp_path / "multi.gpkg"
    _one_feature_layer(path, "aaa_lines", ROAD)
    _areas_frame().to_file(path, layer="zzz_areas", driver="GPKG")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        areas = load_areas(path, "name")
    assert areas.names == ["North", "South"]
    assert areas.report.notes[0] == ("the file has 2 layers; read 'zzz_areas', its only polygon layer "
                                     "(not read: 'aaa_lines')")


def test_a_geopackage_of_two_polygon_layers_is_refused_with_its_layers(tmp_path):
    path = tmp_path / "two.gpkg"
    _areas_frame().to_file(path, layer="districts", driver="GPKG")
    _areas_frame().to_file(path, layer="wards", driver="GPKG")
    _one_feature_layer(path, "pubs", PUB)
    err = _refused_without_warnings(path)
    assert err.problem == ("the file holds 3 layers and 2 of them hold polygons, so it is not clear which "
                           "is the study area (layers: 'districts' (Polygon), 'wards' (Polygon), 'pubs' (Point))")
    assert err.fix.startswith("save the layer with the district boundaries alone as its own file")


def test_a_geopackage_without_a_polygon_layer_lists_its_layers(tmp_path):
    path = tmp_path / "nopoly.gpkg"
    _one_feature_layer(path, "roads", ROAD)
    _one_feature_layer(path, "pubs", PUB)
    err = _refused_without_warnings(path)
    assert err.problem == ("the file holds 2 layers and none of them holds polygons "
                           "(layers: 'roads' (LineString), 'pubs' (Point))")


def test_coordinates_far_off_the_earth_are_named(tmp_path):
    """Was: a RuntimeWarning and 'the study area spans nan degrees'."""
    bng = gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(1e15 + 588_000, 1e15 + 185_000,
                                                                  1e15 + 589_000, 1e15 + 186_000)], crs="EPSG:27700")
    bng.to_file(tmp_path / "huge.gpkg", driver="GPKG")
    err = _refused_without_warnings(tmp_path / "huge.gpkg")
    assert "are outside any plausible range for OSGB36 / British National Grid" in err.problem
    assert "nan" not in str(err) and "coordinate system" in err.fix


def test_coordinates_the_crs_cannot_turn_into_degrees_are_named(tmp_path):
    # 30,000 km from British National Grid's origin: within reach of some CRSs, not of this one
    far = gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(3e7, 3e7, 3e7 + 1000, 3e7 + 1000)],
                           crs="EPSG:27700")
    far.to_file(tmp_path / "far.gpkg", driver="GPKG")
    err = _refused_without_warnings(tmp_path / "far.gpkg")
    assert "cannot be turned into longitude and latitude" in err.problem
    assert "nan" not in str(err)


def test_latitudes_beyond_the_pole_are_named(tmp_path):
    path = _geojson(tmp_path / "lat.geojson", [(_square(0.6, 95.0), {"name": "A"})])
    with pytest.raises(InputError) as info:
        load_areas(path, "name")
    assert "outside any plausible range for WGS 84" in info.value.problem
    assert "latitudes from -90 to 90" in info.value.problem


def test_rtm_validate_shows_what_the_boundary_file_gave(tmp_path):
    """The study area's notes (names merged, a layer chosen) and its polygons not used were
    only in the library's report: `rtm validate` now prints them."""
    from click.testing import CliRunner

    from rtm.cli import main

    path = _row_of_squares(tmp_path / "case.geojson", ["North", "north ", "South"])
    crimes = _crimes(tmp_path / "crimes.csv", [(0.605 + 0.01 * i, 51.505) for i in range(3)])
    res = CliRunner().invoke(main, ["validate", str(crimes), "--area", str(path), "--area-field", "name"])
    assert res.exit_code == 0, res.output
    assert "Note (study area): names that differ only in case were taken as one district, 'North' (also " \
           "written 'north')" in res.output
    res = CliRunner().invoke(main, ["validate", str(crimes), "--area", str(path), "--area-field", "name", "--json"])
    assert json.loads(res.output)["study_area"]["rows_used"] == 3
