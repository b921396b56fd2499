"""Generic tables and vector formats for incidents, with a column mapping."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from rtm.incidents import load_incidents
from rtm.layouts import ColumnMap
from rtm.weights import HarmWeights

TODAY = "2026-11-23"


def _frame():
    return pd.DataFrame({
        "ref": ["r1", "r2", "r3", "r4", "r5"],
        "when": pd.to_datetime(["2019-01-05 21:10", "2019-01-06 02:30", None, "2019-01-07 12:00",
                                "2019-01-05 21:10"]),
        "easting": [588000.0, 588100.0, 588200.0, np.nan, 588000.0],
        "northing": [186000.0, 186100.0, 186200.0, 186300.0, 186000.0],
        "crime": ["Robbery", "Public order", "Robbery", "Drugs", "Robbery"],
    })


def test_parquet_with_native_timestamps_and_bng_coordinates(tmp_path):
    path = tmp_path / "incidents.parquet"
    _frame().to_parquet(path)
    inc = load_incidents(path, mapping=ColumnMap(id="ref", date="when", x="easting", y="northing",
                                                 offence="crime"), today=TODAY)
    rep = inc.report
    assert rep.rows_in == 5 and rep.rejected == {"missing_date": 1, "missing_coordinates": 1}
    assert rep.crs_in == "EPSG:27700" and "British National Grid" in rep.crs_how
    assert inc.resolution == "datetime"
    assert list(inc.frame["weight"]) == [365.0, 7.5, 365.0]
    assert inc.frame["date_start"].iloc[1] == pd.Timestamp("2019-01-06 02:30")
    assert inc.frame["source_row"].tolist() == [1, 2, 5]


@pytest.mark.parametrize("suffix", [".gpkg", ".fgb", ".geojson"])
def test_point_layers_as_incidents(tmp_path, suffix):
    df = _frame().dropna()
    gdf = gpd.GeoDataFrame(df.drop(columns=["easting", "northing"]).assign(when=df["when"].astype(str)),
                           geometry=gpd.points_from_xy(df["easting"], df["northing"]), crs="EPSG:27700")
    path = tmp_path / f"incidents{suffix}"
    gdf.to_file(path)
    inc = load_incidents(path, mapping=ColumnMap(id="ref", date="when", offence="crime"), today=TODAY)
    # r1 and r5 share time, place and type but have different ids: both are kept
    assert inc.report.rows_in == 3 and inc.report.rows_used == 3
    assert sorted(inc.frame["incident_id"]) == ["r1", "r2", "r5"]
    assert np.allclose(sorted(inc.frame["x"]), [588000.0, 588000.0, 588100.0])


def test_timestamped_rows_without_ids_are_duplicates_only_when_every_cell_repeats(tmp_path):
    path = tmp_path / "noid.csv"
    frame = _frame().drop(columns="ref").assign(note=["a", "b", "c", "d", "a"])
    frame.to_csv(path, index=False)
    cols = ColumnMap(date="when", x="easting", y="northing", offence="crime")
    inc = load_incidents(path, mapping=cols, today=TODAY)
    assert inc.report.rejected == {"missing_date": 1, "missing_coordinates": 1, "duplicate": 1}
    assert inc.rejects.loc[inc.rejects.reason == "duplicate", "row"].tolist() == [6]
    frame.assign(note=["a", "b", "c", "d", "e"]).to_csv(path, index=False)  # one cell differs
    inc = load_incidents(path, mapping=cols, today=TODAY)
    assert inc.report.rejected == {"missing_date": 1, "missing_coordinates": 1}


def test_zipped_shapefile_of_points(tmp_path):
    import zipfile

    gdf = gpd.GeoDataFrame({"kind": ["a", "b"]}, geometry=[shapely.Point(-87.63, 41.88), shapely.Point(-87.64, 41.89)],
                           crs="EPSG:4326")
    shp = tmp_path / "pts.shp"
    gdf.to_file(shp)
    zpath = tmp_path / "pts.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            if shp.with_suffix(ext).exists():
                zf.write(shp.with_suffix(ext), f"pts{ext}")
    inc = load_incidents(zpath, weights=HarmWeights.count())
    assert inc.report.rows_used == 2 and inc.resolution == "none"
    assert inc.crs.to_epsg() == 32616
