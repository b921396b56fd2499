"""Provenance as text, and the Excel-safety rule for text cells, shared by every format."""

from __future__ import annotations

import json
import math

import numpy as np

#: A text cell that starts with one of these gets one ``'`` in front in CSV and xlsx. ``= + - @``
#: tab and CR start a formula in Excel/LibreOffice (OWASP "CSV injection"); LF is added for
#: good measure, and ``'`` itself so that the rule can be undone exactly (see
#: :func:`excel_unsafe`).
EXCEL_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n", "'")

TEXT_RULE = ("text cells that began with = + - @ tab CR LF or ' have one ' added in front; "
             "empty cells are missing values")


def plain(value):
    """``value`` with numpy scalars, tuples, paths and non-finite floats made plain JSON."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def provenance_json(provenance: dict, *, indent: int | None = None) -> str:
    """The provenance as JSON with sorted keys (the same dict always gives the same text)."""
    return json.dumps(plain(dict(provenance)), sort_keys=True, ensure_ascii=False, allow_nan=False,
                      indent=indent, separators=(",", ":") if indent is None else (",", ": "))


def provenance_sidecar(provenance: dict) -> bytes:
    """The ``<stem>.provenance.json`` file beside an export: indented UTF-8 JSON, keys sorted."""
    return (provenance_json(provenance, indent=1) + "\n").encode("utf-8")


def prov_value(value) -> str:
    """One provenance value on one line: a printable string as it is, anything else as JSON."""
    value = plain(value)
    if isinstance(value, str) and value.isprintable():
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)


def prov_lines(provenance: dict) -> list[tuple[str, str]]:
    """(key, value) pairs of the provenance in the caller's key order, each one line of text."""
    return [(prov_value(str(k)), prov_value(v)) for k, v in provenance.items()]


def excel_safe(text: str) -> str:
    """``text`` with a ``'`` in front when it starts with a character of :data:`EXCEL_DANGEROUS`."""
    return "'" + text if text.startswith(EXCEL_DANGEROUS) else text


def excel_unsafe(text: str) -> str:
    """Undo :func:`excel_safe`: drop one leading ``'``."""
    return text[1:] if text.startswith("'") else text
