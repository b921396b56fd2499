"""Mann-Kendall against pymannkendall; the emerging hot spot rules on hand-made series; and
the classes of simulated harm end to end (a new hot spot, an intensifying one)."""

import numpy as np
import pandas as pd
import pytest

from rtm.emerging import (EHSA_CLASSES, EmergingSettings, add_class_column, classify_ehsa, classify_simple,
                          emerging_hotspots, series_periods)
from rtm.errors import InputError
from rtm.periods import month_period, week_period
from rtm.trend import MannKendall, mann_kendall
from pyproj import CRS

from rtm.grid import Grid



def make_grid(nrows, ncols, cs):
    mask = np.ones((nrows, ncols), bool)
    return Grid(cs, 500000.0, 200000.0, ncols, nrows, CRS.from_epsg(27700), mask,
                np.zeros((nrows, ncols), np.int32), ("A",))

KNOWN = [
    np.arange(12.0),                                   # rising without ties
    np.arange(12.0)[::-1],                             # falling
    np.array([1, 1, 2, 2, 2, 3, 1, 1, 5, 5.0]),         # ties
    np.array([3.0, 3, 3, 3, 3]),                       # constant
    np.array([0.2, -1.3, 0.5, 2.2, -0.4, 1.1, 0.9, 3.0, 2.5, 2.9, 4.1, 3.3]),
]


@pytest.mark.parametrize("series", KNOWN + [np.random.default_rng(s).normal(size=30).round(1) for s in range(5)])
def test_mann_kendall_matches_pymannkendall(series):
    pmk = pytest.importorskip("pymannkendall", reason="pymannkendall is a test dependency")
    want = pmk.original_test(series)
    got = mann_kendall(np.stack([series, series[::-1]], axis=1))
    assert got.s[0] == want.s and got.s[1] == -want.s
    assert got.var_s[0] == pytest.approx(want.var_s)
    assert got.z[0] == pytest.approx(want.z, abs=1e-12)
    assert got.p[0] == pytest.approx(want.p, abs=1e-12)
    assert got.tau[0] == pytest.approx(want.Tau)


def _classify(flags_hot, flags_cold=None, tau=0.0, p=1.0):
    hot = np.array(flags_hot, bool)[:, None]
    cold = np.zeros_like(hot) if flags_cold is None else np.array(flags_cold, bool)[:, None]
    trend = MannKendall(*(np.array([v]) for v in (0.0, 1.0, 0.0, p, tau)))
    return EHSA_CLASSES[int(classify_ehsa(hot, cold, trend)[0])]


def test_ehsa_rules_on_hand_made_series():
    F, T = False, True
    assert _classify([F] * 9 + [T]) == "new hot spot"
    assert _classify([F] * 7 + [T, T, T]) == "consecutive hot spot"
    assert _classify([T] * 10, tau=0.6, p=0.001) == "intensifying hot spot"
    assert _classify([T] * 10, tau=0.1, p=0.4) == "persistent hot spot"
    assert _classify([T] * 10, tau=-0.6, p=0.001) == "diminishing hot spot"
    assert _classify([T, F, T, F, F, T, F, F, F, T]) == "sporadic hot spot"
    assert _classify([F, F, T, F, F, T, F, F, F, T], [T] + [F] * 9) == "oscillating hot spot"
    assert _classify([T] * 9 + [F]) == "historical hot spot"
    assert _classify([F] * 10) == "no pattern"
    assert _classify([T, F, T] + [F] * 7) == "no pattern"          # hot before, not now, under 90%
    assert _classify([F] * 10, [F] * 9 + [T]) == "new cold spot"
    assert _classify([F] * 10, [T] * 10, tau=-0.5, p=0.01) == "intensifying cold spot"
    assert _classify([F] * 10, [T] * 10, tau=0.5, p=0.01) == "diminishing cold spot"
    # 90% of 10 periods is 9: nine hot periods with the last one make a trend class
    assert _classify([F] + [T] * 9, tau=0.1, p=0.5) == "persistent hot spot"
    assert _classify([F, F] + [T] * 8) == "consecutive hot spot"


def test_simple_classes():
    F, T = False, True

    def one(h, c=None):
        hot = np.array(h, bool)[:, None]
        cold = np.zeros_like(hot) if c is None else np.array(c, bool)[:, None]
        return int(classify_simple(hot, cold)[0])

    assert one([T] * 9 + [F]) == 1                    # persistent
    assert one([F] * 8 + [F, T]) == 2                 # emerging: hot in the last 20% only
    assert one([T, F, T] + [F] * 7) == 3              # former
    assert one([T, F, T, F, F, F, F, F, T, F]) == 4   # intermittent
    assert one([F] * 10) == 0
    assert one([F] * 10, [F] * 8 + [T, T]) == -2      # emerging cold


def _frame(grid, rows):
    """Incidents at cell centres: rows of (row, col, date, weight)."""
    cx, cy = grid.centres()
    r, c, d, w = zip(*rows)
    d = pd.to_datetime(list(d))
    return pd.DataFrame({"x": cx[list(r), list(c)], "y": cy[list(r), list(c)], "date_start": d, "date_end": d,
                         "weight": np.array(w, float)})


def test_new_and_intensifying_hot_spots_from_simulated_harm():
    grid = make_grid(30, 30, 100.0)
    period = week_period("2019-03-04")
    weeks = series_periods(period, 12)
    rng = np.random.default_rng(5)
    rows = []
    for k, wk in enumerate(weeks):
        day = wk.start + pd.Timedelta(hours=30)
        for _ in range(40):  # background harm everywhere, weight 1
            rows.append((rng.integers(30), rng.integers(30), day, 1.0))
        for dr in (-1, 0, 1):  # a block that grows every week
            for dc in (-1, 0, 1):
                rows.append((6 + dr, 6 + dc, day, 20.0 + 15 * k))
        if k == len(weeks) - 1:  # a block new in the last week
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rows.append((22 + dr, 22 + dc, day, 200.0))
    em = emerging_hotspots(grid, _frame(grid, rows), period, EmergingSettings(periods=12))
    names = em.names()
    assert names[6, 6] == "intensifying hot spot"
    assert names[22, 22] == "new hot spot"
    assert em.names("simple")[6, 6] == "persistent hot spot"
    assert em.names("simple")[22, 22] == "emerging hot spot"
    assert (em.ehsa[~grid.mask] == 0).all()
    frame = em.frame()
    assert set(frame["ehsa_class"]) >= {"intensifying hot spot", "new hot spot"}
    # the weekly list's column: a spot's class from its cells
    spots = pd.DataFrame({"spot_id": ["a", "b"]})
    labels = grid.cell_labels(np.array([6, 22]), np.array([6, 22]))
    out = add_class_column(spots.assign(spot_id=list(labels)), {labels[0]: [labels[0]], labels[1]: [labels[1]]}, em)
    assert out["hotspot_class"].tolist() == ["intensifying hot spot", "new hot spot"]


def test_months_without_any_incident_are_missing_not_zero():
    grid = make_grid(10, 10, 100.0)
    period = month_period("2019-03")
    rows = [(2, 2, p.start + pd.Timedelta(days=3), 5.0) for p in series_periods(period, 12)
            if p.start.month not in (8, 9)]
    em = emerging_hotspots(grid, _frame(grid, rows), period)
    assert len(em.periods) == 10 and [p.key for p in em.skipped] == ["2018-08", "2018-09"]


def test_too_few_periods_is_a_clear_error():
    grid = make_grid(10, 10, 100.0)
    period = week_period("2019-03-04")
    rows = [(2, 2, period.start - pd.Timedelta(days=3), 5.0)]
    with pytest.raises(InputError, match="too few for emerging hot spots"):
        emerging_hotspots(grid, _frame(grid, rows), period)
    with pytest.raises(InputError, match="too few"):
        EmergingSettings(periods=2)


def test_list_column_says_when_history_is_too_short():
    from rtm.samples import SAMPLES
    from rtm.weekly import ListSettings, build_list
    from rtm.emerging import with_hotspot_class

    inc, areas = SAMPLES["southend"].load()
    first = inc.frame["date_start"].min()
    period = month_period(first + pd.DateOffset(months=2))
    lst = with_hotspot_class(build_list(inc, areas, period, settings=ListSettings(area_tolerance_m=150.0)), inc)
    assert (lst.spots["hotspot_class"] == "not enough history").all()
    assert any("too few for emerging hot spots" in n for n in lst.notes)
    later = with_hotspot_class(build_list(inc, areas, month_period("2019-01"),
                                          settings=ListSettings(area_tolerance_m=150.0)), inc)
    assert set(later.spots["hotspot_class"]) <= set(EHSA_CLASSES.values())
    assert "hotspot_class" in later.provenance["columns"]
