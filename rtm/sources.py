"""Reading input files into Arrow tables: CSV (plain or compressed), zip, folders,
Parquet and vector formats. No interpretation of columns happens here.

Every problem that makes a file unusable raises :class:`~rtm.errors.InputError`
naming the file; rows that are merely malformed are kept aside with their line number so
the caller can account for them. Every file found in a folder or zip is either read or
named in the notes with the reason it was not.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from .errors import InputError

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
COMPRESSED = {".gz": lambda f: gzip.GzipFile(fileobj=f), ".xz": lzma.LZMAFile, ".bz2": bz2.BZ2File}
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".gml", ".kml")
PARQUET_SUFFIXES = (".parquet", ".pq", ".geoparquet")
SHAPEFILE_PARTS = (".shx", ".dbf", ".prj", ".cpg", ".sbn", ".sbx", ".qix", ".shp.xml", ".qmd")
MB = 1 << 20


@dataclass(frozen=True)
class LoadLimits:
    """Resource limits of a load; a file beyond them is refused with a message naming the
    setting that raises it.

    Attributes
    ----------
    max_file_mb : float
        Largest size of one input file after decompression (a zip member, a ``.gz``), in
        MB. Loading takes about twice this in memory. Default 1024.
    max_rows : int
        Most lines in one text file, and most rows over all inputs. Default 20 million
        (the whole of England and Wales publishes about 6 million street-level crimes a year).
    """

    max_file_mb: float = 1024
    max_rows: int = 20_000_000

    def __post_init__(self):
        if not (self.max_file_mb > 0 and self.max_rows > 0):
            raise ValueError("max_file_mb and max_rows must be positive")

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_mb * MB)

    def too_big(self, name: str, size: int | None) -> InputError:
        shown = f"{_mb(size / MB)} MB" if size is not None else f"more than {_mb(self.max_file_mb)} MB"
        return InputError(name, f"the file is {shown} when decompressed, more than the limit of "
                          f"{_mb(self.max_file_mb)} MB (load setting max_file_mb)",
                          "if the file is genuine, raise max_file_mb (loading needs about twice that in "
                          "memory), or split the file by month", field="max_file_mb", field_kind="setting")


def _mb(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 else f"{x:.1f}"


@dataclass
class RawTable:
    """One file's rows exactly as read, before any interpretation.

    Attributes
    ----------
    name : str
        Display name: the path, or ``archive.zip:member.csv``.
    table : pyarrow.Table
        Text columns as strings (CSV; police.uk months and offence types as dictionaries
        and coordinates as numbers, see :data:`rtm.layouts.POLICEUK_TYPES`) or native types
        (Parquet, vector attributes).
    sha256 : str
        Fingerprint of the file's bytes (the member's bytes for zip members).
    lines : ndarray of int64
        The line number of each row in a text file (header = line 1 unless a title line
        comes first), or the feature / record number (1-based) for other formats.
    malformed : list of (int, str, str)
        Records that could not be parsed: line, text, reason (``malformed_row`` or
        ``stray_quote``).
    geometry : ndarray of shapely geometries, optional
        For vector files.
    crs : str, optional
        CRS declared by a vector file.
    notes : list of str
    names : list of str, optional
        Every column of a text file's header (``table`` may hold only some).
    delimiter : str, optional
    reread : (Entry, LoadLimits), optional
        Set when ``table`` holds only some of the header's columns: how to read the file
        again with all of them (see :mod:`rtm.rejects`).
    """

    name: str
    table: pa.Table
    sha256: str
    lines: np.ndarray
    malformed: list = field(default_factory=list)
    geometry: np.ndarray | None = None
    crs: str | None = None
    notes: list = field(default_factory=list)
    names: list | None = None
    delimiter: str | None = None
    reread: tuple | None = None

    @property
    def num_rows(self) -> int:
        return self.table.num_rows + len(self.malformed)

    def row_lines(self) -> np.ndarray:
        """Line (CSV) or feature number (other formats, 1-based) of each parsed row."""
        return self.lines


@dataclass
class Entry:
    """A readable input: a file on disk or a member of a zip."""

    name: str
    path: Path
    member: str | None = None
    index: int | None = None  # the member's place in the zip (two members may share a name)

    @property
    def suffixes(self) -> str:
        return "".join(Path(self.member or self.path.name).suffixes).lower()

    def read_bytes(self, limits: LoadLimits | None = None) -> bytes:
        """The file's (or member's) bytes, refusing anything larger than the limit."""
        limits = limits or LoadLimits()
        if self.member is None:
            try:
                size = self.path.stat().st_size
                if size > limits.max_bytes and Path(self.path.name).suffix.lower() not in COMPRESSED:
                    raise limits.too_big(self.name, size)
                return self.path.read_bytes()
            except OSError as exc:
                raise InputError(self.name, f"the file cannot be read ({exc.strerror})",
                                 "check that the file exists and that you may read it") from None
        try:
            with zipfile.ZipFile(self.path) as zf:
                info = zf.infolist()[self.index] if self.index is not None else zf.getinfo(self.member)
                if info.file_size > limits.max_bytes:
                    raise limits.too_big(self.name, info.file_size)
                with zf.open(info) as fh:
                    data = fh.read(limits.max_bytes + 1)  # the size in the header may lie
        except NotImplementedError as exc:  # before RuntimeError, its base class
            raise InputError(self.name, f"the zip uses a compression method Python cannot read ({exc})",
                             "unzip it with your zip program and load the files, or zip them again") from None
        except RuntimeError:  # zipfile's word for an encrypted member
            raise InputError(self.name, "the zip member is encrypted (password-protected)",
                             "unzip it with the password and load the CSV files") from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise InputError(self.name, f"the zip member is damaged ({exc})", "download the zip again") from None
        if len(data) > limits.max_bytes:
            raise limits.too_big(self.name, None)
        return data

    def text(self, data: bytes, limits: LoadLimits, notes: list) -> bytes:
        """``data`` decompressed (bounded) and made UTF-8 text (see :func:`rtm.textfile.to_utf8`)."""
        from .textfile import to_utf8

        return to_utf8(self.name, decompress(self, data, limits), notes)


def decompress(entry: Entry, data: bytes, limits: LoadLimits) -> bytes:
    """Decompress a ``.gz``/``.xz``/``.bz2`` file, stopping at ``limits.max_bytes``."""
    suffix = Path(entry.member or entry.path.name).suffix.lower()
    if suffix not in COMPRESSED:
        if len(data) > limits.max_bytes:
            raise limits.too_big(entry.name, len(data))
        return data
    try:
        out = _inflate(suffix, data, limits.max_bytes)
    except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError) as exc:
        raise InputError(entry.name, f"the compressed file cannot be opened ({exc})",
                         "download or copy the file again") from None
    if len(out) > limits.max_bytes:
        raise limits.too_big(entry.name, None)
    return out


_DECOMPRESSORS = {".gz": (lambda: zlib.decompressobj(31), zlib.error), ".xz": (lzma.LZMADecompressor, lzma.LZMAError),
                  ".bz2": (bz2.BZ2Decompressor, (OSError, ValueError))}


def _inflate(suffix: str, data: bytes, limit: int) -> bytes:
    """Decompress every stream of ``data`` (``.gz``/``.xz``/``.bz2``), at most ``limit + 1``
    bytes (more means too big), straight into one buffer: no 8 KB reads through a file object
    and no second copy (about a tenth faster than ``lzma.LZMAFile.read``). Bytes after the
    last stream that are not a stream (padding) are ignored, as the file objects do.

    Raises
    ------
    EOFError
        The data ends inside a stream (a truncated download).
    """
    make, errors = _DECOMPRESSORS[suffix]
    pieces: list[bytes] = []
    total = 0
    while data:
        d = make()
        try:
            out = d.decompress(data, limit + 1 - total)
        except errors:
            if not pieces:
                raise
            break  # trailing bytes that are not a stream
        pieces.append(out)
        total += len(out)
        if total > limit:
            break
        if not d.eof:
            raise EOFError("the compressed data ends before the end of its stream")
        data = d.unused_data
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def expand_inputs(paths, notes: list | None = None) -> list[Entry]:
    """Turn user-given paths into readable entries (see :func:`rtm.inputs.expand_inputs`)."""
    from .inputs import expand_inputs as expand

    return expand(paths, notes)


# -- other formats ------------------------------------------------------------------------
def _flatten_nested(entry: Entry, table: pa.Table) -> pa.Table:
    """List, struct and map columns (which no role can use) as JSON-like text."""
    for i, f in enumerate(table.schema):
        t = f.type
        if pa.types.is_nested(t) or pa.types.is_map(t):
            col = table.column(i)
            text = pa.array([None if v is None else str(v) for v in col.to_pylist()], pa.string())
            table = table.set_column(i, f.name, text)
    return table


def _decode_legacy(value: bytes) -> tuple[str, str]:
    """One value of a text column: (text, encoding read as), UTF-8 where the bytes are valid
    UTF-8, else Windows-1252, else Latin-1 (which reads any byte)."""
    for enc in ("utf-8", "cp1252"):
        try:
            return value.decode(enc), enc
        except UnicodeDecodeError:
            pass
    return value.decode("latin-1"), "latin-1"


def _binary_as_text(entry: Entry, table: pa.Table, notes: list) -> pa.Table:
    """``table`` with its binary and large binary columns as string columns.

    Impala, Hive and older Spark write text as bytes without the UTF-8 annotation, often in
    Windows-1252. A column that is valid UTF-8 is only relabelled; one that is not is read
    value by value (see :func:`_decode_legacy`), with a note in ``notes`` naming the file,
    the column and the first row, as :func:`rtm.textfile.to_utf8` does for text files. No
    value is lost: nulls stay null. The geometry columns a GeoParquet file declares (WKB,
    not text) stay binary.
    """
    import json

    import pyarrow.compute as pc

    from .textcols import one_chunk

    try:
        geometry = set(json.loads((table.schema.metadata or {}).get(b"geo", b"{}")).get("columns", {}))
    except (ValueError, AttributeError):  # metadata that is not GeoParquet's
        geometry = set()
    for i, f in enumerate(table.schema):
        if not (pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)) or f.name in geometry:
            continue
        target = pa.large_string() if pa.types.is_large_binary(f.type) else pa.string()
        col = table.column(i)
        try:
            text = col.cast(target)  # checks that every value is UTF-8
        except pa.ArrowInvalid:
            # each distinct value is decoded once (an offence type repeats on millions of rows)
            enc = pc.dictionary_encode(one_chunk(col))
            decoded = [_decode_legacy(v) for v in enc.dictionary.to_pylist()]
            used = {e for _, e in decoded if e != "utf-8"}
            bad = np.array([e != "utf-8" for _, e in decoded])
            codes = enc.indices.fill_null(0).to_numpy(zero_copy_only=False)
            first = int(np.flatnonzero(bad[codes] & enc.indices.is_valid().to_numpy(zero_copy_only=False))[0]) + 1
            text = pc.take(pa.array([t for t, _ in decoded], target), enc.indices)
            how = "Windows-1252" if used == {"cp1252"} else \
                "Latin-1" if used == {"latin-1"} else "Windows-1252 (Latin-1 where Windows-1252 has no character)"
            notes.append(f"{entry.name}: column '{f.name}' holds text that is not UTF-8 (first at row {first}); "
                         f"read as {how}. Write the column as UTF-8 strings to avoid this")
        table = table.set_column(i, f.name, text)
    return table


def read_parquet(entry: Entry, limits: LoadLimits | None = None) -> RawTable:
    import pyarrow.parquet as pq

    limits = limits or LoadLimits()
    raw = entry.read_bytes(limits)
    try:
        pf = pq.ParquetFile(io.BytesIO(raw))
        if pf.metadata.num_rows > limits.max_rows:
            raise InputError(entry.name, f"the file has {pf.metadata.num_rows:,} rows, more than the limit of "
                             f"{limits.max_rows:,} (load setting max_rows)", "if the file is genuine, raise max_rows",
                             field="max_rows", field_kind="setting")
        table = pf.read()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise InputError(entry.name, f"the Parquet file cannot be read ({exc})", "write the file again") from None
    if table.num_rows == 0:
        raise InputError(entry.name, "the file has no rows", "check the export")
    notes: list[str] = []
    table = _binary_as_text(entry, _flatten_nested(entry, table), notes)
    return RawTable(entry.name, table, hashlib.sha256(raw).hexdigest(), notes=notes,
                    lines=np.arange(1, table.num_rows + 1, dtype=np.int64))


def read_vector(entry: Entry, layer: str | None = None, limits: LoadLimits | None = None) -> RawTable:
    """Read a GeoJSON, GeoPackage, Shapefile, FlatGeobuf (or zipped shapefile) with pyogrio.

    Returns a :class:`RawTable` with the attributes (date-time fields as ISO 8601 text, with
    their UTC offset where the file has one) and the geometries.
    """
    import pyogrio
    import shapely

    limits = limits or LoadLimits()
    if entry.member:
        with zipfile.ZipFile(entry.path) as zf:
            if sum(i.file_size for i in zf.infolist()) > limits.max_bytes:
                raise limits.too_big(entry.name, sum(i.file_size for i in zf.infolist()))
    elif entry.path.stat().st_size > limits.max_bytes:
        raise limits.too_big(entry.name, entry.path.stat().st_size)
    path = f"/vsizip/{entry.path}/{entry.member}" if entry.member else str(entry.path)
    try:
        # date-times as GDAL read them, as text: a column mixing values with and without a UTC
        # offset would otherwise come back with every offset dropped (GDAL has no type for it);
        # rtm.dates.parse_dates then reads them as it reads a CSV's
        meta, table = pyogrio.read_arrow(path, layer=layer, datetime_as_string=True)
    except Exception as exc:  # pyogrio raises several DataSource errors; all mean the same to a user
        raise InputError(entry.name, f"the file cannot be read as a map layer ({str(exc).splitlines()[0]})",
                         "check that it is a complete GeoJSON, GeoPackage, Shapefile (with .shx and .dbf) or FlatGeobuf") from None
    geom_col = meta.get("geometry_name") or "wkb_geometry"
    if geom_col not in table.column_names:
        raise InputError(entry.name, "the file has no geometry", "load it as a table with coordinate columns instead")
    geoms = shapely.from_wkb(table.column(geom_col).to_numpy(zero_copy_only=False))
    table = table.drop_columns([geom_col])
    if len(geoms) == 0:
        raise InputError(entry.name, "the layer has no features", "check the export")
    digest = hashlib.sha256()
    files = [entry.path] if entry.member or entry.path.suffix.lower() != ".shp" else \
        [entry.path.with_suffix(s) for s in (".shp", ".shx", ".dbf", ".prj") if entry.path.with_suffix(s).exists()]
    for f in files:
        digest.update(f.read_bytes())
    crs = meta.get("crs")
    return RawTable(entry.name, table, digest.hexdigest(), geometry=geoms, crs=crs,
                    lines=np.arange(1, len(geoms) + 1, dtype=np.int64))


def read_entry(entry: Entry, select=None, limits: LoadLimits | None = None) -> RawTable:
    """Read one entry with the reader its name calls for (``select``: see
    :func:`rtm.textfile.read_text_table`)."""
    from .textfile import read_text_table

    limits = limits or LoadLimits()
    suffix = entry.suffixes
    base = suffix[: -len(Path(suffix).suffix)] if Path(suffix).suffix in COMPRESSED else suffix
    if base.endswith((".xlsx", ".xls")):
        raise InputError(entry.name, "the file is an Excel workbook", "save it from Excel as 'CSV UTF-8' and load that")
    if base.endswith(PARQUET_SUFFIXES):
        return read_parquet(entry, limits)
    if base.endswith(VECTOR_SUFFIXES):
        return read_vector(entry, limits=limits)
    return read_text_table(entry, limits, select=select)
