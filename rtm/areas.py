"""Study areas: boundary polygons dissolved into named districts or towns.

LSOA-style names (``Southend-on-Sea 003A``) are grouped by the text before the code, so
one LSOA boundary file gives the 14 Essex districts; any other field is grouped by value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import coords
from .errors import InputError, setting_error
from .geometry import POLYGON, repair
from .load_report import LoadReport, reason_code
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
    least 90% of values look like LSOA names)."""
    text = values.astype("string").str.strip()
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


def _check_extent(name: str, bounds) -> None:
    """Refuse a study area wider than :data:`MAX_EXTENT_DEGREES` (every incident would be
    gridded over a continent or rejected as outside)."""
    w, h = bounds[2] - bounds[0], bounds[3] - bounds[1]
    if not (np.isfinite(w) and np.isfinite(h)) or max(w, h) > MAX_EXTENT_DEGREES:
        raise InputError(name, f"the study area spans {w:.0f} degrees of longitude and {h:.0f} of latitude, "
                         "far more than a police force area (a world-sized polygon or a wrong coordinate system)",
                         "give the district or force boundaries, and check that the file's coordinate "
                         "system matches its coordinates")


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
        No polygons, an unknown field, no CRS declared and none given.
    """
    entries = expand_inputs([path])
    vectors = [e for e in entries if e.suffixes.endswith((".geojson", ".json", ".gpkg", ".shp", ".fgb", ".gml"))]
    if not vectors:
        raise InputError(path, "the boundary file is not a map layer",
                         "give the areas as GeoJSON, GeoPackage, Shapefile or FlatGeobuf polygons")
    raw = read_vector(vectors[0])
    report = LoadReport(kind="areas")
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
    if field:
        match = {c.lower(): c for c in columns}.get(field.lower())
        if match is None:
            raise InputError(raw.name, f"the field '{field}' is not in the file (fields: {', '.join(columns)})",
                             "choose one of the listed fields as the district name field", field=field)
        names, how = group_names(raw.table.column(match).to_pandas(), group)
        names = names.to_numpy(dtype=object)
        blank = pd.isna(names) | (pd.Series(names).astype(str).str.len() == 0).to_numpy()
        codes[(codes == 0) & blank] = reason_code("missing_name")
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
    b = gdf.to_crs(coords.WGS84).total_bounds
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
