"""A force's study area made from its own incidents, for forces without a boundary file.

The rule (docs/national.md): the area is every square of ``distance_m / 2`` metres, on a
grid snapped to multiples of that size, whose centre lies within ``distance_m`` of the
centre of a square holding an incident; holes are filled (a park or a lake surrounded by
crime is inside), and groups of incidents holding fewer than ``min_share`` of them are
dropped, a group being the incidents chained together by gaps of at most ``join_m``
(police.uk places a few crimes far outside the force, which would otherwise stretch the
grid over half the country; villages a few km apart stay). The result is one district named after the force; an area
wider or taller than ``max_extent_m`` (300 km: a force spread over the country, such as
British Transport Police) is cut into the squares of ``tile_m`` (100 km, the National
Grid's lettered squares in Great Britain), each a district of its own.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError

#: Default distance from an incident within which a place counts as the force's area.
DEFAULT_DISTANCE_M = 1000.0
#: Default smallest share of the incidents a separate piece of area must hold to be kept.
DEFAULT_MIN_SHARE = 0.002
#: Areas wider or taller than this are cut into squares of :data:`TILE_M`, one district each.
MAX_EXTENT_M = 300_000.0
#: Incidents chained by gaps up to this long form one group for ``min_share``.
DEFAULT_JOIN_M = 5000.0
TILE_M = 100_000.0


def area_mask_from_points(x, y, distance_m: float = DEFAULT_DISTANCE_M, min_share: float = DEFAULT_MIN_SHARE,
                          join_m: float = DEFAULT_JOIN_M):
    """The area of the rule on its own raster: ``(mask, x0, y0, res)``.

    Parameters
    ----------
    x, y : arrays
        Incident coordinates in a metric CRS (non-finite ones are ignored).
    distance_m : float
        A square belongs to the area when its centre is within this distance of a square
        holding an incident.
    min_share : float
        Groups holding fewer than this share of the incidents are dropped.
    join_m : float
        Incidents whose squares are within this distance (chained) form one group.

    Returns
    -------
    mask : ndarray of bool, shape (rows, cols), north up
    x0, y0 : float
        Left and top edges of the raster, multiples of ``res``.
    res : float
        ``distance_m / 2``.

    Notes
    -----
    One bincount of the points, two binary dilations (discs of 2 and ``join_m / res``
    squares), one labelling and one hole filling (scipy.ndimage): memory about 20 bytes
    per square of the points' bounding box (50 MB for a box the size of England at 500 m).
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
    if min_share > 0:
        k = max(int(np.ceil(join_m / 2 / res)), reach)
        off = np.arange(-k, k + 1)
        wide = ndimage.binary_dilation(counts > 0, structure=(off[:, None] ** 2 + off[None, :] ** 2) <= k**2)
        labels, n = ndimage.label(wide, structure=np.ones((3, 3), bool))
        held = np.bincount(labels.ravel(), weights=counts.ravel(), minlength=n + 1)
        keep = held >= min_share * x.size
        keep[0] = False
        area &= keep[labels]
    area = ndimage.binary_fill_holes(area)
    return area, float(x0), float(y0), float(res)


def area_from_points(x, y, crs, name: str, distance_m: float = DEFAULT_DISTANCE_M,
                     min_share: float = DEFAULT_MIN_SHARE, max_extent_m: float = MAX_EXTENT_M,
                     tile_m: float = TILE_M, join_m: float = DEFAULT_JOIN_M):
    """The study area of the rule as :class:`~rtm.areas.Areas`.

    ``x``, ``y`` are in the metric ``crs``; see :func:`area_mask_from_points` for the rule,
    ``distance_m``, ``min_share`` and ``join_m``. The area is one district ``name``, or, when wider or
    taller than ``max_extent_m``, one district per square of ``tile_m`` it touches, named
    ``"<name> TQ"`` by the square's National Grid letters (British National Grid) or
    ``"<name> E500km N100km"`` by its corner. The areas' report notes the rule, so
    provenance says how the area was made. Cost: that of the mask plus one polygonising
    of it with rasterio.
    """
    import geopandas as gpd
    import rasterio.features
    import shapely
    from affine import Affine

    from .areas import Areas
    from .gridref import grid_references
    from .load_report import LoadReport

    mask, x0, y0, res = area_mask_from_points(x, y, distance_m, min_share, join_m)
    transform = Affine(res, 0, x0, 0, -res, y0)
    polys = [shapely.geometry.shape(g) for g, v in
             rasterio.features.shapes(mask.astype(np.uint8), mask=mask, transform=transform, connectivity=8) if v]
    geom = shapely.union_all(polys)
    note = (f"made from the incidents: squares of {res:g} m within {distance_m:g} m of an incident, holes filled, "
            f"groups of incidents (chained by gaps up to {join_m:g} m) with under {100 * min_share:g}% of them "
            "dropped (docs/national.md)")
    minx, miny, maxx, maxy = geom.bounds
    if max(maxx - minx, maxy - miny) > max_extent_m:
        names, geoms = [], []
        for ty in np.arange(np.floor(miny / tile_m), np.ceil(maxy / tile_m)) * tile_m:
            for tx in np.arange(np.floor(minx / tile_m), np.ceil(maxx / tile_m)) * tile_m:
                part = shapely.intersection(geom, shapely.box(tx, ty, tx + tile_m, ty + tile_m))
                if part.is_empty or part.area <= 0:
                    continue
                letters = grid_references([tx + 1], [ty + 1], crs, digits=4)[0][:2]
                names.append(f"{name} {letters}" if letters else f"{name} E{tx / 1000:.0f}km N{ty / 1000:.0f}km")
                geoms.append(part)
        note += (f"; wider than {max_extent_m / 1000:g} km, so cut into squares of {tile_m / 1000:g} km, "
                 "one district each")
    else:
        names, geoms = [str(name)], [geom]
    report = LoadReport(kind="areas")
    report.notes.append(note)
    frame = gpd.GeoDataFrame({"name": names}, geometry=geoms, crs=crs).sort_values("name", kind="stable")
    return Areas(frame.reset_index(drop=True), report)
