"""A force workspace as the app's :class:`~app_pages.datasets.Dataset`, its incidents read on
first use: the first page of a period the weekly run published draws from the published files
(:mod:`app_pages.published_map`) and never waits for the incidents; any page or layer that
needs them reads them once per server process, through the weekly job's own loader
(:func:`rtm.weekly_job.study_incidents`)."""

from __future__ import annotations

import threading
from pathlib import Path

from app_pages.datasets import Dataset, ModelSettings


class LazyIncidents:
    """Incidents read by ``load`` on the first :meth:`get` (once, under a lock: sessions share
    the data set), with a spinner in the page that asked."""

    def __init__(self, load):
        self._load = load
        self._value = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._value is not None

    def get(self):
        """The incidents (:class:`rtm.incidents.Incidents`): read now if not yet (about a second
        for a force's year of police.uk data), else at no cost. InputError as the loader's."""
        if self._value is None:
            import streamlit as st

            with self._lock, st.spinner("Loading the workspace's incidents..."):
                if self._value is None:
                    self._value = self._load()
        return self._value


class WorkspaceDataset(Dataset):
    """A :class:`Dataset` whose ``incidents`` may be a :class:`LazyIncidents`, read when first
    asked for; ``incidents_loaded`` says whether asking costs anything. Copy it with
    :meth:`Dataset.replaced` (``dataclasses.replace`` would read the incidents)."""

    def _get_incidents(self):
        held = self.__dict__["_incidents"]
        return held.get() if isinstance(held, LazyIncidents) else held

    def _set_incidents(self, value):
        self.__dict__["_incidents"] = value

    incidents = property(_get_incidents, _set_incidents)

    @property
    def incidents_loaded(self) -> bool:
        held = self.__dict__["_incidents"]
        return not isinstance(held, LazyIncidents) or held.loaded

    def __repr__(self) -> str:  # the dataclass repr would read the incidents
        return f"WorkspaceDataset(id={self.id!r}, title={self.title!r}, incidents_loaded={self.incidents_loaded})"


def workspace_dataset(folder: str) -> WorkspaceDataset:
    """The workspace in ``folder`` with its config, areas, streets and exclusion zones read
    now and its incidents on first use. InputError when its config or those files cannot be
    used (an incident file's problem shows when the incidents are first read). Costs the
    config, the boundary file and the optional streets and zones files."""
    from rtm.mapstreets import read_streets
    from rtm.weekly_job import read_vector, study_areas, study_incidents
    from rtm.workspace import load_workspace

    ws = load_workspace(folder)
    study = ws.job.study
    areas = study_areas(study)
    plan = ws.job.terrain
    streets = read_streets(ws.job.streets, ws.job.street_name, areas.crs, key="streets.file") if ws.job.streets else None
    zones = read_vector(ws.job.exclusions, "exclusion zones", areas.crs) if ws.job.exclusions else None
    return WorkspaceDataset(id=f"workspace-{Path(folder).resolve().name}", title=ws.name,
                            incidents=LazyIncidents(lambda: study_incidents(study, areas)), areas=areas,
                            kind=ws.period_kind, area_tolerance_m=study.area_tolerance_m,
                            model=ModelSettings(tuple(f.name for f in plan.factors), plan.settings),
                            streets=streets, street_label=ws.job.street_name, workspace=ws, exclusions=zones,
                            planned={f.name: f for f in plan.factors})


def check_added_incidents(folder: str, paths: list, limits) -> None:
    """Read incident files just added to the workspace in ``folder`` on their own, as its
    weekly run will read them (its column mapping, weights and study area), within the
    upload ``limits`` (:class:`rtm.sources.LoadLimits`). Returns None; InputError for a
    file that cannot be used (empty, binary, no coordinates, too large once decompressed,
    no incident in the study area), so the caller can take the files out again before any
    session or weekly run reads them. Costs reading those files and the boundary file."""
    from dataclasses import replace

    from rtm.weekly_job import study_areas, study_incidents
    from rtm.workspace import load_workspace

    study = replace(load_workspace(folder).job.study, incidents=tuple(str(p) for p in paths), limits=limits)
    study_incidents(study, study_areas(study))
