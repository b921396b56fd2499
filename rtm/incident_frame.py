"""The end of a load: the used rows of every file as one DataFrame, the rejected rows with
their reasons, and the report's counts and summaries, built from the per-file parts of
:func:`rtm.incidents.load_incidents` once their checks (duplicates across files included)
are done."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import dates
from .load_report import LoadReport, reason_code
from .points import column
from .rejects import empty as empty_rejects
from .rejects import LazyRejects, Pending, rejects_of
from .textcols import blank_to_null


def used_table(p, names: list | None) -> tuple[pa.Table, pa.Table | None, Pending | None]:
    """The used rows of one part as an Arrow table, its rejected rows (or None) and, when
    the file was parsed with only some columns, what completes those rows (or None)."""
    keep = p.codes == 0
    k = pa.array(keep)
    m = int(keep.sum())
    cmap = p.layout.columns
    lines = p.raw.row_lines()

    def text(arr):
        return pc.filter(arr, k) if arr is not None else pa.nulls(m, pa.string())

    def label(name):
        # descriptive text stays Arrow strings (pandas takes them without a copy)
        return text(blank_to_null(column(p.raw, name)) if name else None)

    def when(a):
        return pa.array(a[keep]) if p.dates else pa.nulls(m, pa.timestamp("ns"))

    cols = {
        "incident_id": text(p.ids),
        "date_start": when(p.dates.start if p.dates else None),
        "date_end": when(p.dates.end if p.dates else None),
        "offence_type": pc.filter(p.offence, k) if p.offence is not None else
        pa.DictionaryArray.from_arrays(pa.nulls(m, pa.int32()), pa.array([], pa.string())),
        "weight": pa.array(p.weights[keep].astype(float)),
        "x": pa.array(np.asarray(p.x)[keep]), "y": pa.array(np.asarray(p.y)[keep]),
        "location": label(cmap.location),
        "lsoa_code": label(cmap.lsoa_code),
        "lsoa_name": label(cmap.lsoa_name),
    }
    if names is not None:
        cols["district"] = pa.array(np.asarray(names, dtype=object)[p.district[keep]], pa.string())
    cols["source_file"] = pa.DictionaryArray.from_arrays(pa.array(np.zeros(m, np.int32)), pa.array([p.raw.name]))
    cols["source_row"] = pa.array(lines[keep])
    bad = ~keep
    rejects = rejects_of(p.raw, p.layout.name, p.codes, bad, lines) if bad.any() or p.raw.malformed else None
    pending = None
    if p.raw.reread is not None and bad.any():
        rows = np.flatnonzero(bad)
        pending = Pending(p.raw.sha256, p.raw.reread, p.layout.name, rows, p.codes[rows].copy(), len(p.codes))
    out = pa.table(cols)
    _release(p)
    return out, rejects, pending


def _release(p) -> None:
    """Drop a part's row data once its used and rejected rows are built (what the report
    still needs stays: codes, malformed rows, notes). Without this every file's parsed text
    would live until the end of the load, beside the used rows copied out of it: about a
    third of the peak memory on national extracts."""
    p.raw.table = p.raw.table.schema.empty_table()  # (a slice would keep the buffers)
    p.raw.geometry = None
    p.x = p.y = p.ids = p.offence = p.key = p.weights = p.district = None
    if p.dates is not None:
        p.dates.start = p.dates.end = None


def assemble(parts: list, report: LoadReport, resolution: str, areas, threads: int) -> tuple[pd.DataFrame, object]:
    """The used rows of every part as one DataFrame (see :class:`rtm.incidents.Incidents`)
    and the rejected rows (a DataFrame, or :class:`rtm.rejects.LazyRejects` when files must
    be read again to complete them); fills the report's counts, dates and offence types.
    Each part's row data is dropped once its rows are built. Costs about 0.3 s of CPU per
    million rows, half of it in the per-part used rows (run on ``threads`` threads)."""
    names = areas.names if areas is not None else None
    if threads > 1 and len(parts) > 1:
        with ThreadPoolExecutor(threads) as pool:
            done = list(pool.map(lambda p: used_table(p, names), parts))
    else:
        done = [used_table(p, names) for p in parts]
    tables = [d[0] for d in done]
    rejects = [d[1] for d in done if d[1] is not None]
    pending = {i: d[2] for i, d in enumerate(d for d in done if d[1] is not None) if d[2] is not None}
    table = pa.concat_tables(tables)
    table = table.unify_dictionaries()
    cats = ["district"] if names is not None else []
    for c in cats:
        i = table.schema.get_field_index(c)
        table = table.set_column(i, c, pc.dictionary_encode(table.column(c)))
    # plain text columns (the ids) stay Arrow-backed: no copy into pandas' own strings
    # self_destruct frees each Arrow column as it is converted (the table is not used after)
    frame = table.to_pandas(types_mapper={pa.string(): pd.ArrowDtype(pa.string())}.get, split_blocks=True,
                            self_destruct=True)
    del table
    codes = np.concatenate([p.codes for p in parts] +
                           [np.array([reason_code(m[2]) for m in p.raw.malformed], np.int8) for p in parts])
    report.set_counts(codes)
    report.date_resolution = resolution
    if resolution != "none" and len(frame):
        report.date_min = dates.label(frame["date_start"].min(), resolution)
        report.date_max = dates.label(frame["date_start"].max(), resolution)
    if resolution != "none" and len(frame):
        report.missing_months = dates.missing_months(frame["date_start"].to_numpy(dtype="datetime64[ns]"))
    if len(frame) > 1 and frame["x"].min() == frame["x"].max() and frame["y"].min() == frame["y"].max():
        report.notes.append(f"all {len(frame):,} used incidents are at one point: no map or model can be made "
                            "from them; check the coordinate columns (a placeholder location?)")
    if resolution == "none" and any(p.dates is not None for p in parts):
        report.notes.append("no date in the date column could be read (see the rejected rows); give its "
                            "format (date_format) if it is not one of the formats listed in docs/loading.md")
    elif resolution == "none":
        report.notes.append("no date column: rows are undated (enough for a risk terrain model, "
                            "not for weekly lists)")
    for p in parts:
        if p.dates:
            report.notes.extend(n for n in p.dates.notes if n not in report.notes)
    g = frame.groupby("offence_type", observed=True)["weight"].agg(["size", "first", "sum"]).reset_index()
    g.columns = ["offence_type", "rows", "weight", "harm"]
    report.offence_types = g.sort_values("harm", ascending=False, kind="stable").reset_index(drop=True)
    if pending:  # completed when first used (rtm.rejects.LazyRejects)
        return frame, LazyRejects(rejects, pending)
    rej = pa.concat_tables(rejects, promote_options="default").to_pandas() if rejects else empty_rejects()
    return frame, rej
