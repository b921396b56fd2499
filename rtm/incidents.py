"""Loading incidents so that nothing is lost: every row is used or rejected with a reason.

``load_incidents`` reads police.uk street CSVs (a file, a folder of monthly files or the
downloaded zip), police.uk API extracts, generic CSV/Parquet tables with a column mapping,
and point vector files. It returns :class:`Incidents`: the used rows in the metric
working CRS, the rejected rows with their reasons, and a :class:`~rtm.load_report.LoadReport`
whose counts add up to the input rows. Each file is read and checked here; the used rows,
rejects and report are put together in :mod:`rtm.incident_frame`.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import coords, dates, incident_frame
from .arrow_memory import use_jemalloc
from .duplicates import mark_duplicates
from .errors import InputError
from .hashing import hash_text
from .layouts import ColumnMap, Layout, detect_layout, policeuk_columns
from .points import column, table_points
from .rejects import LazyRejects, rejects_csv
from .load_report import LoadReport, mark
from .sources import LoadLimits, RawTable, expand_inputs, read_entry
from .textcols import blank_to_null, categories
from .weights import MAX_WEIGHT, HarmWeights

if TYPE_CHECKING:  # geopandas (0.8 s to import) is needed only when areas are given
    from .areas import Areas

Progress = Callable[[int, int, str], None]
RESOLUTION_ORDER = {"datetime": 0, "day": 1, "month": 2, "none": 3}
#: The widest area tolerance accepted: beyond it a point is not "just outside" a district.
MAX_AREA_TOLERANCE_M = 10_000.0


@dataclass
class Incidents:
    """Validated incidents in a metric CRS, with their accounting.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per used incident: ``incident_id``, ``date_start``, ``date_end`` (the
        period ``[start, end)`` at the data's resolution; equal for timestamps),
        ``offence_type``, ``weight`` (harm), ``x``, ``y`` (working CRS, metres),
        ``location``, ``lsoa_code``, ``lsoa_name``, ``district`` (when areas were given),
        ``source_file``, ``source_row``.
    crs : pyproj.CRS
        The working CRS of ``x``/``y``.
    resolution : str
        ``"month"``, ``"day"``, ``"datetime"`` or ``"none"`` (undated).
    report : LoadReport
    rejects : pandas.DataFrame
        Rejected rows: ``file``, ``row``, ``reason``, ``advice`` and the original columns.
        Built when first used: the police.uk columns the loader does not parse are read
        again from the files then (see :class:`rtm.rejects.Pending`); the report's counts
        never need them.
    """

    frame: pd.DataFrame
    crs: object
    resolution: str
    report: LoadReport
    _rejects: object  # a DataFrame, or rtm.rejects.LazyRejects until first used

    @property
    def rejects(self) -> pd.DataFrame:
        if isinstance(self._rejects, LazyRejects):
            self._rejects = self._rejects.frame()
        return self._rejects

    def __len__(self) -> int:
        return len(self.frame)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, crs, resolution: str | None = None) -> "Incidents":
        """Incidents made in code rather than loaded (tests, benchmarks, replays): ``frame``
        with at least ``x``, ``y`` in ``crs`` and, when dated, ``date_start``/``date_end``;
        ``weight`` defaults to 1. The report counts every row as used (nothing was read).
        ``resolution`` defaults to ``datetime`` for dated frames, else ``none``."""
        frame = frame if "weight" in frame else frame.assign(weight=1.0)
        dated = "date_start" in frame and frame["date_start"].notna().any()
        resolution = resolution or ("datetime" if dated else "none")
        report = LoadReport(rows_in=len(frame), rows_used=len(frame), crs_working=str(crs),
                            date_resolution=resolution, notes=["made in code, not loaded from files"])
        empty = pd.DataFrame(columns=["file", "row", "reason", "advice"])
        return cls(frame, crs, resolution, report, empty)

    def to_geodataframe(self):
        """The used incidents as a GeoDataFrame of points (builds the geometry: ~0.3 s/million)."""
        import geopandas as gpd

        return gpd.GeoDataFrame(self.frame, geometry=gpd.points_from_xy(self.frame["x"], self.frame["y"]),
                                crs=self.crs)

    def rejects_csv(self) -> bytes:
        """The rejected rows as CSV bytes, formula-safe for Excel (see :func:`rtm.rejects.rejects_csv`)."""
        return rejects_csv(self.rejects)

    def write_rejects(self, path) -> int:
        """Write the rejected rows with their reasons and every original column to a CSV
        that Excel opens without evaluating formulas; returns the row count.

        Raises
        ------
        InputError
            The file cannot be written.
        """
        try:
            Path(path).write_bytes(self.rejects_csv())
        except OSError as exc:
            raise InputError(path, f"the rejected rows cannot be written ({exc.strerror})",
                             "choose a file in a folder you can write to") from None
        return len(self.rejects)


@dataclass
class _Part:
    """One file's rows after reading and interpretation, before the global checks."""

    raw: RawTable
    layout: Layout
    x: np.ndarray
    y: np.ndarray
    codes: np.ndarray  # int8 reason per parsed row; 0 = used so far
    crs: object = None
    crs_how: str = ""
    dates: dates.ParsedDates | None = None
    offence: pa.Array | None = None
    ids: pa.Array | None = None
    weights: np.ndarray | None = None
    district: np.ndarray | None = None
    key: np.ndarray | None = None  # hash of (id, period, offence type) for duplicate search
    near_area: int = 0  # points kept by the area tolerance
    unknown: dict | None = None  # offence types not in the weights table -> rows


def _interpret(raw: RawTable, mapping: ColumnMap | None, crs, dayfirst: bool, span: dates.DateRange) -> _Part:
    """Per-file work (runs in a thread): layout, coordinates, CRS, dates, ids, offence."""
    # the whole header (a police.uk table holds only the columns parsed), for its notes on look-alike names
    layout = detect_layout(raw.name, raw.names or raw.table.column_names, mapping, raw.geometry is not None)
    cmap = layout.columns
    n = raw.table.num_rows
    codes = np.zeros(n, dtype=np.int8)
    x, y, crs_in, crs_how = table_points(raw, cmap, codes, crs, layout.crs, layout.crs_how)  # (0, 0) rejected there
    part = _Part(raw, layout, x, y, codes, crs_in, crs_how)
    if cmap.date:
        part.dates = dates.parse_dates(column(raw, cmap.date), dayfirst=dayfirst, span=span,
                                       date_format=mapping.date_format if mapping else None)
        mark(codes, part.dates.missing, "missing_date")
        mark(codes, part.dates.unparseable, "unparseable_date")
        mark(codes, part.dates.implausible, "implausible_date")
    if cmap.offence:
        part.offence = categories(column(raw, cmap.offence))
        if layout.offence_names:
            words = [layout.offence_names.get(w, w) for w in part.offence.dictionary.to_pylist()]
            part.offence = categories(pa.DictionaryArray.from_arrays(part.offence.indices, pa.array(words, pa.string())))
    elif cmap.offence_value:
        part.offence = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)),
                                                      pa.array([cmap.offence_value], pa.string()))
    if cmap.id:
        part.ids = blank_to_null(column(raw, cmap.id))
        part.key = hash_text(part.ids)
        if part.offence is not None:
            part.key ^= hash_text(part.offence) * np.uint64(0x9E3779B97F4A7C15)
        if part.dates is not None:
            part.key ^= part.dates.start.view(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
    if cmap.weight:
        w = coords.parse_numbers(column(raw, cmap.weight))
        part.weights = w.values
        with np.errstate(invalid="ignore"):
            bad = w.missing | w.non_numeric | ~np.isfinite(w.values) | (w.values < 0) | (w.values > MAX_WEIGHT)
        mark(codes, bad, "invalid_weight")
    return part


def load_incidents(paths, *, mapping: ColumnMap | None = None, crs=None, working_crs=None,
                   weights: HarmWeights | None = None, areas: Areas | None = None,
                   area_tolerance_m: float = 0.0, dayfirst: bool = True, today=None, threads: int = 2,
                   progress: Progress | None = None, limits: LoadLimits | None = None,
                   date_range: dates.DateRange | None = None) -> Incidents:
    """Read, validate, weight and project incidents, accounting for every row.

    Parameters
    ----------
    paths : str, Path or list of them
        Files, folders (searched recursively) or zips.
    mapping : ColumnMap, optional
        Column roles for generic tables; police.uk layouts are recognised without one.
    crs : CRS-like, optional
        CRS of the input coordinates; inferred from their ranges when omitted.
    working_crs : CRS-like, optional
        Metric CRS to project to; by default EPSG:27700 in Great Britain, else local UTM.
    weights : HarmWeights, optional
        Harm weights and unknown-type policy; default the packaged CCHI table, rejecting
        unknown types.
    areas : Areas, optional
        Study area: rows outside are rejected, the rest get their ``district``.
    area_tolerance_m : float
        Points this close outside the areas are kept and given the nearest district
        (see :meth:`rtm.areas.Areas.locate`); the report counts them.
    dayfirst : bool
        Read ``dd/mm/yyyy`` (True) or ``mm/dd/yyyy`` dates.
    today : date-like, optional
        The date after which dates count as in the future (default: now).
    threads : int
        Files read at once. Each file is parsed on one core.
    progress : callable(done, total, name), optional
        Called after each file is read.
    limits : LoadLimits, optional
        Largest decompressed file and most rows (defaults: 1024 MB a file, 20 million rows).
    date_range : rtm.dates.DateRange, optional
        Plausible dates (default :func:`rtm.dates.plausible_range` of ``today``: 1900 to
        one year ahead); rows dated outside are rejected as ``implausible_date``.

    Returns
    -------
    Incidents

    Raises
    ------
    InputError
        For a file that cannot be used at all (missing, empty, not a table, a required
        column missing, coordinates in an unknown or contradictory CRS).

    Notes
    -----
    Checks run in the order of :data:`rtm.load_report.REASONS`; a row gets the first reason
    that applies. A file whose bytes repeat an earlier file is rejected whole as
    ``duplicate``. Rows with an id repeat when id, period and offence type repeat; rows
    without an id only when they are timestamped and every original cell repeats
    (police.uk publishes anti-social behaviour without ids, month-resolved and snapped to
    shared points, so identical such rows are distinct incidents and are kept). Memory:
    roughly twice the decompressed text size of the inputs; Arrow's buffers come from
    jemalloc from here on (:func:`rtm.arrow_memory.use_jemalloc`).
    """
    use_jemalloc()  # less fresh memory for the parsed text (rtm.arrow_memory)
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not 0 <= area_tolerance_m <= MAX_AREA_TOLERANCE_M:
        raise InputError("study area", f"an area tolerance of {area_tolerance_m:g} m is not a distance from 0 to "
                         f"{MAX_AREA_TOLERANCE_M:,.0f} m", "use the few metres to hundreds of metres that "
                         "generalised boundaries cut off (the samples use 150 m)", field="area_tolerance_m",
                         field_kind="setting")
    limits = limits or LoadLimits()
    span = date_range or dates.plausible_range(today)
    weights = weights or HarmWeights.cchi()
    report = LoadReport(kind="incidents", weights_scheme=weights.scheme, unknown_policy=weights.policy_text())
    entries = expand_inputs(paths, report.notes)
    total = len(entries)
    done = [0]
    rows_read = [0]
    lock = threading.Lock()

    def work(entry):
        # the row limit holds for the whole load: no file is read once the files read pass it
        if rows_read[0] > limits.max_rows:
            raise _too_many_rows(paths, rows_read[0], limits.max_rows, True)
        raw = read_entry(entry, select=policeuk_columns if mapping is None else None, limits=limits)  # see layouts
        with lock:
            rows_read[0] += raw.num_rows
            if rows_read[0] > limits.max_rows:
                raise _too_many_rows(paths, rows_read[0], limits.max_rows, done[0] + 1 < total)
        part = _interpret(raw, mapping, crs, dayfirst, span)
        done[0] += 1
        if progress:
            progress(done[0], total, entry.name)
        return part

    # The first file fixes the working CRS (from the centre of its points), so every other
    # file can be read, checked and projected in one pass on all cores.
    first = work(entries[0])
    usable = first.codes == 0
    lon, lat = coords.project(first.x[usable], first.y[usable], first.crs, coords.WGS84)
    work_crs, work_how = coords.working_crs_for(lon, lat, coords.WGS84, working_crs)
    report.crs_working = f"{work_crs.to_string()} ({work_crs.name}; {work_how})"
    if areas is not None and not areas.crs.equals(work_crs):
        areas = areas.to_crs(work_crs)
    now = np.datetime64((pd.Timestamp(today) if today is not None else pd.Timestamp.now()).to_datetime64(), "ns")

    def finish(p: _Part) -> _Part:
        p.x, p.y = coords.project(p.x, p.y, p.crs, work_crs)
        if p.dates is not None:
            mark(p.codes, p.dates.start > now, "future_date")
        if p.weights is None and (p.offence is None or weights.scheme == "count"):
            p.weights = np.ones(len(p.codes))
        elif p.weights is None:
            p.weights, known = weights.lookup(p.offence)
            mark(p.codes, np.isnan(p.weights), "unknown_offence_type")
            p.unknown = _unknown_types(p.offence, known)
        if areas is not None:
            p.district = areas.locate(p.x, p.y)
            if area_tolerance_m > 0:
                out = np.flatnonzero(p.district < 0)
                p.district[out] = areas.locate(p.x[out], p.y[out], area_tolerance_m)
                p.near_area = int((p.district[out] >= 0).sum())
            mark(p.codes, p.district < 0, "outside_study_area")
        return p

    rest = entries[1:]
    if threads > 1 and len(rest) > 1:
        with ThreadPoolExecutor(threads) as pool:
            parts = [finish(first)] + list(pool.map(lambda e: finish(work(e)), rest))
    else:
        parts = [finish(first)] + [finish(work(e)) for e in rest]

    for p in parts:
        for name, n in (p.unknown or {}).items():
            report.unknown_types[name] = report.unknown_types.get(name, 0) + n
        report.notes.extend(p.raw.notes)
        report.notes.extend(p.layout.notes or [])
        report.sources.append({"name": p.raw.name, "rows": p.raw.num_rows, "sha256": p.raw.sha256,
                               "layout": p.layout.name})
    crs_list = sorted({p.crs.to_string() for p in parts})
    report.crs_in = crs_list[0] if len(crs_list) == 1 else "several: " + ", ".join(crs_list)
    report.crs_how = first.crs_how
    resolutions = {p.dates.resolution if p.dates else "none" for p in parts} - {"unknown"}
    resolution = max(resolutions, key=RESOLUTION_ORDER.get) if resolutions else "none"
    if len(resolutions) > 1:
        report.notes.append(f"files have different date resolutions ({', '.join(sorted(resolutions))}); "
                            f"all are treated as {resolution}")
    near = sum(p.near_area for p in parts)
    if near:
        report.notes.append(f"{near:,} points up to {area_tolerance_m:g} m outside the study area were "
                            "given the nearest district (area tolerance)")
    if weights.scheme != "count" and all(p.offence is None and p.layout.columns.weight is None for p in parts):
        report.notes.append("no offence type or weight column: every incident weighs 1 (count)")
        report.weights_scheme = "count"

    mark_duplicates(parts, resolution, report.notes)
    frame, rejects = incident_frame.assemble(parts, report, resolution, areas, threads)
    return Incidents(frame, work_crs, resolution, report, rejects)


def _too_many_rows(paths: list, rows: int, limit: int, more: bool) -> InputError:
    """The load's row limit passed: names the inputs as the user gave them."""
    names = ", ".join(Path(p).name for p in paths[:3]) + (" ..." if len(paths) > 3 else "")
    held = f"hold at least {rows:,} rows" if more else f"hold {rows:,} rows"
    return InputError("", f"the inputs ({names}) {held}, more than the limit of {limit:,} rows", "if the data is "
                      "genuine, raise max_rows, or load fewer months", field="max_rows", field_kind="setting")


def _unknown_types(offence: pa.DictionaryArray, known: np.ndarray) -> dict:
    """Offence types not in the weights table -> their row counts (most first)."""
    if known.all():
        return {}
    codes = pc.fill_null(offence.indices, -1).to_numpy(zero_copy_only=False)[~known]
    words = offence.dictionary.to_pylist()
    counts = np.bincount(codes + 1, minlength=len(words) + 1)
    out = {("(blank)" if i == 0 else words[i - 1]): int(c) for i, c in enumerate(counts) if c}
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))
