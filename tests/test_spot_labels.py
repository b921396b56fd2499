"""Finding a spot: grid references, location labels that are never blank, the places a
spot covers, and recording points (police stations) left out of patrol lists."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import CRS

from rtm.errors import InputError
from rtm.grid import Grid
from rtm.gridref import grid_reference, grid_references
from rtm.periods import month_period
from rtm.recording_points import RecordingPoints, place_text
from rtm.samples import SAMPLES
from rtm.spot_labels import drop_recording_points, location_labels, places_by_spot
from rtm.weekly import ListSettings, build_list

BNG = CRS.from_epsg(27700)


@pytest.mark.parametrize("e, n, digits, ref", [
    (587870, 186330, 8, "TQ 8787 8633"),    # Southend
    (651409, 313177, 8, "TG 5140 1317"),    # the OS's own example (Caister water tower)
    (651409, 313177, 10, "TG 51409 13177"),
    (216600, 771200, 6, "NN 166 712"),      # Ben Nevis
    (0, 0, 4, "SV 00 00"),
    (699999, 1299999, 8, "JM 9999 9999"),
])
def test_grid_reference(e, n, digits, ref):
    assert grid_reference(e, n, digits) == ref


def test_grid_reference_outside_gb_or_other_crs():
    assert grid_reference(-1, 5) == "" and grid_reference(700_000, 5) == "" and grid_reference(np.nan, 1) == ""
    assert grid_references([587870.0], [186330.0], "EPSG:32616") == [""]
    with pytest.raises(ValueError):
        grid_reference(1, 1, 7)


def test_labels_fall_back_in_order_and_are_never_blank():
    hist = pd.DataFrame({"x": [1000.0, 9000.0], "y": [1000.0, 9000.0],
                         "location": ["On or near Clarence Road", None]})
    x = np.array([1000.0, 1300.0, 50_000.0, 50_000.0])
    y = np.array([1000.0, 1000.0, 50_000.0, 50_000.0])
    own = ["On or near High Street", "", "", ""]
    labels, sources = location_labels(own, x, y, np.full(4, 51.5), np.full(4, 0.7), BNG, hist)
    assert labels[:3] == ["On or near High Street", "near: On or near Clarence Road", "SV 5000 5000"]
    assert sources[:3] == ["data", "nearby", "grid reference"]
    # outside Great Britain: latitude and longitude
    labels, sources = location_labels([""], np.array([0.0]), np.array([0.0]), np.array([41.88209]),
                                      np.array([-87.62703]), "EPSG:32616", hist.iloc[:0])
    assert labels == ["41.88209, -87.62703"] and sources == ["coordinates"]


def test_places_covered_most_first():
    text = np.array(["On or near High Street", "On or near Clarence Road", "On or near High Street", "", "x"],
                    dtype=object)
    out = places_by_spot(np.array([0, 0, 0, 0, 1]), text, 3)
    assert out == ["High Street, Clarence Road", "x", ""]


def test_recording_points_table_and_match(tmp_path):
    table = RecordingPoints.default()
    assert set(table.active["place"]) >= {"Police Station", "* Police Station"}
    hits = table.match(["On or near Police Station", "On or near Chelmsford Police Station", "On or near Hospital",
                        None, "On or near Station Road", "on or near  police station"])
    assert (hits >= 0).tolist() == [True, True, False, False, False, True]
    assert place_text("On or near  High Street ") == "High Street"
    bad = tmp_path / "rp.csv"
    bad.write_text("place,recording_point\nPolice Station,perhaps\n")
    with pytest.raises(InputError, match="row 2"):
        RecordingPoints.from_csv(bad)
    bad.write_text("place\nPolice Station\n")
    with pytest.raises(InputError, match="recording_point"):
        RecordingPoints.from_csv(bad)
    own = tmp_path / "own.csv"
    own.write_text("place,recording_point,reason\nHospital,true,reported where treated\n")
    assert (RecordingPoints.from_csv(own).match(["On or near Hospital"]) == 0).all()


def test_recording_point_incidents_and_cells_left_out():
    grid = Grid(150.0, 0.0, 1500.0, 10, 10, BNG, np.ones((10, 10), bool), np.zeros((10, 10), np.int32), ("D",))
    hist = pd.DataFrame({"x": [100.0, 100.0, 800.0], "y": [100.0, 110.0, 800.0],
                         "location": ["On or near Police Station", "On or near Police Station", "On or near Road"]})
    kept, left = drop_recording_points(hist, grid, RecordingPoints.default())
    assert len(kept) == 1 and left.incidents == 2 and left.by_place == {"Police Station": 2}
    assert left.cells.sum() == 1 and left.labels == ["150m-E0-N0"]
    same, none = drop_recording_points(hist, grid, None)
    assert len(same) == 3 and none.incidents == 0


@pytest.fixture(scope="module")
def southend():
    return SAMPLES["southend"].load()


def test_southend_police_station_is_not_a_spot_unless_kept(southend):
    inc, areas = southend
    p = month_period("2019-01")
    settings = ListSettings(area_tolerance_m=150.0)
    kept = build_list(inc, areas, p, settings=settings, recording_points=None)
    assert kept.spots["location"].str.contains("Police Station").any()  # the issue's #1 in Southend
    lst = build_list(inc, areas, p, settings=settings)
    s = lst.spots
    assert not s["location"].str.contains("Police Station").any()
    assert not s["streets"].str.contains("Police Station").any()
    prov = lst.provenance["recording_points"]
    assert prov["incidents_left_out"] > 0 and prov["cells_left_out"] and prov["sha256"]
    assert any("recording points" in n for n in lst.notes)
    assert s["grid_ref"].str.fullmatch(r"TQ \d{4} \d{4}").all()
    assert (s["location"].str.len() > 0).all()
    assert s["streets"].str.len().gt(0).all()


def test_chicago_spots_have_labels_and_names(southend):
    from rtm.exports import spot_name

    inc, areas = SAMPLES["chicago"].load()
    lst = build_list(inc, areas, month_period("2019-02"))
    s = lst.spots
    assert len(s) and (s["location"].str.len() > 0).all()
    assert s["location"].str.fullmatch(r"4\d\.\d{5}, -8\d\.\d{5}").all()  # no text, no GB grid: lat, lon
    assert (s["grid_ref"] == "").all()
    name = spot_name(s.iloc[0])
    assert name.startswith(f"District {s.iloc[0]['district']} #1 41.")
