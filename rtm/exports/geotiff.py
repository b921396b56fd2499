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
    overviews). Memory: about twice the bands' bytes.
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
        with mem.open() as src:
            rasterio.shutil.copy(src, path, driver="COG", COMPRESS="DEFLATE",
                                 PREDICTOR="YES", BLOCKSIZE=256,
                                 RESAMPLING=(resampling or ("AVERAGE" if dtype == "float32" else "NEAREST")).upper(),
                                 OVERVIEWS="AUTO")
    return path


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
