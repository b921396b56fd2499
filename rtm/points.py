"""Point coordinates from a table's columns or a vector file's geometry, with the CRS
they are in. Shared by incidents and attractor layers."""

from __future__ import annotations

import numpy as np

from . import coords
from .errors import InputError
from .load_report import mark


def column(raw, name: str | None):
    """The named column of a raw table, or None."""
    return raw.table.column(name) if name else None


def table_points(raw, cmap, codes: np.ndarray, crs=None, layout_crs=None, layout_how: str = ""):
    """x, y and their CRS from a table's coordinate columns.

    Parameters
    ----------
    raw : RawTable
    cmap : ColumnMap
        Resolved mapping: ``lon``/``lat`` or ``x``/``y``.
    codes : ndarray of int8
        Reason codes, updated in place (missing, non-numeric, invalid coordinates).
    crs : CRS-like, optional
        CRS the user declared; else ``layout_crs`` (what the format implies); else inferred.

    Returns
    -------
    x, y : ndarray of float
    crs_in : pyproj.CRS
    how : str
    """
    if raw.geometry is not None:
        return geometry_points(raw, codes, crs)
    xcol, ycol = (cmap.lon, cmap.lat) if cmap.lon else (cmap.x, cmap.y)
    nx, ny = coords.parse_numbers(column(raw, xcol)), coords.parse_numbers(column(raw, ycol))
    mark(codes, nx.missing | ny.missing, "missing_coordinates")
    mark(codes, nx.non_numeric | ny.non_numeric, "non_numeric_coordinates")
    declared, how = (crs, "declared") if crs is not None else (layout_crs, layout_how)
    return _checked(raw.name, nx.values, ny.values, codes, declared, how, (xcol, ycol))


def _checked(name, x, y, codes, declared, how, columns=None):
    # (0, 0) is what some systems write for "no location": never a real incident here, and
    # not a point to tell the CRS from (a few would make grid metres look like nothing known)
    zero = (np.asarray(x) == 0) & (np.asarray(y) == 0)
    usable = (codes == 0) & ~zero
    crs_in, crs_how = coords.infer_crs(np.where(usable, x, np.nan), np.where(usable, y, np.nan), name,
                                       declared=declared, declared_how=how or "declared", columns=columns)
    mark(codes, ~coords.valid_mask(x, y, crs_in), "invalid_coordinates")
    mark(codes, zero, "zero_coordinates")
    return x, y, crs_in, crs_how


def geometry_points(raw, codes: np.ndarray, crs=None):
    """x, y and CRS of a vector file whose features must be points.

    A MultiPoint of one point counts as a point; other geometries are rejected as
    ``geometry_not_point`` (or the whole file refused when it holds no points at all).
    """
    import shapely  # only vector files have geometries: text files load without it

    geoms = raw.geometry
    gtype = shapely.get_type_id(geoms)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    single_multi = (gtype == 4) & (shapely.get_num_geometries(geoms) == 1)
    point_like = (gtype == 0) | single_multi
    if not point_like[~missing].any() and (~missing).any():
        kinds = sorted({shapely.geometry.base.GEOMETRY_TYPES[t] for t in np.unique(gtype[~missing])})
        raise InputError(raw.name, f"the file holds {', '.join(kinds)} features, not points; incidents must be points",
                         "load boundaries as the study area, or attractors as a layer; give incidents as points")
    mark(codes, missing, "missing_coordinates")
    mark(codes, ~point_like, "geometry_not_point")
    pts = np.where(single_multi, shapely.get_geometry(geoms, 0), geoms)
    ok = codes == 0
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    x[ok] = shapely.get_x(pts[ok])
    y[ok] = shapely.get_y(pts[ok])
    declared, how = (raw.crs, "declared by the file") if raw.crs else (crs, "declared")
    return _checked(raw.name, x, y, codes, declared, how)
