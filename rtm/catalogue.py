"""The attractor layer catalogue: one small TOML file per kind of attractor in ``layers/``.

Each file says how to pick the attractor out of a source file and how the risk terrain
model should treat it by default. Analysts edit these files; the code only reads them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import InputError, setting_error
from .filters import parse_filter
from .terrain_settings import DEFAULT_OPERATIONALISATION, OPERATIONALISATIONS

if TYPE_CHECKING:  # geopandas comes with the layers (0.8 s): listing the catalogue does not need it
    from .layers import Layer

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
        Default RTM treatment (``both`` unless the entry says); ``auto`` follows the RTMDx
        rule (nearest-neighbour test).
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
                             f"give the source file, for example {self.name}=FILE")
        from .layers import load_layer

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
    op = rtm.get("operationalisation", DEFAULT_OPERATIONALISATION)
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


# -- factors of a run ----------------------------------------------------------------------
CATALOGUE_FILTER = "catalogue"
"""The FILTER of ``NAME=FILE:catalogue``: apply the catalogue entry's own filter to FILE."""


@dataclass(frozen=True)
class Factor:
    """One risk factor of a run: where its features come from and how it is treated.

    Attributes
    ----------
    name : str
        A single word naming the factor in tables and settings.
    spec : LayerSpec or None
        The catalogue entry of that name, when there is one.
    file : str or None
        An explicit file (None: the entry's default file).
    where : str or None
        An explicit filter, or :data:`CATALOGUE_FILTER` for the entry's own filter. An
        explicit file without a filter is used whole: the entry's filter applies only to
        its default file (``--factors``) or when asked for with ``NAME=FILE:catalogue``.
    """

    name: str
    spec: LayerSpec | None = None
    file: str | None = None
    where: str | None = None

    def load(self, *, areas=None, buffer_m: float = 0.0) -> Layer:
        """Read the factor's features (see :func:`rtm.layers.load_layer`); InputError when unusable."""
        if self.spec is not None and (self.file is None or self.where == CATALOGUE_FILTER):
            try:
                return self.spec.load(self.file, areas=areas, buffer_m=buffer_m)
            except InputError as exc:
                if "filter names the field" not in exc.problem or not self.spec.where:
                    raise
                raise InputError(exc.source, f"the filter '{self.spec.where}' of the catalogue entry "
                                 f"'{self.name}' ({self.spec.path.name}) {exc.problem.partition('filter ')[2]}",
                                 f"give the file without a filter to use all of it ({self.name}=FILE), "
                                 f"or a filter of your own ({self.name}=FILE:'FIELD = VALUE')",
                                 field=exc.field) from None
        if self.where == CATALOGUE_FILTER:
            raise setting_error("layers", f"'{self.name}' is not a catalogue entry, so it has no filter to apply",
                                "give a filter of your own, or none to use the whole file")
        from .layers import load_layer

        return load_layer(self.file, name=self.name, where=self.where, areas=areas, buffer_m=buffer_m)


def split_layer_item(item: str) -> tuple[str, str, str | None]:
    """``NAME=FILE[:FILTER]`` as ``(name, file, filter)``; a Windows drive letter is not a filter,
    and a path that exists is taken whole. InputError (setting ``layers``) when malformed."""
    name, eq, rest = item.partition("=")
    if not eq or not name.strip() or not rest.strip():
        raise setting_error("layers", f"'{item}' is not NAME=FILE", "write e.g. pubs=london_pois.zip")
    if Path(rest).exists():
        return name.strip(), rest, None
    start = 2 if len(rest) > 2 and rest[1] == ":" and rest[2] in "\\/" else 0
    cut = rest.find(":", start)
    if cut < 0:
        return name.strip(), rest, None
    return name.strip(), rest[:cut], rest[cut + 1:].strip() or None


def plan_factors(catalogue, names=(), layer_items=(), treatments: dict | None = None) -> list[Factor]:
    """Check a run's factors before any file is read.

    Parameters
    ----------
    catalogue : str or Path
        The catalogue folder (read when ``names`` are given, or when it exists).
    names : iterable of str
        Catalogue entries, each loaded from its default file (comma-separated lists allowed).
    layer_items : iterable of str
        ``NAME=FILE[:FILTER]`` items (:func:`split_layer_item`).
    treatments : dict of str to str, optional
        Operationalisations asked for by factor name; every name must be a factor.

    Returns
    -------
    list of Factor
        With neither ``names`` nor ``layer_items``: every entry that has a default file.

    Raises
    ------
    InputError
        Naming the setting (``factors``, ``layers``, ``operationalisations``): an unknown
        entry, a name given twice or not a single word, no factor at all, a treatment for
        something that is not a factor or not one of the operationalisations.
    """
    wanted = [n.strip() for item in names for n in str(item).split(",") if n.strip()]
    specs = load_catalogue(catalogue) if wanted or Path(catalogue).is_dir() else {}
    plan = []
    for n in wanted:
        if n not in specs:
            raise setting_error("factors", f"no catalogue entry is called '{n}'",
                                f"choose from: {', '.join(specs)} (the catalogue {Path(catalogue).name}/)")
        plan.append(Factor(n, specs[n]))
    for item in layer_items:
        n, file, where = split_layer_item(item)
        plan.append(Factor(n, specs.get(n), file, where))
    seen = [f.name for f in plan]
    for n in seen:
        if seen.count(n) > 1:
            raise setting_error("factors", f"the factor '{n}' is named twice", "name each factor once")
        if not n.replace("_", "").isalnum():
            raise setting_error("layers", f"the factor name '{n}' is not a single word",
                                "use letters, digits and underscores, e.g. bus_stops=FILE")
    if not plan:
        plan = [Factor(n, sp) for n, sp in specs.items() if sp.file is not None]
        seen = [f.name for f in plan]
    if not plan:
        raise setting_error("factors", "no risk factor was given and no catalogue entry has a default file",
                            "name catalogue entries, or files as NAME=FILE")
    for n, op in (treatments or {}).items():
        if n not in seen:
            raise setting_error("operationalisations", f"'{n}' is not one of the factors ({', '.join(seen)})",
                                "name a factor of the run")
        if op not in OPERATIONALISATIONS:
            raise setting_error("operationalisations", f"the operationalisation '{op}' of '{n}' is not one of "
                                f"{', '.join(OPERATIONALISATIONS)}", "choose one of them")
    return plan


def factor_treatments(plan: list[Factor]) -> tuple[dict, dict]:
    """The catalogue's treatment of each planned factor that has an entry:
    ``({name: operationalisation}, {name: max influence m})`` (for :class:`RtmSettings`)."""
    ops = {f.name: f.spec.operationalisation for f in plan if f.spec is not None}
    max_m = {f.name: f.spec.max_influence_m for f in plan if f.spec is not None}
    return ops, max_m


def covering(plan: list[Factor], areas) -> list[Factor]:
    """The factors whose file's extent overlaps the study area's (the default factors of a run).

    Parameters
    ----------
    plan : list of Factor
    areas : Areas
        The study area.

    Returns
    -------
    list of Factor
        Those whose file (explicit or the entry's default) has a bounding box touching the
        study area's, grown by 1 km: the Chicago entries' sample files are not used for a
        model of Southend. Reads only each file's header (``pyogrio.read_info``); a file it
        cannot read is kept, so loading reports the problem.

    Raises
    ------
    InputError
        (setting ``factors``) when no factor's file covers the study area.
    """
    import pyogrio
    import shapely

    from . import coords

    box = shapely.box(*areas.frame.total_bounds).buffer(1000.0)
    kept = []
    for f in plan:
        src = f.file or (f.spec.file if f.spec is not None else None)
        try:
            info = pyogrio.read_info(src, force_total_bounds=True)
            b = info["total_bounds"]
            x, y = coords.project(np.array([b[0], b[2]]), np.array([b[1], b[3]]), coords.to_crs(info["crs"]),
                                  areas.crs)
        except Exception:  # noqa: BLE001 - an unreadable file is reported when it is loaded
            kept.append(f)
            continue
        if np.isfinite(x).all() and np.isfinite(y).all() and box.intersects(shapely.box(x[0], y[0], x[1], y[1])):
            kept.append(f)
    if not kept:
        raise setting_error("factors", "no catalogue entry's default file covers the study area "
                            f"(entries with files: {', '.join(f.name for f in plan)})",
                            "name files for this area as NAME=FILE")
    return kept


def load_factors(plan: list[Factor], areas=None, buffer_m: float = 0.0, progress=None) -> dict[str, Layer]:
    """Load every planned factor, keeping features within ``buffer_m`` of ``areas``.

    ``progress(done, total, name)`` is called before each layer is read. Returns the layers
    by name, in plan order. InputError when a file cannot be used."""
    out = {}
    for i, f in enumerate(plan):
        if progress is not None:
            progress(i, len(plan), f"loading layer {f.name}")
        out[f.name] = f.load(areas=areas, buffer_m=buffer_m)
    return out
