"""Which column means what: the police.uk layouts and generic column mappings.

A :class:`ColumnMap` names the source columns for each role. police.uk street CSVs (both
the original ``Crime ID,Month,...`` header and the snake_case variant) and flattened
police.uk API extracts are recognised by their headers; other tables use a mapping the
user gives, with unset roles guessed from common column names (and the guess reported).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from functools import lru_cache

from .coords import WGS84
from .errors import InputError

#: police.uk API category slugs -> the category names of the street CSVs.
POLICEUK_SLUGS = {
    "anti-social-behaviour": "Anti-social behaviour",
    "bicycle-theft": "Bicycle theft",
    "burglary": "Burglary",
    "criminal-damage-arson": "Criminal damage and arson",
    "drugs": "Drugs",
    "other-theft": "Other theft",
    "possession-of-weapons": "Possession of weapons",
    "public-order": "Public order",
    "robbery": "Robbery",
    "shoplifting": "Shoplifting",
    "theft-from-the-person": "Theft from the person",
    "vehicle-crime": "Vehicle crime",
    "violent-crime": "Violence and sexual offences",
    "other-crime": "Other crime",
}

_GUESSES = {
    "id": ["incident_id", "crime_id", "id", "case_number", "reference", "urn"],
    "date": ["datetime", "date_time", "date", "occurred", "timestamp", "month", "time"],
    "lon": ["longitude", "lon", "lng", "long"],
    "lat": ["latitude", "lat"],
    "x": ["x", "easting", "x_coordinate", "xcoord", "east"],
    "y": ["y", "northing", "y_coordinate", "ycoord", "north"],
    "offence": ["offence_type", "offense_type", "offence", "offense", "crime_type", "category",
                "primary_type", "type"],
    "weight": ["weight", "harm", "harm_weight", "cchi"],
    "location": ["location", "street", "street_name", "address"],
}


@lru_cache(maxsize=4096)
def norm(name: str) -> str:
    """Normalise a header name: lower case, runs of non-alphanumerics become ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def by_norm(columns: list[str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Normalised name -> column, the first of the file's columns where several normalise
    alike (``Crime type`` and an added ``crime type``), and those pairs (first, other)."""
    out: dict[str, str] = {}
    clashes = []
    for c in columns:
        first = out.setdefault(norm(c), c)
        if first != c:
            clashes.append((first, c))
    return out, clashes


@dataclass(frozen=True)
class ColumnMap:
    """Source column for each role (None = not present). Names match case-insensitively.

    ``x``/``y`` are projected coordinates (declare ``crs`` or let it be inferred);
    ``lon``/``lat`` are WGS84 degrees. ``offence_value`` gives every row the same offence
    type when the table has no offence column. ``date_format`` is an explicit strptime
    format for the date column (``%d.%m.%Y %H:%M``), for formats not recognised unaided.
    """

    id: str | None = None
    date: str | None = None
    lon: str | None = None
    lat: str | None = None
    x: str | None = None
    y: str | None = None
    offence: str | None = None
    weight: str | None = None
    location: str | None = None
    lsoa_code: str | None = None
    lsoa_name: str | None = None
    offence_value: str | None = None
    date_format: str | None = None

    def roles(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("offence_value", "date_format")}


@dataclass
class Layout:
    """A recognised layout: its name, the resolved mapping, the CRS the format implies and
    a translation of offence values (police.uk API slugs)."""

    name: str
    columns: ColumnMap
    crs: object = None
    crs_how: str = ""
    offence_names: dict | None = None
    notes: list | None = None


POLICEUK_STREET = ColumnMap(id="crime_id", date="month", lon="longitude", lat="latitude",
                            offence="crime_type", location="location", lsoa_code="lsoa_code",
                            lsoa_name="lsoa_name")
#: the original police.uk street header, by normalised name
POLICEUK_HEADER = {norm(c): c for c in (
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context")}
POLICEUK_API = ColumnMap(id="persistent_id", date="date", lon="long", lat="lat",
                         offence="category", location="street_name")


#: How the police.uk columns worth parsing are parsed: months and offence types (a few
#: distinct values each) straight into dictionaries, coordinates straight into numbers (a
#: file whose coordinates do not all parse is read as text instead), the rest as text.
#: Places and LSOAs stay text: as dictionaries they hold less memory but cost as much
#: time in hashing and in pandas categories as they save (docs/benchmarks.md).
POLICEUK_TYPES = {"crime_id": "string", "month": "dictionary", "longitude": "float64", "latitude": "float64",
                  "location": "string", "lsoa_code": "string", "lsoa_name": "string", "crime_type": "dictionary"}


def policeuk_columns(columns: list[str]) -> dict[str, str] | None:
    """The columns worth parsing in a police.uk street file, with how to parse each (a kind
    of :data:`POLICEUK_TYPES`), or None for other files.

    "Reported by", "Falls within", "Last outcome category" and "Context" are never used;
    skipping them saves about a quarter of the parsing time on national extracts.
    """
    names, _ = by_norm(columns)
    if not {"crime_id", "month", "longitude", "latitude", "crime_type"} <= set(names):
        return None
    return {names[n]: kind for n, kind in POLICEUK_TYPES.items() if n in names}


def detect_layout(source: str, columns: list[str], mapping: ColumnMap | None = None,
                  has_geometry: bool = False) -> Layout:
    """Resolve which source column plays each role.

    Parameters
    ----------
    source : str
        File name for messages.
    columns : list of str
        The file's column names as read.
    mapping : ColumnMap, optional
        Roles the user set; they win over recognition and guessing.
    has_geometry : bool
        True for vector files (coordinates come from the geometry).

    Raises
    ------
    InputError
        A mapped column that is not in the file, or no coordinates at all.
    """
    named, clashes = by_norm(columns)
    found = set(named)
    user = mapping or ColumnMap()
    notes = [f"{source}: the columns '{a}' and '{b}' have one name apart from case, spaces or punctuation; "
             f"the first, '{a}', is used" for a, b in clashes]

    def column_of(col: str) -> str | None:
        return col if col in columns else named.get(norm(col))  # the exact name wins

    def resolve(cmap: ColumnMap) -> ColumnMap:
        out = {}
        for role, col in cmap.roles().items():
            out[role] = column_of(col) if col else None
        return replace(cmap, **out)

    for role, col in user.roles().items():
        if col and norm(col) not in found:
            raise InputError(source, f"the column '{col}' given for {role} is not in the file "
                             f"(columns: {', '.join(columns)})", "check the spelling in the column mapping",
                             field=col)
    # the police.uk layouts, with any role the user set taking precedence
    overrides = {role: col for role, col in user.roles().items() if col}
    if user.offence_value:
        overrides.update(offence=None, offence_value=user.offence_value)
    projected = bool(user.x or user.y)  # the user points at projected x/y columns instead
    if projected:
        overrides.update(lon=None, lat=None)
    crs, how = (None, "") if projected else (WGS84, "police.uk files are WGS84 longitude/latitude")
    if {"crime_id", "month", "longitude", "latitude", "crime_type"} <= found:
        return Layout("police.uk street", resolve(replace(POLICEUK_STREET, **overrides)), crs, how, notes=notes)
    if {"category", "date", "lat", "long"} <= found and ({"persistent_id", "street_name"} & found):
        return Layout("police.uk API", resolve(replace(POLICEUK_API, **overrides)), crs, how,
                      offence_names=POLICEUK_SLUGS, notes=notes)

    roles = {role: (column_of(col) if col else None) for role, col in user.roles().items()}
    coords_set = bool(roles["lon"] or roles["x"])
    for role, names in _GUESSES.items():
        if roles.get(role):
            continue
        if role in ("lon", "lat", "x", "y") and (coords_set or has_geometry):
            continue
        hit = next((named[n] for n in names if n in named and named[n] not in roles.values()), None)
        if hit is not None:
            roles[role] = hit
            notes.append(f"{source}: took column '{hit}' as {role}")
    if roles["lon"] and roles["lat"]:
        roles["x"] = roles["y"] = None
    cmap = replace(user, **roles)
    if not has_geometry and not ((cmap.lon and cmap.lat) or (cmap.x and cmap.y)):
        raise InputError(source, f"no coordinate columns found (columns: {', '.join(columns)})",
                         "name the coordinate columns in the column mapping (lon and lat, or x and y)",
                         field="coordinates")
    crs, how = (WGS84, "longitude/latitude columns") if cmap.lon else (None, "")
    return Layout("vector" if has_geometry else "table", cmap, crs, how, notes=notes)
