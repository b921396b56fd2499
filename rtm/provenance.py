"""Provenance pieces built from the inputs and settings of a run, for the weekly list and
for ``rtm model``: enough to trace any output back to its files and reproduce it.

The front ends (CLI, app) pass their inputs here; nothing in this module reads a clock,
so the same inputs give the same provenance.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from .periods import inside


def file_entry(path) -> dict:
    """``file`` (name without folder), ``sha256`` and ``bytes`` of a file (a folder: of each file in it)."""
    path = Path(path)
    if path.is_dir():
        return {"folder": path.name, "files": [file_entry(p) for p in sorted(path.rglob("*")) if p.is_file()]}
    data = path.read_bytes()
    return {"file": path.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def weights_entry(weights) -> dict:
    """A harm-weights table (:class:`rtm.weights.HarmWeights`): scheme, the policy for
    unknown offence types, its values and the sha256 of those values (so two runs with
    the same numbers match whatever the file is called)."""
    table = weights.table[["offence_type", "weight"]]
    values = {str(t): float(w) for t, w in zip(table["offence_type"], table["weight"])}
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode("utf-8")).hexdigest()
    return {"scheme": weights.scheme, "unknown": weights.unknown, "default_weight": weights.default_weight,
            "source": Path(str(weights.source)).name if weights.source else weights.scheme,
            "sha256_of_values": digest, "values": values}


def list_inputs(weights, *, exclusions=None, streets=None, recording_points=None, week_start: str | None = None,
                area_tolerance_m: float | None = None) -> dict:
    """The extra provenance of a weekly list run (``inputs`` of :func:`rtm.weekly.build_list`).

    Parameters
    ----------
    weights : HarmWeights
    exclusions, streets, recording_points : path, optional
        Files given by the user (name and sha256 recorded; "none" when not given).
    week_start : str, optional
        First day of the week.
    area_tolerance_m : float, optional

    Returns
    -------
    dict
        ``exclusions``, ``streets``, ``recording_points_file``, ``weights`` and ``options``
        (``unknown``, ``default_weight``, ``week_start``, ``area_tolerance_m``).
    """
    def entry(p):
        return file_entry(p) if p else "none"

    return {"exclusions": entry(exclusions), "streets": entry(streets),
            "recording_points_file": entry(recording_points) if recording_points else "default table",
            "weights": weights_entry(weights),
            "options": {"unknown": weights.unknown, "default_weight": weights.default_weight,
                        "week_start": week_start, "area_tolerance_m": area_tolerance_m}}


def model_provenance(result, incidents, weights, *, layers=None, settings: dict | None = None) -> dict:
    """Provenance of an ``rtm model`` run: what :func:`rtm.pipeline.write_outputs` puts into
    ``terrain.json``, the report and ``risk_terrain.provenance.json``.

    Parameters
    ----------
    result : RtmResult
    incidents : Incidents
        As loaded (its report gives the files, rows and sha256).
    weights : HarmWeights
    layers : dict of str to Layer, optional
        The attractor layers (their files, rows and sha256 are recorded).
    settings : dict, optional
        Every setting of the run the result does not hold (e.g. area tolerance, buffer,
        seed, the area file and field), as the user gave them.

    Returns
    -------
    dict
        ``product``, ``inputs`` (incident, area and layer files with rows and sha256),
        ``data_window``, ``parameters`` (the model's and ``settings``), ``weights``,
        ``model`` (family, cells), ``crs`` and ``software``.
    """
    frame = incidents.frame
    start, end = frame["date_start"].min(), frame["date_end"].max()
    window = (f"incidents recorded from {start:%Y-%m-%d} to {end:%Y-%m-%d}" if start == start and end == end
              else "the incidents have no dates")
    layer_files = {str(k): source_entries(getattr(getattr(v, "report", None), "sources", []) or [])
                   for k, v in (layers or {}).items()}
    return {
        "product": "Risk terrain model",
        "inputs": {"incidents": source_entries(incidents.report.sources),
                   "areas": source_entries(result.areas.report.sources) if getattr(result.areas, "report", None)
                   else [], "layers": layer_files},
        "data_window": f"{window} ({len(frame):,} incidents loaded, {result.n_incidents_modelled:,} in the grid)",
        "parameters": {**result.settings.describe(), "spatial_influences_m": result.spatial_influences,
                       "max_influence_used_m": result.max_influence_m, **(settings or {})},
        "fitted_on": {"data_from": None if result.data_from is None else result.data_from.isoformat(),
                      "data_to": None if result.data_to is None else result.data_to.isoformat()},
        "weights": weights_entry(weights),
        "model": {"family": result.model.family_, "cells": int(result.grid.mask.sum()),
                  "factors_selected": int(len(result.factors))},
        "crs": result.grid.crs.to_string(),
        "software": software_version(),
    }


def software_version() -> str:
    """``rtm-harmspots <version>`` of the installed package."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"rtm-harmspots {version('rtm-harmspots')}"
    except PackageNotFoundError:
        return "rtm-harmspots (not installed)"


def previous_fingerprint(previous: pd.DataFrame | None, period) -> dict | str:
    """Which archived list movement was measured against: its period, spot count and an id
    (sha256, 16 hex digits, of its districts, ranks, spot ids and cells)."""
    if previous is None:
        return "none: no archived list of the previous period, every spot is new"
    cols = [c for c in ("district", "rank", "spot_id", "cell_labels") if c in previous]
    rows = previous[cols].astype(str).sort_values(cols).to_csv(index=False)
    return {"period": period.previous().label, "spots": int(len(previous)),
            "id": hashlib.sha256(rows.encode("utf-8")).hexdigest()[:16]}


def source_entries(sources) -> list[dict]:
    """Provenance of input files from a LoadReport's ``sources``: ``file`` (the name without
    its folder: the sha256 identifies it, so the same inputs give the same provenance from
    any folder), ``rows`` and ``sha256``."""
    return [{"file": str(s.get("name", "")).replace("\\", "/").rsplit("/", 1)[-1], "rows": s.get("rows"),
             "sha256": s.get("sha256")} for s in sources]


def ranking_choice(settings) -> dict:
    """How the list's score settings were chosen: tuned on the force's past (the record of
    the workspace's ``[tuning]`` table, ``rtm tune --save``), the shipped default, or given."""
    from .ranking import ScoreSettings

    scoring = settings.scoring
    if settings.tuning:
        return {"how": "tuned: chosen by 'rtm tune' on this force's own past", "settings": scoring.describe()} \
            | {k: list(v) if isinstance(v, tuple) else v for k, v in settings.tuning}
    same = scoring == ScoreSettings(method=scoring.method)
    return {"how": "the shipped default (not tuned to this force)" if same else "set by hand (not tuned)",
            "settings": scoring.describe()}


def list_provenance(lst, incidents, areas, terrain, settings, extra: dict) -> dict:
    """What a list (:class:`rtm.weekly.HarmSpotList`) was made from, for every export:
    period, data window, parameters (``settings``: :class:`rtm.weekly.ListSettings`), input
    fingerprints (``extra``: e.g. :func:`list_inputs`) and software version. Never a
    creation time, so the same inputs give byte-identical exports."""
    from .ranking import history_start
    from .terrain import factor_phrase

    p = lst.period
    y_from, y_to = p.window("year")
    r_from, _ = p.window("recent")
    used = incidents.frame
    used = used[inside(used, y_from, y_to)]
    sources = source_entries(incidents.report.sources)
    area_sources = source_entries(areas.report.sources)
    scoring = settings.scoring
    out = {
        "product": "Harm spots",
        "period": p.label,
        "period_kind": p.kind,
        "period_start": f"{p.start:%Y-%m-%d}",
        "period_end": f"{p.end:%Y-%m-%d}",
        "data_window": f"incidents recorded from {y_from:%Y-%m-%d} to before {y_to:%Y-%m-%d} "
                       f"({len(used):,} incidents, harm {used['weight'].sum():,.1f})",
        "districts": list(areas.names),
        "parameters": {
            "spot_size_m": settings.spot_size,
            "method": scoring.method,
            "risk_weight": scoring.weight if terrain is not None else 0.0,
            "bandwidth_m": lst.scores.bandwidth_m,
            "kernel": scoring.kernel,
            "half_life_days": scoring.half_life_days,
            "history_months": scoring.history_months,
            "score_window": f"the score uses incidents recorded from "
                            f"{history_start(p, scoring):%Y-%m-%d} to before {p.start:%Y-%m-%d}",
            "count_share": scoring.count_share,
            "count_rows": scoring.count_rows,
            "spots": settings.describe_spots(),
            "patrol": asdict(settings.patrol),
            "area_tolerance_m": settings.area_tolerance_m,
            **({"offence_types": list(settings.offences)} if settings.offences is not None else {}),
        },
        "ranking": ranking_choice(settings),
        "risk_terrain": ({k: (str(v) if not isinstance(v, (int, float)) else v) for k, v in terrain.fitted.items()}
                         | {"data_from": None if terrain.data_from is None else terrain.data_from.isoformat(),
                            "data_to": None if terrain.data_to is None else terrain.data_to.isoformat()}
                         | {"factors": [factor_phrase(r) for _, r in terrain.factors.iterrows()]})
        if terrain is not None else "none: ranked by recent harm alone",
        "inputs": {"incidents": sources, "areas": area_sources, **extra},
        "weights": incidents.report.weights_scheme,
        "crs": lst.grid.crs.to_string(),
        "software": software_version(),
        "columns": {
            "harm_recent": f"harm (CCHI days, or the weights used) in the {p.window_text('recent')} before the period",
            "harm_year": f"harm in the {p.window_text('year')} before the period",
            "counts_by_type": f"incidents by offence type in the {p.window_text('year')} before the period",
            "rrs": "relative risk score of the risk terrain model (1 = the lowest cell)",
            "score": "harm-spot score: times the average cell of the study area (see explanation); a spot of "
                     "several merged cells scores as its best cell, which ranked it",
            "movement": f"against the previous {p.kind}'s list: new, up, down or same",
            "weeks_on_list": f"{p.kind}s in a row on the list, this one included",
            "patrol_visits_per_day": "suggested 15-minute visits a day, scaled by score",
        },
        "recent_window_start": f"{r_from:%Y-%m-%d}",
    }
    return out
