"""The grid every raster of a run shares: cell size, snapped origin, area mask, ids.

The origin is snapped to a multiple of the cell size, so the cell that covers a point is
the same in every run and every week whatever the study area, and its id never changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import rasterio.features
import shapely
from affine import Affine

from .areas import Areas
from .errors import InputError

# Offsets that keep ids positive for negative coordinates: the column index takes the low
# 32 bits, the row index the 31 bits above them, so an id never reaches 2**63 (int64
# overflow would wrap it negative and break cell_of_id). Rows span +-2**30 cells.
_OFFSET_X = 2**31
_OFFSET_Y = 2**30

#: Estimated memory of a run per grid cell: the grid's own 5 bytes plus the float rasters
#: a model and a list keep per cell (risk variables, risk and harm surfaces, scores).
BYTES_PER_CELL = 200
#: Default limit on that estimate, in MB (a county at 50 m cells needs about 400 MB).
MAX_GRID_MB = 4096.0


def grid_memory_mb(bounds, cell_size: float) -> tuple[int, float]:
    """``(cells, MB)``: the cells of a grid of ``cell_size`` over ``bounds`` and their
    estimated run memory at :data:`BYTES_PER_CELL` a cell (nothing is allocated)."""
    minx, miny, maxx, maxy = bounds
    w, h = max(maxx - minx, cell_size), max(maxy - miny, cell_size)
    cells = (np.ceil(w / cell_size) + 1) * (np.ceil(h / cell_size) + 1)
    return cells, cells * BYTES_PER_CELL / 2**20


def check_grid_limit(max_grid_mb) -> float:
    """``max_grid_mb`` (the grid memory limit, MB) as a float.

    Raises
    ------
    InputError
        (setting ``max_grid_mb``) when it is not a finite number above 0: ``nan`` or
        ``inf`` would turn the limit off and let a grid take all the machine's memory.
    """
    try:
        limit = float(max_grid_mb)
    except (TypeError, ValueError):
        limit = float("nan")
    if not (np.isfinite(limit) and limit > 0):
        raise InputError("", f"the grid memory limit {max_grid_mb!r} MB is not a finite number above 0",
                         f"give the memory a grid may take in MB, e.g. {MAX_GRID_MB:g}", field="max_grid_mb",
                         field_kind="setting")
    return limit


def check_grid_size(bounds, cell_size: float, max_grid_mb: float = MAX_GRID_MB) -> int:
    """The number of cells a grid of ``cell_size`` over ``bounds`` has, refused when its
    estimated memory (:data:`BYTES_PER_CELL` a cell) exceeds ``max_grid_mb``.

    Raises
    ------
    InputError
        With the figure, the smallest cell size that fits, and the fixes: that cell size,
        fewer districts, a force-by-force run (``rtm national``), or the setting to raise;
        also when ``max_grid_mb`` is not a finite number above 0 (:func:`check_grid_limit`).
    """
    max_grid_mb = check_grid_limit(max_grid_mb)
    minx, miny, maxx, maxy = bounds
    if not np.all(np.isfinite(bounds)) or not np.isfinite(cell_size):
        raise InputError("grid", f"the grid's extent ({minx:g}, {miny:g}, {maxx:g}, {maxy:g}) or cell size "
                         f"({cell_size:g} m) is not a finite number", "check the area tolerance and the cell size")
    w, h = max(maxx - minx, cell_size), max(maxy - miny, cell_size)
    cells, need_mb = grid_memory_mb(bounds, cell_size)
    if not np.isfinite(need_mb) or need_mb > max_grid_mb:
        fits = float(np.sqrt(w * h * BYTES_PER_CELL / (max_grid_mb * 2**20)))
        raise InputError("grid", f"cells of {cell_size:g} m over a study area of {w / 1000:,.1f} km by "
                         f"{h / 1000:,.1f} km make {cells:,.0f} cells, about {need_mb:,.0f} MB at "
                         f"~{BYTES_PER_CELL} bytes a cell, more than the limit of {max_grid_mb:,.0f} MB",
                         f"use cells of at least {np.ceil(fits):,.0f} m (spot or cell size), choose fewer "
                         "districts, list several forces one force at a time ('rtm national'), or raise "
                         "the limit max_grid_mb if the machine has the memory", field="max_grid_mb",
                         field_kind="setting")
    return int(cells)


@dataclass(frozen=True, eq=False)
class Grid:
    """A north-up raster grid in a metric CRS.

    Attributes
    ----------
    cell_size : float
        Cell width and height in metres.
    x0, y0 : float
        Left and top edges, multiples of ``cell_size``.
    ncols, nrows : int
    crs : pyproj.CRS
    mask : ndarray of bool, shape (nrows, ncols)
        True for cells whose centre lies inside the study area.
    district : ndarray of int32, shape (nrows, ncols)
        Index into ``district_names`` of the district holding the cell centre; -1 outside.
    district_names : tuple of str
    """

    cell_size: float
    x0: float
    y0: float
    ncols: int
    nrows: int
    crs: object
    mask: np.ndarray
    district: np.ndarray
    district_names: tuple

    @classmethod
    def from_areas(cls, areas: Areas, cell_size: float, edge_m: float = 0.0, *,
                   max_grid_mb: float = MAX_GRID_MB) -> "Grid":
        """Cover ``areas`` with cells of ``cell_size`` metres.

        Parameters
        ----------
        areas : Areas
        cell_size : float
        edge_m : float
            Also count as study area the cells outside every district whose centre lies
            within this distance of the area's outer boundary, each given the district of
            the nearest cell inside. Use the loading tolerance plus half a cell diagonal so
            that every incident kept by ``--area-tolerance`` (e.g. on a seafront cut off by
            generalised boundaries) lands in a cell of the study area.
        max_grid_mb : float
            Refuse (InputError) a grid whose estimated run memory exceeds this, before
            anything is allocated (see :func:`check_grid_size`).

        Notes
        -----
        Rasterises each district once (cell-centre rule) with rasterio; memory is 5 bytes
        per cell (mask + district index). ``edge_m`` adds one rasterisation of the
        buffered outline and one distance transform (scipy.ndimage).
        """
        if not cell_size > 0:
            raise ValueError(f"cell_size must be a positive number of metres, not {cell_size!r}")
        if areas.crs is None or not areas.crs.is_projected:
            raise ValueError("areas must be in a projected (metric) CRS; load them with load_areas")
        if not (np.isfinite(edge_m) and edge_m >= 0):
            raise ValueError(f"edge_m must be a distance of 0 or more metres, not {edge_m!r}")
        minx, miny, maxx, maxy = areas.frame.total_bounds
        minx, miny, maxx, maxy = minx - edge_m, miny - edge_m, maxx + edge_m, maxy + edge_m
        check_grid_size((minx, miny, maxx, maxy), cell_size, max_grid_mb)
        x0 = np.floor(minx / cell_size) * cell_size
        y0 = np.ceil(maxy / cell_size) * cell_size
        ncols = int(np.ceil((maxx - x0) / cell_size)) or 1
        nrows = int(np.ceil((y0 - miny) / cell_size)) or 1
        transform = Affine(cell_size, 0, x0, 0, -cell_size, y0)
        district = rasterio.features.rasterize(
            ((g, i) for i, g in enumerate(areas.frame.geometry.values)),
            out_shape=(nrows, ncols), transform=transform, fill=-1, dtype="int32")
        if edge_m > 0:
            from scipy import ndimage

            ring = rasterio.features.rasterize([(shapely.buffer(areas.union, edge_m), 1)], out_shape=(nrows, ncols),
                                               transform=transform, fill=0, dtype="uint8").astype(bool)
            ring &= district < 0
            if ring.any() and (district >= 0).any():
                near = ndimage.distance_transform_edt(district < 0, return_distances=False, return_indices=True)
                district[ring] = district[near[0][ring], near[1][ring]]
        return cls(float(cell_size), float(x0), float(y0), ncols, nrows, areas.crs,
                   district >= 0, district, tuple(areas.names))

    # -- geometry -----------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return (self.nrows, self.ncols)

    @property
    def transform(self) -> Affine:
        """The affine transform for rasterio (top-left origin, north up)."""
        return Affine(self.cell_size, 0, self.x0, 0, -self.cell_size, self.y0)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0 - self.nrows * self.cell_size, self.x0 + self.ncols * self.cell_size, self.y0)

    def index(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of the cell holding each point; -1 for points off the grid."""
        col = np.floor((np.asarray(x, float) - self.x0) / self.cell_size).astype(np.int64)
        row = np.floor((self.y0 - np.asarray(y, float)) / self.cell_size).astype(np.int64)
        off = (col < 0) | (col >= self.ncols) | (row < 0) | (row >= self.nrows)
        return np.where(off, -1, row), np.where(off, -1, col)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y of every cell centre, each of shape (nrows, ncols)."""
        xs = self.x0 + (np.arange(self.ncols) + 0.5) * self.cell_size
        ys = self.y0 - (np.arange(self.nrows) + 0.5) * self.cell_size
        return np.meshgrid(xs, ys)

    # -- stable ids ---------------------------------------------------------------------
    def _absolute(self, row, col):
        ix = np.rint(self.x0 / self.cell_size).astype(np.int64) + np.asarray(col, np.int64)
        iy = np.rint(self.y0 / self.cell_size).astype(np.int64) - 1 - np.asarray(row, np.int64)
        return ix, iy

    def cell_ids(self, row=None, col=None) -> np.ndarray:
        """Stable int64 id of cells (all cells when no row/col is given).

        The id encodes the cell's absolute column and row counted from the CRS origin in
        units of the cell size, so it is the same in every run and every week for the same
        cell size and CRS.
        """
        if row is None:
            row, col = np.indices(self.shape)
        ix, iy = self._absolute(row, col)
        return (iy + _OFFSET_Y) * 2**32 + (ix + _OFFSET_X)

    def cell_labels(self, row, col) -> np.ndarray:
        """Readable ids: cell size and lower-left corner, e.g. ``150m-E583850-N187050``."""
        ix, iy = self._absolute(row, col)
        cs = self.cell_size
        size = f"{cs:g}m"
        return np.array([f"{size}-E{x * cs:.0f}-N{y * cs:.0f}" for x, y in zip(np.ravel(ix), np.ravel(iy))],
                        dtype=object)

    def cell_of_id(self, ids) -> tuple[np.ndarray, np.ndarray]:
        """Row and column in this grid of stable ids (-1 where the id is off the grid)."""
        ids = np.asarray(ids, np.int64)
        ix = (ids % 2**32) - _OFFSET_X
        iy = (ids // 2**32) - _OFFSET_Y
        col = ix - np.rint(self.x0 / self.cell_size).astype(np.int64)
        row = np.rint(self.y0 / self.cell_size).astype(np.int64) - 1 - iy
        off = (col < 0) | (col >= self.ncols) | (row < 0) | (row >= self.nrows)
        return np.where(off, -1, row), np.where(off, -1, col)

    def counts(self, x, y, weights=None) -> np.ndarray:
        """Sum of ``weights`` (or counts) of points per cell, shape (nrows, ncols)."""
        row, col = self.index(x, y)
        ok = row >= 0
        flat = row[ok] * self.ncols + col[ok]
        w = None if weights is None else np.asarray(weights, float)[ok]
        return np.bincount(flat, weights=w, minlength=self.nrows * self.ncols).reshape(self.shape)
