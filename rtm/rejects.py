"""The rejected rows of a load, as a table and as a CSV safe to open in Excel.

Each rejected row keeps its file, its line number in that file, the reason and the
advice, and every original column of its file, as the text it had (also the columns a
police.uk load does not parse, and the cells of a row that could not be parsed, with its
raw text). The CSV is formula-safe in the same way as the list CSV: a text cell that
Excel would evaluate gets one ``'`` in front (:func:`rtm.exports.excel_safe`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .layouts import POLICEUK_HEADER, norm
from .load_report import REASON_NAMES, REASONS

FIXED = ["file", "row", "reason", "advice"]
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _as_text(col) -> pa.Array:
    try:
        return pc.cast(col, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in col.to_pylist()], pa.string())


def rejects_of(raw, layout_name: str, codes: np.ndarray, bad: np.ndarray, lines: np.ndarray) -> pa.Table:
    """Rejected rows of one file: file, row, reason, advice, then every original column.

    Parameters
    ----------
    raw : rtm.sources.RawTable
    layout_name : str
        police.uk street files get the original header names for both header variants.
    codes : ndarray of int8
        Reason code of each parsed row (0 = used).
    bad : ndarray of bool
        The parsed rows rejected.
    lines : ndarray of int64
        Line (or feature) number of each parsed row.
    """
    from .textfile import split_cells

    sub = raw.table.filter(pa.array(bad))
    header = raw.names or list(raw.table.column_names)
    shown = _column_names(header, layout_name)
    rename = dict(zip(header, shown))
    names = [rename.get(c, c) for c in sub.column_names]
    reasons = REASON_NAMES[codes[bad]]
    cols = {"file": pa.array(np.full(len(reasons), raw.name, dtype=object), pa.string()),
            "row": pa.array(lines[bad]),
            "reason": pa.array(reasons, pa.string()),
            "advice": pa.array([REASONS[r] for r in reasons], pa.string())}
    for name, col in zip(names, sub.columns):
        cols[name] = col if pa.types.is_string(col.type) else _as_text(col)
    if raw.geometry is not None:
        import shapely

        cols["geometry_wkt"] = pa.array(shapely.to_wkt(raw.geometry[bad], rounding_precision=6), pa.string())
    out = pa.table(cols)
    if raw.malformed:
        rows = {"file": [raw.name] * len(raw.malformed), "row": [m[0] for m in raw.malformed],
                "reason": [m[2] for m in raw.malformed], "advice": [REASONS[m[2]] for m in raw.malformed]}
        cells = [split_cells(m[1], raw.delimiter or ",", quoting=m[2] != "stray_quote") for m in raw.malformed]
        for i, name in enumerate(shown):
            rows[name] = [c[i] if i < len(c) else None for c in cells]
        rows["raw_text"] = [m[1] for m in raw.malformed]
        mal = pa.table({k: pa.array(v, pa.int64() if k == "row" else pa.string()) for k, v in rows.items()})
        out = pa.concat_tables([out, mal], promote_options="default")
        # the file's column order, also for the columns only the unparsed rows brought
        first = FIXED + [c for c in shown if c in out.column_names]
        out = out.select(first + [c for c in out.column_names if c not in first])
    return out


def _column_names(header: list, layout_name: str) -> list[str]:
    """The names a file's columns get in its rejects, in the file's order: police.uk street
    files get the published header's spelling (both header variants give one set of
    columns). A name the rejects use for their own columns (``file``, ``row``, ``reason``,
    ``advice``, ``raw_text``, ``geometry_wkt``), or one an earlier column took, gets
    `` (original)`` (then a number), so no cell of the file overwrites another."""
    taken, out = set(FIXED) | {"raw_text", "geometry_wkt"}, []
    for col in header:
        name = str(col)
        if layout_name == "police.uk street":
            canon = POLICEUK_HEADER.get(norm(name))
            name = canon if canon and canon not in taken else name
        base, k = f"{col} (original)", 2
        if name in taken:
            name = base
        while name in taken:
            name, k = f"{base[:-1]} {k})", k + 1
        taken.add(name)
        out.append(name)
    return out


@dataclass
class Pending:
    """The rejected rows of a text file parsed with only the columns a load uses (police.uk:
    not ``Reported by``, ``Falls within``, ``Last outcome category``, ``Context``): enough
    to read them again with every column when the rejects are first wanted.

    ``rows`` are the rejected parsed rows (0-based, in file order) and ``codes`` their
    reasons; ``n_parsed`` and ``sha256`` check that the file read again is the one loaded.
    """

    sha256: str
    reread: tuple  # (rtm.sources.Entry, rtm.sources.LoadLimits)
    layout_name: str
    rows: np.ndarray
    codes: np.ndarray
    n_parsed: int

    def complete(self) -> pa.Table | None:
        """The rejected rows with every original column, or None when the file cannot be
        read again or has changed since the load (then the columns parsed are all there is)."""
        from .errors import InputError
        from .textfile import read_text_table

        entry, limits = self.reread
        try:
            raw = read_text_table(entry, limits)
        except (InputError, OSError):
            return None
        if raw.sha256 != self.sha256 or raw.table.num_rows != self.n_parsed:
            return None
        codes = np.zeros(self.n_parsed, dtype=np.int8)
        codes[self.rows] = self.codes
        bad = np.zeros(self.n_parsed, dtype=bool)
        bad[self.rows] = True
        return rejects_of(raw, self.layout_name, codes, bad, raw.lines)


class LazyRejects:
    """The rejected rows of a load, as per-file Arrow tables; :meth:`frame` completes the
    files parsed with only some columns (:class:`Pending`, read again on two threads: about
    as long as loading them took) and returns one DataFrame."""

    def __init__(self, tables: list, pending: dict):
        self.tables = tables  # pa.Table per file with rejected rows
        self.pending = pending  # index in tables -> Pending

    def frame(self) -> pd.DataFrame:
        tables = list(self.tables)
        if self.pending:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(2) as pool:
                done = dict(zip(self.pending, pool.map(Pending.complete, self.pending.values())))
            for i, full in done.items():
                if full is not None:
                    tables[i] = full
        if not tables:
            return empty()
        return pa.concat_tables(tables, promote_options="default").to_pandas()


def empty() -> pd.DataFrame:
    return pd.DataFrame(columns=FIXED)


def _safe_cell(value) -> str:
    from .exports import excel_safe  # the list CSV's rule, one definition for both files

    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    text = str(value)
    return text if _NUMBER.match(text) else excel_safe(text)


def rejects_csv(frame: pd.DataFrame) -> bytes:
    """The rejected rows as UTF-8 CSV bytes (with a byte-order mark, as the list CSV, so
    Excel reads accents right) that Excel opens without evaluating anything.

    Every text cell that begins with ``= + - @`` (or tab, CR, LF, ``'``) gets one ``'`` in
    front, as in the list CSV; plain numbers (``-0.71``) are written as they are, so
    ``pandas.read_csv`` reads the coordinates back as numbers.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # a CR in a cell is then quoted too
    writer.writerow([_safe_cell(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([_safe_cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")
