"""NB2 by joint Newton steps in (coefficients, log alpha), for warm-started stepwise moves
(:func:`nb2_fit`).

:func:`rtm.model_stats.negbin_fit` alternates a GLM fit for fixed alpha with a bounded
one-dimensional search for alpha (R's ``MASS::glm.nb``): robust from any start, but each
move of the stepwise search then costs several IRLS fits and some twenty likelihood
evaluations per alpha update. Started from the current model (its coefficients and
alpha), the joint maximum is a few Newton steps away; this module takes them, with
analytic derivatives, and falls back to ``negbin_fit`` when they fail.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.special import betaln, digamma, polygamma

from .model_stats import _ALPHA_BOUNDS, _MAX_COEF, Fit, design_matrix, nb_loglik, negbin_fit, newton_lm


def _objective(theta, X, y, w):
    """Minus the NB2 log-likelihood (as :func:`rtm.model_stats.nb_loglik`) and its gradient in
    (beta, t = log alpha); with r = 1/alpha, d ll / d eta = (y - mu) r / (r + mu) and
    d ll / dt = -r (psi(y + r) - psi(r) - log(1 + mu / r) + (mu - y) / (r + mu))."""
    beta, t = theta[:-1], theta[-1]
    eta = np.clip(X @ beta, -700, 700)
    mu = np.exp(eta)
    r = math.exp(-t)
    ll = (-np.log(y + r) - betaln(r, y + 1) - r * np.log1p(mu / r)
          + np.where(y > 0, y * (eta - np.log(r + mu)), 0.0))
    d_r = digamma(y + r) - digamma(r) - np.log1p(mu / r) + (mu - y) / (r + mu)
    g_beta = X.T @ (w * (y - mu) * r / (r + mu))
    g_t = -r * float(np.sum(w * d_r))
    return -float(np.sum(w * ll)), -np.append(g_beta, g_t)


def _hessian(theta, X, y, w):
    """Minus the Hessian of the NB2 log-likelihood in (beta, log alpha), analytic:
    d2/d eta2 = -mu r (r + y) / (r + mu)^2, d2/d eta dt = -r mu (y - mu) / (r + mu)^2,
    d2/dt2 = r d/dr + r^2 d2/dr2 with d2/dr2 = psi'(y + r) - psi'(r) + 1/r - 1/(r + mu)
    - (mu - y) / (r + mu)^2."""
    beta, t = theta[:-1], theta[-1]
    mu = np.exp(np.clip(X @ beta, -700, 700))
    r = math.exp(-t)
    rm = r + mu
    d_r = digamma(y + r) - digamma(r) - np.log1p(mu / r) + (mu - y) / rm
    d_rr = polygamma(1, y + r) - polygamma(1, r) + 1 / r - 1 / rm - (mu - y) / rm ** 2
    k = len(theta)
    H = np.empty((k, k))
    H[:-1, :-1] = (X.T * (w * -mu * r * (r + y) / rm ** 2)) @ X
    H[:-1, -1] = H[-1, :-1] = X.T @ (w * -r * mu * (y - mu) / rm ** 2)
    H[-1, -1] = float(np.sum(w * (r * d_r + r * r * d_rr)))
    return -H


def nb2_fit(X, y, w, cols, alpha0: float | None = None, start=None) -> Fit:
    """NB2 fit (variance ``mu + alpha mu^2``), the same maximum as :func:`negbin_fit`.

    Parameters
    ----------
    X, y, w : arrays
        Collapsed rows (0/1 variables), counts and frequency weights.
    cols : sequence of int
        Columns of ``X`` in the model (an intercept is added).
    alpha0 : float, optional
        Starting overdispersion.
    start : ndarray, optional
        Starting coefficients, intercept first.

    Returns
    -------
    Fit
        As :func:`negbin_fit`'s: standard errors from the expected information at the
        maximum-likelihood alpha (its last IRLS step's), log-likelihood by :func:`nb_loglik`.

    Notes
    -----
    With both starting values, damped Newton steps on (coefficients, log alpha) with the
    analytic gradient and Hessian (:func:`rtm.model_stats.newton_lm`) until the gradient
    vanishes; a few evaluations of digamma and trigamma over the rows. Without them, or
    when the steps fail or end at a bound of alpha, :func:`negbin_fit`.
    """
    if alpha0 is None or start is None or not np.isfinite(alpha0) or not np.isfinite(start).all():
        return negbin_fit(X, y, w, cols, alpha0, start)
    exog = design_matrix(X, cols)
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    lo, hi = (math.log(b) for b in _ALPHA_BOUNDS)
    theta = np.append(np.asarray(start, dtype=float), math.log(float(np.clip(alpha0, *_ALPHA_BOUNDS))))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        theta, f, g = newton_lm(lambda th: _objective(th, exog, y, w), lambda th: _hessian(th, exog, y, w),
                                theta, lo, hi)
    inside = lo + 1e-3 < theta[-1] < hi - 1e-3
    if not (inside and np.isfinite(f) and np.isfinite(g).all() and np.max(np.abs(g)) < 1e-6 * (1 + abs(f))):
        return negbin_fit(X, y, w, cols, alpha0, start)
    alpha = math.exp(theta[-1])
    params = theta[:-1]
    mu = np.exp(exog @ params)
    # standard errors as negbin_fit's last IRLS step: the expected information at fixed alpha
    try:
        cov = np.linalg.inv((exog.T * (w * mu / (1 + alpha * mu))) @ exog)
    except np.linalg.LinAlgError:
        return negbin_fit(X, y, w, cols, alpha0, start)
    with np.errstate(invalid="ignore"):
        bse = np.sqrt(np.diag(cov))
    if not (np.isfinite(bse).all() and np.abs(params[1:]).max(initial=0) < _MAX_COEF):
        return negbin_fit(X, y, w, cols, alpha0, start)
    return Fit(tuple(cols), params, bse, nb_loglik(y, mu, w, alpha), alpha, len(cols) + 2, True)
