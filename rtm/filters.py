"""Attribute filters that pick one attractor out of a mixed file of points of interest.

Grammar (field names and values match case-insensitively, values may be quoted)::

    fclass = pub
    fclass in (pub, bar, biergarten)
    fclass != bar
    amenity = bar and name != "The Ship"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import InputError

_CLAUSE = re.compile(r"^\s*([A-Za-z_][\w .:-]*?)\s*(=|==|!=|\bin\b|\bnot in\b)\s*(.+?)\s*$", re.IGNORECASE)


def _values(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return [v.strip().strip("'\"").strip().casefold() for v in text.split(",") if v.strip()]


@dataclass(frozen=True)
class Clause:
    field: str
    negate: bool
    values: tuple


def parse_filter(expr: str, source: str = "filter") -> list[Clause]:
    """Parse a filter expression into clauses (all must hold).

    Raises
    ------
    InputError
        When a clause is not of the form ``FIELD = VALUE``, ``FIELD != VALUE`` or
        ``FIELD in (V1, V2)``.
    """
    clauses = []
    for part in re.split(r"\s+and\s+", expr.strip(), flags=re.IGNORECASE):
        m = _CLAUSE.match(part)
        if not m or not _values(m.group(3)):
            raise InputError(source, f"the filter '{part}' cannot be read",
                             "write it as FIELD = VALUE, FIELD != VALUE or FIELD in (VALUE1, VALUE2), joined by 'and'")
        op = m.group(2).lower()
        clauses.append(Clause(m.group(1).strip(), op in ("!=", "not in"), tuple(_values(m.group(3)))))
    return clauses


def apply_filter(table: pa.Table, expr: str, source: str) -> np.ndarray:
    """Boolean mask of the rows of ``table`` that satisfy ``expr``.

    Raises
    ------
    InputError
        When a field is not in the table (the message lists the fields).
    """
    by_lower = {c.lower(): c for c in table.column_names}
    mask = np.ones(table.num_rows, dtype=bool)
    for cl in parse_filter(expr, source):
        name = by_lower.get(cl.field.lower())
        if name is None:
            raise InputError(source, f"the filter names the field '{cl.field}', which is not in the file "
                             f"(fields: {', '.join(table.column_names)})", "correct the field name in the filter",
                             field=cl.field)
        col = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(table.column(name), pa.string())))
        hit = np.asarray(pc.fill_null(pc.is_in(col, pa.array(list(cl.values))), False)
                         .to_numpy(zero_copy_only=False), dtype=bool)
        mask &= ~hit if cl.negate else hit
    return mask
