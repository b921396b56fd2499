"""rtm hotspots, the list's hotspot_class column and rtm dosage, end to end on the Chicago sample
(assaults with times), with the outputs opened as a user would: pandas, openpyxl, pyogrio, rasterio."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from click.testing import CliRunner

from rtm.cli import main
from rtm.emerging import EHSA_CLASSES, SIMPLE_CLASSES
from rtm.exports import read_csv_bytes

CHICAGO = ["--incidents", "sample_geo/chicago/assaults_2016_2019.csv", "--offence-value", "Aggravated assault",
           "--weights", "count", "--area", "sample_geo/chicago/districts.geojson", "--area-field", "District"]


def test_hotspots_command_writes_geopackage_and_geotiffs(tmp_path):
    res = CliRunner().invoke(main, ["hotspots", *CHICAGO, "--week", "2019-03-04", "--distance", "300", "--periods",
                                    "26", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "false discovery rate of 0.05" in res.output and "over 26 week(s)" in res.output
    gpkg = tmp_path / "hotspots_week_2019-03-04.gpkg"
    assert {tuple(x) for x in pyogrio.list_layers(gpkg)} == {("gistar", "Polygon"), ("emerging", "Polygon")}
    gi = pyogrio.read_dataframe(gpkg, layer="gistar")
    assert (gi["harm"] >= 0).all() and set(gi["gi_bin"]) <= set(range(-3, 4))
    assert ((gi["gi_bin"] > 0) == ((gi["gi_q"] <= 0.10) & (gi["gi_z"] > 0))).all()
    em = pyogrio.read_dataframe(gpkg, layer="emerging")
    assert set(em["ehsa_class"]) <= set(EHSA_CLASSES.values())
    assert set(em["simple_class"]) <= set(SIMPLE_CLASSES.values())
    with rasterio.open(tmp_path / "hotspots_week_2019-03-04_classes.tif") as r:
        assert r.descriptions == ("ehsa_class", "simple_class") and r.crs is not None
        band = r.read(1)
        assert set(np.unique(band)) <= set(EHSA_CLASSES) | {-99}
        # the GeoTIFF and the GeoPackage say the same: one cell checked by its centre
        row = em.iloc[0]
        c = row.geometry.centroid
        rr, cc = r.index(c.x, c.y)
        assert band[rr, cc] == row["ehsa_code"]
    with rasterio.open(tmp_path / "hotspots_week_2019-03-04_gistar.tif") as r:
        assert r.descriptions == ("gi_z", "gi_q", "gi_bin")


def test_hotspots_command_says_weekly_needs_days(tmp_path):
    res = CliRunner().invoke(main, ["hotspots", "--incidents", "sample_geo/southend/crime", "--area",
                                    "sample_geo/southend/southend_lsoa2011.geojson", "--area-field", "LSOA11NM",
                                    "--week", "2019-01-07", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "dated by month only" in res.output and "--month" in res.output


@pytest.fixture(scope="module")
def chicago_list(tmp_path_factory):
    out = tmp_path_factory.mktemp("lists")
    res = CliRunner().invoke(main, ["weekly", *CHICAGO, "--week", "2019-03-04", "--top", "5", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out / "2019-03-04"


def test_weekly_list_has_each_spots_emerging_class(chicago_list):
    import json

    table = read_csv_bytes((chicago_list / "harmspots_week_2019-03-04.csv").read_bytes())
    prov = json.loads((chicago_list / "harmspots_week_2019-03-04.provenance.json").read_text())
    assert "hotspot_class" in table.columns
    assert set(table["hotspot_class"]) <= set(EHSA_CLASSES.values())
    assert "hotspot_class" in prov["columns"]


def test_dosage_command_report(chicago_list, tmp_path):
    gpkg = chicago_list / "harmspots_week_2019-03-04.gpkg"
    spots = pyogrio.read_dataframe(gpkg, layer="harm_spots")
    # an officer stands 20 minutes in the first spot on Tuesday, pinging every 30 s (lon/lat)
    c = spots.to_crs(4326).geometry.iloc[0].centroid
    times = pd.date_range("2019-03-05 10:00", "2019-03-05 10:20", freq="30s")
    pd.DataFrame({"callsign": "1A", "time": times.strftime("%Y-%m-%dT%H:%M:%S"), "longitude": c.x,
                  "latitude": c.y}).to_csv(tmp_path / "pings.csv", index=False)
    res = CliRunner().invoke(main, ["dosage", "--list", str(gpkg), "--patrols", str(tmp_path / "pings.csv"),
                                    "--out", str(tmp_path / "rep"), "--incidents",
                                    "sample_geo/chicago/assaults_2016_2019.csv", "--offence-value",
                                    "Aggravated assault", "--weights", "count", "--area",
                                    "sample_geo/chicago/districts.geojson", "--area-field", "District"])
    assert res.exit_code == 0, res.output
    assert "1 visit(s) of 15+ minutes" in res.output and "not a trial" in res.output
    s = pd.read_csv(tmp_path / "rep" / "dosage_spots.csv")
    first = s[s["spot_id"] == spots["spot_id"].iloc[0]].iloc[0]
    assert first["minutes"] == pytest.approx(20.0, abs=0.1) and first["visits_of_target"] == 1
    import openpyxl

    wb = openpyxl.load_workbook(tmp_path / "rep" / "dosage.xlsx")
    assert wb.sheetnames == ["Spots", "Days", "Visits", "Districts", "Harm", "Notes"]
    assert wb["Spots"]["A1"].value == "period"
    harm = pd.read_csv(tmp_path / "rep" / "dosage_harm.csv")
    assert set(harm["group"]) == {"patrolled", "unpatrolled"}
    layer = pyogrio.read_dataframe(tmp_path / "rep" / "dosage_spots.gpkg")
    assert len(layer) == len(spots) and layer["share"].between(0, 1).all()
    assert (tmp_path / "rep" / "dosage_chart.png").stat().st_size > 1000


def test_dosage_command_bad_pings_file(chicago_list, tmp_path):
    (tmp_path / "p.csv").write_text("who,when\nA,2019-03-05 10:00\n")
    res = CliRunner().invoke(main, ["dosage", "--list", str(chicago_list / "harmspots_week_2019-03-04.gpkg"),
                                    "--patrols", str(tmp_path / "p.csv"), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2
    assert "p.csv: no column says which officer or unit" in res.output and "Fix:" in res.output
