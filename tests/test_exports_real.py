"""The Essex February 2019 list, all 14 districts, as supervisors receive it (../shared/data)."""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd
import pyogrio
import pytest

from rtm.areas import load_areas
from rtm.exports import write_exports
from rtm.incidents import load_incidents
from rtm.periods import month_period
from rtm.recording_points import RecordingPoints
from rtm.weekly import ListSettings, build_list
from rtm.weights import HarmWeights

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture(scope="module")
def essex_list(essex_dir):
    # LSOA names ("Basildon 001A") are dissolved into districts by the text before the code
    areas = load_areas(essex_dir / "boundaries" / "essex_southend_thurrock_lsoa2011.geojson", "LSOA11NM")
    inc = load_incidents([essex_dir / "crime"], weights=HarmWeights.cchi(), areas=areas, area_tolerance_m=150.0)
    return build_list(inc, areas, month_period("2019-02"), settings=ListSettings(area_tolerance_m=150.0)), areas


def test_no_listed_spot_is_a_police_station(essex_list):
    lst, areas = essex_list
    s = lst.spots
    assert len(areas.names) == 14 and len(s) == 280
    points = RecordingPoints.default()
    assert (points.match(s["location"].str.replace("near: ", "", regex=False)) < 0).all()
    for covered in s["streets"]:
        assert (points.match(["On or near " + p.strip() for p in covered.split(",")]) < 0).all(), covered
    assert lst.provenance["recording_points"]["incidents_left_out"] > 1000
    assert (s["location"].str.len() > 0).all() and s["grid_ref"].str.fullmatch(r"T[LMQR] \d{4} \d{4}").all()


def test_briefing_and_files_as_the_supervisors_get_them(essex_list, tmp_path):
    import pypdf

    lst, areas = essex_list
    paths = write_exports(lst.spots, lst.provenance, tmp_path, stem="essex", grid=lst.grid, surfaces=lst.surfaces(),
                          districts=areas.frame, places=lst.places, generated="2026-12-01")
    pages = [p.extract_text() for p in pypdf.PdfReader(paths["briefing_pdf"]).pages]
    per_district = Counter()
    for text in pages:
        if "Where: location" in text:
            per_district[re.search(r"\n(.+)\nmonth February 2019\n", text).group(1)] += 1
    assert set(per_district) == set(areas.names) and max(per_district.values()) <= 3
    text = re.sub(r"\s+", " ", "\n".join(pages))
    assert len(set(re.findall(r"T[LMQR] \d{4} \d{4}", text))) >= 270
    assert all(f"Page {k} of {len(pages)}" in p for k, p in enumerate(pages, start=1))
    table = pd.read_csv(paths["csv"])
    assert len(table) == 280 and table["period"].eq("month February 2019").all()
    gpx = pyogrio.read_dataframe(paths["gpx"], layer="waypoints")
    assert len(gpx) == 280
    kml_points = sum(int((pyogrio.read_dataframe(paths["kml"], layer=name).geometry.geom_type == "Point").sum())
                     for name, _ in pyogrio.list_layers(paths["kml"]))
    assert kml_points == 280
