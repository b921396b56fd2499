"""Geometry checks shared by areas and attractor layers: repair or reject, with counts."""

from __future__ import annotations

import numpy as np
import shapely

from .load_report import reason_code

POINT, LINE, POLYGON = "point", "line", "polygon"
_KIND_OF_TYPE = {0: POINT, 4: POINT, 1: LINE, 2: LINE, 5: LINE, 3: POLYGON, 6: POLYGON}


def kinds(geoms: np.ndarray) -> np.ndarray:
    """The kind of each geometry: ``point``, ``line``, ``polygon`` or ``""`` (missing/other)."""
    ids = shapely.get_type_id(geoms)
    return np.array([_KIND_OF_TYPE.get(int(t), "") for t in ids], dtype=object)


def repair(geoms: np.ndarray, codes: np.ndarray, allowed: tuple[str, ...]) -> tuple[np.ndarray, int]:
    """Repair invalid geometries and record reasons for those that cannot be used.

    Parameters
    ----------
    geoms : ndarray of shapely geometries
    codes : ndarray of int8
        Reason codes, updated in place (only rows still 0 are changed).
    allowed : tuple of str
        Kinds accepted (``point``, ``line``, ``polygon``).

    Returns
    -------
    geoms : ndarray
        Geometries after ``shapely.make_valid`` (polygons keep only their polygonal part).
    repaired : int
        How many invalid geometries were repaired.

    Notes
    -----
    Costs one validity test per feature plus a ``make_valid`` per invalid one.
    """
    geoms = np.asarray(geoms, dtype=object).copy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    codes[(codes == 0) & missing] = reason_code("missing_geometry")
    live = codes == 0
    invalid = live & ~shapely.is_valid(geoms)
    repaired = 0
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        if POLYGON in allowed:
            # make_valid can return a collection with stray lines; keep the area part
            polys = [shapely.union_all([g for g in shapely.get_parts(f) if shapely.get_type_id(g) in (3, 6)])
                     if shapely.get_type_id(f) == 7 else f for f in fixed]
            fixed = np.array(polys, dtype=object)
        ok = ~(shapely.is_empty(fixed) | ~shapely.is_valid(fixed))
        geoms[np.flatnonzero(invalid)[ok]] = fixed[ok]
        bad = np.flatnonzero(invalid)[~ok]
        codes[bad] = reason_code("invalid_geometry")
        repaired = int(ok.sum())
    live = codes == 0
    k = kinds(geoms)
    codes[live & ~np.isin(k, list(allowed))] = reason_code("wrong_geometry_type")
    return geoms, repaired
