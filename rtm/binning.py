"""How points meet a grid before a convolution: linear (or nearest-cell) binning, and the
kernel correction that makes linear binning accurate.

Used by :func:`rtm.surfaces.harm_surface`; see docs/surfaces.md for its accuracy against
an exact KDE and KDEpy.
"""

from __future__ import annotations

import numpy as np

from .grid import Grid

BINNINGS = ("linear", "nearest")


def linear_binning_correction(k: np.ndarray) -> np.ndarray:
    """A sampled kernel ``k`` (odd square, centred) corrected for the smoothing that linear
    binning adds.

    Sharing a point at fraction ``f`` of a cell between two centres adds
    ``f (1 - f) / 2`` times the kernel's second derivative along that axis (the error of
    linear interpolation); over evenly spread offsets that is ``1/12`` on average. So the
    result is ``k - (d2x k + d2y k) / 12`` (``d2`` the second difference over cells, ``k``
    padded by one cell of zeros), cut at 0 (the rim, where the correction would make it
    negative), normalised to sum to 1, its all-zero border trimmed: the same reach as
    ``k``. Cost: O(kernel cells).
    """
    k = np.pad(np.asarray(k, float), 1)
    d2 = np.zeros_like(k)
    d2[1:-1, :] += k[2:, :] - 2 * k[1:-1, :] + k[:-2, :]
    d2[:, 1:-1] += k[:, 2:] - 2 * k[:, 1:-1] + k[:, :-2]
    k = np.maximum(k - d2 / 12.0, 0.0)
    while k.shape[0] > 1 and not (k[0].any() or k[:, 0].any()):
        k = k[1:-1, 1:-1]  # symmetric, so the opposite border is zero too
    return k / k.sum()


def bin_points(grid: Grid, x: np.ndarray, y: np.ndarray, pad: int, shape: tuple, binning: str = "linear"):
    """Where points' weights go on the grid padded by ``pad`` cells on every side.

    Parameters
    ----------
    grid : Grid
    x, y : array of float
        Points (metres).
    pad : int
        Cells added on each side; ``shape`` is the padded grid's.
    binning : {"linear", "nearest"}
        ``"linear"``: each point's weight is shared among the 4 nearest cell centres in
        proportion to the bilinear weights (``(1 - fx)(1 - fy)`` for the nearest, etc.,
        ``fx``, ``fy`` its offset from the upper-left of those centres in cells), so the
        binned weights keep the point's exact centre of mass. ``"nearest"``: all of it to
        the cell holding the point (moves it up to ``cell_size / sqrt(2)``).

    Returns
    -------
    flats : list of ndarray of int64
        4 arrays (1 for nearest), one per corner: the flat index into the padded grid of
        every point's share.
    shares : list of ndarray of float64
        The shares, aligned with ``flats``; per point they sum to 1. A share off the padded
        grid is 0 (its index points at cell 0).

    Cost: O(n), a few array passes (about 0.1 s per million points for linear).
    """
    if binning not in BINNINGS:
        raise ValueError(f"binning must be 'linear' or 'nearest', not {binning!r}")
    cs = grid.cell_size
    nr, nc = shape
    u = (x - grid.x0) / cs + pad
    v = (grid.y0 - y) / cs + pad
    if binning == "nearest":
        col, row = np.floor(u).astype(np.int64), np.floor(v).astype(np.int64)
        ok = (col >= 0) & (col < nc) & (row >= 0) & (row < nr)
        return [np.where(ok, row * nc + col, 0)], [ok.astype(float)]
    u -= 0.5  # centres at whole numbers
    v -= 0.5
    c0, r0 = np.floor(u), np.floor(v)
    fu, fv = u - c0, v - r0
    del u, v
    c0, r0 = c0.astype(np.int64), r0.astype(np.int64)
    gu, gv = 1.0 - fu, 1.0 - fv
    shares = [gu * gv, fu * gv, gu * fv, fu * fv]
    base = r0 * nc + c0
    flats = [base, base + 1, base + nc, base + nc + 1]
    if (c0.min(initial=0) < 0 or r0.min(initial=0) < 0 or c0.max(initial=0) + 1 >= nc
            or r0.max(initial=0) + 1 >= nr):  # some corners off the padded grid
        for j, (dr, dc) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            ok = (c0 + dc >= 0) & (c0 + dc < nc) & (r0 + dr >= 0) & (r0 + dr < nr)
            shares[j] = np.where(ok, shares[j], 0.0)
            flats[j] = np.where(ok, flats[j], 0)
    return flats, shares
