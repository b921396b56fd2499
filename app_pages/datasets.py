"""The data sets the app works on (bundled samples, or uploads), their periods, and the
attractor catalogue: loaded once per server process and never modified."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st

from rtm.catalogue import Factor, load_catalogue
from rtm.periods import Period, month_period, periods_between, week_period
from rtm.samples import SAMPLE_DIR, SAMPLES
from rtm.terrain_settings import RtmSettings

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "layers"
DEFAULT_SAMPLE = "chicago"
"""The data set the app opens on: weekly lists with a risk terrain from the catalogue."""


@dataclass(frozen=True)
class ModelSettings:
    """The risk terrain a user picked: factor names (catalogue entries or uploaded layers)
    and the :class:`~rtm.terrain_settings.RtmSettings` they are fitted with."""

    factors: tuple = ()
    rtm: RtmSettings = field(default_factory=lambda: RtmSettings(cell_size=100.0))

    @property
    def key(self) -> str:
        """A text key for caches (every field)."""
        return f"{','.join(self.factors)}|{sorted(self.rtm.describe().items())}"


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
    workspace: object = None
    """The :class:`rtm.workspace.Workspace` the data set comes from, or None (a sample, an upload)."""
    exclusions: object = None
    """Polygons never listed (a GeoDataFrame in the areas' CRS), or None."""
    planned: dict = field(default_factory=dict)
    """Factors as the workspace plans them (name -> :class:`rtm.catalogue.Factor`)."""
    settings: object = None
    """List settings chosen on the List settings page for a session with no workspace
    (:class:`rtm.weekly.ListSettings`), or None (see :mod:`app_pages.list_settings`)."""

    @property
    def data_id(self) -> str:
        """The id of the data alone, without the list settings a session's view adds to ``id``
        (:mod:`app_pages.list_settings`): what terrains, layers and model choices are kept under."""
        return self.id.split("~", 1)[0]

    @property
    def districts(self) -> list[str]:
        return [str(n) for n in self.areas.names]

    @property
    def incidents_loaded(self) -> bool:
        """True when ``incidents`` costs nothing to ask for (a workspace reads them on first
        use: :mod:`app_pages.workspace_data`)."""
        return True

    def replaced(self, **changes) -> "Dataset":
        """A copy with ``changes`` (field values), the incidents not read."""
        new = copy.copy(self)
        for name, value in changes.items():
            setattr(new, name, value)
        return new

    @property
    def list_settings(self):
        """How lists are made: the workspace's settings, else the defaults with the data set's
        boundary tolerance."""
        from rtm.weekly import ListSettings

        if self.settings is not None:
            return self.settings
        if self.workspace is not None:
            return self.workspace.job.settings
        return ListSettings(area_tolerance_m=self.area_tolerance_m)

    def factor(self, name: str) -> Factor:
        """The factor ``name``: as the workspace plans it, an uploaded file as it is, or the
        catalogue entry of that name."""
        if name in self.planned:
            return self.planned[name]
        if name in self.layer_files:
            return Factor(name, None, str(self.layer_files[name]))
        return Factor(name, catalogue()[name])


@st.cache_resource(show_spinner="Loading the sample data...")
def load_sample(key: str) -> Dataset:
    """Load a bundled sample once per server process (it is never modified)."""
    s = SAMPLES[key]
    inc, areas = s.load()
    return Dataset(id=key, title=s.title, incidents=inc, areas=areas, kind=s.period_kind,
                   area_tolerance_m=s.area_tolerance_m, default_period=s.default_period,
                   model=ModelSettings(tuple(s.factors), RtmSettings(s.cell_size, s.block_length, s.bands)))


def load_workspace_dataset(folder: str) -> Dataset:
    """The workspace's data, model and list settings as a :class:`Dataset`, loaded once per
    server process by the weekly job's own loader (:func:`rtm.weekly_job.load_study`), and
    again when files are added to its ``uploads/incidents/`` (a listing of that folder per
    call). InputError when its config or data cannot be used."""
    from rtm.workspace import UPLOADS

    added = Path(folder) / UPLOADS
    state = tuple(sorted((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in added.iterdir()
                         if f.is_file())) if added.is_dir() else ()
    return _workspace_dataset(folder, state)


@st.cache_resource(show_spinner="Loading the workspace...", max_entries=4)
def _workspace_dataset(folder: str, uploads_state: tuple) -> Dataset:
    from app_pages.workspace_data import workspace_dataset

    return workspace_dataset(folder)  # its incidents are read on first use


def forget_workspace() -> None:
    """Read workspaces again on their next use (after the List settings page changed a config)."""
    _workspace_dataset.clear()


def available_samples() -> dict:
    """Bundled samples whose files are present, default first."""
    have = {k: s for k, s in SAMPLES.items() if s.available(SAMPLE_DIR)}
    return dict(sorted(have.items(), key=lambda kv: kv[0] != DEFAULT_SAMPLE))


@st.cache_resource(show_spinner=False)
def catalogue() -> dict:
    """The attractor catalogue (``layers/``), read once."""
    return load_catalogue(CATALOGUE)


def catalogue_choices(ds: "Dataset | None" = None) -> list[str]:
    """Catalogue entries whose default file is present on this machine and, given a data set,
    whose features come near its districts (:func:`rtm.coverage.file_covers`)."""
    from rtm.coverage import file_covers

    return [name for name, spec in catalogue().items() if spec.file is not None and Path(spec.file).exists()
            and (ds is None or file_covers(spec.file, ds.areas.frame))]


@st.cache_resource(show_spinner="Loading attractor layers...", max_entries=64)
def _layer(_ds: Dataset, ds_id: str, name: str, buffer_m: float):
    return _ds.factor(name).load(areas=_ds.areas, buffer_m=buffer_m)


def layers_for(ds: Dataset, settings: ModelSettings) -> dict:
    """The attractor layers of ``settings.factors``, loaded with the model's buffer (each
    cached, so picking one more factor loads only that one)."""
    buffer_m = settings.rtm.attractor_buffer()
    return {n: _layer(ds, ds.data_id, n, buffer_m) for n in settings.factors}


# -- periods ---------------------------------------------------------------------------------
def make_period(kind: str, key: str) -> Period:
    """A :class:`Period` from its kind and key (``YYYY-MM-DD`` week start or ``YYYY-MM``)."""
    return week_period(key) if kind == "week" else month_period(key)


def period_choices(ds: Dataset) -> list[Period]:
    """Periods a list can be made for, newest first: from the second period of the data to
    the period holding the end of the data (its list uses everything before it). A workspace
    whose incidents are not read yet offers its published periods (one archive query; the
    first page only reads published lists), or reads them when nothing is published."""
    if ds.workspace is not None and not ds.incidents_loaded:
        from app_pages.published import published_periods

        published = published_periods(ds)
        if published:
            return published
    f = ds.incidents.frame
    first_day, last_day = f["date_start"].min(), f["date_end"].max()
    if pd.isna(first_day):
        return []
    first = make_period(ds.kind, f"{first_day:%Y-%m-%d}").next()
    periods = list(reversed(periods_between(first, last_day)))
    if ds.workspace is not None:  # the period the weekly run makes next: after the data
        from rtm.workspace import next_period

        after = next_period(ds.incidents, ds.kind, ds.workspace.week_start)
        if not periods or after.start > periods[0].start:
            periods.insert(0, after)
    return periods


def default_period_index(ds: Dataset, periods: list[Period]) -> int:
    """Where the sidebar's period list opens: in a workspace, its latest published period
    (one query of its archive); else the data set's default period; else the newest."""
    if ds.workspace is not None:
        from rtm.archive import Archive

        table = Archive(ds.workspace.archive_path).periods()
        published = set(table.loc[table["period_kind"] == ds.kind, "period_key"])
        for i, p in enumerate(periods):
            if p.key in published:
                return i
    if ds.default_period:
        key = make_period(ds.kind, ds.default_period).key
        keys = [p.key for p in periods]
        if key in keys:
            return keys.index(key)
    return 0
