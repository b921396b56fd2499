"""The risk terrain model recovers planted factors, agrees with an ordinary fit on every
cell, and collapses cells without changing the answer."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import rasterio
import shapely
import statsmodels.api as sm

from rtm.grid import Grid
from rtm.layers import Layer
from rtm.model import RiskTerrainModel
from rtm.model_stats import case_control_sample, collapse_cells, score_statistics
from rtm.risk_output import risk_classes, rrs_raster, write_geotiff
from rtm.variables import build_variables

CRS = pyproj.CRS("EPSG:27700")
N, CELL = 120, 50.0  # 6 km x 6 km
PLANTED = {"pubs_prox_200": 3.0, "shops_dens_400": 2.0}


def make_grid() -> Grid:
    mask = np.ones((N, N), bool)
    mask[:20, :20] = False  # a corner outside the study area
    return Grid(CELL, 500_000.0, 206_000.0, N, N, CRS, mask, np.where(mask, 0, -1).astype(np.int32), ("test",))


def point_layer(name, x, y) -> Layer:
    return Layer(name, gpd.GeoDataFrame(geometry=shapely.points(x, y), crs=CRS), "point")


@pytest.fixture(scope="module")
def area():
    """Five attractor layers, every variable at 200-800 m, and the grid."""
    grid = make_grid()
    rng = np.random.default_rng(20240601)

    def scatter(k):
        return grid.x0 + rng.uniform(0, N * CELL, k), grid.y0 - rng.uniform(0, N * CELL, k)

    cx, cy = scatter(6)
    layers = [
        point_layer("pubs", *scatter(40)),
        point_layer("shops", np.repeat(cx, 15) + rng.normal(0, 150, 90), np.repeat(cy, 15) + rng.normal(0, 150, 90)),
        point_layer("bus", *scatter(60)),  # the three below have no effect
        point_layer("schools", *scatter(25)),
        point_layer("atms", *scatter(50)),
    ]
    X = build_variables(grid, layers, 200, 4, "whole", {lay.name: "both" for lay in layers})
    planted = X.matrix[:, X.columns(list(PLANTED))].astype(float)
    log_mu = np.log(0.5) + planted @ np.log(list(PLANTED.values()))
    return grid, X, rng, log_mu


@pytest.fixture(scope="module")
def poisson_fit(area):
    grid, X, _, log_mu = area
    y = np.random.default_rng(11).poisson(np.exp(log_mu))
    return X, y, RiskTerrainModel(random_state=0).fit(X, y)


def test_recovers_planted_factors_at_their_distances(poisson_fit):
    X, y, model = poisson_fit
    assert len(model.candidates_) == 40
    assert set(PLANTED) <= set(model.preselected_)
    assert sorted(model.selected_) == sorted(PLANTED)
    assert model.family_ == "poisson" and model.alpha_ == 0.0
    assert model.family_bic_["poisson"] < model.family_bic_["nb2"]
    table = model.coef_table_.set_index("variable")
    assert (table["type"] == "rate").all()
    for name, rrv in PLANTED.items():
        assert table.at[name, "rrv"] == pytest.approx(rrv, rel=0.15)
        assert table.at[name, "p_value"] < 1e-6
    assert table.at["pubs_prox_200", "spatial_influence_m"] == 200
    assert table.at["shops_dens_400", "operationalisation"] == "density"
    assert model.n_cells_ == X.n_cells and model.n_cells_with_events_ == int((y > 0).sum())
    texts = [s["text"] for s in model.selection_log_]
    assert any("add pubs_prox_200" in t for t in texts) and "Poisson (var = mu) chosen" in " ".join(texts)


def test_coefficients_equal_a_plain_statsmodels_fit_on_every_cell(poisson_fit):
    X, y, model = poisson_fit
    exog = sm.add_constant(X.matrix[:, X.columns(model.selected_)].astype(float))
    ref = sm.GLM(y, exog, family=sm.families.Poisson()).fit(tol=1e-12)
    table = model.coef_table_.set_index("variable").loc[model.selected_]
    np.testing.assert_allclose(model.intercept_, ref.params[0], atol=1e-4)
    np.testing.assert_allclose(table["coefficient"], ref.params[1:], atol=1e-4)
    np.testing.assert_allclose(table["std_error"], ref.bse[1:], atol=1e-4)
    k = len(ref.params)
    assert model.bic_ == pytest.approx(-2 * ref.llf + k * np.log(X.n_cells), abs=1e-4)
    assert model.aic_ == pytest.approx(-2 * ref.llf + 2 * k, abs=1e-4)


def test_negative_binomial_matches_the_joint_maximum_likelihood_on_every_cell(area):
    _, X, _, log_mu = area
    rng = np.random.default_rng(5)
    alpha = 0.8
    y = rng.poisson(rng.gamma(1 / alpha, alpha * np.exp(log_mu)))
    model = RiskTerrainModel(random_state=1).fit(X, y)
    assert model.family_ == "nb2" and sorted(model.selected_) == sorted(PLANTED)
    exog = sm.add_constant(X.matrix[:, X.columns(model.selected_)].astype(float))
    ref = sm.NegativeBinomial(y, exog).fit(method="newton", disp=0, maxiter=100, tol=1e-12)
    rate = model.coef_table_[model.coef_table_["type"] == "rate"].set_index("variable").loc[model.selected_]
    np.testing.assert_allclose(model.intercept_, ref.params[0], atol=1e-4)
    np.testing.assert_allclose(rate["coefficient"], ref.params[1:-1], atol=1e-4)
    np.testing.assert_allclose(model.alpha_, ref.params[-1], atol=1e-4)
    over = model.coef_table_[model.coef_table_["type"] == "overdispersion"].iloc[0]
    assert over["coefficient"] == model.alpha_ and over["std_error"] == pytest.approx(ref.bse[-1], rel=0.01)
    assert over["p_value"] < 1e-6
    # BIC counts every cell and one more parameter for alpha
    assert model.bic_ == pytest.approx(-2 * ref.llf + len(ref.params) * np.log(X.n_cells), abs=1e-3)


@pytest.fixture(scope="module")
def forced_fit(poisson_fit):
    """The Poisson case with screening and sub-sampling forced on (40 candidates, 14,000 cells)."""
    X, y, _ = poisson_fit
    return RiskTerrainModel(random_state=0, screen_max=10, preselect_max_cells=4_000).fit(X, y)


def test_screening_and_subsampling_leave_the_recovery_unchanged(poisson_fit, forced_fit):
    X, y, full = poisson_fit
    model = forced_fit
    assert len(model.screened_) == 10 and set(PLANTED) <= set(model.screened_)
    assert set(PLANTED) <= set(model.preselected_) <= set(model.screened_)
    # more than 4,000 / 2 cells have incidents: as many zero cells are sampled
    assert model.preselect_cells_ == 2 * model.n_cells_with_events_ < X.n_cells
    assert sorted(model.selected_) == sorted(PLANTED) and model.family_ == "poisson"
    table = model.coef_table_.set_index("variable")
    for name, rrv in PLANTED.items():
        assert table.at[name, "rrv"] == pytest.approx(rrv, rel=0.15)
    # the stepwise search and the final fit are exact on every cell: same model, same numbers
    ref = full.coef_table_.set_index("variable")
    np.testing.assert_allclose(table.loc[full.selected_, "coefficient"], ref.loc[full.selected_, "coefficient"],
                               rtol=1e-6)
    np.testing.assert_allclose(table.loc[full.selected_, "std_error"], ref.loc[full.selected_, "std_error"],
                               rtol=1e-6)
    assert model.bic_ == pytest.approx(full.bic_, rel=1e-9)
    # nothing is screened or sampled by default on this small case
    assert full.screened_ == full.candidates_ and full.preselect_cells_ == X.n_cells and full.score_.size == 0


def test_the_selection_log_records_screening_and_subsampling(poisson_fit, forced_fit):
    X, y, full = poisson_fit
    model = forced_fit
    screen = [s for s in model.selection_log_ if s["action"] == "screen"]
    sample = [s for s in model.selection_log_ if s["action"] == "subsample"]
    assert len(screen) == 1 and len(sample) == 1
    assert screen[0]["stage"] == sample[0]["stage"] == "preselect"  # shown in the report
    assert "30 of 40 screened out" in screen[0]["text"] and screen[0]["variables"] == model.screened_
    n_pos = model.n_cells_with_events_
    assert f"all {n_pos:,} cells with incidents" in sample[0]["text"]
    assert f"{model.preselect_cells_ - n_pos:,} of the {X.n_cells - n_pos:,} cells without" in sample[0]["text"]
    assert not any(s["action"] in ("screen", "subsample") for s in full.selection_log_)


def test_score_statistics_equal_the_statsmodels_score_test(poisson_fit):
    X, y, _ = poisson_fit
    stats = score_statistics(X.matrix, y)
    null = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Poisson()).fit(tol=1e-12)
    for name in ["pubs_prox_200", "atms_dens_600", "bus_prox_400"]:
        j = X.columns([name])[0]
        ref = null.score_test(exog_extra=X.matrix[:, [j]].astype(float))[0]
        assert stats[j] == pytest.approx(float(np.squeeze(ref)), rel=1e-8)
    np.testing.assert_allclose(score_statistics(X.matrix, y, X.table["cells"].to_numpy()), stats)
    assert stats[X.columns(list(PLANTED))].min() > np.delete(stats, X.columns(list(PLANTED))).max() / 10


def test_case_control_sample_keeps_every_incident_cell_and_reweights_the_rest():
    y = np.zeros(10_000)
    y[::50] = 1
    cells, w = case_control_sample(y, 1_000, np.random.default_rng(0))
    assert np.all(np.diff(cells) > 0) and set(np.flatnonzero(y)) <= set(cells)
    assert len(cells) == 1_000 and w == pytest.approx(9_800 / 800)
    assert (y[cells] == 0).sum() * w == pytest.approx((y == 0).sum())
    # never fewer zero cells than incident cells; everything when the sample would be the whole
    cells, w = case_control_sample(y, 300, np.random.default_rng(0))
    assert len(cells) == 400 and w == pytest.approx(9_800 / 200)
    cells, w = case_control_sample(y, 20_000, np.random.default_rng(0))
    assert w == 1.0 and len(cells) == 10_000


def test_collapsing_merges_identical_cells_and_keeps_their_count(poisson_fit):
    X, y, model = poisson_fit
    n = X.n_cells
    assert model.n_rows_ < n / 2
    cols = X.columns(model.selected_)
    c = collapse_cells(X.matrix[:, cols], y)
    assert len(c.y) <= 4 * (y.max() + 1) and len(c.y) < n / 100
    assert c.weight.sum() == n
    np.testing.assert_array_equal(c.X[c.inverse], X.matrix[:, cols])
    np.testing.assert_array_equal(c.y[c.inverse], y)
    # merging already-collapsed rows adds their weights
    full = collapse_cells(X.matrix, y)
    again = collapse_cells(full.X[:, cols], full.y, full.weight)
    assert again.weight.sum() == n and len(again.y) == len(c.y)
    np.testing.assert_array_equal(again.y[again.inverse[full.inverse]], y)


def test_max_per_factor_limits_spatial_influences_of_one_factor(area):
    _, X, _, _ = area
    # risk near pubs falls off in two steps: both 200 m and 600 m bands matter
    both = X.matrix[:, X.columns(["pubs_prox_200", "pubs_prox_600"])].astype(float)
    y = np.random.default_rng(3).poisson(0.3 * np.exp(both @ np.log([2.0, 2.0])))
    one = RiskTerrainModel(random_state=0, families=("poisson",)).fit(X, y)
    pubs = [v for v in one.selected_ if v.startswith("pubs_prox")]
    assert len(pubs) == 1
    two = RiskTerrainModel(random_state=0, families=("poisson",), max_per_factor=2).fit(X, y)
    assert {"pubs_prox_200", "pubs_prox_600"} <= set(two.selected_)
    assert two.bic_ < one.bic_


def test_factor_limit_once_per_operationalisation_or_once_in_all(area):
    _, X, _, _ = area
    # pubs act both by proximity (200 m) and by density (400 m)
    both = X.matrix[:, X.columns(["pubs_prox_200", "pubs_dens_400"])].astype(float)
    y = np.random.default_rng(4).poisson(0.4 * np.exp(both @ np.log([2.5, 2.0])))
    per_op = RiskTerrainModel(random_state=0, families=("poisson",)).fit(X, y)
    assert {"pubs_prox_200", "pubs_dens_400"} <= set(per_op.selected_)
    once = RiskTerrainModel(random_state=0, families=("poisson",), limit_by="factor").fit(X, y)
    assert len([v for v in once.selected_ if v.startswith("pubs_")]) == 1
    assert once.bic_ > per_op.bic_
    with pytest.raises(ValueError, match="limit_by must be"):
        RiskTerrainModel(limit_by="layer").fit(X, y)


def test_negbin_is_read_as_nb2():
    from rtm.terrain_settings import RtmSettings

    assert RtmSettings(family="negbin").family == "nb2"
    assert RtmSettings().families == ("poisson", "nb1", "nb2")
    assert RtmSettings(family="nb1").families == ("nb1",)
    assert RtmSettings().describe()["factor_limit"] == "operationalisation"
    assert RiskTerrainModel(families=("negbin",))._checked_params()[0] == ("nb2",)


def test_relative_risk_scores_classes_and_raster(poisson_fit, tmp_path):
    X, y, model = poisson_fit
    grid = make_grid()
    rrs = model.predict_rrs(X)
    assert rrs.shape == (X.n_cells,) and rrs.min() == pytest.approx(1.0)
    rrv = model.coef_table_.set_index("variable")["rrv"]
    assert rrs.max() == pytest.approx(rrv.prod())
    present = X.matrix[:, X.columns(["pubs_prox_200"])[0]].astype(bool) & \
        ~X.matrix[:, X.columns(["shops_dens_400"])[0]].astype(bool)
    assert np.allclose(rrs[present], rrv["pubs_prox_200"])

    classes = risk_classes(rrs, y)
    assert list(classes["risk_class"]) == ["highest", "moderately high", "above average", "average or below"]
    assert classes["cells"].sum() == X.n_cells and classes["share_of_area"].sum() == pytest.approx(1.0)
    assert classes["share_of_incidents"].sum() == pytest.approx(1.0)
    m, s = rrs.mean(), rrs.std()
    assert classes.at[0, "cells"] == (rrs >= m + 2 * s).sum()
    assert classes.at[1, "cells"] == ((rrs >= m + s) & (rrs < m + 2 * s)).sum()
    assert classes.at[0, "share_of_incidents"] > classes.at[0, "share_of_area"]

    raster = rrs_raster(grid, rrs)
    assert raster.dtype == np.float32 and np.isnan(raster[~grid.mask]).all()
    np.testing.assert_allclose(raster[grid.mask], rrs, rtol=1e-6)
    path = write_geotiff(tmp_path / "rrs.tif", grid, raster)
    with rasterio.open(path) as src:
        assert src.transform == grid.transform and src.crs.to_epsg() == 27700
        back = src.read(1)
    np.testing.assert_array_equal(np.isnan(back), ~grid.mask)
    with pytest.raises(ValueError, match="masked cells"):
        rrs_raster(grid, rrs[:-1])


def test_bad_parameters_and_unfitted_model_raise(poisson_fit):
    X, y, _ = poisson_fit
    with pytest.raises(ValueError, match="not fitted yet"):
        RiskTerrainModel().predict_rrs(X)
    with pytest.raises(ValueError, match="families must be"):
        RiskTerrainModel(families=("gamma",)).fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio must be in"):
        RiskTerrainModel(l1_ratio=0).fit(X, y)
    with pytest.raises(ValueError, match="cv_folds must be"):
        RiskTerrainModel(cv_folds=1).fit(X, y)
    with pytest.raises(ValueError, match="one count per masked cell"):
        RiskTerrainModel().fit(X, y[:-1])
    with pytest.raises(ValueError, match="non-negative"):
        RiskTerrainModel().fit(X, -np.ones_like(y))
    with pytest.raises(ValueError, match="screen_max must be"):
        RiskTerrainModel(screen_max=0).fit(X, y)
    with pytest.raises(ValueError, match="preselect_max_cells must be"):
        RiskTerrainModel(preselect_max_cells=10).fit(X, y)
    with pytest.raises(ValueError, match="n_alphas must be"):
        RiskTerrainModel(n_alphas=1.5).fit(X, y)
    assert RiskTerrainModel(cv_folds=3).get_params()["cv_folds"] == 3
    assert RiskTerrainModel(screen_max=None).get_params()["screen_max"] is None


def test_nb1_matches_statsmodels_nb1_on_every_cell(area):
    """NB1 (variance mu (1 + delta), RTMDx's gamlss NBII) against statsmodels' own NB1 fit."""
    _, X, _, log_mu = area
    rng = np.random.default_rng(8)
    delta = 2.0
    mu = np.exp(log_mu)
    y = rng.negative_binomial(mu / delta, 1 / (1 + delta))
    model = RiskTerrainModel(random_state=1).fit(X, y)
    assert model.family_ == "nb1" and sorted(model.selected_) == sorted(PLANTED)
    assert model.family_bic_["nb1"] < min(model.family_bic_["nb2"], model.family_bic_["poisson"])
    exog = sm.add_constant(X.matrix[:, X.columns(model.selected_)].astype(float))
    ref = sm.NegativeBinomial(y, exog, loglike_method="nb1").fit(method="newton", disp=0, maxiter=200, tol=1e-12)
    rate = model.coef_table_[model.coef_table_["type"] == "rate"].set_index("variable").loc[model.selected_]
    np.testing.assert_allclose(model.intercept_, ref.params[0], atol=1e-6)
    np.testing.assert_allclose(rate["coefficient"], ref.params[1:-1], atol=1e-6)
    np.testing.assert_allclose(model.alpha_, ref.params[-1], atol=1e-6)
    np.testing.assert_allclose(rate["std_error"], ref.bse[1:-1], rtol=1e-4)
    k = len(ref.params)
    assert model.bic_ == pytest.approx(-2 * ref.llf + k * np.log(X.n_cells), abs=1e-6)
    over = model.coef_table_.set_index("type").loc["overdispersion"]
    assert over["variable"] == "delta" and over["coefficient"] == pytest.approx(ref.params[-1], abs=1e-6)
    assert over["std_error"] == pytest.approx(ref.bse[-1], rel=1e-3)


def test_cv_elastic_net_on_collapsed_rows_equals_glums_own_cv_on_every_cell(poisson_fit):
    """The pre-selection's CV (per-fold collapsed rows, sparse complements) against glum's
    GeneralizedLinearRegressorCV given one row per cell and the same folds."""
    from glum import GeneralizedLinearRegressorCV

    from rtm.model_preselect import cv_elastic_net

    X, y, _ = poisson_fit
    cols = X.columns(X.names[:16])  # pubs and shops: proximity and density, 200-800 m
    cells, y = X.matrix[:6000, cols], y[:6000]
    k = 5
    fold = np.random.default_rng(3).permutation(len(y)) % k
    ref = GeneralizedLinearRegressorCV(family="poisson", l1_ratio=0.5, n_alphas=20, scale_predictors=True,
                                       cv=[(np.flatnonzero(fold != i), np.flatnonzero(fold == i)) for i in range(k)])
    ref.fit(cells.astype(np.float64), y.astype(np.float64))
    coll = collapse_cells(cells, y)
    per = np.bincount(coll.inverse * k + fold, minlength=len(coll.y) * k).reshape(-1, k)
    ours = cv_elastic_net(coll.X, coll.y, per, 0.5, None, 20)
    assert ours.rows < len(coll.y) < len(y)
    np.testing.assert_allclose(ours.alphas, ref.alphas_, rtol=1e-10)
    assert ours.alpha == pytest.approx(ref.alpha_, rel=1e-12)
    # test deviances differ from the cells' by a constant per fold: same shape of the path
    mean_ref = ref.deviance_path_.mean(axis=0).ravel()
    np.testing.assert_allclose(ours.deviance[0] - ours.deviance[0].min(), mean_ref - mean_ref.min(), atol=1e-9)
    assert ours.selected == [int(i) for i in np.flatnonzero(ref.coef_ != 0)]
    np.testing.assert_allclose(ours.coef, ref.coef_, atol=1e-5)


def test_stepwise_shortcuts_reach_the_plain_searchs_models(area):
    """Moves on their own merged rows (shared by the families, Poisson on pattern means),
    warm starts and NB2 by joint Newton steps: the same models, BIC and estimates as every
    move fitted from scratch on all pre-selected rows."""
    _, X, _, log_mu = area
    rng = np.random.default_rng(21)
    y = rng.poisson(rng.gamma(1 / 0.8, 0.8 * np.exp(log_mu)))
    fast = RiskTerrainModel(random_state=2).fit(X, y)
    plain = RiskTerrainModel(random_state=2)
    plain.collapse_moves = plain.warm_start = False
    plain.fit(X, y)
    assert fast.preselected_ == plain.preselected_ and fast.selected_ == plain.selected_
    for fam in ("poisson", "nb1", "nb2"):
        assert fast.family_bic_[fam] == pytest.approx(plain.family_bic_[fam], abs=1e-6)
    np.testing.assert_allclose(fast.coef_, plain.coef_, atol=1e-6)
    assert fast.alpha_ == pytest.approx(plain.alpha_, abs=1e-6)
    steps = [(s["family"], s["action"], s["variables"]) for s in fast.selection_log_ if s["stage"] == "stepwise"]
    assert steps == [(s["family"], s["action"], s["variables"]) for s in plain.selection_log_
                     if s["stage"] == "stepwise"]


def test_nb2_newton_steps_reach_the_alternating_fits_maximum(area):
    from rtm.model_nb2 import nb2_fit
    from rtm.model_stats import negbin_fit

    _, X, _, log_mu = area
    rng = np.random.default_rng(4)
    y = rng.poisson(rng.gamma(1 / 0.5, 0.5 * np.exp(log_mu))).astype(float)
    cols = X.columns(list(PLANTED) + ["bus_prox_400"])
    c = collapse_cells(X.matrix[:, cols], y)
    w = c.weight.astype(float)
    ref = negbin_fit(c.X, c.y, w, (0, 1, 2))
    fit = nb2_fit(c.X, c.y, w, (0, 1, 2), alpha0=0.2, start=np.zeros(4))
    assert ref.ok and fit.ok
    assert fit.llf == pytest.approx(ref.llf, abs=1e-7)
    np.testing.assert_allclose(fit.params, ref.params, atol=1e-6)
    np.testing.assert_allclose(fit.bse, ref.bse, rtol=1e-6)
    assert fit.alpha == pytest.approx(ref.alpha, rel=1e-5)
