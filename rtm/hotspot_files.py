"""Files of the hot spot analysis: a GeoPackage of Gi* cells and emerging classes, and a
GeoTIFF of the same grids.

The GeoTIFF writer here is a small private one (rasterio, deflate, tiled); the shared
cloud-optimised writer being built in :mod:`rtm.exports` should replace it once it lands.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .emerging import EHSA_CLASSES, SIMPLE_CLASSES, Emerging
from .errors import output_folder
from .gistar import HotSpots, cell_frame


def _write_tiff(path, grid, bands: dict, nodata: float, dtype: str, tags: dict) -> Path:
    """One band per entry of ``bands`` (arrays of ``grid.shape``), named by its description;
    ``nodata`` outside the study area."""
    import rasterio

    profile = {"driver": "GTiff", "height": grid.nrows, "width": grid.ncols, "count": len(bands), "dtype": dtype,
               "crs": grid.crs, "transform": grid.transform, "nodata": nodata, "compress": "deflate"}
    if grid.nrows >= 256 and grid.ncols >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with rasterio.open(path, "w", **profile) as dst:
        for i, (name, arr) in enumerate(bands.items(), start=1):
            dst.write(np.where(grid.mask, arr, nodata).astype(dtype), i)
            dst.set_band_description(i, name)
        dst.update_tags(**{k: (v if isinstance(v, str) else json.dumps(v)) for k, v in tags.items()})
    return Path(path)


def write_hotspot_files(out_dir, stem: str, gi: HotSpots, em: Emerging | None, provenance: dict) -> dict[str, Path]:
    """Write ``{stem}.gpkg`` (layers ``gistar``: cells with harm or a significant Gi*, and
    ``emerging``: cells with a class), ``{stem}_gistar.tif`` (z-score, FDR-adjusted p, bin)
    and ``{stem}_classes.tif`` (EHSA and sfhotspot-style class codes, with the code table in
    the file's tags). Returns the paths by kind."""
    out = output_folder(out_dir)
    gpkg = out / f"{stem}.gpkg"
    gpkg.unlink(missing_ok=True)
    keep = (gi.harm > 0) | (gi.bin != 0)
    cells = cell_frame(gi.grid, {"harm": np.round(gi.harm, 3), "gi_z": np.round(gi.z, 4), "gi_p": gi.p,
                                 "gi_q": gi.q, "gi_bin": gi.bin.astype(np.int16)}, only=keep)
    cells.to_file(gpkg, layer="gistar", engine="pyogrio")
    paths = {"gpkg": gpkg}
    tags = {"provenance": provenance}
    paths["gistar_tif"] = _write_tiff(out / f"{stem}_gistar.tif", gi.grid,
                                      {"gi_z": gi.z, "gi_q": gi.q, "gi_bin": gi.bin.astype(float)},
                                      np.nan, "float32", tags)
    if em is not None:
        em.frame().to_file(gpkg, layer="emerging", engine="pyogrio")
        paths["classes_tif"] = _write_tiff(
            out / f"{stem}_classes.tif", em.grid, {"ehsa_class": em.ehsa, "simple_class": em.simple}, -99, "int16",
            tags | {"ehsa_codes": {str(k): v for k, v in EHSA_CLASSES.items()},
                    "simple_codes": {str(k): v for k, v in SIMPLE_CLASSES.items()}})
    return paths
