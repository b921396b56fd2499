"""Small raster tile sets the tests write themselves: an MBTiles 1.3 SQLite file (rows counted
from the south, the TMS scheme) and a PMTiles v3 archive, of plain 256-pixel PNG tiles
over a box of longitude/latitude."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
from folium.utilities import write_png

TILE_RGB = (170, 215, 160)
"""The fill colour of every generated tile (a pale green the map has nowhere else)."""
SOUTHEND = (0.62, 51.52, 0.84, 51.58)
"""(west, south, east, north) around Southend-on-Sea, the bundled UK sample."""


def tile_png(rgb=TILE_RGB) -> bytes:
    """A 256 x 256 PNG of one colour with a dark 2-pixel frame (tile edges show on screenshots)."""
    a = np.zeros((256, 256, 4), np.uint8)
    a[..., :3] = rgb
    a[..., 3] = 255
    a[:2, :, :3] = a[-2:, :, :3] = a[:, :2, :3] = a[:, -2:, :3] = 90
    return write_png(a)


def tile_range(bounds, z: int) -> tuple[range, range]:
    """The XYZ columns and rows (y from the north) covering ``bounds`` at zoom ``z``."""
    w, s, e, n = bounds

    def xy(lon, lat):
        k = 1 << z
        x = int((lon + 180) / 360 * k)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * k)
        return x, y

    x0, y0 = xy(w, n)
    x1, y1 = xy(e, s)
    return range(x0, x1 + 1), range(y0, y1 + 1)


def write_mbtiles(path: Path, bounds=SOUTHEND, zooms=range(10, 15), attribution: str | None = "Test tiles",
                  fmt: str = "png", data: bytes | None = None) -> int:
    """Write an MBTiles 1.3 file of PNG tiles covering ``bounds`` at ``zooms``; returns the tile count."""
    data = tile_png() if data is None else data
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metadata (name text, value text)")
    con.execute("CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob)")
    con.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
    meta = {"name": "test tiles", "format": fmt, "bounds": ",".join(map(str, bounds)),
            "minzoom": str(min(zooms)), "maxzoom": str(max(zooms)), "type": "baselayer", "version": "1"}
    if attribution is not None:
        meta["attribution"] = attribution
    con.executemany("INSERT INTO metadata VALUES (?, ?)", list(meta.items()))
    n = 0
    for z in zooms:
        xs, ys = tile_range(bounds, z)
        for x in xs:
            for y in ys:
                con.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, (1 << z) - 1 - y, data))
                n += 1
    con.commit()
    con.close()
    return n


def write_pmtiles(path: Path, bounds=SOUTHEND, zooms=range(10, 13), attribution: str | None = "Test tiles") -> int:
    """Write a PMTiles v3 archive of PNG tiles covering ``bounds`` at ``zooms``; returns the tile count."""
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    data = tile_png()
    ids = sorted(zxy_to_tileid(z, x, y) for z in zooms for xs, ys in [tile_range(bounds, z)] for x in xs for y in ys)
    with open(path, "wb") as f:
        w = Writer(f)
        for tid in ids:
            w.write_tile(tid, data)
        w.finalize({"tile_type": TileType.PNG, "tile_compression": Compression.NONE,
                    "min_zoom": min(zooms), "max_zoom": max(zooms),
                    "min_lon_e7": int(bounds[0] * 1e7), "min_lat_e7": int(bounds[1] * 1e7),
                    "max_lon_e7": int(bounds[2] * 1e7), "max_lat_e7": int(bounds[3] * 1e7),
                    "center_zoom": min(zooms), "center_lon_e7": int((bounds[0] + bounds[2]) / 2 * 1e7),
                    "center_lat_e7": int((bounds[1] + bounds[3]) / 2 * 1e7)},
                   {"attribution": attribution} if attribution else {})
    return len(ids)
