"""Reading input files into Arrow tables: CSV (plain or compressed), zip, folders,
Parquet and vector formats. No interpretation of columns happens here.

Every problem that makes a file unusable raises :class:`~rtm.errors.InputError`
naming the file; rows that are merely malformed are kept aside with their line number so
the caller can account for them.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .errors import InputError

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
COMPRESSED = {".gz": gzip.decompress, ".xz": lzma.decompress, ".bz2": bz2.decompress}
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".gml", ".kml")
PARQUET_SUFFIXES = (".parquet", ".pq", ".geoparquet")
DELIMITERS = (",", ";", "\t", "|")


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
        The line number of each row in a text file (header = line 1), or the feature /
        record number (1-based) for other formats.
    malformed : list of (int, str)
        Lines skipped because their field count differs from the header.
    geometry : ndarray of shapely geometries, optional
        For vector files.
    crs : str, optional
        CRS declared by a vector file.
    notes : list of str
    """

    name: str
    table: pa.Table
    sha256: str
    lines: np.ndarray
    malformed: list = field(default_factory=list)
    geometry: np.ndarray | None = None
    crs: str | None = None
    notes: list = field(default_factory=list)

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

    def read_bytes(self) -> bytes:
        if self.member is None:
            return self.path.read_bytes()
        with zipfile.ZipFile(self.path) as zf:
            return zf.read(self.member)


def _is_folder_table(name: str) -> bool:
    """Files taken from a folder: CSV (maybe compressed), Parquet, vector layers, zips.
    Text files with other endings (.txt, .tsv: readmes, manifests) are taken only when
    named directly."""
    low = name.lower()
    stripped = low[: -len(Path(low).suffix)] if Path(low).suffix in COMPRESSED else low
    return stripped.endswith((".csv",) + PARQUET_SUFFIXES + VECTOR_SUFFIXES) or low.endswith(".zip")


def expand_inputs(paths, notes: list | None = None) -> list[Entry]:
    """Turn user-given paths (files, folders, zips) into a sorted list of readable entries.

    Folders are searched recursively for tables and vector files. A zip contributes its
    CSV members; when it holds police.uk ``*-street.csv`` files only those are taken and
    the others (outcomes, stop and search) are named in ``notes``.

    Raises
    ------
    InputError
        A path that does not exist, a folder with no readable file, or a zip with no CSV.
    """
    notes = notes if notes is not None else []
    entries: list[Entry] = []
    for p in map(Path, paths):
        if not p.exists():
            raise InputError(p, "the file or folder does not exist", "check the path and its spelling")
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
            found = [f for f in files if _is_folder_table(f.name)]
            skipped = [f.name for f in files if f not in found and f.suffix.lower() not in (".shx", ".dbf", ".prj", ".cpg")]
            if skipped:
                notes.append(f"{p.name}: skipped {len(skipped)} files that are not data tables "
                             f"({', '.join(skipped[:3])}{' ...' if len(skipped) > 3 else ''})")
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
    with open(p, "rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def _zip_entries(p: Path, notes: list) -> list[Entry]:
    try:
        with zipfile.ZipFile(p) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
    except zipfile.BadZipFile:
        raise InputError(p, "the zip file is damaged or not a zip", "download the file again") from None
    shp = [n for n in names if n.lower().endswith(".shp")]
    if shp:
        return [Entry(f"{p.name}:{n}", p, n) for n in sorted(shp)]
    csvs = [n for n in names if n.lower().endswith(TEXT_SUFFIXES) and not Path(n).name.startswith(".")]
    if not csvs:
        shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "") or "nothing"
        raise InputError(p, f"the zip holds no CSV file (it holds {shown})",
                         "unzip it and check its contents, or download the police.uk zip again")
    street = [n for n in csvs if n.lower().endswith("-street.csv")]
    if street and len(street) < len(csvs):
        notes.append(f"{p.name}: took the {len(street)} '-street.csv' files; skipped "
                     f"{len(csvs) - len(street)} other CSV files (outcomes, stop and search)")
        csvs = street
    return [Entry(f"{p.name}:{n}", p, n) for n in sorted(csvs)]


# -- text tables --------------------------------------------------------------------------
def _decompress(entry: Entry, data: bytes) -> bytes:
    suffix = Path(entry.member or entry.path.name).suffix.lower()
    if suffix in COMPRESSED:
        try:
            return COMPRESSED[suffix](data)
        except (OSError, EOFError, lzma.LZMAError) as exc:
            raise InputError(entry.name, f"the compressed file cannot be opened ({exc})",
                             "download or copy the file again") from None
    return data


def _to_utf8(entry: Entry, data: bytes, notes: list) -> bytes:
    """Strip a UTF-8 BOM and transcode UTF-16 text; other bytes are passed on as they are
    (pyarrow checks UTF-8 while parsing, see :func:`_transcode`)."""
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        notes.append(f"{entry.name}: read as UTF-16 text")
        return data.decode("utf-16").encode("utf-8")
    if b"\x00" in head:
        raise InputError(entry.name, "the file is binary, not a text table",
                         "export the data as CSV (comma-separated values) and load that")
    return data[3:] if head.startswith(b"\xef\xbb\xbf") else data


def _transcode(entry: Entry, data: bytes, notes: list) -> bytes:
    """Re-encode text that is not UTF-8 (Windows-1252, else Latin-1) with a note."""
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
    try:
        text, enc = data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        text, enc = data.decode("latin-1"), "Latin-1"
    notes.append(f"{entry.name}: the file is not UTF-8 (first at line {line}); read as {enc}. "
                 "Save it as CSV UTF-8 to avoid this")
    return text.encode("utf-8")


def _blank_lines(text: bytes, table: pa.Table, lines: np.ndarray) -> np.ndarray:
    """Which rows of ``table`` come from empty lines of ``text`` (not data rows).

    The parser keeps empty lines as rows of empty strings so that row ``k`` stays line
    ``k + 2``; a row whose every cell is empty is then checked against its line's text
    (a line of only delimiters is a real, if empty, row).

    Notes
    -----
    One pass over the column offsets; the line scan of the text (about 0.1 s per 100 MB)
    runs only when some row is empty in every column.
    """
    empty = np.ones(table.num_rows, dtype=bool)
    for col in table.columns:
        empty &= np.asarray(pc.equal(pc.utf8_length(col), 0).to_numpy(zero_copy_only=False), dtype=bool)
        if not empty.any():
            return empty
    buf = np.frombuffer(text, np.uint8)
    ends = np.append(np.flatnonzero(buf == 10), len(buf))
    starts = np.concatenate([[0], ends[:-1] + 1])
    cand = np.flatnonzero(empty)
    first, last = starts[lines[cand] - 1], ends[lines[cand] - 1]
    empty[cand] = [not text[a:b].strip() for a, b in zip(first, last)]
    return empty


def _sniff_delimiter(entry: Entry, header: bytes, notes: list) -> str:
    text = header.decode("utf-8", "replace")
    counts = {d: text.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    if counts[best] == 0:
        return ","
    if best != ",":
        notes.append(f"{entry.name}: columns are separated by {'tab' if best == chr(9) else repr(best)}, not commas")
    return best


def read_text_table(entry: Entry, data: bytes | None = None, select=None) -> RawTable:
    """Parse a (possibly compressed) delimited text file into an all-string Arrow table.

    ``select``, if given, is called with the header's column names and returns the
    columns to parse (or None for all); unparsed columns are still checked for row shape.

    Notes
    -----
    Parsing is single-threaded inside pyarrow so that skipped rows keep their line
    numbers; callers read several files at once in threads for speed. Memory: the
    decompressed text plus the Arrow table (about twice the text size at peak).
    """
    raw = data if data is not None else entry.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    text = _decompress(entry, raw)
    if not text or text.isspace():
        raise InputError(entry.name, "the file is empty", "export the data again; the file has no content")
    notes: list[str] = []
    text = _to_utf8(entry, text, notes)
    first_nl = text.find(b"\n")
    header = text if first_nl < 0 else text[:first_nl]
    try:
        header.decode("utf-8")
    except UnicodeDecodeError:
        text = _transcode(entry, text, notes)
        first_nl = text.find(b"\n")
        header = text if first_nl < 0 else text[:first_nl]
    delim = _sniff_delimiter(entry, header, notes)
    names = [h.strip().strip('"') for h in header.decode("utf-8").rstrip("\r").split(delim)]
    if len(set(names)) < len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(entry.name, f"the header names the column '{dup}' twice", "rename one of the columns", field=dup)
    wanted = (select(names) if select else None) or names
    malformed: list = []

    def on_invalid(row):
        malformed.append((int(row.number) if row.number is not None else -1, row.text))
        return "skip"

    def parse(buf: bytes) -> pa.Table:
        malformed.clear()
        return pacsv.read_csv(
            io.BytesIO(buf),
            read_options=pacsv.ReadOptions(use_threads=False, column_names=names, skip_rows=1,
                                           block_size=1 << 24),
            # empty lines are kept as rows so that row numbers stay line numbers
            parse_options=pacsv.ParseOptions(delimiter=delim, invalid_row_handler=on_invalid,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 include_columns=wanted,
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )

    try:
        try:
            table = parse(text)
        except pa.ArrowInvalid as exc:
            if "UTF8" not in str(exc).upper():
                raise
            table = parse(_transcode(entry, text, notes))
    except pa.ArrowInvalid as exc:
        raise InputError(entry.name, f"the file cannot be read as a table ({exc})",
                         "check that it is a comma-separated text file with one header row") from None
    # with empty lines kept, the parser's numbers are physical lines (header = line 1)
    bad = np.array(sorted(m[0] for m in malformed), dtype=np.int64)
    lines = np.setdiff1d(np.arange(2, table.num_rows + len(malformed) + 2, dtype=np.int64), bad,
                         assume_unique=True)
    blank = _blank_lines(text, table, lines)
    if blank.any():
        table, lines = table.filter(pa.array(~blank)), lines[~blank]
    if table.num_rows == 0 and not malformed:
        raise InputError(entry.name, "the file has a header but no data rows",
                         "check that you exported the data and not only the column names")
    if malformed:
        notes.append(f"{entry.name}: {len(malformed)} rows have a different number of fields than the header")
    return RawTable(entry.name, table, sha, lines=lines, malformed=malformed, notes=notes)


# -- other formats ------------------------------------------------------------------------
def read_parquet(entry: Entry) -> RawTable:
    import pyarrow.parquet as pq

    raw = entry.read_bytes()
    try:
        table = pq.read_table(io.BytesIO(raw))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(entry.name, f"the Parquet file cannot be read ({exc})", "write the file again") from None
    if table.num_rows == 0:
        raise InputError(entry.name, "the file has no rows", "check the export")
    return RawTable(entry.name, table, hashlib.sha256(raw).hexdigest(), lines=np.arange(1, table.num_rows + 1, dtype=np.int64))


def read_vector(entry: Entry, layer: str | None = None) -> RawTable:
    """Read a GeoJSON, GeoPackage, Shapefile, FlatGeobuf (or zipped shapefile) with pyogrio."""
    import pyogrio
    import shapely

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


def read_entry(entry: Entry, select=None) -> RawTable:
    """Read one entry with the reader its name calls for (``select``: see read_text_table)."""
    suffix = entry.suffixes
    base = suffix[: -len(Path(suffix).suffix)] if Path(suffix).suffix in COMPRESSED else suffix
    if base.endswith((".xlsx", ".xls")):
        raise InputError(entry.name, "the file is an Excel workbook", "save it from Excel as 'CSV UTF-8' and load that")
    if base.endswith(PARQUET_SUFFIXES):
        return read_parquet(entry)
    if base.endswith(VECTOR_SUFFIXES):
        return read_vector(entry)
    return read_text_table(entry, select=select)
