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
    names = sub.column_names
    if layout_name == "police.uk street":  # both header variants give one set of columns
        names = [POLICEUK_HEADER.get(norm(c), c) for c in names]
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
        header = raw.names or list(raw.table.column_names)
        shown = [POLICEUK_HEADER.get(norm(c), c) for c in header] if layout_name == "police.uk street" else header
        rows = {"file": [raw.name] * len(raw.malformed), "row": [m[0] for m in raw.malformed],
                "reason": [m[2] for m in raw.malformed], "advice": [REASONS[m[2]] for m in raw.malformed]}
        cells = [split_cells(m[1], raw.delimiter or ",", quoting=m[2] != "stray_quote") for m in raw.malformed]
        for i, name in enumerate(shown):
            rows[name] = [c[i] if i < len(c) else None for c in cells]
        rows["raw_text"] = [m[1] for m in raw.malformed]
        mal = pa.table({k: pa.array(v, pa.int64() if k == "row" else pa.string()) for k, v in rows.items()})
        out = pa.concat_tables([out, mal], promote_options="default")
    return out


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
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([_safe_cell(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([_safe_cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")
