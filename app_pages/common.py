"""What every page of the app shares: the chosen data set, period and district, and the cached
library calls behind them.

The pages are a thin front end: data is loaded by :mod:`rtm.samples`/:mod:`rtm.incidents`,
the risk terrain is fitted by :mod:`rtm.pipeline`, lists are made by
:func:`rtm.weekly.build_list` and maps by :mod:`rtm.mapview`. This module only decides
what is cached and under which key, so that switching district or period never reloads
data or refits a model that is already there:

* data sets (samples) and attractor layers: ``st.cache_resource`` (never modified);
* fitted models: :func:`model_store`, one per (data set, model settings, refit date);
* lists: ``st.cache_resource`` keyed on (data set id, period, model settings, list settings).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import pandas as pd
import streamlit as st

from rtm.catalogue import load_catalogue
from rtm.errors import InputError
from rtm.periods import Period, month_period, periods_between, week_period
from rtm.samples import SAMPLES, SAMPLE_DIR

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "layers"
DEFAULT_SAMPLE = "chicago"
"""The data set the app opens on: weekly lists with a risk terrain from the catalogue."""
ALL = "All districts"
MOVEMENT_DEPTH = 1
"""Movement and weeks on the list are followed back over this many earlier periods (each
costs one more list when a new period is picked; 1 keeps a switch well under 2 s)."""
log = logging.getLogger("rtm.app")


# -- settings --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelSettings:
    """Risk terrain model settings: catalogue/uploaded factor names and the RTM parameters."""

    factors: tuple = ()
    cell_size: float = 100.0
    block_length: float = 100.0
    bands: int = 3
    increment: str = "whole"

    @property
    def key(self) -> str:
        """A text key for caches (every field)."""
        return f"{','.join(self.factors)}|{self.cell_size:g}|{self.block_length:g}|{self.bands}|{self.increment}"


@dataclass
class Dataset:
    """Loaded data the pages work on.

    ``id`` names it in every cache key (the sample key, or ``upload-<hash>``); ``layer_files``
    maps uploaded attractor layer names to files (catalogue entries need none).
    """

    id: str
    title: str
    incidents: object
    areas: object
    kind: str
    area_tolerance_m: float = 0.0
    default_period: str | None = None
    model: ModelSettings = field(default_factory=ModelSettings)
    layer_files: dict = field(default_factory=dict)
    streets: object = None
    street_label: str | None = None

    @property
    def districts(self) -> list[str]:
        return [str(n) for n in self.areas.names]


# -- data sets -------------------------------------------------------------------------------
@st.cache_resource(show_spinner="Loading the sample data...")
def load_sample(key: str) -> Dataset:
    """Load a bundled sample once per server process (it is never modified)."""
    s = SAMPLES[key]
    inc, areas = s.load()
    return Dataset(id=key, title=s.title, incidents=inc, areas=areas, kind=s.period_kind,
                   area_tolerance_m=s.area_tolerance_m, default_period=s.default_period,
                   model=ModelSettings(tuple(s.factors), s.cell_size, s.block_length, s.bands))


def available_samples() -> dict:
    """Bundled samples whose files are present, default first."""
    have = {k: s for k, s in SAMPLES.items() if s.available(SAMPLE_DIR)}
    return dict(sorted(have.items(), key=lambda kv: kv[0] != DEFAULT_SAMPLE))


@st.cache_resource(show_spinner=False)
def catalogue() -> dict:
    """The attractor catalogue (``layers/``), read once."""
    return load_catalogue(CATALOGUE)


def catalogue_choices() -> list[str]:
    """Catalogue entries whose default file is present on this machine."""
    out = []
    for name, spec in catalogue().items():
        if spec.file is not None and Path(spec.file).exists():
            out.append(name)
    return out


@st.cache_resource(show_spinner="Loading attractor layers...", max_entries=64)
def _layer(_ds: Dataset, ds_id: str, name: str, buffer_m: float):
    from rtm.layers import load_layer

    if name in _ds.layer_files:
        return load_layer(_ds.layer_files[name], name=name, areas=_ds.areas, buffer_m=buffer_m)
    return catalogue()[name].load(None, areas=_ds.areas, buffer_m=buffer_m)


def layers_for(ds: Dataset, settings: ModelSettings) -> dict:
    """The attractor layers of ``settings.factors``, loaded with the model's buffer (cached)."""
    from rtm.variables import attractor_buffer  # not rtm.pipeline: that imports the model fitting code

    buf = attractor_buffer(settings.block_length, settings.bands, settings.increment)
    return {n: _layer(ds, ds.id, n, buf) for n in settings.factors}


# -- periods ---------------------------------------------------------------------------------
def make_period(kind: str, key: str) -> Period:
    """A :class:`Period` from its kind and key (``YYYY-MM-DD`` week start or ``YYYY-MM``)."""
    return week_period(key) if kind == "week" else month_period(key)


def period_choices(ds: Dataset) -> list[Period]:
    """Periods a list can be made for, newest first: from the second period of the data to
    the period holding the end of the data (its list uses everything before it)."""
    f = ds.incidents.frame
    first_day, last_day = f["date_start"].min(), f["date_end"].max()
    if pd.isna(first_day):
        return []
    first = make_period(ds.kind, f"{first_day:%Y-%m-%d}").next()
    return list(reversed(periods_between(first, last_day)))


def default_period_index(ds: Dataset, periods: list[Period]) -> int:
    if ds.default_period:
        key = make_period(ds.kind, ds.default_period).key
        keys = [p.key for p in periods]
        if key in keys:
            return keys.index(key)
    return 0


# -- the model -------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def model_store() -> dict:
    """Models of this server process by (data set id, settings key, fit-to date):
    ``(RtmResult, RiskTerrain)`` when fitted here, ``(None, RiskTerrain)`` when the terrain
    was read from :func:`model_dir`, or the :class:`InputError` that stopped the fit."""
    return {}


_FIT_LOCK = threading.Lock()  # one fit at a time; a second caller waits for it, never repeats it


def model_dir() -> Path:
    """Where fitted terrains are kept between restarts: ``RTM_MODEL_DIR``, else ``runs/models``
    in the app's folder (docs/deployment.md)."""
    return Path(os.environ.get("RTM_MODEL_DIR") or ROOT / "runs" / "models")


def fit_model(ds: Dataset, settings: ModelSettings, fit_to: pd.Timestamp,
              progress: Callable[[str], None] | None = None):
    """The risk terrain model of the year of incidents before ``fit_to``, fitted once per
    server process; its terrain is also stored in :func:`model_dir` for later restarts.

    Returns ``(RtmResult, RiskTerrain)``. Raises :class:`InputError` when it cannot be
    fitted (too few incidents, a layer that cannot be read...); that answer is kept too.
    Costs a fit (about 1 s on the Chicago sample) unless this process has already made it.

    The data window and the terrain are those of :func:`rtm.publish.fit_model` (every
    incident with positive harm counts once, 52 weeks or 12 months before ``fit_to``).
    """
    store = model_store()
    key = (ds.id, settings.key, f"{fit_to:%Y-%m-%d}")
    _no_factors(settings)
    with _FIT_LOCK:
        hit = store.get(key)
        if hit is None or isinstance(hit, tuple) and hit[0] is None:  # none yet, or a stored terrain only
            store[key] = _fit(ds, settings, fit_to, progress)
    return _answer(store[key])


def terrain_of(ds: Dataset, settings: ModelSettings, fit_to: pd.Timestamp):
    """The :class:`RiskTerrain` fitted on the year before ``fit_to``: from this process, else
    read from :func:`model_dir` (a few hundredths of a second), else fitted (:func:`fit_model`).
    Raises :class:`InputError` as :func:`fit_model` does."""
    from rtm.publish import stored_terrain

    store = model_store()
    key = (ds.id, settings.key, f"{fit_to:%Y-%m-%d}")
    _no_factors(settings)
    with _FIT_LOCK:
        if key not in store:
            try:
                disk_key = _disk_key(ds, settings, fit_to)
                terrain = stored_terrain(model_dir(), disk_key)
            except (InputError, OSError):
                disk_key = terrain = None  # a layer that cannot be read: the fit below says so properly
            store[key] = (None, terrain) if terrain is not None else _fit(ds, settings, fit_to, None, disk_key)
    return _answer(store[key])[1]


def _no_factors(settings: ModelSettings) -> None:
    if not settings.factors:
        raise InputError("model", "no attractor layer is chosen", "pick factors on the Risk terrain model page")


def _answer(hit):
    if isinstance(hit, InputError):
        raise hit
    return hit


def _factor_options(ds: Dataset, settings: ModelSettings) -> tuple[dict, dict]:
    """Catalogue treatments of the chosen factors: ``(operationalisations, max influence m)``."""
    cat = catalogue()
    names = [n for n in settings.factors if n in cat and n not in ds.layer_files]
    return {n: cat[n].operationalisation for n in names}, {n: cat[n].max_influence_m for n in names}


def _disk_key(ds: Dataset, settings: ModelSettings, fit_to: pd.Timestamp) -> str:
    from rtm.publish import model_key

    ops, max_m = _factor_options(ds, settings)
    return model_key(ds.incidents, ds.areas, layers_for(ds, settings), fit_to, cell_size=settings.cell_size,
                     block_length=settings.block_length, bands=settings.bands, increment=settings.increment,
                     operationalisations=ops or None, max_influence_m=max_m or None,
                     extra=("app", ds.area_tolerance_m))


def _fit(ds: Dataset, settings: ModelSettings, fit_to: pd.Timestamp, progress, disk_key: str | None = None):
    """:func:`fit_model`'s work: ``(RtmResult, RiskTerrain)``, or the :class:`InputError`.
    The terrain is written to :func:`model_dir` under ``disk_key`` (worked out here when not
    given); if that fails the app goes on without it."""
    from rtm.publish import fit_model, store_terrain

    try:
        layers = layers_for(ds, settings)
        ops, max_m = _factor_options(ds, settings)
        result, terrain = fit_model(ds.incidents, ds.areas, layers, fit_to, ds.kind, cell_size=settings.cell_size,
                                    block_length=settings.block_length, bands=settings.bands,
                                    increment=settings.increment, operationalisations=ops or None,
                                    max_influence_m=max_m or None, progress=progress)
        result.inputs.update({"incidents": f"{ds.title}: {result.inputs['incidents']}",
                              "area": ", ".join(ds.districts)})
    except InputError as exc:
        return exc
    try:
        store_terrain(model_dir(), disk_key or _disk_key(ds, settings, fit_to), terrain)
    except OSError as exc:  # a read-only folder: keep the model in memory only
        log.warning("could not keep the fitted terrain in %s: %s", model_dir(), exc)
    return result, terrain


def terrain_for(ds: Dataset, settings: ModelSettings, period: Period):
    """``(RiskTerrain or None, note)`` for a period's list: the model of its refit block
    (:func:`rtm.publish.refit_date`), or None with the reason when there is none."""
    from rtm.publish import refit_date

    if not settings.factors:
        return None, "No attractor layers are chosen: spots are ranked by recent harm alone."
    try:
        return terrain_of(ds, settings, refit_date(period)), ""
    except InputError as exc:
        return None, f"No risk terrain for this period ({exc}); spots are ranked by recent harm alone."


# -- lists -----------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=512)
def _list(_ds: Dataset, ds_id: str, kind: str, period_key: str, _settings: ModelSettings, model_key: str,
          depth: int):
    from rtm.weekly import ListSettings, build_list

    period = make_period(kind, period_key)
    terrain, note = terrain_for(_ds, _settings, period)
    previous = None
    if depth > 0 and (_ds.incidents.frame["date_end"] <= period.previous().start).any():
        try:
            prev, _ = _list(_ds, ds_id, kind, period.previous().key, _settings, model_key, depth - 1)
            previous = prev.as_previous()
        except InputError:
            previous = None
    lst = build_list(_ds.incidents, _ds.areas, period, terrain=terrain,
                     settings=ListSettings(area_tolerance_m=_ds.area_tolerance_m), streets=_ds.streets,
                     street_name=_ds.street_label or "name", previous=previous)
    return lst, note


def harm_list(ds: Dataset, settings: ModelSettings, period: Period):
    """``(HarmSpotList, note)`` of every district for ``period`` (cached).

    Movement comes from the previous period's list, made the same way in memory and followed
    back :data:`MOVEMENT_DEPTH` periods (so ``weeks_on_list`` counts up to that plus one).
    Raises :class:`InputError` as :func:`rtm.weekly.build_list` does.
    """
    return _list(ds, ds.id, period.kind, period.key, settings, settings.key, MOVEMENT_DEPTH)


# -- the view shared by the pages ------------------------------------------------------------
@dataclass
class View:
    """The sidebar's choices: data set, period, district (None: all), model settings, basemap."""

    ds: Dataset
    periods: list
    period: Period | None
    district: str | None
    model: ModelSettings
    tiles: str | None = None
    attribution: str | None = None


def model_settings(ds: Dataset) -> ModelSettings:
    """The model settings of ``ds`` in this session (the sample's defaults until changed)."""
    chosen = st.session_state.setdefault("model_settings", {})
    return chosen.get(ds.id, ds.model)


def set_model_settings(ds: Dataset, settings: ModelSettings) -> None:
    st.session_state.setdefault("model_settings", {})[ds.id] = settings


def current_view() -> View:
    """The :class:`View` the entry script made in this run."""
    return st.session_state["_view"]


def cap(text: str) -> str:
    """``text`` with its first letter upper-case (the rest left as it is)."""
    return text[:1].upper() + text[1:]


def show_error(exc: BaseException, doing: str) -> None:
    """Show a problem without a traceback: an :class:`InputError` as it reads, anything else
    as one short line (the details go to the server log)."""
    if isinstance(exc, InputError):
        st.error(str(exc))
    else:
        log.exception("unexpected error while %s", doing)
        st.error(f"Something went wrong while {doing} ({type(exc).__name__}). The details are in the "
                 "server log; please pass them to whoever looks after the app.")


# -- uploads ---------------------------------------------------------------------------------
UPLOAD_TYPES = ("csv", "zip", "geojson", "json", "gpkg", "parquet")
"""File types accepted for upload. Shapefiles come zipped; nothing uploaded is executed or unpickled."""


def upload_limit_mb() -> int:
    """The upload size limit in MB: ``RTM_UPLOAD_LIMIT_MB``, else Streamlit's ``server.maxUploadSize``."""
    env = os.environ.get("RTM_UPLOAD_LIMIT_MB")
    if env and env.isdigit():
        return int(env)
    return int(st.get_option("server.maxUploadSize"))


def safe_name(name: str) -> str:
    """A file name safe to write in the upload folder: no folders, only letters, digits, ``._-``."""
    base = re.split(r"[\\/]", str(name))[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).lstrip(".") or "upload"
    return base[:120]


def upload_dir() -> Path:
    """This session's upload folder (under ``RTM_UPLOAD_DIR``, else the system temp folder)."""
    if "_upload_dir" not in st.session_state or not Path(st.session_state["_upload_dir"]).is_dir():
        root = os.environ.get("RTM_UPLOAD_DIR") or None
        if root:
            Path(root).mkdir(parents=True, exist_ok=True)
        st.session_state["_upload_dir"] = tempfile.mkdtemp(prefix="rtm-upload-", dir=root)
    return Path(st.session_state["_upload_dir"])


def save_upload(file, folder: Path) -> Path:
    """Check an uploaded file's type and size and write it to ``folder`` under its sanitised
    name. Returns the path; raises :class:`InputError` for a type or size that is refused."""
    name = safe_name(file.name)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in UPLOAD_TYPES:
        raise InputError(file.name, f"files of type '.{ext}' are not accepted" if ext else "the file has no type",
                         f"upload one of: {', '.join('.' + t for t in UPLOAD_TYPES)} (zip a shapefile's parts)")
    limit = upload_limit_mb()
    if file.size > limit * 1024 * 1024:
        raise InputError(file.name, f"the file is {file.size / 1024 / 1024:,.0f} MB, over the {limit} MB limit",
                         "split it (e.g. by year) or ask for the limit to be raised (docs/deployment.md)")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(file.getvalue())
    return path


def replace_settings(settings: ModelSettings, **kw) -> ModelSettings:
    return replace(settings, **kw)


def list_or_stop(view):
    """``(HarmSpotList, note)`` of the view's period; otherwise a message and the page stops
    (undated data, or a list that cannot be made: shown without a traceback)."""
    if view.period is None:
        st.warning("The data has no dates, so no list can be made. Load dated incidents on the Data page.")
        st.stop()
    try:
        with st.spinner("Making the list..."):
            return harm_list(view.ds, view.model, view.period)
    except Exception as exc:  # noqa: BLE001 - shown without a traceback
        show_error(exc, "making the list")
        st.stop()
