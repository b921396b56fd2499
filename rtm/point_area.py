"""A force's study area made from its own incidents, for forces without a boundary file.

The rule (docs/national.md): the area is every square of ``distance_m / 2`` metres, on a
grid snapped to multiples of that size, whose centre lies within ``distance_m`` of the
centre of a square holding an incident; holes are filled (a park or a lake surrounded by
crime is inside), and pieces holding fewer than ``min_share`` of the incidents are dropped
(police.uk places a few crimes far outside the force, which would otherwise stretch the
grid over half the country). The result is one district named after the force.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError

#: Default distance from an incident within which a place counts as the force's area.
DEFAULT_DISTANCE_M = 1000.0
#: Default smallest share of the incidents a separate piece of area must hold to be kept.
DEFAULT_MIN_SHARE = 0.002


def area_mask_from_points(x, y, distance_m: float = DEFAULT_DISTANCE_M, min_share: float = DEFAULT_MIN_SHARE):
    """The area of the rule on its own raster: ``(mask, x0, y0, res)``.

    Parameters
    ----------
    x, y : arrays
        Incident coordinates in a metric CRS (non-finite ones are ignored).
    distance_m : float
        A square belongs to the area when its centre is within this distance of a square
        holding an incident.
    min_share : float
        Pieces (8-connected) holding fewer than this share of the incidents are dropped.

    Returns
    -------
    mask : ndarray of bool, shape (rows, cols), north up
    x0, y0 : float
        Left and top edges of the raster, multiples of ``res``.
    res : float
        ``distance_m / 2``.

    Notes
    -----
    One bincount of the points, one binary dilation by a disc of 2 squares, one labelling
    and one hole filling (scipy.ndimage): memory about 6 bytes per square of the points'
    bounding box (15 MB for a box the size of England at 1 km).
    """
    from scipy import ndimage

    if not (np.isfinite(distance_m) and distance_m > 0):
        raise InputError("area from points", f"the distance {distance_m!r} is not a positive number of metres",
                         "give a distance such as 1000 m", field="distance_m", field_kind="setting")
    if not 0 <= min_share < 1:
        raise InputError("area from points", f"the smallest share {min_share!r} is not between 0 and 1",
                         "give a share such as 0.002", field="min_share", field_kind="setting")
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if not x.size:
        raise InputError("area from points", "no incident has coordinates, so no area can be made from them",
                         "give the force's boundary polygons instead")
    res = distance_m / 2
    reach = 2  # squares: distance_m / res
    x0 = (np.floor(x.min() / res) - reach - 1) * res
    y0 = (np.ceil(y.max() / res) + reach + 1) * res
    cols = int(np.ceil((x.max() - x0) / res)) + reach + 2
    rows = int(np.ceil((y0 - y.min()) / res)) + reach + 2
    col = np.floor((x - x0) / res).astype(np.int64)
    row = np.floor((y0 - y) / res).astype(np.int64)
    counts = np.bincount(row * cols + col, minlength=rows * cols).reshape(rows, cols)
    off = np.arange(-reach, reach + 1)
    disc = (off[:, None] ** 2 + off[None, :] ** 2) <= reach**2
    area = ndimage.binary_dilation(counts > 0, structure=disc)
    labels, n = ndimage.label(area, structure=np.ones((3, 3), bool))
    held = np.bincount(labels.ravel(), weights=counts.ravel(), minlength=n + 1)
    keep = held >= max(min_share * x.size, 1)
    keep[0] = False
    area = ndimage.binary_fill_holes(keep[labels])
    return area, float(x0), float(y0), float(res)


def area_from_points(x, y, crs, name: str, distance_m: float = DEFAULT_DISTANCE_M,
                     min_share: float = DEFAULT_MIN_SHARE):
    """The study area of the rule as :class:`~rtm.areas.Areas` with one district ``name``.

    ``x``, ``y`` are in the metric ``crs``; see :func:`area_mask_from_points` for the rule,
    the parameters and the cost (plus one polygonising of the mask with rasterio).
    The areas' report notes the rule, so provenance says how the area was made.
    """
    import geopandas as gpd
    import rasterio.features
    import shapely
    from affine import Affine

    from .areas import Areas
    from .load_report import LoadReport

    mask, x0, y0, res = area_mask_from_points(x, y, distance_m, min_share)
    transform = Affine(res, 0, x0, 0, -res, y0)
    polys = [shapely.geometry.shape(g) for g, v in
             rasterio.features.shapes(mask.astype(np.uint8), mask=mask, transform=transform, connectivity=8) if v]
    geom = shapely.union_all(polys)
    report = LoadReport(kind="areas")
    report.notes.append(f"made from the incidents: squares of {res:g} m within {distance_m:g} m of an incident, "
                        f"holes filled, pieces with under {100 * min_share:g}% of the incidents dropped "
                        "(docs/national.md)")
    frame = gpd.GeoDataFrame({"name": [str(name)]}, geometry=[geom], crs=crs)
    return Areas(frame, report)
