"""The elastic-net pre-selection of the risk terrain model: a cross-validated Poisson
elastic net (glum) fitted on collapsed rows, fold by fold (:func:`cv_elastic_net`).

:class:`rtm.model.RiskTerrainModel` calls it on the cells collapsed to distinct rows; it
chooses the same penalty and keeps the same variables as glum's own
``GeneralizedLinearRegressorCV`` on every cell (tests/test_model.py checks this), in a
fraction of the time (docs/rtm.md, "Speed of both").
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from glum import GeneralizedLinearRegressor

from .model_stats import collapse_cells, one_thread


@dataclass(frozen=True)
class ElasticNetCV:
    """The cross-validated elastic net's choice.

    Attributes
    ----------
    alpha, l1_ratio : float
        The penalty with the lowest mean test deviance over the folds.
    alphas : ndarray of float
        The penalty path (of the chosen ``l1_ratio``), largest first.
    deviance : ndarray of float, shape (n_l1_ratios, n_alphas)
        Mean test deviance over the folds, up to a constant per fold (the same at every
        penalty, so the argmin is that of the deviance on cells).
    coef : ndarray of float, shape (n_variables,)
        Coefficients (original 0/1 scale) at the chosen penalty, fitted on all rows.
    selected : list of int
        Columns with a non-zero coefficient.
    rows : int
        Distinct variable patterns the fits ran on.
    """

    alpha: float
    l1_ratio: float
    alphas: np.ndarray
    deviance: np.ndarray
    coef: np.ndarray
    selected: list
    rows: int


def _alpha_path(Xs, ybar, w, l1: float, n_alphas: int) -> np.ndarray:
    """glum's default penalty path for a Poisson elastic net with standardised predictors.

    The largest penalty is the smallest that keeps every coefficient at 0: with the
    intercept at ``log(mean y)`` the gradient of the mean deviance / 2 for standardised
    column j is ``sum_i w_i (y_i - ybar) x_ij / sd_j`` (weights summing to 1), and the
    path runs geometrically from ``max_j |gradient_j| / l1`` down to a millionth of it
    (glum's ``min_alpha_ratio`` default; a hundredth when there are fewer cells, the
    weights' sum, than columns), ``n_alphas`` values.
    """
    ratio = 1e-6 if w.sum() >= Xs.shape[1] else 1e-2
    w = w / w.sum()
    mean_y = float(w @ ybar)
    means = np.asarray(Xs.T @ w).ravel()
    sq = np.asarray(Xs.multiply(Xs).T @ w).ravel() if sp.issparse(Xs) else (Xs * Xs).T @ w
    sd = np.sqrt(np.maximum(sq - means ** 2, 0.0))
    grad = np.asarray(Xs.T @ (w * (ybar - mean_y))).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(sd > 0, np.abs(grad) / sd, 0.0)
    amax = float(g.max(initial=0.0)) / l1
    if amax == 0:
        amax = 10.0
    return np.logspace(np.log(amax), np.log(amax * ratio), int(n_alphas), base=np.e)


def _path(X, ybar, w, l1, alphas):
    """(intercepts, coefficients) along ``alphas`` (glum, standardised predictors, one thread)."""
    est = GeneralizedLinearRegressor(family="poisson", alpha=list(alphas), alpha_search=True, l1_ratio=l1,
                                     scale_predictors=True)
    with warnings.catch_warnings(), one_thread():
        warnings.simplefilter("ignore")
        est.fit(X, ybar, sample_weight=w)
    return np.atleast_1d(est.intercept_path_), np.atleast_2d(est.coef_path_)


def _mean_deviance(X, ybar, w, intercepts, coefs) -> np.ndarray:
    """Weighted mean Poisson deviance of each (intercept, coefficients) on rows of means."""
    eta = np.asarray(X @ coefs.T) + intercepts[None, :]
    mu = np.exp(eta)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(ybar[:, None] > 0, ybar[:, None] * (np.log(ybar[:, None]) - eta), 0.0) - (ybar[:, None] - mu)
    return 2 * (w @ t) / w.sum()


def cv_elastic_net(X: np.ndarray, y: np.ndarray, fold_weight: np.ndarray, l1_ratio=0.5, alphas=None,
                   n_alphas: int = 30) -> ElasticNetCV:
    """Cross-validated Poisson elastic net on collapsed rows.

    Parameters
    ----------
    X : ndarray of 0/1, shape (n_rows, n_variables)
        Distinct rows (e.g. :func:`rtm.model_stats.collapse_cells` of the cells).
    y : ndarray, shape (n_rows,)
        Each row's count.
    fold_weight : ndarray of float, shape (n_rows, n_folds)
        Weight of each row in each fold: how many of its cells fall in the fold (times a
        case-control weight where cells were sampled). Fold ``i`` is tested on its own
        column and trained on the sum of the others.
    l1_ratio : float or sequence of float
        Elastic-net mixing in (0, 1]; a sequence is tuned too.
    alphas : sequence of float, optional
        The penalties (default: glum's path of ``n_alphas`` values, see :func:`_alpha_path`).
    n_alphas : int

    Returns
    -------
    ElasticNetCV

    Notes
    -----
    The same model and choice as glum's ``GeneralizedLinearRegressorCV`` (Poisson,
    ``scale_predictors=True``) given one row per cell and folds of cells, made cheaper
    three ways, each exact:

    * *Collapsing per fold.* A Poisson log-likelihood is a sum over cells of
      ``y eta - exp(eta)`` plus a term free of the coefficients, so cells with the same
      variables can be merged into one row holding their total weight and weighted mean
      count: the same coefficients at every penalty (the standardisation uses the same
      weighted means and variances). Each fold's training set is collapsed on its own,
      so a pattern is one row however many folds its cells fall in (about 14,700 rows
      per fold on the Chicago model, against 21,500 (row, fold) pairs given to glum's CV).
      Test deviances on merged rows differ from those on cells by a constant per fold,
      the same at every penalty, so the penalty with the lowest mean is the same.
    * *Complements.* A column that is 1 in more than half the (weighted) rows is replaced
      by 1 minus it: standardised, that only flips its sign, which the symmetric penalty
      ignores, so the deviance path and the zero pattern are unchanged; the 0/1 matrix
      then becomes sparse (15% ones against 42% on Chicago) and glum's sparse
      ``X'WX`` costs about a fifth of the dense one.
    * *No second path to the end.* The fit on all rows follows the penalty path (warm
      starts) only down to the chosen penalty.

    Cost: per fold and ``l1_ratio`` one glum path on the fold's distinct rows; memory a
    sparse copy of the rows (12 bytes per one).
    """
    X = np.asarray(X)
    y = np.asarray(y, dtype=np.float64)
    fw = np.asarray(fold_weight, dtype=np.float64)
    k = fw.shape[1]
    l1s = np.atleast_1d(np.asarray(l1_ratio, dtype=float))
    # rows with the same variables (whatever their count) become one pattern
    pat = collapse_cells(X, np.zeros(X.shape[0]))
    n_pat = len(pat.y)
    N = np.zeros((n_pat, k))
    S = np.zeros((n_pat, k))
    for f in range(k):
        N[:, f] = np.bincount(pat.inverse, weights=fw[:, f], minlength=n_pat)
        S[:, f] = np.bincount(pat.inverse, weights=fw[:, f] * y, minlength=n_pat)
    n_tot, s_tot = N.sum(axis=1), S.sum(axis=1)
    flip = (n_tot @ pat.X) > 0.5 * n_tot.sum()
    Xp = sp.csr_matrix(np.where(flip, 1 - pat.X, pat.X).astype(np.float64))

    def rows(weight, total):
        keep = np.flatnonzero(weight > 0)
        return Xp[keep].tocsc(), total[keep] / weight[keep], weight[keep]

    full = rows(n_tot, s_tot)
    paths = []
    dev = []
    for l1 in l1s:
        path = (np.sort(np.asarray(alphas, dtype=float))[::-1] if alphas is not None
                else _alpha_path(*full, l1, n_alphas))
        paths.append(path)
        per_fold = []
        for f in range(k):
            Xt, yt, wt = rows(n_tot - N[:, f], s_tot - S[:, f])
            icpt, coefs = _path(Xt, yt, wt, l1, path)
            test = np.flatnonzero(N[:, f] > 0)
            per_fold.append(_mean_deviance(Xp[test], S[test, f] / N[test, f], N[test, f], icpt, coefs))
        dev.append(np.mean(per_fold, axis=0))
    dev = np.asarray(dev)
    best_l1, best = np.unravel_index(int(np.argmin(dev)), dev.shape)
    path = paths[best_l1]
    _, coefs = _path(*full, l1s[best_l1], path[:best + 1])
    coef = np.where(flip, -coefs[-1], coefs[-1])
    return ElasticNetCV(float(path[best]), float(l1s[best_l1]), path, dev, coef,
                        [int(i) for i in np.flatnonzero(coef != 0)], n_pat)
