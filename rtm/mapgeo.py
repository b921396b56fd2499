"""Shared helpers of the map modules: text made safe for Leaflet's HTML, and geometry in
longitude/latitude (frames, bounds, a grid's box).

Used by :mod:`rtm.mapview` (vector layers and the whole map), :mod:`rtm.mapsurfaces` (coloured
surfaces and their legends), :mod:`rtm.maphotspots` (emerging hot spot and dose layers) and
:mod:`rtm.mapstreets` (street names). Nothing here draws.
"""

from __future__ import annotations

import html
import math

import geopandas as gpd
import numpy as np

from . import coords

WGS84 = "EPSG:4326"
COORD_DECIMALS = 5
"""Decimals of longitude/latitude sent to the browser (about 1 m)."""


# -- text --------------------------------------------------------------------------------
def _e(value) -> str:
    """HTML-escaped text of a value; empty for None/NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _num(value, spec: str = ".1f") -> str:
    """``value`` formatted with ``spec``; empty for None, NaN or text that is not a number."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(v) else format(v, spec)


# -- geometry ------------------------------------------------------------------------------
def to_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` in longitude/latitude (EPSG:4326); a frame with no CRS is assumed to be in it."""
    if frame.crs is None:
        return frame.set_crs(WGS84)
    return frame if frame.crs.to_epsg() == 4326 else frame.to_crs(WGS84)


def simplified(frame: gpd.GeoDataFrame, tolerance_m: float = 3.0) -> gpd.GeoDataFrame:
    """Outlines simplified by ``tolerance_m`` (in a metric CRS) and rounded to
    :data:`COORD_DECIMALS` in longitude/latitude: what shows on screen, at a fraction of the
    bytes sent to the browser."""
    import shapely

    if frame.crs is not None and frame.crs.is_projected:
        frame = frame.set_geometry(frame.geometry.simplify(tolerance_m, preserve_topology=True))
    ll = to_wgs84(frame)
    return ll.set_geometry(shapely.set_precision(ll.geometry.values, 10 ** -COORD_DECIMALS))


def latlon_bounds(frame: gpd.GeoDataFrame) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of a frame, for ``fit_bounds``."""
    w, s, e, n = to_wgs84(frame).total_bounds
    return [[float(s), float(w)], [float(n), float(e)]]


def grid_bounds(grid) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of the box holding the four corners of ``grid``
    (an :class:`rtm.grid.Grid`) in latitude/longitude."""
    left, top = grid.x0, grid.y0
    right, bottom = left + grid.ncols * grid.cell_size, top - grid.nrows * grid.cell_size
    lon, lat = coords.project(np.array([left, right, left, right], float), np.array([top, top, bottom, bottom], float),
                              coords.to_crs(grid.crs), coords.to_crs(WGS84))
    return [[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]]

