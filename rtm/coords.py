"""Coordinates: parsing numbers, telling which CRS they are in, and projecting to the
metric working CRS (EPSG:27700 in Great Britain, the local UTM zone elsewhere).

Without the OSTN15 grid (offline), WGS84 -> British National Grid is about 2 m off;
harmless at 50-150 m cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from .errors import InputError, setting_error
from .textcols import as_string_array, blank_to_null, one_chunk

WGS84 = CRS.from_epsg(4326)
BNG = CRS.from_epsg(27700)
#: lon/lat box of Great Britain and its islands (generous), Northern Ireland's box (not
#: Great Britain: British National Grid does not cover it), and BNG's valid extent.
GB_LONLAT = (-9.0, 49.0, 2.5, 61.5)
NI_LONLAT = (-8.3, 53.9, -5.3, 55.5)
BNG_BOUNDS = (-10_000.0, -10_000.0, 700_000.0, 1_300_000.0)


@dataclass
class Numbers:
    """A parsed coordinate column: values with NaN where ``missing`` or ``non_numeric``."""

    values: np.ndarray
    missing: np.ndarray
    non_numeric: np.ndarray


def parse_numbers(col) -> Numbers:
    """Parse a column of text (or numbers) into float64, flagging blanks and non-numbers.

    Notes
    -----
    Fast path: a single Arrow cast of the non-blank strings. Only when that cast fails
    (some cell is not a number) does it fall back to pandas' per-value parsing.
    """
    arr = one_chunk(col)
    if not isinstance(arr, pa.Array):
        arr = pa.array(arr)
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) or pa.types.is_decimal(arr.type):
        vals = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
        missing = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        return Numbers(vals.astype(float), missing, np.zeros_like(missing))
    nulled = blank_to_null(arr)
    try:
        vals = pc.cast(nulled, pa.float64()).to_numpy(zero_copy_only=False)
        missing = np.asarray(nulled.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        non_numeric = np.zeros_like(missing)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # some cell is not a plain number (spaces, text): the slower per-value path
        trimmed = pc.utf8_trim_whitespace(as_string_array(arr))
        blank = pc.or_kleene(pc.is_null(trimmed), pc.equal(pc.utf8_length(trimmed), 0))
        missing = np.asarray(pc.fill_null(blank, True).to_numpy(zero_copy_only=False), dtype=bool)
        nulled = pc.if_else(blank, pa.scalar(None, pa.string()), trimmed)
        vals = pd.to_numeric(pd.Series(nulled.to_pandas(), dtype=object), errors="coerce").to_numpy(dtype=float)
        non_numeric = np.isnan(vals) & ~missing & ~_nan_text(nulled)
    return Numbers(np.asarray(vals, dtype=float), missing, non_numeric)


def _nan_text(arr: pa.Array) -> np.ndarray:
    """True where the text spells NaN, as Arrow's number parser reads it (which parses, but
    is not a usable number): ``nan``, signed, with a payload such as ``-nan(ind)``."""
    found = pc.match_substring_regex(pc.fill_null(arr, ""), r"^[+-]?nan(\([0-9a-z_]*\))?$", ignore_case=True)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def to_crs(value) -> CRS:
    """Parse a user-given CRS (``EPSG:27700``, ``27700``, WKT, PROJ string) or raise."""
    if isinstance(value, CRS):
        return value
    text = str(value).strip()
    try:
        return CRS.from_user_input(int(text) if text.isdigit() else text)
    except CRSError:
        raise setting_error("crs", f"'{value}' is not a coordinate reference system pyproj knows",
                         "give an EPSG code such as EPSG:27700 (British National Grid) or EPSG:4326 (longitude/latitude)") from None


def _share(mask: np.ndarray) -> float:
    return float(mask.mean()) if mask.size else 0.0


def _in_box(x, y, box) -> np.ndarray:
    return (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])


def _range_text(x, y) -> str:
    def num(v):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4f}".rstrip("0").rstrip(".")
    return f"x {num(np.nanmin(x))} to {num(np.nanmax(x))}, y {num(np.nanmin(y))} to {num(np.nanmax(y))}"


def infer_crs(x: np.ndarray, y: np.ndarray, source: str, declared=None,
              declared_how: str = "declared", columns: tuple | None = None) -> tuple[CRS, str]:
    """Decide the CRS of coordinates, or raise when it cannot be told or contradicts them.

    Parameters
    ----------
    x, y : ndarray of float
        Longitude/easting and latitude/northing (NaN where unusable).
    source : str
        File name for messages.
    declared : CRS-like, optional
        The CRS the user or the file format declares.
    columns : (str, str), optional
        The x and y column names, for the advice in messages.

    Returns
    -------
    crs : pyproj.CRS
    how : str
        The reason, in words, for the report.

    Raises
    ------
    InputError
        When lon/lat look swapped, when BNG metres are declared as lon/lat, or when the
        values fit no CRS that can be inferred.
    """
    ok = np.isfinite(x) & np.isfinite(y)
    fx, fy = x[ok], y[ok]
    if fx.size == 0:
        return (to_crs(declared) if declared is not None else WGS84), "no usable coordinates to check"
    lonlat_ok = _in_box(fx, fy, (-180, -90, 180, 90))
    swapped_ok = _in_box(fy, fx, (-180, -90, 180, 90))
    in_gb = _in_box(fx, fy, GB_LONLAT)
    in_gb_swapped = _in_box(fy, fx, GB_LONLAT)
    bng_ok = _in_box(fx, fy, BNG_BOUNDS) & ((np.abs(fx) > 1000) | (np.abs(fy) > 1000))
    xname, yname = columns or ("longitude", "latitude")
    swap_msg = InputError(source, "longitude and latitude look swapped (the longitude column holds values "
                          f"like {np.nanmedian(fx):.4g}, which is a latitude)",
                          f"swap them in the column mapping: --lon-col '{yname}' --lat-col '{xname}'",
                          field=xname)
    crs = to_crs(declared) if declared is not None else None
    if crs is not None:
        if crs.is_geographic:
            if _share(lonlat_ok) < 0.5 and _share(bng_ok) > 0.5:
                raise InputError(source, "the coordinates look like British National Grid metres "
                                 f"({_range_text(fx, fy)}) but are declared as longitude/latitude",
                                 "declare the CRS as EPSG:27700 (or map the easting/northing columns to x/y)")
            if _share(in_gb_swapped) > 0.5 and _share(in_gb) < 0.5 or (_share(lonlat_ok) < 0.5 and _share(swapped_ok) > 0.5):
                raise swap_msg
        elif _share(lonlat_ok & ~bng_ok) > 0.5 and crs.equals(BNG):
            raise InputError(source, f"the coordinates look like longitude/latitude ({_range_text(fx, fy)}) "
                             "but are declared as British National Grid", "declare the CRS as EPSG:4326")
        return crs, declared_how
    if _share(lonlat_ok) >= 0.99:
        if _share(in_gb_swapped) > 0.5 and _share(in_gb) < 0.5:
            raise swap_msg
        return WGS84, "inferred: the values are longitudes and latitudes"
    if _share(swapped_ok) >= 0.99:
        raise swap_msg
    if _share(bng_ok) >= 0.99:
        return BNG, "inferred: the values are British National Grid eastings and northings"
    raise InputError(source, f"the coordinate system cannot be told from the values ({_range_text(fx, fy)})",
                     "declare it, for example --crs EPSG:27700 for British National Grid")


def valid_mask(x: np.ndarray, y: np.ndarray, crs: CRS) -> np.ndarray:
    """True where a finite coordinate lies inside the CRS's valid range."""
    ok = np.isfinite(x) & np.isfinite(y)
    if crs.is_geographic:
        ok &= _in_box(x, y, (-180, -90, 180, 90))
    elif crs.equals(BNG):
        ok &= _in_box(x, y, BNG_BOUNDS)
    return ok


def working_crs_for(x: np.ndarray, y: np.ndarray, crs_in: CRS, override=None) -> tuple[CRS, str]:
    """Choose the metric CRS for the analysis from where the data lies.

    British National Grid when the data's centre is in Great Britain, otherwise the
    WGS84 UTM zone of the centre; ``override`` wins when given.
    """
    if override is not None:
        crs = to_crs(override)
        ok = valid_mask(x, y, crs_in)
        centre = (float(np.median(x[ok])), float(np.median(y[ok]))) if ok.any() else None
        if centre is not None and not crs_in.is_geographic:
            centre = Transformer.from_crs(crs_in, WGS84, always_xy=True).transform(*centre)
        check_working_crs(crs, centre)
        return crs, "set by the user"
    if crs_in.equals(BNG):
        return BNG, "the input is British National Grid"
    ok = valid_mask(x, y, crs_in)
    if not ok.any():
        return BNG, "no usable coordinates; British National Grid assumed"
    cx, cy = float(np.median(x[ok])), float(np.median(y[ok]))
    if not crs_in.is_geographic:
        cx, cy = Transformer.from_crs(crs_in, WGS84, always_xy=True).transform(cx, cy)
    c = (np.array([cx]), np.array([cy]))
    if _in_box(*c, GB_LONLAT)[0] and not _in_box(*c, NI_LONLAT)[0]:
        return BNG, "the data's centre is in Great Britain"
    utm = CRS.from_epsg(utm_epsg(cx, cy))
    return utm, f"the data's centre is in UTM zone {utm.utm_zone}"


#: The largest scale error accepted in a working CRS at the data's centre: beyond it a
#: 150 m spot is more than 3 m off on the ground (Web Mercator in England: 60%).
MAX_SCALE_ERROR = 0.02


def check_working_crs(crs: CRS, centre: tuple[float, float] | None = None) -> None:
    """Refuse a working CRS the analysis cannot measure in: not projected (degrees), not in
    metres, or, at ``centre`` (longitude, latitude) when given, with a scale more than
    :data:`MAX_SCALE_ERROR` from 1 (Web Mercator, EPSG:3857). Returns None.

    Raises
    ------
    InputError
        About the setting ``working_crs``, with the CRS and the fix.
    """
    fix = ("use a projected CRS in metres with little distortion where the data is: EPSG:27700 (British "
           "National Grid) in Great Britain, else the data's UTM zone; or leave it out to have it chosen")
    what = f"{crs.name} ({crs.to_string()})"
    if not crs.is_projected:
        raise setting_error("working_crs", f"{what} is not a projected coordinate system: its distances "
                            "would be degrees, not metres", fix)
    unit = crs.axis_info[0].unit_name if crs.axis_info else "unknown"
    if unit not in ("metre", "meter"):
        raise setting_error("working_crs", f"{what} measures in {unit}, not metres", fix)
    if centre is not None:
        from pyproj import Proj

        try:
            scale = float(Proj(crs).get_factors(*centre).meridional_scale)
        except Exception:  # noqa: BLE001 - a projection pyproj cannot give factors for: not judged
            return
        if np.isfinite(scale) and abs(scale - 1) > MAX_SCALE_ERROR:
            raise setting_error("working_crs", f"{what} stretches distances by {scale:.2f} where the data is "
                                f"(longitude {centre[0]:.2f}, latitude {centre[1]:.2f}): a 150 m spot would be "
                                f"{150 / scale:.0f} m on the ground", fix)


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone holding a point: 6-degree zones from 180 W, north or
    south of the equator, as the zones' areas of use in the EPSG dataset (which, unlike the
    military grid, has no Norway or Svalbard exceptions). Arithmetic, so no query of
    PROJ's database (which costs ~70 ms)."""
    zone = min(int((lon + 180) // 6) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


@lru_cache(maxsize=32)
def _transformer(crs_in: str, crs_out: str) -> Transformer:
    # building a transformer costs ~30 ms; a load projects many files between the same CRSs
    return Transformer.from_crs(CRS.from_wkt(crs_in), CRS.from_wkt(crs_out), always_xy=True)


def project(x: np.ndarray, y: np.ndarray, crs_in: CRS, crs_out: CRS) -> tuple[np.ndarray, np.ndarray]:
    """Project coordinate arrays; a no-op when the CRSs are equal.

    Notes
    -----
    police.uk points are snapped to a limited set of map points, so each distinct
    coordinate pair is projected once (found by hashing the pair as one complex number)
    and mapped back: about 0.2 s per million rows instead of 0.4 s.
    """
    if crs_in.equals(crs_out):
        return x, y
    t = _transformer(crs_in.to_wkt(), crs_out.to_wkt())
    x, y = np.asarray(x, float), np.asarray(y, float)
    z = np.empty(len(x), dtype=complex)  # not x + 1j*y: inf * 1j would make NaN
    z.real, z.imag = x, y
    codes, uniq = pd.factorize(z)
    if len(uniq) > 0.7 * len(x):
        return t.transform(x, y)
    ux, uy = t.transform(uniq.real, uniq.imag)
    ux, uy = np.append(ux, np.nan), np.append(uy, np.nan)  # code -1 (NaN input) -> NaN
    return ux[codes], uy[codes]
