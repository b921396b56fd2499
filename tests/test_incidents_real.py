"""Loading the real public data in ../shared/data end to end, with exact accounting.

The expected numbers come from the data's own README files (row counts, rows without
coordinates) and from one careful load; a change in any of them means the loader now
treats some real rows differently, which must be a deliberate decision.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import CRS, Transformer

from rtm.areas import load_areas
from rtm.incidents import load_incidents
from rtm.layouts import POLICEUK_SLUGS, ColumnMap
from rtm.weights import HarmWeights

pytestmark = pytest.mark.realdata

ESSEX_MONTHS = {"2018-01": 14786, "2018-02": 13752, "2018-03": 16014, "2018-04": 16709, "2018-05": 17618,
                "2018-06": 17473, "2018-07": 18713, "2018-10": 17791, "2018-11": 17050, "2018-12": 16587,
                "2019-01": 16428, "2019-02": 16377}
CCHI_NAMES = set(HarmWeights.cchi().table["offence_type"])


@pytest.fixture(scope="module")
def essex(essex_dir):
    """All 12 Essex monthly files, loaded once for the module."""
    return load_incidents(essex_dir / "crime")


def test_essex_twelve_months_add_up(essex):
    rep = essex.report
    assert rep.rows_in == 199_298
    assert rep.rejected == {"missing_coordinates": 587}
    assert rep.rows_used == 198_711
    assert rep.adds_up
    assert len(essex.frame) == 198_711
    assert len(essex.rejects) == 587
    assert rep.date_resolution == essex.resolution == "month"
    assert (rep.date_min, rep.date_max) == ("2018-01", "2019-02")
    assert sorted(essex.frame["date_start"].dt.strftime("%Y-%m").unique()) == sorted(ESSEX_MONTHS)


def test_essex_files_are_all_read_as_police_uk(essex):
    sources = essex.report.sources
    assert {Path(s["name"]).name[:7]: s["rows"] for s in sources} == ESSEX_MONTHS
    assert {s["layout"] for s in sources} == {"police.uk street"}
    per_file = essex.frame["source_file"].astype(str).map(lambda n: Path(n).name[:7]).value_counts()
    missing = essex.rejects["file"].map(lambda n: Path(n).name[:7]).value_counts()
    for month, rows in ESSEX_MONTHS.items():
        assert per_file.get(month, 0) + missing.get(month, 0) == rows


def test_essex_is_projected_to_british_national_grid(essex):
    rep = essex.report
    assert essex.crs.to_epsg() == 27700
    assert rep.crs_working.startswith("EPSG:27700")
    assert rep.crs_in == "EPSG:4326"
    # most Essex points lie in the Essex box of the national grid (a few are far away)
    x, y = essex.frame["x"].to_numpy(), essex.frame["y"].to_numpy()
    inside = (x > 540_000) & (x < 630_000) & (y > 170_000) & (y < 250_000)
    assert inside.mean() > 0.95


def test_essex_harm_weights_are_the_defaults(essex):
    table = essex.report.offence_types.set_index("offence_type")
    assert len(table) == 14
    assert table.loc["Robbery", "weight"] == 365
    assert table.loc["Anti-social behaviour", "weight"] == 0
    assert table["rows"].sum() == 198_711
    assert np.isclose(table["harm"].sum(), essex.frame["weight"].sum())


def test_both_essex_header_variants_give_the_same_columns(essex_dir):
    snake = essex_dir / "crime" / "2018-01-essex-street.csv"
    original = essex_dir / "crime" / "2018-10-essex-street.csv"
    assert snake.read_text().startswith("crime_id,month,")
    assert original.read_text().startswith("Crime ID,Month,")
    a, b = load_incidents(snake), load_incidents(original)
    assert a.report.rows_in == 14_786 and b.report.rows_in == 17_791
    assert list(a.frame.columns) == list(b.frame.columns)
    assert list(a.frame.dtypes.astype(str)) == list(b.frame.dtypes.astype(str))
    assert list(a.rejects.columns) == list(b.rejects.columns)
    assert "Crime ID" in a.rejects.columns and "crime_id" not in a.rejects.columns
    assert a.frame["incident_id"].notna().any() and a.frame["lsoa_code"].notna().all()


def test_essex_rejects_written_to_csv(essex, tmp_path):
    out = tmp_path / "rejects.csv"
    assert essex.write_rejects(out) == 587
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(back) == 587
    assert list(back.columns[:4]) == ["file", "row", "reason", "advice"]
    assert set(back["reason"]) == {"missing_coordinates"}
    assert (back["Longitude"] == "").all() and (back["Latitude"] == "").all()
    assert back["row"].astype(int).min() >= 2


def test_essex_folder_given_twice_rejects_the_second_copy(essex_dir):
    crime = essex_dir / "crime"
    inc = load_incidents([crime, crime])
    rep = inc.report
    assert rep.rows_in == 2 * 199_298
    assert rep.rejected == {"missing_coordinates": 587, "duplicate": 199_298}
    assert rep.rows_used == 198_711
    assert rep.adds_up
    # each file's second copy is rejected whole, whatever else is wrong with its rows
    dup = inc.rejects[inc.rejects["reason"] == "duplicate"]
    by_file = dup["file"].map(lambda n: Path(n).name[:7]).value_counts().to_dict()
    assert by_file == ESSEX_MONTHS
    assert sum("same content as" in n for n in rep.notes) == 12


def test_essex_clipped_to_southend(essex_dir):
    areas = load_areas(essex_dir / "boundaries", "LSOA11NM", select="Southend-on-Sea")
    assert areas.names == ["Southend-on-Sea"]
    inc = load_incidents(essex_dir / "crime", areas=areas)
    rep = inc.report
    assert rep.rows_in == 199_298
    assert rep.adds_up
    assert rep.rejected["missing_coordinates"] == 587
    assert set(rep.rejected) == {"missing_coordinates", "outside_study_area"}
    assert rep.rows_used == 25_399
    assert len(inc.frame) == rep.rows_used
    assert set(inc.frame["district"].astype(str)) == {"Southend-on-Sea"}
    # the police's own LSOA label agrees for nearly every point (boundaries are generalised)
    agree = inc.frame["lsoa_name"].astype(str).str.startswith("Southend-on-Sea").mean()
    assert agree > 0.995


def test_colchester_api_layout_maps_slugs_to_names(essex_dir):
    inc = load_incidents(essex_dir / "colchester_2023" / "crime23.csv")
    rep = inc.report
    assert rep.rows_in == 6_878
    assert rep.sources[0]["layout"] == "police.uk API"
    # one crime is listed twice in November under two API ids
    assert rep.rejected == {"duplicate": 1}
    assert inc.rejects.loc[0, "persistent_id"].startswith("3e0c618a")
    types = inc.frame["offence_type"].astype(str)
    assert set(types) <= CCHI_NAMES
    assert not set(types) & set(POLICEUK_SLUGS)
    counts = types.value_counts()
    assert counts["Violence and sexual offences"] == 2_632
    assert counts["Anti-social behaviour"] == 677
    assert (rep.date_min, rep.date_max, rep.date_resolution) == ("2023-01", "2023-12", "month")
    assert inc.crs.to_epsg() == 27700


def test_chicago_assaults_timestamped_in_utm(chicago_dir):
    inc = load_incidents(chicago_dir / "crimemapping" / "chicago_aggravated_assaults.csv.gz",
                         mapping=ColumnMap(offence_value="Aggravated assault"), weights=HarmWeights.count())
    rep = inc.report
    assert rep.rows_in == 148_736
    assert rep.adds_up
    # timestamped rows without ids repeat when every cell repeats: the source file has
    # 107 exactly repeated rows (118 share time, place and type, 11 of them differ in
    # location_category and are kept)
    assert rep.rejected == {"duplicate": 107}
    assert rep.date_resolution == inc.resolution == "datetime"
    assert (rep.date_min, rep.date_max) == ("2010-01-01 00:05", "2019-12-31 23:54")
    epsg = inc.crs.to_epsg()
    assert 32601 <= epsg <= 32660 and inc.crs.utm_zone == "16N"
    assert rep.crs_working.startswith(f"EPSG:{epsg}")
    assert rep.weights_scheme == "count"
    assert (inc.frame["weight"] == 1.0).all()
    assert set(inc.frame["offence_type"].astype(str)) == {"Aggravated assault"}
    assert (inc.frame["date_end"] == inc.frame["date_start"]).all()
    assert any("time-zone" in n for n in rep.notes)


def test_chicago_burglaries18_shapefile_is_undated_points(chicago_dir):
    inc = load_incidents(chicago_dir / "urbanspatial_ch5_shp" / "burglaries18")
    rep = inc.report
    assert rep.rows_in == rep.rows_used == 6_125
    assert rep.rejected == {}
    assert inc.resolution == rep.date_resolution == "none"
    assert inc.frame["date_start"].isna().all()
    assert "declared by the file" in rep.crs_how
    crs_in = CRS.from_user_input(rep.crs_in)
    assert crs_in.is_projected and "Transverse_Mercator" in rep.crs_in
    assert inc.crs.utm_zone == "16N"
    assert (inc.frame["weight"] == 1.0).all()
    lon, lat = Transformer.from_crs(inc.crs, 4326, always_xy=True).transform(
        inc.frame["x"].to_numpy(), inc.frame["y"].to_numpy())
    in_city = (lon > -87.95) & (lon < -87.5) & (lat > 41.6) & (lat < 42.05)
    assert in_city.mean() > 0.99


def test_city_of_london_folder(london_dir):
    inc = load_incidents(london_dir / "crime_city_of_london")
    rep = inc.report
    assert rep.rows_in == 3_646
    assert len(rep.sources) == 5
    # README: 3,391 rows with coordinates; 9 of them repeat a crime id, month and type
    assert rep.rejected == {"missing_coordinates": 255, "duplicate": 9}
    assert rep.rows_used == 3_382
    assert rep.adds_up
    assert (rep.date_min, rep.date_max) == ("2018-10", "2019-02")
    assert inc.crs.to_epsg() == 27700


def test_psni_ids_repeat_across_months_without_being_duplicates(multiforce_dir):
    files = sorted(multiforce_dir.rglob("*-northern-ireland-street.csv.xz"))
    assert len(files) == 5
    inc = load_incidents(files)
    rep = inc.report
    assert rep.rows_in == 60_850
    assert rep.rejected == {"missing_coordinates": 346}
    ids = inc.frame.dropna(subset=["incident_id"])
    months_per_id = ids.groupby(ids["incident_id"].astype(str))["date_start"].nunique()
    assert (months_per_id > 1).sum() == 7_830
