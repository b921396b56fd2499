"""Files of the hot spot analysis: a GeoPackage of Gi* cells and emerging classes, and a
GeoTIFF of the same grids (the project's one COG writer, :func:`rtm.exports.geotiff.write_cog`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .emerging import EHSA_CLASSES, SIMPLE_CLASSES, Emerging
from .errors import output_folder
from .exports.geotiff import write_cog
from .gistar import HotSpots, cell_frame


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
    paths["gistar_tif"] = write_cog(out / f"{stem}_gistar.tif", gi.grid,
                                    {"gi_z": gi.z, "gi_q": gi.q, "gi_bin": gi.bin.astype(float)},
                                    provenance=provenance)
    if em is not None:
        em.frame().to_file(gpkg, layer="emerging", engine="pyogrio")
        # class codes are small signed integers: float32 with -99 outside the area, codes in the provenance
        codes = {"ehsa_codes": {str(k): v for k, v in EHSA_CLASSES.items()},
                 "simple_codes": {str(k): v for k, v in SIMPLE_CLASSES.items()}}
        paths["classes_tif"] = write_cog(out / f"{stem}_classes.tif", em.grid,
                                         {"ehsa_class": em.ehsa, "simple_class": em.simple}, nodata=-99,
                                         provenance=provenance | codes, resampling="nearest")
    return paths
