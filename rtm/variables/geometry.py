"""Spatial influences and the geometry helpers every risk variable shares."""

from __future__ import annotations

import numpy as np
import shapely

from ..grid import Grid
from ..terrain_settings import INCREMENTS


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


def geometries(layer, grid: Grid | None = None) -> np.ndarray:
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


def masked_centres(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.nonzero(grid.mask)
    return grid.x0 + (cols + 0.5) * grid.cell_size, grid.y0 - (rows + 0.5) * grid.cell_size


def name_of(layer, default: str = "layer") -> str:
    return str(getattr(layer, "name", default))
