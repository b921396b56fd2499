"""Harm-spot scores and spot selection on small grids where the answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtm.errors import InputError
from rtm.grid import Grid
from rtm.periods import month_period, week_period
from rtm.ranking import ScoreSettings, SpotRule, cell_scores, select_spots
from rtm.terrain import TerrainOnGrid

CRS = pyproj.CRS("EPSG:27700")
AS_OF = pd.Timestamp("2024-03-04")


def grid_of(nrows=10, ncols=10, cell=150.0, districts=1) -> Grid:
    mask = np.ones((nrows, ncols), bool)
    district = np.zeros((nrows, ncols), np.int32)
    if districts == 2:
        district[:, ncols // 2:] = 1
    return Grid(cell, 0.0, nrows * cell, ncols, nrows, CRS, mask, district,
                tuple(f"D{i}" for i in range(districts)))


def centre(grid, r, c):
    return grid.x0 + (c + 0.5) * grid.cell_size, grid.y0 - (r + 0.5) * grid.cell_size


def incidents_at(grid, cells, when="2024-02-20", weight=10.0):
    xy = np.array([centre(grid, r, c) for r, c in cells])
    t = pd.to_datetime([when] * len(cells))
    frame = pd.DataFrame({"date_start": t, "date_end": t})
    return xy[:, 0], xy[:, 1], np.full(len(cells), weight), frame


def terrain_for(grid, rrs, parts, beta=(1.0,)):
    factors = pd.DataFrame({"variable": [f"f{i}_prox_100" for i in range(len(beta))],
                            "factor": [f"f{i}" for i in range(len(beta))], "operationalisation": "proximity",
                            "spatial_influence_m": 100.0, "coefficient": list(beta), "rrv": np.exp(beta)})
    return TerrainOnGrid(grid, rrs, parts, parts > 0, factors, {})


def test_harm_only_score_is_the_harm_surface_over_its_mean():
    grid = grid_of()
    x, y, w, d = incidents_at(grid, [(2, 2), (7, 7), (7, 7)])
    s = cell_scores(grid, x, y, w, d, AS_OF, settings=ScoreSettings(method="harm", half_life_days=None))
    assert np.allclose(s.score, s.harm / s.harm.mean())
    assert s.score.mean() == pytest.approx(1.0)
    assert np.unravel_index(np.argmax(s.score), grid.shape) == (7, 7)


def test_parts_add_up_and_factor_parts_split_the_risk_above_the_base():
    grid = grid_of()
    x, y, w, d = incidents_at(grid, [(2, 2)])
    rrs = np.ones(grid.shape)
    rrs[5, 5] = np.e  # one factor present with coefficient 1 in one cell
    parts = np.zeros((1,) + grid.shape)
    parts[0, 5, 5] = 1.0
    s = cell_scores(grid, x, y, w, d, AS_OF, terrain=terrain_for(grid, rrs, parts),
                    settings=ScoreSettings(risk_weight=0.5, half_life_days=None))
    assert np.allclose(s.harm_part + s.risk_part, s.score)
    mean_rrs = rrs.mean()
    assert s.risk_part[5, 5] == pytest.approx(0.5 * np.e / mean_rrs)
    # the factor takes everything above the base risk of an RRS-1 cell
    assert s.factor_parts[0, 5, 5] == pytest.approx(0.5 * (np.e - 1) / mean_rrs)
    assert s.factor_parts[0, 0, 0] == 0.0
    assert s.risk_part.sum() == pytest.approx(0.5 * grid.mask.sum())


def test_risk_weight_one_ranks_by_the_terrain_alone():
    grid = grid_of()
    x, y, w, d = incidents_at(grid, [(2, 2)] * 5)
    rrs = np.ones(grid.shape)
    rrs[8, 1] = 4.0
    parts = np.zeros((1,) + grid.shape)
    parts[0, 8, 1] = np.log(4.0)
    s = cell_scores(grid, x, y, w, d, AS_OF, terrain=terrain_for(grid, rrs, parts),
                    settings=ScoreSettings(method="risk"))
    assert np.unravel_index(np.argmax(s.score), grid.shape) == (8, 1)
    assert np.all(s.harm_part == 0)


def test_conjunctive_lists_only_cells_high_on_both():
    grid = grid_of()
    x, y, w, d = incidents_at(grid, [(2, 2)] * 3 + [(7, 7)] * 3)
    rrs = np.ones(grid.shape)
    rrs[7, 7] = 5.0
    parts = np.zeros((1,) + grid.shape)
    parts[0, 7, 7] = np.log(5.0)
    s = cell_scores(grid, x, y, w, d, AS_OF, terrain=terrain_for(grid, rrs, parts),
                    settings=ScoreSettings(method="conjunctive", half_life_days=None, bandwidth_m=100.0))
    assert s.conjunctive[7, 7] and not s.conjunctive[2, 2]
    spots = select_spots(grid, s, SpotRule(top_n=5))
    assert [divmod(c, grid.ncols) for c in spots["lead"]] == [(7, 7)]


def test_methods_needing_a_terrain_refuse_without_one():
    grid = grid_of()
    x, y, w, d = incidents_at(grid, [(1, 1)])
    with pytest.raises(ValueError, match="needs a risk terrain"):
        cell_scores(grid, x, y, w, d, AS_OF, settings=ScoreSettings(method="risk"))


def test_incidents_in_the_period_change_nothing():
    grid = grid_of()
    x, y, w, d = incidents_at(grid, [(3, 3), (6, 2)])
    before = cell_scores(grid, x, y, w, d, AS_OF)
    x2, y2, w2, d2 = incidents_at(grid, [(9, 9)] * 50, when="2024-03-05")
    both = cell_scores(grid, np.r_[x, x2], np.r_[y, y2], np.r_[w, w2], pd.concat([d, d2]), AS_OF)
    assert np.array_equal(before.score, both.score)


def test_top_n_per_district_in_score_order_with_ties_by_cell_id():
    grid = grid_of(districts=2)
    score = np.zeros(grid.shape)
    score[1, 1], score[2, 2], score[3, 3] = 3.0, 2.0, 2.0  # district 0 (left)
    score[4, 8] = 5.0  # district 1 (right)
    s = _scores(grid, score)
    spots = select_spots(grid, s, SpotRule(top_n=2))
    assert list(spots["district"]) == [0, 0, 1]
    leads = [divmod(c, grid.ncols) for c in spots["lead"]]
    assert leads[0] == (1, 1) and leads[2] == (4, 8)
    ids = grid.cell_ids()
    assert leads[1] == min([(2, 2), (3, 3)], key=lambda rc: ids[rc])  # the tie goes to the lower id


def _scores(grid, score):
    from rtm.ranking import CellScores

    z = np.zeros(grid.shape)
    return CellScores(score, score, z, np.zeros((0,) + grid.shape), score, grid.mask.copy(),
                      np.zeros(grid.shape, bool), 300.0)


def test_exclusions_never_listed():
    grid = grid_of()
    score = np.arange(100, dtype=float).reshape(grid.shape)
    excluded = np.zeros(grid.shape, bool)
    excluded[9, 9] = True  # the best cell
    spots = select_spots(grid, _scores(grid, score), SpotRule(top_n=3), excluded=excluded)
    assert 99 not in spots["lead"].tolist()
    assert spots["lead"].tolist() == [98, 97, 96]


def test_adjacent_cells_merge_up_to_the_maximum():
    grid = grid_of()
    score = np.zeros(grid.shape)
    score[5, 5], score[5, 6], score[5, 7], score[0, 0] = 10, 9, 8, 7
    spots = select_spots(grid, _scores(grid, score), SpotRule(top_n=2, max_cells=2))
    cells = [sorted(divmod(c, grid.ncols) for c in cs) for cs in spots["cells"]]
    # (5,5)+(5,6) fill the first spot; (5,7) touches a full spot so starts the second
    assert cells == [[(5, 5), (5, 6)], [(5, 7)]]


def test_area_share_and_harm_share_rules():
    grid = grid_of()
    score = np.zeros(grid.shape)
    for k in range(10):
        score[k, 0] = 10 - k
    s = _scores(grid, score)
    assert len(select_spots(grid, s, SpotRule(top_n=None, area_share=0.05))) == 5
    last = np.zeros(grid.shape)
    last[0, 0], last[1, 0], last[2, 0] = 1.0, 1.0, 2.0
    spots = select_spots(grid, s, SpotRule(top_n=None, harm_share=0.5), last_harm=last)
    assert len(spots) == 2  # two cells hold 2 of the 4 harm: 50% is reached, so no third


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), min_size=1, max_size=30),
       st.integers(1, 6), st.integers(1, 4))
def test_spots_are_disjoint_connected_and_bounded(points, top, merge):
    grid = grid_of()
    x, y, w, d = incidents_at(grid, points)
    s = cell_scores(grid, x, y, w, d, AS_OF, settings=ScoreSettings(bandwidth_m=200.0))
    spots = select_spots(grid, s, SpotRule(top_n=top, max_cells=merge))
    seen = set()
    assert len(spots) <= top
    for cells in spots["cells"]:
        assert 1 <= len(cells) <= merge
        assert not seen & set(cells)
        seen |= set(cells)
        assert s.score.flat[cells[0]] == max(s.score.flat[c] for c in cells)
    scores = [s.score.flat[c] for c in spots["lead"]]
    assert scores == sorted(scores, reverse=True)


def test_spot_rule_validation_names_the_setting():
    with pytest.raises(InputError, match="exactly one"):
        SpotRule(top_n=5, area_share=0.1)
    with pytest.raises(InputError, match="setting 'area_share': must be a share"):
        SpotRule(top_n=None, area_share=1.5)
    with pytest.raises(InputError, match="setting 'risk_weight'"):
        ScoreSettings(risk_weight=2)


def test_periods_weeks_start_monday_and_months_stay_months():
    p = week_period("2019-01-10")
    assert (p.start, p.end) == (pd.Timestamp("2019-01-07"), pd.Timestamp("2019-01-14"))
    assert p.key == "2019-01-07" and p.previous().key == "2018-12-31"
    assert week_period("2019-01-10", "sunday").start == pd.Timestamp("2019-01-06")
    m = month_period("2019-03")
    assert (m.start, m.end) == (pd.Timestamp("2019-03-01"), pd.Timestamp("2019-04-01"))
    assert m.previous().key == "2019-02" and m.window("year") == (pd.Timestamp("2018-03-01"), m.start)
    assert p.window("recent") == (pd.Timestamp("2018-12-10"), p.start)


def test_silverman_bandwidth_is_data_driven_and_uses_only_the_past():
    grid = grid_of(40, 40)
    x, y, w, d = incidents_at(grid, [(5, 5), (30, 30), (10, 35), (35, 8), (20, 20)])
    s = cell_scores(grid, x, y, w, d, AS_OF, settings=ScoreSettings(bandwidth_m="silverman"))
    from rtm.surfaces import default_bandwidth

    assert s.bandwidth_m == pytest.approx(default_bandwidth(grid, x, y, rule="silverman").metres)
    x2, y2, w2, d2 = incidents_at(grid, [(0, 0), (39, 39)], when="2024-03-10")  # after as_of
    later = cell_scores(grid, np.r_[x, x2], np.r_[y, y2], np.r_[w, w2], pd.concat([d, d2]), AS_OF,
                        settings=ScoreSettings(bandwidth_m="silverman"))
    assert later.bandwidth_m == s.bandwidth_m
    with pytest.raises(InputError, match="silverman"):
        ScoreSettings(bandwidth_m="wide")


# -- the history window and the count blend (the tuning family's settings) ----------------------
def test_count_share_blends_counts_and_count_rows_decides_whether_zero_harm_rows_count():
    grid = grid_of()
    # (2, 2): one robbery-like incident of harm 100; (7, 7): five rows of zero harm (anti-social behaviour)
    x, y, w, d = incidents_at(grid, [(2, 2)] + [(7, 7)] * 5)
    w = np.array([100.0, 0, 0, 0, 0, 0])
    base = dict(method="harm", half_life_days=None, bandwidth_m=150.0)
    harm = cell_scores(grid, x, y, w, d, AS_OF, settings=ScoreSettings(**base, count_share=0.0))
    assert harm.score[7, 7] == 0 and harm.score[2, 2] > 0
    crimes = cell_scores(grid, x, y, w, d, AS_OF, settings=ScoreSettings(**base, count_share=1.0, count_rows="crimes"))
    assert crimes.score[7, 7] == 0  # zero-harm rows are not crimes
    every = cell_scores(grid, x, y, w, d, AS_OF, settings=ScoreSettings(**base, count_share=1.0, count_rows="all"))
    assert every.score[7, 7] == pytest.approx(5 * every.score[2, 2])  # counts: 5 rows against 1
    half = cell_scores(grid, x, y, w, d, AS_OF, settings=ScoreSettings(**base, count_share=0.5, count_rows="all"))
    np.testing.assert_allclose(half.score, 0.5 * harm.score + 0.5 * every.score)
    assert half.harm.mean() == pytest.approx(harm.harm.mean())  # the blend is in harm units


def test_score_history_takes_the_settings_window_before_the_period():
    from rtm.ranking import score_history

    t = pd.to_datetime(["2021-06-01", "2022-06-01", "2023-06-01", "2024-02-28", "2024-03-05"])
    frame = pd.DataFrame({"date_start": t, "date_end": t})
    week = week_period(AS_OF)  # 2024-03-04
    got = {h: list(score_history(frame, week, ScoreSettings(history_months=h))["date_start"].dt.year)
           for h in (12, 24, 36)}
    assert got == {12: [2023, 2024], 24: [2022, 2023, 2024], 36: [2021, 2022, 2023, 2024]}
    month = month_period("2024-03")
    assert list(score_history(frame, month, ScoreSettings(history_months=12))["date_start"].dt.year) == [2023, 2024]


@pytest.mark.parametrize("kw, setting", [(dict(history_months=0), "history_months"),
                                         (dict(history_months=12.5), "history_months"),
                                         (dict(count_share=1.5), "count_share"),
                                         (dict(count_rows="asb"), "count_rows")])
def test_bad_tuning_settings_name_the_setting(kw, setting):
    with pytest.raises(InputError) as err:
        ScoreSettings(**kw)
    assert err.value.field == setting
