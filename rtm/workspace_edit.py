"""Writing a workspace's list settings back into its ``workspace.toml``, comments kept.

The app's List settings page saves through these calls; what they write is checked first by
the reader ``rtm weekly --workspace`` uses (:func:`rtm.workspace.load_workspace`), so a
saved config is one the weekly run accepts, and it then makes its lists with the same
settings. The file is edited with tomlkit (its comments, order and layout stay as they were)
and replaced in one step (a half-written config is never left behind).

* :class:`ListChoices` - the sizes per district, offence types and shifts as a user picks them;
* :func:`choices_from_rows` - those sizes from a table of rows (district, spots, area share);
* :func:`save_list_settings` - write them;
* :func:`read_zones` / :func:`save_exclusions` / :func:`clear_exclusions` - exclusion zones.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import InputError
from .ranking import SpotRule
from .workspace import CONFIG, Workspace, load_workspace

DEFAULT_ROW = "(every other district)"
"""The name of the table row that sizes the districts with no row of their own."""
EXCLUSIONS_FILE = "exclusions.geojson"
"""Where :func:`save_exclusions` writes the zones in the workspace (GeoJSON, longitude/latitude)."""


@dataclass(frozen=True)
class ListChoices:
    """List settings as a user picks them.

    Attributes
    ----------
    spots : int or None
        Spots in each district (the default); exactly one of ``spots`` and ``area_share``.
    area_share : float or None
        Percent of each district's area covered by its spots (the default), e.g. 2.6.
    districts : dict of str to (str, number)
        A district's own size: ``("spots", 12)`` or ``("area_share", 2.6)``.
    offences : tuple of str or None
        Offence types that make the list; None: every type.
    shifts : str or None
        Shift starts (``"07:00,19:00"``) for lists per shift; None: none.
    """

    spots: int | None = 20
    area_share: float | None = None
    districts: dict = field(default_factory=dict)
    offences: tuple | None = None
    shifts: str | None = None

    @classmethod
    def of(cls, workspace: Workspace) -> "ListChoices":
        """The choices a loaded workspace holds."""
        return cls.of_settings(workspace.job.settings,
                               None if workspace.shifts is None else ",".join(workspace.shifts.starts))

    @classmethod
    def of_settings(cls, settings, shifts: str | None = None) -> "ListChoices":
        """The choices ``settings`` (a :class:`rtm.weekly.ListSettings`) hold, with ``shifts``."""
        s = settings
        share = None if s.rule.area_share is None else round(s.rule.area_share * 100, 6)
        return cls(s.rule.top_n if s.rule.area_share is None else None, share,
                   {name: _size(rule) for name, rule in s.district_rules}, s.offences, shifts)

    def apply(self, settings):
        """``settings`` (a :class:`rtm.weekly.ListSettings`) with these sizes and offence types
        (for a session with no workspace). InputError for a size out of range."""
        merge = settings.rule.max_cells
        return replace(settings, rule=_rule(("spots", self.spots) if self.spots is not None
                                            else ("area_share", self.area_share), merge, DEFAULT_ROW),
                       district_rules=tuple((n, _rule(v, merge, n)) for n, v in self.districts.items()),
                       offences=self.offences)

    def rows(self, districts) -> list[dict]:
        """The sizes as table rows (``district``, ``spots``, ``area_share``), the default row first,
        then one per district in ``districts`` (empty cells: the default)."""
        out = [{"district": DEFAULT_ROW, "spots": self.spots, "area_share": self.area_share}]
        for name in districts:
            how, n = self.districts.get(name, (None, None))
            out.append({"district": name, "spots": n if how == "spots" else None,
                        "area_share": n if how == "area_share" else None})
        return out


def _size(rule: SpotRule) -> tuple:
    return ("spots", rule.top_n) if rule.top_n is not None else ("area_share", round(rule.area_share * 100, 6))


def _rule(size: tuple, merge: int, name: str) -> SpotRule:
    how, n = size
    fix = "give a whole number of spots (e.g. 12) or a percentage of the area (e.g. 2.6)"
    if how == "spots" and (isinstance(n, bool) or n is None or int(n) != n or n < 1):
        raise InputError("", f"{n!r} spots is not a list size", fix, field=name, field_kind="district")
    if how == "area_share" and (n is None or not 0 < n <= 100):
        raise InputError("", f"an area share of {n!r}% is not a list size", fix, field=name,
                         field_kind="district")
    return SpotRule(top_n=int(n), max_cells=merge) if how == "spots" else \
        SpotRule(top_n=None, area_share=n / 100, max_cells=merge)


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def choices_from_rows(rows, districts, *, offences=None, shifts=None) -> ListChoices:
    """:class:`ListChoices` from table rows (dicts with ``district``, ``spots``, ``area_share``;
    blank cells are None or NaN): the :data:`DEFAULT_ROW` sizes every district without a row
    or with both cells blank; a district's row gives its own size.

    Raises
    ------
    InputError
        Naming the district (``field``) and the fix: both cells filled, spots not a whole
        number of at least 1, an area share not above 0 and at most 100, a district that is
        not one of ``districts``, or a default row with no size.
    """
    known = {str(d) for d in districts}
    default, own = None, {}
    for row in rows:
        name = str(row.get("district") or "").strip()
        spots, share = row.get("spots"), row.get("area_share")
        where = dict(field=name or "(a row with no district)", field_kind="district")
        if not _blank(spots) and not _blank(share):
            raise InputError("", "both a number of spots and an area share are given",
                             "keep one of them (clear the other cell)", **where)
        if name != DEFAULT_ROW and name not in known:
            raise InputError("", "is not one of the districts",
                             f"use one of: {', '.join(sorted(known))}", **where)
        size = None if _blank(spots) and _blank(share) else \
            ("spots", float(spots)) if not _blank(spots) else ("area_share", float(share))
        if size is not None:
            _rule(size, 1, where["field"])  # checks the range, naming the district
            size = (size[0], int(size[1]) if size[0] == "spots" else size[1])
        if name == DEFAULT_ROW:
            if size is None:
                raise InputError("", "the default size is empty",
                                 "give every district's number of spots (e.g. 20) or area share (e.g. 2.6)", **where)
            default = size
        elif size is not None:
            own[name] = size
    default = default or ("spots", 20)
    return ListChoices(default[1] if default[0] == "spots" else None, default[1] if default[0] == "area_share"
                       else None, own, None if offences is None else tuple(offences), shifts or None)


# -- writing -------------------------------------------------------------------------------
def _document(folder: Path):
    import tomlkit

    path = folder / CONFIG
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(folder, f"the folder has no {CONFIG}", f"create one with 'rtm init {folder}'") from None
    except tomlkit.exceptions.ParseError as exc:
        raise InputError(path, f"the file is not valid TOML ({exc})", "correct the line it names") from None


def _lists_table(doc):
    import tomlkit

    if "lists" not in doc:
        doc["lists"] = tomlkit.table()
    return doc["lists"]


def _index(table, key: str) -> int | None:
    """Where ``key`` (a key, or the commented-out line ``# key = ...``) sits in the table's body."""
    import re

    body = table.value.body
    for i, (k, item) in enumerate(body):
        if k is not None and k.key == key:
            return i
    for i, (k, item) in enumerate(body):
        if k is None and re.match(rf"#\s*{re.escape(key)}\s*=", item.as_string().strip()):
            return i
    return None


def _set(table, key: str, value, *, instead_of: tuple = ()) -> None:
    """Set ``key`` in ``table`` where a reader of the file expects it: in place when it is there;
    else where one of ``instead_of`` was (which is removed), or on its commented-out line
    (``# key = ...``, replaced); else after the table's last key, before its closing comments.
    A None ``value`` removes ``key`` (and ``instead_of``)."""
    from tomlkit.items import AoT, Table, Whitespace

    if value is None or key in table:
        for k in (key, *instead_of):
            if k != key or value is None:
                table.pop(k, None)
        if value is not None:
            table[key] = value
        return
    body = table.value.body
    idx = next((_index(table, k) for k in instead_of if k in table), None)
    if idx is not None:
        for k in instead_of:
            table.pop(k, None)  # leaves a placeholder where it was
    else:
        idx = _index(table, key)
        if idx is not None:  # its commented-out line
            body[idx] = (None, Whitespace(""))
        else:
            keys = [i for i, (k, item) in enumerate(body) if k is not None and not isinstance(item, (Table, AoT))]
            idx = max(keys) + 1 if keys else 0
    table.value._insert_at(idx, key, value)


def _write(folder: Path, doc) -> Workspace:
    """Check ``doc`` with the workspace reader, then replace the config with it in one step."""
    import tomlkit

    text = tomlkit.dumps(doc)
    ws = load_workspace(folder, text=text)  # InputError naming the key: nothing is written
    path = folder / CONFIG
    try:
        fd, tmp = tempfile.mkstemp(prefix=".workspace-", suffix=".toml", dir=folder)
    except OSError as exc:
        raise _unwritable(path, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _unwritable(path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ws


def _unwritable(path: Path, exc: OSError) -> InputError:
    return InputError(path, f"the workspace cannot be written ({exc.strerror or type(exc).__name__})",
                      "give the app's account write access to the workspace folder, or edit the file by hand")


def save_list_settings(folder, choices: ListChoices, districts=None) -> Workspace:
    """Write ``choices`` into ``folder/workspace.toml``'s ``[lists]``: ``spots`` or
    ``area_share``, ``[lists.districts]``, ``offences`` and ``shifts`` (a key set to None is
    removed); every other line, comment included, stays as it was.

    ``districts`` (names), when given, are the districts sizes may name. Returns the
    :class:`Workspace` as the weekly run will read it. InputError (naming the district or
    key and the fix) when a value is refused; the file is then untouched. Cost: reading and
    writing one small file.
    """
    import tomlkit

    folder = Path(folder).expanduser().resolve()
    if districts is not None:
        unknown = sorted(set(choices.districts) - {str(d) for d in districts})
        if unknown:
            raise InputError("", "is not one of the workspace's districts",
                             "remove its size, or correct its name", field=unknown[0], field_kind="district")
    doc = _document(folder)
    lists = _lists_table(doc)
    if choices.spots is not None:
        _set(lists, "spots", choices.spots, instead_of=("area_share",))
    else:
        _set(lists, "area_share", choices.area_share, instead_of=("spots",))
    sizes = {}
    for name, (how, n) in choices.districts.items():
        cell = tomlkit.inline_table()
        cell[how] = n
        sizes[name] = cell
    if isinstance(lists.get("districts"), tomlkit.items.Table):  # a [lists.districts] section: kept as one
        table = lists["districts"]
        for name in list(table):
            if name not in sizes:
                del table[name]
        for name, cell in sizes.items():
            table[name] = cell
    else:
        inline = tomlkit.inline_table()
        inline.update(sizes)
        _set(lists, "districts", inline if sizes else None)
    _set(lists, "offences", None if choices.offences is None else list(choices.offences))
    _set(lists, "shifts", choices.shifts)
    return _write(folder, doc)


# -- exclusion zones -------------------------------------------------------------------------
def read_zones(path, name: str | None = None):
    """Exclusion polygons from any vector file pyogrio reads (GeoJSON, GeoPackage, a zipped
    Shapefile, ...), checked and made valid; ``name`` is how messages call the file.

    Returns a GeoDataFrame of polygons in longitude/latitude (EPSG:4326) with a ``name``
    column (the file's own ``name`` when it has one, else ``zone 1``, ``zone 2``...).

    Raises
    ------
    InputError
        The file cannot be read, has no coordinate system, no polygon, or geometries of
        another kind (points, lines).
    """
    import geopandas as gpd
    import pyogrio
    import shapely

    label = name or Path(path).name
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
            OSError, ValueError):
        raise InputError(label, "the file cannot be read as map data",
                         "give the zones as GeoJSON, GeoPackage or a zipped Shapefile") from None
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if not len(frame):
        raise InputError(label, "the file holds no shapes", "draw the zones as polygons and save them again")
    if frame.crs is None:
        raise InputError(label, "the file does not say which coordinate system it is in",
                         "save it with its CRS (e.g. EPSG:27700)")
    kinds = set(frame.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        other = ", ".join(sorted(kinds - {"Polygon", "MultiPolygon"}))
        raise InputError(label, f"exclusion zones must be polygons, and the file holds {other}",
                         "draw the areas to leave out as polygons (e.g. round a custody suite)")
    geoms = shapely.make_valid(frame.geometry.values)
    out = gpd.GeoDataFrame({"name": _names(frame)}, geometry=list(geoms), crs=frame.crs).to_crs(4326)
    return out.explode(index_parts=False).loc[lambda f: f.geom_type.isin(["Polygon", "MultiPolygon"])] \
        .dissolve(by="name", sort=False).reset_index()[["name", "geometry"]]


def _names(frame) -> list[str]:
    col = next((c for c in frame.columns if str(c).lower() == "name"), None)
    names = [str(v).strip() if col is not None and not _blank(v) else "" for v in
             (frame[col] if col is not None else [None] * len(frame))]
    return [n or f"zone {i + 1}" for i, n in enumerate(names)]


def save_exclusions(folder, zones, file_name: str = EXCLUSIONS_FILE) -> Workspace:
    """Write ``zones`` (a GeoDataFrame of polygons with a CRS, e.g. from :func:`read_zones` or
    drawn on a map) into ``folder/file_name`` as GeoJSON and name it in ``[lists] exclusions``.
    Returns the workspace as the weekly run will read it; InputError when the zones are not
    polygons or the config is refused (the old file is then kept). Cost: one small file."""
    import geopandas as gpd

    folder = Path(folder).expanduser().resolve()
    if zones.crs is None:
        raise InputError("exclusion zones", "the zones have no coordinate system", "give them with their CRS")
    zones = gpd.GeoDataFrame(zones[["name", "geometry"]] if "name" in zones else
                             zones.assign(name=_names(zones))[["name", "geometry"]], crs=zones.crs).to_crs(4326)
    if not len(zones) or not set(zones.geom_type) <= {"Polygon", "MultiPolygon"}:
        raise InputError("exclusion zones", "there is no polygon to save", "draw or upload polygons")
    doc = _document(folder)
    _set(_lists_table(doc), "exclusions", file_name)
    target = folder / file_name
    tmp = folder / f".{file_name}.new"
    old = target.read_bytes() if target.exists() else None
    try:
        tmp.unlink(missing_ok=True)
        zones.to_file(tmp, driver="GeoJSON", engine="pyogrio")
        os.replace(tmp, target)
    except OSError as exc:
        raise _unwritable(target, exc) from None
    try:
        return _write(folder, doc)
    except BaseException:
        if old is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(old)
        raise


def clear_exclusions(folder) -> Workspace:
    """Stop excluding zones: remove ``[lists] exclusions`` (the file stays where it was)."""
    folder = Path(folder).expanduser().resolve()
    doc = _document(folder)
    _lists_table(doc).pop("exclusions", None)
    return _write(folder, doc)


__all__ = ["DEFAULT_ROW", "EXCLUSIONS_FILE", "ListChoices", "choices_from_rows", "clear_exclusions", "read_zones",
           "save_exclusions", "save_list_settings"]
