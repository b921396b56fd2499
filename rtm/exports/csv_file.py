"""CSV for Excel, pandas, QGIS and GDAL: the header on row 1, then one row per spot.

Beside ``<stem>.csv`` the writer puts ``<stem>.csvt`` (GDAL's column types, with
``lon``/``lat`` as the point coordinates) and ``<stem>.prj`` (WGS84), so QGIS and GDAL
open the CSV as typed points with no options; the provenance goes to
``<stem>.provenance.json`` (:func:`rtm.exports.text.provenance_sidecar`).
"""

from __future__ import annotations

import csv
import io
import math

import pandas as pd

from .table import COLUMNS, ExportTable
from .text import excel_safe, excel_unsafe

_GDAL_TYPES = {"text": "String", "int": "Integer64", "float": "Real", "bool": "Integer(Boolean)"}


def _cell(value, kind: str) -> str:
    if kind == "bool":
        return "TRUE" if value else "FALSE"
    if kind == "int":
        return str(int(value))
    if kind == "float":
        v = float(value)
        # Non-finite numbers are left empty: "-inf" would read as a formula in Excel.
        return repr(v) if math.isfinite(v) else ""
    return excel_safe(str(value))


def csv_bytes(table: ExportTable) -> bytes:
    """The spot table as CSV.

    Parameters
    ----------
    table : ExportTable
        From :func:`rtm.exports.table.prepare`.

    Returns
    -------
    bytes
        UTF-8 with a byte-order mark (Excel then reads accents right), CRLF line ends,
        quoted only where needed. Row 1 is the header (machine names such as
        ``harm_recent``), then one row per spot. Numbers in their rounded, shortest
        round-trip form; missing numbers empty; booleans ``TRUE``/``FALSE``; a text cell
        starting with ``= + - @``, tab, CR, LF or ``'`` gets one ``'`` in front
        (:func:`rtm.exports.text.excel_safe`) so Excel never evaluates it. The same table
        always gives the same bytes.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([c.name for c in COLUMNS])
    kinds = [c.kind for c in COLUMNS]
    for row in table.frame.itertuples(index=False, name=None):
        writer.writerow([_cell(v, k) for v, k in zip(row, kinds)])
    return buf.getvalue().encode("utf-8-sig", errors="replace")


def csvt_bytes() -> bytes:
    """GDAL's ``.csvt`` sidecar: the type of each column (``lon``/``lat`` as point X/Y)."""
    types = ["CoordX" if c.name == "lon" else "CoordY" if c.name == "lat" else _GDAL_TYPES[c.kind] for c in COLUMNS]
    return (",".join(f'"{t}"' for t in types) + "\r\n").encode("ascii")


def prj_bytes() -> bytes:
    """The ``.prj`` sidecar: WGS84 longitude/latitude, as WKT with its EPSG code (what GDAL and QGIS read)."""
    from pyproj import CRS

    return CRS.from_epsg(4326).to_wkt("WKT1_GDAL").encode("ascii")


def read_csv_bytes(data: bytes, *, restore_text: bool = True) -> pd.DataFrame:
    """Read a CSV written by :func:`csv_bytes` back as pandas does, the Excel-safety quote undone.

    Returns
    -------
    pandas.DataFrame
        What ``pandas.read_csv`` gives (only empty cells missing: "NA" stays text), with
        one leading ``'`` removed from text cells when ``restore_text``.
    """
    table = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    if restore_text:
        for col in table.columns:
            if not (pd.api.types.is_numeric_dtype(table[col]) or pd.api.types.is_bool_dtype(table[col])):
                table[col] = table[col].map(lambda v: excel_unsafe(v) if isinstance(v, str) else v)
    return table


__all__ = ["csv_bytes", "csvt_bytes", "prj_bytes", "read_csv_bytes"]
