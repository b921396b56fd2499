"""The risk terrain model: which risk variables raise incident counts per cell, and by how much.

:class:`RiskTerrainModel` follows the RTMDx procedure (Caplan, Kennedy & Piza, *RTMDx User
Manual*, Rutgers Center on Public Security, 2013): an elastic-net penalised Poisson
regression with cross-validation pre-selects candidate variables (after a score-test
screen when they are many, and on a weighted case-control sample of cells when those are
many), then a bidirectional stepwise search from the null model keeps the set with the
lowest BIC, for a Poisson and a negative binomial model; the family with the lower BIC wins. Each selected variable's
relative risk value (RRV) is ``exp(coefficient)``; a cell's relative risk score (RRS) is
the product of the RRVs of the variables present there, scaled so the lowest cell is 1.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from glum import GeneralizedLinearRegressorCV
from scipy.optimize import minimize_scalar
from scipy.special import betaln, gammaln
from scipy.stats import chi2, norm
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.tools.sm_exceptions import PerfectSeparationError

from .grid import Grid
from .variables import RiskVariables

FAMILIES = ("poisson", "negbin")
FAMILY_TITLES = {"poisson": "Poisson", "negbin": "negative binomial"}
RISK_CLASSES = ("highest", "moderately high", "above average", "average or below")
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


# -- count-model fits on weighted rows ---------------------------------------------------
@dataclass
class _Fit:
    cols: tuple
    params: np.ndarray  # intercept first
    bse: np.ndarray
    llf: float
    alpha: float  # 0 for Poisson
    n_params: int  # coefficients + intercept (+ alpha)
    ok: bool

    def bic(self, n: float) -> float:
        return -2 * self.llf + self.n_params * math.log(n) if self.ok else math.inf

    def aic(self) -> float:
        return -2 * self.llf + 2 * self.n_params if self.ok else math.inf


def _exog(X: np.ndarray, cols) -> np.ndarray:
    out = np.ones((X.shape[0], len(cols) + 1))
    if len(cols):
        out[:, 1:] = X[:, list(cols)]
    return out


def _usable(res) -> bool:
    params, bse = np.asarray(res.params), np.asarray(res.bse)
    return bool(getattr(res, "converged", True) and np.isfinite(params).all() and np.isfinite(bse).all()
                and np.abs(params[1:]).max(initial=0) < _MAX_COEF)


def _glm(y, exog, w, family, start=None):
    """A statsmodels GLM fit with frequency weights, or None when it breaks down."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation and convergence are judged by _usable
        try:
            return GLM(y, exog, family=family, freq_weights=w).fit(start_params=start, tol=1e-10, maxiter=200)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError, PerfectSeparationError):
            return None


def _poisson_fit(X, y, w, cols) -> _Fit:
    res = _glm(y, _exog(X, cols), w, families.Poisson())
    if res is None or not _usable(res):
        return _Fit(tuple(cols), np.full(len(cols) + 1, np.nan), np.full(len(cols) + 1, np.nan), -math.inf, 0.0,
                    len(cols) + 1, False)
    mu = res.mu
    llf = float(np.sum(w * (y * np.log(mu) - mu - gammaln(y + 1))))
    return _Fit(tuple(cols), np.asarray(res.params), np.asarray(res.bse), llf, 0.0, len(cols) + 1, True)


def nb_loglik(y: np.ndarray, mu: np.ndarray, weight: np.ndarray, alpha: float) -> float:
    """Weighted NB2 log-likelihood (variance ``mu + alpha * mu**2``).

    Written with ``betaln`` and ``log1p`` so it stays accurate as ``alpha`` approaches 0,
    where it tends to the Poisson log-likelihood.
    """
    r = 1.0 / alpha
    ll = (-np.log(y + r) - betaln(r, y + 1) - r * np.log1p(mu / r)
          + np.where(y > 0, y * (np.log(mu) - np.log(r + mu)), 0.0))
    return float(np.sum(weight * ll))


def _ml_alpha(y, mu, w) -> float:
    """Maximum-likelihood overdispersion for fixed means (bounded search on log alpha)."""
    lo, hi = np.log(_ALPHA_BOUNDS[0]), np.log(_ALPHA_BOUNDS[1])
    res = minimize_scalar(lambda t: -nb_loglik(y, mu, w, math.exp(t)), bounds=(lo, hi), method="bounded",
                          options={"xatol": 1e-9})
    return float(math.exp(res.x))


def _negbin_fit(X, y, w, cols, alpha0: float | None = None) -> _Fit:
    """NB2 fit with the overdispersion estimated by maximum likelihood.

    Alternates a GLM fit of the coefficients for fixed alpha with a one-dimensional
    maximum-likelihood update of alpha for fixed means, until alpha settles: the scheme of
    R's ``MASS::glm.nb`` (Venables & Ripley, *Modern Applied Statistics with S*, 4th ed.,
    2002, section 7.4). At convergence (coefficients, alpha) is the joint maximum.
    """
    n_params = len(cols) + 2
    failed = _Fit(tuple(cols), np.full(len(cols) + 1, np.nan), np.full(len(cols) + 1, np.nan), -math.inf, np.nan,
                  n_params, False)
    exog = _exog(X, cols)
    start = None
    if alpha0 is None or not np.isfinite(alpha0):
        pois = _glm(y, exog, w, families.Poisson())
        if pois is None:
            return failed
        mu, start = pois.mu, np.asarray(pois.params)
        alpha = _ml_alpha(y, mu, w)
    else:
        alpha = float(np.clip(alpha0, *_ALPHA_BOUNDS))
    ll_prev = -math.inf
    for _ in range(100):
        res = _glm(y, exog, w, families.NegativeBinomial(alpha=alpha), start)
        if res is None:
            return failed
        start = np.asarray(res.params)
        new = _ml_alpha(y, res.mu, w)
        ll = nb_loglik(y, res.mu, w, new)
        # the 1-D search resolves log(alpha) to about 1e-7; near alpha = 0 the likelihood
        # is flat in alpha, so a negligible gain in log-likelihood also ends the loop
        settled = abs(math.log(new) - math.log(alpha)) < 1e-6 or ll - ll_prev < 1e-10 * (1 + abs(ll))
        alpha, ll_prev = new, ll
        if settled:
            break
    res = _glm(y, exog, w, families.NegativeBinomial(alpha=alpha), start)
    if res is None or not _usable(res):
        return failed
    return _Fit(tuple(cols), np.asarray(res.params), np.asarray(res.bse), nb_loglik(y, res.mu, w, alpha), alpha,
                n_params, True)


def _alpha_se(y, mu, w, alpha) -> float:
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


def _one_thread():
    """Limit OpenMP/BLAS to one thread (glum's CV on small collapsed problems runs many
    short solves; thread start-up and spin-waiting made it 20 times slower on a busy
    2-core machine). A no-op when threadpoolctl (a scikit-learn dependency) is absent."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


# -- the estimator -----------------------------------------------------------------------
class RiskTerrainModel:
    """Risk terrain model: select risk variables and estimate their relative risk values.

    Parameters
    ----------
    alpha_grid : array-like of float, optional
        Penalty strengths for the elastic net (default: glum's geometric path of
        ``n_alphas`` values from the smallest penalty that keeps every coefficient at 0).
    n_alphas : int
        Penalties on that path when ``alpha_grid`` is not given (glum's default is 100;
        30 is about three times faster and chooses much the same penalty: the stepwise
        search, not the penalty, makes the final choice).
    l1_ratio : float or sequence of float
        Elastic-net mixing in (0, 1]; 1 is the lasso. A sequence is tuned by the CV too.
    cv_folds : int
        Folds of the cross-validation that picks the penalty (cells are split at random).
    max_per_factor : int or None
        Most variables of one factor and operationalisation in the final model (RTMDx keeps
        one spatial influence); None for no limit.
    families : sequence of {"poisson", "negbin"}
        Count models compared by BIC.
    screen_max : int or None
        With more candidates than this, only the ``screen_max`` with the largest Poisson
        score statistic against the null model go on to the elastic net (sure independence
        screening, Fan & Lv 2008; see :func:`score_statistics`). None never screens.
    preselect_max_cells : int or None
        With more cells than this, the elastic net is fitted on every cell with incidents
        plus a random sample of the cells without, each sampled zero cell weighted by its
        inverse sampling probability, about ``preselect_max_cells`` cells in all (see
        :func:`case_control_sample`). The stepwise search and the final fit always use
        every cell. None never samples.
    random_state : int, numpy Generator or None
        Seeds the sample of zero cells and the split of cells into folds.

    Attributes
    ----------
    coef_table_ : pandas.DataFrame
        One row per selected variable (``type`` ``rate``) and, for the negative binomial,
        one for the overdispersion: ``type``, ``variable``, ``factor``,
        ``operationalisation``, ``spatial_influence_m``, ``coefficient``, ``std_error``,
        ``p_value``, ``rrv`` (``exp(coefficient)``). Sorted by RRV, highest first.
    intercept_ : float
    coef_ : ndarray of float
        Coefficients of ``selected_``, in that order.
    family_ : {"poisson", "negbin"}
    alpha_ : float
        Overdispersion (0 for Poisson).
    bic_, aic_ : float
        Of the chosen model, with n = the number of cells.
    family_bic_ : dict
        Best BIC reached by each family.
    n_cells_, n_cells_with_events_, n_rows_ : int
        Cells, cells with at least one incident, and distinct rows after collapsing the
        cells on the candidates that reach the elastic net (all, or the screened ones).
    candidates_ : list of str
        Variables that vary over the cells (constant ones cannot be estimated).
    screened_ : list of str
        Candidates that reach the elastic net: all of them, or the ``screen_max`` with the
        largest score statistic.
    score_ : ndarray of float
        Score statistic of each candidate against the null model (same order as
        ``candidates_``; computed only when screening, else empty).
    preselect_cells_ : int
        Cells the elastic net was fitted on (all, or the case-control sample).
    preselected_ : list of str
        Candidates with a non-zero elastic-net coefficient at the penalty with the lowest
        cross-validated deviance.
    selected_ : list of str
        Variables in the final model.
    cv_alpha_, cv_l1_ratio_ : float
        The penalty the cross-validation chose.
    selection_log_ : list of dict
        Every stage and step (``stage``, ``family``, ``step``, ``action``, ``variables``,
        ``bic``, ``text``), for a narrative of how the model was chosen.
    """

    def __init__(self, alpha_grid=None, l1_ratio=0.5, cv_folds: int = 5, max_per_factor: int | None = 1,
                 families=FAMILIES, random_state=None, n_alphas: int = 30, screen_max: int | None = 60,
                 preselect_max_cells: int | None = 200_000):
        self.alpha_grid = alpha_grid
        self.l1_ratio = l1_ratio
        self.cv_folds = cv_folds
        self.max_per_factor = max_per_factor
        self.families = families
        self.random_state = random_state
        self.n_alphas = n_alphas
        self.screen_max = screen_max
        self.preselect_max_cells = preselect_max_cells

    # -- scikit-learn conventions ---------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict:
        return {k: getattr(self, k) for k in ("alpha_grid", "l1_ratio", "cv_folds", "max_per_factor", "families",
                                              "random_state", "n_alphas", "screen_max", "preselect_max_cells")}

    def set_params(self, **params) -> "RiskTerrainModel":
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError(f"RiskTerrainModel has no parameter '{k}'")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        return "RiskTerrainModel(" + ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()) + ")"

    def _checked_params(self):
        fams = (self.families,) if isinstance(self.families, str) else tuple(self.families)
        if not fams or any(f not in FAMILIES for f in fams) or len(set(fams)) != len(fams):
            raise ValueError(f"families must be one or both of 'poisson', 'negbin' (each once), not {self.families!r}")
        l1 = np.atleast_1d(np.asarray(self.l1_ratio, dtype=float))
        if l1.ndim != 1 or not l1.size or not np.all((l1 > 0) & (l1 <= 1)):
            raise ValueError(f"l1_ratio must be in (0, 1] (0 is a ridge penalty, which selects nothing), "
                             f"not {self.l1_ratio!r}")
        if self.alpha_grid is not None:
            a = np.asarray(self.alpha_grid, dtype=float)
            if a.ndim != 1 or not a.size or not np.all(np.isfinite(a) & (a > 0)):
                raise ValueError(f"alpha_grid must be a list of positive penalty strengths, not {self.alpha_grid!r}")
        if isinstance(self.cv_folds, bool) or not isinstance(self.cv_folds, (int, np.integer)) or self.cv_folds < 2:
            raise ValueError(f"cv_folds must be a whole number of at least 2, not {self.cv_folds!r}")
        mpf = self.max_per_factor
        if mpf is not None and (isinstance(mpf, bool) or not isinstance(mpf, (int, np.integer)) or mpf < 1):
            raise ValueError(f"max_per_factor must be a whole number of at least 1 or None, not {mpf!r}")
        for key, low, none_ok in (("n_alphas", 2, False), ("screen_max", 1, True), ("preselect_max_cells", 100, True)):
            v = getattr(self, key)
            if v is None and none_ok:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise ValueError(f"{key} must be a whole number of at least {low}" + (" or None" if none_ok else "")
                                 + f", not {v!r}")
        return fams, (float(l1[0]) if l1.size == 1 else l1)

    # -- fitting --------------------------------------------------------------------------
    def fit(self, X: RiskVariables, y) -> "RiskTerrainModel":
        """Select the risk variables and estimate their effects.

        Parameters
        ----------
        X : RiskVariables
        y : array-like
            Incident counts (or harm-weighted counts) per masked cell, in the order of
            ``X`` rows; a full grid array of shape ``X.shape`` is also accepted.

        Returns
        -------
        self

        Notes
        -----
        Pre-selection has three steps, each cheap enough for 360 candidates on 1.5 million
        cells (timings on a 2-core machine, docs/benchmarks.md):

        1. *Screening* (more than ``screen_max`` candidates): the Poisson score statistic
           of every candidate against the null model (:func:`score_statistics`; 0.2 s for
           360 candidates on 1.5 million cells, it reads only the cells with incidents)
           ranks them and the ``screen_max`` largest go on: sure independence screening
           (Fan, J. & Lv, J. 2008, Sure independence screening for ultrahigh dimensional
           feature space, *J. R. Stat. Soc. B* 70(5), 849-911; for GLMs Fan, J. & Song, R.
           2010, *Annals of Statistics* 38(6), 3567-3604), which keeps the true variables
           with probability tending to 1 when they are marginally associated with the
           counts. A variable that matters only jointly with others can be screened out.
        2. *Collapsing*: cells with the same screened variables and count become one
           weighted row (:func:`collapse_cells`), so the fits below cost time in distinct
           rows, not cells.
        3. *Elastic net* (glum's ``GeneralizedLinearRegressorCV``: Poisson, predictors
           standardised like glmnet, ``n_alphas`` penalties unless ``alpha_grid`` is given,
           one thread). The folds split *cells* at random, each weighted row being divided
           among folds by how many of its cells fall in each, so the CV equals a cell-level
           CV. With more than ``preselect_max_cells`` cells it runs on a case-control
           sample (:func:`case_control_sample`: all cells with incidents, a random sample
           of the others weighted by their inverse sampling probability), so its cost no
           longer grows with the number of cells. It holds ``rows x candidates`` float64
           values per fit and its time grows with ``rows x candidates**2`` (each IRLS step
           forms ``X'WX``): 60 screened candidates on 1.5 million cells take about 1 s,
           where 360 unscreened ones had not finished after 5 minutes and held 9.9 GB;
           60 wide bands of 60 different factors (400,000 distinct rows) take 11 s on the
           200,000-cell sample against 50 s on all cells.
           float32 would halve the memory but crashed glum 3.4 (segmentation fault), and
           two threads made the fit 7 times slower (0.85 s against 6.2 s), so it stays
           float64 on one thread.

        Screening and sub-sampling only decide which candidates the stepwise search may
        try: the rows are then collapsed again, on all cells, on the pre-selected variables
        alone (usually a few hundred rows), and the stepwise search and final fit are exact
        maximum-likelihood fits on every cell. The stepwise search (add, drop, or swap one
        spatial influence for another of the same factor when ``max_per_factor`` is
        reached) refits a statsmodels GLM with frequency weights per move, and a negative
        binomial move costs a few GLM fits (see ``_negbin_fit``). BIC is ``-2 logL + k log(n)``
        with n the number of cells and k counting the intercept and, for the negative
        binomial, alpha.
        Non-integer (harm-weighted) counts give a quasi-likelihood: estimates are still
        consistent but BIC comparisons are approximate.
        """
        families, l1 = self._checked_params()
        if not isinstance(X, RiskVariables):
            raise ValueError(f"X must be RiskVariables (from rtm.variables.build_variables), not {type(X).__name__}")
        y = np.asarray(y, dtype=float)
        if y.ndim == 2 and y.shape == tuple(X.shape):
            y = y.ravel()[X.cells]
        if y.ndim != 1 or y.shape[0] != X.n_cells:
            raise ValueError(f"y must have one count per masked cell ({X.n_cells}), not shape {y.shape}")
        if not np.all(np.isfinite(y)) or (y < 0).any():
            raise ValueError("y must be non-negative finite counts")
        n = X.n_cells
        if n < self.cv_folds:
            raise ValueError(f"there are {n} cells, fewer than cv_folds={self.cv_folds}")
        if not (y > 0).any():
            raise ValueError("y has no incidents: there is nothing to model")
        rng = np.random.default_rng(self.random_state)
        log: list[dict] = []

        def note(stage, text, family=None, step=None, action=None, variables=(), bic=None):
            log.append({"stage": stage, "family": family, "step": step, "action": action,
                        "variables": list(variables), "bic": bic, "text": text})

        table = X.table.reset_index(drop=True)
        varying = (table["cells"] > 0) & (table["cells"] < n)
        constant = table.loc[~varying, "name"].tolist()
        if constant:
            note("candidates", f"{len(constant)} variable(s) are the same in every cell and cannot be estimated: "
                 f"{', '.join(constant)}", variables=constant)
        cand = table[varying].reset_index(drop=True)
        names = cand["name"].tolist()
        self.candidates_ = names
        self.n_cells_, self.n_cells_with_events_ = n, int((y > 0).sum())

        # screening: only the candidates most associated with the counts reach the elastic net
        keep = list(range(len(names)))
        self.score_ = np.zeros(0)
        if self.screen_max is not None and len(names) > self.screen_max:
            self.score_ = score_statistics(X.matrix, y, table["cells"].to_numpy())[X.columns(names)]
            keep = sorted(int(i) for i in np.argsort(-self.score_, kind="stable")[:int(self.screen_max)])
            note("preselect", f"screening: a Poisson score test of each candidate against the null model kept the "
                 f"{len(keep)} candidates with the largest statistic (chi-squared {self.score_[keep].min():.1f} or "
                 f"more); {len(names) - len(keep)} of {len(names)} screened out", action="screen",
                 variables=[names[i] for i in keep])
        self.screened_ = [names[i] for i in keep]

        coll = collapse_cells(X.matrix[:, X.columns(self.screened_)], y)
        self.n_rows_ = len(coll.y)
        note("collapse", f"{n:,} cells with {len(keep)} {'screened ' if len(keep) < len(names) else ''}candidate "
             f"variables collapse to {self.n_rows_:,} distinct rows of variables and count; all fits use such rows "
             "with frequency weights")

        # sub-sampling: the elastic net sees every cell with incidents and a weighted sample of the others
        cells, zero_weight = None, 1.0
        if names and self.preselect_max_cells is not None and n > self.preselect_max_cells:
            cells, zero_weight = case_control_sample(y, int(self.preselect_max_cells), rng)
            if zero_weight == 1.0:
                cells = None
            else:
                n_pos = self.n_cells_with_events_
                note("preselect", f"sub-sampling: the elastic net is fitted on all {n_pos:,} cells with incidents "
                     f"and a random sample of {len(cells) - n_pos:,} of the {n - n_pos:,} cells without, each "
                     f"weighted {zero_weight:.4g} (its inverse sampling probability); the stepwise search and the "
                     "final fit use every cell", action="subsample")
        self.preselect_cells_ = n if cells is None else len(cells)

        self.cv_alpha_, self.cv_l1_ratio_ = math.nan, float(np.atleast_1d(l1)[0])
        pre_local = self._preselect(coll, l1, rng, cells, zero_weight) if names else []
        pre = [keep[i] for i in pre_local]
        self.preselected_ = [names[i] for i in pre]
        if names:
            of = f"{len(keep)} screened" if len(keep) < len(names) else f"{len(names)}"
            note("preselect", f"elastic net (l1_ratio {self.cv_l1_ratio_:g}, penalty {self.cv_alpha_:.3g} by "
                 f"{self.cv_folds}-fold CV" + (f" on {len(cells):,} sampled cells" if cells is not None else "")
                 + f") kept {len(pre)} of {of} candidates"
                 + (f": {', '.join(self.preselected_)}" if pre else ""), variables=self.preselected_)
        else:
            note("preselect", "no variable varies over the cells: only the null model can be fitted")

        # the stepwise search only ever uses the pre-selected columns: collapsing on them
        # alone gives fewer rows and the same likelihoods
        names = self.preselected_
        sub = cand.iloc[pre].reset_index(drop=True)
        if pre:
            merged = collapse_cells(coll.X[:, pre_local], coll.y, coll.weight)
            coll = CollapsedCells(merged.X, merged.y, merged.weight, merged.inverse[coll.inverse])
        Xu, yu, wu = coll.X, coll.y, coll.weight.astype(float)
        if pre:
            note("collapse", f"on the {len(pre)} pre-selected variables the cells collapse to {len(yu):,} rows")
        groups = list(zip(sub["factor"], sub["operationalisation"]))
        pool = list(range(len(pre)))
        best = {}
        caches = {}
        for fam in families:
            best[fam], caches[fam] = self._stepwise(fam, Xu, yu, wu, pool, groups, names, note)
        self.family_bic_ = {f: best[f].bic(n) for f in families}
        fam = min(families, key=lambda f: self.family_bic_[f])
        if len(families) > 1:
            other = [f for f in families if f != fam][0]
            note("family", f"{FAMILY_TITLES[fam]} chosen: BIC {self.family_bic_[fam]:.1f} against "
                 f"{self.family_bic_[other]:.1f} for {FAMILY_TITLES[other]}", family=fam,
                 bic=self.family_bic_[fam])
        fit = best[fam]
        self.family_ = fam
        self.alpha_ = float(fit.alpha) if fam == "negbin" else 0.0
        self.bic_, self.aic_ = fit.bic(n), fit.aic()
        self.intercept_ = float(fit.params[0])
        self.selected_ = [names[i] for i in fit.cols]
        self.coef_ = np.asarray(fit.params[1:], dtype=float)
        rows = []
        for k, i in enumerate(fit.cols):
            b, se = float(fit.params[k + 1]), float(fit.bse[k + 1])
            rows.append({"type": "rate", "variable": names[i], "factor": sub.at[i, "factor"],
                         "operationalisation": sub.at[i, "operationalisation"],
                         "spatial_influence_m": float(sub.at[i, "spatial_influence_m"]), "coefficient": b,
                         "std_error": se, "p_value": float(2 * norm.sf(abs(b / se))), "rrv": math.exp(b)})
        rows.sort(key=lambda r: -r["rrv"])
        if fam == "negbin":
            mu = np.exp(_exog(Xu, fit.cols) @ fit.params)
            pois = caches.get("poisson", {}).get(frozenset(fit.cols)) or _poisson_fit(Xu, yu, wu, fit.cols)
            lr = max(0.0, 2 * (fit.llf - pois.llf)) if pois.ok else math.nan
            # alpha = 0 lies on the boundary: the LR statistic is a 50:50 mix of 0 and chi2(1)
            # (Self & Liang 1987, J. Am. Stat. Assoc. 82, 605-610)
            rows.append({"type": "overdispersion", "variable": "alpha", "factor": "", "operationalisation": "",
                         "spatial_influence_m": math.nan, "coefficient": self.alpha_,
                         "std_error": _alpha_se(yu, mu, wu, self.alpha_), "p_value": 0.5 * chi2.sf(lr, 1),
                         "rrv": math.nan})
        self.coef_table_ = pd.DataFrame(rows, columns=["type", "variable", "factor", "operationalisation",
                                                       "spatial_influence_m", "coefficient", "std_error",
                                                       "p_value", "rrv"])
        note("final", f"final {FAMILY_TITLES[fam]} model: "
             + (", ".join(f"{r['variable']} (RRV {r['rrv']:.2f})" for r in rows if r["type"] == "rate")
                or "no variable beats the null model")
             + f"; BIC {self.bic_:.1f}", family=fam, variables=self.selected_, bic=self.bic_)
        self.selection_log_ = log
        return self

    def _preselect(self, coll: CollapsedCells, l1, rng, cells=None, zero_weight: float = 1.0) -> list[int]:
        """Indices (columns of ``coll.X``) of the candidates the cross-validated elastic net keeps.

        ``cells`` restricts the fit to those cells (a case-control sample), whose rows
        without incidents are weighted ``zero_weight`` per cell.
        """
        k = int(self.cv_folds)
        rows = coll.inverse if cells is None else coll.inverse[cells]
        fold = rng.permutation(rows.shape[0]) % k
        per = np.bincount(rows * k + fold, minlength=len(coll.y) * k)
        key = np.flatnonzero(per)
        row, f = key // k, key % k
        weight = per[key].astype(np.float64)
        if zero_weight != 1.0:
            weight *= np.where(coll.y[row] > 0, 1.0, zero_weight)
        splits = [(np.flatnonzero(f != i), np.flatnonzero(f == i)) for i in range(k)]
        est = GeneralizedLinearRegressorCV(family="poisson", l1_ratio=l1, alphas=self.alpha_grid,
                                           n_alphas=int(self.n_alphas), cv=splits, scale_predictors=True)
        with warnings.catch_warnings(), _one_thread():
            warnings.simplefilter("ignore")
            est.fit(coll.X[row].astype(np.float64), coll.y[row], sample_weight=weight)
        self.cv_alpha_, self.cv_l1_ratio_ = float(est.alpha_), float(est.l1_ratio_)
        return [int(i) for i in np.flatnonzero(np.asarray(est.coef_) != 0)]

    def _stepwise(self, family, X, y, w, pool, groups, names, note):
        """Bidirectional stepwise search from the null model; returns the best fit and the cache."""
        n = float(w.sum())
        cache: dict[frozenset, _Fit] = {}
        hint = [None]

        def evaluate(cols: frozenset) -> _Fit:
            if cols not in cache:
                ordered = tuple(sorted(cols))
                cache[cols] = (_poisson_fit(X, y, w, ordered) if family == "poisson"
                               else _negbin_fit(X, y, w, ordered, hint[0]))
            return cache[cols]

        title = FAMILY_TITLES[family]
        current = frozenset()
        fit = evaluate(current)
        note("stepwise", f"{title}: null model, BIC {fit.bic(n):.1f}", family, 0, "start", (), fit.bic(n))
        rejected = set()
        for step in range(1, 4 * len(pool) + 2):
            hint[0] = fit.alpha if family == "negbin" and fit.ok else None
            moves = []
            for j in pool:
                if j in current:
                    continue
                same = [i for i in current if groups[i] == groups[j]]
                if self.max_per_factor is None or len(same) < self.max_per_factor:
                    moves.append(("add", (j,), current | {j}))
                else:
                    moves.extend(("swap", (i, j), (current - {i}) | {j}) for i in same)
            moves.extend(("drop", (i,), current - {i}) for i in current)
            scored = []
            for action, which, cols in moves:
                f = evaluate(cols)
                if f.ok:
                    scored.append((f.bic(n), action, which, cols))
                elif cols not in rejected:
                    rejected.add(cols)
            if not scored:
                break
            bic, action, which, cols = min(scored, key=lambda s: s[0])
            if not bic < fit.bic(n) - 1e-9:
                note("stepwise", f"{title}: no addition, removal or swap lowers BIC; stop at "
                     f"{', '.join(names[i] for i in sorted(current)) or 'the null model'}", family, step, "stop",
                     [names[i] for i in sorted(current)], fit.bic(n))
                break
            verb = (f"swap {names[which[0]]} for {names[which[1]]}" if action == "swap"
                    else f"{action} {names[which[0]]}")
            note("stepwise", f"{title}: {verb}, BIC {fit.bic(n):.1f} -> {bic:.1f}", family, step, action,
                 [names[i] for i in which], bic)
            current, fit = cols, cache[cols]
        if rejected:
            note("stepwise", f"{title}: {len(rejected)} model(s) were skipped because their fit did not converge "
                 "or a coefficient diverged (a variable whose cells have no incidents)", family)
        return fit, cache

    # -- prediction -----------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "coef_table_"):
            raise ValueError("this RiskTerrainModel is not fitted yet; call fit first")

    def predict_rrs(self, X: RiskVariables) -> np.ndarray:
        """Relative risk score of each masked cell.

        Parameters
        ----------
        X : RiskVariables
            Must hold the selected variables (by name), e.g. the same grid as in ``fit``
            or another built with the same settings.

        Returns
        -------
        ndarray of float64, shape (X.n_cells,)
            The product of the RRVs of the selected variables present in each cell,
            divided by the lowest such product, so the lowest cell scores 1.
        """
        self._check_fitted()
        if not isinstance(X, RiskVariables):
            raise ValueError(f"X must be RiskVariables, not {type(X).__name__}")
        eta = np.zeros(X.n_cells)
        if self.selected_:
            eta = X.matrix[:, X.columns(self.selected_)].astype(np.float64) @ self.coef_
        return np.exp(eta - eta.min())


def risk_classes(rrs, counts) -> pd.DataFrame:
    """Share of area and of incidents in each risk class of the relative risk score.

    Parameters
    ----------
    rrs : array-like, shape (n_cells,)
    counts : array-like, shape (n_cells,)
        Incidents (or harm) per cell.

    Returns
    -------
    pandas.DataFrame
        One row per class: ``risk_class`` (``highest``: RRS >= mean + 2 SD;
        ``moderately high``: mean + 1 SD to mean + 2 SD; ``above average``: mean to mean +
        1 SD; ``average or below``: the rest), ``rrs_from``, ``rrs_to`` (``[from, to)``),
        ``cells``, ``share_of_area``, ``incidents``, ``share_of_incidents``.

    Notes
    -----
    Mean and SD (population, ``ddof=0``) are over the cells given. Cells at exactly the
    mean are "average or below", so a constant score puts every cell there.
    """
    rrs, counts = np.asarray(rrs, dtype=float).ravel(), np.asarray(counts, dtype=float).ravel()
    if rrs.shape != counts.shape:
        raise ValueError(f"rrs has {rrs.size} values but counts has {counts.size}")
    if not rrs.size or not np.isfinite(rrs).all():
        raise ValueError("rrs must be a non-empty array of finite scores")
    m, s = rrs.mean(), rrs.std()
    edges = [m + 2 * s, m + s, m, -np.inf]
    upper = [np.inf, m + 2 * s, m + s, m]
    cls = np.full(rrs.size, 3)
    if s > 0:
        cls[(rrs > m) & (rrs < m + s)] = 2
        cls[(rrs >= m + s) & (rrs < m + 2 * s)] = 1
        cls[rrs >= m + 2 * s] = 0
    cells = np.bincount(cls, minlength=4)
    inc = np.bincount(cls, weights=counts, minlength=4)
    total = counts.sum()
    return pd.DataFrame({"risk_class": RISK_CLASSES, "rrs_from": edges, "rrs_to": upper, "cells": cells,
                         "share_of_area": cells / rrs.size, "incidents": inc,
                         "share_of_incidents": inc / total if total > 0 else np.full(4, np.nan)})


def rrs_raster(grid: Grid, rrs_masked) -> np.ndarray:
    """Relative risk scores of the masked cells as a grid (float32, NaN outside the mask)."""
    rrs_masked = np.asarray(rrs_masked, dtype=float).ravel()
    if rrs_masked.size != int(grid.mask.sum()):
        raise ValueError(f"rrs_masked has {rrs_masked.size} values but the grid has {int(grid.mask.sum())} "
                         "masked cells")
    out = np.full(grid.shape, np.nan, dtype=np.float32)
    out[grid.mask] = rrs_masked
    return out


def write_geotiff(path, grid: Grid, array, *, name: str = "relative_risk_score", provenance: dict | None = None) -> Path:
    """Write a single-band float32 Cloud-Optimised GeoTIFF on the grid (band description
    ``name``, NaN nodata; see :func:`rtm.exports.geotiff.write_cog`).

    Returns
    -------
    Path
        The file written.
    """
    from .exports.geotiff import write_cog

    array = np.asarray(array, dtype=np.float32)
    if array.shape != grid.shape:
        raise ValueError(f"array has shape {array.shape} but the grid is {grid.shape}")
    return write_cog(path, grid, {name: array}, provenance=provenance)
