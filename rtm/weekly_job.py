"""The weekly job: load the data, take the risk terrain serving the period, make the list and
publish it. ``rtm weekly`` runs :func:`run_weekly`; the app, whose data is already loaded,
publishes through :func:`publish_period`, the same steps after loading.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from .archive import Archive
from .catalogue import factor_treatments, load_factors
from .emerging import with_hotspot_class
from .errors import InputError
from .periods import Period
from .progress import Progress
from .terrain import RiskTerrain
from .terrain_settings import RtmSettings
from .terrain_store import FixedTerrain, TerrainStore
from .weekly import HarmSpotList, ListSettings, build_list, source_entries


@dataclass(frozen=True)
class StudyInputs:
    """What the incidents and the study area are read from.

    Attributes
    ----------
    incidents : tuple of str
        Files, folders or zips (:func:`rtm.incidents.load_incidents`).
    area : str
        Boundary polygons; ``area_field`` names each polygon's district (LSOA-style names
        are grouped by the text before the code) and ``area_select`` keeps some districts.
    area_tolerance_m : float
        Points up to this far outside the area are kept and given the nearest district.
    weights : HarmWeights
    mapping : ColumnMap or None
        Column roles of generic tables.
    crs, working_crs : str or None
        CRS of the input coordinates (None: inferred) and of the analysis (None: British
        National Grid in Great Britain, the local UTM zone elsewhere).
    dayfirst : bool
        Read ``dd/dd/yyyy`` as day/month (UK).
    limits : LoadLimits or None
        Size and row caps of the inputs (None: the loader's defaults).
    """

    incidents: tuple
    area: str
    weights: object
    area_field: str | None = None
    area_select: tuple = ()
    area_tolerance_m: float = 0.0
    mapping: object = None
    crs: str | None = None
    working_crs: str | None = None
    dayfirst: bool = True
    limits: object = None


def load_study(inputs: StudyInputs, progress: Progress | None = None):
    """Load the study area and the incidents; ``(areas, incidents)``
    (:func:`study_areas`, then :func:`study_incidents`).

    Raises
    ------
    InputError
        A file cannot be used, or no incident is usable in the study area.
    """
    areas = study_areas(inputs)
    return areas, study_incidents(inputs, areas, progress)


def study_areas(inputs: StudyInputs):
    """The study area alone (:class:`rtm.areas.Areas`): one read of the boundary file, a
    small part of :func:`load_study`'s cost. InputError when it cannot be used."""
    from .areas import load_areas

    return load_areas(inputs.area, inputs.area_field, select=list(inputs.area_select) or None,
                      working_crs=inputs.working_crs)


def study_incidents(inputs: StudyInputs, areas, progress: Progress | None = None):
    """The incidents of ``inputs`` in the study area ``areas`` (:func:`study_areas`); the
    costly part of :func:`load_study` (every incident file read, checked and placed).

    Raises
    ------
    InputError
        A file cannot be used, or no incident is usable in the study area.
    """
    from .incidents import load_incidents

    inc = load_incidents(list(inputs.incidents), mapping=inputs.mapping, crs=inputs.crs, working_crs=areas.crs,
                         weights=inputs.weights, areas=areas, area_tolerance_m=inputs.area_tolerance_m,
                         dayfirst=inputs.dayfirst, limits=inputs.limits, progress=progress)
    if inc.report.rows_used == 0:
        raise InputError(inputs.incidents[0], "no incident is usable in the study area",
                         "check the files with 'rtm validate' and the study area's districts")
    return inc


@dataclass(frozen=True)
class TerrainPlan:
    """Where a list's risk terrain comes from: factors fitted with ``settings`` (refitted every
    ``refit_every`` periods and kept in ``folder``), a terrain fitted elsewhere
    (``model_dir``), or none (ranked by recent harm alone)."""

    factors: tuple = ()
    settings: RtmSettings = field(default_factory=RtmSettings)
    model_dir: str | None = None
    refit_every: int | None = None
    folder: str | None = None

    @property
    def any(self) -> bool:
        return bool(self.factors or self.model_dir)


def with_catalogue_treatments(factors, settings: RtmSettings) -> RtmSettings:
    """``settings`` with the catalogue's treatment of each factor that has an entry, under the
    settings' own (what the user asked for wins)."""
    ops, max_m = factor_treatments(list(factors))
    return replace(settings, operationalisations=ops | settings.operationalisation_map,
                   max_influence_m=max_m | settings.max_influence_map)


def terrain_source(plan: TerrainPlan, incidents, areas, progress: Progress | None = None):
    """``(source, layers)``: a :class:`TerrainStore` over the plan's factors (loaded here, with
    the catalogue's treatments under the plan's own), a :class:`FixedTerrain` for
    ``model_dir``, or ``(None, {})``. InputError when a layer or the terrain cannot be read."""
    if plan.model_dir:
        return FixedTerrain(RiskTerrain.read(plan.model_dir), source=str(plan.model_dir)), {}
    if not plan.factors:
        return None, {}
    factors = list(plan.factors)
    settings = with_catalogue_treatments(factors, plan.settings)
    layers = load_factors(factors, areas, settings.attractor_buffer(), progress)
    store = TerrainStore(incidents, areas, layers, settings, folder=plan.folder, every=plan.refit_every,
                         progress=progress)
    return store, layers


@dataclass
class WeeklyRun:
    """What a weekly job did.

    Attributes
    ----------
    list : HarmSpotList
    paths : dict of str to Path
        The files published (:func:`rtm.publish.publish`).
    previous : DataFrame or None
        The archived list of the period before, which movement is measured against.
    terrain : RiskTerrain or None
    terrain_how : str
        ``fitted``, ``read`` (from the model folder), ``given`` (``model_dir``) or ``none``.
    terrain_key : str or None
        The stored terrain's key (the sub-folder of the model folder).
    fit_to : pandas.Timestamp or None
        The refit date the terrain was fitted up to (its block's start).
    incidents, areas, layers
        What was loaded (for the front end's accounting lines).
    """

    list: HarmSpotList
    paths: dict
    previous: pd.DataFrame | None
    terrain: RiskTerrain | None
    terrain_how: str
    terrain_key: str | None
    fit_to: pd.Timestamp | None
    incidents: object
    areas: object
    layers: dict


def publish_period(incidents, areas, period: Period, *, terrain_from=None, settings: ListSettings = ListSettings(),
                   out_dir, archive: Archive | None = None, exclusions=None, streets=None, street_name: str = "name",
                   inputs: dict | None = None, layers: dict | None = None, recording_points="default",
                   marking: str = "OFFICIAL") -> WeeklyRun:
    """Make and publish ``period``'s list from loaded data.

    Parameters
    ----------
    incidents, areas
        Loaded (:func:`load_study`).
    period : Period
    terrain_from : TerrainStore, FixedTerrain or None
        Answers ``.for_period(period)`` (checked for look-ahead); None ranks by harm alone.
    settings : ListSettings
    out_dir : str or Path
        The lists folder: the period's files go in ``out_dir/<period>/``.
    archive : Archive, optional
        Default ``out_dir/archive.sqlite``; movement and weeks on the list come from it.
    exclusions, streets, street_name, inputs, recording_points
        As :func:`rtm.weekly.build_list`.
    marking : str
        The protective marking of the briefing.
    layers : dict, optional
        The terrain's layers, named with their files in provenance.

    Returns
    -------
    WeeklyRun

    Notes
    -----
    Cost: the terrain (a fit the first time a refit block is asked for, unless the model
    folder holds it), one list (about a second per district) and the exports.
    """
    from .publish import publish

    archive = archive or Archive(Path(out_dir) / "archive.sqlite")
    terrain, how, key, fit_to = None, "none", None, None
    if isinstance(terrain_from, TerrainStore):
        entry = terrain_from.entry(period)
        terrain, how, key, fit_to = terrain_from.for_period(period), entry.how, entry.key, entry.fit_to
    elif terrain_from is not None:
        terrain, how = terrain_from.for_period(period), "given"
    extra = dict(inputs or {})
    if layers:
        extra["layers"] = {n: source_entries(layer.report.sources) for n, layer in layers.items()}
    previous = archive.previous(period, areas.names)
    lst = build_list(incidents, areas, period, terrain=terrain, settings=settings, exclusions=exclusions,
                     streets=streets, street_name=street_name, previous=previous, inputs=extra,
                     recording_points=recording_points)
    lst = with_hotspot_class(lst, incidents)  # a column added after the list is made (rtm.emerging)
    paths = publish(lst, out_dir, archive=archive, districts=areas.frame, marking=marking)
    return WeeklyRun(lst, paths, previous, terrain, how, key, fit_to, incidents, areas, dict(layers or {}))


def read_vector(path, what: str, crs):
    """Exclusion polygons or street lines as a GeoDataFrame in ``crs``.

    Raises
    ------
    InputError
        The file cannot be read or has no CRS.
    """
    import geopandas as gpd
    import pyogrio

    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise InputError(path, f"the {what} file cannot be read ({exc})",
                         f"give the {what} as GeoJSON, GeoPackage or Shapefile") from None
    if frame.crs is None:
        raise InputError(path, f"the {what} file does not say which coordinate system it is in",
                         "save it with its CRS (e.g. EPSG:27700)")
    return frame.to_crs(crs)


@dataclass(frozen=True)
class WeeklyJob:
    """Everything a scheduled weekly run needs besides the period.

    Attributes
    ----------
    study : StudyInputs
    terrain : TerrainPlan
    settings : ListSettings
    out_dir : str
        The lists folder (``out_dir/<period>/`` and ``out_dir/archive.sqlite``).
    archive : str or None
        Another archive file.
    exclusions, streets : str or None
        Polygons never to list; named street lines to label spots by.
    street_name : str
        The streets' name column.
    recording_points : str or None
        A CSV of places where crimes are recorded rather than committed (None: the project's
        table, :mod:`rtm.recording_points`); ``keep_recording_points`` keeps them listed.
    marking : str
        The protective marking on every page of the briefing.
    week_start : str
        The first day of the week (for provenance; the period says the rest).
    """

    study: StudyInputs
    out_dir: str
    terrain: TerrainPlan = field(default_factory=TerrainPlan)
    settings: ListSettings = field(default_factory=ListSettings)
    archive: str | None = None
    exclusions: str | None = None
    streets: str | None = None
    street_name: str = "name"
    recording_points: str | None = None
    keep_recording_points: bool = False
    marking: str = "OFFICIAL"
    week_start: str = "monday"

    def recording_point_table(self):
        """The :class:`~rtm.recording_points.RecordingPoints` left out of lists, or None."""
        from .recording_points import RecordingPoints

        if self.keep_recording_points:
            return None
        return RecordingPoints.from_csv(self.recording_points) if self.recording_points else RecordingPoints.default()

    def provenance_inputs(self) -> dict:
        """The run's extra provenance (:func:`rtm.provenance.list_inputs`)."""
        from .provenance import list_inputs

        return list_inputs(self.study.weights, exclusions=self.exclusions, streets=self.streets,
                           recording_points=self.recording_points, week_start=self.week_start,
                           area_tolerance_m=self.study.area_tolerance_m)


def run_weekly(job: WeeklyJob, period, progress: Progress | None = None) -> WeeklyRun:
    """Load, take the period's terrain, make the list and publish it (:func:`publish_period`).

    ``period`` is a :class:`Period`, or a function of the loaded incidents returning one (a
    scheduled run's "the period after the data", :func:`rtm.workspace.next_period`). The
    model folder defaults to ``out_dir/models``. InputError for anything that stops it;
    nothing is published then (:func:`rtm.publish.publish` is all or nothing).
    """
    from .mapstreets import read_streets

    areas, inc = load_study(job.study, progress)
    if callable(period):
        period = period(inc)
    plan = job.terrain
    if plan.factors and plan.folder is None:
        plan = replace(plan, folder=str(Path(job.out_dir) / "models"))
    source, layers = terrain_source(plan, inc, areas, progress)
    zones = read_vector(job.exclusions, "exclusion zones", areas.crs) if job.exclusions else None
    streets = read_streets(job.streets, job.street_name, areas.crs, key="streets.file") if job.streets else None
    archive = Archive(job.archive or Path(job.out_dir) / "archive.sqlite")
    return publish_period(inc, areas, period, terrain_from=source, settings=job.settings, out_dir=job.out_dir,
                          archive=archive, exclusions=zones, streets=streets, street_name=job.street_name,
                          layers=layers, inputs=job.provenance_inputs(), recording_points=job.recording_point_table(),
                          marking=job.marking)


__all__ = ["StudyInputs", "TerrainPlan", "WeeklyJob", "WeeklyRun", "load_study", "publish_period",
           "read_vector", "run_weekly", "terrain_source"]
