"""Harm-weighted Getis-Ord Gi* hot spots on a grid, with false discovery rate control.

Each cell's value is the harm (CCHI days, or the weights the incidents were loaded with)
recorded in it, never the number of incidents: a cell with one grievous assault counts
for more than one with ten thefts. Neighbourhoods are a distance band in metres (binary
weights, the cell itself included: the "star" in Gi*), and the sums over them are one
FFT convolution of the whole grid, so a county at 150 m costs about as much as one harm
surface.

Formula (Ord and Getis 1995, *Geographical Analysis* 27(4), eq. 3; Getis and Ord 1992,
*Geographical Analysis* 24(3)), for the ``n`` cells of the study area with values ``x``::

    xbar = sum(x) / n,   s = sqrt(sum(x**2) / n - xbar**2)
    W_i  = sum_j w_ij                  (cells within the band, i itself included)
    Gi*  = (sum_j w_ij x_j - xbar W_i) / (s sqrt((n W_i - W_i**2) / (n - 1)))

Gi* is a z-score; p-values are two-sided from the standard normal. Testing every cell at
once would flag about 5% of a random grid at p < 0.05, so the p-values are adjusted with
the Benjamini-Hochberg (1995, *JRSS B* 57(1)) false discovery rate procedure
(:func:`scipy.stats.false_discovery_control`, ``method="bh"``), the same family of
correction ArcGIS's Hot Spot Analysis applies with its FDR option.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import setting_error
from .grid import Grid
from .surfaces import fft_same

#: Gi_Bin style confidence levels (on FDR-adjusted p-values): 3 = 99%, 2 = 95%, 1 = 90%.
BIN_LEVELS = ((0.01, 3), (0.05, 2), (0.10, 1))


def band_kernel(cell_size: float, distance_m: float) -> np.ndarray:
    """Binary weights of the cells whose centres lie within ``distance_m`` of the centre
    cell (the centre included), shape ``(2m + 1, 2m + 1)`` with ``m = floor(d / cell)``.

    A distance exactly on a ring of cell centres counts as inside (``<=``, as PySAL's
    ``DistanceBand``); a relative tolerance of 1e-9 absorbs rounding.
    """
    if not (np.isfinite(distance_m) and distance_m >= 0):
        raise setting_error("distance_m", f"a distance band of {distance_m!r} metres cannot be used",
                            "give a distance of 0 or more metres (e.g. 300)")
    m = int(np.floor(distance_m / cell_size * (1 + 1e-9)))
    off = np.arange(-m, m + 1) * cell_size
    r2 = off[:, None] ** 2 + off[None, :] ** 2
    return (r2 <= (distance_m * (1 + 1e-9)) ** 2).astype(float)


def gistar(values: np.ndarray, mask: np.ndarray, cell_size: float, distance_m: float,
           cache: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z-scores and two-sided p-values of a grid of values.

    Parameters
    ----------
    values : ndarray, shape (nrows, ncols)
        Harm per cell (any non-negative or real values); cells outside ``mask`` are ignored.
    mask : ndarray of bool, same shape
        The study area: only these cells are observations and neighbours.
    cell_size, distance_m : float
        Cell width and the distance band, in metres.
    cache : dict, optional
        Reuses the band's Fourier transform across calls (a time series of grids).

    Returns
    -------
    z, p : ndarray of float64, same shape
        NaN outside ``mask``. Where the values do not vary (``s == 0``) or a band covers
        the whole area, z is 0 and p is 1.

    Notes
    -----
    Cost: two FFT convolutions of the grid with the band (``O(N log N)`` for ``N`` cells,
    whatever the band's size) and a few arrays of ``N`` float64 of memory. A sparse
    neighbour list would cost ``O(N k)`` for ``k`` neighbours per cell instead
    (``bench/bench_gistar.py`` compares the two).
    """
    values = np.asarray(values, float)
    mask = np.asarray(mask, bool)
    if values.shape != mask.shape:
        raise ValueError(f"values {values.shape} and mask {mask.shape} differ in shape")
    kernel = band_kernel(cell_size, distance_m)
    x = np.where(mask, values, 0.0)
    n = int(mask.sum())
    z = np.full(values.shape, np.nan)
    p = np.full(values.shape, np.nan)
    if n < 2:
        z[mask], p[mask] = 0.0, 1.0
        return z, p
    lag = fft_same(x, kernel, cache)
    w = np.rint(fft_same(mask.astype(float), kernel, cache))
    xbar = x.sum() / n
    s = np.sqrt(max((x**2).sum() / n - xbar**2, 0.0))
    denom = s * np.sqrt(np.maximum(n * w - w**2, 0.0) / (n - 1))
    ok = mask & (denom > 1e-12 * max(abs(xbar), 1.0))
    z[mask] = 0.0
    z[ok] = (lag[ok] - xbar * w[ok]) / denom[ok]
    from scipy.special import ndtr  # the normal CDF (scipy.stats: 0.6 s to import); here: the app's first page needs none

    p[mask] = 2 * ndtr(-np.abs(z[mask]))  # = 2 * scipy.stats.norm.sf(|z|), the same function
    return z, p


def fdr_adjust(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) of the finite entries of ``p``;
    NaN stays NaN. A cell is a discovery at false discovery rate ``alpha`` when its
    q-value is ``<= alpha``. Cost: one sort of the cells."""
    p = np.asarray(p, float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = _bh(np.clip(p[ok], 0.0, 1.0))
    return q


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of ``p`` (1-d, finite), computed as
    ``scipy.stats.false_discovery_control(p, method="bh")`` does (tested equal), without
    importing scipy.stats: p * m / rank, the running minimum from the largest, at most 1."""
    order = np.argsort(p)
    ranked = p[order] * (len(p) / np.arange(1, len(p) + 1))
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty_like(ranked)
    q[order] = ranked
    return np.clip(q, 0.0, 1.0)


def confidence_bin(z: np.ndarray, q: np.ndarray) -> np.ndarray:
    """-3..3 like ArcGIS's ``Gi_Bin``: the sign of z times 3, 2 or 1 where the adjusted
    p-value is within 0.01, 0.05 or 0.10; 0 otherwise (and outside the area)."""
    out = np.zeros(np.shape(z), np.int8)
    qq = np.where(np.isfinite(q), q, 1.0)
    for level, value in reversed(BIN_LEVELS):
        out = np.where(qq <= level, value, out).astype(np.int8)
    return (out * np.sign(np.nan_to_num(z))).astype(np.int8)


@dataclass(frozen=True, eq=False)
class HotSpots:
    """Gi* hot and cold spots of one grid of harm.

    Attributes
    ----------
    grid : Grid
    harm : ndarray
        Harm per cell that was tested.
    z, p, q : ndarray
        Gi* z-score, two-sided p-value and Benjamini-Hochberg adjusted p-value; NaN
        outside the study area.
    bin : ndarray of int8
        :func:`confidence_bin` (3 = hot at 99%, -3 = cold at 99%, 0 = not significant).
    distance_m, alpha : float
        The band and the false discovery rate.
    """

    grid: Grid
    harm: np.ndarray
    z: np.ndarray
    p: np.ndarray
    q: np.ndarray
    bin: np.ndarray
    distance_m: float
    alpha: float

    @property
    def hot(self) -> np.ndarray:
        """Cells significantly hot at false discovery rate ``alpha``."""
        return (np.nan_to_num(self.q, nan=1.0) <= self.alpha) & (np.nan_to_num(self.z) > 0)

    @property
    def cold(self) -> np.ndarray:
        """Cells significantly cold at false discovery rate ``alpha``."""
        return (np.nan_to_num(self.q, nan=1.0) <= self.alpha) & (np.nan_to_num(self.z) < 0)


def default_distance(cell_size: float) -> float:
    """The default band: the eight cells around a cell (``cell_size * sqrt(2)``), as
    sfhotspot's ``hotspot_gistar`` does."""
    return float(cell_size * np.sqrt(2))


def harm_gistar(grid: Grid, x, y, weight, *, distance_m: float | None = None, alpha: float = 0.05,
                fdr: bool = True, cache: dict | None = None) -> HotSpots:
    """Gi* of the harm of points on ``grid``.

    Parameters
    ----------
    grid : Grid
        The list's spot grid (:meth:`rtm.grid.Grid.from_areas`).
    x, y : array_like
        Incident coordinates in the grid's CRS.
    weight : array_like
        Each incident's harm weight (the ``weight`` column of loaded incidents). Required:
        there is no count fallback, so counts can only be used on purpose (all ones).
    distance_m : float, optional
        Distance band in metres (default :func:`default_distance`).
    alpha : float
        False discovery rate (default 0.05).
    fdr : bool
        Adjust p-values with Benjamini-Hochberg (default). False keeps raw p-values.

    Returns
    -------
    HotSpots

    Notes
    -----
    Cost: one binning pass over the points plus :func:`gistar`.
    """
    if not 0 < alpha < 1:
        raise setting_error("alpha", f"a false discovery rate of {alpha!r} cannot be used",
                            "give a rate between 0 and 1 (e.g. 0.05)")
    distance_m = default_distance(grid.cell_size) if distance_m is None else float(distance_m)
    harm = grid.counts(x, y, np.asarray(weight, float))
    z, p = gistar(harm, grid.mask, grid.cell_size, distance_m, cache)
    q = fdr_adjust(p) if fdr else p
    return HotSpots(grid, harm, z, p, q, confidence_bin(z, q), distance_m, alpha)


def cell_frame(grid: Grid, columns: dict, *, only=None):
    """Cells of ``grid`` as square polygons with ``cell_id`` and the given per-cell arrays.

    Parameters
    ----------
    grid : Grid
    columns : dict of str to ndarray
        Arrays of ``grid.shape``.
    only : ndarray of bool, optional
        Cells to keep (default: the study area).

    Returns
    -------
    geopandas.GeoDataFrame in the grid's CRS, one row per kept cell.
    """
    import geopandas as gpd
    import shapely

    keep = grid.mask if only is None else (np.asarray(only, bool) & grid.mask)
    rows, cols = np.nonzero(keep)
    cx, cy = grid.centres()
    h = grid.cell_size / 2
    xs, ys = cx[rows, cols], cy[rows, cols]
    data = {"cell_id": grid.cell_labels(rows, cols),
            "district": np.asarray(grid.district_names, object)[grid.district[rows, cols]]
            if len(grid.district_names) else ""}
    for name, arr in columns.items():
        data[name] = np.asarray(arr)[rows, cols]
    return gpd.GeoDataFrame(data, geometry=shapely.box(xs - h, ys - h, xs + h, ys + h), crs=grid.crs)
