"""The nearest-neighbour test (Clark & Evans 1954) and RTMDx's rule that uses it to choose
proximity or density for a factor."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from .geometry import geometries, name_of

# Clark & Evans (1954): standard error of the mean nearest-neighbour distance under
# complete spatial randomness is 0.26136 / sqrt(n * density).
_CE_SE = 0.26136


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
    from scipy.special import ndtr  # here, not at import (0.2 s): the app's first page loads layers, tests none

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
    name = name_of(layer)
    geoms = geometries(layer)
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
