"""An Excel workbook of the list (openpyxl): one sheet of all spots, one per district, and
an "About" sheet with the provenance.

Every sheet has human column titles with units on row 1, a frozen header, an autofilter,
column widths and number formats. No cell is a formula: text that looks like one is
stored as text.
"""

from __future__ import annotations

import io
import re

import numpy as np

from .table import COLUMNS, ExportTable
from .text import prov_lines

#: Excel number formats by column kind and decimals.
_FORMATS = {("int", None): "0", ("float", 0): "0", ("float", 1): "#,##0.0", ("float", 2): "0.00",
            ("float", 6): "0.000000"}
#: Column widths in characters (others: from the title, 10 to 40).
_WIDTHS = {"location": 34, "streets": 40, "counts_by_type": 44, "explanation": 50, "factors_present": 36,
           "peak_times": 30, "spot_id": 22, "period": 26, "grid_ref": 16, "district": 18}
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_name(name: str, used: set[str]) -> str:
    """A valid, unique Excel sheet name (31 characters, none of ``[]:*?/\\``)."""
    base = _SHEET_BAD.sub("-", name).strip("'") or "Sheet"
    base = base[:31]
    out, k = base, 2
    while out.lower() in used:
        suffix = f" ({k})"
        out, k = base[:31 - len(suffix)] + suffix, k + 1
    used.add(out.lower())
    return out


def _set(cell, value) -> None:
    """Write a value; text always as text (never a formula), characters a worksheet cannot
    hold (control characters) as U+FFFD."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def _spot_sheet(ws, table: ExportTable, rows) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDDDDD")
    for j, c in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=j)
        _set(cell, table.titles[c.name])
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    frame = table.frame.iloc[rows] if rows is not None else table.frame
    for i, row in enumerate(frame.itertuples(index=False, name=None), start=2):
        for j, (c, v) in enumerate(zip(COLUMNS, row), start=1):
            if c.kind == "float" and not np.isfinite(v):
                continue  # an empty cell, not NaN
            value = bool(v) if c.kind == "bool" else int(v) if c.kind == "int" else float(v) \
                if c.kind == "float" else str(v)
            cell = ws.cell(row=i, column=j)
            _set(cell, value)
            fmt = _FORMATS.get((c.kind, c.decimals))
            if fmt:
                cell.number_format = fmt
    for j, c in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(j)].width = _WIDTHS.get(c.name, min(max(len(table.titles[c.name]) * 0.6
                                                                                      + 2, 10), 40))
    ws.row_dimensions[1].height = 45
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(len(frame) + 1, 1)}"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4


def xlsx_bytes(table: ExportTable, notes: list[str] | None = None) -> bytes:
    """The list as an ``.xlsx`` workbook.

    Parameters
    ----------
    table : ExportTable
    notes : list of str, optional
        The list's notes, shown on the About sheet.

    Returns
    -------
    bytes
        Sheets: ``Harm spots`` (every spot), one per district (its spots, best first), and
        ``About`` (what the file is, the notes, every provenance entry and the columns'
        machine names). Titles carry units (e.g. "Harm, last 4 weeks (CCHI days)").
        Numbers are numbers with formats (scores 0.00, harm #,##0.0, lat/lon 0.000000);
        missing numbers are empty cells; no cell holds a formula.

    Notes
    -----
    openpyxl in memory; about 5 ms per 100 spots.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    used: set[str] = set()
    ws = wb.active
    ws.title = sheet_name("Harm spots", used)
    _spot_sheet(ws, table, None)
    for district in sorted(table.districts()):
        rows = np.flatnonzero(table.frame["district"].to_numpy() == district)
        _spot_sheet(wb.create_sheet(sheet_name(district, used)), table, rows)
    about = wb.create_sheet(sheet_name("About", used))
    about.column_dimensions["A"].width, about.column_dimensions["B"].width = 28, 110
    lines: list[tuple[str, str]] = [("File", "Harm-spot list: one row per spot, best first in each district."),
                                    ("Period", str(table.provenance.get("period", "")))]
    lines += [("Note", n) for n in (notes or [])]
    lines += [("", ""), ("Provenance", "")] + prov_lines(table.provenance)
    lines += [("", ""), ("Column", "Field name in the CSV, GeoPackage and GeoJSON")]
    lines += [(table.titles[c.name], c.name) for c in COLUMNS]
    for i, (k, v) in enumerate(lines, start=1):
        _set(about.cell(row=i, column=1), k)
        _set(about.cell(row=i, column=2), v)
        about.cell(row=i, column=2).alignment = Alignment(wrap_text=True, vertical="top")
        if k in ("Provenance", "Column", "File"):
            about.cell(row=i, column=1).font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
