"""The risk terrain model: which risk variables raise incident counts per cell, and by how much.

:class:`RiskTerrainModel` follows the RTMDx procedure (Caplan, Kennedy & Piza, *RTMDx User
Manual*, Rutgers Center on Public Security, 2013): an elastic-net penalised Poisson
regression with cross-validation pre-selects candidate variables (after a score-test
screen when they are many, and on a weighted case-control sample of cells when those are
many), then a bidirectional stepwise search from the null model keeps the set with the
lowest BIC, for a Poisson, an NB1 and an NB2 model; the family with the lowest BIC wins. Each selected variable's
relative risk value (RRV) is ``exp(coefficient)``; a cell's relative risk score (RRS) is
the product of the RRVs of the variables present there, scaled so the lowest cell is 1.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm

from .model_moves import MoveRows
from .model_nb2 import nb2_fit
from .model_preselect import cv_elastic_net
from .model_stats import (CollapsedCells, Fit, alpha_se, case_control_sample, collapse_cells,
                          design_matrix, nb1_fit, negbin_fit, poisson_fit, score_statistics)
from .variables import RiskVariables

FAMILIES = ("poisson", "nb1", "nb2")
FAMILY_TITLES = {"poisson": "Poisson", "nb1": "negative binomial NB1", "nb2": "negative binomial NB2"}
#: The variance of each family, for reports.
FAMILY_VARIANCE = {"poisson": "var = mu", "nb1": "var = mu (1 + delta)", "nb2": "var = mu + alpha mu^2"}
#: The overdispersion parameter's name in tables.
DISPERSION_NAME = {"nb1": "delta", "nb2": "alpha"}
FAMILY_ALIASES = {"negbin": "nb2"}
"""Old names still read (terrain.json files written before NB1 was added called NB2 ``negbin``)."""
LIMITS = ("operationalisation", "factor")


def family_name(family: str) -> str:
    """The canonical family name (``negbin`` is read as ``nb2``)."""
    return FAMILY_ALIASES.get(family, family)


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
        Most variables of one factor (and operationalisation, see ``limit_by``) in the final
        model (RTMDx keeps one spatial influence); None for no limit.
    limit_by : {"operationalisation", "factor"}
        What ``max_per_factor`` counts: ``operationalisation`` (default) lets a factor enter
        once as proximity and once as density; ``factor`` lets it enter once in all.
    families : sequence of {"poisson", "nb1", "nb2"}
        Count models compared by BIC (``negbin`` is read as ``nb2``). NB1 has variance
        ``mu (1 + delta)`` (RTMDx's gamlss NBII), NB2 ``mu + alpha mu^2``.
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
    family_ : {"poisson", "nb1", "nb2"}
    alpha_ : float
        Overdispersion: delta for NB1, alpha for NB2, 0 for Poisson.
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
    timings_ : dict of str to float
        Seconds spent in each stage (``screening``, ``collapsing``, ``elastic net``,
        ``stepwise <family>``, ``final table``), for benchmarks; ``cpu_timings_`` the
        same in CPU seconds of this process (steadier on a shared machine).
    selection_log_ : list of dict
        Every stage and step (``stage``, ``family``, ``step``, ``action``, ``variables``,
        ``bic``, ``text``), for a narrative of how the model was chosen.
    """

    warm_start = True
    """Start each stepwise move's fit from the current model's coefficients (0 for an added
    variable), falling back to the usual start when that fit fails; False: every fit from
    the usual start (same maxima, for tests and benchmarks)."""

    collapse_moves = True
    """Fit each stepwise move on rows collapsed to its own columns (False: on the rows of all
    pre-selected variables, the plain search; same fits, for benchmarks)."""

    def __init__(self, alpha_grid=None, l1_ratio=0.5, cv_folds: int = 5, max_per_factor: int | None = 1,
                 families=FAMILIES, random_state=None, n_alphas: int = 30, screen_max: int | None = 60,
                 preselect_max_cells: int | None = 200_000, limit_by: str = "operationalisation"):
        self.alpha_grid = alpha_grid
        self.l1_ratio = l1_ratio
        self.cv_folds = cv_folds
        self.max_per_factor = max_per_factor
        self.families = families
        self.random_state = random_state
        self.n_alphas = n_alphas
        self.screen_max = screen_max
        self.preselect_max_cells = preselect_max_cells
        self.limit_by = limit_by

    # -- scikit-learn conventions ---------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict:
        return {k: getattr(self, k) for k in ("alpha_grid", "l1_ratio", "cv_folds", "max_per_factor", "families",
                                              "random_state", "n_alphas", "screen_max", "preselect_max_cells",
                                              "limit_by")}

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
        fams = tuple(family_name(f) for f in fams)
        if not fams or any(f not in FAMILIES for f in fams) or len(set(fams)) != len(fams):
            raise ValueError(f"families must be one or more of 'poisson', 'nb1', 'nb2' (each once), "
                             f"not {self.families!r}")
        if self.limit_by not in LIMITS:
            raise ValueError(f"limit_by must be 'operationalisation' or 'factor', not {self.limit_by!r}")
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
        3. *Elastic net* (:func:`rtm.model_preselect.cv_elastic_net`: glum, Poisson,
           predictors standardised like glmnet, ``n_alphas`` penalties unless
           ``alpha_grid`` is given, one thread; the same choice as glum's
           ``GeneralizedLinearRegressorCV`` on every cell). The folds split *cells* at
           random, each weighted row being divided among folds by how many of its cells
           fall in each, and each fold is fitted on its own distinct patterns, so the CV
           equals a cell-level CV. With more than ``preselect_max_cells`` cells it runs on a case-control
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
        reached) fits each move on the rows merged on its own columns (:class:`MoveRows`,
        one table shared by the families), starting from the current model's estimates
        (``warm_start``); NB2 moves by joint Newton steps (:func:`nb2_fit`). BIC is
        ``-2 logL + k log(n)``
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
        clock = [time.perf_counter(), time.process_time()]
        self.timings_, self.cpu_timings_ = {}, {}

        def lap(stage):
            now = [time.perf_counter(), time.process_time()]
            for spent, was, t in zip((self.timings_, self.cpu_timings_), clock, now):
                spent[stage] = spent.get(stage, 0.0) + t - was
            clock[:] = now
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

        lap("screening")
        coll = collapse_cells(X.matrix[:, X.columns(self.screened_)], y)
        lap("collapsing")
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
        lap("collapsing")
        pre_local = self._preselect(coll, l1, rng, cells, zero_weight) if names else []
        lap("elastic net")
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
        groups = (list(zip(sub["factor"], sub["operationalisation"])) if self.limit_by == "operationalisation"
                  else list(sub["factor"]))
        pool = list(range(len(pre)))
        best = {}
        caches = {}
        lap("collapsing")
        shared = MoveRows(Xu, yu, wu)
        for fam in families:
            best[fam], caches[fam] = self._stepwise(fam, Xu, yu, wu, pool, groups, names, note, shared)
            lap(f"stepwise {fam}")
        self.family_bic_ = {f: best[f].bic(n) for f in families}
        fam = min(families, key=lambda f: self.family_bic_[f])
        if len(families) > 1:
            others = ", ".join(f"{self.family_bic_[o]:.1f} for {FAMILY_TITLES[o]}" for o in families if o != fam)
            note("family", f"{FAMILY_TITLES[fam]} ({FAMILY_VARIANCE[fam]}) chosen: BIC {self.family_bic_[fam]:.1f} "
                 f"against {others}", family=fam, bic=self.family_bic_[fam])
        fit = best[fam]
        self.family_ = fam
        self.alpha_ = float(fit.alpha) if fam != "poisson" else 0.0
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
        if fam != "poisson":
            mu = np.exp(design_matrix(Xu, fit.cols) @ fit.params)
            pois = caches.get("poisson", {}).get(frozenset(fit.cols)) or poisson_fit(Xu, yu, wu, fit.cols)
            lr = max(0.0, 2 * (fit.llf - pois.llf)) if pois.ok else math.nan
            # alpha = 0 lies on the boundary: the LR statistic is a 50:50 mix of 0 and chi2(1)
            # (Self & Liang 1987, J. Am. Stat. Assoc. 82, 605-610)
            se = alpha_se(yu, mu, wu, self.alpha_) if fam == "nb2" else fit.alpha_se
            rows.append({"type": "overdispersion", "variable": DISPERSION_NAME[fam], "factor": "",
                         "operationalisation": "", "spatial_influence_m": math.nan, "coefficient": self.alpha_,
                         "std_error": se, "p_value": 0.5 * chi2.sf(lr, 1), "rrv": math.nan})
        self.coef_table_ = pd.DataFrame(rows, columns=["type", "variable", "factor", "operationalisation",
                                                       "spatial_influence_m", "coefficient", "std_error",
                                                       "p_value", "rrv"])
        note("final", f"final {FAMILY_TITLES[fam]} model: "
             + (", ".join(f"{r['variable']} (RRV {r['rrv']:.2f})" for r in rows if r["type"] == "rate")
                or "no variable beats the null model")
             + f"; BIC {self.bic_:.1f}", family=fam, variables=self.selected_, bic=self.bic_)
        self.selection_log_ = log
        lap("final table")
        return self

    def _preselect(self, coll: CollapsedCells, l1, rng, cells=None, zero_weight: float = 1.0) -> list[int]:
        """Indices (columns of ``coll.X``) of the candidates the cross-validated elastic net keeps.

        ``cells`` restricts the fit to those cells (a case-control sample), whose rows
        without incidents are weighted ``zero_weight`` per cell.
        """
        k = int(self.cv_folds)
        rows = coll.inverse if cells is None else coll.inverse[cells]
        fold = rng.permutation(rows.shape[0]) % k
        per = np.bincount(rows * k + fold, minlength=len(coll.y) * k).reshape(len(coll.y), k).astype(np.float64)
        if zero_weight != 1.0:
            per *= np.where(coll.y > 0, 1.0, zero_weight)[:, None]
        used = per.sum(axis=1) > 0
        res = cv_elastic_net(coll.X[used], coll.y[used], per[used], l1, self.alpha_grid, int(self.n_alphas))
        self.cv_alpha_, self.cv_l1_ratio_ = res.alpha, res.l1_ratio
        return res.selected

    def _stepwise(self, family, X, y, w, pool, groups, names, note, rows: MoveRows | None = None):
        """Bidirectional stepwise search from the null model; returns the best fit and the cache.

        ``rows`` (a :class:`MoveRows` of ``X, y, w``) is shared by the families' searches,
        so each column set is merged once."""
        n = float(w.sum())
        if rows is None:
            rows = MoveRows(X, y, w)
        cache: dict[frozenset, Fit] = {}
        hint = [None]
        base = [None]

        def evaluate(cols: frozenset) -> Fit:
            if cols not in cache:
                ordered = tuple(sorted(cols))
                const, gap = None, 0.0
                if self.collapse_moves:
                    # each move's model sees only its own columns: the rows collapse again on
                    # them (a few hundred at most), with the same likelihood as every cell;
                    # Poisson needs only each pattern's total weight and mean count
                    if family == "poisson":
                        Xm, ym, wm, gap = rows.means(ordered)
                    else:
                        Xm, ym, wm = rows.counts(ordered)
                    local = tuple(range(len(ordered)))
                    const = rows.lgamma_sum
                else:
                    Xm, ym, wm, local = X, y, w, ordered
                # warm start: the current model's coefficients, 0 for a variable it lacks
                start = None
                if self.warm_start and base[0] is not None and base[0].ok:
                    had = dict(zip(base[0].cols, base[0].params[1:]))
                    start = np.array([base[0].params[0]] + [had.get(c, 0.0) for c in ordered])
                for guess in ((start, None) if start is not None else (None,)):
                    if family == "poisson":
                        f = poisson_fit(Xm, ym, wm, local, const, start=guess, dev_offset=gap)
                    elif family == "nb2":
                        f = nb2_fit(Xm, ym, wm, local, hint[0], start=guess)
                    else:
                        f = nb1_fit(Xm, ym, wm, local, hint[0], start=guess)
                    if f.ok:
                        break
                f.cols = ordered
                cache[cols] = f
            return cache[cols]

        title = FAMILY_TITLES[family]
        current = frozenset()
        fit = evaluate(current)
        note("stepwise", f"{title}: null model, BIC {fit.bic(n):.1f}", family, 0, "start", (), fit.bic(n))
        rejected = set()
        for step in range(1, 4 * len(pool) + 2):
            hint[0] = fit.alpha if family != "poisson" and fit.ok else None
            base[0] = fit
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
