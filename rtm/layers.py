"""Attractor layers: points, lines or polygons of places that may raise risk (pubs, bars,
bus stops, ...), read from any vector format or a CSV with coordinates, optionally picked
out of a mixed file by a filter, repaired, accounted for and projected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from . import coords
from .areas import Areas
from .errors import InputError
from .filters import apply_filter
from .geometry import LINE, POINT, POLYGON, kinds, repair
from .layouts import ColumnMap, detect_layout
from .points import table_points
from .load_report import LoadReport, mark
from .sources import expand_inputs, read_entry


@dataclass
class Layer:
    """One attractor layer in the working CRS.

    Attributes
    ----------
    name : str
    frame : geopandas.GeoDataFrame
        One row per feature (multipoints are split into points), with ``source_row``.
    kind : str
        ``point``, ``line``, ``polygon`` or ``mixed``.
    report : LoadReport
    where : str or None
        The filter that selected the features.
    """

    name: str
    frame: gpd.GeoDataFrame
    kind: str
    report: LoadReport = field(default_factory=lambda: LoadReport(kind="layer"))
    where: str | None = None

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def crs(self):
        return self.frame.crs


def load_layer(path, *, name: str | None = None, where: str | None = None, crs=None,
               working_crs=None, mapping: ColumnMap | None = None, areas: Areas | None = None,
               buffer_m: float = 0.0) -> Layer:
    """Read an attractor layer.

    Parameters
    ----------
    path : str or Path
        GeoJSON, GeoPackage, Shapefile (or zipped), FlatGeobuf, Parquet or CSV with
        coordinate columns.
    name : str, optional
        Layer name (default: the file name without suffix).
    where : str, optional
        Filter selecting rows of a mixed file, e.g. ``"fclass = pub"``
        (see :mod:`rtm.filters`). Rows it excludes are counted as ``not_selected``.
    crs : CRS-like, optional
        CRS of the coordinates when the file does not say.
    working_crs : CRS-like, optional
        Metric CRS to project to (default: from the data, or the areas' CRS).
    mapping : ColumnMap, optional
        Coordinate columns for CSV input (guessed from common names otherwise).
    areas : Areas, optional
        With ``buffer_m``, features farther than ``buffer_m`` metres from the study area
        are rejected as ``outside_study_area`` (attractors just outside still matter).

    Returns
    -------
    Layer

    Notes
    -----
    Invalid polygons are repaired with ``shapely.make_valid``; features that cannot be
    repaired, empty or missing geometries are rejected with their reason. Costs one pass
    over the features plus a spatial predicate per feature when ``areas`` is given.
    """
    entries = expand_inputs([path])
    if len(entries) != 1:
        raise InputError(path, f"a layer must be one file, not {len(entries)}", "name one file per layer")
    raw = read_entry(entries[0])
    layer_name = name or Path(str(path)).name.split(".")[0]
    report = LoadReport(kind=f"layer {layer_name}")
    report.sources.append({"name": raw.name, "rows": raw.num_rows, "sha256": raw.sha256,
                           "layout": "vector" if raw.geometry is not None else "table"})
    codes = np.zeros(raw.table.num_rows, dtype=np.int8)
    if where:
        mark(codes, ~apply_filter(raw.table, where, raw.name), "not_selected")
        report.notes.append(f"selected with filter: {where}")
    if raw.geometry is not None:
        geoms, repaired = repair(raw.geometry, codes, (POINT, LINE, POLYGON))
        if repaired:
            report.notes.append(f"{repaired} invalid geometries were repaired")
        src_crs = coords.to_crs(raw.crs) if raw.crs else (coords.to_crs(crs) if crs else None)
        if src_crs is None:
            raise InputError(raw.name, "the file does not say which coordinate system it is in",
                             "add the .prj file next to the shapefile, or declare its CRS (e.g. EPSG:27700)")
        how = "declared by the file" if raw.crs else "declared"
    else:
        layout = detect_layout(raw.name, raw.table.column_names, mapping)
        x, y, src_crs, how = table_points(raw, layout.columns, codes, crs, layout.crs, layout.crs_how)
        geoms = np.where(codes == 0, shapely.points(np.nan_to_num(x), np.nan_to_num(y)), None)
    keep = codes == 0
    frame = gpd.GeoDataFrame({"source_row": raw.row_lines()[keep]}, geometry=list(geoms[keep]), crs=src_crs)
    for c in raw.table.column_names:
        if c.lower() not in ("geometry", "wkb_geometry"):
            frame[c] = raw.table.column(c).filter(keep).to_pandas().to_numpy()
    if working_crs is None and areas is not None:
        working_crs = areas.crs
    if working_crs is None:
        b = frame.to_crs(coords.WGS84).total_bounds if len(frame) else np.array([0, 51.5, 0, 51.5])
        work, _ = coords.working_crs_for(np.array([(b[0] + b[2]) / 2]), np.array([(b[1] + b[3]) / 2]),
                                         coords.WGS84)
    else:
        work = coords.to_crs(working_crs)
    frame = frame.to_crs(work)
    if areas is not None:
        zone = areas.to_crs(work).zone(buffer_m)
        shapely.prepare(zone)
        inside = shapely.intersects(zone, frame.geometry.values)
        rows = np.flatnonzero(keep)
        mark(codes, np.isin(np.arange(len(codes)), rows[~inside]), "outside_study_area")
        frame = frame[inside]
    # multipoints become single points so distances and densities count each place once
    n_features = len(frame)
    frame = frame.explode(index_parts=False).reset_index(drop=True)
    if len(frame) != n_features:
        report.notes.append(f"multipart features were split: {n_features:,} features became {len(frame):,} parts")
    wkb = shapely.to_wkb(frame.geometry.values)
    repeats = len(wkb) - len(np.unique(wkb)) if len(wkb) else 0
    if repeats:  # kept (two bars may share a building's point), but a file appended twice doubles a density
        report.notes.append(f"{repeats:,} features have exactly the geometry of another feature of the layer "
                            "(each counts in densities); if they are the same place listed twice, remove the copies")
    report.set_counts(codes)
    report.crs_in, report.crs_how, report.crs_working = src_crs.to_string(), how, work.to_string()
    k = set(kinds(frame.geometry.values)) - {""}
    kind = k.pop() if len(k) == 1 else ("mixed" if k else "empty")
    if len(frame) == 0:
        raise InputError(raw.name, f"no features are left for layer '{layer_name}' "
                         f"({', '.join(f'{r} {n}' for r, n in report.rejected.items()) or 'the file is empty'})",
                         "check the filter and that the file covers the study area")
    return Layer(layer_name, frame, kind, report, where)
