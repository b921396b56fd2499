"""Study areas: boundary polygons dissolved into named districts or towns.

LSOA-style names (``Southend-on-Sea 003A``) are grouped by the text before the code, so
one LSOA boundary file gives the 14 Essex districts; any other field is grouped by value.
Names are compared without surrounding spaces and without regard to case, so ``North`` and
``north `` are one district; a polygon with no name is refused, not dropped (its incidents
would otherwise be lost as "outside the study area").
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import coords
from .errors import InputError, setting_error
from .geometry import POLYGON, repair
from .load_report import LoadReport
from .sources import expand_inputs, read_vector

LSOA_SUFFIX = re.compile(r"\s+\d{3}[A-Z]$")


@dataclass
class Areas:
    """Named districts as dissolved polygons in a metric CRS.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        Columns ``name`` and ``geometry``, one row per district, sorted by name.
    report : LoadReport
        Accounting for the boundary file's features.
    """

    frame: gpd.GeoDataFrame
    report: LoadReport = field(default_factory=lambda: LoadReport(kind="areas"))

    @property
    def crs(self):
        return self.frame.crs

    @property
    def names(self) -> list[str]:
        return list(self.frame["name"])

    @property
    def union(self):
        return self.zone(0.0)

    def zone(self, buffer_m: float = 0.0):
        """The union of the districts, widened by ``buffer_m`` metres; made once per width
        (the frame is not expected to change after loading)."""
        zones = self.__dict__.setdefault("_zones", {})
        if buffer_m not in zones:
            union = shapely.union_all(self.frame.geometry.values)
            zones[buffer_m] = shapely.buffer(union, buffer_m) if buffer_m else union
        return zones[buffer_m]

    def to_crs(self, crs) -> "Areas":
        """The areas in ``crs`` (this object itself when already there)."""
        if self.crs is not None and self.crs.equals(crs):
            return self
        return Areas(self.frame.to_crs(crs), self.report)

    def select(self, names) -> "Areas":
        """Keep only the named districts (raises InputError naming any unknown one)."""
        names = [names] if isinstance(names, str) else list(names)
        unknown = [n for n in names if n not in self.names]
        if unknown:
            raise setting_error("area_select", f"no district is called '{unknown[0]}'",
                                f"choose from: {', '.join(self.names)}")
        return Areas(self.frame[self.frame["name"].isin(names)].reset_index(drop=True), self.report)

    def locate(self, x: np.ndarray, y: np.ndarray, tolerance_m: float = 0.0) -> np.ndarray:
        """Index (into :attr:`names`) of the district each point falls in; -1 outside all.

        Parameters
        ----------
        x, y : ndarray
            Coordinates in the areas' CRS.
        tolerance_m : float
            Points outside every district but within this distance of one are given the
            nearest district. Generalised boundaries cut off coastlines and police.uk snap
            points sit on streets at the edge, so a tolerance of 100-150 m keeps, for
            example, Southend's seafront.

        Notes
        -----
        One prepared ``intersects_xy`` test per district over the points inside its
        bounding box; boundary points count as inside (first district wins). The tolerance
        adds one nearest-geometry query per point left outside.
        """
        out = np.full(len(x), -1, dtype=np.int32)
        for i, geom in enumerate(self.frame.geometry.values):
            shapely.prepare(geom)
            minx, miny, maxx, maxy = geom.bounds
            cand = np.flatnonzero((out < 0) & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
            if cand.size:
                hit = shapely.intersects_xy(geom, x[cand], y[cand])
                out[cand[hit]] = i
        if tolerance_m > 0:
            rest = np.flatnonzero((out < 0) & np.isfinite(x) & np.isfinite(y))
            if rest.size:
                tree = shapely.STRtree(self.frame.geometry.values)
                pts, near = tree.query_nearest(shapely.points(x[rest], y[rest]), max_distance=tolerance_m,
                                               all_matches=False)
                out[rest[pts]] = near
        return out


def group_names(values: pd.Series, group: str = "auto") -> tuple[pd.Series, str]:
    """District names from a field: ``value`` as is, ``prefix`` without an LSOA-style
    code (``Southend-on-Sea 003A`` -> ``Southend-on-Sea``), or ``auto`` (prefix when at
    least 90% of values look like LSOA names).

    Takes the field's values (text or numbers; whole numbers stored as decimals give
    ``3``, not ``3.0``) and returns ``(names, how)``: the names as text without surrounding
    spaces and with runs of spaces made one (missing values stay missing), and the grouping
    used, ``"prefix"`` or ``"value"``.
    """
    if pd.api.types.is_float_dtype(values):
        finite = values[np.isfinite(values)]
        if len(finite) and (finite == np.round(finite)).all() and np.abs(finite).max() < 2**53:
            values = values.round().astype("Int64")
    text = values.astype("string").str.replace(r"\s+", " ", regex=True).str.strip()
    if group == "auto":
        named = text.dropna()
        named = named[named.str.len() > 0]
        looks = named.str.contains(LSOA_SUFFIX).mean() if len(named) else 0.0
        group = "prefix" if looks >= 0.9 else "value"
    if group == "prefix":
        return text.str.replace(LSOA_SUFFIX, "", regex=True), "prefix"
    return text, "value"


#: The widest study area accepted, in degrees of longitude or latitude (about 2,000 km):
#: wider is a world-sized polygon or a wrong coordinate system, never a police area.
MAX_EXTENT_DEGREES = 20.0


#: The largest projected coordinate accepted, in metres: the Earth is 40,075 km round, and
#: the largest false eastings (Gauss-Kruger zone numbers put in front of the easting) stay
#: under 50,000 km. Anything beyond is not a place on the Earth.
MAX_PROJECTED_M = 1e8

_FIX_CRS = ("check that the file's coordinate system matches its coordinates: open it in your GIS, check "
            "that it lies where it should, and save it again with the right coordinate system")


def _span(lo: float, hi: float) -> str:
    return f"{lo:.10g} to {hi:.10g}"


def _to_wgs84_bounds(name: str, gdf: gpd.GeoDataFrame) -> np.ndarray:
    """The longitude/latitude bounds ``[west, south, east, north]`` of ``gdf`` (in its own
    CRS), refusing coordinates that cannot be a place on the Earth in that CRS.

    Raises
    ------
    InputError
        Coordinates that are not finite, outside longitude/latitude ranges for a geographic
        CRS or beyond :data:`MAX_PROJECTED_M` for a projected one, or that the CRS cannot
        turn into longitude and latitude.
    """
    crs = gdf.crs
    b = np.asarray(shapely.total_bounds(gdf.geometry.values), dtype=float)
    where = f"x from {_span(b[0], b[2])} and y from {_span(b[1], b[3])}"
    if crs.is_geographic:
        bad = not np.isfinite(b).all() or b[0] < -360 or b[2] > 360 or b[1] < -90.000001 or b[3] > 90.000001
        limit = "longitudes from -180 to 180 (or 0 to 360) and latitudes from -90 to 90"
    else:
        unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
        bad = not np.isfinite(b).all() or np.abs(b).max() * (unit or 1.0) > MAX_PROJECTED_M
        limit = f"coordinates within {MAX_PROJECTED_M / 1000:,.0f} km of its origin"
    if bad:
        raise InputError(name, f"the polygons' coordinates ({where}) are outside any plausible range for "
                         f"{crs.name} ({limit}): they are not a place on the Earth", _FIX_CRS)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.asarray(gdf.to_crs(coords.WGS84).total_bounds, dtype=float)
    if not np.isfinite(out).all():
        raise InputError(name, f"the polygons' coordinates ({where}) lie outside the part of the Earth that "
                         f"{crs.name} can describe, so they cannot be turned into longitude and latitude",
                         _FIX_CRS)
    return out


def _check_extent(name: str, bounds) -> None:
    """Refuse a study area wider than :data:`MAX_EXTENT_DEGREES` (every incident would be
    gridded over a continent or rejected as outside); ``bounds`` are finite longitude and
    latitude bounds (:func:`_to_wgs84_bounds`)."""
    w, h = bounds[2] - bounds[0], bounds[3] - bounds[1]
    if max(w, h) > MAX_EXTENT_DEGREES:
        raise InputError(name, f"the study area spans {w:.0f} degrees of longitude and {h:.0f} of latitude, "
                         "far more than a police force area (a world-sized polygon or a wrong coordinate system)",
                         "give the district or force boundaries, and check that the file's coordinate "
                         "system matches its coordinates")


def _choose_layer(entry) -> tuple[str | None, str | None]:
    """The layer of a boundary file to read: ``(None, None)`` for a file with one layer
    (or one pyogrio cannot list, left to :func:`rtm.sources.read_vector` to report), else
    ``(layer, note)`` for the only layer that holds polygons.

    Raises
    ------
    InputError
        Several layers and not exactly one of them with polygons; the message lists the
        layers and their geometry.
    """
    import pyogrio

    path = f"/vsizip/{entry.path}/{entry.member}" if entry.member else str(entry.path)
    try:
        layers = [(str(n), str(t) if t else "no geometry") for n, t in pyogrio.list_layers(path)]
    except Exception:  # unreadable: read_vector says so in its own words
        return None, None
    if len(layers) < 2:
        return None, None
    polygons = [n for n, t in layers if "polygon" in t.lower()]
    if not polygons:  # a layer of mixed or undeclared geometry may still hold polygons
        polygons = [n for n, t in layers if t.lower() in ("unknown", "geometry", "geometrycollection")]
    if len(polygons) == 1:
        others = ", ".join(f"'{n}'" for n, _ in layers if n != polygons[0])
        return polygons[0], f"the file has {len(layers)} layers; read '{polygons[0]}', its only polygon layer " \
                            f"(not read: {others})"
    listed = ", ".join(f"'{n}' ({t})" for n, t in layers)
    problem = (f"the file holds {len(layers)} layers and " +
               ("none of them holds polygons" if not polygons else
                f"{len(polygons)} of them hold polygons, so it is not clear which is the study area") +
               f" (layers: {listed})")
    raise InputError(entry.name, problem,
                     "save the layer with the district boundaries alone as its own file (in QGIS: right-click "
                     "the layer, Export, Save Features As) and give that file" if polygons else
                     "give the study area as polygons: district, town or LSOA boundaries")


def _merge_spellings(names: np.ndarray, report: LoadReport) -> np.ndarray:
    """``names`` with every spelling of a name that differs only in case replaced by its
    most common spelling (the first in the file on a tie), so ``North`` and ``north`` are
    one district; a note in ``report`` names each merge. Missing names stay missing."""
    series = pd.Series(names, dtype=object)
    present = series.dropna()
    if present.empty:
        return names
    key = present.str.casefold()
    spellings = present.groupby(key, sort=False).agg(lambda v: list(v.value_counts(sort=True).index))
    merged = {}
    for spelled in spellings:
        if len(spelled) > 1:
            for other in spelled[1:]:
                merged[other] = spelled[0]
            report.notes.append(f"names that differ only in case were taken as one district, "
                                f"'{spelled[0]}' (also written {', '.join(repr(o) for o in spelled[1:])})")
    return series.replace(merged).to_numpy(dtype=object) if merged else names


def _unnamed_error(name: str, match: str, unnamed: np.ndarray, lines: np.ndarray, n_polygons: int,
                   columns: list[str]) -> InputError:
    """The refusal of boundary polygons without a name in the field ``match``: how many,
    the first feature numbers (``lines``, 1-based) and the fix."""
    others = [c for c in columns if c != match]
    choose = f"choose another field as the district name field (fields: {', '.join(others)})" if others else \
        "add a field that names each polygon's district"
    if unnamed.sum() == n_polygons:
        return InputError(name, f"the field '{match}' is empty for every feature, so no polygon has a "
                          "district name", choose, field=match)
    n = int(unnamed.sum())
    first = ", ".join(str(int(i)) for i in lines[unnamed][:10]) + (", ..." if n > 10 else "")
    have = "polygon has" if n == 1 else "polygons have"
    return InputError(name, f"{n:,} of the {n_polygons:,} {have} no value in the field '{match}' (feature "
                      f"number{'s' if n > 1 else ''} {first}, counted from 1 in the file's order); without a "
                      "district name their incidents would be lost", f"fill in the district names in your GIS, "
                      f"or {choose}", field=match)


def load_areas(path, field: str | None = None, *, group: str = "auto", select=None,
               working_crs=None, crs=None) -> Areas:
    """Read boundary polygons and dissolve them into named districts.

    Parameters
    ----------
    path : str or Path
        Any vector file pyogrio reads (or a zipped shapefile).
    field : str, optional
        The field naming each polygon's district; without it the whole file is one area
        named after the file.
    group : {"auto", "prefix", "value"}
        How names are taken from ``field`` (see :func:`group_names`).
    select : str or list of str, optional
        Keep only these districts.
    working_crs : CRS-like, optional
        Metric CRS; by default British National Grid in Great Britain, else local UTM.
    crs : CRS-like, optional
        CRS of the file when it does not declare one.

    Raises
    ------
    InputError
        No polygons; several layers and not exactly one of polygons; an empty or unknown
        field; a polygon with no name in the field; no CRS declared and none given;
        coordinates that are not a place on the Earth; an area wider than a police force.

    Notes
    -----
    Repaired polygons, the layer read from a file of several and names merged because
    they differ only in case are noted in ``report.notes``. A district may be made of
    several polygons with the same name; they are dissolved into one.
    """
    entries = expand_inputs([path])
    vectors = [e for e in entries if e.suffixes.endswith((".geojson", ".json", ".gpkg", ".shp", ".fgb", ".gml"))]
    if not vectors:
        raise InputError(path, "the boundary file is not a map layer",
                         "give the areas as GeoJSON, GeoPackage, Shapefile or FlatGeobuf polygons")
    layer, layer_note = _choose_layer(vectors[0])
    raw = read_vector(vectors[0], layer=layer)
    report = LoadReport(kind="areas")
    if layer_note:
        report.notes.append(layer_note)
    report.sources.append({"name": raw.name, "rows": raw.num_rows, "sha256": raw.sha256, "layout": "vector"})
    codes = np.zeros(raw.num_rows, dtype=np.int8)
    geoms, repaired = repair(raw.geometry, codes, (POLYGON,))
    if not (codes == 0).any():
        kinds = sorted({str(t) for t in shapely.get_type_id(raw.geometry[~shapely.is_missing(raw.geometry)])})
        names = {"0": "points", "1": "lines", "2": "lines", "4": "points", "5": "lines",
                 "7": "geometry collections", "3": "polygons that cannot be repaired",
                 "6": "polygons that cannot be repaired"}
        held = ", ".join(dict.fromkeys(names.get(k, "other geometries") for k in kinds)) or "no geometry"
        raise InputError(raw.name, f"the file has no usable polygons (it holds {held})",
                         "give the study area as polygons: district, town or LSOA boundaries")
    if repaired:
        report.notes.append(f"{repaired} invalid polygons were repaired")
    columns = raw.table.column_names
    if field is not None:
        if not str(field).strip():
            raise InputError(raw.name, "the district name field is empty (no field name given)",
                             f"give one of the file's fields: {', '.join(columns) or 'it has none'}; or give no "
                             "field at all to make the whole file one area", field="area_field", field_kind="setting")
        match = {c.lower(): c for c in columns}.get(str(field).strip().lower())
        if match is None:
            raise InputError(raw.name, f"the field '{field}' is not in the file (fields: {', '.join(columns)})",
                             "choose one of the listed fields as the district name field", field=field)
        values = raw.table.column(match).to_pandas()
        names, how = group_names(values, group)
        names = names.to_numpy(dtype=object)
        blank = pd.isna(names) | (pd.Series(names).astype(str).str.len() == 0).to_numpy()
        usable = codes == 0
        if (usable & blank).any():
            raise _unnamed_error(raw.name, match, usable & blank, raw.lines, int(usable.sum()), columns)
        spaced = values.astype("string").fillna("")
        spaced = int((spaced != spaced.str.replace(r"\s+", " ", regex=True).str.strip())[usable].sum())
        if spaced:
            report.notes.append(f"{spaced:,} name(s) in field '{match}' had spaces around them or several "
                                "spaces in a row; they were read without them")
        names = _merge_spellings(names, report)
        report.notes.append(f"districts named by field '{match}' ({'LSOA-style names grouped by the text before the code' if how == 'prefix' else 'by value'})")
    else:
        names = np.full(raw.num_rows, str(getattr(vectors[0].path, "stem", "area")), dtype=object)
    src_crs = coords.to_crs(raw.crs) if raw.crs else (coords.to_crs(crs) if crs else None)
    if src_crs is None:
        raise InputError(raw.name, "the file does not say which coordinate system it is in",
                         "put the shapefile's .prj file next to it (or zip them together), or save the "
                         "boundaries from your GIS as a GeoPackage, which keeps its coordinate system")
    keep = codes == 0
    gdf = gpd.GeoDataFrame({"name": names[keep]}, geometry=geoms[keep], crs=src_crs)
    b = _to_wgs84_bounds(raw.name, gdf)
    _check_extent(raw.name, b)
    cx, cy = np.array([(b[0] + b[2]) / 2]), np.array([(b[1] + b[3]) / 2])
    work, _ = coords.working_crs_for(cx, cy, coords.WGS84, working_crs)
    gdf = gdf.to_crs(work)
    dissolved = gdf.groupby("name", sort=True)["geometry"].agg(lambda g: shapely.union_all(g.values))
    frame = gpd.GeoDataFrame({"name": dissolved.index.astype(str)}, geometry=list(dissolved.values), crs=work)
    report.set_counts(codes)
    report.crs_in, report.crs_how = src_crs.to_string(), "declared by the file" if raw.crs else "given"
    report.crs_working = work.to_string()
    areas = Areas(frame.reset_index(drop=True), report)
    return areas.select(select) if select else areas
