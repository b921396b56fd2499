"""A force's workspace: one folder holding one config file (``workspace.toml``) that says where
the data is and how lists are made, and what the weekly run publishes (``lists/``,
``archive.sqlite``, ``models/``).

``rtm init DIR`` writes a commented config; ``rtm weekly --workspace DIR`` reads it with
:func:`load_workspace` and runs :func:`rtm.weekly_job.run_weekly` on the job it describes,
under a lock (:func:`workspace_lock`) so that two scheduled runs never overlap.
"""

from __future__ import annotations

import contextlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .bounds import MAX_REFIT_EVERY
from .errors import InputError
from .periods import Period, month_period, week_period
from .ranking import SpotRule
from .weekly import DEFAULT_MERGE_CELLS, ListSettings
from .weekly_job import StudyInputs, TerrainPlan, WeeklyJob

CONFIG = "workspace.toml"
LOCK = ".rtm-weekly.lock"
UPLOADS = Path("uploads") / "incidents"
"""Incident files added through the app: read with the configured sources whenever the folder
holds a file, by the weekly run and the app alike."""
DEFAULT_CATALOGUE = Path(__file__).resolve().parents[1] / "layers"
"""The project's attractor catalogue, used when a workspace names none."""

#: The keys each table of ``workspace.toml`` may hold (anything else is a mistake, said so).
KEYS = {
    "force": {"name", "marking"},
    "incidents": {"sources", "weights", "unknown", "default_weight", "crs", "working_crs", "month_first",
                  "columns"},
    "areas": {"file", "field", "tolerance_m", "select"},
    "lists": {"period", "week_start", "spots", "area_share", "spot_size_m", "merge", "exclusions", "streets",
              "street_name", "folder", "recording_points", "keep_recording_points", "shifts", "offences",
              "districts"},
    "model": {"factors", "catalogue", "layers", "cell_size_m", "block_length_m", "bands", "increment",
              "refit_every", "operationalisations"},
    "basemap": {"tiles", "attribution", "file"},
    "streets": {"file", "name_field"},
    "tuning": set(),  # the keys of rtm.tuning.saved.KEYS, filled in below
}
def _tuning_keys() -> set:
    from .tuning.saved import KEYS as tuning_keys

    return set(tuning_keys)


KEYS["tuning"] = _tuning_keys()
COLUMN_ROLES = {"id", "date", "lon", "lat", "x", "y", "offence", "weight", "location", "offence_value"}


@dataclass(frozen=True)
class Basemap:
    """The map's background: an XYZ tile URL template (a force's tile server), or a local
    raster tile file (MBTiles or PMTiles, served by the app itself: :mod:`rtm.basemap`), with
    its attribution; or nothing (district boundaries on a plain background)."""

    tiles: str | None = None
    attribution: str | None = None
    file: str | None = None


@dataclass(frozen=True)
class Workspace:
    """A loaded ``workspace.toml`` (see :func:`load_workspace`).

    Attributes
    ----------
    folder : Path
        The workspace folder; relative paths in the config are relative to it.
    name, marking : str
        The force's name, and the protective marking for exports (default ``OFFICIAL``).
    job : WeeklyJob
        What ``rtm weekly --workspace`` runs: the data, the terrain, the list settings, the
        lists folder (``lists/``) and the archive (``archive.sqlite``), in the workspace.
    period_kind : {"week", "month"}
    week_start : str
    basemap : Basemap
    shifts : Shifts or None
        Shift starts when lists are also made per shift (``[lists] shifts = "07:00,19:00"``).
    """

    folder: Path
    name: str
    marking: str
    job: WeeklyJob
    period_kind: str = "week"
    week_start: str = "monday"
    basemap: Basemap = field(default_factory=Basemap)
    shifts: object = None

    @property
    def lists_dir(self) -> Path:
        return Path(self.job.out_dir)

    @property
    def archive_path(self) -> Path:
        return Path(self.job.archive)

    def period(self, when: str | None = None, incidents=None) -> Period:
        """The period ``when`` names (a day of the week, or ``YYYY-MM``), or, when None, the
        period after the last one the incidents cover (:func:`next_period`)."""
        if when is not None:
            return week_period(when, self.week_start) if self.period_kind == "week" else month_period(when)
        if incidents is None:
            raise ValueError("give the period or the loaded incidents")
        return next_period(incidents, self.period_kind, self.week_start)


def next_period(incidents, kind: str, week_start: str = "monday") -> Period:
    """The period a weekly run makes the list for when none is named: the one after the period
    holding the end of the data (data to Sunday gives next week's list; police.uk data to
    February gives March's).

    Raises
    ------
    InputError
        The incidents have no dates.
    """
    ends = incidents.frame["date_end"].dropna()
    if not len(ends):
        raise InputError("incidents", "the incidents have no dates, so no period's list can be made",
                         "give the column holding each incident's date")
    last = pd.Timestamp(ends.max()) - pd.Timedelta(1, "ns")
    holding = week_period(last, week_start) if kind == "week" else month_period(last)
    return holding.next()


# -- reading the config --------------------------------------------------------------------
def _fail(path, key: str, problem: str, fix: str):
    raise InputError(path, problem, fix, field=key, field_kind="key")


class _Table:
    """One table of the config, read with checks that name the key on any mistake."""

    def __init__(self, path: Path, name: str, data: dict):
        self.path, self.name, self.data = path, name, data
        if not isinstance(data, dict):
            _fail(path, name, f"'{name}' must be a table ([{name}])", f"write it as a [{name}] section")
        allowed = KEYS[name]
        for key in data:
            if key not in allowed:
                _fail(path, f"{name}.{key}", f"'{key}' is not a setting of [{name}]",
                      f"use one of: {', '.join(sorted(allowed))}")

    def get(self, key: str, kind, default=None, *, check=None, hint: str = ""):
        if key not in self.data:
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            names = " or ".join({str: "text", int: "a whole number", float: "a number", list: "a list",
                                 bool: "true or false", dict: "a table"}[k] for k in kinds)
            _fail(self.path, f"{self.name}.{key}", f"must be {names}, not {value!r}", hint or f"e.g. {key} = ...")
        if check is not None and not check(value):
            _fail(self.path, f"{self.name}.{key}", f"{value!r} is not allowed here", hint)
        return value

    def path_of(self, key: str, folder: Path, default=None, *, must_exist: bool = True):
        text = self.get(key, str, default, hint=f'give a path, e.g. {key} = "data/file.geojson"')
        if text is None:
            return None
        p = Path(text).expanduser()
        p = p if p.is_absolute() else folder / p
        if must_exist and not p.exists():
            _fail(self.path, f"{self.name}.{key}", f"'{text}' does not exist (looked for {p})",
                  "correct the path; relative paths are relative to the workspace folder")
        return str(p)


def load_workspace(folder, text: str | None = None) -> Workspace:
    """Read and check ``folder/workspace.toml`` (or ``text``, a config not yet written there:
    :mod:`rtm.workspace_edit` checks what it will write with this same reader).

    Returns
    -------
    Workspace

    Raises
    ------
    InputError
        No config, TOML that does not parse (with its line), an unknown table or key, a value
        of the wrong kind or out of range, a path that does not exist: each names the key,
        the problem and the fix.

    Notes
    -----
    Reads only the config and checks that the files it names exist; nothing is loaded.
    """
    from .weights import MAX_WEIGHT, HarmWeights

    folder = Path(folder).expanduser().resolve()
    path = folder / CONFIG
    if text is None and not path.is_file():
        raise InputError(folder, f"the folder has no {CONFIG}", f"create one with 'rtm init {folder}'")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8") if text is None else text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"the file is not valid TOML ({exc})", "correct the line it names") from None
    except UnicodeDecodeError:
        raise InputError(path, "the file is not UTF-8 text", "save it as UTF-8") from None
    for name in raw:
        if name not in KEYS:
            _fail(path, name, f"[{name}] is not a section of the workspace", f"use: {', '.join(KEYS)}")
    t = {name: _Table(path, name, raw.get(name, {})) for name in KEYS}

    force = t["force"]
    name = force.get("name", str, folder.name, hint='give the force\'s name in quotes, e.g. name = "Essex Police"')
    marking = force.get("marking", str, "OFFICIAL")

    inc = t["incidents"]
    sources = inc.get("sources", list, hint='list files or folders, e.g. sources = ["data/crime"]')
    if not sources:
        _fail(path, "incidents.sources", "no incident source is given",
              'list the files or folders, e.g. sources = ["data/crime"]')
    paths = []
    for i, s in enumerate(sources):
        if not isinstance(s, str):
            _fail(path, "incidents.sources", f"item {i + 1} ({s!r}) is not a path", "write each path in quotes")
        p = Path(s).expanduser()
        p = p if p.is_absolute() else folder / p
        if not p.exists():
            _fail(path, "incidents.sources", f"'{s}' does not exist (looked for {p})",
                  "correct the path; relative paths are relative to the workspace folder")
        paths.append(str(p))
    added = folder / UPLOADS
    if added.is_dir() and any(f.is_file() for f in added.iterdir()):
        paths.append(str(added))  # files added in the app (uploads/incidents/)
    weights_name = inc.get("weights", str, "cchi")
    if weights_name not in ("cchi", "count"):
        weights_name = inc.path_of("weights", folder)
    unknown = inc.get("unknown", str, "reject", check=lambda v: v in ("reject", "zero", "default"),
                      hint='use "reject", "zero" or "default"')
    default_weight = inc.get("default_weight", (int, float), None, check=lambda v: 0 <= v <= MAX_WEIGHT,
                             hint=f"a weight in days from 0 to {MAX_WEIGHT:g}, e.g. default_weight = 10")
    try:
        weights = HarmWeights.from_name(weights_name, unknown, default_weight)
    except ValueError as exc:
        _fail(path, "incidents.unknown", str(exc), "give default_weight with unknown = \"default\"")
    columns = inc.get("columns", dict, {})
    for role, col in columns.items():
        if role not in COLUMN_ROLES:
            _fail(path, f"incidents.columns.{role}", f"'{role}' is not a column role",
                  f"use: {', '.join(sorted(COLUMN_ROLES))}")
        if not isinstance(col, str):
            _fail(path, f"incidents.columns.{role}", f"must be a column name in quotes, not {col!r}",
                  f'e.g. {role} = "..."')
    from .layouts import ColumnMap

    mapping = ColumnMap(**columns) if columns else None

    areas = t["areas"]
    area_file = areas.path_of("file", folder)
    if area_file is None:
        _fail(path, "areas.file", "no boundary file is given", 'name it, e.g. file = "boundaries/lsoa.geojson"')
    tolerance = float(areas.get("tolerance_m", (int, float), 0.0, check=lambda v: 0 <= v <= 10_000,
                                hint="give metres from 0 to 10000, e.g. 150"))
    select = areas.get("select", list, [])
    study = StudyInputs(tuple(paths), area_file, weights, areas.get("field", str), tuple(map(str, select)),
                        tolerance, mapping, inc.get("crs", str), inc.get("working_crs", str),
                        not inc.get("month_first", bool, False))

    lists = t["lists"]
    kind = lists.get("period", str, "week", check=lambda v: v in ("week", "month"), hint='use "week" or "month"')
    week_start = lists.get("week_start", str, "monday")
    if "spots" in lists.data and "area_share" in lists.data:
        _fail(path, "lists.area_share", "give spots or area_share, not both", "keep one of them")
    share = lists.get("area_share", (int, float), None, check=lambda v: 0 < v <= 100,
                      hint="give a percentage of each district's area, e.g. 2.6")
    spots = lists.get("spots", int, None if share else 20, check=lambda v: v >= 1, hint="e.g. spots = 20")
    merge = lists.get("merge", int, DEFAULT_MERGE_CELLS, check=lambda v: v >= 1, hint="e.g. merge = 5")
    spot_size = float(lists.get("spot_size_m", (int, float), 150.0, check=lambda v: 10 <= v <= 5000,
                                hint="give metres, e.g. 150"))
    rule = SpotRule(top_n=spots, area_share=None if share is None else share / 100, max_cells=merge)
    offences = lists.get("offences", list, None, hint='list offence types, e.g. offences = ["Robbery"]')
    if offences is not None:
        if not offences or not all(isinstance(o, str) and o.strip() for o in offences):
            _fail(path, "lists.offences", "must list at least one offence type, each in quotes",
                  'e.g. offences = ["Violence and sexual offences", "Robbery"], or leave it out for every type')
        offences = tuple(offences)
    district_rules = _district_rules(lists.get("districts", dict, {}), path, merge)
    scoring, record = _tuning(t["tuning"], path)
    settings = ListSettings(spot_size=spot_size, scoring=scoring, rule=rule, area_tolerance_m=tolerance,
                            tuning=record, district_rules=district_rules, offences=offences)
    lists_dir = lists.path_of("folder", folder, "lists", must_exist=False)

    terrain = _terrain_plan(t["model"], path, folder)
    streets, street_name = _streets(t["streets"], lists, path, folder)
    job = WeeklyJob(study=study, out_dir=lists_dir, terrain=terrain, settings=settings,
                    archive=str(folder / "archive.sqlite"), exclusions=lists.path_of("exclusions", folder),
                    streets=streets, street_name=street_name,
                    recording_points=lists.path_of("recording_points", folder),
                    keep_recording_points=lists.get("keep_recording_points", bool, False), marking=marking,
                    week_start=week_start)
    basemap = _basemap(t["basemap"], path, folder)
    if week_start not in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"):
        _fail(path, "lists.week_start", f"'{week_start}' is not a day of the week", 'e.g. week_start = "monday"')
    shifts = None
    if "shifts" in lists.data:
        from .shifts import Shifts

        text = lists.get("shifts", str, hint='give the shift starts, e.g. shifts = "07:00,19:00"')
        try:
            shifts = Shifts.parse(text)
        except InputError as exc:
            _fail(path, "lists.shifts", exc.problem, 'give the shift starts, e.g. shifts = "07:00,19:00"')
        if kind == "month":
            _fail(path, "lists.shifts", "monthly (police.uk) data has no times, so it cannot be put into shifts",
                  "leave shifts out, or use data with times and period = \"week\"")
    return Workspace(folder, name, marking, job, kind, week_start, basemap, shifts)


def _basemap(base: _Table, path: Path, folder: Path) -> Basemap:
    """[basemap]: a tile server's template or a local tile file (checked: :func:`rtm.basemap.open_tileset`),
    with an attribution (a default when none is given: never a blank map)."""
    tiles, attribution = base.get("tiles", str), base.get("attribution", str)
    file = base.path_of("file", folder)
    if tiles and file:
        _fail(path, "basemap.file", "give a tile server (tiles) or a tile file (file), not both", "keep one of them")
    if tiles and not all(part in tiles for part in ("{z}", "{x}", "{y}")):
        _fail(path, "basemap.tiles", f"'{tiles}' is not an XYZ URL template with {{z}}, {{x}} and {{y}}",
              'e.g. tiles = "https://tiles.force.internal/{z}/{x}/{y}.png"')
    if file:
        from .basemap import default_attribution, open_tileset

        attribution = default_attribution(open_tileset(file, key="basemap.file"), attribution)
    elif tiles and not (attribution or "").strip():
        attribution = "Map tiles: see the force's mapping service"
    return Basemap(tiles or None, (attribution or "").strip() or None, file)


def _streets(streets: _Table, lists: _Table, path: Path, folder: Path) -> tuple[str | None, str]:
    """[streets] file and name_field (or the older [lists] streets and street_name): the named
    street lines the map labels and spots are named by. Only the path is checked here; the
    file is read (and its lines and name column checked) by :func:`rtm.mapstreets.read_streets`."""
    if "file" in streets.data and "streets" in lists.data:
        _fail(path, "streets.file", "the streets file is given twice ([streets] file and [lists] streets)",
              "keep [streets] file and remove streets from [lists]")
    if "file" in streets.data:
        return streets.path_of("file", folder), streets.get("name_field", str, "name",
                                                            hint='give the column of street names, e.g. name_field = "name"')
    if "name_field" in streets.data:
        _fail(path, "streets.name_field", "a name field is given without a streets file",
              'add file = "streets.gpkg" to [streets]')
    return lists.path_of("streets", folder), lists.get("street_name", str, "name")


def _district_rules(table: dict, path: Path, merge: int) -> tuple:
    """``[lists.districts]``: each district's own size, ``"Name" = 12`` or ``{ spots = 12 }``
    (spots) or ``{ area_share = 2.6 }`` (percent of its area). Returns ``((name, SpotRule), ...)``."""
    fix = 'e.g. "Basildon" = { spots = 12 } or "Basildon" = { area_share = 2.6 }'
    rules = []
    for name, value in table.items():
        key = f"lists.districts.{name}"
        if isinstance(value, int) and not isinstance(value, bool):
            value = {"spots": value}
        if not isinstance(value, dict) or len(value) != 1 or not set(value) <= {"spots", "area_share"}:
            _fail(path, key, f"give the district's spots or its area share, not {value!r}", fix)
        (what, n), = value.items()
        if what == "spots" and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            _fail(path, key, f"spots must be a whole number of at least 1, not {n!r}", fix)
        if what == "area_share" and (isinstance(n, bool) or not isinstance(n, (int, float)) or not 0 < n <= 100):
            _fail(path, key, f"area_share must be a percentage above 0 and at most 100, not {n!r}", fix)
        rules.append((str(name), SpotRule(top_n=n, max_cells=merge) if what == "spots"
                      else SpotRule(top_n=None, area_share=n / 100, max_cells=merge)))
    return tuple(rules)


def _tuning(table: _Table, path: Path):
    """The score settings of ``[tuning]`` (written by ``rtm tune --save``) and the record of
    the choice for provenance (``(key, value)`` pairs); the shipped default and ``()`` when
    the table is absent."""
    from .ranking import COUNT_ROWS, ScoreSettings
    from .tuning.saved import RECORD_KEYS, SETTING_KEYS

    if not table.data:
        return ScoreSettings(), ()
    missing = [k for k in SETTING_KEYS if k not in table.data]
    if missing:
        _fail(path, f"tuning.{missing[0]}", f"[tuning] lacks {', '.join(missing)}",
              "run 'rtm tune --workspace DIR --save' again, or delete the [tuning] table")
    hl = table.get("half_life_days", (int, float, str), check=lambda v: v == "none" or
                   (not isinstance(v, str) and 0 < v <= 36500), hint='give days, e.g. 365, or "none"')
    given = dict(
        history_months=table.get("history_months", int, check=lambda v: 1 <= v <= 120, hint="e.g. 36"),
        count_share=float(table.get("count_share", (int, float), check=lambda v: 0 <= v <= 1,
                                    hint="a share from 0 to 1, e.g. 0.5")),
        count_rows=table.get("count_rows", str, check=lambda v: v in COUNT_ROWS, hint='use "crimes" or "all"'),
        bandwidth_m=float(table.get("bandwidth_m", (int, float), check=lambda v: 0 < v <= 10_000,
                                    hint="give metres, e.g. 165")),
        half_life_days=None if hl == "none" else float(hl),
        risk_weight=float(table.get("risk_weight", (int, float), check=lambda v: 0 <= v <= 1,
                                    hint="a weight from 0 to 1, e.g. 0.1")))
    record = tuple((k, table.data[k] if not isinstance(table.data[k], list) else tuple(table.data[k]))
                   for k in RECORD_KEYS if k in table.data)
    return ScoreSettings(**given), (("source", "workspace.toml [tuning], chosen by rtm tune"),) + record


def _terrain_plan(model: _Table, path: Path, folder: Path) -> TerrainPlan:
    from .catalogue import plan_factors, split_layer_item
    from .terrain_settings import RtmSettings

    factors = model.get("factors", list, [])
    layers = model.get("layers", dict, {})
    if not factors and not layers:
        return TerrainPlan()
    catalogue = model.path_of("catalogue", folder) or str(DEFAULT_CATALOGUE)
    items = []
    for name, file in layers.items():
        if not isinstance(file, str):
            _fail(path, f"model.layers.{name}", f"must be a file name in quotes, not {file!r}",
                  f'e.g. {name} = "attractors/{name}.gpkg"')
        p = Path(file).expanduser()
        text, where = (file, None) if (p if p.is_absolute() else folder / p).exists() \
            else split_layer_item(f"{name}={file}")[1:]
        p = Path(text).expanduser()
        p = p if p.is_absolute() else folder / p
        if not p.exists():
            _fail(path, f"model.layers.{name}", f"'{text}' does not exist (looked for {p})", "correct the path")
        items.append(f"{name}={p}" + (f":{where}" if where else ""))
    treatments = model.get("operationalisations", dict, {})
    try:
        plan = plan_factors(catalogue, [str(f) for f in factors], items, treatments)
        settings = RtmSettings(float(model.get("cell_size_m", (int, float), 50.0)),
                               float(model.get("block_length_m", (int, float), 100.0)),
                               model.get("bands", int, 3), model.get("increment", str, "whole"),
                               operationalisations=treatments)
    except InputError as exc:  # a setting of the library: name it as the config's key
        key = {"factors": "model.factors", "layers": "model.layers", "operationalisations": "model.operationalisations",
               "cell_size": "model.cell_size_m", "block_length": "model.block_length_m",
               None: "model.catalogue"}.get(exc.field, f"model.{exc.field}")  # None: the catalogue itself
        raise InputError(path, exc.problem, exc.fix, field=key, field_kind="key") from None
    refit = model.get("refit_every", int, None, check=lambda v: 1 <= v <= MAX_REFIT_EVERY,
                      hint=f"a whole number of periods from 1 to {MAX_REFIT_EVERY}, e.g. refit_every = 13")
    return TerrainPlan(tuple(plan), settings, None, refit, str(folder / "models"))


# -- one run at a time -----------------------------------------------------------------------
class WorkspaceBusy(InputError):
    """Another weekly run holds the workspace's lock (``rtm weekly`` exits with
    :attr:`exit_code`, 75, the 'try again later' code of sysexits)."""

    exit_code = 75


@contextlib.contextmanager
def workspace_lock(folder):
    """Hold ``folder/.rtm-weekly.lock`` for the duration; raise :class:`WorkspaceBusy` at once
    when another process holds it (a scheduled run that overlaps the previous one). The lock
    is the operating system's (``flock``), so a killed run never leaves it held."""
    import fcntl

    path = Path(folder) / LOCK
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkspaceBusy(folder, "another weekly run is using this workspace",
                                "wait for it to finish (it holds .rtm-weekly.lock), then run again") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)
