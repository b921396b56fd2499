"""Risk variables on a grid: distance and density surfaces of attractor layers, cut into
0/1 variables at a series of spatial influences, ready for the risk terrain model.

Each attractor layer (a *factor*) is operationalised as *proximity* (a cell is 1 when its
centre is within the spatial influence of the nearest feature), *density* (1 when the
kernel density with that bandwidth is unusually high), both, or chosen automatically by a
nearest-neighbour test. Spatial influences are multiples of a block length, as in the
RTMDx software (Caplan, Kennedy & Piza, *RTMDx User Manual*, Rutgers Center on Public
Security, 2013; Caplan & Kennedy, *Risk Terrain Modeling: Crime Prediction and Risk
Reduction*, University of California Press, 2016).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import shapely
from scipy.special import ndtr

from .grid import Grid
from .surfaces import fft_same, quartic_kernel  # noqa: F401 - also this module's public names
from .layers import Layer

INCREMENTS = ("whole", "half")
OPERATIONALISATIONS = ("proximity", "density", "both", "auto")
_SHORT = {"proximity": "prox", "density": "dens"}
# Clark & Evans (1954): standard error of the mean nearest-neighbour distance under
# complete spatial randomness is 0.26136 / sqrt(n * density).
_CE_SE = 0.26136
_CHUNK = 262_144  # cell centres per STRtree query (bounds the temporary point objects)


# -- spatial influences ------------------------------------------------------------------
def spatial_influences(block_length: float, bands: int, increment: str = "whole") -> list[float]:
    """The distances tested for every factor: ``k * step`` for ``k = 1 .. bands``.

    Parameters
    ----------
    block_length : float
        Typical street block length in metres (RTMDx's unit of spatial influence).
    bands : int
        How many distances to test.
    increment : {"whole", "half"}
        Step between distances: a whole block length or half of one.

    Returns
    -------
    list of float
        Increasing distances in metres.
    """
    if not (isinstance(block_length, (int, float, np.integer, np.floating)) and np.isfinite(block_length)
            and block_length > 0):
        raise ValueError(f"block_length must be a positive number of metres, not {block_length!r}")
    if isinstance(bands, bool) or not isinstance(bands, (int, np.integer)) or bands < 1:
        raise ValueError(f"bands must be a whole number of at least 1, not {bands!r}")
    if increment not in INCREMENTS:
        raise ValueError(f"increment must be 'whole' or 'half', not {increment!r}")
    step = float(block_length) if increment == "whole" else float(block_length) / 2
    return [k * step for k in range(1, int(bands) + 1)]


def attractor_buffer(block_length: float, bands: int, increment: str = "whole") -> float:
    """How far outside the study area attractors are kept by default: the largest spatial
    influence tested, the farthest any feature can reach a cell of the area."""
    return spatial_influences(block_length, bands, increment)[-1]


# -- geometry helpers --------------------------------------------------------------------
def _geometries(layer, grid: Grid | None = None) -> np.ndarray:
    """Single-part, non-empty geometries of a layer, in the grid's CRS when one is given.

    ``layer`` may be a :class:`~rtm.layers.Layer`, a GeoDataFrame/GeoSeries or an array of
    shapely geometries (taken to be in the grid's CRS).
    """
    frame = getattr(layer, "frame", layer)
    if grid is not None and getattr(frame, "crs", None) is not None and grid.crs is not None \
            and not frame.crs.equals(grid.crs):
        frame = frame.to_crs(grid.crs)
    geoms = np.asarray(getattr(frame, "geometry", frame), dtype=object)
    if geoms.ndim == 0:
        geoms = geoms.reshape(1)
    geoms = shapely.get_parts(geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))])
    return geoms[~shapely.is_empty(geoms)]


def _masked_centres(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.nonzero(grid.mask)
    return grid.x0 + (cols + 0.5) * grid.cell_size, grid.y0 - (rows + 0.5) * grid.cell_size


def _name_of(layer, default: str = "layer") -> str:
    return str(getattr(layer, "name", default))


# -- proximity ---------------------------------------------------------------------------
def distance_surface(grid: Grid, layer) -> np.ndarray:
    """Exact distance in metres from each cell centre to the nearest feature of a layer.

    Parameters
    ----------
    grid : Grid
    layer : Layer, GeoDataFrame, GeoSeries or array of shapely geometries
        Points, lines, polygons or a mix; reprojected to ``grid.crs`` when its CRS differs.

    Returns
    -------
    ndarray of float64, shape ``grid.shape``
        Distance for cells in ``grid.mask`` (0 for centres inside a polygon); ``+inf``
        outside the mask.

    Notes
    -----
    Points are looked up in a k-d tree (``scipy.spatial.cKDTree``, all cores): 0.15 to 0.6
    seconds per million cells on 2 cores (clustered points are slower: cells far from them
    search longer). Lines and polygons use a shapely STRtree nearest query, which measures
    the exact distance to each geometry (to any point on a segment, not only to vertices):
    about 5 seconds per million cells for 2,000 street segments. It builds one point object
    per masked cell in chunks of 262,144 cells, so memory stays near 30 MB above the 8
    bytes per cell of the result. Both cost O(cells x log features).
    """
    geoms = _geometries(layer, grid)
    if len(geoms) == 0:
        raise ValueError(f"layer '{_name_of(layer)}' has no features to measure distances to")
    out = np.full(grid.shape, np.inf)
    cx, cy = _masked_centres(grid)
    if cx.size == 0:
        return out
    out[grid.mask] = _nearest_distances(geoms, cx, cy)
    return out


def _nearest_distances(geoms, cx, cy, upper: float = np.inf, xy=None) -> np.ndarray:
    """Distance from each (cx, cy) to the nearest of ``geoms``; ``+inf`` where it exceeds
    ``upper`` (the searches stop there, which is what makes a bound cheaper). ``xy`` is
    ``np.column_stack([cx, cy])`` when the caller already has it."""
    best = np.full(cx.size, np.inf)
    is_point = shapely.get_type_id(geoms) == 0
    bounded = bool(np.isfinite(upper))
    if is_point.any():
        from scipy.spatial import cKDTree  # here: the lists use this module without k-d trees

        tree = cKDTree(shapely.get_coordinates(geoms[is_point]))
        xy = np.column_stack([cx, cy]) if xy is None else xy
        best, _ = tree.query(xy, k=1, workers=-1, distance_upper_bound=upper if bounded else np.inf)
    if (~is_point).any():
        tree = shapely.STRtree(geoms[~is_point])
        for start in range(0, cx.size, _CHUNK):
            stop = min(start + _CHUNK, cx.size)
            (idx, _), dist = tree.query_nearest(shapely.points(cx[start:stop], cy[start:stop]),
                                                max_distance=upper if bounded else None,
                                                return_distance=True, all_matches=False)
            part = best[start:stop]
            np.minimum.at(part, idx, dist)
    return best


def proximity(distance: np.ndarray, d: float) -> np.ndarray:
    """1 where ``distance <= d`` metres, else 0 (uint8, same shape as ``distance``).

    Non-finite distances (cells outside the mask) are 0.
    """
    if not (np.isfinite(d) and d >= 0):
        raise ValueError(f"the spatial influence d must be a non-negative number of metres, not {d!r}")
    return (np.asarray(distance) <= d).astype(np.uint8)


# -- density -----------------------------------------------------------------------------
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
    Features (or their sample points) are binned into cells, then the counts are convolved
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
    geoms = _geometries(layer, grid)
    x, y, w = sample_points(geoms, spacing)
    return _density(grid, x, y, w, bandwidth)


def _density(grid: Grid, x, y, w, bandwidth: float, cache: dict | None = None) -> np.ndarray:
    """The body of :func:`density_surface` for sample points already made."""
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


# -- nearest-neighbour test --------------------------------------------------------------
@dataclass(frozen=True)
class NearestNeighbour:
    """Clark-Evans nearest-neighbour statistics.

    Attributes
    ----------
    n : int
    area_m2 : float
    observed_m : float
        Mean distance from each point to its nearest neighbour.
    expected_m : float
        ``0.5 / sqrt(n / area)``, the mean under complete spatial randomness.
    ratio : float
        ``observed_m / expected_m`` (R): below 1 clustered, above 1 dispersed.
    z : float
    p_value : float
        Two-sided, normal approximation.
    """

    n: int
    area_m2: float
    observed_m: float
    expected_m: float
    ratio: float
    z: float
    p_value: float


def nearest_neighbour_index(points_xy, area: float) -> NearestNeighbour:
    """Clark and Evans' nearest-neighbour index of a point pattern.

    Parameters
    ----------
    points_xy : array-like, shape (n, 2)
        Coordinates in metres; n >= 2.
    area : float
        Area of the study region in square metres.

    Returns
    -------
    NearestNeighbour

    Notes
    -----
    Clark, P. J. & Evans, F. C. (1954), Distance to nearest neighbor as a measure of
    spatial relationships in populations, *Ecology* 35(4), 445-453: ``R = r_obs / r_exp``
    with ``r_exp = 0.5 / sqrt(rho)``, ``rho = n / area``, and
    ``z = (r_obs - r_exp) / (0.26136 / sqrt(n * rho))``. No edge correction, so points near
    the boundary make R slightly larger. One k-d tree query: O(n log n).
    """
    pts = np.asarray(points_xy, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"points_xy must have shape (n, 2), not {pts.shape}")
    if len(pts) < 2:
        raise ValueError(f"the nearest-neighbour index needs at least 2 points, not {len(pts)}")
    if not np.isfinite(pts).all():
        raise ValueError("points_xy has missing or infinite coordinates")
    if not (np.isfinite(area) and area > 0):
        raise ValueError(f"area must be a positive number of square metres, not {area!r}")
    from scipy.spatial import cKDTree

    d, _ = cKDTree(pts).query(pts, k=2)
    n = len(pts)
    observed = float(d[:, 1].mean())
    rho = n / area
    expected = 0.5 / np.sqrt(rho)
    z = (observed - expected) / (_CE_SE / np.sqrt(n * rho))
    return NearestNeighbour(n, float(area), observed, float(expected), observed / expected, float(z),
                            float(2 * ndtr(-abs(z))))


@dataclass(frozen=True)
class AutoChoice:
    """How :func:`auto_operationalisation` treated a factor, and why.

    Attributes
    ----------
    factor : str
    operationalisation : {"proximity", "density"}
    reason : str
        One sentence for the report.
    nni : NearestNeighbour or None
        None when the layer has fewer than 2 features.
    """

    factor: str
    operationalisation: str
    reason: str
    nni: NearestNeighbour | None


def auto_operationalisation(layer, area_m2: float, max_influence_m: float, *,
                            significance: float = 0.05) -> AutoChoice:
    """Choose proximity or density for a factor by the RTMDx nearest-neighbour rule.

    Parameters
    ----------
    layer : Layer, GeoDataFrame, GeoSeries or array of shapely geometries
    area_m2 : float
        Study area in square metres (for a grid: masked cells times cell area).
    max_influence_m : float
        The largest spatial influence tested for the factor.
    significance : float
        Level of the two-sided Clark-Evans test.

    Returns
    -------
    AutoChoice

    Notes
    -----
    Density when the features are clustered (R < 1 and p < ``significance``) or when their
    observed mean nearest-neighbour distance is within ``max_influence_m`` (features close
    enough that their influences overlap); proximity otherwise (RTMDx User Manual, 2013).
    Lines and polygons are represented by one ``point_on_surface`` each. Features outside
    the study area are counted as given: pass only those inside for a textbook test.
    """
    if not (np.isfinite(max_influence_m) and max_influence_m > 0):
        raise ValueError(f"max_influence_m must be a positive number of metres, not {max_influence_m!r}")
    if not 0 < significance < 1:
        raise ValueError(f"significance must be between 0 and 1, not {significance!r}")
    name = _name_of(layer)
    geoms = _geometries(layer)
    pts = shapely.get_coordinates(shapely.point_on_surface(geoms)) if len(geoms) else np.empty((0, 2))
    if len(pts) < 2:
        return AutoChoice(name, "proximity", f"{len(pts)} feature(s): too few for a nearest-neighbour test, "
                          "so proximity", None)
    nni = nearest_neighbour_index(pts, area_m2)
    stats = f"R = {nni.ratio:.2f}, z = {nni.z:.2f}, p = {nni.p_value:.3g}"
    if nni.ratio < 1 and nni.p_value < significance:
        return AutoChoice(name, "density", f"clustered ({stats}), so density", nni)
    if nni.observed_m <= max_influence_m:
        return AutoChoice(name, "density", f"not significantly clustered ({stats}) but the mean nearest-neighbour "
                          f"distance {nni.observed_m:.0f} m is within the maximum spatial influence "
                          f"{max_influence_m:g} m, so density", nni)
    return AutoChoice(name, "proximity", f"not significantly clustered ({stats}) and the mean nearest-neighbour "
                      f"distance {nni.observed_m:.0f} m exceeds the maximum spatial influence "
                      f"{max_influence_m:g} m, so proximity", nni)


# -- the variable matrix -----------------------------------------------------------------
@dataclass
class RiskVariables:
    """0/1 risk variables for the cells of a grid's mask.

    Attributes
    ----------
    matrix : ndarray of uint8, shape (n_cells, n_variables)
        One row per masked cell, in row-major order of the grid (``grid.mask`` indexing).
    table : pandas.DataFrame
        One row per column of ``matrix``: ``name`` (``pubs_prox_300``), ``factor``,
        ``operationalisation``, ``spatial_influence_m``, ``cells`` (how many 1s) and
        ``threshold`` (density cut-off in features per km2; NaN for proximity).
    choices : pandas.DataFrame
        One row per factor: ``factor``, ``requested``, ``used`` (``proximity``,
        ``density`` or ``both``) and ``reason``.
    cells : ndarray of int64
        Flat index into the grid of each row.
    shape : tuple of int
        The grid's ``(nrows, ncols)``.
    """

    matrix: np.ndarray
    table: pd.DataFrame
    choices: pd.DataFrame
    cells: np.ndarray
    shape: tuple

    @property
    def names(self) -> list[str]:
        return list(self.table["name"])

    @property
    def n_cells(self) -> int:
        return self.matrix.shape[0]

    def columns(self, names) -> np.ndarray:
        """Column indices of the named variables (ValueError naming any unknown one)."""
        lookup = {n: i for i, n in enumerate(self.table["name"])}
        missing = [n for n in names if n not in lookup]
        if missing:
            raise ValueError(f"no risk variable is called '{missing[0]}' (variables: {', '.join(lookup)})")
        return np.array([lookup[n] for n in names], dtype=np.int64)


def _layer_items(layers) -> list[tuple[str, object]]:
    if isinstance(layers, Mapping):
        items = [(str(k), v) for k, v in layers.items()]
    else:
        items = []
        for i, lay in enumerate(layers):
            if not hasattr(lay, "name"):
                raise ValueError(f"layer {i} has no name: pass Layer objects or a dict name -> layer")
            items.append((str(lay.name), lay))
    if not items:
        raise ValueError("no layers were given")
    names = [n for n, _ in items]
    for n in names:
        if not n or not n.replace("_", "").isalnum():
            raise ValueError(f"layer name '{n}' must be a single word (letters, digits, underscores)")
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"two layers are called '{sorted(dup)[0]}'; give each layer its own name")
    return items


def build_variables(grid: Grid, layers: Sequence[Layer] | Mapping[str, object], block_length: float, bands: int,
                    increment: str = "whole", operationalisations: Mapping[str, str] | None = None, *,
                    max_influence_m: float | Mapping[str, float] | None = None, n_sd: float = 2.0,
                    spacing: float | None = None, significance: float = 0.05) -> RiskVariables:
    """Build every proximity and density variable of the layers at every spatial influence.

    Parameters
    ----------
    grid : Grid
    layers : sequence of Layer, or dict name -> layer
        The factors; names must be single words and unique.
    block_length, bands, increment
        The spatial influences tested (see :func:`spatial_influences`).
    operationalisations : dict name -> {"proximity", "density", "both", "auto"}, optional
        Treatment of each factor; factors not named get ``auto``.
    max_influence_m : float or dict name -> float, optional
        The maximum spatial influence the ``auto`` rule compares the mean nearest-neighbour
        distance with (default: the largest distance tested).
    n_sd : float
        Density cut-off in standard deviations above the mean (see :func:`density_variable`).
    spacing : float, optional
        Sample spacing for lines and polygons in density surfaces (default half a cell).
    significance : float
        Level of the nearest-neighbour test of the ``auto`` rule.

    Returns
    -------
    RiskVariables
        Columns ordered by layer, then proximity before density, then distance; named
        ``{factor}_{prox|dens}_{metres}``.

    Notes
    -----
    Memory: the result holds 1 byte per masked cell per variable (a 1-million-cell area
    with 5 factors x 2 operationalisations x 6 distances is 60 MB); while it is built one
    distance surface (8 bytes per cell) and one padded density FFT (about 40 bytes per
    cell) are alive at a time. Time: one distance query per factor (see
    :func:`distance_surface`; searches stop at the largest distance tested, beyond which
    every proximity variable is 0) and one FFT convolution per factor and density distance
    (the kernels' transforms are made once and shared by all factors). 30 point factors x
    both operationalisations x 6 distances on 1.5 million cells take 15 to 17 seconds on 2
    cores, most of it in the k-d tree queries and the 180 FFT convolutions.
    """
    distances = spatial_influences(block_length, bands, increment)
    items = _layer_items(layers)
    ops = dict(operationalisations or {})
    unknown = set(ops) - {n for n, _ in items}
    if unknown:
        raise ValueError(f"operationalisations name a layer that was not given: '{sorted(unknown)[0]}'")
    for n, op in ops.items():
        if op not in OPERATIONALISATIONS:
            raise ValueError(f"operationalisation '{op}' for layer '{n}' is not one of "
                             f"{', '.join(OPERATIONALISATIONS)}")
    if not grid.mask.any():
        raise ValueError("the grid's mask has no cells")
    area = float(grid.mask.sum()) * grid.cell_size**2

    def max_inf(name):
        if max_influence_m is None:
            return distances[-1]
        if isinstance(max_influence_m, Mapping):
            return float(max_influence_m.get(name, distances[-1]))
        return float(max_influence_m)

    plan, choices = [], []
    for name, lay in items:
        requested = ops.get(name, "auto")
        if requested == "auto":
            choice = auto_operationalisation(lay, area, max_inf(name), significance=significance)
            used, reason = choice.operationalisation, choice.reason
        else:
            used, reason = requested, "as requested"
        plan.append((name, lay, ["proximity", "density"] if used == "both" else [used]))
        choices.append({"factor": name, "requested": requested, "used": used, "reason": reason})

    n_vars = sum(len(p[2]) for p in plan) * len(distances)
    mask = grid.mask
    matrix = np.empty((int(mask.sum()), n_vars), dtype=np.uint8)
    cx, cy = _masked_centres(grid)
    flat = np.flatnonzero(mask)
    xy = None
    # distances beyond the largest influence only ever give 0s, so the searches stop there
    # (padded so a centre at exactly that distance is still measured)
    upper = distances[-1] * (1 + 1e-9) + 1e-6
    bands = np.asarray(distances, dtype=float)
    kernel_ffts: dict = {}  # one transform per kernel, shared by every factor
    meta = []
    j = 0
    for name, lay, kinds in plan:
        geoms = _geometries(lay, grid)
        for kind in kinds:
            # each factor's columns are made in a small (cells x distances) block and copied
            # into the matrix at once: writing one strided column at a time is slower
            if kind == "proximity":
                if len(geoms) == 0:
                    raise ValueError(f"layer '{_name_of(lay)}' has no features to measure distances to")
                if xy is None and (shapely.get_type_id(geoms) == 0).any():
                    xy = np.column_stack([cx, cy])
                dist = _nearest_distances(geoms, cx, cy, upper, xy)
                block = dist[:, None] <= bands
                thresholds = [np.nan] * len(distances)
            else:
                if not np.isfinite(n_sd):
                    raise ValueError(f"n_sd must be a finite number of standard deviations, not {n_sd!r}")
                x, y, w = sample_points(geoms, grid.cell_size / 2 if spacing is None else spacing)
                block = np.empty((matrix.shape[0], len(distances)), dtype=bool)
                thresholds = []
                for k, d in enumerate(distances):
                    v = _density(grid, x, y, w, d, kernel_ffts).ravel().take(flat)  # = [mask]
                    thr = float(v.mean() + n_sd * v.std())  # density_threshold, without a second v
                    np.greater(v, thr, out=block[:, k])
                    thresholds.append(thr)
            matrix[:, j:j + len(distances)] = block
            ones = np.count_nonzero(block, axis=0)
            for k, d in enumerate(distances):
                meta.append({"name": f"{name}_{_SHORT[kind]}_{d:g}", "factor": name, "operationalisation": kind,
                             "spatial_influence_m": float(d), "cells": int(ones[k]), "threshold": thresholds[k]})
            j += len(distances)
    table = pd.DataFrame(meta, columns=["name", "factor", "operationalisation", "spatial_influence_m", "cells",
                                        "threshold"])
    return RiskVariables(matrix, table, pd.DataFrame(choices, columns=["factor", "requested", "used", "reason"]),
                         flat, grid.shape)
