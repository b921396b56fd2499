"""Prospective hotspotting (Bowers, Johnson & Pease 2004): the kernel, the ages of incidents
in whole periods, and the surface."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..grid import Grid
from ..surfaces import fft_same


def phs_kernel(cell_size: float, radius_m: float) -> np.ndarray:
    """Spatial weights ``1 / (1 + d)`` of prospective hotspotting, ``d`` the distance between
    cell centres in cells, for cells within ``radius_m``; 0 beyond. Shape ``(2m+1, 2m+1)``
    with ``m = floor(radius_m / cell_size)``. Not normalised (the centre weighs 1)."""
    m = int(np.floor(radius_m / cell_size))
    off = np.arange(-m, m + 1)
    d = np.hypot(off[:, None], off[None, :])
    return np.where(d * cell_size <= radius_m, 1.0 / (1.0 + d), 0.0)


def period_lags(start, as_of, edges) -> np.ndarray:
    """Age in whole periods of incidents starting at ``start``: ``t`` when
    ``edges[t + 1] <= start < edges[t]`` (``edges`` descending from ``as_of``); -1 for
    incidents outside every period of ``edges``. O(n log len(edges))."""
    s = pd.to_datetime(pd.Series(np.asarray(start))).to_numpy("datetime64[ns]")
    e = np.asarray([np.datetime64(pd.Timestamp(t), "ns") for t in edges])[::-1]  # ascending
    pos = np.searchsorted(e, s, side="right")  # edges <= start
    lag = len(e) - 1 - pos
    lag[(pos == 0) | (pos == len(e))] = -1
    return lag


def phs_surface(grid: Grid, x, y, weights, lags, *, radius_m: float, cache: dict | None = None) -> np.ndarray:
    """The prospective hotspotting score of every cell of ``grid`` (0 outside the mask).

    Parameters
    ----------
    grid : Grid
    x, y, weights : arrays
        Incidents and their harm.
    lags : array of int
        Each incident's age in periods (:func:`period_lags`); negative ones are left out.
    radius_m : float
        Reach of the spatial weights (:func:`phs_kernel`).
    cache : dict, optional
        Keeps the kernel's Fourier transform between calls.

    Returns
    -------
    ndarray of float64, shape ``grid.shape``
        ``sum_i w_i / ((1 + d_i)(1 + t_i))`` over incidents within ``radius_m``.

    Notes
    -----
    Convolution is linear, so the per-lag convolutions of the method add up to one
    convolution of the incidents binned with weight ``w / (1 + t)``: one FFT convolution
    (:func:`rtm.surfaces.fft_same`) plus one more to set exact zeros beyond every
    incident's reach. About 0.2 s per million cells.
    """
    lags = np.asarray(lags)
    ok = lags >= 0
    w = np.asarray(weights, float)[ok] / (1.0 + lags[ok])
    counts = grid.counts(np.asarray(x, float)[ok], np.asarray(y, float)[ok], w)
    counts[~grid.mask] = 0.0
    out = np.zeros(grid.shape)
    if not (counts > 0).any():
        return out
    k = phs_kernel(grid.cell_size, radius_m)
    out = fft_same(counts, k, cache)
    reach = fft_same((counts > 0).astype(float), (k > 0).astype(float), cache) > 0.5
    out[~(reach & grid.mask)] = 0.0
    return np.maximum(out, 0.0)
