"""Duplicate incidents across the loaded files (see docs/loading.md, "Duplicates").

A file whose bytes repeat an earlier one is a duplicate whole; rows with an id repeat when
id, period and offence type repeat; timestamped rows without an id repeat only cell for
cell. The parts are the per-file results of :mod:`rtm.incidents` (``codes`` are marked in
place).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .hashing import hash_text, repeated
from .load_report import mark, reason_code


def mark_duplicates(parts: list, resolution: str, notes: list) -> None:
    seen_files: dict[str, str] = {}
    for p in parts:
        if p.raw.sha256 in seen_files:
            p.codes[:] = reason_code("duplicate")
            # the file notes are already in the report: this one goes there directly
            notes.append(f"{p.raw.name} has the same content as {seen_files[p.raw.sha256]}; its rows are duplicates")
        else:
            seen_files[p.raw.sha256] = p.raw.name
    if any(p.ids is not None for p in parts):
        # same id, same period and same offence type: police.uk repeats some crimes within a
        # month (once with, once without a location); PSNI reuses ids across months for
        # different crimes, so the id alone is not enough
        with_id = [p for p in parts if p.ids is not None]
        codes = np.concatenate([p.codes for p in with_id])
        live = codes == 0
        valid = np.concatenate([np.asarray(p.ids.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
                                for p in with_id])
        live &= valid
        keys = np.concatenate([p.key for p in with_id])
        bounds = np.cumsum([0] + [len(p.codes) for p in with_id])
        live_idx = np.flatnonzero(live)

        def exact(idx):
            rows = live_idx[idx]
            part_of = np.searchsorted(bounds, rows, side="right") - 1
            out = []
            for r, i in zip(rows, part_of):
                p, j = with_id[i], int(r - bounds[i])
                out.append((p.ids[j].as_py(), p.dates.start[j] if p.dates else None,
                            p.offence[j].as_py() if p.offence is not None else None))
            return out

        dup = np.zeros(len(codes), dtype=bool)
        dup[live_idx[repeated(keys[live], exact)]] = True
        _scatter(with_id, dup, "duplicate")
    if resolution == "datetime":
        # timestamped rows without an id: duplicates only when every original cell repeats
        live = np.concatenate([(p.codes == 0) & (np.ones(len(p.codes), bool) if p.ids is None else
                                                 np.asarray(p.ids.is_null().to_numpy(zero_copy_only=False), bool))
                               for p in parts])
        keys = np.concatenate([_row_hash(p) for p in parts])
        bounds = np.cumsum([0] + [len(p.codes) for p in parts])
        live_idx = np.flatnonzero(live)

        def cells(idx):
            rows = live_idx[idx]
            part_of = np.searchsorted(bounds, rows, side="right") - 1
            return [tuple(parts[i].raw.table.slice(int(r - bounds[i]), 1).to_pylist()[0].items())
                    for r, i in zip(rows, part_of)]

        dup = np.zeros(len(live), dtype=bool)
        dup[live_idx[repeated(keys[live], cells)]] = True
        _scatter(parts, dup, "duplicate")


def _row_hash(p) -> np.ndarray:
    """Hash of all of a row's original cells (names included), for exact-duplicate search."""
    h = np.zeros(p.raw.table.num_rows, dtype=np.uint64)
    for name, col in zip(p.raw.table.column_names, p.raw.table.columns):
        text = col if pa.types.is_string(col.type) else pc.cast(col, pa.string())
        h = (h * np.uint64(0x100000001B3)) ^ hash_text(text) ^ hash_text(pa.array([name]))[0]
    return h


def _scatter(parts: list, mask: np.ndarray, reason: str) -> None:
    off = 0
    for p in parts:
        n = len(p.codes)
        mark(p.codes, mask[off:off + n], reason)
        off += n
