"""Rows for the stepwise search's moves: one table of collapsed rows shared by every family
(:class:`MoveRows`).

Each move of the stepwise search fits a model on a few of the pre-selected variables. Its
likelihood only needs the rows merged on those columns, which are far fewer than the
pre-selected rows (a few hundred against 13,000 on the Chicago model). :class:`MoveRows`
merges them without sorting and keeps each merge, so Poisson, NB1 and NB2, which try
mostly the same sets, merge each set once.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from .model_stats import collapse_cells, collapse_on

_DIRECT = 1 << 22  # most (pattern, count) codes counted directly with np.bincount


class MoveRows:
    """The rows of weighted 0/1 data merged on any subset of its columns, memoised.

    Parameters
    ----------
    X : ndarray of 0/1 (uint8), shape (n_rows, n_variables)
    y : ndarray of float, shape (n_rows,)
        Counts (or harm-weighted counts).
    w : ndarray of float, shape (n_rows,)
        Frequency weights (cells per row).

    Attributes
    ----------
    lgamma_sum : float
        ``sum w log(y!)``: the part of the Poisson log-likelihood that is free of the
        coefficients, which :meth:`means` rows drop (see there).

    Notes
    -----
    A column set of ``k`` columns codes each row as ``count code * 2**k + the columns'
    bits``; when there are at most ``2**22`` codes, ``np.bincount`` over the codes merges
    the rows in O(rows + codes) time, no sort; otherwise :func:`rtm.model_stats.collapse_on`
    (a sort). Each result is kept (a few hundred rows per set, a few thousand sets in a
    search: a few MB).
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, w: np.ndarray):
        self.X = np.asarray(X)
        self.y = np.asarray(y, dtype=np.float64)
        self.w = np.asarray(w, dtype=np.float64)
        self.values, code = np.unique(self.y, return_inverse=True)
        self.code = code.ravel().astype(np.int64)
        self.lgamma_sum = float(self.w @ gammaln(self.y + 1))
        self._Xf = self.X.astype(np.float64)  # 8 bytes per value: 4.7 MB on Chicago's 13,352 x 45
        with np.errstate(divide="ignore", invalid="ignore"):
            self._ylogy = float(self.w @ np.where(self.y > 0, self.y * np.log(self.y), 0.0))
        self._counts: dict[tuple, tuple] = {}
        self._means: dict[tuple, tuple] = {}

    def _gap(self, ybar, total) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            return 2 * (self._ylogy - float(total @ np.where(ybar > 0, ybar * np.log(ybar), 0.0)))

    def _bits(self, cols: tuple) -> np.ndarray:
        if not cols:
            return np.zeros(len(self.y), dtype=np.int64)
        # a float product (BLAS) is exact for these small integers; an int64 one has no BLAS
        return (self._Xf[:, list(cols)] @ np.exp2(np.arange(len(cols)))).astype(np.int64)

    def _pattern(self, key: np.ndarray, k: int) -> np.ndarray:
        return ((key[:, None] >> np.arange(k, dtype=np.int64)) & 1).astype(np.uint8)

    def counts(self, cols) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(X, y, w)`` merged where the columns ``cols`` and the count agree.

        ``X`` holds only ``cols``, in that order; any count model on those columns has the
        same likelihood on these rows as on the input rows.
        """
        cols = tuple(cols)
        if cols not in self._counts:
            k = len(cols)
            size = len(self.values) << k
            if k > 40 or size > _DIRECT:
                self._counts[cols] = collapse_on(self.X, self.y, self.w, cols)
            else:
                key = (self.code << k) | self._bits(cols)
                total = np.bincount(key, weights=self.w, minlength=size)
                seen = np.flatnonzero(np.bincount(key, minlength=size))
                self._counts[cols] = (self._pattern(seen & ((1 << k) - 1), k), self.values[seen >> k],
                                      total[seen])
        return self._counts[cols]

    def means(self, cols) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """``(X, ybar, w, gap)`` merged where the columns ``cols`` agree, whatever the count.

        ``ybar`` is the weighted mean count of the merged rows and ``w`` their total
        weight. A Poisson model gives the same coefficients, standard errors and, once
        :attr:`lgamma_sum` is put back, log-likelihood on these rows as on the input rows
        (``sum w (y eta - exp eta) = sum W (ybar eta - exp eta)`` within a pattern); a
        negative binomial does not (use :meth:`counts`). ``gap`` is the input rows' Poisson
        deviance minus the merged rows' (the same for every model on ``cols``:
        ``2 (sum w y log y - sum W ybar log ybar)``), for the fit's stopping rule.
        """
        cols = tuple(cols)
        if cols not in self._means:
            k = len(cols)
            if k > 40 or (1 << k) > _DIRECT:
                c = collapse_cells(self.X[:, list(cols)], np.zeros(len(self.y)))
                total = np.bincount(c.inverse, weights=self.w, minlength=len(c.y))
                sums = np.bincount(c.inverse, weights=self.w * self.y, minlength=len(c.y))
                self._means[cols] = (c.X, sums / total, total)
            else:
                key = self._bits(cols)
                total = np.bincount(key, weights=self.w, minlength=1 << k)
                sums = np.bincount(key, weights=self.w * self.y, minlength=1 << k)
                seen = np.flatnonzero(total > 0)
                self._means[cols] = (self._pattern(seen, k), sums[seen] / total[seen], total[seen])
            self._means[cols] += (self._gap(*self._means[cols][1:]),)
        return self._means[cols]
