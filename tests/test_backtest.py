"""The back-test's measures and its rolling origin, on cases small enough to work out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings as hsettings, strategies as st

from rtm.areas import Areas
from rtm.backtest import (BacktestSettings, period_lags, period_scores, phs_kernel, phs_surface, run_backtest,
                          run_holdout)
from rtm.errors import InputError
from rtm.grid import Grid
from rtm.incidents import Incidents
from rtm.metrics import best_capture, capture_metrics, kept_share, rank_biased_overlap, ranked_cells
from rtm.periods import month_period, periods_between, week_period

# -- pure measures -------------------------------------------------------------------------


def test_capture_metrics_by_hand():
    # 10 cells, 2 listed (20% of the area); 8 incidents, 2 caught; the best 2 cells held 6
    m = capture_metrics(2, 8, 10.0, 40.0, 2, 10, 6, 30.0)
    assert m["hit_rate"] == pytest.approx(0.25)
    assert m["pai"] == pytest.approx(0.25 / 0.2)
    assert m["harm_capture"] == pytest.approx(0.25)
    assert m["pei"] == pytest.approx(2 / 6)
    assert m["pei_harm"] == pytest.approx(10 / 30)
    assert capture_metrics(0, 0, 0, 0, 1, 10, 0, 0) == {}  # nothing happened: nothing to say


def test_ranked_cells_breaks_ties_by_id_and_tops_up():
    score = np.array([0.0, 5.0, 1.0, 5.0, 0.0, 0.0])
    ids = np.array([60, 50, 40, 30, 20, 10])
    cells = np.arange(6)
    assert list(ranked_cells(score, cells, ids, 3)) == [3, 1, 2]  # 5 (id 30), 5 (id 50), 1
    # fewer scored cells than asked: topped up with zero-score cells by id (10, 20, 60)
    assert list(ranked_cells(score, cells, ids, 5)) == [3, 1, 2, 5, 4]
    assert list(ranked_cells(score, np.array([0, 2, 4]), ids, 9)) == [2, 4, 0]


def test_rank_biased_overlap_by_hand():
    a = np.array([1, 2, 3])
    assert rank_biased_overlap(a, a, 0.5) == pytest.approx(1.0)
    assert rank_biased_overlap(a, np.array([4, 5, 6]), 0.5) == 0.0
    # [1,2,3] vs [2,1,4], p = 0.5: X = 0, 2, 2; A = 0, 1, 2/3
    # RBO_ext = A_3 p^3 + (1-p)/p * sum A_d p^d = (2/3)/8 + 1 * (0 + 1/4 + (2/3)/8) = 5/12
    assert rank_biased_overlap(a, np.array([2, 1, 4]), 0.5) == pytest.approx(5 / 12)
    assert kept_share(a, np.array([2, 1, 4])) == pytest.approx(2 / 3)


@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=2, max_size=40), st.integers(1, 40), st.integers(0, 2**16))
def test_oracle_bounds_every_ranking(counts, k, seed):
    """0 <= hit rate <= 1, PEI <= 1 and the oracle catches at least as much as any list."""
    values = np.asarray(counts, float)
    rng = np.random.default_rng(seed)
    score = rng.integers(0, 3, values.size).astype(float)
    ids = rng.permutation(values.size)
    ranked = ranked_cells(score, np.arange(values.size), ids, k)
    k = ranked.size
    best = best_capture(values, k)
    caught = values[ranked].sum()
    assert caught <= best[-1] + 1e-12
    m = capture_metrics(caught, values.sum(), caught, values.sum(), k, values.size, best[-1], best[-1])
    if values.sum():
        assert 0 <= m["hit_rate"] <= 1
        assert m["pei"] <= 1 + 1e-12
        assert m["pai"] <= values.size / k + 1e-12


@hsettings(max_examples=40, deadline=None)
@given(st.permutations(list(range(12))), st.permutations(list(range(6, 18))), st.floats(0.05, 0.95))
def test_rbo_is_a_symmetric_share(a, b, p):
    a, b = np.asarray(a), np.asarray(b)
    r = rank_biased_overlap(a, b, p)
    assert 0 <= r <= 1 + 1e-12
    assert r == pytest.approx(rank_biased_overlap(b, a, p))


# -- prospective hotspotting ---------------------------------------------------------------
def _square_grid(n=12, cell=100.0):
    box = shapely.box(500_000, 180_000, 500_000 + n * cell, 180_000 + n * cell)
    areas = Areas(gpd.GeoDataFrame({"name": ["a"]}, geometry=[box], crs="EPSG:27700"))
    return areas, Grid.from_areas(areas, cell)


def test_phs_surface_equals_the_sum_over_incidents():
    areas, grid = _square_grid()
    rng = np.random.default_rng(3)
    n = 25
    x = rng.uniform(500_000, 501_200, n)
    y = rng.uniform(180_000, 181_200, n)
    w = rng.uniform(0.5, 3, n)
    lags = rng.integers(-1, 4, n)
    got = phs_surface(grid, x, y, w, lags, radius_m=250)
    r, c = grid.index(x, y)
    rows, cols = np.indices(grid.shape)
    want = np.zeros(grid.shape)
    for i in range(n):
        if lags[i] < 0:
            continue
        d = np.hypot(rows - r[i], cols - c[i])
        want += np.where(d * 100 <= 250, w[i] / ((1 + d) * (1 + lags[i])), 0.0)
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert phs_kernel(100, 250)[2, 2] == 1.0 and phs_kernel(100, 250).shape == (5, 5)


def test_period_lags_counts_whole_periods_back():
    as_of = pd.Timestamp("2019-01-07")
    edges = [as_of - pd.Timedelta(weeks=t) for t in range(4)]
    starts = pd.to_datetime(["2019-01-06 23:59", "2018-12-31 00:00", "2018-12-30 12:00", "2018-12-17",
                             "2018-12-16", "2019-01-07"], format="ISO8601")
    assert list(period_lags(starts, as_of, edges)) == [0, 0, 1, 2, -1, -1]


# -- a tiny study area worked out by hand ----------------------------------------------------
def _tiny():
    """Two districts of 2 x 2 cells of 100 m; weekly incidents with timestamps."""
    west = shapely.box(0, 0, 200, 200)
    east = shapely.box(200, 0, 400, 200)
    areas = Areas(gpd.GeoDataFrame({"name": ["east", "west"]}, geometry=[east, west], crs="EPSG:27700"))
    return areas


def _incidents(points, resolution="datetime"):
    f = pd.DataFrame(points, columns=["x", "y", "date_start"])
    f["date_start"] = pd.to_datetime(f["date_start"])
    f["date_end"] = f["date_start"]
    f["weight"] = 1.0
    f["offence_type"] = "assault"
    return Incidents.from_frame(f, "EPSG:27700", resolution)


def test_tiny_case_hit_rate_pai_pei_by_hand():
    areas = _tiny()
    a1, a2 = (50, 150), (150, 150)  # two cells of 'west'
    week = week_period("2019-01-07")
    inc = _incidents([(*a1, "2018-12-20"), (*a1, "2018-12-27"),  # history: 2 in a1
                      (*a1, "2019-01-08"), (*a2, "2019-01-08"), (*a2, "2019-01-09"), (*a2, "2019-01-10")])
    s = BacktestSettings(methods=("naive", "random", "oracle"), area_shares=(0.25,), top_n=None, spot_size=100)
    res = run_backtest(inc, areas, [week], settings=s)
    m = res.metrics.set_index(["district", "method", "metric"])["value"]
    # naive lists a1 (1 cell of 4): catches 1 of the 4 incidents, the best cell held 3
    assert m["west", "naive", "hit_rate"] == pytest.approx(0.25)
    assert m["west", "naive", "pai"] == pytest.approx(1.0)
    assert m["west", "naive", "pei"] == pytest.approx(1 / 3)
    assert m["west", "random", "hit_rate"] == pytest.approx(0.25)
    assert m["west", "oracle", "hit_rate"] == pytest.approx(0.75)
    assert m["west", "oracle", "pai"] == pytest.approx(3.0)
    assert m["west", "oracle", "pei"] == pytest.approx(1.0)
    # 'all' pools both districts' lists: 2 of 8 cells, east had no incident
    assert m["all", "naive", "hit_rate"] == pytest.approx(0.25)
    assert m["all", "naive", "pai"] == pytest.approx(1.0)
    assert m["all", "oracle", "pai"] == pytest.approx(3.0)
    assert ("east", "naive", "hit_rate") not in m.index  # nothing happened there
    assert set(res.metrics["area_share"].round(6)) == {0.25}


def test_stability_between_consecutive_weeks():
    areas = _tiny()
    weeks = periods_between(week_period("2019-01-07"), "2019-01-14")
    inc = _incidents([(50, 150, "2018-12-20"), (50, 150, "2018-12-22"), (150, 50, "2018-12-21"),
                      (150, 50, "2019-01-08"), (150, 50, "2019-01-09"), (150, 50, "2019-01-10"),
                      (150, 50, "2019-01-15")])
    s = BacktestSettings(methods=("naive", "random"), area_shares=(0.25,), top_n=None, spot_size=100)
    m = run_backtest(inc, areas, weeks, settings=s).metrics
    kept = m[(m["metric"] == "kept") & (m["district"] == "west")].set_index(["period", "method"])["value"]
    # week 1 lists (50,150) (2 before it), then (150,50) (4 before week 2) overtakes it: nothing kept; random keeps 1/4 on average
    assert kept["2019-01-14", "naive"] == 0.0
    assert kept["2019-01-14", "random"] == pytest.approx(0.25)
    assert ("2019-01-07", "naive") not in kept.index  # no list before the first week


# -- no look-ahead ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chicago():
    from rtm.catalogue import load_catalogue
    from rtm.variables import attractor_buffer
    from rtm.samples import SAMPLES

    inc, areas = SAMPLES["chicago"].load()
    cat = load_catalogue("layers")
    layers = {n: cat[n].load(None, areas=areas, buffer_m=attractor_buffer(100, 3))
              for n in ("liquor_retail", "street_lights_out")}
    return inc, areas, layers


def test_incidents_planted_in_a_period_change_nothing_before_it(chicago):
    from dataclasses import replace

    from rtm.terrain_settings import RtmSettings
    from rtm.terrain_store import TerrainStore

    def store(incidents):
        return TerrainStore(incidents, areas, layers, RtmSettings())

    inc, areas, layers = chicago
    week = week_period("2018-03-05")
    # 40 assaults planted at one corner in the week, where none was recorded
    f = inc.frame
    planted = f.iloc[:40].copy()
    planted["x"], planted["y"] = f["x"].min() + 60, f.loc[f["x"].idxmin(), "y"]
    planted["date_start"] = planted["date_end"] = week.start + pd.Timedelta(days=2)
    # and 30 more on each edge: 00:00 of the week's first day and of the next week's first day
    edges = f.iloc[40:100].copy()
    edges["x"], edges["y"] = f["x"].iloc[1000], f["y"].iloc[1000]  # where incidents are recorded
    edges["date_start"] = edges["date_end"] = [week.start] * 30 + [week.end] * 30
    more = replace(inc, frame=pd.concat([f, planted, edges], ignore_index=True))
    s = BacktestSettings(spot_size=150)
    before = period_scores(inc, areas, week, terrain_for=store(inc), settings=s)
    after = period_scores(more, areas, week, terrain_for=store(more), settings=s)
    assert set(before) == {"naive", "kde", "rtm", "combined", "phs", "oracle", "lopo"}
    for m in before:
        if m == "oracle":
            assert after[m].sum() - before[m].sum() == pytest.approx(planted["weight"].sum() + edges["weight"][:30].sum())
        elif m == "lopo":  # a ceiling that sees the rest of the year, never the period itself
            assert after[m].sum() - before[m].sum() == pytest.approx(edges["weight"][30:].sum())
        else:
            np.testing.assert_array_equal(before[m], after[m], err_msg=m)
    nxt = week.next()
    before = period_scores(inc, areas, nxt, terrain_for=store(inc), settings=s)
    after = period_scores(more, areas, nxt, terrain_for=store(more), settings=s)
    for m in ("naive", "kde", "combined", "phs"):
        assert not np.array_equal(before[m], after[m]), m


# -- settings and refusals -------------------------------------------------------------------
@pytest.mark.parametrize("kw, setting, option", [({"methods": ("naive", "magic")}, "methods", "--methods"),
                                                  ({"area_shares": (0.01, 1.5)}, "area_shares", "--area-shares"),
                                                  ({"top_n": 0}, "top_n", "--top"), ({"rbo_p": 1.0}, "rbo_p", "--rbo-p"),
                                                  ({"phs_radius_m": 10}, "phs_radius_m", "--phs-radius")])
def test_bad_settings_name_the_setting_and_the_command_line_its_option(kw, setting, option):
    from rtm.cli.backtest import backtest as command
    from rtm.cli.group import as_option

    with pytest.raises(InputError) as e:
        BacktestSettings(**kw)
    assert (e.value.field, e.value.field_kind) == (setting, "setting")
    assert str(as_option(e.value, command)).startswith(f"option '{option}': ")


def test_month_only_data_refuses_weeks_and_rtm_needs_a_terrain():
    areas = _tiny()
    inc = _incidents([(50, 150, "2018-12-01")], resolution="month")
    with pytest.raises(InputError, match="month only"):
        run_backtest(inc, areas, [week_period("2019-01-07")])
    with pytest.raises(InputError, match="needs a risk terrain"):
        run_backtest(inc, areas, [month_period("2019-01")])


def test_holdout_scores_once():
    areas = _tiny()
    hist = _incidents([(50, 150, "2017-06-01"), (50, 150, "2017-07-01")]).frame
    target = _incidents([(50, 150, "2018-06-01"), (350, 150, "2018-06-01")]).frame  # east: last by id
    s = BacktestSettings(methods=("naive", "kde", "phs", "oracle"), area_shares=(0.25,), top_n=None, spot_size=100,
                         scoring=BacktestSettings().scoring.__class__(half_life_days=None))
    res = run_holdout(hist, target, areas, as_of="2018-01-01", settings=s)
    m = res.metrics.set_index(["district", "method", "metric"])["value"]
    for method in ("naive", "kde", "phs"):
        assert m["west", method, "hit_rate"] == 1.0
        assert m["all", method, "hit_rate"] == pytest.approx(0.5)


# -- period edges: half-open [start, end) ----------------------------------------------------
@pytest.mark.parametrize("kind", ["week", "month"])
def test_incidents_on_period_edges_count_once_in_the_right_period(kind):
    """An incident stamped at 00:00 of a period's first day belongs to that period (its
    target) and to the history of the periods after it; one at 00:00 of the day after the
    period belongs to the next period only. Every method sees each once, in its period."""
    from dataclasses import replace

    areas = _tiny()
    p = week_period("2019-01-07") if kind == "week" else month_period("2019-01")
    nxt = p.next()
    # background history in the west district, weeks before
    base = _incidents([(350, 150, "2018-11-20"), (350, 150, "2018-12-03"), (250, 50, "2018-12-10")]).frame
    at_start = _incidents([(50, 150, p.start)]).frame  # 00:00 of the period's first day
    at_end = _incidents([(150, 50, p.end)]).frame  # 00:00 of the next period's first day
    s = BacktestSettings(methods=("naive", "kde", "combined", "phs", "oracle"), area_shares=(0.25,), top_n=None,
                         spot_size=100, phs_window=12)

    def scores(*frames, period):
        f = pd.concat(frames, ignore_index=True)
        return period_scores(replace(_incidents([(0, 0, "2018-01-01")]), frame=f), areas, period, settings=s)

    grid = Grid.from_areas(areas, 100)
    (ra,), (ca,) = grid.index(np.array([50.0]), np.array([150.0]))
    (rb,), (cb,) = grid.index(np.array([150.0]), np.array([50.0]))
    # the period itself: its target holds the start incident only; no method's ranking sees either
    plain, both = scores(base, period=p), scores(base, at_start, at_end, period=p)
    assert both["oracle"][ra, ca] == 1.0 and both["oracle"][rb, cb] == 0.0 and both["oracle"].sum() == 1.0
    for m in ("naive", "kde", "combined", "phs"):
        np.testing.assert_array_equal(plain[m], both[m], err_msg=f"{kind} {m}: saw its own period")
    # the next period: its target holds the end incident only; the history holds the start one, once
    only_start, both = scores(base, at_start, period=nxt), scores(base, at_start, at_end, period=nxt)
    plain = scores(base, period=nxt)
    assert both["oracle"][rb, cb] == 1.0 and both["oracle"][ra, ca] == 0.0 and both["oracle"].sum() == 1.0
    assert both["naive"][ra, ca] == 1.0 and both["naive"][rb, cb] == 0.0
    for m in ("naive", "kde", "combined", "phs"):
        np.testing.assert_array_equal(only_start[m], both[m], err_msg=f"{kind} {m}: saw its own period")
        assert not np.array_equal(plain[m], both[m]), f"{kind} {m}: missed the incident before it"
    # the whole back-test over both periods: each incident is scored once, in its period
    res = run_backtest(replace(_incidents([(0, 0, "2018-01-01")]),
                               frame=pd.concat([base, at_start, at_end], ignore_index=True)),
                       areas, [p, nxt], settings=replace(s, methods=("oracle",)))
    hits = res.metrics[(res.metrics["metric"] == "hit_rate") & (res.metrics["district"] == "west")]
    assert list(hits["period"]) == [p.key, nxt.key] and list(hits["value"]) == [1.0, 1.0]


# -- honest measures -------------------------------------------------------------------------
def test_phs_with_an_empty_window_is_not_scored_and_says_why():
    """History 10 weeks back, nothing in the 8 weeks of prospective hotspotting: it would rank
    by cell id. It is left out of that week, with a note; naive is scored."""
    areas = _tiny()
    week = week_period("2019-03-04")
    inc = _incidents([(50, 150, "2018-12-20"), (150, 50, "2019-03-05"), (150, 50, "2019-03-06")])
    s = BacktestSettings(methods=("naive", "phs", "random"), area_shares=(0.25,), top_n=None, spot_size=100)
    res = run_backtest(inc, areas, [week], settings=s)
    assert set(res.metrics["method"]) == {"naive", "random"}
    note = [n for n in res.notes if n.startswith("'phs' is not scored")]
    assert note and "1 of 1" in note[0] and "2019-03-04" in note[0] and "window" in note[0]


def test_lopo_ranks_each_period_by_the_rest_of_its_year():
    """Three months of 2019 (and one of 2018, another year): a1 has 1 incident in January and
    4 in March, a2 3 in February. February's lopo is January + March (a1 5, a2 0),
    January's is February + March (a1 4 beats a2 3), March's January + February (a2 3
    beats a1 1): its own month never counts, nor another year."""
    areas = _tiny()
    a1, a2 = (50, 150), (150, 50)
    inc = _incidents([(*a1, "2018-12-10"), (*a1, "2019-01-10")] + [(*a1, f"2019-03-1{d}") for d in range(4)]
                     + [(*a2, "2019-02-10"), (*a2, "2019-02-11"), (*a2, "2019-02-12")])
    months = periods_between(month_period("2019-01"), "2019-03-01")
    s = BacktestSettings(methods=("naive", "oracle", "lopo"), area_shares=(0.25,), top_n=None, spot_size=100)
    scores = period_scores(inc, areas, months[1], settings=s)
    grid = Grid.from_areas(areas, 100)
    (r1,), (c1,) = grid.index(np.array([50.0]), np.array([150.0]))
    (r2,), (c2,) = grid.index(np.array([150.0]), np.array([50.0]))
    assert scores["lopo"][r1, c1] == 5.0 and scores["lopo"][r2, c2] == 0.0 and scores["lopo"].sum() == 5.0
    m = run_backtest(inc, areas, months, settings=s).metrics
    hits = m[(m["district"] == "west") & (m["metric"] == "hit_rate")].set_index(["period", "method"])["value"]
    assert hits["2019-02", "lopo"] == 0.0 and hits["2019-02", "oracle"] == 1.0
    assert hits["2019-01", "lopo"] == 1.0 and hits["2019-03", "lopo"] == 0.0
    # weeks: those starting in the year, Mon 7 Jan 2019 to the week of Mon 30 Dec 2019
    from rtm.backtest.rolling import year_span

    for day in ("2019-01-07", "2019-06-12", "2019-12-31"):
        assert year_span(week_period(day)) == (pd.Timestamp("2019-01-07"), pd.Timestamp("2020-01-06"))


def test_history_months_reaches_over_a_gap_and_the_skip_says_so():
    """Data in July 2016 and July 2018 only: with 12 months of history July 2018 is skipped,
    and the note gives its incidents and the end of the latest earlier one; with 24 months
    it is scored."""
    areas = _tiny()
    inc = _incidents([(50, 150, "2016-07-10"), (50, 150, "2016-07-11"), (50, 150, "2018-07-10"),
                      (150, 50, "2018-07-12")])
    july = month_period("2018-07")
    s = BacktestSettings(methods=("naive", "random"), area_shares=(0.25,), top_n=None, spot_size=100)
    res = run_backtest(inc, areas, [july], settings=s)
    assert not res.periods and [k.reason for k in res.skipped] == ["no history"]
    assert res.skipped[0].incidents == 2 and f"{res.skipped[0].latest_before:%Y-%m-%d}" == "2016-07-11"
    assert res.skipped[0].months_needed == 24  # July 2018 - 24 months = 1 July 2016
    assert "12 months before it" in res.notes[0] and "2 incidents" in res.notes[0]
    from dataclasses import replace

    res = run_backtest(inc, areas, [july], settings=replace(s, history_months=24))
    assert res.periods == ["2018-07"]
    assert BacktestSettings(history_months=24).history_window(week_period("2019-01-07"))[0] == \
        pd.Timestamp("2019-01-07") - pd.Timedelta(weeks=104)
    with pytest.raises(InputError, match="history_months"):
        BacktestSettings(history_months=0)


def test_combined_scores_its_own_history_window_and_naive_keeps_the_year():
    """An incident two years back ranks its cell for 'combined' with a 36-month window, not with
    12 months; 'naive' is the year before whatever the scoring's window."""
    from rtm.ranking import ScoreSettings

    areas = _tiny()
    old, recent = (50, 150), (150, 50)
    inc = _incidents([(*old, "2017-01-10"), (*recent, "2018-12-20")])
    week = week_period("2019-01-07")
    for months, lists_old in ((12, False), (36, True)):
        s = BacktestSettings(methods=("naive", "combined"), spot_size=100,
                             scoring=ScoreSettings(history_months=months, half_life_days=None, bandwidth_m=100.0))
        scores = period_scores(inc, areas, week, settings=s)
        grid_r, grid_c = 0, 0  # the cell of 'old': top-left of the 4 x 2 grid
        assert (scores["combined"][grid_r, grid_c] > 0) == lists_old, months
        assert scores["naive"][grid_r, grid_c] == 0
