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
import os
import stat
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
        shown = f"{size / MB:,.0f} MB" if size is not None else f"more than {self.max_file_mb:,.0f} MB"
        return InputError(name, f"the file is {shown} when decompressed, more than the limit of "
                          f"{self.max_file_mb:,.0f} MB (load setting max_file_mb)",
                          "if the file is genuine, raise max_file_mb (loading needs about twice that in "
                          "memory), or split the file by month", field="max_file_mb", field_kind="setting")


@dataclass
class RawTable:
    """One file's rows exactly as read, before any interpretation.

    Attributes
    ----------
    name : str
        Display name: the path, or ``archive.zip:member.csv``.
    table : pyarrow.Table
        Text columns as strings (CSV) or native types (Parquet, vector attributes).
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
                info = zf.getinfo(self.member)
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
        with COMPRESSED[suffix](io.BytesIO(data)) as fh:
            out = fh.read(limits.max_bytes + 1)
    except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
        raise InputError(entry.name, f"the compressed file cannot be opened ({exc})",
                         "download or copy the file again") from None
    if len(out) > limits.max_bytes:
        raise limits.too_big(entry.name, None)
    return out


def _is_folder_table(name: str) -> bool:
    """Files taken from a folder: CSV (maybe compressed), Parquet, vector layers, zips.
    Text files with other endings (.txt, .tsv: readmes, manifests) are taken only when
    named directly."""
    low = name.lower()
    stripped = low[: -len(Path(low).suffix)] if Path(low).suffix in COMPRESSED else low
    return stripped.endswith((".csv",) + PARQUET_SUFFIXES + VECTOR_SUFFIXES) or low.endswith(".zip")


def _special(mode: int) -> str | None:
    for test, what in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return None


def _check_path(p: Path) -> os.stat_result:
    """``os.stat`` of a user-given path, or an InputError saying why it cannot be read."""
    try:
        st = os.stat(p)
    except OSError as exc:
        if os.path.islink(p):
            why = ("a symbolic link that leads back to itself (a loop)" if exc.errno == 40
                   else "a symbolic link to something that does not exist")
            raise InputError(p, f"the path is {why}", "point at the real file or folder") from None
        if exc.errno == 13:
            raise InputError(p, "you may not read this file or folder", "ask for read permission or copy it") from None
        raise InputError(p, "the file or folder does not exist", "check the path and its spelling") from None
    what = _special(st.st_mode)
    if what:
        raise InputError(p, f"the path is {what}, not a file", "save the data to a file and load that")
    return st


def _walk(folder: Path) -> tuple[list[Path], dict[str, list[str]]]:
    """Regular files below ``folder`` (symbolic links to folders are not followed) and the
    other entries by the reason they are not read."""
    files: list[Path] = []
    skipped: dict[str, list[str]] = {}

    def skip(why, path):
        skipped.setdefault(why, []).append(str(path.relative_to(folder)))

    for root, dirs, names in os.walk(folder, followlinks=False, onerror=lambda e: skip("cannot be opened", Path(e.filename))):
        here = Path(root)
        for d in sorted(dirs):
            if (here / d).is_symlink():
                skip("symbolic links to folders (not followed)", here / d)
        dirs[:] = sorted(d for d in dirs if not (here / d).is_symlink() and not d.startswith("."))
        for n in sorted(names):
            f = here / n
            if n.startswith("."):
                skip("hidden files", f)
                continue
            try:
                st = os.stat(f)
            except OSError:
                skip("broken or looping symbolic links", f)
                continue
            what = _special(st.st_mode)
            if what:
                skip("not regular files (pipes, devices, sockets)", f)
            elif not os.access(f, os.R_OK):
                raise InputError(f, "you may not read this file", "ask for read permission, or move it out of the folder")
            else:
                files.append(f)
    return files, skipped


def _name_skipped(where: str, skipped: dict[str, list[str]], notes: list) -> None:
    for why, names in skipped.items():
        if names:
            notes.append(f"{where}: not read, {why}: {', '.join(names)}")


def expand_inputs(paths, notes: list | None = None) -> list[Entry]:
    """Turn user-given paths (files, folders, zips) into a sorted list of readable entries.

    Folders are searched recursively for tables and vector files. A zip contributes its
    CSV members; when it holds police.uk ``*-street.csv`` files only those are taken. Every
    file found but not taken is named in ``notes`` with the reason.

    Raises
    ------
    InputError
        A path that does not exist, is a pipe or device, a folder with no readable file,
        an unreadable file in a folder, or a zip with no CSV.
    """
    notes = notes if notes is not None else []
    entries: list[Entry] = []
    for p in map(Path, paths):
        st = _check_path(p)
        if stat.S_ISDIR(st.st_mode):
            files, skipped = _walk(p)
            found = [f for f in files if _is_folder_table(f.name)]
            shp = {f.with_suffix("") for f in found if f.suffix.lower() == ".shp"}
            for f in files:
                if f in found:
                    continue
                low = f.name.lower()
                part = next((s for s in SHAPEFILE_PARTS if low.endswith(s)), None)
                if part and Path(str(f)[: -len(part)]) in shp:
                    continue  # read with its .shp
                why = "not data tables" if not low.endswith((".txt", ".tsv")) else \
                    "text files other than .csv (name one directly to load it)"
                skipped.setdefault(why, []).append(str(f.relative_to(p)))
            _name_skipped(p.name, skipped, notes)
            if not found:
                raise InputError(p, "the folder holds no CSV, Parquet, zip or vector file",
                                 "point at the folder that holds the monthly CSV files")
            for f in found:
                entries.extend(expand_inputs([f], notes))
        elif p.suffix.lower() == ".zip" or _looks_like_zip(p):
            entries.extend(_zip_entries(p, notes))
        else:
            entries.append(Entry(str(p), p))
    return entries


def _looks_like_zip(p: Path) -> bool:
    if p.suffix.lower() in (".xlsx", ".docx"):
        return False
    try:
        with open(p, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError as exc:
        raise InputError(p, f"the file cannot be read ({exc.strerror})", "check that you may read it") from None


def _zip_entries(p: Path, notes: list) -> list[Entry]:
    """The members of a zip to read: its police.uk street CSVs, else its CSV files, else its
    map layers (a zipped shapefile); every other member is named in ``notes``."""
    try:
        with zipfile.ZipFile(p) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(p, f"the zip file is damaged or not a zip ({exc})", "download the file again") from None
    base = {n: Path(n).name for n in names}
    csvs = [n for n in names if n.lower().endswith(TEXT_SUFFIXES + tuple(t + c for t in TEXT_SUFFIXES for c in COMPRESSED))
            and not base[n].startswith(".")]
    vectors = [n for n in names if n.lower().endswith(VECTOR_SUFFIXES + PARQUET_SUFFIXES) and not base[n].startswith(".")]
    street = [n for n in csvs if n.lower().endswith("-street.csv")]
    skipped: dict[str, list[str]] = {}
    if street:
        take = street
        skipped["other CSV files (outcomes, stop and search)"] = [n for n in csvs if n not in street]
        skipped["map layers in a zip of police.uk files (load them separately)"] = vectors
    elif csvs:
        take = csvs
        skipped["map layers in a zip of CSV files (load them separately)"] = vectors
    elif vectors:
        take = vectors
    else:
        shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "") or "nothing"
        raise InputError(p, f"the zip holds no CSV file (it holds {shown})",
                         "unzip it and check its contents, or download the police.uk zip again")
    shp_stems = {n[:-4].lower() for n in take if n.lower().endswith(".shp")}
    rest = []
    for n in names:
        if n in take or any(n in v for v in skipped.values()):
            continue
        low = n.lower()
        part = next((s for s in SHAPEFILE_PARTS if low.endswith(s)), None)
        if part and low[: -len(part)] in shp_stems:
            continue
        rest.append(n)
    skipped["not data tables"] = rest
    _name_skipped(p.name, skipped, notes)
    return [Entry(f"{p.name}:{n}", p, n) for n in sorted(take)]


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
    table = _flatten_nested(entry, table)
    return RawTable(entry.name, table, hashlib.sha256(raw).hexdigest(), lines=np.arange(1, table.num_rows + 1, dtype=np.int64))


def read_vector(entry: Entry, layer: str | None = None, limits: LoadLimits | None = None) -> RawTable:
    """Read a GeoJSON, GeoPackage, Shapefile, FlatGeobuf (or zipped shapefile) with pyogrio."""
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
        meta, table = pyogrio.read_arrow(path, layer=layer)
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
