"""A published list read back from its files: what :func:`rtm.publish.publish` wrote into
``<lists>/<period>/`` (the GeoPackage of the spots, the surfaces GeoTIFF, the provenance
sidecar), so a map or a page can show the list as published without the incidents and
without making the list again.

Only read here; nothing is fitted, scored or selected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError
from .periods import Period
from .publish import stem_of


@dataclass(eq=False)
class PublishedList:
    """One period's list as it was published.

    Attributes
    ----------
    period : Period
    spots : geopandas.GeoDataFrame
        The export columns (:data:`rtm.exports.table.COLUMNS`: ``rank``, ``district``,
        ``spot_id``, ``score``, ``explanation``, ``movement``...) and the spot polygons, in
        the working CRS, in the published order.
    provenance : dict
        The ``.provenance.json`` sidecar (the list's ``HarmSpotList.provenance``).
    grid : rtm.grid.Grid or None
        The grid of the surfaces GeoTIFF (its study-area mask: the cells with a harm
        value), or None when no GeoTIFF was published.
    surfaces : dict of str to ndarray
        The GeoTIFF's bands by name (``harm_surface``, ``score``, ``risk_terrain`` when a
        risk terrain was used), float32, NaN outside the study area.
    folder : Path
    """

    period: Period
    spots: object
    provenance: dict
    grid: object = None
    surfaces: dict = field(default_factory=dict)
    folder: Path | None = None

    @property
    def notes(self) -> list[str]:
        """What a reader should know, as the list said it when published."""
        notes = self.provenance.get("notes")
        return [str(n) for n in notes] if isinstance(notes, list) else []

    @property
    def terrain_used(self) -> bool:
        """True when the list was ranked with a risk terrain (its surface was published)."""
        return "risk_terrain" in self.surfaces


def published_paths(lists_dir, period: Period) -> dict[str, Path]:
    """The files :func:`read_published` reads for ``period`` under ``lists_dir``:
    ``gpkg``, ``provenance`` and ``tif`` (present or not)."""
    folder = Path(lists_dir) / period.key
    stem = stem_of(period)
    return {"gpkg": folder / f"{stem}.gpkg", "provenance": folder / f"{stem}.provenance.json",
            "tif": folder / f"{stem}_surfaces.tif"}


def is_published(lists_dir, period: Period) -> bool:
    """True when ``period``'s spots and provenance are in ``lists_dir`` (two ``stat`` calls)."""
    paths = published_paths(lists_dir, period)
    return paths["gpkg"].is_file() and paths["provenance"].is_file()


def read_surfaces(path) -> tuple[object, dict]:
    """``(grid, {band name: array})`` of a surfaces GeoTIFF written by
    :func:`rtm.exports.geotiff.write_cog`: the grid's transform and CRS from the file, its
    mask the cells where the first band has a value (the writer leaves the rest NaN), one
    district covering the mask. Costs one read of every band."""
    import rasterio
    from pyproj import CRS

    from .grid import Grid

    with rasterio.open(path) as src:
        bands = {(src.descriptions[i] or f"band_{i + 1}"): src.read(i + 1).astype(np.float32)
                 for i in range(src.count)}
        t, crs = src.transform, CRS.from_wkt(src.crs.to_wkt())
        nrows, ncols = src.height, src.width
    if not bands or abs(t.a + t.e) > 1e-9 or t.b or t.d:
        raise InputError(path, "the surfaces are not on a north-up grid of square cells",
                         "publish the list again with 'rtm weekly'")
    mask = np.isfinite(next(iter(bands.values())))
    grid = Grid(cell_size=float(t.a), x0=float(t.c), y0=float(t.f), ncols=ncols, nrows=nrows, crs=crs, mask=mask,
                district=np.where(mask, 0, -1).astype(np.int32), district_names=("study area",))
    return grid, bands


def read_published(lists_dir, period: Period) -> PublishedList:
    """The list published for ``period`` in ``lists_dir`` (a workspace's ``lists/``).

    Reads the GeoPackage's ``harm_spots`` layer, the provenance sidecar and, when present,
    the surfaces GeoTIFF. Raises :class:`InputError` naming the file when the spots or the
    provenance are missing or cannot be read. Costs a few tens of milliseconds for a
    force's list (one small GeoPackage, one GeoTIFF of the force's grid).
    """
    import pyogrio

    paths = published_paths(lists_dir, period)
    for what in ("gpkg", "provenance"):
        if not paths[what].is_file():
            raise InputError(paths[what], f"the published {period.label} has no such file",
                             "publish the period again with 'rtm weekly' or the app's Publish button")
    try:
        spots = pyogrio.read_dataframe(paths["gpkg"], layer="harm_spots")
        provenance = json.loads(paths["provenance"].read_text(encoding="utf-8"))
    except (OSError, ValueError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(paths["gpkg"], f"the published list cannot be read ({exc})",
                         "publish the period again with 'rtm weekly'") from None
    if "district" in spots:
        spots["district"] = spots["district"].astype(str)
    grid, surfaces = read_surfaces(paths["tif"]) if paths["tif"].is_file() else (None, {})
    return PublishedList(period, spots, provenance if isinstance(provenance, dict) else {}, grid, surfaces,
                         paths["gpkg"].parent)
