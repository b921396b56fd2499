"""An offline basemap from a local tile set (MBTiles or PMTiles), served by the app itself.

A force can give the workspace a raster tile file (``[basemap] file = "maps/county.mbtiles"``):
an MBTiles 1.3 SQLite file (``metadata`` and ``tiles`` tables, rows counted from the south,
the TMS scheme) or a PMTiles v3 archive. :func:`open_tileset` checks it and reads its
metadata (format, zooms, bounds, attribution); :func:`extract_tiles` writes its tiles once as
``{z}/{x}/{y}.png`` files into a folder named after the file's identity under
``static/basemap/``, which Streamlit serves at ``/app/static/basemap/...`` from the app's own
address when ``[server] enableStaticServing`` is on (``.streamlit/config.toml``).
:func:`tile_template` gives the URL template the map asks for, on the same host and port as
the app: nothing leaves the machine, and a browser on another machine of the force's network
reaches the tiles wherever it reaches the app.

Why static files and not a tile server of our own on another port: a browser elsewhere on
the network would have to reach that second port (a firewall rule, a second address behind
a reverse proxy), and "localhost" in a tile URL would point at the browser's own machine;
Streamlit has no supported way to add a route to its own server. Files under the app's
static folder share the app's address, its ``baseUrlPath`` and its proxy; the cost is one
extraction per tile set (about 1,400 tiles a second measured; the folder is about the size of the
file) into a folder the server can write.

Vector tiles (MVT/``pbf``) are refused with a message: drawing them needs a vector renderer
that the app does not bundle; a raster copy (QGIS "Generate XYZ tiles (MBTiles)", or
``gdal_translate -of MBTiles``) works.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .errors import InputError

ROOT = Path(__file__).resolve().parents[1]
STATIC_DIR = ROOT / "static"
"""The folder Streamlit serves at ``/app/static/`` (next to ``streamlit_app.py``)."""
CACHE_DIR = STATIC_DIR / "basemap"
"""Where extracted tile sets are kept, one folder per tile file version."""
RASTER = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "webp": "webp"}
"""Raster tile formats the browser draws, and the file extension each is written with."""
_MAGIC = ((b"\x89PNG", "png"), (b"\xff\xd8\xff", "jpg"), (b"RIFF", "webp"))
_PM_TYPES = {2: "png", 3: "jpg", 4: "webp", 1: "pbf", 6: "mlt", 5: "avif"}


@dataclass(frozen=True)
class TileSet:
    """A checked local tile set (see :func:`open_tileset`).

    Attributes
    ----------
    path : Path
    kind : {"mbtiles", "pmtiles"}
    fmt : {"png", "jpg", "webp"}
        The tiles' image format (also their file extension once extracted).
    min_zoom, max_zoom : int
    bounds : tuple of float or None
        ``(west, south, east, north)`` in degrees, when the file says.
    attribution, name : str or None
        From the file's metadata.
    """

    path: Path
    kind: str
    fmt: str
    min_zoom: int
    max_zoom: int
    bounds: tuple | None = None
    attribution: str | None = None
    name: str | None = None

    @property
    def key(self) -> str:
        """A folder name for this version of the file: a hash of its full path, size and
        modification time (a changed file gets a new folder; no hashing of its contents)."""
        st = self.path.stat()
        text = f"{self.path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def latlon_bounds(self) -> list[list[float]] | None:
        """``[[south, west], [north, east]]`` (for Leaflet), or None."""
        if self.bounds is None:
            return None
        w, s, e, n = self.bounds
        return [[s, w], [n, e]]

    def tiles(self) -> Iterator[tuple[int, int, int, bytes]]:
        """Every tile as ``(z, x, y, image bytes)``, ``y`` counted from the north (XYZ)."""
        if self.kind == "mbtiles":
            with _connect(self.path) as con:
                for z, x, row, data in con.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"):
                    yield int(z), int(x), (1 << int(z)) - 1 - int(row), bytes(data)
        else:
            from pmtiles.reader import MmapSource, Reader, all_tiles
            from pmtiles.tile import Compression

            with open(self.path, "rb") as f:
                source = MmapSource(f)
                gz = Reader(source).header().get("tile_compression") == Compression.GZIP
                for (z, x, y), data in all_tiles(source):
                    yield z, x, y, gzip.decompress(data) if gz else data


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _fail(path, problem: str, fix: str, key: str | None):
    raise InputError(Path(path).name, problem, fix, field=key, field_kind="key") if key else \
        InputError(Path(path).name, problem, fix)


def _format(fmt: str | None, first: bytes | None, path, key) -> str:
    """The raster format from the metadata, else sniffed from a tile; vector formats refused."""
    fmt = (fmt or "").strip().lower()
    if not fmt and first:
        fmt = next((name for magic, name in _MAGIC if first.startswith(magic)), "")
        if not fmt and first[:2] == b"\x1f\x8b":
            fmt = "pbf"
    if fmt in ("pbf", "mvt", "mlt"):
        _fail(path, "the tile set holds vector tiles, which the app cannot draw offline",
              "give a raster tile set (PNG, JPEG or WebP), e.g. from QGIS 'Generate XYZ tiles (MBTiles)' "
              "or 'gdal_translate -of MBTiles'", key)
    if fmt not in RASTER:
        _fail(path, f"the tiles are not PNG, JPEG or WebP images (format '{fmt or 'unknown'}')",
              "give a raster tile set of PNG, JPEG or WebP tiles", key)
    return RASTER[fmt]


def _bounds(text) -> tuple | None:
    try:
        w, s, e, n = (float(v) for v in str(text).split(","))
    except (TypeError, ValueError):
        return None
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        return None
    return (w, s, e, n)


def open_tileset(path, *, key: str | None = None) -> TileSet:
    """Check a local tile file and read its metadata (not its tiles).

    Takes the path of an ``.mbtiles`` (MBTiles 1.3) or ``.pmtiles`` (v3) file and ``key``, the
    setting that named it (e.g. ``basemap.file``), used in messages. Returns a
    :class:`TileSet`. Costs a few small reads.

    Raises
    ------
    InputError
        The file is missing, not an MBTiles SQLite file or PMTiles archive, has no tiles,
        or holds vector tiles or tiles that are not PNG/JPEG/WebP.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        _fail(p, "the tile file does not exist", "correct the path in the workspace", key)
    with open(p, "rb") as f:
        head = f.read(16)
    if head.startswith(b"PMTiles"):
        return _open_pmtiles(p, key)
    if not head.startswith(b"SQLite format 3"):
        _fail(p, "the file is neither MBTiles (SQLite) nor PMTiles",
              "give an .mbtiles or .pmtiles raster tile set", key)
    try:
        with _connect(p) as con:
            meta = dict(con.execute("SELECT name, value FROM metadata").fetchall())
            zooms = con.execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
            first = con.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
    except sqlite3.DatabaseError as exc:
        _fail(p, f"the file is not an MBTiles tile set ({exc})",
              "give an MBTiles file with 'metadata' and 'tiles' tables (MBTiles 1.3)", key)
    if first is None or zooms[0] is None:
        _fail(p, "the tile set holds no tiles", "give a tile set that covers the force's area", key)
    fmt = _format(meta.get("format"), bytes(first[0]), p, key)
    return TileSet(p, "mbtiles", fmt, int(zooms[0]), int(zooms[1]), _bounds(meta.get("bounds")),
                   (meta.get("attribution") or "").strip() or None, (meta.get("name") or "").strip() or None)


def _open_pmtiles(p: Path, key) -> TileSet:
    from pmtiles.reader import MmapSource, Reader

    try:
        with open(p, "rb") as f:
            reader = Reader(MmapSource(f))
            h = reader.header()
            try:
                meta = reader.metadata()
            except (ValueError, OSError):
                meta = {}
    except Exception as exc:  # noqa: BLE001 - any parse failure is the file's problem
        _fail(p, f"the file is not a readable PMTiles archive ({type(exc).__name__})",
              "give a PMTiles v3 raster tile set", key)
    tile_type = getattr(h.get("tile_type"), "value", h.get("tile_type"))
    fmt = _format(_PM_TYPES.get(int(tile_type or 0), ""), None, p, key)
    if not h.get("addressed_tiles_count"):
        _fail(p, "the tile set holds no tiles", "give a tile set that covers the force's area", key)
    bounds = _bounds(",".join(str(h[k] / 1e7) for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7")))
    meta = meta if isinstance(meta, dict) else {}
    return TileSet(p, "pmtiles", fmt, int(h["min_zoom"]), int(h["max_zoom"]), bounds,
                   (str(meta.get("attribution") or "")).strip() or None, (str(meta.get("name") or "")).strip() or None)


def extract_tiles(ts: TileSet, root: Path = CACHE_DIR) -> Path:
    """Write the tiles of ``ts`` as ``root/<ts.key>/{z}/{x}/{y}.<fmt>`` once.

    A folder already there (a ``.complete`` marker in it) is reused as it is; otherwise the
    tiles are written into a temporary folder beside it and renamed into place, so two
    servers starting at once, or an interrupted extraction, never leave half a tile set in
    use. Returns the folder. Costs one read of every tile and one small file per tile.

    Raises
    ------
    InputError
        The folder cannot be written (the message names the setting's folder, not the
        server's path).
    """
    dest = Path(root) / ts.key
    if (dest / ".complete").is_file():
        return dest
    try:
        Path(root).mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{ts.key}-", dir=root))
    except OSError as exc:
        raise InputError(ts.path.name, f"the app cannot write its copy of the tiles ({exc.strerror})",
                         "let the app's user write to its static/basemap folder") from None
    try:
        n = 0
        for z, x, y, data in ts.tiles():
            folder = tmp / str(z) / str(x)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{y}.{ts.fmt}").write_bytes(data)
            n += 1
        (tmp / ".complete").write_text(json.dumps({"tiles": n, "source": ts.path.name}))
        try:
            os.replace(tmp, dest)
        except OSError:  # another process put it there first
            if not (dest / ".complete").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def tile_template(ts: TileSet, base_url_path: str = "") -> str:
    """The URL template of the extracted tiles on the app's own address:
    ``/<base_url_path>/app/static/basemap/<key>/{z}/{x}/{y}.<fmt>`` (a path, no host)."""
    base = "/".join(part for part in str(base_url_path or "").split("/") if part)
    return f"{'/' + base if base else ''}/app/static/basemap/{ts.key}/{{z}}/{{x}}/{{y}}.{ts.fmt}"


def tile_options(ts: TileSet) -> dict:
    """Leaflet tile layer options for ``ts``: its zooms (tiles stretched beyond them, up to
    zoom 19) and its bounds (no request outside them)."""
    opts = {"max_native_zoom": ts.max_zoom, "min_native_zoom": ts.min_zoom, "max_zoom": 19}
    if ts.latlon_bounds() is not None:
        opts["bounds"] = ts.latlon_bounds()
    return opts


def default_attribution(ts: TileSet, given: str | None = None) -> str:
    """The attribution shown for ``ts``: ``given`` (the workspace's), else the file's own, else
    a plain default naming the tile set (never empty, never a server path)."""
    return (given or "").strip() or ts.attribution or f"Basemap: {ts.name or 'local tile set'}"
