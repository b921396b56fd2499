"""The statistics under the risk terrain model: identical cells collapsed into weighted rows,
Poisson and negative binomial fits on those rows, the score-test screen and the
case-control sample of empty cells. Pure array functions; :mod:`rtm.model` holds the
estimator that uses them."""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import betaln, digamma, gammaln, zeta

_ALPHA_BOUNDS = (1e-8, 1e4)  # overdispersion search range (variance = mu + alpha * mu**2)
_MAX_COEF = 25.0  # |coefficient| beyond which a fit is taken to have diverged (separation)


# -- collapsing identical cells ----------------------------------------------------------
@dataclass(frozen=True)
class CollapsedCells:
    """Distinct (variable pattern, count) rows with their frequencies.

    Attributes
    ----------
    X : ndarray of uint8, shape (n_rows, n_variables)
    y : ndarray of float64, shape (n_rows,)
    weight : ndarray of int64, shape (n_rows,)
        How many cells share the row; sums to the number of cells.
    inverse : ndarray of int64, shape (n_cells,)
        The row of each cell.
    """

    X: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    inverse: np.ndarray


def collapse_cells(matrix: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> CollapsedCells:
    """Merge cells with the same 0/1 pattern and the same count into one weighted row.

    Parameters
    ----------
    matrix : ndarray of 0/1, shape (n_cells, n_variables)
    y : ndarray, shape (n_cells,)
        Counts (or harm-weighted counts) per cell.
    weight : ndarray of int, shape (n_cells,), optional
        Frequencies when the rows are themselves collapsed cells (default 1 each); the
        result's weights are their sums.

    Returns
    -------
    CollapsedCells

    Notes
    -----
    A Poisson or negative binomial log-likelihood is a sum over cells of a term that
    depends only on the cell's variables and count, so summing each distinct term times
    its frequency gives the same likelihood, estimates and standard errors as fitting
    every cell. Each row is packed to bits (``np.packbits``) plus the 8 bytes of its count,
    read as big-endian 64-bit words and sorted with ``np.lexsort`` (one stable pass per
    word): the same rows, in the same (bytewise) order, as ``np.unique(axis=0)`` on the
    packed rows, about ten times faster. O(n log n) time per word; memory about
    ``n * (n_variables / 8 + 8)`` bytes twice, plus 8 bytes per cell per word during the
    sort. 1.5 million cells with 360 variables take about 2 seconds.
    """
    matrix = np.asarray(matrix)
    y = np.asarray(y, dtype=np.float64).ravel() + 0.0  # + 0.0 turns -0.0 into 0.0
    if matrix.ndim != 2 or matrix.shape[0] != y.shape[0]:
        raise ValueError(f"matrix has shape {matrix.shape} but y has {y.shape[0]} values")
    n = matrix.shape[0]
    packed = np.packbits(matrix.astype(bool, copy=False), axis=1)
    width = packed.shape[1] + 8
    key = np.zeros((n, -(-width // 8) * 8), dtype=np.uint8)  # zero padding keeps the order
    key[:, :packed.shape[1]] = packed
    key[:, packed.shape[1]:width] = y.view(np.uint8).reshape(-1, 8)
    del packed
    # big-endian words compare like the bytes they hold, so sorting by the words in turn
    # (first word most significant) is the bytewise lexicographic order of np.unique
    words = key.view(">u8")
    order = np.lexsort([words[:, k].astype(np.uint64) for k in range(words.shape[1] - 1, -1, -1)])
    del key
    ordered = words[order]
    start = np.ones(n, dtype=bool)
    if n > 1:
        np.any(ordered[1:] != ordered[:-1], axis=1, out=start[1:])
    del ordered, words
    first = order[start]  # stable sort: the first cell of each group in the input
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.cumsum(start) - 1
    counts = np.diff(np.append(np.flatnonzero(start), n))
    if weight is not None:
        counts = np.bincount(inverse, weights=np.asarray(weight, dtype=np.float64), minlength=len(first))
        counts = np.rint(counts)
    return CollapsedCells(matrix[first].astype(np.uint8), y[first], counts.astype(np.int64), inverse)


def collapse_on(X: np.ndarray, y: np.ndarray, w: np.ndarray, cols) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows of ``X[:, cols]`` and ``y`` merged where equal, with summed weights.

    Returns ``(X_small, y_small, w_small)`` with ``X_small`` holding only ``cols`` (in that
    order). A model on ``cols`` has the same likelihood on these rows as on the input rows.
    With at most 40 columns the pattern is one integer per row and the merge is one
    ``np.unique`` of int64 keys (O(rows log rows)); otherwise :func:`collapse_cells`.
    """
    cols = list(cols)
    y = np.asarray(y, dtype=np.float64)
    yv, ycode = np.unique(y, return_inverse=True)
    if len(cols) > 40 or yv.size >= (1 << 23):
        c = collapse_cells(X[:, cols], y, w)
        return c.X, c.y, c.weight.astype(float)
    key = ycode.astype(np.int64).ravel()
    for j, c in enumerate(cols):
        key |= X[:, c].astype(np.int64) << (23 + j)
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    weight = np.bincount(inverse.ravel(), weights=np.asarray(w, dtype=np.float64), minlength=len(uniq))
    return X[first][:, cols], y[first], weight


# -- count-model fits on weighted rows ---------------------------------------------------
@dataclass
class Fit:
    cols: tuple
    params: np.ndarray  # intercept first
    bse: np.ndarray
    llf: float
    alpha: float  # 0 for Poisson
    n_params: int  # coefficients + intercept (+ alpha)
    ok: bool
    alpha_se: float = math.nan  # standard error of the overdispersion (NB1; NB2 uses alpha_se())

    def bic(self, n: float) -> float:
        return -2 * self.llf + self.n_params * math.log(n) if self.ok else math.inf

    def aic(self) -> float:
        return -2 * self.llf + 2 * self.n_params if self.ok else math.inf


def design_matrix(X: np.ndarray, cols) -> np.ndarray:
    out = np.ones((X.shape[0], len(cols) + 1))
    if len(cols):
        out[:, 1:] = X[:, list(cols)]
    return out


def usable_fit(res) -> bool:
    params, bse = np.asarray(res.params), np.asarray(res.bse)
    return bool(getattr(res, "converged", True) and np.isfinite(params).all() and np.isfinite(bse).all()
                and np.abs(params[1:]).max(initial=0) < _MAX_COEF)


@dataclass
class _GlmResult:
    params: np.ndarray
    bse: np.ndarray
    mu: np.ndarray
    converged: bool


def glm_log_fit(y, exog, w, alpha: float = 0.0, start=None, tol: float = 1e-10, maxiter: int = 200,
                dev_offset: float = 0.0):
    """Poisson (``alpha = 0``) or NB2 with fixed ``alpha``, log link, by IRLS in numpy.

    The same iteration and stopping rule as statsmodels' ``GLM.fit`` (relative change of
    the deviance below ``tol``; start from ``mu = (y + mean y) / 2``) without its per-call
    set-up, which dominated the stepwise search on a few hundred collapsed rows. Standard
    errors from the inverse Fisher information (scale 1). Returns None when the weighted
    least squares breaks down; ``converged`` is False when ``maxiter`` is reached.
    ``dev_offset`` is added to the deviance in the stopping rule: rows of merged cells'
    mean counts have the cells' deviance minus a constant, which this puts back.
    """
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)

    def deviance(mu):
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(y > 0, y * np.log(y / mu), 0.0)
            if alpha > 0:
                t = t - (y + 1 / alpha) * (np.log1p(alpha * y) - np.log1p(alpha * mu))
            else:
                t = t - (y - mu)
        return 2 * float(np.sum(w * t))

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if start is None:
            mu = (y + np.average(y, weights=w)) / 2
            eta = np.log(mu)
        else:
            eta = exog @ np.asarray(start, dtype=float)
            mu = np.exp(eta)
        dev = deviance(mu)
        converged = False
        beta = None
        for _ in range(maxiter):
            W = w * mu / (1 + alpha * mu)
            z = eta + (y - mu) / mu
            XtW = exog.T * W
            try:
                beta = np.linalg.solve(XtW @ exog, XtW @ z)
            except np.linalg.LinAlgError:
                return None
            eta = exog @ beta
            mu = np.exp(eta)
            new = deviance(mu)
            if not np.isfinite(new):
                return None
            if abs(new - dev) <= tol * (abs(new + dev_offset) + tol):  # statsmodels' criterion (np.allclose, rtol=tol)
                converged = True
                dev = new
                break
            dev = new
        W = w * mu / (1 + alpha * mu)
        try:
            cov = np.linalg.inv((exog.T * W) @ exog)
        except np.linalg.LinAlgError:
            return None
        bse = np.sqrt(np.diag(cov))
    return _GlmResult(beta, bse, mu, converged)


def poisson_fit(X, y, w, cols, lgamma_sum: float | None = None, start=None, dev_offset: float = 0.0) -> Fit:
    """Poisson fit of ``y`` on the columns ``cols`` of ``X`` (intercept added), weights ``w``.

    ``lgamma_sum``, when given, replaces ``sum w log(y!)`` in the log-likelihood: rows
    whose ``y`` are the weighted means of merged cells (:meth:`rtm.model_moves.MoveRows.means`)
    give the cells' log-likelihood with the cells' own sum. ``start``: starting
    coefficients, intercept first (default: statsmodels' start from the counts);
    ``dev_offset``: see :func:`glm_log_fit`.
    """
    res = glm_log_fit(y, design_matrix(X, cols), w, start=start, dev_offset=dev_offset)
    if res is None or not usable_fit(res):
        return Fit(tuple(cols), np.full(len(cols) + 1, np.nan), np.full(len(cols) + 1, np.nan), -math.inf, 0.0,
                    len(cols) + 1, False)
    mu = res.mu
    const = float(np.sum(w * gammaln(y + 1))) if lgamma_sum is None else lgamma_sum
    llf = float(np.sum(w * (y * np.log(mu) - mu))) - const
    return Fit(tuple(cols), np.asarray(res.params), np.asarray(res.bse), llf, 0.0, len(cols) + 1, True)


def nb_loglik(y: np.ndarray, mu: np.ndarray, weight: np.ndarray, alpha: float) -> float:
    """Weighted NB2 log-likelihood (variance ``mu + alpha * mu**2``).

    Written with ``betaln`` and ``log1p`` so it stays accurate as ``alpha`` approaches 0,
    where it tends to the Poisson log-likelihood.
    """
    r = 1.0 / alpha
    ll = (-np.log(y + r) - betaln(r, y + 1) - r * np.log1p(mu / r)
          + np.where(y > 0, y * (np.log(mu) - np.log(r + mu)), 0.0))
    return float(np.sum(weight * ll))


def ml_alpha(y, mu, w) -> float:
    """Maximum-likelihood overdispersion for fixed means (bounded search on log alpha)."""
    lo, hi = np.log(_ALPHA_BOUNDS[0]), np.log(_ALPHA_BOUNDS[1])
    res = minimize_scalar(lambda t: -nb_loglik(y, mu, w, math.exp(t)), bounds=(lo, hi), method="bounded",
                          options={"xatol": 1e-9})
    return float(math.exp(res.x))


def negbin_fit(X, y, w, cols, alpha0: float | None = None, start=None) -> Fit:
    """NB2 fit with the overdispersion estimated by maximum likelihood.

    Alternates a GLM fit of the coefficients for fixed alpha with a one-dimensional
    maximum-likelihood update of alpha for fixed means, until alpha settles: the scheme of
    R's ``MASS::glm.nb`` (Venables & Ripley, *Modern Applied Statistics with S*, 4th ed.,
    2002, section 7.4). At convergence (coefficients, alpha) is the joint maximum. ``alpha0`` and
    ``start`` (coefficients, intercept first) are optional starting values.
    """
    n_params = len(cols) + 2
    failed = Fit(tuple(cols), np.full(len(cols) + 1, np.nan), np.full(len(cols) + 1, np.nan), -math.inf, np.nan,
                  n_params, False)
    exog = design_matrix(X, cols)
    if alpha0 is None or not np.isfinite(alpha0):
        pois = glm_log_fit(y, exog, w, start=start)
        if pois is None:
            return failed
        mu, start = pois.mu, np.asarray(pois.params)
        alpha = ml_alpha(y, mu, w)
    else:
        alpha = float(np.clip(alpha0, *_ALPHA_BOUNDS))
    ll_prev = -math.inf
    for _ in range(100):
        res = glm_log_fit(y, exog, w, alpha, start)
        if res is None:
            return failed
        start = np.asarray(res.params)
        new = ml_alpha(y, res.mu, w)
        ll = nb_loglik(y, res.mu, w, new)
        # the 1-D search resolves log(alpha) to about 1e-7; near alpha = 0 the likelihood
        # is flat in alpha, so a negligible gain in log-likelihood also ends the loop
        settled = abs(math.log(new) - math.log(alpha)) < 1e-6 or ll - ll_prev < 1e-10 * (1 + abs(ll))
        alpha, ll_prev = new, ll
        if settled:
            break
    res = glm_log_fit(y, exog, w, alpha, start)
    if res is None or not usable_fit(res):
        return failed
    return Fit(tuple(cols), np.asarray(res.params), np.asarray(res.bse), nb_loglik(y, res.mu, w, alpha), alpha,
                n_params, True)


def nb1_loglik(y: np.ndarray, mu: np.ndarray, weight: np.ndarray, delta: float) -> float:
    """Weighted NB1 log-likelihood (variance ``mu * (1 + delta)``).

    The count is negative binomial with size ``mu / delta`` and success probability
    ``1 / (1 + delta)`` (Cameron & Trivedi, *Regression Analysis of Count Data*, 2nd ed.,
    2013, section 3.3.2; statsmodels' ``NegativeBinomial(loglike_method="nb1")``).
    """
    r = mu / delta
    ll = gammaln(y + r) - gammaln(r) - gammaln(y + 1) - r * math.log1p(delta) \
        + y * (math.log(delta) - math.log1p(delta))
    return float(np.sum(weight * ll))


def _nb1_objective(theta, X, y, w, lgamma_y1=None, keep: dict | None = None):
    """Minus the NB1 log-likelihood and its gradient in (beta, log delta).

    ``lgamma_y1`` is ``log(y!)`` when already computed; ``keep``, a dict, receives the
    point and its ``(r, A)`` for :func:`_nb1_hessian` at the same point."""
    beta, t = theta[:-1], theta[-1]
    eta = np.clip(X @ beta, -700, 700)
    delta = math.exp(t)
    mu = np.exp(eta)
    r = mu / delta
    a = digamma(y + r) - digamma(r) - math.log1p(delta)
    if keep is not None:
        keep["at"], keep["ra"] = theta.copy(), (r, a)
    ll = gammaln(y + r) - gammaln(r) - (gammaln(y + 1) if lgamma_y1 is None else lgamma_y1) \
        - r * math.log1p(delta) + y * (t - math.log1p(delta))
    g_beta = X.T @ (w * r * a)
    g_t = np.sum(w * (-r * a - r * delta / (1 + delta) + y / (1 + delta)))
    return -float(np.sum(w * ll)), -np.append(g_beta, g_t)


def _nb1_hessian(theta, X, y, w, keep: dict | None = None):
    """Minus the Hessian of the NB1 log-likelihood in (beta, log delta), analytic.

    With ``r = mu / delta``, ``A = psi(y + r) - psi(r) - log(1 + delta)``,
    ``B = psi'(y + r) - psi'(r)`` and ``q = delta / (1 + delta)``: d2/d eta2 = rA + r^2 B,
    d2/d eta dt = -(rA + r^2 B + rq), d2/dt2 = rA + r^2 B + 2rq - (r + y) q (1 - q).
    """
    beta, t = theta[:-1], theta[-1]
    delta = math.exp(t)
    q = delta / (1 + delta)
    if keep is not None and "at" in keep and np.array_equal(keep["at"], theta):
        r, a = keep["ra"]  # the objective's, at this point
    else:
        r = np.exp(np.clip(X @ beta, -700, 700)) / delta
        a = digamma(y + r) - digamma(r) - math.log1p(delta)
    b = zeta(2, y + r) - zeta(2, r)  # trigamma, without polygamma's wrapper
    c = r * a + r * r * b
    k = len(theta)
    H = np.empty((k, k))
    H[:-1, :-1] = (X.T * (w * c)) @ X
    H[:-1, -1] = H[-1, :-1] = X.T @ (w * -(c + r * q))
    H[-1, -1] = np.sum(w * (c + 2 * r * q - (r + y) * q * (1 - q)))
    return -H


def newton_lm(fun, hess, theta, lo: float = math.log(1e-8), hi: float = math.log(1e4)):
    """Minimise ``fun`` (returning value and gradient) by Newton steps with the Hessian
    ``hess``, damped Levenberg-Marquardt style until each step lowers the value; the last
    parameter (a log overdispersion) is kept in ``[lo, hi]``. Returns ``(theta, f, g)``
    at the end: the gradient vanishes (and the last step was below 1e-10, or an undamped
    Newton step below 1e-6, whose error is about its square), or no damped step lowers
    the value."""
    f, g = fun(theta)
    lam = 0.0
    for _ in range(200):
        H = hess(theta)
        moved = False
        for _ in range(30):  # Levenberg-Marquardt damping until the step lowers the value
            try:
                step = np.linalg.solve(H + lam * np.eye(len(theta)), g)
            except np.linalg.LinAlgError:
                step = None
            if step is not None:
                new = theta - step
                new[-1] = min(max(new[-1], lo), hi)
                fn, gn = fun(new)
                if np.isfinite(fn) and fn <= f + 1e-12 * (1 + abs(f)):
                    moved = True
                    break
            lam = max(lam * 10, 1e-6 * (1 + np.abs(np.diag(H)).max()))
        if not moved:
            break
        size = np.max(np.abs(new - theta))
        # an undamped Newton step this small leaves an error of about its square
        done = size < 1e-10 or abs(f - fn) < 1e-14 * (1 + abs(f)) or (lam == 0.0 and size < 1e-6)
        theta, f, g = new, fn, gn
        lam /= 10
        if done and np.max(np.abs(g)) < 1e-6 * (1 + abs(f)):
            break
    return theta, f, g


def nb1_fit(X, y, w, cols, delta0: float | None = None, start=None) -> Fit:
    """NB1 fit (variance ``mu (1 + delta)``) by joint maximum likelihood.

    Parameters
    ----------
    X, y, w : arrays
        Collapsed rows (0/1 variables), counts and frequency weights.
    cols : sequence of int
        Columns of ``X`` in the model (an intercept is added).
    delta0 : float, optional
        Starting overdispersion (default: a moment estimate from a Poisson fit).
    start : ndarray, optional
        Starting coefficients, intercept first (default: the Poisson fit's).

    Returns
    -------
    Fit
        ``alpha`` holds delta; ``bse`` from the observed information (analytic Hessian).

    Notes
    -----
    NB1 is the negative binomial of RTMDx (gamlss ``NBII``: variance ``mu (1 + sigma)``).
    Unlike NB2 it is not a GLM for fixed delta, so the coefficients and ``log delta`` are
    maximised together: damped Newton steps (Levenberg-Marquardt) with the analytic
    gradient and Hessian until the gradient vanishes (agrees with statsmodels'
    ``NegativeBinomial(loglike_method="nb1")`` to about 1e-8). Cost: a few dozen
    evaluations of digamma and gammaln over the rows.
    """
    n_params = len(cols) + 2
    failed = Fit(tuple(cols), np.full(len(cols) + 1, np.nan), np.full(len(cols) + 1, np.nan), -math.inf, np.nan,
                 n_params, False)
    exog = design_matrix(X, cols)
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    if start is None or delta0 is None:
        pois = glm_log_fit(y, exog, w)
        if pois is None:
            return failed
        if start is None:
            start = np.asarray(pois.params)
        if delta0 is None:
            mu = pois.mu
            delta0 = float(np.sum(w * (y - mu) ** 2 / mu) / np.sum(w) - 1)
    delta0 = float(np.clip(delta0 if np.isfinite(delta0) else 0.1, 1e-3, 1e3))
    theta = np.append(np.asarray(start, dtype=float), math.log(delta0))
    lgamma_y1, keep = gammaln(y + 1), {}
    fun = lambda th: _nb1_objective(th, exog, y, w, lgamma_y1, keep)  # noqa: E731
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        theta, f, g = newton_lm(fun, lambda th: _nb1_hessian(th, exog, y, w, keep), theta)
        H = _nb1_hessian(theta, exog, y, w, keep)
    if not (np.isfinite(f) and np.isfinite(H).all()):
        return failed
    try:
        cov = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return failed
    with np.errstate(invalid="ignore"):
        se_all = np.sqrt(np.diag(cov))
    bse = se_all[:-1]
    params = theta[:-1]
    if not (np.isfinite(bse).all() and np.abs(params[1:]).max(initial=0) < _MAX_COEF
            and np.max(np.abs(g[:-1])) < 1e-3 * (1 + abs(f))):
        return failed
    delta = math.exp(theta[-1])
    return Fit(tuple(cols), params, bse, -f, delta, n_params, True, delta * float(se_all[-1]))


def alpha_se(y, mu, w, alpha) -> float:
    """Standard error of alpha from the observed information (numerical, on log alpha)."""
    h = 1e-3
    t = math.log(alpha)
    f = [nb_loglik(y, mu, w, math.exp(t + s)) for s in (-h, 0.0, h)]
    d2 = (f[0] - 2 * f[1] + f[2]) / h**2
    return float(alpha / math.sqrt(-d2)) if d2 < 0 else math.nan


# -- pre-selection helpers ---------------------------------------------------------------
_SCORE_CHUNK = 65_536  # cells with incidents per block of the score test (bounds the float copy)


def score_statistics(matrix: np.ndarray, y: np.ndarray, ones: np.ndarray | None = None) -> np.ndarray:
    """Poisson score (Rao) test of each 0/1 variable against the intercept-only model.

    Parameters
    ----------
    matrix : ndarray of 0/1 (uint8), shape (n_cells, n_variables)
    y : ndarray, shape (n_cells,)
        Counts per cell.
    ones : ndarray of int, shape (n_variables,), optional
        How many cells have each variable (the column sums; computed when not given).

    Returns
    -------
    ndarray of float64, shape (n_variables,)
        The score statistic, chi-squared with 1 degree of freedom under the null model;
        0 for a variable that is the same in every cell.

    Notes
    -----
    Under the null model every cell has mean ``ybar``. For variable ``x`` present in
    ``n_x`` of ``n`` cells the score for its coefficient is ``U = x'y - ybar n_x`` and the
    efficient information (the intercept profiled out) is ``I = ybar n_x (n - n_x) / n``,
    so the statistic is ``U**2 / I`` (Rao, C. R. 1948, *Proc. Cambridge Philos. Soc.*
    44, 50-57; McCullagh & Nelder, *Generalized Linear Models*, 2nd ed., 1989). Only
    ``x'y`` needs the data, and only the cells with incidents contribute to it: they are
    read in blocks of 65,536 cells converted to float64, so the cost is O(cells with
    incidents x variables) and no float copy of the whole matrix is made. Under a
    negative binomial null model with a common overdispersion the statistic is the same
    divided by the constant ``1 + alpha ybar``, which leaves the ranking unchanged.
    """
    y = np.asarray(y, dtype=np.float64).ravel()
    n = y.shape[0]
    if ones is None:
        ones = np.zeros(matrix.shape[1], dtype=np.int64)
        for a in range(0, n, _SCORE_CHUNK * 4):
            ones += matrix[a:a + _SCORE_CHUNK * 4].sum(axis=0, dtype=np.int64)
    nx = np.asarray(ones, dtype=np.float64)
    pos = np.flatnonzero(y)
    xy = np.zeros(matrix.shape[1])
    for a in range(0, pos.size, _SCORE_CHUNK):
        rows = pos[a:a + _SCORE_CHUNK]
        xy += y[rows] @ matrix[rows].astype(np.float64)
    ybar = y.sum() / n
    info = ybar * nx * (n - nx) / n
    return np.divide((xy - ybar * nx) ** 2, info, out=np.zeros_like(info), where=info > 0)


def case_control_sample(y: np.ndarray, max_cells: int, rng) -> tuple[np.ndarray, float]:
    """All cells with incidents plus a simple random sample of the cells without.

    Parameters
    ----------
    y : ndarray, shape (n_cells,)
    max_cells : int
        Cells wanted in the sample. The zero cells sampled are ``max_cells`` minus the
        cells with incidents, but never fewer than the cells with incidents (a 1:1
        case-control ratio at least) nor more than there are.
    rng : numpy Generator

    Returns
    -------
    cells : ndarray of int64
        Sampled cells, in increasing order.
    zero_weight : float
        Inverse sampling probability of a zero cell (``zero cells / zero cells sampled``);
        1 when every cell is kept.

    Notes
    -----
    Sampling on the outcome and weighting each sampled unit by its inverse inclusion
    probability (Horvitz & Thompson 1952, *J. Am. Stat. Assoc.* 47, 663-685) keeps every
    weighted sum, and so the weighted log-likelihood, deviance and score, unbiased for
    its value on all cells; the weighted estimator is consistent under such outcome-based
    sampling (Manski & Lerman 1977, *Econometrica* 45(8), 1977-1988). Keeping every case
    and sub-sampling the abundant controls is the simplest case-control subsampling of
    imbalanced data (Fithian & Hastie 2014, *Annals of Statistics* 42(5), 1693-1724, whose
    *local* version also adapts the probabilities to a pilot fit): when events are rare,
    the information about the coefficients is limited by the cells with events, so
    dropping most zero cells costs little precision.
    """
    y = np.asarray(y).ravel()
    pos = np.flatnonzero(y > 0)
    zero = np.flatnonzero(y <= 0)
    m = min(zero.size, max(int(max_cells) - pos.size, pos.size))
    if m >= zero.size:
        return np.arange(y.size), 1.0
    picked = rng.choice(zero, size=m, replace=False)
    return np.sort(np.concatenate([pos, picked])), zero.size / m


def one_thread():
    """Limit OpenMP/BLAS to one thread (glum's CV on small collapsed problems runs many
    short solves; thread start-up and spin-waiting made it 20 times slower on a busy
    2-core machine). A no-op when threadpoolctl (a scikit-learn dependency) is absent."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)
