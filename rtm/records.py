"""Where each record of a delimited text file starts and ends, counted by records, not by
how a parser recovers from a fault.

A CSV record ends at a line break outside quotes, so one stray double quote (an unclosed
quote at the start of a cell) would make a parser swallow every later line into one cell
of one bad row: 990 rows lost for one typo. :func:`split_records` finds the records first:

* a quoted cell may hold line breaks; such a record is kept whole when it closes, has the
  header's number of fields and no line inside it reads as a whole record of its own
  (which is what two stray quotes lines apart would give);
* otherwise the line with the opening quote is one bad record (``stray_quote``) and the
  lines after it are read as records of their own: the stray quote costs its own row only;
* empty lines (and lines of spaces) between records are not records.

The quoting rules are pyarrow's and Python's ``csv`` module's: a quote opens a quoted
cell only at the start of a cell, ``""`` inside quotes is a literal quote, and a quote in
the middle of an unquoted cell is an ordinary character.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QUOTE, NEWLINE = 34, 10


@dataclass
class Records:
    """The records of a text after its header line.

    Attributes
    ----------
    text : bytes
        The header line and the good records, ready for a CSV parser (the input itself
        when nothing had to be taken out).
    lines : ndarray of int64
        Physical line number (1-based, of the input) where each record of ``text`` starts.
    stray : list of (int, str)
        Lines whose unclosed quote would have swallowed the lines after them.
    """

    text: bytes
    lines: np.ndarray
    stray: list


def _scan(line: bytes, delim: int, in_quote: bool) -> tuple[bool, int, bool]:
    """Follow the quoting through one line: (still inside quotes at its end, delimiters
    seen outside quotes, every closing quote followed by a delimiter or the line's end)."""
    delims, at_start, i, n, clean = 0, not in_quote, 0, len(line), True
    while i < n:
        c = line[i]
        if in_quote:
            if c == QUOTE:
                if i + 1 < n and line[i + 1] == QUOTE:
                    i += 1  # "" is a literal quote
                else:
                    in_quote = False
                    if i + 1 < n and line[i + 1] not in (delim, 13):
                        clean = False
        elif c == QUOTE and at_start:
            in_quote = True
        elif c == delim:
            delims += 1
            at_start = True
            i += 1
            continue
        at_start = False
        i += 1
    return in_quote, delims, clean


def _whole_record(line: bytes, delim: int, n_fields: int) -> bool:
    """Whether a line inside a quoted cell reads as a whole record of its own: the header's
    number of fields, with a delimiter before any quote. Two stray quotes lines apart
    would otherwise close one cell around the rows between them (a line break in a real
    cell is followed by the rest of that cell, not by a row's worth of fields)."""
    q = line.find(b'"')
    if delim not in (line if q < 0 else line[:q]):
        return False
    return _scan(line, delim, False)[1] == n_fields - 1


def line_bounds(text: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive, before the line break) byte offsets of every line."""
    buf = np.frombuffer(text, np.uint8)
    nl = np.flatnonzero(buf == NEWLINE)
    starts = np.concatenate([[0], nl + 1]).astype(np.int64)
    ends = np.append(nl, len(buf)).astype(np.int64)
    if starts[-1] == len(buf):  # the text ends with a line break: no line after it
        starts, ends = starts[:-1], ends[:-1]
    return starts, ends


_BLANK_START = np.zeros(256, dtype=bool)
_BLANK_START[[10, 13, 32, 9]] = True  # a line starting so may be blank (empty, "\r" alone, spaces)


def _plain_lines(text: bytes) -> int | None:
    """The number of lines when no line can be blank and no double quote occurs (then
    records are lines), else None. One vectorised pass over the line breaks; most police.uk
    files qualify (one in forty has a quote)."""
    if not text or b'"' in text or _BLANK_START[text[0]]:
        return None
    buf = np.frombuffer(text, np.uint8)
    nl = np.flatnonzero(buf == NEWLINE)
    if _BLANK_START[buf[nl[nl + 1 < len(buf)] + 1]].any():
        return None
    return len(nl) + (not text.endswith(b"\n"))


def split_records(text: bytes, delim: str, n_fields: int, header_line: int = 1) -> Records:
    """Find the records after the header line ``header_line`` (1-based) of ``text``.

    Parameters
    ----------
    text : bytes
        UTF-8 text with ``\\n`` (or ``\\r\\n``) line breaks.
    delim : str
        The one-character field delimiter.
    n_fields : int
        The header's number of fields: a record spanning lines must have exactly these.
    header_line : int
        The header's line (lines before it, such as a title or ``sep=,``, are not data).

    Notes
    -----
    A text with no quote and no line that could be blank is returned as it is, its records
    being its lines (one pass over the line breaks). Otherwise vectorised over lines (numpy); only lines with an odd number of quote characters are
    followed character by character, in Python, so a clean file of a million rows costs
    a few tens of milliseconds and some 24 bytes per line.
    """
    if header_line == 1 and (n_lines := _plain_lines(text)) is not None:
        # no quote and no blank line: every line after the header is one record
        return Records(text, np.arange(2, n_lines + 1, dtype=np.int64), [])
    starts, ends = line_bounds(text)
    buf = np.frombuffer(text, np.uint8)
    n_lines = len(starts)
    first = header_line  # index of the first data line (0-based)
    keep = np.ones(n_lines, dtype=bool)
    keep[:first] = False
    cont = np.zeros(n_lines, dtype=bool)  # a continuation line of a multi-line record
    length = ends - starts
    # empty lines, "\r" alone, and lines of spaces or tabs are not records
    blank = (length == 0) | ((length == 1) & (buf[np.minimum(starts, len(buf) - 1)] == 13))
    maybe = np.flatnonzero(~blank & (length > 0) & np.isin(buf[np.minimum(starts, len(buf) - 1)], (32, 9)))
    for i in maybe:
        blank[i] = not text[starts[i]:ends[i]].strip()
    stray: list[tuple[int, str]] = []
    q = np.flatnonzero(buf == QUOTE)
    if q.size:
        per_line = np.bincount(np.searchsorted(starts, q, side="right") - 1, minlength=n_lines)
        with_quote = np.flatnonzero(per_line)
        odd = with_quote[(per_line[with_quote] % 2 == 1) & (with_quote >= first)]
        d = ord(delim)
        free = first
        for i in odd:
            if i < free or blank[i]:
                continue
            in_quote, delims, clean = _scan(text[starts[i]:ends[i]], d, False)
            if not in_quote:
                continue  # the quote was an ordinary character (mid-cell)
            j, ok = i, True
            while in_quote:
                k = np.searchsorted(with_quote, j, side="right")
                if k >= with_quote.size:
                    ok = False
                    break
                j = int(with_quote[k])
                in_quote, more, clean_j = _scan(text[starts[j]:ends[j]], d, True)
                delims += more
                clean &= clean_j
                if not clean or delims >= n_fields:
                    ok = False
                    break
            if ok and clean and delims == n_fields - 1 and not any(
                    _whole_record(text[starts[m]:ends[m]], d, n_fields) for m in range(i + 1, j + 1)):
                cont[i + 1:j + 1] = True
                free = j + 1
            else:
                keep[i] = False
                stray.append((int(i) + 1, text[starts[i]:ends[i]].decode("utf-8", "replace").rstrip("\r")))
    keep &= ~(blank & ~cont)
    rec = keep & ~cont
    rec_idx = np.flatnonzero(rec)
    if first == 1 and keep[1:].all():
        out = text  # nothing to take out: the input as it is
    else:
        keep[first - 1] = True  # the header line
        keep[:first - 1] = False
        kept = np.flatnonzero(keep)
        # join runs of consecutive kept lines (each run is one slice of the input)
        breaks = np.flatnonzero(np.diff(kept) != 1)
        run_first = np.concatenate([[kept[0]], kept[breaks + 1]])
        run_last = np.concatenate([kept[breaks], [kept[-1]]])
        pieces = [text[starts[a]:ends[b]] + b"\n" for a, b in zip(run_first, run_last)]
        out = b"".join(pieces)
    return Records(out, rec_idx.astype(np.int64) + 1, stray)
