"""Patrol dosage on patrols simulated along streets with known minutes in known spots: ping
noise, gaps, duplicate and out-of-order pings, pings from another day; GPX and CSV; bad files."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from rtm import coords
from rtm.dosage import CAVEAT, DoseSettings, dosage, patrolled_harm
from rtm.errors import InputError
from rtm.patrols import read_patrols
from rtm.periods import week_period

BNG = coords.BNG
PERIOD = week_period("2019-03-04")
CS = 150.0
# three spots along an east-west street (y = 187,075) and one on a side street
CENTRES = [(583725.0, 187125.0), (584025.0, 187125.0), (584325.0, 187125.0), (584025.0, 187425.0)]


def list_spots():
    polys = [shapely.box(x - CS / 2, y - CS / 2, x + CS / 2, y + CS / 2) for x, y in CENTRES]
    return gpd.GeoDataFrame({"rank": [1, 2, 3, 1], "spot_id": [f"S{i}" for i in range(4)],
                             "district": ["A", "A", "A", "B"], "patrol_visits_per_day": [2, 1, 1, 1],
                             "patrol_minutes": 15}, geometry=polys, crs=BNG)


def walk(route, start, speed=1.3, dwell=None, step_s=1.0):
    """Positions every second along ``route`` (list of points); ``dwell`` maps a route index
    to minutes spent pacing around that point (within 30 m) before going on."""
    rng = np.random.default_rng(0)
    t, out = pd.Timestamp(start), []
    for i in range(len(route) - 1):
        (x0, y0), (x1, y1) = route[i], route[i + 1]
        if dwell and i in dwell:
            for _ in range(int(dwell[i] * 60 / step_s)):
                out.append((t, x0 + rng.uniform(-30, 30), y0 + rng.uniform(-30, 30)))
                t += pd.Timedelta(seconds=step_s)
        n = max(1, int(np.hypot(x1 - x0, y1 - y0) / speed / step_s))
        for k in range(n):
            out.append((t, x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n))
            t += pd.Timedelta(seconds=step_s)
    out.append((t, *route[-1]))
    return pd.DataFrame(out, columns=["time", "x", "y"])


def truth(track, spots, drop=None):
    """Minutes inside each spot polygon from the 1-second track (the true dose)."""
    geoms = np.asarray(spots.geometry.values, dtype=object)[:, None]
    inside = shapely.contains_xy(geoms, track["x"].to_numpy()[None, :], track["y"].to_numpy()[None, :])
    keep = np.ones(len(track), bool) if drop is None else ~drop
    return (inside & keep).sum(axis=1) / 60.0


STREET_Y = 187125.0


def silence(times, start, end):
    return (times > pd.Timestamp(f"2019-03-05 {start}")) & (times < pd.Timestamp(f"2019-03-05 {end}"))


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    spots = list_spots()
    folder = tmp_path_factory.mktemp("patrols")
    rng = np.random.default_rng(42)
    # unit P1 (CSV, British National Grid): along the street, 17 min in S0, 8 min in S1, 20 min in S2
    route = [(583400.0, STREET_Y), CENTRES[0], CENTRES[1], CENTRES[2], (584700.0, STREET_Y)]
    t1 = walk(route, "2019-03-05 14:00", dwell={1: 17, 2: 8, 3: 20})
    # unit P2 (GPX): up the side street into S3 for 16 minutes, twice in the day
    side = [(584025.0, 186900.0), CENTRES[3], (584025.0, 187800.0)]
    t2 = pd.concat([walk(side, "2019-03-06 22:10", dwell={1: 16}), walk(side[::-1], "2019-03-07 03:00",
                                                                        dwell={1: 16})], ignore_index=True)
    # radio pings every 15 s with 6 m noise; a 3-minute silence inside S2 (bridged: still one
    # visit), an 8-minute one inside S0 (a hole in the record: not credited, and it splits the
    # visit), duplicates, shuffled rows, and a day outside the week
    pings1 = t1.iloc[::15].copy()
    pings1 = pings1[~silence(pings1["time"], "14:45", "14:48") & ~silence(pings1["time"], "14:08", "14:16")]
    pings1[["x", "y"]] += rng.normal(0, 6, (len(pings1), 2))
    pings1 = pd.concat([pings1, pings1.sample(25, random_state=1)])
    other_day = walk(route, "2019-03-12 10:00", dwell={1: 30}).iloc[::15]
    pings1 = pd.concat([pings1, other_day]).sample(frac=1, random_state=3)
    csv = pd.DataFrame({"Officer ID": "P1", "Timestamp": pings1["time"].dt.strftime("%d/%m/%Y %H:%M:%S"),
                        "Easting": pings1["x"].round(1).astype(str), "Northing": pings1["y"].round(1).astype(str)})
    csv.loc[len(csv)] = ["P1", "not a time", "584000", "187000"]
    csv.loc[len(csv)] = ["P1", "05/03/2019 15:00:00", "", "187000"]
    csv.to_csv(folder / "radio.csv", index=False)
    # GPX every 5 s in UTC (GMT in March, so local = UTC), 4 m noise
    import gpxpy.gpx

    gpx = gpxpy.gpx.GPX()
    track = gpxpy.gpx.GPXTrack(name="PC 1234")
    seg = gpxpy.gpx.GPXTrackSegment()
    p2 = t2.iloc[::5]
    lon, lat = coords.project(p2["x"].to_numpy() + rng.normal(0, 4, len(p2)),
                              p2["y"].to_numpy() + rng.normal(0, 4, len(p2)), BNG, coords.WGS84)
    for when, lo, la in zip(p2["time"], lon, lat):
        seg.points.append(gpxpy.gpx.GPXTrackPoint(la, lo, time=when.tz_localize("UTC").to_pydatetime()))
    track.segments.append(seg)
    gpx.tracks.append(track)
    (folder / "pc1234.gpx").write_text(gpx.to_xml(), encoding="utf-8")
    drop = silence(t1["time"], "14:08", "14:16").to_numpy()  # not credited: longer than the 5-minute ping gap
    return spots, folder, truth(t1, spots), truth(t1, spots, drop), truth(t2, spots)


def test_minutes_within_one_minute_of_the_truth(simulated):
    spots, folder, true1, true1_recorded, true2 = simulated
    patrols = read_patrols([folder / "radio.csv", folder / "pc1234.gpx"], BNG)
    rep = patrols.report
    assert rep.rows_in == rep.rows_used + sum(rep.rejected.values())
    assert rep.rejected["duplicate"] == 25 and rep.rejected["no_time"] == 1 and rep.rejected["no_location"] == 1
    d = dosage(spots, patrols, PERIOD)
    got = d.spots.set_index("spot_id")["minutes"]
    # P1: S0 17 min + walking through, less the 8-minute hole; S1 8 + through; S2 20 + through
    assert true1[0] > 17 and true1[2] > 20 and true1_recorded[0] < true1[0] - 7
    want = true1_recorded + true2  # P2's side street crosses S1 on its way to S3
    assert want[1] > true1_recorded[1] and want[3] > 30
    for i in range(4):
        assert abs(got[f"S{i}"] - want[i]) <= 1.0, (i, got[f"S{i}"], want[i])
    # visits: S2 counts (>= 15 min; the 3-minute silence does not split it); S0 is split in
    # two short visits by its 8-minute hole; S1 is short; S3 twice (P2), S1 crossed twice by P2
    v = d.visits.groupby("spot_id")
    assert v.size().to_dict() == {"S0": 2, "S1": 3, "S2": 1, "S3": 2}
    counted = d.visits.groupby("spot_id")["counts"].sum().to_dict()
    assert counted == {"S0": 0, "S1": 0, "S2": 1, "S3": 2}
    # the pings of 12 March are outside the week and count nowhere
    assert d.visits["start"].max() < PERIOD.end


def test_dose_share_per_day_spot_district(simulated):
    spots, folder, *_ = simulated
    d = dosage(spots, read_patrols([folder / "radio.csv", folder / "pc1234.gpx"], BNG), PERIOD)
    days = d.days.set_index(["spot_id", "day"])
    assert len(d.days) == 4 * 7
    assert days.loc[("S0", pd.Timestamp("2019-03-05")), "share"] == 0.0   # two short visits of 2 suggested
    assert days.loc[("S2", pd.Timestamp("2019-03-05")), "share"] == 1.0
    assert days.loc[("S3", pd.Timestamp("2019-03-06")), "share"] == 1.0   # 22:10 visit
    assert days.loc[("S3", pd.Timestamp("2019-03-07")), "share"] == 1.0   # 03:00 visit, the next day
    spot = d.spots.set_index("spot_id")
    assert spot.loc["S2", "share"] == pytest.approx(1 / 7)
    assert spot.loc["S3", "share"] == pytest.approx(2 / 7)
    dist = d.districts.set_index("district")
    assert dist.loc["A", "spots"] == 3 and dist.loc["A", "spots_visited"] == 3
    assert dist.loc["B", "share"] == pytest.approx(2 / 7)


def test_settings_change_visits():
    spots = list_spots()
    t = walk([(583400.0, STREET_Y), CENTRES[0], (583400.0, STREET_Y)], "2019-03-05 10:00", dwell={1: 12})
    t2 = walk([(583400.0, STREET_Y), CENTRES[0], (583400.0, STREET_Y)], t["time"].iloc[-1] + pd.Timedelta(minutes=1),
              dwell={1: 6})
    track = pd.concat([t, t2]).iloc[::10]
    from rtm.patrols import PatrolReport, Patrols

    p = Patrols(track.assign(unit="U", source_file="x", source_row=0), BNG, PatrolReport(), pd.DataFrame())
    short = dosage(spots, p, PERIOD, DoseSettings(visit_gap_min=2))
    long = dosage(spots, p, PERIOD, DoseSettings(visit_gap_min=10))
    assert len(short.visits) == 2 and not short.visits["counts"].any()
    assert len(long.visits) == 1 and long.visits["counts"].all()
    with pytest.raises(InputError, match="target_min"):
        DoseSettings(target_min=0)


@pytest.mark.parametrize("content, match", [
    ("when,x,y\n2019-03-05 10:00,584000,187000\n", r"pings.csv: no column says which officer or unit"),
    ("unit,x,y\nA,584000,187000\n", r"pings.csv: no column holds the time"),
    ("unit,time,place\nA,2019-03-05 10:00,here\n", r"pings.csv: no coordinate columns"),
    ("unit,time,x,y\nA,2019-03-05 10:00,2500000,9000000\n", r"coordinate system cannot be told"),
    ("unit,time,x,y\nA,nonsense,584000,187000\n", r"no patrol ping is usable .*time is missing"),
])
def test_bad_csv_files_get_clear_messages(tmp_path, content, match):
    f = tmp_path / "pings.csv"
    f.write_text(content)
    with pytest.raises(InputError, match=match) as err:
        read_patrols([f], BNG)
    assert "Fix:" in str(err.value)


def test_bad_gpx_files_get_clear_messages(tmp_path):
    f = tmp_path / "track.gpx"
    f.write_text("<gpx><trk><trkseg><trkpt lat='x' lon='1'/></trkseg></trk>")
    with pytest.raises(InputError, match=r"track.gpx: the file is not valid GPX"):
        read_patrols([f], BNG)
    f.write_text('<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
                 '<wpt lat="51.5" lon="0.7"/></gpx>')
    with pytest.raises(InputError, match="no track points"):
        read_patrols([f], BNG)
    with pytest.raises(InputError, match="does not exist"):
        read_patrols([tmp_path / "missing.gpx"], BNG)


def test_harm_in_patrolled_and_unpatrolled_spots(simulated):
    spots, folder, *_ = simulated
    d = dosage(spots, read_patrols([folder / "radio.csv", folder / "pc1234.gpx"], BNG), PERIOD)
    harm = pd.Series({"S0": 10.0, "S1": 0.0, "S2": 4.0, "S3": 1.0})
    table = patrolled_harm([("w1", d, harm), ("w2", d, harm * 2)], dose_share=0.2)
    allw = table[table["period"] == "all"].set_index("group")
    assert allw.loc["patrolled", "spots"] == 2 and allw.loc["patrolled", "harm"] == pytest.approx(3.0)  # S3
    assert allw.loc["unpatrolled", "harm"] == pytest.approx(42.0)
    assert "not a trial" in CAVEAT
