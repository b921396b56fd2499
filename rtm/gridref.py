"""Ordnance Survey grid references (British National Grid, EPSG:27700).

An officer finds a spot on an OS map or a phone app from its grid reference, e.g.
``TQ 8787 8633``: two letters for the 100 km square, then easting and northing digits
inside it. Letters follow the OS scheme (a 5 x 5 grid of 500 km squares, each a 5 x 5
grid of 100 km squares, letters A-Z without I).
"""

from __future__ import annotations

import math

import numpy as np

#: The extent of the National Grid's lettered squares: 0-700 km east, 0-1300 km north.
MAX_EASTING = 700_000
MAX_NORTHING = 1_300_000


def _letter(i: int) -> str:
    return chr(ord("A") + i + (1 if i > 7 else 0))  # no letter I


def grid_reference(easting: float, northing: float, digits: int = 8) -> str:
    """The OS grid reference of a British National Grid point.

    Parameters
    ----------
    easting, northing : float
        Metres in EPSG:27700.
    digits : {4, 6, 8, 10}
        Figures after the letters: 8 gives a 10 m square (``TQ 8787 8633``).

    Returns
    -------
    str
        ``"TQ 8787 8633"``; ``""`` for a point outside the lettered grid or not finite.

    Notes
    -----
    The reference names the square the point lies in (digits are truncated, not rounded),
    as the OS defines it.
    """
    if digits not in (4, 6, 8, 10):
        raise ValueError(f"a grid reference has 4, 6, 8 or 10 figures, not {digits}")
    if not (math.isfinite(easting) and math.isfinite(northing)):
        return ""
    e, n = int(math.floor(easting)), int(math.floor(northing))
    if not (0 <= e < MAX_EASTING and 0 <= n < MAX_NORTHING):
        return ""
    e100, n100 = e // 100_000, n // 100_000
    first = (19 - n100) - (19 - n100) % 5 + (e100 + 10) // 5
    second = (19 - n100) * 5 % 25 + e100 % 5
    half = digits // 2
    scale = 10 ** (5 - half)
    return f"{_letter(first)}{_letter(second)} {e % 100_000 // scale:0{half}d} {n % 100_000 // scale:0{half}d}"


def grid_references(easting, northing, crs, digits: int = 8) -> list[str]:
    """Grid references of many points, or ``""`` each when ``crs`` is not British National Grid.

    Parameters
    ----------
    easting, northing : array-like of float
        Coordinates in ``crs``.
    crs : pyproj.CRS or anything pyproj accepts
    digits : int

    Returns
    -------
    list of str
    """
    from pyproj import CRS

    x, y = np.asarray(easting, float), np.asarray(northing, float)
    if crs is None or CRS.from_user_input(crs).to_epsg() != 27700:
        return [""] * len(x)
    return [grid_reference(a, b, digits) for a, b in zip(x, y)]
