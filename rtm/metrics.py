"""Accuracy and stability measures of a ranked list of cells, on plain arrays.

These are the measures of the back-test (:mod:`rtm.backtest`), kept free of grids and
dates so that each can be checked against a hand-computed case:

* hit rate: the share of a period's incidents in the listed cells;
* harm capture: the share of its harm there;
* PAI (predictive accuracy index, Chainey, Tompson & Uhlig 2008): hit rate divided by
  the share of the area listed (1 = no better than chance);
* PEI (predictive efficiency index, Hunt 2016): what the list caught divided by the
  most any list of the same size could have caught (the period's own best cells);
* kept share and rank-biased overlap (RBO; Webber, Moffat & Zobel 2010, *ACM TOIS*
  28(4)) between consecutive lists.
"""

from __future__ import annotations

import numpy as np


def ranked_cells(score: np.ndarray, cells: np.ndarray, ids: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best of ``cells``, best first.

    Parameters
    ----------
    score : ndarray, 1-D
        Score of every cell of the grid (flat).
    cells : ndarray of int
        Flat indices of the candidate cells (e.g. one district's).
    ids : ndarray of int64, 1-D
        Stable id of every cell of the grid (flat); ties in score go to the lower id, the
        same rule as :func:`rtm.ranking.select_spots`, so a ranking never depends on the
        order cells are stored in.
    k : int
        How many cells to return (at most ``len(cells)``).

    Returns
    -------
    ndarray of int
        Flat indices of ``min(k, len(cells))`` cells ordered by score (descending), then id.

    Notes
    -----
    Cells with equal scores, zero included, are ranked by id, so a method that scores
    fewer than ``k`` cells above zero is topped up with unscored cells in a fixed order:
    every method then lists the same area. Cost: one ``argpartition`` over the candidates
    and a sort of the ``k`` best (plus any ties with the ``k``-th), O(n + k log k).
    """
    cells = np.asarray(cells)
    n = cells.size
    k = int(min(max(k, 0), n))
    if k == 0:
        return cells[:0]
    s = np.asarray(score).ravel()[cells]
    i = np.asarray(ids).ravel()[cells]
    if k < n:
        kth = -np.partition(-s, k - 1)[k - 1]
        cand = np.flatnonzero(s >= kth)
    else:
        cand = np.arange(n)
    order = cand[np.lexsort((i[cand], -s[cand]))][:k]
    return cells[order]


def best_capture(values: np.ndarray, k: int) -> np.ndarray:
    """The most any ``j`` cells can hold, for ``j = 1..k``: cumulative sums of ``values``
    sorted in descending order (the oracle's capture). O(n + k log k)."""
    v = np.asarray(values, float).ravel()
    k = int(min(max(k, 0), v.size))
    if k == 0:
        return np.zeros(0)
    top = -np.partition(-v, k - 1)[:k] if k < v.size else v.copy()
    return np.cumsum(np.sort(top)[::-1])


def capture_metrics(caught: float, total: float, harm_caught: float, harm_total: float, listed: int,
                    cells: int, best: float, harm_best: float) -> dict[str, float]:
    """Accuracy of one list against one period.

    Parameters
    ----------
    caught, total : float
        Incidents of the period in the listed cells, and in the whole area.
    harm_caught, harm_total : float
        The same for harm.
    listed, cells : int
        Cells listed, and cells in the area.
    best, harm_best : float
        The most incidents (harm) any ``listed`` cells held in the period.

    Returns
    -------
    dict
        ``hit_rate`` (caught / total), ``harm_capture``, ``pai`` (hit rate / area share),
        ``pai_harm`` (harm capture / area share), ``pei`` (caught / best, on counts) and
        ``pei_harm`` (on harm). A measure whose denominator is 0 is left out (a period
        with no incidents says nothing about a list).
    """
    out: dict[str, float] = {}
    share = listed / cells if cells else 0.0
    if total > 0:
        out["hit_rate"] = caught / total
        if share > 0:
            out["pai"] = out["hit_rate"] / share
    if harm_total > 0:
        out["harm_capture"] = harm_caught / harm_total
        if share > 0:
            out["pai_harm"] = out["harm_capture"] / share
    if best > 0:
        out["pei"] = caught / best
    if harm_best > 0:
        out["pei_harm"] = harm_caught / harm_best
    return out


def kept_share(previous: np.ndarray, current: np.ndarray) -> float:
    """Share of the current list's cells that were on the previous list (NaN for an empty
    list). O(k log k)."""
    current = np.asarray(current)
    if not current.size:
        return float("nan")
    return float(np.intersect1d(previous, current).size / current.size)


def rank_biased_overlap(a: np.ndarray, b: np.ndarray, p: float = 0.9) -> float:
    """Rank-biased overlap of two ranked lists of distinct items, extrapolated to full depth.

    Parameters
    ----------
    a, b : ndarray
        Items best first, each list without repeats.
    p : float
        Persistence, 0 < p < 1: the weight of depth ``d`` falls as ``p**(d-1)``, so the
        first ``1 / (1 - p)`` ranks (10 for the default 0.9) carry most of it.

    Returns
    -------
    float
        ``RBO_ext`` of Webber, Moffat & Zobel (2010, eq. 32): with ``X_d`` the items the
        two lists share in their first ``d`` ranks and ``k`` the length of the shorter
        list, ``(X_k / k) p**k + (1 - p) / p * sum_{d=1..k} (X_d / d) p**d``. 1 for equal
        lists, 0 for disjoint ones; NaN when either list is empty.

    Notes
    -----
    Both lists are cut to the shorter length, which is exact for lists of the same
    length (the back-test's case). O(k log k).
    """
    if not 0 < p < 1:
        raise ValueError(f"p must be between 0 and 1, not {p!r}")
    k = min(len(a), len(b))
    if k == 0:
        return float("nan")
    a, b = np.asarray(a)[:k], np.asarray(b)[:k]
    _, ia, ib = np.intersect1d(a, b, assume_unique=True, return_indices=True)
    depth = np.maximum(ia, ib) + 1  # the depth from which each shared item counts
    x = np.cumsum(np.bincount(depth, minlength=k + 1)[1:])
    d = np.arange(1, k + 1)
    with np.errstate(under="ignore"):
        pd_ = p ** d.astype(float)
        return float(x[-1] / k * p**k + (1 - p) / p * np.sum(x / d * pd_))
