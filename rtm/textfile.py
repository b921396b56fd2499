"""Reading one delimited text file (plain or compressed) into an all-string Arrow table,
counting rows by records and keeping each record's line number in the file.

What is done to the bytes, in order: decompression (bounded by
:attr:`~rtm.sources.LoadLimits.max_file_mb`), UTF-16 (with or without BOM) and
Windows-1252/Latin-1 transcoding, a UTF-8 BOM dropped, old Mac line ends (CR only) made
line feeds (a lone CR inside a line made a space), an Excel ``sep=;`` line or a title line
above the header skipped; then :func:`rtm.records.split_records` finds the records and
pyarrow parses them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from .errors import InputError
from .records import split_records

if TYPE_CHECKING:
    from .sources import Entry, LoadLimits, RawTable

DELIMITERS = (",", ";", "\t", "|")
_BARE_CR = re.compile(rb"\r(?!\n)")


def _utf16(head: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the bytes look like UTF-16 text without a BOM."""
    even, odd = head[0::2], head[1::2]
    if len(head) >= 8 and odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if len(head) >= 8 and even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _is_utf8(data: bytes) -> bool:
    """Whether ``data`` is valid UTF-8, checked by Arrow without copying the text."""
    arr = pa.Array.from_buffers(pa.large_binary(), 1, [None, pa.array([0, len(data)], pa.int64()).buffers()[1],
                                                       pa.py_buffer(data)])
    try:
        arr.cast(pa.large_string())
        return True
    except pa.ArrowInvalid:
        return False


def to_utf8(name: str, data: bytes, notes: list) -> bytes:
    """The text as UTF-8 with ``\\n`` line breaks: BOMs dropped, UTF-16 and
    Windows-1252/Latin-1 transcoded (with a note), CR-only line ends replaced.

    Raises
    ------
    InputError
        Binary content (NUL bytes in text that is not UTF-16).
    """
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        notes.append(f"{name}: read as UTF-16 text")
        data = _from_utf16(name, data, "utf-16", notes, "replace")
    elif (enc := _utf16(head)) is not None:
        text = _from_utf16(name, data, enc, notes, "strict")
        if text is not None:
            data = text
            notes.append(f"{name}: read as UTF-16 text without a byte-order mark ({enc})")
    if b"\x00" in data[:4096]:
        raise InputError(name, "the file is binary, not a text table",
                         "export the data as CSV (comma-separated values) and load that")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not _is_utf8(data):
        try:
            text, enc = data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError:
            text, enc = data.decode("latin-1"), "Latin-1"
        bad = _first_bad_utf8(data)
        notes.append(f"{name}: the file is not UTF-8 (first at line {bad}); read as {enc}. "
                     "Save it as CSV UTF-8 to avoid this")
        data = text.encode("utf-8")
    if b"\n" not in data and b"\r" in data:
        notes.append(f"{name}: lines end with a carriage return only (old Mac text); read as line breaks")
        data = data.replace(b"\r", b"\n")
    elif b"\r" in data and (n_bare := data.count(b"\r") - data.count(b"\r\n")):
        # the parser would end a row at a lone CR (a pasted note), the records (and line
        # numbers) end only at line feeds: it becomes a space, so the row stays one row
        line = data[:_BARE_CR.search(data).start()].count(b"\n") + 1
        notes.append(f"{name}: {n_bare} carriage return(s) inside lines (the first at line {line}) read as spaces")
        data = _BARE_CR.sub(b" ", data)
    return data


def _from_utf16(name: str, data: bytes, enc: str, notes: list, errors: str) -> bytes | None:
    """UTF-16 ``data`` as UTF-8. A last byte left over (a file cut short mid-character) is
    dropped with a note; with ``errors="strict"`` bytes that are not UTF-16 give None, with
    ``"replace"`` they become U+FFFD, with a note."""
    cut = len(data) % 2
    try:
        text = data[:len(data) - cut].decode(enc)
    except UnicodeDecodeError:
        if errors == "strict":
            return None
        text = data[:len(data) - cut].decode(enc, errors)
        notes.append(f"{name}: some bytes are not UTF-16 text; they are read as \ufffd")
    if cut:
        notes.append(f"{name}: the file ends in the middle of a character (its last byte is cut off: an incomplete "
                     "copy?); read without that byte")
    return text.encode("utf-8")


def _first_bad_utf8(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data[: exc.start].count(b"\n") + 1
    return 0


def _sniff(line: str) -> str:
    counts = {d: line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _is_title(first: str, second: str) -> bool:
    """Line 1 is a title above the header: at most half as many cells as line 2 (which has
    at least three), split by line 2's delimiter."""
    d = _sniff(second)
    n1 = len(split_cells(first, d))
    n2 = len(split_cells(second, d))
    return n2 >= 3 and 2 * n1 <= n2


def _header(name: str, text: bytes, notes: list) -> tuple[int, str, list[str]]:
    """(header line number, delimiter, column names), skipping an Excel ``sep=`` line or a
    title line (one cell only, above a line with several)."""
    first_lines, at = [], 0
    while len(first_lines) < 3 and at < len(text):  # the first three lines, found without scanning the rest
        end = text.find(b"\n", at)
        end = len(text) if end < 0 else end
        first_lines.append(text[at:end].decode("utf-8", "replace").rstrip("\r"))
        at = end + 1
    header_line, delim = 1, None
    if first_lines and first_lines[0].lower().startswith("sep=") and len(first_lines[0]) == 5:
        delim = first_lines[0][4]
        header_line = 2
        notes.append(f"{name}: line 1 is Excel's 'sep={delim}' line; the header is line 2")
    elif len(first_lines) >= 2 and first_lines[0].strip() and _is_title(first_lines[0], first_lines[1]):
        header_line = 2
        notes.append(f"{name}: line 1 ('{first_lines[0][:60]}') looks like a title; the header is line 2")
    if len(first_lines) < header_line:
        raise InputError(name, "the file has a header but no data rows",
                         "check that you exported the data and not only the column names")
    line = first_lines[header_line - 1]
    if delim is None:
        delim = _sniff(line)
        if delim != ",":
            notes.append(f"{name}: columns are separated by {'tab' if delim == chr(9) else repr(delim)}, not commas")
    cells = split_cells(line, delim)
    names = []
    for i, c in enumerate(cells):
        c = c.strip()
        if not c:
            c = f"column_{i + 1}"
            notes.append(f"{name}: column {i + 1} has no name in the header; called it '{c}'")
        names.append(c)
    if len(set(names)) < len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(name, f"the header names the column '{dup}' twice", "rename one of the columns", field=dup)
    return header_line, delim, names


#: Arrow types of the column kinds a ``select`` function may ask for
_KINDS = {"string": pa.string(), "dictionary": pa.dictionary(pa.int32(), pa.string()), "float64": pa.float64()}


def _all_text(kinds: dict[str, str]) -> bool:
    return set(kinds.values()) == {"string"}


def _parse(buf: bytes, names: list[str], delim: str, kinds: dict[str, str], on_invalid) -> pa.Table:
    """The columns named in ``kinds`` (name -> a kind of :data:`_KINDS`); the others are
    split off but not converted (a third of the parsing time of a police.uk file). Empty
    cells are empty text, and null in a number column. The parser reads ``buf`` in place
    (a ``BufferReader``, not a file object that would copy each block) and does not check
    the UTF-8 again: :func:`to_utf8` made the whole text valid UTF-8, and records are cut
    at line breaks.

    Raises
    ------
    pyarrow.ArrowInvalid
        A file that is not a table, or a cell of a number column that is not a number.
    """
    return pacsv.read_csv(
        pa.BufferReader(buf),
        read_options=pacsv.ReadOptions(use_threads=False, column_names=names, skip_rows=1, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=delim, invalid_row_handler=on_invalid,
                                         ignore_empty_lines=False, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(column_types={n: _KINDS[k] for n, k in kinds.items()},
                                             include_columns=list(kinds), check_utf8=False, null_values=[""],
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )


def split_cells(text: str, delim: str, quoting: bool = True) -> list[str]:
    """The cells of one record (a header line, a bad record for the rejects file) as
    Python's csv module reads them, split at every delimiter when that module refuses it
    (a cell over its 128 KiB field limit); with ``quoting=False`` quotes are ordinary
    characters (a stray quote's line then keeps its cells in their columns)."""
    try:
        return next(csv.reader(io.StringIO(text), delimiter=delim,
                               quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE), [])
    except csv.Error:
        return text.split(delim)


def read_text_table(entry: "Entry", limits: "LoadLimits", select=None) -> "RawTable":
    """Parse a (possibly compressed) delimited text file into an Arrow table (text columns
    unless ``select`` asks for others).

    ``select``, if given, is called with the header's column names and returns the
    columns the loader uses, each with how to parse it (name -> ``"string"``,
    ``"dictionary"`` or ``"float64"``), or None for every column as text. The others are
    not parsed; when some are left out or not parsed as text, the table records how to
    read the file again (``RawTable.reread``) for the rejects file, which has every
    original column as its text. A number column with a cell that is not a number is
    read again as text (the checks then name the row).

    Notes
    -----
    Records are found first (:func:`rtm.records.split_records`), so a stray quote costs
    one row and blank lines or quoted line breaks never shift a line number. Parsing is
    single-threaded inside pyarrow; callers read several files at once in threads.
    Memory: the decompressed text plus the Arrow table (about twice the text size at peak).
    """
    from .sources import RawTable

    raw = entry.read_bytes(limits)
    sha = hashlib.sha256(raw).hexdigest()
    notes: list[str] = []
    text = entry.text(raw, limits, notes)
    del raw
    if not text or text.isspace():
        raise InputError(entry.name, "the file is empty", "export the data again; the file has no content")
    header_line, delim, names = _header(entry.name, text, notes)
    # A bound before any per-line array is made: lines, counted only for a file with more
    # bytes than the bound (which most files are not). It leaves room for the header and
    # blank lines: the rows themselves are checked against max_rows once counted below.
    bound = 2 * limits.max_rows + header_line
    if len(text) > bound and (n_lines := text.count(b"\n")) > bound:
        raise InputError(entry.name, f"the file has {n_lines:,} lines, more than the limit of {limits.max_rows:,} "
                         "rows (load setting max_rows)", "if the file is genuine, raise max_rows, or load fewer "
                         "months at a time", field="max_rows", field_kind="setting")
    recs = split_records(text, delim, len(names), header_line)
    if len(recs.lines) > limits.max_rows:
        raise InputError(entry.name, f"the file has {len(recs.lines):,} rows, more than the limit of "
                         f"{limits.max_rows:,} rows (load setting max_rows)",
                         "if the file is genuine, raise max_rows, or load fewer months at a time", field="max_rows",
                         field_kind="setting")
    kinds = (select(names) if select else None) or dict.fromkeys(names, "string")
    bad: list[int] = []
    bad_text: list[str] = []

    def on_invalid(row):
        bad.append(int(row.number) if row.number is not None else -1)
        bad_text.append(row.text)
        return "skip"

    table = None
    while table is None:
        try:
            table = _parse(recs.text, names, delim, kinds, on_invalid)
        except pa.ArrowInvalid as exc:
            if _all_text(kinds):
                raise InputError(entry.name, f"the file cannot be read as a table ({exc})",
                                 "check that it is a comma-separated text file with one header row") from None
            # a cell of a number column is not a number: read the columns as text, so that
            # the checks reject that row with its reason
            kinds = dict.fromkeys(kinds, "string")
            bad.clear()
            bad_text.clear()
    n_rec = len(recs.lines)
    if table.num_rows + len(bad) != n_rec or any(b < 2 for b in bad):
        raise InputError(entry.name, f"the records could not be told apart (found {n_rec:,}, the parser "
                         f"{table.num_rows + len(bad):,})",
                         "open the file in a spreadsheet and save it again as CSV UTF-8")
    bad_idx = np.array(bad, dtype=np.int64) - 2
    good = np.ones(n_rec, dtype=bool)
    good[bad_idx] = False
    lines = recs.lines[good]
    malformed = [(int(recs.lines[i]), t, "malformed_row") for i, t in zip(bad_idx, bad_text)]
    malformed += [(line, t, "stray_quote") for line, t in recs.stray]
    malformed.sort()
    if table.num_rows == 0 and not malformed:
        raise InputError(entry.name, "the file has a header but no data rows",
                         "check that you exported the data and not only the column names")
    n_mal = sum(m[2] == "malformed_row" for m in malformed)
    if n_mal:
        notes.append(f"{entry.name}: {n_mal} rows have a different number of fields than the header")
    if recs.stray:
        shown = ", ".join(str(m[0]) for m in recs.stray[:10]) + (" ..." if len(recs.stray) > 10 else "")
        notes.append(f"{entry.name}: {len(recs.stray)} rows have a quote that is never closed (lines {shown}); "
                     "each is rejected on its own and the rows after it are read")

    return RawTable(entry.name, table, sha, lines=lines, malformed=malformed, notes=notes,
                    names=names, delimiter=delim,
                    reread=(entry, limits) if len(kinds) < len(names) or not _all_text(kinds) else None)
