"""The project's one GeoTIFF writer: Cloud-Optimised GeoTIFFs that open right in QGIS.

Every raster the project writes (the weekly surfaces, ``risk_terrain.tif`` and
``risk_factors.tif`` of a risk terrain model) goes through :func:`write_cog`: each band
has a description, nodata is set, bands are never tagged as RGB imagery (photometric
MINISBLACK), and the file is a COG (rasterio's COG driver: 256-pixel tiles, deflate,
overviews once the raster is larger than a tile).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np

from .text import prov_lines, provenance_json

_TAG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _crs(grid):
    from rasterio.crs import CRS

    return CRS.from_wkt(grid.crs.to_wkt()) if hasattr(grid.crs, "to_wkt") else CRS.from_user_input(grid.crs)


def write_cog(path, grid, bands: dict, *, provenance: dict | None = None, dtype: str = "float32",
              nodata: float | None = None, mask_outside: bool = True, resampling: str | None = None) -> Path:
    """Write bands on ``grid`` as a Cloud-Optimised GeoTIFF.

    Parameters
    ----------
    path : str or Path
    grid : rtm.grid.Grid
        Transform, CRS, shape and study-area mask.
    bands : dict of str -> ndarray
        Band description (e.g. ``risk_terrain``) -> array of ``grid.shape``, written as
        bands 1, 2, ... in order.
    provenance : dict, optional
        Stored as GDAL metadata ``PROVENANCE`` (JSON) and one tag per top-level key.
    dtype : {"float32", "uint8"}
    nodata : float, optional
        Default NaN for float32, 255 for uint8.
    mask_outside : bool
        Cells outside ``grid.mask`` become nodata.
    resampling : str, optional
        Overview resampling: default ``average`` for floats, ``nearest`` for uint8.

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        No band, an empty band name, an array of the wrong shape, or an unknown dtype.

    Notes
    -----
    Written as a tiled GTiff in memory, then copied by GDAL's COG driver (which builds the
    overviews); uint8 bands by the GTiff driver with the same layout. Memory: about twice
    the bands' bytes.
    """
    import rasterio
    import rasterio.shutil
    from rasterio.io import MemoryFile

    if dtype not in ("float32", "uint8"):
        raise ValueError(f"write_cog writes float32 or uint8, not {dtype}")
    if not bands:
        raise ValueError("write_cog needs at least one band")
    if nodata is None:
        nodata = np.nan if dtype == "float32" else 255
    mask = np.asarray(grid.mask, bool)
    arrays = []
    for name, array in bands.items():
        if not str(name).strip():
            raise ValueError("every band needs a name")
        array = np.asarray(array)
        if array.shape != grid.shape:
            raise ValueError(f"band {name!r} has shape {array.shape} but the grid is {grid.shape}")
        array = array.astype(dtype)
        if mask_outside:
            array = np.where(mask, array, np.asarray(nodata, dtype=dtype))
        arrays.append((str(name), array))
    tags = {}
    if provenance:
        tags["PROVENANCE"] = provenance_json(provenance)
        for key, value in prov_lines(provenance):
            if _TAG_NAME.fullmatch(key) and key.upper() != "PROVENANCE":
                tags[key] = value
    profile = dict(driver="GTiff", height=grid.shape[0], width=grid.shape[1], count=len(arrays), dtype=dtype,
                   crs=_crs(grid), transform=grid.transform, nodata=nodata, tiled=True, blockxsize=256,
                   blockysize=256, photometric="MINISBLACK", interleave="band")
    path = Path(path)
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            if tags:
                dst.update_tags(**tags)
            for i, (name, array) in enumerate(arrays, start=1):
                dst.write(array, i)
                dst.set_band_description(i, name)
                dst.update_tags(i, name=name)
            resampling = (resampling or ("average" if dtype == "float32" else "nearest")).lower()
            if dtype == "uint8":
                _overviews(dst, resampling)
        if dtype == "float32":
            with mem.open() as src:
                rasterio.shutil.copy(src, path, driver="COG", COMPRESS="DEFLATE", PREDICTOR="YES", BLOCKSIZE=256,
                                     RESAMPLING=resampling.upper(), OVERVIEWS="AUTO")
        else:
            _byte_cog(mem, path)
    return path


def _overviews(dst, resampling: str) -> None:
    """Overviews halving the raster until it is about one 256-pixel tile."""
    from rasterio.enums import Resampling

    factors, size = [], max(dst.width, dst.height)
    while size / (2 ** (len(factors) + 1)) >= 128:
        factors.append(2 ** (len(factors) + 1))
    if factors:
        dst.build_overviews(factors, Resampling[resampling])


def _byte_cog(mem, path: Path) -> None:
    """A uint8 raster in the COG layout (256-pixel tiles, overviews stored first) by the
    GTiff driver, which takes ``PHOTOMETRIC=MINISBLACK``: GDAL's COG driver (3.10) tags
    any 3- or 4-band Byte raster as RGB(A) imagery, which QGIS then shows as a colour
    composite (all black for 0/1 bands)."""
    import rasterio.shutil

    with mem.open() as src:
        rasterio.shutil.copy(src, path, driver="GTiff", TILED="YES", BLOCKXSIZE=256, BLOCKYSIZE=256,
                             COMPRESS="DEFLATE", PREDICTOR=2, INTERLEAVE="BAND", PHOTOMETRIC="MINISBLACK",
                             COPY_SRC_OVERVIEWS="YES")


def geotiff_bytes(grid, layers: dict, provenance: dict) -> bytes:
    """Float32 surfaces of the run's grid as one COG, as bytes (see :func:`write_cog`).

    Parameters
    ----------
    grid : rtm.grid.Grid
    layers : dict of str -> ndarray
        Band name -> array (e.g. ``harm_surface``, ``risk_terrain``, ``score``).
    provenance : dict

    Returns
    -------
    bytes
    """
    with tempfile.TemporaryDirectory(prefix="rtm-cog-") as tmp:
        return write_cog(Path(tmp) / "out.tif", grid, layers, provenance=provenance).read_bytes()
