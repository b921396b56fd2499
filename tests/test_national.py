"""National lists force by force: areas made from points, memory planning, Dask = serial."""

from __future__ import annotations

import re
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS

from rtm.areas import Areas
from rtm.errors import InputError
from rtm.national import NationalSettings, find_forces, national_list, plan_pieces
from rtm.periods import month_period
from rtm.point_area import area_from_points, area_mask_from_points
from rtm.weekly import ListSettings

BNG = CRS.from_epsg(27700)


def _ring(cx, cy, radius, n):
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return cx + radius * np.cos(a), cy + radius * np.sin(a)


def test_area_from_points_fills_holes_and_keeps_what_is_near():
    # incidents every ~200 m on a ring of 3 km radius: the 6 km wide middle has none
    x, y = _ring(550_000, 180_000, 3000, 100)
    area = area_from_points(x, y, BNG, "force", distance_m=500).union
    assert area.contains(shapely.Point(550_000, 180_000))  # the hole is filled
    assert area.contains(shapely.Point(550_000 + 3000 + 200, 180_000))  # within the distance
    assert not area.intersects(shapely.Point(550_000 + 3000 + 1200, 180_000))  # beyond it
    assert all(area.contains(shapely.Point(a, b)) for a, b in zip(x, y))


def test_a_few_strays_far_away_are_dropped_but_a_village_nearby_stays():
    rng = np.random.default_rng(0)
    town = rng.normal([500_000, 200_000], 1500, size=(5000, 2))
    village = rng.normal([504_000 + 4000, 200_000], 100, size=(30, 2))  # 30 incidents, 4 km beyond the town
    strays = np.array([[300_000, 400_000]] * 3)  # 3 incidents 280 km away (0.06%)
    pts = np.vstack([town, village, strays])
    areas = area_from_points(pts[:, 0], pts[:, 1], BNG, "force")
    area = areas.union
    assert areas.names == ["force"]
    assert area.contains(shapely.Point(508_000, 200_000))
    assert not area.intersects(shapely.Point(300_000, 400_000))
    assert area.bounds[2] - area.bounds[0] < 30_000
    # with no share required the strays are kept: the area spans the country
    mask, *_ = area_mask_from_points(pts[:, 0], pts[:, 1], min_share=0)
    assert mask.shape[0] * 500 > 190_000


def test_an_area_wider_than_the_limit_is_cut_into_lettered_100km_squares():
    # two towns 400 km apart with half the incidents each (a force spread over the country)
    rng = np.random.default_rng(1)
    pts = np.vstack([rng.normal([530_000, 180_000], 800, (500, 2)), rng.normal([380_000, 560_000], 800, (500, 2))])
    areas = area_from_points(pts[:, 0], pts[:, 1], BNG, "btp")
    assert areas.names == ["btp NY", "btp TQ"]  # Cumbria and London
    assert all(g.bounds[2] - g.bounds[0] <= 100_000 for g in areas.frame.geometry)


def test_area_from_points_refuses_no_points_and_bad_settings():
    with pytest.raises(InputError, match="no incident has coordinates"):
        area_mask_from_points([np.nan], [np.nan])
    with pytest.raises(InputError, match="distance"):
        area_mask_from_points([1.0], [1.0], distance_m=0)


def _two_districts():
    frame = gpd.GeoDataFrame({"name": ["east", "west"]},
                             geometry=[shapely.box(600_000, 100_000, 620_000, 120_000),
                                       shapely.box(300_000, 300_000, 320_000, 320_000)], crs=BNG)
    return Areas(frame)


def test_a_force_too_big_for_one_grid_is_listed_district_by_district():
    areas = _two_districts()
    s = ListSettings(spot_size=50)
    pieces, whole = plan_pieces(areas, s)  # 300 km x 220 km at 50 m: about 5 GB as one grid
    assert not whole and [p.names for p in pieces] == [["east"], ["west"]]
    pieces, whole = plan_pieces(areas, ListSettings(spot_size=50, max_grid_mb=10_000))
    assert whole and pieces == [areas]


def test_a_grid_that_cannot_fit_the_machine_is_refused_with_the_figure_and_the_fix():
    with pytest.raises(InputError) as err:
        plan_pieces(_two_districts(), ListSettings(spot_size=50), task_mb=20.0, name="kent")
    text = str(err.value)
    assert "kent" in text and "largest district" in text and "MB" in text
    assert "use cells of at least" in text and "max_grid_mb" in text


def test_find_forces_groups_police_uk_files_by_force(tmp_path):
    for name in ("2019-01-kent-street.csv.xz", "2019-02-kent-street.csv.xz", "2019-01-city-of-london-street.csv"):
        (tmp_path / name).write_text("x")
    forces = find_forces([tmp_path])
    assert [f.name for f in forces] == ["city-of-london", "kent"]
    assert [p.rsplit("/", 1)[-1] for p in forces[1].incidents] == ["2019-01-kent-street.csv.xz",
                                                                   "2019-02-kent-street.csv.xz"]
    (tmp_path / "crimes-street.csv").write_text("x")
    with pytest.raises(InputError, match="not a police.uk street file"):
        find_forces([tmp_path])


@pytest.mark.realdata
def test_dask_list_and_backtest_equal_the_serial_ones(multiforce_dir):
    from rtm.distributed import connect
    from rtm.national_backtest import national_backtest

    forces = [f for f in find_forces([multiforce_dir]) if f.name in ("city-of-london", "cleveland")]
    settings = NationalSettings(list=ListSettings(spot_size=100))
    period = month_period("2019-03")
    serial = national_list(forces, period, settings)
    seen = []
    months = [month_period("2019-01"), month_period("2019-02")]
    bt_serial = national_backtest(forces[:1], months, settings)
    with connect(workers=2, processes=False) as client:
        assert len(client.scheduler_info(n_workers=-1)["workers"]) == 2
        on_dask = national_list(forces, period, settings, client=client, progress=lambda d, n, w: seen.append(d))
        bt_dask = national_backtest(forces[:1], months, settings, client=client)
    pd.testing.assert_frame_equal(bt_serial.metrics, bt_dask.metrics)
    assert set(bt_serial.metrics["period"]) == {"2019-01", "2019-02"} and (bt_serial.forces["pieces"] == 1).all()
    assert sorted(seen) == [1, 2]
    assert len(serial.spots) == 40 and set(serial.spots["force"]) == {"city-of-london", "cleveland"}
    pd.testing.assert_frame_equal(serial.spots, on_dask.spots)
    assert (serial.forces["incidents"] == on_dask.forces["incidents"]).all()


@pytest.mark.realdata
def test_rtm_national_writes_the_list_and_refuses_a_missing_folder(multiforce_dir, tmp_path):
    from click.testing import CliRunner

    from rtm.cli import main

    data = tmp_path / "data"
    data.mkdir()
    for f in multiforce_dir.rglob("*-city-of-london-street.csv.xz"):
        (data / f.name).symlink_to(f)
    out = tmp_path / "out" / "national.csv"
    res = CliRunner().invoke(main, ["national", "--data", str(data), "--month", "2019-03", "--out", str(out)])
    assert res.exit_code == 0, res.output
    spots = pd.read_csv(out, encoding="utf-8-sig")
    assert len(spots) == 20 and (spots["force"] == "city-of-london").all()
    assert pd.read_csv(out.with_name("national_forces.csv"), encoding="utf-8-sig")["incidents"].iloc[0] > 3000
    res = CliRunner().invoke(main, ["national", "--data", str(tmp_path / "nope"), "--month", "2019-03",
                                    "--out", str(out)])
    assert res.exit_code == 2 and "does not exist" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["national", "--data", str(data), "--backtest", "2019-02", "--out", str(out)])
    assert res.exit_code == 2 and "--backtest" in res.output and "FIRST:LAST" in res.output


@pytest.mark.realdata
def test_district_by_district_lists_the_same_spots_as_one_grid(essex_dir):
    from rtm.national import Force, force_list

    files = tuple(str(essex_dir / "crime" / f"{m}-essex-street.csv") for m in ("2018-11", "2018-12", "2019-01"))
    essex = Force("essex", files, str(essex_dir / "boundaries"), "LSOA11NM")
    one = force_list(essex, month_period("2019-02"), NationalSettings(list=ListSettings(max_grid_mb=4096)))
    # 25 MB is less than Essex's grid at 150 m (about 53 MB) but more than any district's
    each = force_list(essex, month_period("2019-02"), NationalSettings(list=ListSettings(max_grid_mb=25)))
    assert not any("each district was listed" in n for n in one.notes)
    assert any("each district was listed on its own grid" in n for n in each.notes)
    assert each.cells < one.cells / 3  # the largest district's grid, not the county's
    assert len(each.spots) == len(one.spots) == 14 * 20
    for d, a in one.spots.groupby("district"):
        b = each.spots[each.spots["district"] == d]
        # the same places, in nearly the same order: only harm spread across a district edge differs
        assert len(set(a["spot_id"]) & set(b["spot_id"])) >= 17, d
        assert list(a["spot_id"])[:3] == list(b["spot_id"])[:3], d


def test_one_grid_over_the_country_is_refused_naming_the_force_by_force_run():
    from rtm.grid import check_grid_size, grid_memory_mb

    cells, mb = grid_memory_mb((0, 0, 600_000, 900_000), 50)
    assert cells == 12_001 * 18_001 and mb > 4096
    with pytest.raises(InputError) as err:
        check_grid_size((0, 0, 600_000, 900_000), 50)
    assert f"{mb:,.0f} MB" in err.value.problem and "rtm national" in err.value.fix


def test_a_bad_file_on_a_dask_worker_process_is_the_same_clear_error(tmp_path, monkeypatch):
    import pickle
    import types

    # Worker processes are spawned and re-run the parent's __main__; after the app's tests that
    # can be streamlit_app.py (AppTest runs it as __main__). The CLI's __main__ is the rtm script.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))

    from rtm.distributed import connect

    err = InputError("a.csv", "bad", "fix it", field="Month")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is InputError and str(back) == str(err)
    (tmp_path / "2019-01-kent-street.csv").write_text("hello,world\n1,2\n")
    forces = find_forces([tmp_path])
    with pytest.raises(InputError) as serial:
        national_list(forces, month_period("2019-02"))
    with connect(workers=1, processes=True) as client:
        with pytest.raises(InputError) as on_dask:
            national_list(forces, month_period("2019-02"), client=client)
    assert str(on_dask.value) == str(serial.value) and "2019-01-kent-street.csv" in str(on_dask.value)


@pytest.mark.realdata
def test_national_tuning_on_dask_equals_the_serial_one(multiforce_dir, tmp_path):
    from click.testing import CliRunner

    from rtm.cli import main
    from rtm.distributed import connect
    from rtm.national_tune import national_tune

    forces = [f for f in find_forces([multiforce_dir]) if f.name in ("city-of-london", "cleveland")]
    settings = NationalSettings(list=ListSettings(spot_size=150))
    serial = national_tune(forces, settings)
    seen = []
    with connect(workers=2, processes=False) as client:
        assert len(client.scheduler_info(n_workers=-1)["workers"]) == 2
        on_dask = national_tune(forces, settings, client=client, progress=lambda d, n, w: seen.append(w))
    cost = ["seconds", "peak_rss_mb"]
    pd.testing.assert_frame_equal(serial.forces.drop(columns=cost), on_dask.forces.drop(columns=cost))
    assert len(seen) == 2 and {w.split()[0] for w in seen} == {"city-of-london", "cleveland"}
    f = serial.forces.set_index("force")
    # five months a force: the first is history only, then two validate and two test
    assert (f["validation"] == "2018-11..2018-12").all() and (f["test"] == "2019-01..2019-02").all()
    assert f["chosen"].str.startswith("h12 ").all()  # the only window the data covers
    assert (f["oracle"] >= f[["tuned", "shipped_default", "naive"]].max(axis=1)).all()
    s = serial.summary().set_index("ranking")
    assert s.loc["tuned", "tuned"] == 2 and s.loc["naive", "mean_vs_naive"] == 0
    assert s.loc["tuned", "mean_capture"] == pytest.approx(f["tuned"].mean())
    # the command: a row a force and the summary, and spans that cannot be used refused up front
    data = tmp_path / "data"
    data.mkdir()
    for f in multiforce_dir.rglob("*-city-of-london-street.csv.xz"):
        (data / f.name).symlink_to(f)
    out = tmp_path / "tuning.csv"
    res = CliRunner().invoke(main, ["national", "--data", str(data), "--tune", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "city-of-london" in res.output and "National summary" in res.output
    assert len(pd.read_csv(out, encoding="utf-8-sig")) == 1
    assert len(pd.read_csv(tmp_path / "tuning_summary.csv", encoding="utf-8-sig")) == 5
    res = CliRunner().invoke(main, ["national", "--data", str(data), "--tune", "--validate", "2018-11:2018-12",
                                    "--test", "2018-12:2019-02", "--out", str(out)])
    assert res.exit_code == 2 and "--test" in res.output and "Traceback" not in res.output


def test_a_force_with_no_usable_row_is_named_and_a_row_of_the_tuning(tmp_path):
    """Was: one force whose rows all lacked coordinates stopped `rtm national` with "area from
    points: no incident has coordinates" (no force named), also with --tune, where
    docs/national.md promises a row saying why."""
    from pathlib import Path

    from click.testing import CliRunner

    from rtm.cli import main

    sample = Path(__file__).resolve().parents[1] / "sample_geo" / "southend" / "crime"
    data = tmp_path / "data"
    data.mkdir()
    for month in ("2019-01", "2019-02"):
        (data / f"{month}-aaa-street.csv").write_bytes((sample / f"{month}-southend-street.csv").read_bytes())
    header = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
              "Crime type,Last outcome category,Context")
    (data / "2019-02-zed-street.csv").write_text(
        header + "\n" + "".join(f"z{i},2019-02,Zed,Zed,,,On or near X,E0,Zed 001A,Burglary,,\n" for i in range(5)))
    res = CliRunner().invoke(main, ["national", "--data", str(data), "--month", "2019-02",
                                    "--out", str(tmp_path / "out" / "national.csv")])
    assert res.exit_code == 2
    assert "force zed: none of the force's 5 rows (2019-02-zed-street.csv) is usable in its area (rejected: " \
           "missing_coordinates 5)" in res.output
    res = CliRunner().invoke(main, ["national", "--data", str(data), "--tune",
                                    "--out", str(tmp_path / "out" / "tuning.csv")])
    assert res.exit_code == 0, res.output
    rows = pd.read_csv(tmp_path / "out" / "tuning.csv").set_index("force")
    assert list(rows.index) == ["aaa", "zed"] and rows.loc["zed", "incidents"] == 0
    assert rows.loc["zed", "notes"].startswith("Not tuned: force zed: none of the force's 5 rows")
    # without the force that has no usable row: the force table's counts add up
    (data / "2019-02-zed-street.csv").unlink()
    (data / "copy-of").mkdir()
    (data / "copy-of" / "2019-02-aaa-street.csv").write_bytes((data / "2019-02-aaa-street.csv").read_bytes())
    res = CliRunner().invoke(main, ["national", "--data", str(data), "--month", "2019-02",
                                    "--out", str(tmp_path / "out" / "national.csv")])
    assert res.exit_code == 0, res.output
    f = pd.read_csv(tmp_path / "out" / "national_forces.csv", encoding="utf-8-sig").iloc[0]
    outside = int(re.search(r"([\d,]+) incidents outside the area", f["notes"]).group(1).replace(",", "")) \
        if "incidents outside the area" in f["notes"] else 0
    assert f["rows_in"] == f["rows_rejected"] + f["incidents"] + outside
    assert "duplicate" in f["rejected"] and "has the same content as" in f["notes"]
