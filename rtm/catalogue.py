"""The attractor layer catalogue: one small TOML file per kind of attractor in ``layers/``.

Each file says how to pick the attractor out of a source file and how the risk terrain
model should treat it by default. Analysts edit these files; the code only reads them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .filters import parse_filter
from .layers import Layer, load_layer

OPERATIONALISATIONS = ("proximity", "density", "both", "auto")
GEOMETRIES = ("point", "line", "polygon")
_TOP = {"name", "title", "description", "geometry", "source", "rtm"}
_SOURCE = {"kind", "where", "file"}
_RTM = {"operationalisation", "max_influence_m"}


@dataclass(frozen=True)
class LayerSpec:
    """One catalogue entry.

    Attributes
    ----------
    name : str
        Identifier used on the command line and in model tables (``pubs``).
    title, description : str
    geometry : {"point", "line", "polygon"}
    source_kind : str
        The kind of source file the filter expects (``osm_pois``, ``chicago``, ...).
    where : str or None
        Filter selecting the attractor from a mixed source file.
    file : Path or None
        Default source file (resolved against the catalogue file's folder).
    operationalisation : {"proximity", "density", "both", "auto"}
        Default RTM treatment; ``auto`` follows the RTMDx rule (nearest-neighbour test).
    max_influence_m : float
        Default maximum spatial influence in metres.
    path : Path
        The TOML file.
    """

    name: str
    title: str
    description: str
    geometry: str
    source_kind: str
    where: str | None
    file: Path | None
    operationalisation: str
    max_influence_m: float
    path: Path

    def load(self, file=None, **kwargs) -> Layer:
        """Load this attractor from ``file`` (or the entry's default file) with its filter.

        Keyword arguments go to :func:`rtm.layers.load_layer` (``areas``, ``buffer_m``,
        ``working_crs``, ...).
        """
        src = file or self.file
        if src is None:
            raise InputError(self.path, f"layer '{self.name}' has no default file",
                             f"give the source file, for example --layer {self.name}=FILE")
        return load_layer(src, name=self.name, where=self.where, **kwargs)


def _fail(path, problem, fix, field=None):
    raise InputError(path, problem, fix, field=field, field_kind="key")


def read_spec(path) -> LayerSpec:
    """Read and check one catalogue file.

    Raises
    ------
    InputError
        Not valid TOML, an unknown or missing key, or a value out of range.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        _fail(path, f"the file is not valid TOML ({exc})", "compare it with layers/pubs.toml")
    for key in set(data) - _TOP:
        _fail(path, f"unknown key '{key}'", f"use only {', '.join(sorted(_TOP))}", key)
    source, rtm = data.get("source", {}), data.get("rtm", {})
    for key in set(source) - _SOURCE:
        _fail(path, f"unknown key 'source.{key}'", f"use only {', '.join(sorted(_SOURCE))}", key)
    for key in set(rtm) - _RTM:
        _fail(path, f"unknown key 'rtm.{key}'", f"use only {', '.join(sorted(_RTM))}", key)
    name = str(data.get("name", "")).strip()
    if not name or not name.replace("_", "").isalnum():
        _fail(path, "name must be a single word (letters, digits, underscores)", "set name = \"pubs\" or similar", "name")
    geometry = data.get("geometry", "point")
    if geometry not in GEOMETRIES:
        _fail(path, f"geometry '{geometry}' is not one of {', '.join(GEOMETRIES)}", "choose one of them", "geometry")
    op = rtm.get("operationalisation", "auto")
    if op not in OPERATIONALISATIONS:
        _fail(path, f"operationalisation '{op}' is not one of {', '.join(OPERATIONALISATIONS)}",
              "choose one of them", "rtm.operationalisation")
    if "max_influence_m" not in rtm:
        _fail(path, "rtm.max_influence_m is missing", "add it under [rtm], e.g. max_influence_m = 450",
              "rtm.max_influence_m")
    dist = rtm["max_influence_m"]
    if isinstance(dist, bool) or not isinstance(dist, (int, float)) or not dist > 0:
        _fail(path, f"max_influence_m '{dist}' is not a positive number of metres", "set it, e.g. 450",
              "rtm.max_influence_m")
    where = str(source.get("where", "")).strip() or None
    if where:
        parse_filter(where, str(path))
    file = str(source.get("file", "")).strip()
    return LayerSpec(name, str(data.get("title", name)), str(data.get("description", "")), geometry,
                     str(source.get("kind", "")), where, (path.parent / file).resolve() if file else None,
                     op, float(dist), path)


def load_catalogue(folder) -> dict[str, LayerSpec]:
    """All ``*.toml`` entries of a catalogue folder, by name (sorted).

    Raises
    ------
    InputError
        A missing folder, an unreadable entry, or two entries with the same name.
    """
    folder = Path(folder)
    if not folder.is_dir():
        _fail(folder, "the catalogue folder does not exist", "point at the project's layers/ folder")
    specs: dict[str, LayerSpec] = {}
    for f in sorted(folder.glob("*.toml")):
        spec = read_spec(f)
        if spec.name in specs:
            _fail(f, f"the name '{spec.name}' is also used by {specs[spec.name].path.name}", "give each entry its own name")
        specs[spec.name] = spec
    if not specs:
        _fail(folder, "the catalogue folder has no .toml entries", "add one file per attractor (see layers/README.md)")
    return specs
