"""Density: the kernel density of a layer's features (points sampled along lines and inside
polygons), and the 0/1 variable of unusually high density."""

from __future__ import annotations

import numpy as np
import shapely

from ..grid import Grid
from ..surfaces import fft_same, quartic_kernel
from .geometry import geometries


def sample_points(geoms, spacing: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points standing for features in a density estimate, with weights.

    Parameters
    ----------
    geoms : array of shapely geometries (single-part)
    spacing : float
        Metres between sample points on lines and inside polygons.

    Returns
    -------
    x, y, weight : ndarray of float64

    Notes
    -----
    A point is itself, weight 1. A line of length ``L`` is cut into ``n = ceil(L/spacing)``
    equal pieces, with a sample at the middle of each weighing ``L / (n * spacing)``: the
    line counts as ``L / spacing`` points spread evenly along it. A polygon of area ``A``
    is sampled on a square lattice of side ``spacing`` (aligned to multiples of
    ``spacing``, at lattice-cell centres) and each of its ``n`` lattice points inside weighs
    ``A / (n * spacing**2)``; a polygon too small to hold a lattice point is one point (its
    ``point_on_surface``) of weight ``A / spacing**2``. Costs one shapely call for all lines
    and one lattice test per polygon (Python loop over polygons).
    """
    if not (np.isfinite(spacing) and spacing > 0):
        raise ValueError(f"spacing must be a positive number of metres, not {spacing!r}")
    geoms = np.asarray(geoms, dtype=object)
    tid = shapely.get_type_id(geoms)
    xs, ys, ws = [], [], []
    pts = geoms[tid == 0]
    if len(pts):
        c = shapely.get_coordinates(pts)
        xs.append(c[:, 0]), ys.append(c[:, 1]), ws.append(np.ones(len(c)))
    lines = geoms[(tid == 1) | (tid == 2)]
    if len(lines):
        length = shapely.length(lines)
        n = np.maximum(1, np.ceil(length / spacing)).astype(np.int64)
        which = np.repeat(np.arange(len(lines)), n)
        within = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        at = (within + 0.5) * (length / n)[which]
        c = shapely.get_coordinates(shapely.line_interpolate_point(lines[which], at))
        xs.append(c[:, 0]), ys.append(c[:, 1]), ws.append((length / (n * spacing))[which])
    for poly in geoms[tid == 3]:
        minx, miny, maxx, maxy = poly.bounds
        gx = np.arange(np.floor(minx / spacing), np.ceil(maxx / spacing)) * spacing + spacing / 2
        gy = np.arange(np.floor(miny / spacing), np.ceil(maxy / spacing)) * spacing + spacing / 2
        X, Y = np.meshgrid(gx, gy)
        inside = shapely.contains_xy(poly, X.ravel(), Y.ravel())
        area = poly.area
        if inside.any():
            k = int(inside.sum())
            xs.append(X.ravel()[inside]), ys.append(Y.ravel()[inside])
            ws.append(np.full(k, area / (k * spacing**2)))
        else:
            p = shapely.point_on_surface(poly)
            xs.append(np.array([p.x])), ys.append(np.array([p.y])), ws.append(np.array([area / spacing**2]))
    if not xs:
        return np.empty(0), np.empty(0), np.empty(0)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)


def density_surface(grid: Grid, layer, bandwidth: float, *, spacing: float | None = None) -> np.ndarray:
    """Kernel density of a layer's features on the grid, in features per square kilometre.

    Parameters
    ----------
    grid : Grid
    layer : Layer, GeoDataFrame, GeoSeries or array of shapely geometries
    bandwidth : float
        Kernel radius in metres (the spatial influence being tested).
    spacing : float, optional
        Metres between sample points standing for lines and polygons (see
        :func:`sample_points`); default half the cell size.

    Returns
    -------
    ndarray of float64, shape ``grid.shape``
        Density at every cell (inside and outside the mask).

    Notes
    -----
    Up to :data:`EXACT_CELLS` cells of bandwidth the density is summed from the features'
    true positions (:func:`exact_kernel_density`). Beyond, features (or their sample
    points) are binned into cells, then the counts are convolved
    with a :func:`quartic_kernel` of radius ``bandwidth`` by FFT (the arithmetic of
    ``scipy.signal.fftconvolve``, on all cores). Binning moves each feature to its cell
    centre, an error of at most ``cell_size / sqrt(2)`` in its position. The count grid is
    padded by the kernel radius so features just outside the grid still count. Values
    below 1e-9 of one feature's peak contribution (FFT round-off) are set to 0. Memory:
    about 40 bytes per cell of the padded grid during the FFT; time O(N log N) in padded
    cells, independent of the number of features: about 35 ms per million cells on 2 cores.
    """
    if not (np.isfinite(bandwidth) and bandwidth > 0):
        raise ValueError(f"bandwidth must be a positive number of metres, not {bandwidth!r}")
    spacing = grid.cell_size / 2 if spacing is None else spacing
    geoms = geometries(layer, grid)
    x, y, w = sample_points(geoms, spacing)
    return kernel_density(grid, x, y, w, bandwidth)


EXACT_CELLS = 6.0
"""Bandwidths up to this many cells are computed from the points' true positions
(:func:`exact_kernel_density`); wider ones by binning and FFT, whose error in position
(at most half a cell diagonal) is then small against the bandwidth."""
_EXACT_CHUNK = 50_000  # points per block of the exact sum (bounds the temporary arrays)


def exact_kernel_density(grid: Grid, x, y, w, bandwidth: float) -> np.ndarray:
    """Quartic kernel density at every cell centre from the points' true positions.

    Parameters
    ----------
    grid : Grid
    x, y, w : ndarray of float64
        Point coordinates (grid CRS) and weights.
    bandwidth : float
        Kernel radius ``h`` in metres.

    Returns
    -------
    ndarray of float64, shape ``grid.shape``
        ``sum_i w_i 3 / (pi h^2) (1 - r_i^2 / h^2)^2`` over points within ``h`` of the
        centre (Silverman 1986, eq. 4.5), in features per square kilometre.

    Notes
    -----
    Each point is compared with the centres of the ``(2m + 1)^2`` cells around its own,
    ``m = ceil(h / cell) + 1``, so the cost is O(points x (h / cell)^2): meant for
    bandwidths of a few cells, where binning points to their cell (as the FFT path does)
    would move them by up to ``cell / sqrt(2)``, a large share of the bandwidth. A point
    farther than ``h`` from every centre adds nothing, as in the continuous estimate.
    """
    cell = grid.cell_size
    m = int(np.ceil(bandwidth / cell)) + 1
    off = np.arange(-m, m + 1)
    dr, dc = [a.ravel() for a in np.meshgrid(off, off, indexing="ij")]
    out = np.zeros(grid.nrows * grid.ncols)
    h2 = bandwidth**2
    scale = 3.0 / (np.pi * h2) * 1e6
    for a in range(0, len(x), _EXACT_CHUNK):
        px, py, pw = x[a:a + _EXACT_CHUNK], y[a:a + _EXACT_CHUNK], w[a:a + _EXACT_CHUNK]
        col = np.floor((px - grid.x0) / cell).astype(np.int64)[:, None] + dc
        row = np.floor((grid.y0 - py) / cell).astype(np.int64)[:, None] + dr
        ok = (col >= 0) & (col < grid.ncols) & (row >= 0) & (row < grid.nrows)
        r2 = ((grid.x0 + (col + 0.5) * cell - px[:, None]) ** 2 + (grid.y0 - (row + 0.5) * cell - py[:, None]) ** 2)
        ok &= r2 < h2
        k = (1.0 - r2[ok] / h2) ** 2 * np.broadcast_to(pw[:, None], r2.shape)[ok]
        out += np.bincount(row[ok] * grid.ncols + col[ok], weights=k, minlength=out.size)
    return out.reshape(grid.shape) * scale


def kernel_density(grid: Grid, x, y, w, bandwidth: float, cache: dict | None = None) -> np.ndarray:
    """The body of :func:`density_surface` for sample points already made: exact
    (:func:`exact_kernel_density`) up to :data:`EXACT_CELLS` cells of bandwidth, binned
    and convolved by FFT beyond."""
    if bandwidth <= EXACT_CELLS * grid.cell_size:
        return exact_kernel_density(grid, np.asarray(x, float), np.asarray(y, float), np.asarray(w, float),
                                    bandwidth)
    kernel = quartic_kernel(grid.cell_size, bandwidth)
    m = kernel.shape[0] // 2
    shape = (grid.nrows + 2 * m, grid.ncols + 2 * m)
    col = np.floor((x - grid.x0) / grid.cell_size).astype(np.int64) + m
    row = np.floor((grid.y0 - y) / grid.cell_size).astype(np.int64) + m
    ok = (col >= 0) & (col < shape[1]) & (row >= 0) & (row < shape[0])
    if not ok.any():
        return np.zeros(grid.shape)
    counts = np.bincount(row[ok] * shape[1] + col[ok], weights=w[ok], minlength=shape[0] * shape[1])
    counts = counts.reshape(shape)
    dens = fft_same(counts, kernel, cache)[m:m + grid.nrows, m:m + grid.ncols]
    floor = 1e-9 * kernel.max() * w[ok].min()
    dens[dens < floor] = 0.0
    return dens / (grid.cell_size**2 / 1e6)


def density_threshold(density: np.ndarray, mask: np.ndarray, n_sd: float = 2.0) -> float:
    """Mean plus ``n_sd`` standard deviations of ``density`` over the masked cells.

    The standard deviation is the population one (``ddof=0``).
    """
    density, mask = np.asarray(density), np.asarray(mask, dtype=bool)
    if density.shape != mask.shape:
        raise ValueError(f"density has shape {density.shape} but mask has shape {mask.shape}")
    if not np.isfinite(n_sd):
        raise ValueError(f"n_sd must be a finite number of standard deviations, not {n_sd!r}")
    if not mask.any():
        raise ValueError("the mask has no cells")
    v = density[mask]
    return float(v.mean() + n_sd * v.std())


def density_variable(density: np.ndarray, mask: np.ndarray, n_sd: float = 2.0) -> np.ndarray:
    """1 where density exceeds the mean plus ``n_sd`` standard deviations (over the mask).

    Parameters
    ----------
    density : ndarray
        A density surface (any units).
    mask : ndarray of bool, same shape
        Cells that define the mean and SD; cells outside are always 0.
    n_sd : float
        Standard deviations above the mean (RTMDx uses 2).

    Returns
    -------
    ndarray of uint8, same shape as ``density``

    Notes
    -----
    The comparison is strict, so a constant surface gives no 1s.
    """
    thr = density_threshold(density, mask, n_sd)
    return ((np.asarray(density) > thr) & np.asarray(mask, dtype=bool)).astype(np.uint8)
