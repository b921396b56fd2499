"""Making a workspace from a user's own files (the app's "Upload your own data"), and finding
the workspaces under a workspaces folder (the app's picker).

:func:`create_workspace` copies the files into a new folder under the workspaces root, writes
its ``workspace.toml`` (the commented template of :mod:`rtm.workspace_init`) and checks it by
loading the data as ``rtm weekly --workspace`` would. It is built in a hidden folder beside
the others and renamed into place only when valid, so a bad upload leaves nothing behind and
an existing workspace is never overwritten.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import InputError
from .workspace import CONFIG, COLUMN_ROLES, load_workspace
from .workspace_init import LAYERS_HINT, STREETS_HINT, TEMPLATE

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = ROOT / "runs"
"""Where workspaces are kept when neither ``RTM_WORKSPACES_DIR`` nor ``RTM_WORKSPACE`` says."""
_BUILDING = ".new-"  # prefix of a workspace being built (hidden; never listed)


def workspaces_root(environ=None) -> Path:
    """The folder whose subfolders are the workspaces: ``RTM_WORKSPACES_DIR``, else the folder
    holding ``RTM_WORKSPACE``, else the project's ``runs/``. Reads only the environment."""
    env = os.environ if environ is None else environ
    if env.get("RTM_WORKSPACES_DIR"):
        return Path(env["RTM_WORKSPACES_DIR"]).expanduser()
    if env.get("RTM_WORKSPACE"):
        return Path(env["RTM_WORKSPACE"]).expanduser().resolve().parent
    return DEFAULT_ROOT


def list_workspaces(root) -> list[str]:
    """The names of the folders directly under ``root`` that hold a ``workspace.toml``, sorted;
    hidden folders (those being built) are left out. An empty list when ``root`` is missing.
    Costs one listing of ``root``."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir()
                  if not p.name.startswith(".") and p.is_dir() and (p / CONFIG).is_file())


def folder_name(name: str) -> str:
    """A workspace's folder name from what a user typed: letters, digits, ``-`` and ``_`` only
    (anything else becomes ``-``), at most 60 characters. InputError when nothing is left."""
    text = re.sub(r"[^A-Za-z0-9_-]+", "-", str(name).strip()).strip("-_")[:60].strip("-_")
    if not text:
        raise InputError("workspace name", f"'{name}' has no letter or digit to name a folder by",
                         "give a name such as 'Essex 2026' (letters, digits, spaces, - and _)")
    return text


@dataclass
class NewWorkspace:
    """What a new workspace is made from.

    Attributes
    ----------
    name : str
        The force's or study's name, as typed (the folder is named after it: :func:`folder_name`).
    incidents : list of Path
        Incident files (police.uk CSVs or zips, or tables).
    areas : Path
        The district boundaries; ``area_field`` names each district (None: one area).
    layers : dict of str to Path
        Attractor layer files by factor name (letters, digits, ``_``); they become the model's factors.
    streets : Path or None
        Named street lines; ``street_field`` is their name column.
    columns : dict of str to str
        Column roles of a generic table (``date``, ``lon``, ...: :data:`rtm.workspace.COLUMN_ROLES`).
    weights : {"cchi", "count"}
    tolerance_m : float
        Incidents this far outside the districts are kept.
    """

    name: str
    incidents: list
    areas: Path
    area_field: str | None = None
    layers: dict = field(default_factory=dict)
    streets: Path | None = None
    street_field: str = "name"
    columns: dict = field(default_factory=dict)
    weights: str = "cchi"
    tolerance_m: float = 0.0


def _q(text) -> str:
    """``text`` as a TOML basic string (quoted; control characters dropped)."""
    return json.dumps(re.sub(r"[\x00-\x1f\x7f]", "", str(text)), ensure_ascii=False)


def _copy(src: Path, folder: Path, taken: set) -> str:
    """Copy ``src`` into ``folder`` under a name not yet ``taken``; return its path relative to
    the workspace (two files with one name are both kept)."""
    stem, dot, ext = Path(src).name.rpartition(".")
    stem, ext = (stem, ext) if dot else (ext, "")
    name, n = Path(src).name, 1
    while (folder / name).as_posix() in taken:
        n += 1
        name = f"{stem}-{n}" + (f".{ext}" if ext else "")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, folder / name)
    taken.add((folder / name).as_posix())
    return f"{folder.parent.name}/{folder.name}/{name}"


def _config_text(spec: NewWorkspace, folder: str, sources: list, area: str, layers: dict, streets: str | None,
                 period: str) -> str:
    for role in spec.columns:
        if role not in COLUMN_ROLES:
            raise InputError("columns", f"'{role}' is not a column role", f"use: {', '.join(sorted(COLUMN_ROLES))}")
    given = {k: v for k, v in spec.columns.items() if str(v).strip()}
    cols = "[incidents.columns]\n" + "".join(f"{k} = {_q(v)}\n" for k, v in given.items()) if given else ""
    if spec.weights not in ("cchi", "count"):
        raise InputError("weights", f"'{spec.weights}' is not a harm weighting here", "choose cchi or count")
    model_layers = ("[model.layers]\n" + "".join(f"{n} = {_q(p)}\n" for n, p in layers.items())) if layers \
        else LAYERS_HINT
    street_lines = f"file = {_q(streets)}\nname_field = {_q(spec.street_field or 'name')}\n" if streets \
        else STREETS_HINT
    text = TEMPLATE.format(folder_name=folder, name=_q(spec.name)[1:-1], sources=", ".join(map(_q, sources)),
                           weights=spec.weights, columns=cols, area_file=_q(area)[1:-1],
                           area_field=_q(spec.area_field or "")[1:-1], tolerance=float(spec.tolerance_m),
                           period=period, factors="", cell=50, block=100, bands=3, model_layers=model_layers,
                           streets=street_lines)
    if not spec.area_field:  # the whole file is one area
        text = text.replace('field = ""\n', "# field = \"name\"\n", 1)
    return text


def create_workspace(root, spec: NewWorkspace, *, limits=None):
    """Make a workspace under ``root`` from ``spec``'s files and open it as the weekly run would.

    The files are copied into ``data/`` of a hidden folder beside the others, the config is
    written, the workspace is loaded (:func:`rtm.workspace.load_workspace`) with its incidents
    and areas (:func:`rtm.weekly_job.load_study`, within ``limits``, a
    :class:`rtm.sources.LoadLimits`), and the folder is then renamed to the name's
    :func:`folder_name`, numbered (``-2``, ``-3``, ...) when that folder exists: nothing is
    overwritten. The period is ``month`` when the incidents are dated by month only, else ``week``.

    Returns
    -------
    (Path, Workspace, areas, incidents)
        The new folder, its loaded workspace and data (the load costs as much as a weekly run's).

    Raises
    ------
    InputError
        A name with nothing to name a folder by, a file that cannot be read, a config value the
        workspace refuses, no incident usable in the districts. The hidden folder is removed.
    """
    from .weekly_job import load_study

    base = folder_name(spec.name)
    if not spec.incidents:
        raise InputError("incidents", "no incident file was given", "add the incident files")
    for n in spec.layers:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", n):
            raise InputError(n, "a layer name must start with a letter and hold only letters, digits and _",
                             "rename the layer file, e.g. bus_stops.geojson")
    root = Path(root).expanduser()
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=_BUILDING, dir=root))
    except OSError as exc:
        raise InputError("workspaces folder", f"a new workspace cannot be made there ({exc.strerror})",
                         "ask whoever runs the app to make the workspaces folder (RTM_WORKSPACES_DIR) "
                         "writable") from None
    try:
        data, taken = tmp / "data", set()
        sources = [_copy(p, data / "incidents", taken) for p in spec.incidents]
        area = _copy(spec.areas, data / "areas", taken)
        layers = {n: _copy(p, data / "layers", taken) for n, p in spec.layers.items()}
        streets = _copy(spec.streets, data / "streets", taken) if spec.streets else None
        config = tmp / CONFIG
        config.write_text(_config_text(spec, base, sources, area, layers, streets, "week"), encoding="utf-8")
        ws = load_workspace(tmp)
        areas, inc = load_study(replace(ws.job.study, limits=limits))
        if inc.report.rows_used == 0:
            raise InputError(Path(spec.incidents[0]).name, "no incident is usable in the districts",
                             "check the columns, the coordinates and the district boundaries")
        if inc.resolution == "month":
            config.write_text(_config_text(spec, base, sources, area, layers, streets, "month"), encoding="utf-8")
        if streets:
            from .mapstreets import read_streets

            read_streets(ws.job.streets, ws.job.street_name, areas.crs, key="streets.file")
        final = _rename_free(tmp, root, base)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final, load_workspace(final), areas, inc


def _rename_free(tmp: Path, root: Path, base: str) -> Path:
    """Rename ``tmp`` to ``root/base``, or ``base-2``, ``base-3``... when taken (never onto an
    existing folder: ``os.mkdir`` claims the name first, so two makers never share one)."""
    n = 1
    while True:
        final = root / (base if n == 1 else f"{base}-{n}")
        try:
            final.mkdir()
        except FileExistsError:
            n += 1
            if n > 999:
                raise InputError(root, f"there are too many workspaces named {base}", "choose another name") from None
            continue
        os.replace(tmp, final)  # onto the empty folder just claimed
        return final
